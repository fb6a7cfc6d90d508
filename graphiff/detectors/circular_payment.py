"""Circular payments: money that comes back to where it started (README, "Detectors").

Laundering cycles, real and simulated (the AMLSim "cycle" typology), pass money round a ring
of accounts and back to the first, **shrinking along the way**: each hop keeps a fee or a cut,
so an amount is followed by the same or a somewhat smaller one, never by a much larger one or
a tiny one. The same ring often **turns several times**, and a later turn may start before the
previous one has closed; each single turn is in time order. References: FATF, *Professional
Money Laundering* (2018) (layering through circular transfers); FATF & Egmont Group,
*Trade-Based Money Laundering: Trends and Developments* (2020) (funds returned to the
originator); the AMLSim typologies (IBM, 2018).

The search is the bounded time-respecting cycle search of
:func:`graphiff.graph.algorithms.temporal_cycles` (peeling, strongly connected components, a
depth-first walk pruned by distances back to the start), with a directed amount band as its
hop test instead of a symmetric ratio, and same-day hops allowed (a lag of one day: a payment
file often has dates, not times).

Ordinary two-way trade also closes such rings: A buys goods from B and pays B, B buys other
goods from A and pays A, and the two invoices happen to fall within the band weeks apart. A
payment that settles a declaration (``Payment -[:SETTLES]-> Declaration``, see
:func:`graphiff.graph.features.settlements`) of a shipment from the payee to the payer is a
**trade settlement**: the money pays for goods that went the other way. A ring made only of
trade settlements is trade, not layering, unless its amounts track each other tightly
(``trade_match``), as when invoices are made up to carry the money round (FATF & Egmont Group
2020: over- and under-invoicing, "phantom" shipments).
"""
from __future__ import annotations

from collections.abc import Collection
from typing import Any, Callable

import numpy as np
import pandas as pd

from graphiff.alerts import Alert
from graphiff.detectors.registry import register
from graphiff.graph.algorithms import (
    disjoint_turns,
    group_cycles,
    temporal_cycles,
    temporal_cycles_bruteforce,
)
from graphiff.graph.columns import col, num, text_objects
from graphiff.graph.features import money_edges, settlements_of
from graphiff.graph.tables import Tables

DEFAULTS: dict[str, Any] = {
    "max_len": 10,
    "min_len": 2,
    "window_days": 90,
    "max_decay": 0.2,
    "max_growth": 0.05,
    "same_day": True,
    "by": "account",
    "min_amount_usd": 0.0,
    "max_evidence_cycles": 20,
    "trade_match": 0.03,
}

def circular_payment_edges(tables: Tables, *, by: str = "account", min_amount_usd: float = 0.0) -> pd.DataFrame:
    """Payment edges with integer vertex ids ``u``/``v``: of the accounts (``by="account"``)
    or of their holders (``by="holder"``, accounts of one holder merged; an account without
    a known holder stays itself). Payments without a USD amount or below ``min_amount_usd``
    are left out (an amount is what a cycle is recognised by)."""
    e = money_edges(tables).copy()
    e = e[e["amount_usd"].notna().to_numpy() & (e["amount_usd"] > 0).to_numpy()]
    if min_amount_usd and min_amount_usd > 0:
        e = e[e["amount_usd"] >= float(min_amount_usd)]
    if by == "holder":
        e["u"] = e["src_holder"].where(e["src_holder"].notna(), "acct:" + e["src"].astype(str))
        e["v"] = e["dst_holder"].where(e["dst_holder"].notna(), "acct:" + e["dst"].astype(str))
    elif by == "account":
        e["u"], e["v"] = e["src"], e["dst"]
    else:
        from graphiff.errors import GraphiffError

        raise GraphiffError(f"circular_payment.by must be 'account' or 'holder', not {by!r}")
    codes, _ = pd.factorize(pd.concat([e["u"], e["v"]], ignore_index=True).to_numpy(dtype=object))
    e["u"], e["v"] = codes[: len(e)].astype(np.int64), codes[len(e):].astype(np.int64)
    return e[(e["u"] != e["v"]).to_numpy()].reset_index(drop=True)


def in_band(prev: float, nxt: float, max_decay: float, max_growth: float) -> bool:
    """The next hop's amount is what is left of the previous one: at least ``1 - max_decay``
    and at most ``1 + max_growth`` times it (growth tolerates rounding).

    >>> in_band(100.0, 88.0, 0.15, 0.02), in_band(100.0, 80.0, 0.15, 0.02), in_band(100.0, 103.0, 0.15, 0.02)
    (True, False, False)
    """
    return prev * (1.0 - max_decay) <= nxt <= prev * (1.0 + max_growth)


def band_hop(max_decay: float, max_growth: float) -> Callable[[tuple, tuple], bool]:
    """The hop test of the cycle search (``hop_ok`` of
    :func:`graphiff.graph.algorithms.temporal_cycles`, on the ``(amount_usd,)`` of two
    consecutive payments): :func:`in_band`.

    >>> band_hop(0.15, 0.02)((100.0,), (88.0,)), band_hop(0.15, 0.02)((100.0,), (80.0,))
    (True, False)
    """
    lo_f, hi_f = 1.0 - float(max_decay), 1.0 + float(max_growth)

    def hop_ok(prev: tuple, nxt: tuple) -> bool:
        pa = prev[0]
        return pa * lo_f <= nxt[0] <= pa * hi_f

    return hop_ok


def find_cycles(e: pd.DataFrame, p: dict, search: Callable[..., list[tuple]] = temporal_cycles) -> list[tuple]:
    """Time-respecting payment cycles whose amounts shrink (or stay) hop to hop, over the
    edges of :func:`circular_payment_edges` (``edge``, ``u``, ``v``, ``t``, ``amount_usd``),
    for the detector parameters ``p`` (defaults merged).

    The bounded cycle search :func:`graphiff.graph.algorithms.temporal_cycles` (``search``;
    :func:`graphiff.graph.algorithms.temporal_cycles_bruteforce` for the reference) on the
    account (or holder) nodes, one group: cycles of ``min_len``..``max_len`` payments within
    ``window_days`` of the first, each amount within :func:`in_band` of the previous one (the
    closing payment too), each payment on a later day than the previous one or, with
    ``same_day``, on the same day (a lag of one day on every edge).

    Returns each cycle once (one per set of payments; of the rotations that same-day hops make
    time-respecting, the one from the earliest payment) as the tuple of its edge ids in hop
    order; the reference ``search`` lists every rotation. Cost: that of the search.
    """
    kw: dict[str, Any] = {"max_len": int(p["max_len"]), "min_len": int(p["min_len"]), "window": int(p["window_days"]),
                          "measures": ("amount_usd",), "src_col": "u", "dst_col": "v", "group_col": None,
                          "hop_ok": band_hop(float(p["max_decay"]), float(p["max_growth"]))}
    if bool(p["same_day"]):
        e = e.assign(same_day_lag=1)
        kw["lag_col"] = "same_day_lag"
    if search is temporal_cycles:
        kw["unique_sets"] = True
    return search(e, **kw)


def trade_settlements(tables: Tables, e: pd.DataFrame, rows: Collection[int] | None = None) -> np.ndarray:
    """Which payments of ``e`` (:func:`circular_payment_edges`) are trade settlements: the
    payment settles (:func:`graphiff.graph.features.settlements`) a declaration of a shipment
    with a positive declared value whose exporter holds the receiving account and whose importer
    holds the paying account - the payee sold the payer the goods. A payment whose accounts
    have no known holder is never one. Only the edges at positions ``rows`` are judged (all
    with ``None``; the others are ``False``). Cost: one pass over the payment and declaration
    keys, O(P + D), plus the settlements of the judged payments."""
    out = np.zeros(len(e), dtype=bool)
    d = tables.nodes("Declaration")
    at = np.arange(len(e)) if rows is None else np.fromiter(sorted(set(rows)), dtype=np.int64)
    if not len(at) or d is None or not len(d):
        return out
    judged = e.iloc[at]
    s = settlements_of(tables, set(judged["payment"].dropna()))
    if not len(s):
        return out
    dkey = text_objects(col(d, "key"))
    mine = dkey.isin(set(s["declaration"])).to_numpy()
    dd = pd.DataFrame({"declaration": dkey[mine], "exporter": text_objects(col(d, "exporter_id")[mine]),
                       "importer": text_objects(col(d, "importer_id")[mine]), "value": num(col(d, "value_usd")[mine])})
    dd = dd[dd["exporter"].notna() & dd["importer"].notna() & (dd["value"] > 0)]
    m = s.merge(dd, on="declaration")
    if not len(m):
        return out
    sold = set(zip(m["payment"], m["exporter"], m["importer"]))
    out[at] = [(pay, payee, payer) in sold for pay, payee, payer in
               zip(judged["payment"].to_numpy(dtype=object), judged["dst_holder"].to_numpy(dtype=object),
                   judged["src_holder"].to_numpy(dtype=object))]
    return out


def drop_trade_cycles(tables: Tables, e: pd.DataFrame, cycles: list[tuple], trade_match: float | None) -> list[tuple]:
    """The ``cycles`` (edge ids of ``e`` in hop order) that are not ordinary trade: a cycle made
    only of :func:`trade_settlements` is dropped unless each amount is within ``trade_match``
    (a share) of the previous one; ``trade_match=None`` keeps every cycle. Only the payments
    of the cycles are judged."""
    if trade_match is None or not cycles:
        return cycles
    at = dict(zip(e["edge"].tolist(), range(len(e))))  # edge id -> row (ids skip filtered payments)
    trade = trade_settlements(tables, e, {at[i] for c in cycles for i in c})
    if not trade.any():
        return cycles
    amt = e["amount_usd"].to_numpy(dtype=float)
    tol = float(trade_match)

    def keep(c: tuple) -> bool:
        rows = [at[i] for i in c]
        if not trade[rows].all():
            return True
        return all(abs(amt[b] / amt[a] - 1.0) <= tol for a, b in zip(rows, rows[1:]))

    return [c for c in cycles if keep(c)]


def circular_payment_cycles(tables: Tables, **params) -> set[frozenset]:
    """The payment cycles of :func:`circular_payment` (as sets of payment edge ids, see
    :func:`graphiff.graph.features.money_edges`)."""
    p = {**DEFAULTS, **params}
    e = circular_payment_edges(tables, by=p["by"], min_amount_usd=float(p["min_amount_usd"]))
    return {frozenset(c) for c in drop_trade_cycles(tables, e, find_cycles(e, p), p["trade_match"])}


def circular_payment_bruteforce(tables: Tables, **params) -> set[frozenset]:
    """Reference for :func:`circular_payment_cycles` via ``networkx.simple_cycles``
    (:func:`graphiff.graph.algorithms.temporal_cycles_bruteforce`)."""
    p = {**DEFAULTS, **params}
    e = circular_payment_edges(tables, by=p["by"], min_amount_usd=float(p["min_amount_usd"]))
    cycles = drop_trade_cycles(tables, e, find_cycles(e, p, temporal_cycles_bruteforce), p["trade_match"])
    return {frozenset(c) for c in cycles}


@register("circular_payment", defaults=DEFAULTS)
def circular_payment(tables: Tables, **params) -> list[Alert]:
    """Circular payments: money that goes round a ring of accounts, shrinking by a fee or cut
    at each hop, and comes back to where it started - often several times.

    A cycle is a directed ring of payments (from_account -> to_account), each on the same day
    as the previous one or later, all within ``window_days`` of the first, each amount (USD)
    between ``1 - max_decay`` and ``1 + max_growth`` times the previous one (the closing
    payment too). Every turn of one ring of accounts makes one alert: turns may overlap in
    time (the second can start before the first has closed); only each turn is in order.

    References: FATF, *Professional Money Laundering* (2018); FATF & Egmont Group,
    *Trade-Based Money Laundering: Trends and Developments* (2020); the AMLSim "cycle"
    typology.

    Parameters
    ----------
    tables : Tables
    max_len : int, default 10
        Longest cycle in payments (distinct accounts or holders).
    min_len : int, default 2
    window_days : int, default 90
        Days from a turn's first payment to its last.
    max_decay : float, default 0.2
        Largest share an amount may lose from one hop to the next (fees, the cut of each
        intermediary: typically 1-15 %; the rest is margin for rounding).
    max_growth : float, default 0.05
        Largest share an amount may gain from one hop to the next (rounding of amounts,
        conversion). Unrelated payments of different sizes never chain.
    same_day : bool, default True
        Allow a hop on the same day as the previous one.
    by : {"account", "holder"}, default "account"
        Cycle nodes: accounts, or holders (so a transfer between two accounts of one holder
        is not a hop, and money returning to another account of the sender closes a cycle).
    min_amount_usd : float, default 0
        Ignore payments below this amount. Payments without a USD amount are left out.
    max_evidence_cycles : int, default 20
    trade_match : float or None, default 0.03
        Two-way trade is not a cycle: a payment that settles a declaration
        (``Payment -[:SETTLES]-> Declaration``) of a shipment, with a declared value, from the
        payee (exporter, holder of the receiving account) to the payer (importer) is a trade
        settlement, and a cycle made only of trade settlements - goods going round the other
        way, each payment paying for them - is dropped unless every amount is within this
        share of the previous one (invoices made up to carry the money round track each other
        tightly; real two-way trade rarely does). ``None`` keeps such cycles (FATF & Egmont
        Group 2020, over- and under-invoicing).

    Returns
    -------
    list of Alert
        One per ring of accounts; ``entities``: its BankAccounts; ``evidence``: ``payments``
        (keys), ``hops`` (payment, from, to, holders, date, amount_usd), ``cycles`` (each
        turn's payments in order), ``turns`` (edge-disjoint turns), ``decay`` (the mean share
        lost per hop), ``holders``, first and last date. Score: 0.45, +0.2 for a steady decay
        (no hop larger than the one before), +0.2 for repeated turns, +0.15 for three or more
        accounts.

    Notes
    -----
    Cost: O(P log P) for P payments to build the edge table, then the bounded search of
    :func:`find_cycles`.
    """
    p = {**DEFAULTS, **params}
    e = circular_payment_edges(tables, by=p["by"], min_amount_usd=float(p["min_amount_usd"]))
    cycles = drop_trade_cycles(tables, e, find_cycles(e, p), p["trade_match"])
    if not cycles:
        return []
    row, by_set, start = group_cycles(e, cycles)
    alerts = []
    for accts, cs in by_set.items():
        used = sorted({x for c in cs for x in c}, key=lambda x: (start[x], x))
        hops = row.loc[used]
        turns = disjoint_turns(cs, start)
        span = int(hops["t"].max() - hops["t"].min())
        holders = sorted({h for h in pd.concat([hops["src_holder"], hops["dst_holder"]]) if h is not None and h == h})
        per_hop = [row.at[b, "amount_usd"] / row.at[a, "amount_usd"] for c in cs for a, b in zip(c, c[1:])]
        decay = float(1.0 - np.mean(per_hop)) if per_hop else 0.0
        steady = float(np.mean(np.asarray(per_hop) <= 1.0 + 1e-9)) if per_hop else 0.0
        score = 0.45 + 0.2 * steady + 0.2 * min(1.0, (turns - 1) / 2) + 0.15 * (len(accts) >= 3)
        length = len(cs[0])
        total = float(hops["amount_usd"].sum())
        turn_txt = "once" if turns == 1 else f"{turns} times"
        expl = (f"{len(accts)} accounts of {len(holders) or 'unknown'} holder(s) passed money around a "
                f"{length}-payment cycle {turn_txt} within {span} days, losing {max(decay, 0.0):.1%} per hop on "
                f"average ({len(used)} payments, {total:,.0f} USD)")
        evidence = {
            "payments": [str(x) for x in hops["payment"]],
            "hops": [
                {"payment": r.payment, "from": r.src, "to": r.dst, "from_holder": r.src_holder,
                 "to_holder": r.dst_holder,
                 "date": r.date, "amount_usd": None if r.amount_usd != r.amount_usd else float(r.amount_usd)}
                for r in hops.itertuples(index=False)
            ],
            "cycles": [[row.at[x, "payment"] for x in c] for c in cs[: int(p["max_evidence_cycles"])]],
            "n_cycles": len(cs),
            "turns": turns,
            "decay": round(decay, 4),
            "holders": holders,
            "first_date": str(hops["date"].min()),
            "last_date": str(hops["date"].max()),
        }
        alerts.append(Alert(
            pattern="circular_payment", score=round(min(1.0, score), 4),
            entities=[{"label": "BankAccount", "id": x} for x in sorted(accts)],
            explanation=expl, evidence=evidence,
        ))
    alerts.sort(key=lambda a: (-a.score, a.id))
    return alerts

"""Circular payments: money that comes back (README, "Detectors").

The same time-respecting cycle search as circular trade
(:func:`graphiff.graph.algorithms.temporal_cycles`), run over payments between bank
accounts instead of shipments between traders.
"""
from __future__ import annotations

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
from graphiff.graph.features import money_edges
from graphiff.graph.tables import Tables

MONEY_MEASURES = ("amount_usd",)

DEFAULTS = {
    "max_len": 6,
    "min_len": 2,
    "window_days": 90,
    "ratio_tol": 1.5,
    "by": "account",
    "min_amount_usd": 0.0,
    "max_evidence_cycles": 20,
}


def circular_payment_edges(tables: Tables, *, by: str = "account", min_amount_usd: float = 0.0) -> pd.DataFrame:
    """Payment edges with integer vertex ids ``u``/``v``: of the accounts (``by="account"``)
    or of their holders (``by="holder"``, accounts of one holder merged; an account without
    a known holder stays itself). Payments below ``min_amount_usd`` (or with no USD amount when a
    minimum is set) are left out."""
    e = money_edges(tables).copy()
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
    return e


def _search_params(p: dict) -> dict:
    return {"max_len": int(p["max_len"]), "min_len": int(p["min_len"]), "window": int(p["window_days"]),
            "ratio_tol": float(p["ratio_tol"]), "measures": MONEY_MEASURES, "src_col": "u", "dst_col": "v",
            "group_col": None}


def circular_payment_cycles(tables: Tables, **params) -> set[tuple]:
    """Canonical time-respecting payment cycles (tuples of payment edge ids, see
    :func:`graphiff.graph.features.money_edges`)."""
    p = {**DEFAULTS, **params}
    e = circular_payment_edges(tables, by=p["by"], min_amount_usd=float(p["min_amount_usd"]))
    return set(temporal_cycles(e, **_search_params(p)))


def circular_payment_bruteforce(tables: Tables, **params) -> set[tuple]:
    """Reference for :func:`circular_payment_cycles` via ``networkx.simple_cycles``."""
    p = {**DEFAULTS, **params}
    e = circular_payment_edges(tables, by=p["by"], min_amount_usd=float(p["min_amount_usd"]))
    return set(temporal_cycles_bruteforce(e, **_search_params(p)))


@register("circular_payment", defaults=DEFAULTS)
def circular_payment(tables: Tables, **params) -> list[Alert]:
    """Circular payments: money that goes round a cycle of accounts and comes back.

    A time-respecting directed cycle of payments (from_account -> to_account): each payment
    strictly later than the previous, all within ``window_days`` of the first, amounts in USD
    comparable from one payment to the next. All cycles over the same set of accounts make
    one alert, with the number of turns.

    Parameters
    ----------
    tables : Tables
    max_len : int, default 6
        Longest cycle in payments (distinct accounts or holders).
    min_len : int, default 2
    window_days : int, default 90
    ratio_tol : float, default 1.5
        Consecutive payments are comparable when the larger is at most this factor of the
        smaller. Payments without a USD amount are never comparable.
    by : {"account", "holder"}, default "account"
        Cycle nodes: accounts, or holders (so a transfer between two accounts of one holder
        is not a hop, and money returning to another account of the sender closes a cycle).
    min_amount_usd : float, default 0
        Ignore payments below this amount.
    max_evidence_cycles : int, default 20

    Returns
    -------
    list of Alert
        ``entities``: the BankAccounts of the cycle(s); ``evidence``: ``payments`` (keys),
        ``hops`` (payment, from, to, holders, date, amount_usd), ``cycles``, ``turns``,
        ``holders``.

    Notes
    -----
    Cost: O(P log P) for P payments to build the edge table, then the bounded search of
    :func:`graphiff.graph.algorithms.temporal_cycles`.
    """
    p = {**DEFAULTS, **params}
    e = circular_payment_edges(tables, by=p["by"], min_amount_usd=float(p["min_amount_usd"]))
    cycles = temporal_cycles(e, **_search_params(p))
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
        closeness = []
        for c in cs:
            for a, b in zip(c, c[1:]):
                va, vb = row.at[a, "amount_usd"], row.at[b, "amount_usd"]
                if va > 0 and vb > 0:
                    closeness.append(min(va, vb) / max(va, vb))
        close = float(np.mean(closeness)) if closeness else 0.5
        score = 0.45 + 0.25 * close + 0.15 * min(1.0, (turns - 1) / 2) + 0.15 * (len(accts) >= 3)
        length = len(cs[0])
        total = float(hops["amount_usd"].sum())
        turn_txt = "once" if turns == 1 else f"{turns} times"
        expl = (f"{len(accts)} accounts of {len(holders) or 'unknown'} holder(s) passed comparable amounts around a "
                f"{length}-payment cycle {turn_txt} within {span} days ({len(used)} payments, {total:,.0f} USD)")
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
            "holders": holders,
            "first_date": str(hops["date"].min()),
            "last_date": str(hops["date"].max()),
        }
        alerts.append(Alert(
            pattern="circular_payment", score=round(score, 4),
            entities=[{"label": "BankAccount", "id": x} for x in sorted(accts)],
            explanation=expl, evidence=evidence,
        ))
    alerts.sort(key=lambda a: (-a.score, a.id))
    return alerts

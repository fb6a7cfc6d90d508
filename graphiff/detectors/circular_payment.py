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
:mod:`graphiff.graph.algorithms` (peeling, strongly connected components, a depth-first walk
pruned by distances back to the start), with a directed amount band instead of a symmetric
ratio, and same-day hops allowed (a payment file often has dates, not times).
"""
from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

from graphiff.alerts import Alert
from graphiff.detectors.registry import register
from graphiff.graph.algorithms import disjoint_turns, group_cycles
from graphiff.graph.features import money_edges
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
}

#: edges a pruning BFS may scan before it stops (as in graphiff.graph.algorithms)
_BFS_BUDGET = 64


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


def decaying_cycles(e: pd.DataFrame, *, max_len: int = 6, min_len: int = 2, window: int = 90,
                    max_decay: float = 0.2, max_growth: float = 0.05, same_day: bool = True) -> list[tuple]:
    """Time-respecting payment cycles whose amounts shrink (or stay) hop to hop.

    Parameters
    ----------
    e : DataFrame
        ``edge`` (id), ``u``, ``v`` (int vertex ids), ``t`` (day), ``amount_usd``.
    max_len, min_len : int
        Cycle length bounds in hops (= distinct vertices).
    window : int
        Days from the first hop to the last, inclusive.
    max_decay, max_growth : float
        Each hop's amount within :func:`in_band` of the previous one's (the closing hop too).
    same_day : bool
        A hop may be on the same day as the previous one (dates without times); False asks
        for strictly later days.

    Returns
    -------
    list of tuple
        Each cycle once, as the tuple of its edge ids in hop order, from its first hop.

    Notes
    -----
    Cost: peeling and one strongly-connected-components pass, O(V + E), then a depth-first
    walk bounded by ``max_len`` from each edge inside a component over later edges within the
    window and the amount band, pruned by breadth-first distances back to the start vertex.
    """
    if not len(e):
        return []
    s = e["u"].to_numpy(np.int64)
    d = e["v"].to_numpy(np.int64)
    t = e["t"].to_numpy(np.int64)
    eid = e["edge"].to_numpy()
    amt = e["amount_usd"].to_numpy(float)
    n_nodes = int(max(s.max(initial=-1), d.max(initial=-1))) + 1
    if n_nodes <= 0:
        return []
    import igraph as ig

    alive = np.ones(len(s), dtype=bool)
    for _ in range(4):
        indeg = np.bincount(d[alive], minlength=n_nodes)
        outdeg = np.bincount(s[alive], minlength=n_nodes)
        nxt = alive & (indeg[s] > 0) & (outdeg[d] > 0)
        if nxt.sum() == alive.sum():
            break
        alive = nxt
    cand = np.flatnonzero(alive)
    if not len(cand):
        return []
    g = ig.Graph(n=n_nodes, directed=True)
    g.add_edges(np.column_stack([s[cand], d[cand]]))
    memb = np.asarray(ig.GraphBase.connected_components(g, "strong"))
    keep = cand[memb[s[cand]] == memb[d[cand]]]
    if not len(keep):
        return []
    order = keep[np.lexsort((eid[keep], t[keep], s[keep]))]
    so = s[order]
    starts = np.flatnonzero(np.r_[True, so[1:] != so[:-1]])
    ends = np.r_[starts[1:], len(so)]
    order_l, t_sorted = order.tolist(), t[order].tolist()
    out_e: dict[int, list[int]] = {}
    out_t: dict[int, list[int]] = {}
    for node, a, b in zip(so[starts].tolist(), starts.tolist(), ends.tolist()):
        out_e[node] = order_l[a:b]
        out_t[node] = t_sorted[a:b]
    pred: dict[int, set[int]] = defaultdict(set)
    for a, b in zip(d[keep].tolist(), s[keep].tolist()):
        pred[a].add(b)
    tl, dl, el, al = t.tolist(), d.tolist(), eid.tolist(), amt.tolist()
    lo_f, hi_f = 1.0 - float(max_decay), 1.0 + float(max_growth)
    big = max_len + 1
    empty: list[int] = []

    def next_pos(ts: list[int], day: int) -> int:
        return bisect_left(ts, day) if same_day else bisect_left(ts, day + 1)

    def bfs(u0: int) -> tuple[dict[int, int], int]:
        dist = {u0: 0}
        frontier = [u0]
        depth = 0
        scanned = 0
        while frontier and depth < max_len - 1:
            nxt_f = []
            for x in frontier:
                ps = pred.get(x, ())
                scanned += len(ps)
                if scanned > _BFS_BUDGET:
                    return dist, depth
                for p in ps:
                    if p not in dist:
                        dist[p] = depth + 1
                        nxt_f.append(p)
            frontier = nxt_f
            depth += 1
        if not frontier:
            depth = max_len
        return dist, depth

    found: dict[frozenset, tuple] = {}
    for u0 in sorted(out_e):
        dist, known = bfs(u0)
        for e0 in out_e[u0]:
            v0 = dl[e0]
            if max_len - 1 <= known and dist.get(v0, big) > max_len - 1:
                continue
            tmax = tl[e0] + window
            path = [e0]
            visited = {u0, v0}
            stack = [[v0, e0, next_pos(out_t.get(v0, empty), tl[e0])]]
            while stack:
                frame = stack[-1]
                cur, last, j = frame
                ts = out_t.get(cur, empty)
                if j >= len(ts) or ts[j] > tmax:
                    stack.pop()
                    if stack:
                        path.pop()
                        visited.discard(cur)
                    continue
                frame[2] = j + 1
                x = out_e[cur][j]
                pa, xa = al[last], al[x]
                if not (pa * lo_f <= xa <= pa * hi_f):
                    continue
                w = dl[x]
                depth = len(path)
                if w == u0:
                    if depth + 1 >= min_len:
                        cyc = tuple(path) + (x,)
                        key = frozenset(cyc)
                        if key not in found:
                            found[key] = tuple(el[y] for y in cyc)
                    continue
                if w in visited or depth + 1 >= max_len:
                    continue
                left = max_len - depth - 1
                if left <= known and dist.get(w, big) > left:
                    continue
                path.append(x)
                visited.add(w)
                stack.append([w, x, next_pos(out_t.get(w, empty), ts[j])])
    return list(found.values())


def decaying_cycles_bruteforce(e: pd.DataFrame, *, max_len: int = 6, min_len: int = 2, window: int = 90,
                               max_decay: float = 0.2, max_growth: float = 0.05, same_day: bool = True) -> list[tuple]:
    """Reference for :func:`decaying_cycles`: the static simple cycles of
    ``networkx.simple_cycles(G, length_bound=max_len)``, every rotation and every choice of
    payments per hop, kept when in time order, within the window and the amount band. Same
    output (as a set of edge sets, each cycle once). For tests only."""
    import networkx as nx

    if not len(e):
        return []
    G = nx.DiGraph()
    bucket: dict[tuple, list[tuple]] = defaultdict(list)
    for a, b, tt, amt, ed in zip(e["u"].tolist(), e["v"].tolist(), e["t"].tolist(), e["amount_usd"].tolist(),
                                 e["edge"].tolist()):
        if a != b:
            G.add_edge(a, b)
            bucket[(a, b)].append((int(tt), float(amt), ed))
    found: dict[frozenset, tuple] = {}
    for cyc in nx.simple_cycles(G, length_bound=max_len):
        L = len(cyc)
        if L < min_len:
            continue
        for r in range(L):
            seq = cyc[r:] + cyc[:r]
            hops = [bucket[(seq[i], seq[(i + 1) % L])] for i in range(L)]
            for first in hops[0]:
                stack: list[tuple[int, tuple, tuple]] = [(1, first, (first[2],))]
                while stack:
                    h, prev, acc = stack.pop()
                    if h == L:
                        found.setdefault(frozenset(acc), acc)
                        continue
                    for nx_ in hops[h]:
                        later = nx_[0] >= prev[0] if same_day else nx_[0] > prev[0]
                        if later and nx_[0] <= first[0] + window and in_band(prev[1], nx_[1], max_decay, max_growth):
                            stack.append((h + 1, nx_, acc + (nx_[2],)))
    return list(found.values())


def _search_params(p: dict) -> dict:
    return {"max_len": int(p["max_len"]), "min_len": int(p["min_len"]), "window": int(p["window_days"]),
            "max_decay": float(p["max_decay"]), "max_growth": float(p["max_growth"]),
            "same_day": bool(p["same_day"])}


def circular_payment_cycles(tables: Tables, **params) -> set[frozenset]:
    """The payment cycles of :func:`circular_payment` (as sets of payment edge ids, see
    :func:`graphiff.graph.features.money_edges`)."""
    p = {**DEFAULTS, **params}
    e = circular_payment_edges(tables, by=p["by"], min_amount_usd=float(p["min_amount_usd"]))
    return {frozenset(c) for c in decaying_cycles(e, **_search_params(p))}


def circular_payment_bruteforce(tables: Tables, **params) -> set[frozenset]:
    """Reference for :func:`circular_payment_cycles` via ``networkx.simple_cycles``."""
    p = {**DEFAULTS, **params}
    e = circular_payment_edges(tables, by=p["by"], min_amount_usd=float(p["min_amount_usd"]))
    return {frozenset(c) for c in decaying_cycles_bruteforce(e, **_search_params(p))}


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
    :func:`decaying_cycles`.
    """
    p = {**DEFAULTS, **params}
    e = circular_payment_edges(tables, by=p["by"], min_amount_usd=float(p["min_amount_usd"]))
    cycles = decaying_cycles(e, **_search_params(p))
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

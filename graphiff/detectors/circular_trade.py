"""Circular trade: goods that come back (design.md section 6).

The search is a time-respecting cycle search over a temporal multigraph; it is shared with
:mod:`graphiff.detectors.circular_payment`. Instead of enumerating the static cycles of the
trade graph and filtering them afterwards (:func:`temporal_cycles_bruteforce`, kept as the
reference and the benchmark baseline), :func:`temporal_cycles`

1. splits the graph by goods (one node per ``(HS code, trader)``, so an edge can only continue
   with the same goods) and keeps only the edges inside a strongly connected component, since
   no other edge can lie on a cycle;
2. walks, from every edge taken as the first hop, only time-respecting paths: each next edge
   leaves the current node strictly later than the previous hop, within the window counted
   from the first hop, with a comparable value or mass; a path that cannot get back to its
   start node in the hops left (breadth-first distances to the start) is cut early.

Because dates strictly increase along a cycle, each cycle is found once, from its earliest
edge; that is its canonical form (the tuple of edge ids in hop order).
"""
from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from graphiff.alerts import Alert
from graphiff.detectors.registry import register
from graphiff.graph.features import officer_table, trade_edges, trader_countries
from graphiff.graph.tables import Tables

TRADE_MEASURES = ("value_usd", "net_mass_kg", "quantity")
#: edges a pruning BFS may scan before it stops (distances are then known only to the levels
#: completed; beyond them the search does not prune). Keeps dense components cheap.
BFS_BUDGET = 64

# ---------------------------------------------------------------------------------------------
# the shared search
# ---------------------------------------------------------------------------------------------


def comparable(a: Sequence[float], b: Sequence[float], ratio_tol: float) -> bool:
    """Two hops are comparable when, for at least one measure known (> 0) on both, the larger
    is at most ``ratio_tol`` times the smaller. Nothing known in common: not comparable."""
    for x, y in zip(a, b):
        if x > 0 and y > 0:  # NaN compares False
            if (x / y if x >= y else y / x) <= ratio_tol:
                return True
    return False


def _prepare(edges: pd.DataFrame, src_col: str, dst_col: str, group_col: str | None,
             measures: Sequence[str]):
    n0 = len(edges)
    def values(c: str) -> np.ndarray:
        v = edges[c]
        return v.to_numpy() if pd.api.types.is_integer_dtype(v.dtype) else v.to_numpy(dtype=object)

    codes, _ = pd.factorize(np.concatenate([values(src_col), values(dst_col)]))
    sc, dc = codes[:n0].astype(np.int64), codes[n0:].astype(np.int64)
    keep = (sc != dc) & (sc >= 0) & (dc >= 0)  # self-loops never lie on a cycle; no missing ends
    e = edges[keep]
    sc, dc = sc[keep], dc[keep]
    if group_col:
        gv = e[group_col]
        gc = pd.factorize(gv.to_numpy() if pd.api.types.is_integer_dtype(gv.dtype)
                          else gv.to_numpy(dtype=object))[0].astype(np.int64)
    else:
        gc = np.zeros(len(e), dtype=np.int64)
    # one node per (group, node): an edge only continues with edges of its own group
    width = int(max(sc.max(initial=0), dc.max(initial=0))) + 1
    both, _ = pd.factorize(np.concatenate([gc * width + sc, gc * width + dc]))
    n = len(e)
    s, d = both[:n].astype(np.int64), both[n:].astype(np.int64)
    t = e["t"].to_numpy(dtype=np.int64)
    eid = e["edge"].to_numpy()
    m = np.column_stack([pd.to_numeric(e[c], errors="coerce").to_numpy(dtype=float) if c in e.columns
                         else np.full(n, np.nan) for c in measures]) if n else np.zeros((0, len(measures)))
    return s, d, t, eid, m, gc


def temporal_cycles(edges: pd.DataFrame, *, max_len: int = 6, min_len: int = 2, window: int = 180,
                    ratio_tol: float = 1.5, measures: Sequence[str] = TRADE_MEASURES,
                    src_col: str = "src", dst_col: str = "dst", group_col: str | None = "hs") -> list[tuple]:
    """Time-respecting directed simple cycles of a temporal multigraph.

    Parameters
    ----------
    edges : DataFrame
        One row per edge: ``edge`` (id), ``src_col``, ``dst_col`` (node ids), ``t`` (int day
        number), ``group_col`` (goods; None = one group) and the ``measures`` columns.
    max_len, min_len : int
        Cycle length bounds in hops (= distinct nodes), default 2..6.
    window : int
        Days from the first hop to the last, inclusive (default 180).
    ratio_tol : float
        Consecutive hops must be :func:`comparable` (default within a factor 1.5).

    Returns
    -------
    list of tuple
        Each cycle as the tuple of its edge ids in hop order, starting with the earliest hop
        (hop dates strictly increase). Self-loops are never part of a cycle.

    Notes
    -----
    Cost: one strongly-connected-components pass, O(V + E), then a depth-first search bounded
    by ``max_len`` from each edge inside a component, visiting only later edges within the
    window, pruned by breadth-first distances to the start node.

    Examples
    --------
    >>> e = pd.DataFrame({"edge": [0, 1], "src": ["A", "B"], "dst": ["B", "A"], "t": [1, 5],
    ...                   "hs": ["8517", "8517"], "value_usd": [100.0, 110.0]})
    >>> temporal_cycles(e, measures=("value_usd",))
    [(0, 1)]
    """
    if not len(edges):
        return []
    s, d, t, eid, m, _ = _prepare(edges, src_col, dst_col, group_col, measures)
    n_nodes = int(max(s.max(initial=-1), d.max(initial=-1))) + 1
    if n_nodes == 0:
        return []
    import igraph as ig

    # cheap peeling first: an edge out of a node nothing enters, or into a node nothing
    # leaves, is on no cycle (most (HS, trader) nodes only export or only import that HS)
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
    # strongly connected components of what is left
    g = ig.Graph(n=n_nodes, directed=True)
    g.add_edges(np.column_stack([s[cand], d[cand]]))
    memb = np.asarray(ig.GraphBase.connected_components(g, "strong"))  # the membership list
    keep = cand[memb[s[cand]] == memb[d[cand]]]
    if not len(keep):
        return []
    order = keep[np.lexsort((eid[keep], t[keep], s[keep]))]
    # out-adjacency in time order (ties by edge id): node -> (times, local edge indices)
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
    # per-edge values as Python lists (fast scalar access); measures only for edges kept
    tl, dl, el = t.tolist(), d.tolist(), eid.tolist()
    ml: list = [None] * len(t)
    for i, row in zip(keep.tolist(), m[keep].tolist()):
        ml[i] = tuple(row)
    found: list[tuple] = []
    big = max_len + 1
    bfs_budget = BFS_BUDGET

    def bfs(u0: int) -> tuple[dict[int, int], int]:
        """Hop distances to u0 (reverse BFS), level by level up to max_len - 1 levels or until
        the budget of scanned edges is spent; returns (dist, depth fully explored)."""
        dist = {u0: 0}
        frontier = [u0]
        depth = 0
        scanned = 0
        while frontier and depth < max_len - 1:
            nxt = []
            for x in frontier:
                ps = pred.get(x, ())
                scanned += len(ps)
                if scanned > bfs_budget:
                    return dist, depth  # this level is incomplete: known up to depth
                for p in ps:
                    if p not in dist:
                        dist[p] = depth + 1
                        nxt.append(p)
            frontier = nxt
            depth += 1
        if not frontier:
            depth = max_len  # every node that can reach u0 is in dist
        return dist, depth

    empty: list[int] = []
    for u0 in sorted(out_e):
        dist, known = bfs(u0)
        for e0 in out_e[u0]:
            v0 = dl[e0]
            if max_len - 1 <= known and dist.get(v0, big) > max_len - 1:
                continue
            tmax = tl[e0] + window
            path = [e0]
            visited = {u0, v0}
            ts0 = out_t.get(v0, empty)
            # iterative DFS; a frame is [node, last edge, next position in node's out-edges]
            stack = [[v0, e0, bisect_right(ts0, tl[e0])]]
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
                e = out_e[cur][j]
                w = dl[e]
                depth = len(path)
                if w == u0:
                    if depth + 1 >= min_len and comparable(ml[last], ml[e], ratio_tol):
                        found.append(tuple(el[x] for x in path) + (el[e],))
                    continue
                if w in visited or depth + 1 >= max_len:
                    continue
                left = max_len - depth - 1  # hops left after this one
                if left <= known and dist.get(w, big) > left:
                    continue
                if not comparable(ml[last], ml[e], ratio_tol):
                    continue
                path.append(e)
                visited.add(w)
                stack.append([w, e, bisect_right(out_t.get(w, empty), ts[j])])
    return found


def temporal_cycles_bruteforce(edges: pd.DataFrame, *, max_len: int = 6, min_len: int = 2, window: int = 180,
                               ratio_tol: float = 1.5, measures: Sequence[str] = TRADE_MEASURES,
                               src_col: str = "src", dst_col: str = "dst", group_col: str | None = "hs") -> list[tuple]:
    """Reference implementation of :func:`temporal_cycles`: enumerate the static simple cycles
    of the whole graph with ``networkx.simple_cycles(G, length_bound=max_len)``, then, for
    every rotation of every cycle, keep the edge sequences that are time-respecting, within
    the window, of one goods group and comparable hop to hop. Same parameters and output
    (cycles in canonical form). Cost: exponential in the number of static cycles; for tests
    and the benchmark baseline only."""
    import networkx as nx

    if not len(edges):
        return []
    e = edges[edges[src_col].astype(str) != edges[dst_col].astype(str)]
    G = nx.DiGraph()
    bucket: dict[tuple, list[tuple]] = defaultdict(list)
    grp = e[group_col].astype(str).tolist() if group_col else [""] * len(e)
    ms = [pd.to_numeric(e[c], errors="coerce").tolist() if c in e.columns else [float("nan")] * len(e)
          for c in measures]
    for i, (a, b, tt, ed) in enumerate(zip(e[src_col].astype(str), e[dst_col].astype(str), e["t"].tolist(),
                                            e["edge"].tolist())):
        G.add_edge(a, b)
        bucket[(a, b)].append((int(tt), grp[i], tuple(float(x[i]) for x in ms), ed))
    found: set[tuple] = set()
    for cyc in nx.simple_cycles(G, length_bound=max_len):
        L = len(cyc)
        if L < min_len:
            continue
        for r in range(L):
            seq = cyc[r:] + cyc[:r]
            hops = [bucket[(seq[i], seq[(i + 1) % L])] for i in range(L)]
            for first in hops[0]:
                stack = [(1, first, (first[3],))]
                while stack:
                    h, prev, acc = stack.pop()
                    if h == L:
                        found.add(acc)
                        continue
                    for nxt in hops[h]:
                        if (nxt[1] == first[1] and nxt[0] > prev[0] and nxt[0] <= first[0] + window
                                and comparable(prev[2], nxt[2], ratio_tol)):
                            stack.append((h + 1, nxt, acc + (nxt[3],)))
    return sorted(found)


def group_cycles(e: pd.DataFrame, cycles: list[tuple]) -> tuple[pd.DataFrame, dict[frozenset, list[tuple]], dict]:
    """Group cycles by the set of nodes they pass (one alert per set, however often it turns).

    Returns the edge table indexed by edge id, the cycles per node set (each list in time
    order) and each edge's time. Cost: O(total cycle length).
    """
    row = e.set_index("edge", drop=False)
    by_set: dict[frozenset, list[tuple]] = defaultdict(list)
    for c in cycles:
        members = frozenset(row.loc[list(c), "src"]) | frozenset(row.loc[list(c), "dst"])
        by_set[members].append(c)
    start = dict(zip(e["edge"], e["t"]))
    for cs in by_set.values():
        cs.sort(key=lambda c: (start[c[0]], c))
    return row, by_set, start


def disjoint_turns(cycles: Iterable[tuple], start_time: dict) -> int:
    """How many times goods went round: the size of a greedy set of edge-disjoint cycles,
    taken in order of their first hop."""
    used: set = set()
    n = 0
    for c in sorted(cycles, key=lambda c: (start_time[c[0]], c)):
        if used.isdisjoint(c):
            used.update(c)
            n += 1
    return n


# ---------------------------------------------------------------------------------------------
# related parties (round-tripping through a sister company)
# ---------------------------------------------------------------------------------------------


def related_party_groups(tables: Tables, roles: Sequence[str] = ("OWNER", "UBO"), max_related: int = 10) -> dict[str, str]:
    """Trader key -> group representative, merging traders under common ownership.

    Two traders are related when one is an officer (in ``roles``) of the other, or when one
    person or trader holds one of ``roles`` in both. An officer holding such a role in more
    than ``max_related`` companies (a nominee or a holding too broad to mean anything) links
    nothing. Traders not related to any other map to themselves (absent from the dict).
    """
    off = officer_table(tables)
    if not len(off):
        return {}
    roles_u = {r.upper() for r in roles}
    off = off[off["role"].isin(roles_u) & (off["company_label"] == "Trader")]
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.get(x, x) != x:
            parent[x] = parent.get(parent[x], parent[x])
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            if rb < ra:
                ra, rb = rb, ra
            parent[rb] = ra
            parent.setdefault(ra, ra)

    off = off.drop_duplicates(["officer_label", "officer", "company"])
    n = off.groupby(["officer_label", "officer"])["company"].transform("size")
    n = n + (off["officer_label"] == "Trader").astype(int)  # a trader owning others is one of the group
    off = off[(n >= 2) & (n <= max_related)]
    groups: dict[tuple[str, str], set[str]] = defaultdict(set)
    for olabel, officer, company in zip(off["officer_label"], off["officer"], off["company"]):
        groups[(olabel, officer)].add(company)
        if olabel == "Trader":
            groups[(olabel, officer)].add(officer)
    for companies in groups.values():
        cs = sorted(companies)
        for c in cs[1:]:
            union(cs[0], c)
    return {k: find(k) for k in list(parent)}


# ---------------------------------------------------------------------------------------------
# the detector
# ---------------------------------------------------------------------------------------------

DEFAULTS = {
    "max_len": 6,
    "min_len": 2,
    "window_days": 180,
    "hs_level": 6,
    "ratio_tol": 1.5,
    "related_parties": True,
    "related_roles": ["OWNER", "UBO"],
    "max_related": 10,
    "max_evidence_cycles": 20,
}


def circular_trade_edges(tables: Tables, *, hs_level: int = 6, related_parties: bool = True,
                         related_roles: Sequence[str] = ("OWNER", "UBO"), max_related: int = 10) -> pd.DataFrame:
    """The shipment edges the search runs on: :func:`graphiff.graph.features.trade_edges` plus
    integer vertex ids ``u``/``v`` (of the trader, or of its related-party group when
    ``related_parties``) and ``hs_id`` (the goods at ``hs_level``)."""
    e = trade_edges(tables, hs_level=hs_level)
    groups = related_party_groups(tables, related_roles, max_related) if related_parties else {}
    e = e.copy()
    if groups:
        u = e["src"].map(groups).astype(object).where(lambda x: x.notna(), e["src"])
        v = e["dst"].map(groups).astype(object).where(lambda x: x.notna(), e["dst"])
    else:
        u, v = e["src"], e["dst"]
    # graph vertex ids (integers) for the search: node and goods codes
    codes, _ = pd.factorize(pd.concat([u, v], ignore_index=True).to_numpy(dtype=object))
    e["u"], e["v"] = codes[: len(e)].astype(np.int64), codes[len(e):].astype(np.int64)
    e["hs_id"] = pd.factorize(e["hs"].to_numpy(dtype=object))[0].astype(np.int64)
    return e


def _search_params(p: dict) -> dict:
    return {"max_len": int(p["max_len"]), "min_len": int(p["min_len"]), "window": int(p["window_days"]),
            "ratio_tol": float(p["ratio_tol"]), "measures": TRADE_MEASURES, "src_col": "u", "dst_col": "v",
            "group_col": "hs_id"}


def _edge_params(p: dict) -> dict:
    return {"hs_level": int(p["hs_level"]), "related_parties": bool(p["related_parties"]),
            "related_roles": tuple(p["related_roles"]), "max_related": int(p["max_related"])}


def circular_trade_cycles(tables: Tables, **params) -> set[tuple]:
    """The canonical time-respecting trade cycles (tuples of shipment edge ids, see
    :func:`graphiff.graph.features.trade_edges`) found by :func:`temporal_cycles`."""
    p = {**DEFAULTS, **params}
    e = circular_trade_edges(tables, **_edge_params(p))
    return set(temporal_cycles(e, **_search_params(p)))


def circular_trade_bruteforce(tables: Tables, **params) -> set[tuple]:
    """The same cycles as :func:`circular_trade_cycles`, found by enumerating
    ``networkx.simple_cycles(G, length_bound=max_len)`` on the static trade graph and
    filtering afterwards (:func:`temporal_cycles_bruteforce`). Reference and baseline."""
    p = {**DEFAULTS, **params}
    e = circular_trade_edges(tables, **_edge_params(p))
    return set(temporal_cycles_bruteforce(e, **_search_params(p)))


def _fmt_usd(v: float) -> str:
    if v != v:
        return "n/a"
    if v >= 1e6:
        return f"{v / 1e6:.1f}M USD"
    if v >= 1e3:
        return f"{v / 1e3:.0f}k USD"
    return f"{v:.0f} USD"


@register("circular_trade", defaults=DEFAULTS)
def circular_trade(tables: Tables, **params) -> list[Alert]:
    """Circular trade: the same goods go round a cycle of traders and come back.

    A time-respecting directed cycle in the trader trade graph (exporter -> importer per
    shipment, mirror export/import declarations merged): each hop strictly later than the
    previous, all within ``window_days`` of the first, the same goods (HS code at
    ``hs_level`` digits) and comparable USD value, net mass or quantity hop to hop. Includes
    round-tripping (export and re-import by the same trader or a related party) and
    carousels: every cycle over the same set of traders makes ONE alert, with the number of
    turns. Processing trade (the HS code changes along the chain) and hops out of time order
    are not circular trade.

    Parameters
    ----------
    tables : Tables
    max_len : int, default 6
        Longest cycle, in hops (distinct traders or related-party groups).
    min_len : int, default 2
        Shortest cycle (2 = A -> B -> A).
    window_days : int, default 180
        Days from the first hop to the last of one cycle.
    hs_level : int, default 6
        HS digits that define "the same goods" (6, or 4 for a coarser match).
    ratio_tol : float, default 1.5
        Consecutive hops are comparable when value, mass or quantity differ by at most this
        factor.
    related_parties : bool, default True
        Treat traders under common ownership (``related_roles`` in OFFICER_OF) as one node,
        so export by A and re-import by A's sister company close a cycle.
    related_roles : list of str, default ["OWNER", "UBO"]
    max_related : int, default 10
        An owner of more companies than this links none of them.
    max_evidence_cycles : int, default 20
        Cycles listed in an alert's evidence (all hops are always listed).

    Returns
    -------
    list of Alert
        ``entities``: the traders of the cycle(s); ``evidence``: ``declarations`` (every
        declaration key involved), ``hops`` (per shipment: exporter, importer, declaration(s),
        date, hs, value_usd, net_mass_kg), ``cycles`` (representative declaration per hop),
        ``turns``, ``hs``, ``countries``.

    Notes
    -----
    Cost: building the shipment table is O(D log D) for D declarations; the search is
    O(V + E) for the strongly connected components plus a bounded DFS inside them (see
    :func:`temporal_cycles`). Far cheaper than enumerating static cycles.
    """
    p = {**DEFAULTS, **params}
    e = circular_trade_edges(tables, **_edge_params(p))
    cycles = temporal_cycles(e, **_search_params(p))
    if not cycles:
        return []
    row, by_set, start = group_cycles(e, cycles)
    countries = trader_countries(tables)
    alerts = []
    for traders, cs in by_set.items():
        used = sorted({x for c in cs for x in c}, key=lambda x: (start[x], x))
        hops = row.loc[used]
        turns = disjoint_turns(cs, start)
        span = int(hops["t"].max() - hops["t"].min())
        hs = sorted(set(hops["hs"]))
        ctry = sorted({countries[x] for x in traders if countries.get(x)})
        # how close values stay along the cycles (1 = identical)
        closeness = []
        for c in cs:
            for a, b in zip(c, c[1:]):
                va, vb = row.at[a, "value_usd"], row.at[b, "value_usd"]
                if va > 0 and vb > 0:
                    closeness.append(min(va, vb) / max(va, vb))
        close = float(np.mean(closeness)) if closeness else 0.5
        score = 0.45 + 0.2 * close + 0.15 * min(1.0, (turns - 1) / 2) + 0.1 * (len(ctry) >= 2) + 0.1 * (len(traders) >= 3)
        length = len(cs[0])
        hs_txt = ", ".join(hs[:3]) + ("..." if len(hs) > 3 else "")
        turn_txt = "once" if turns == 1 else f"{turns} times"
        rt = " (round trip)" if length == 2 or len(traders) > length else ""
        where = f" in {len(ctry)} countr{'y' if len(ctry) == 1 else 'ies'}" if ctry else ""
        expl = (f"{len(traders)} traders{where} passed the same goods "
                f"(HS {hs_txt}) around a {length}-hop cycle{rt} {turn_txt} within {span} days "
                f"({len(used)} shipments, {_fmt_usd(float(hops['value_usd'].sum(min_count=1)))})")
        decls = sorted({k for ds in hops["decls"] for k in ds})
        evidence = {
            "declarations": decls,
            "hops": [
                {"exporter": r.src, "importer": r.dst, "declaration": r.decl, "declarations": list(r.decls),
                 "date": r.date, "hs": r.hs,
                 "value_usd": None if r.value_usd != r.value_usd else float(r.value_usd),
                 "net_mass_kg": None if r.net_mass_kg != r.net_mass_kg else float(r.net_mass_kg)}
                for r in hops.itertuples(index=False)
            ],
            "cycles": [[row.at[x, "decl"] for x in c] for c in cs[: int(p["max_evidence_cycles"])]],
            "n_cycles": len(cs),
            "turns": turns,
            "hs": hs,
            "countries": ctry,
            "first_date": str(hops["date"].min()),
            "last_date": str(hops["date"].max()),
        }
        alerts.append(Alert(
            pattern="circular_trade", score=round(score, 4),
            entities=[{"label": "Trader", "id": x} for x in sorted(traders)],
            explanation=expl, evidence=evidence,
        ))
    alerts.sort(key=lambda a: (-a.score, a.id))
    return alerts

"""Graph algorithms shared by the detectors: the temporal cycle search, windowed joins,
union-find.

The temporal cycle search finds time-respecting cycles of a temporal multigraph (shipments
between traders for :mod:`graphiff.detectors.circular_trade`, payments between accounts for
:mod:`graphiff.detectors.circular_payment`). Instead of enumerating the static cycles of the
graph and filtering them afterwards (:func:`temporal_cycles_bruteforce`, kept as the
reference and the benchmark baseline), :func:`temporal_cycles`

1. splits the graph by group (one node per ``(group, node)``, e.g. HS code and trader, so an
   edge can only continue with the same goods) and keeps only the edges inside a strongly
   connected component, since no other edge can lie on a cycle;
2. walks, from every edge taken as the first hop, only time-respecting paths: each next edge
   leaves the current node strictly later than the previous hop (or than its start, when
   edges carry a lag), within the window counted from the first hop, passing a hop test (by
   default a comparable value or mass, :func:`comparable`; an amount band for payments); a
   path that cannot get back to its start node in the hops left (breadth-first distances to
   the start) is cut early.

Because dates strictly increase along a cycle, each cycle is found once, from its earliest
edge; that is its canonical form (the tuple of edge ids in hop order). With lags (e.g. a lag
of one day: same-day hops) a rotation of a cycle may be time-respecting too;
``unique_sets=True`` keeps one per set of edges.
"""
from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from functools import partial
from typing import Any, Callable, Hashable, Iterable, Sequence

import numpy as np
import pandas as pd

#: the measures compared hop to hop by default (those of :func:`graphiff.graph.features.trade_edges`)
TRADE_MEASURES = ("value_usd", "net_mass_kg", "quantity")
#: edges a pruning BFS may scan before it stops (distances are then known only to the levels
#: completed; beyond them the search does not prune). Keeps dense components cheap.
BFS_BUDGET = 64


def comparable(a: Sequence[float], b: Sequence[float], ratio_tol: float) -> bool:
    """Two hops are comparable when, for at least one measure known (> 0) on both, the larger
    is at most ``ratio_tol`` times the smaller, and no measure known on both differs by more
    than ``ratio_tol`` squared (equal masses do not make a value 2.5 times larger
    comparable, but a value drifting a little beyond ``ratio_tol`` with the same mass is).
    Nothing known in common: not comparable.

    >>> comparable((100.0, 5.0), (250.0, 5.0), 1.5), comparable((100.0, 5.0), (160.0, 5.0), 1.5)
    (False, True)
    >>> comparable((float("nan"), 5.0), (250.0, 6.0), 1.5)
    True
    """
    ok = False
    limit = ratio_tol * ratio_tol
    for x, y in zip(a, b):
        if x > 0 and y > 0:  # NaN compares False
            r = x / y if x >= y else y / x
            if r > limit:
                return False
            ok = ok or r <= ratio_tol
    return ok


def _cycle_graph(edges: pd.DataFrame, src_col: str, dst_col: str, group_col: str | None,
                 measures: Sequence[str], lag_col: str | None = None):
    """The edge table as integer arrays for the search: ``(src node, dst node, t, edge id,
    measures matrix, group code)``, one node per ``(group, node)``, self-loops and edges with a
    missing end dropped; with ``lag_col`` the measures matrix ends with the lag column (the
    search splits it off). O(E)."""
    if lag_col:
        measures = (*measures, lag_col)
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
                    src_col: str = "src", dst_col: str = "dst", group_col: str | None = "hs",
                    lag_col: str | None = None, hop_ok: Callable[[tuple, tuple], bool] | None = None,
                    unique_sets: bool = False) -> list[tuple]:
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
        Consecutive hops must be :func:`comparable` (default within a factor 1.5); used only
        when ``hop_ok`` is None.
    lag_col : str, optional
        Days by which an edge may have started before its ``t`` (e.g. a shipment known only
        from the import declaration, dated on arrival or filed late): the next hop must be
        strictly later than ``t - lag`` of the previous one. None: no lag. A lag of 1 on every
        edge allows same-day hops (dates without times).
    hop_ok : callable, optional
        ``hop_ok(prev, next) -> bool`` on the tuples of ``measures`` of two consecutive hops
        (the closing hop too): whether the path may continue. Directed (e.g. an amount that
        may only shrink by a fee). None: ``comparable(prev, next, ratio_tol)``.
    unique_sets : bool, default False
        Each set of edges once: of the rotations of one cycle found (possible with lags),
        keep the one that starts with the earliest hop (day, then edge id). False: every
        time-respecting rotation, as :func:`temporal_cycles_bruteforce` lists them.

    Returns
    -------
    list of tuple
        Each cycle as the tuple of its edge ids in hop order, starting with the earliest hop
        (hop dates strictly increase; with lags, from each hop a rotation may start from,
        unless ``unique_sets``). Self-loops are never part of a cycle.

    Notes
    -----
    Cost: one strongly-connected-components pass, O(V + E), then a depth-first search bounded
    by ``max_len`` from each edge inside a component, visiting only later edges within the
    window, pruned by breadth-first distances to the start node; ``hop_ok`` is called once per
    step of the walk that survives the pruning.

    Examples
    --------
    >>> e = pd.DataFrame({"edge": [0, 1], "src": ["A", "B"], "dst": ["B", "A"], "t": [1, 5],
    ...                   "hs": ["8517", "8517"], "value_usd": [100.0, 110.0]})
    >>> temporal_cycles(e, measures=("value_usd",))
    [(0, 1)]
    """
    if not len(edges):
        return []
    s, d, t, eid, m, _ = _cycle_graph(edges, src_col, dst_col, group_col, measures, lag_col)
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
    if lag_col:  # the earliest start of each edge: t - lag
        lag = np.nan_to_num(m[:, -1], nan=0.0).astype(np.int64)
        m = m[:, :-1]
        lo = (t - np.maximum(lag, 0)).tolist()
    else:
        lo = tl
    ml: list = [None] * len(t)
    for i, row in zip(keep.tolist(), m[keep].tolist()):
        ml[i] = tuple(row)
    found: list[tuple] = []
    first_hop: dict[frozenset, tuple[tuple[int, Any], int]] = {}  # unique_sets: set -> (earliest, index)
    ok = partial(comparable, ratio_tol=ratio_tol) if hop_ok is None else hop_ok
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
            stack = [[v0, e0, bisect_right(ts0, lo[e0])]]
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
                    if depth + 1 >= min_len and ok(ml[last], ml[e]):
                        cyc = tuple(el[x] for x in path) + (el[e],)
                        if unique_sets:
                            key = frozenset(cyc)
                            when = (tl[path[0]], cyc[0])
                            had = first_hop.get(key)
                            if had is not None:
                                if when < had[0]:
                                    found[had[1]] = cyc
                                    first_hop[key] = (when, had[1])
                                continue
                            first_hop[key] = (when, len(found))
                        found.append(cyc)
                    continue
                if w in visited or depth + 1 >= max_len:
                    continue
                left = max_len - depth - 1  # hops left after this one
                if left <= known and dist.get(w, big) > left:
                    continue
                if not ok(ml[last], ml[e]):
                    continue
                path.append(e)
                visited.add(w)
                stack.append([w, e, bisect_right(out_t.get(w, empty), lo[e])])
    return found


def temporal_cycles_bruteforce(edges: pd.DataFrame, *, max_len: int = 6, min_len: int = 2, window: int = 180,
                               ratio_tol: float = 1.5, measures: Sequence[str] = TRADE_MEASURES,
                               src_col: str = "src", dst_col: str = "dst", group_col: str | None = "hs",
                               lag_col: str | None = None,
                               hop_ok: Callable[[tuple, tuple], bool] | None = None) -> list[tuple]:
    """Reference implementation of :func:`temporal_cycles`: enumerate the static simple cycles
    of the whole graph with ``networkx.simple_cycles(G, length_bound=max_len)``, then, for
    every rotation of every cycle, keep the edge sequences that are time-respecting, within
    the window, of one goods group and passing the hop test hop to hop (``hop_ok``, default
    :func:`comparable`). Same parameters and output (cycles in canonical form, every
    time-respecting rotation). Cost: exponential in the number of static cycles; for tests
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
    lags = (np.maximum(np.nan_to_num(pd.to_numeric(e[lag_col], errors="coerce").to_numpy(dtype=float), nan=0.0), 0)
            .astype(np.int64).tolist() if lag_col else [0] * len(e))
    for i, (a, b, tt, ed) in enumerate(zip(e[src_col].astype(str), e[dst_col].astype(str), e["t"].tolist(),
                                            e["edge"].tolist())):
        G.add_edge(a, b)
        bucket[(a, b)].append((int(tt), grp[i], tuple(float(x[i]) for x in ms), ed, int(tt) - lags[i]))
    ok = partial(comparable, ratio_tol=ratio_tol) if hop_ok is None else hop_ok
    found: set[tuple] = set()
    for cyc in nx.simple_cycles(G, length_bound=max_len):
        L = len(cyc)
        if L < min_len:
            continue
        for r in range(L):
            seq = cyc[r:] + cyc[:r]
            hops = [bucket[(seq[i], seq[(i + 1) % L])] for i in range(L)]
            for first in hops[0]:
                stack: list[tuple[int, tuple, tuple]] = [(1, first, (first[3],))]
                while stack:
                    h, prev, acc = stack.pop()
                    if h == L:
                        found.add(acc)
                        continue
                    for nxt in hops[h]:
                        if (nxt[1] == first[1] and nxt[0] > prev[4] and nxt[0] <= first[0] + window
                                and ok(prev[2], nxt[2])):
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


def window_join(later: pd.DataFrame, earlier: pd.DataFrame, on: list[str], t_later: str, t_earlier: str,
                 days: int) -> pd.DataFrame:
    """Rows of ``later`` joined with the rows of ``earlier`` that have equal ``on`` keys and
    happened at most ``days`` before them.

    Parameters
    ----------
    later, earlier : DataFrame
        Both carry the ``on`` columns; ``later[t_later]`` and ``earlier[t_earlier]`` are int
        day numbers.
    on : list of str
        Join keys.
    t_later, t_earlier : str
        The time columns of each side.
    days : int
        Window: a pair is kept when ``0 <= later.t - earlier.t <= days``.

    Returns
    -------
    DataFrame
        The columns of ``later``, those of ``earlier`` except ``on``, and ``days`` (the time
        difference), one row per pair inside the window.

    Notes
    -----
    Cost: O((L + E) log E + output): sorted arrays and binary search; only pairs inside the
    window are ever built, never the full cross join.

    >>> a = pd.DataFrame({"k": ["x", "x"], "t": [10, 30]})
    >>> b = pd.DataFrame({"k": ["x", "x"], "u": [1, 9], "id": [0, 1]})
    >>> window_join(a, b, ["k"], "t", "u", 5)[["t", "id", "days"]].values.tolist()
    [[10, 1, 1]]
    """
    keys = pd.concat([later[on], earlier[on]], ignore_index=True)
    code = keys.groupby(on, sort=False).ngroup().to_numpy(np.int64)
    lc, ec = code[: len(later)], code[len(later):]
    lt, et = later[t_later].to_numpy(np.int64), earlier[t_earlier].to_numpy(np.int64)
    base = int(max(lt.max(initial=0), et.max(initial=0)) - min(lt.min(initial=0), et.min(initial=0))) + days + 2
    off = min(lt.min(initial=0), et.min(initial=0))
    ek = ec * base + (et - off)
    order = np.argsort(ek, kind="stable")
    ek_sorted = ek[order]
    lk = lc * base + (lt - off)
    lo = np.searchsorted(ek_sorted, lk - days, side="left")
    hi = np.searchsorted(ek_sorted, lk, side="right")
    n = hi - lo
    li = np.repeat(np.arange(len(later)), n)
    starts = np.repeat(lo, n)
    within = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    ei = order[starts + within]
    left = later.iloc[li].reset_index(drop=True)
    right = earlier.drop(columns=on).iloc[ei].reset_index(drop=True)
    out = pd.concat([left, right], axis=1)
    out["days"] = (lt[li] - et[ei]).astype(np.int64)
    return out



class UnionFind:
    """Disjoint sets of hashable, mutually comparable items; the root of a set is its smallest
    item, so the result does not depend on the order of the unions.

    Cost: near O(1) amortised per operation (path compression).

    >>> uf = UnionFind()
    >>> uf.union("b", "c"); uf.union("c", "a")
    >>> uf.find("b"), "z" in uf.parent
    ('a', False)
    """

    def __init__(self) -> None:
        #: item -> its parent (roots map to themselves); every item seen so far is a key
        self.parent: dict[Any, Any] = {}

    def find(self, x: Hashable) -> Any:
        """The root (smallest item) of ``x``'s set; adds ``x`` as a set of its own if new."""
        self.parent.setdefault(x, x)
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: Hashable, b: Hashable) -> None:
        """Merge the sets of ``a`` and ``b``."""
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

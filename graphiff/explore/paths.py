"""Paths: the shortest ways two nodes are connected, with the records on each hop. Hops are
counted as in :mod:`graphiff.graph.index` (a hop passes through records). The walk takes the
filters of :func:`graphiff.explore.neighbourhood` (relationship types, node labels, dates, a hub
limit): a path does not pass through a hub, so "both used the same shipping line" is not a path."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from graphiff.errors import GraphiffError
from graphiff.explore.describe import SAME_AS_HOWS, node_summary, record_summary, same_as_status
from graphiff.explore.neighbourhood import walk_filter
from graphiff.graph.index import graph_index, node_props
from graphiff.graph.tables import Tables

__all__ = ["paths"]


def paths(tables: Tables, a: str, b: str, max_len: int = 6, k: int = 3, *, records_per_hop: int = 10,
          rel_types: list[str] | None = None, types: list[str] | None = None, date_from: str | None = None,
          date_to: str | None = None, hub_limit: int | None = None) -> list[dict[str, Any]]:
    """The ``k`` shortest ways ``a`` and ``b`` are connected, with the records on each hop.

    Parameters
    ----------
    tables : Tables
    a, b : str
        Node keys or ``Label:key``.
    max_len : int
        Longest path, in hops (a hop passes through records as in :func:`neighbourhood`).
    k : int
        How many paths (different sequences of entities), shortest first.
    records_per_hop : int
        At most this many records are listed per hop (``records_total`` counts them all).
    rel_types, types, date_from, date_to, hub_limit
        The filters of :func:`graphiff.explore.neighbourhood`: walk only these relationship
        types, reach only these node labels (records are passed through), leave out records
        and relationships dated outside the range, and never pass through a node with more
        relationships than ``hub_limit`` (None or 0: no limit).

    Returns
    -------
    list of dict
        Each ``{"length", "nodes": [{id, label, key, caption}], "hops": [{"from", "to", "how":
        [relationship paths], "records": [{id, label, key, date, values...}],
        "records_total"}]}``; a hop over a SAME_AS (records as loaded) also has ``same_as``, its
        status. Empty when no path of at most ``max_len`` hops exists.

    The walk is undirected over every relationship type (money and goods can be followed
    both ways); parallel records between the same two entities are one hop, so the ``k``
    paths differ in the entities they pass. Country nodes are not passed through.

    Examples
    --------
    Two shipments, T1 to T2 (declaration D1, 2023) and T2 to T3 (D2, 2024):

    >>> decls = pd.DataFrame({"key": ["D1", "D2"], "date": ["2023-05-01", "2024-02-15"]})
    >>> exported = pd.DataFrame({"src_label": "Trader", "src": ["T1", "T2"],
    ...                          "dst_label": "Declaration", "dst": ["D1", "D2"]})
    >>> imported = pd.DataFrame({"src_label": "Declaration", "src": ["D1", "D2"],
    ...                          "dst_label": "Trader", "dst": ["T2", "T3"]})
    >>> tables = Tables.from_frames(nodes={"Declaration": decls}, rels={"EXPORTED": exported, "IMPORTED_BY": imported})
    >>> [p] = paths(tables, "T1", "T3")
    >>> p["length"], [n["key"] for n in p["nodes"]], [h["records"][0]["key"] for h in p["hops"]]
    (2, ['T1', 'T2', 'T3'], ['D1', 'D2'])

    Cost: two breadth-first walks of at most ``max_len`` hops over the index (O(edges
    touched)), a join over the records between the two walks, then Yen's k-shortest-paths
    (python-igraph) on the small entity graph that remains.
    """
    import igraph as ig

    if max_len < 1 or k < 1:
        raise GraphiffError("max_len and k must be 1 or more")
    idx = graph_index(tables)
    ia, ib = idx.resolve_one(a), idx.resolve_one(b)
    if ia == ib:
        return []
    edge_ok = walk_filter(idx, [ia, ib], rel_types, types, date_from, date_to)
    da = idx.expand([ia], max_len, edge_ok, hub_limit=hub_limit)
    if da[ib] < 0:
        return []
    db = idx.expand([ib], max_len, edge_ok, hub_limit=hub_limit)
    is_rec = idx.is_record
    endpoint = np.zeros(idx.n, dtype=bool)
    endpoint[[ia, ib]] = True
    both = (da >= 0) & (db >= 0)
    if hub_limit:           # a hub both walks reach is no step of a path (the walks stop at it)
        inner = np.flatnonzero(both & ~is_rec & ~endpoint)
        both[idx.hubs_among(inner, hub_limit, edge_ok)] = False
    total = np.where(both, da + db, np.iinfo(np.int32).max)
    found: list[list[int]] = []
    lk: pd.DataFrame | None = None
    # shortest first: widen the corridor between a and b one hop at a time until k paths are found
    for length in range(int(da[ib]), max_len + 1):
        ends = (~is_rec & ~idx.is_hub & (total <= length)) | endpoint
        members = ends | (is_rec & (total <= length + 1))
        lk = idx.links(members, ends, edge_ok)
        if not len(lk):
            continue
        pairs = lk[["u", "v"]].to_numpy()
        und = pd.DataFrame({"lo": pairs.min(axis=1), "hi": pairs.max(axis=1)}).drop_duplicates()
        verts = np.unique(und.to_numpy())
        if ia not in verts or ib not in verts:
            continue
        pos = pd.Series(np.arange(len(verts)), index=verts)
        g = ig.Graph(n=len(verts),
                     edges=list(zip(pos[und["lo"].to_numpy()].tolist(), pos[und["hi"].to_numpy()].tolist())),
                     directed=False)
        got = g.get_k_shortest_paths(int(pos[ia]), int(pos[ib]), k=k, mode="all")
        found = [[int(verts[j]) for j in p] for p in got if p and len(p) - 1 <= length]
        if len(found) >= k:
            break
    if not found or lk is None:
        return []

    steps = pd.DataFrame([(x, y) for p in found for x, y in zip(p, p[1:])], columns=["u", "v"]).drop_duplicates()
    sel = lk.merge(steps, on=["u", "v"])
    lk_by = {(int(key[0]), int(key[1])): grp for key, grp in sel.groupby(["u", "v"], sort=False)}
    needed_recs: set[int] = set()
    hop_data: list[list[tuple[int, int, list[str], list[int], int]]] = []
    for p in found:
        hops_ = []
        for x, y in zip(p, p[1:]):
            grp = lk_by.get((x, y))
            hows = sorted(pd.unique(grp["how"]).tolist()) if grp is not None else []
            r = pd.unique(pd.concat([grp["r1"], grp["r2"]]).to_numpy()) if grp is not None else np.empty(0, np.int64)
            r = r[r >= 0]
            shown = sorted(r.tolist(),
                           key=lambda i: (_neg_date(idx.node_date.iloc[i]), idx.node_id(i)))[:records_per_hop]
            hops_.append((x, y, hows, shown, int(len(r))))
            needed_recs.update(shown)
        hop_data.append(hops_)
    props = node_props(tables, idx, needed_recs | {n for p in found for n in p})
    out = []
    for p, hops_ in zip(found, hop_data):
        hop_list = []
        for x, y, hows, shown, n_records in hops_:
            hop: dict[str, Any] = {"from": idx.node_id(x), "to": idx.node_id(y), "how": hows,
                   "records": [record_summary(idx, i, props[i]) for i in shown], "records_total": n_records}
            if any(h in SAME_AS_HOWS for h in hows):     # the records as loaded: joined, or not?
                hop["same_as"] = same_as_status(tables, idx.node_id(x), idx.node_id(y))
            hop_list.append(hop)
        out.append({"length": len(p) - 1, "nodes": [node_summary(idx, i, props[i]) for i in p], "hops": hop_list})
    return out



def _neg_date(d: str | None) -> tuple:
    """Sort key putting newer dates first and undated last."""
    if not isinstance(d, str) or not d:
        return (1, "")
    return (0, "".join(chr(255 - ord(c)) for c in d))


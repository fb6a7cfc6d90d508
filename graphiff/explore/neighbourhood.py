"""Neighbourhood: who an entity is connected to, how, through which records, and which alerts
touch them. Hops are counted as in :mod:`graphiff.graph.index` (a hop passes through records).

The walk takes the filters of the analyst's view (:mod:`graphiff.graph.view`): relationship
types, node labels, a date range and a hub limit. A hub -- a shipping line or a vessel on
thousands of declarations -- is listed with its counts instead of being walked through, so two
hops from a trader do not reach half the graph."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from graphiff.errors import GraphiffError
from graphiff.explore.describe import (
    SAME_AS_HOWS,
    alert_summary,
    node_summary,
    record_summary,
    same_as,
    same_as_status,
)
from graphiff.graph.index import RECORD_LABELS, GraphIndex, check_date, graph_index, node_props
from graphiff.graph.tables import Tables
from graphiff.model import model

__all__ = ["neighbourhood", "walk_filter", "hub_summaries"]


def walk_filter(idx: GraphIndex, keep: list[int], rel_types: list[str] | None = None,
                types: list[str] | None = None, date_from: str | None = None,
                date_to: str | None = None) -> np.ndarray | None:
    """The relationships a walk may use (:meth:`GraphIndex.edge_mask`), or None when nothing is
    filtered: of ``rel_types``, dated inside the range, between nodes of ``types`` (records are
    passed through whatever the labels; the nodes ``keep`` -- where the walk starts -- always
    pass). Unknown types or labels, and dates that are not dates, raise :class:`GraphiffError`.
    """
    date_from = check_date(date_from, "--from date")
    date_to = check_date(date_to, "--to date")
    if date_from and date_to and date_from[:len(date_to)] > date_to[:len(date_from)]:
        raise GraphiffError(f"the date range is empty: {date_from} is after {date_to}")
    if rel_types is None and types is None and not date_from and not date_to:
        return None
    node_ok = idx.node_date_ok(date_from, date_to)
    if types is not None:
        for t in types:
            model().node(str(t))              # unknown label -> GraphiffError naming it
        node_ok &= idx.label_mask([*types, *RECORD_LABELS, "Alert"])
    node_ok[np.asarray(keep, dtype=np.int64)] = True
    return idx.edge_mask(rel_types, date_from, date_to, node_ok)


def hub_summaries(tables: Tables, idx: GraphIndex, nodes: np.ndarray, hub_limit: int | None,
                  edge_ok: np.ndarray | None = None, dist: np.ndarray | None = None) -> list[dict[str, Any]]:
    """The ``nodes`` above ``hub_limit`` (:meth:`GraphIndex.hubs_among`), each as ``{id, label,
    key, caption, hops, neighbours, reach}``: ``neighbours`` its direct neighbours by label
    (:meth:`GraphIndex.neighbour_counts`, as a chart's ``hubs``), ``reach`` what one hop through
    it would add, by label (records passed through included), both under the filters. Cost:
    O(relationships of the hubs)."""
    from graphiff.explore.describe import node_summary

    hubs = idx.hubs_among(np.asarray(nodes, dtype=np.int64), hub_limit, edge_ok)
    if not len(hubs):
        return []
    props = node_props(tables, idx, hubs.tolist())
    out = []
    for h in hubs.tolist():
        near = idx.expand([h], 1, edge_ok)
        near[h] = -1
        reached = np.flatnonzero(near == 1)
        codes, counts = np.unique(idx.node_label[reached], return_counts=True)
        reach = {idx.labels[int(c)]: int(n) for c, n in zip(codes, counts) if idx.labels[int(c)] != "Alert"}
        row = {**node_summary(idx, h, props[h]), "neighbours": idx.neighbour_counts(h, edge_ok), "reach": reach}
        if dist is not None:
            row["hops"] = int(dist[h])
        out.append(row)
    return sorted(out, key=lambda r: (r.get("hops", 0), -sum(r["reach"].values()), r["id"]))


def neighbourhood(tables: Tables, id: str, hops: int = 1, *, limit: int | None = 100,
                  rel_types: list[str] | None = None, types: list[str] | None = None,
                  date_from: str | None = None, date_to: str | None = None,
                  hub_limit: int | None = None) -> dict[str, Any]:
    """Who an entity is connected to, how, through which records, and which alerts touch them.

    Parameters
    ----------
    tables : Tables
        The store's tables.
    id : str
        A node key (``T00012``) or ``Label:key`` (``Person:P7``); an id shared by several
        labels must be written ``Label:key``. In the resolved view the key of any record of a
        resolved entity names the entity.
    hops : int
        How far to go (see the module notes: a hop passes through records, so one hop from a
        trader reaches its trading partners).
    limit : int or None
        At most this many neighbours and records are listed (the ``counts`` are complete).
    rel_types : list of str, optional
        Walk only these relationship types (default: all).
    types : list of str, optional
        Node labels to reach (default: all); records are passed through and listed whatever
        the labels.
    date_from, date_to : str, optional
        ``YYYY-MM-DD`` (or ``YYYY-MM``, ``YYYY``) bounds, inclusive: records dated outside, and
        relationships whose date or period lies outside, are not walked.
    hub_limit : int, optional
        A node with more relationships than this (under the filters) is listed but not walked
        through, and described in ``hubs`` (None or 0: no limit; Country nodes are never walked
        through).

    Returns
    -------
    dict
        ``entity`` (id, label, key, caption, props; for a resolved entity also ``aliases``,
        the keys of its other records, and ``same_as``, those records with their own
        captions: see :func:`graphiff.explore.describe.same_as`); ``neighbours`` (nearest and most strongly
        linked first: id, label, key, caption, ``hops``, ``links`` -- each ``from`` the node
        one hop nearer, ``how`` the relationship path, ``records`` how many records carry it,
        ``record_ids`` a few of them, ``status`` for a direct SAME_AS in the records as loaded --
        and ``alerts``); ``records`` (the declarations,
        payments and cash reports passed through, newest first, with their hop); ``alerts``
        (alerts flagging the entity or a neighbour or record, highest score first, with the
        ids they flag here); ``hubs`` (the entity and neighbours above ``hub_limit``, not walked
        through: see :func:`hub_summaries`); ``counts``; ``truncated``.

    Examples
    --------
    Two shipments, T1 to T2 (declaration D1, 2023) and T2 to T3 (D2, 2024):

    >>> decls = pd.DataFrame({"key": ["D1", "D2"], "date": ["2023-05-01", "2024-02-15"]})
    >>> exported = pd.DataFrame({"src_label": "Trader", "src": ["T1", "T2"],
    ...                          "dst_label": "Declaration", "dst": ["D1", "D2"]})
    >>> imported = pd.DataFrame({"src_label": "Declaration", "src": ["D1", "D2"],
    ...                          "dst_label": "Trader", "dst": ["T2", "T3"]})
    >>> tables = Tables.from_frames(nodes={"Declaration": decls}, rels={"EXPORTED": exported, "IMPORTED_BY": imported})
    >>> nb = neighbourhood(tables, "T2")
    >>> [(n["key"], n["links"][0]["how"]) for n in nb["neighbours"]]
    [('T1', '<-[IMPORTED_BY]- Declaration <-[EXPORTED]-'), ('T3', '-[EXPORTED]-> Declaration -[IMPORTED_BY]->')]
    >>> [r["key"] for r in nb["records"]]
    ['D2', 'D1']

    Cost: building the index once per ``Tables`` (see :func:`graph_index`), then O(edges
    touched) per hop plus a join over the records inside the neighbourhood.
    """
    if hops < 0:
        raise GraphiffError("hops must be 0 or more")
    idx = graph_index(tables)
    start = idx.resolve_one(id)
    is_rec = idx.is_record
    seeds = idx.flagged_by_alert(start) if idx.is_alert[start] else np.asarray([start], dtype=np.int64)
    edge_ok = walk_filter(idx, [start, *seeds.tolist()], rel_types, types, date_from, date_to)
    if idx.is_alert[start]:
        dist = (idx.expand(seeds, max(hops - 1, 0), edge_ok, hub_limit=hub_limit) if hops >= 1
                else np.full(idx.n, -1, np.int32))
        if hops >= 1:
            dist[dist >= 0] += 1
        dist[start] = 0
    else:
        dist = idx.expand([start], hops, edge_ok, hub_limit=hub_limit)
    members = dist >= 0
    ends = members & (~is_rec)
    ends[start] = True
    neigh = np.flatnonzero(ends & (dist >= 1))
    recs = np.flatnonzero(members & is_rec & (dist >= 1))
    recs = recs[recs != start]

    # links from the node one hop nearer
    lk = idx.links(members, ends, edge_ok)
    if len(lk):
        du, dv = dist[lk["u"].to_numpy()], dist[lk["v"].to_numpy()]
        lk = lk[(dv == du + 1) & (dv >= 1)]
    if idx.is_alert[start]:
        extra = pd.DataFrame({"u": start, "v": idx.flagged_by_alert(start).astype(np.int64), "how": "-[FLAGS]->",
                              "r1": -1, "r2": -1})
        lk = pd.concat([lk, extra], ignore_index=True) if len(lk) else extra
    # records per link, strength per neighbour (vectorised), link rows for the listed ones
    strength = np.zeros(idx.n, dtype=np.int64)
    groups = pd.DataFrame({"u": [], "v": [], "how": [], "n": []})
    recs_df = pd.DataFrame({"u": [], "v": [], "how": [], "r": []})
    if len(lk):
        recs_df = pd.concat([lk[["u", "v", "how", "r1"]].rename(columns={"r1": "r"}),
                             lk[["u", "v", "how", "r2"]].rename(columns={"r2": "r"})], ignore_index=True)
        recs_df = recs_df[recs_df["r"].to_numpy() >= 0].drop_duplicates()
        cnt = recs_df.groupby(["u", "v", "how"], sort=False).size().rename("n").reset_index()
        groups = lk[["u", "v", "how"]].drop_duplicates().merge(cnt, on=["u", "v", "how"], how="left")
        groups["n"] = groups["n"].fillna(0).astype("int64")
        np.add.at(strength, groups["v"].to_numpy(dtype=np.int64), np.maximum(1, groups["n"].to_numpy()))

    ac = idx.alert_count
    deg = idx.degree
    order = neigh[np.lexsort((neigh, -deg[neigh], -ac[neigh], -strength[neigh], dist[neigh]))].tolist()
    rec_frame = pd.DataFrame({"r": recs, "d": dist[recs], "date": idx.node_date.iloc[recs].to_numpy()})
    rec_order = rec_frame.sort_values(["d", "date", "r"], ascending=[True, False, True],
                                      na_position="last", kind="stable")["r"].tolist()
    listed_n = order if limit is None else order[:limit]
    listed_r = rec_order if limit is None else rec_order[:limit]

    link_rows: dict[int, list[dict[str, Any]]] = {}
    if len(groups):
        listed = set(listed_n)
        g = groups[groups["v"].isin(listed)].sort_values(["v", "n", "how"], ascending=[True, False, True])
        rs = recs_df[recs_df["v"].isin(listed)].sort_values("r").groupby(["u", "v", "how"], sort=False).head(5)
        rmap = rs.groupby(["u", "v", "how"], sort=False)["r"].agg(list).to_dict()
        for u, v, how, n_ in g.itertuples(index=False):
            row: dict[str, Any] = {"from": idx.node_id(int(u)), "how": str(how), "records": int(n_),
                   "record_ids": [idx.node_id(int(x)) for x in rmap.get((u, v, how), [])]}
            if how in SAME_AS_HOWS:          # the records as loaded: say whether SAME_AS joins or not
                row["status"] = same_as_status(tables, idx.node_id(int(u)), idx.node_id(int(v)))
            link_rows.setdefault(int(v), []).append(row)

    # alerts on the entity, neighbours and records
    alerts: dict[int, list[str]] = {}
    for a, node in zip(*(x.tolist() for x in idx.alerts_for(np.flatnonzero(members)))):
        alerts.setdefault(int(a), []).append(idx.node_id(int(node)))
    if idx.is_alert[start]:
        alerts.setdefault(start, [idx.node_id(int(x)) for x in idx.flagged_by_alert(start)])

    props = node_props(tables, idx, [start, *listed_n, *listed_r, *alerts.keys()])
    entity = {**node_summary(idx, start, props[start]), "props": props[start], "alerts": int(ac[start])}
    joined = same_as(tables, entity["label"], entity["key"])
    if joined:
        entity["same_as"] = joined
    neighbours = [{**node_summary(idx, i, props[i]), "hops": int(dist[i]), "links": link_rows.get(i, []),
                   "alerts": int(ac[i])} for i in listed_n]
    records = [record_summary(idx, i, props[i], hops=int(dist[i])) for i in listed_r]
    alert_list = sorted((alert_summary(idx, a, props[a], sorted(set(f))) for a, f in alerts.items()),
                        key=lambda d: (-(d["score"] or 0), d["id"]))

    def by_label(ids) -> dict[str, int]:
        codes, counts = np.unique(idx.node_label[np.asarray(ids, dtype=np.int64)], return_counts=True)
        return dict(sorted((idx.labels[int(c)], int(n_)) for c, n_ in zip(codes, counts)))

    entities = np.flatnonzero(ends & ~idx.is_alert & ~idx.is_hub)    # Country: never walked through anyway
    hubs = hub_summaries(tables, idx, entities, hub_limit, edge_ok, dist) if hub_limit else []
    return {
        "entity": entity, "hops": int(hops), "neighbours": neighbours, "records": records, "alerts": alert_list,
        "hubs": hubs,
        "counts": {"neighbours": by_label(neigh), "records": by_label(recs), "alerts": len(alert_list)},
        "truncated": {"neighbours": len(listed_n) < len(neigh), "records": len(listed_r) < len(recs)},
    }


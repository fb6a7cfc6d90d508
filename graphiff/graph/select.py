"""Subgraph selection: the one function that chooses what a link chart or sharing package holds.

:func:`select` starts from seeds -- entity ids, one or more alerts, or every alert of a pattern -- walks
``hops`` hops over the relationships (all types, or a filter), skips records dated outside a
date range, keeps at most ``max_nodes`` nodes (the most relevant) and says what it left out.
Every export (html, anx, graphml, gexf, cyjs, png/svg) and every sharing package takes its
result, a :class:`Subgraph`.

Hops are counted as in :mod:`graphiff.graph.index`: records (declarations, payments, cash reports)
are the links between entities, so one hop from a trader reaches the declarations it is party
to *and* the partners, carriers and containers on them; Country nodes are shown but not
walked through.
"""
from __future__ import annotations

import heapq
from typing import Iterable

import numpy as np
import pandas as pd

from graphiff.errors import GraphiffError, NotFound
from graphiff.graph.columns import records
from graphiff.graph.index import RECORD_LABELS, GraphIndex, caption_of, check_date, graph_index, node_props
from graphiff.graph.subgraph import SubEdge, Subgraph, SubNode
from graphiff.graph.tables import Tables
from graphiff.model import model
from graphiff.model.cells import plain_value
from graphiff.model.identity import REL_ENDS, node_id, rel_id, rel_ident
from graphiff.stores import Store

__all__ = ["select", "Subgraph", "SubNode", "SubEdge"]


def _alert_nodes_of_pattern(tables: Tables, idx: GraphIndex, pattern: str) -> list[int]:
    alerts = tables.nodes("Alert")
    if not len(alerts) or "pattern" not in alerts.columns:
        raise NotFound(f"no alerts of pattern {pattern!r} in the store (alerts are written by `graphiff detect`)")
    a = alerts[alerts["pattern"].astype(str) == str(pattern)]
    if not len(a):
        known = sorted(alerts["pattern"].dropna().astype(str).unique())
        hint = f"; patterns in the store: {', '.join(known)}" if known else ""
        raise NotFound(f"no alerts of pattern {pattern!r} in the store{hint}")
    score = pd.to_numeric(a["score"], errors="coerce").fillna(0.0) if "score" in a.columns else 0.0
    a = a.assign(_score=score).sort_values(["_score", "key"], ascending=[False, True], kind="stable")
    return [idx.find("Alert", str(k)) for k in a["key"]]


def select(store_or_tables: Store | Tables, seeds: Iterable[str] = (), alert: str | Iterable[str] | None = None,
           pattern: str | None = None, hops: int = 1, rel_types: list[str] | None = None,
           date_from: str | None = None, date_to: str | None = None, max_nodes: int = 500,
           types: list[str] | None = None, hub_limit: int | None = None) -> Subgraph:
    """Choose the subgraph around seeds for a link chart or a sharing package.

    Parameters
    ----------
    store_or_tables : Store or Tables
        Where the graph is.
    seeds : list of str
        Entity ids: node keys (looked up under every label; all matches are seeds) or
        ``Label:key``. An alert id given as a seed counts as ``alert``.
    alert : str or list of str, optional
        An alert id, or several: the entities each flags become seeds (in the order given) and
        the Alert nodes are included.
    pattern : str, optional
        Every alert of this pattern (highest score first) as with ``alert``.
    hops : int
        How far to walk from the seeds (0 = the seeds only).
    rel_types : list of str, optional
        Walk only these relationship types (default: all but FLAGS). Edges of other types
        between chosen nodes are left out too.
    date_from, date_to : str, optional
        ``YYYY-MM-DD`` (or ``YYYY-MM``, ``YYYY``) bounds, inclusive. Declarations, payments and
        cash reports dated outside are neither shown nor walked through (seeds excepted), nor
        are relationships whose ``date`` (or ``start_date``..``end_date`` period) lies outside.
    max_nodes : int
        Node cap. The most relevant nodes are kept: seeds first (in the order given), then by
        hop distance, then nodes flagged by more alerts, then better-connected nodes; a node is
        only kept together with a kept neighbour that links it to the seeds, so the chart stays
        connected. Alerts flagging a kept node are kept (they count against the cap).
    types : list of str, optional
        Node labels to reach (default: all). Records (declarations, payments, cash reports)
        are still passed through, as every hop does, and kept, so that
        :func:`graphiff.graph.view.aggregate` can fold them into links;
        :func:`graphiff.graph.view.only_types` drops them afterwards. Seeds are always kept.
    hub_limit : int, optional
        A node with more relationships than this (under the type and date filters) is shown
        but not walked through -- a shipping line or a vessel on thousands of declarations
        would otherwise pull them all in -- and ``hubs`` says what it holds, counted by label.
        None or 0: no limit (Country nodes are never walked through).

    Returns
    -------
    Subgraph
        ``nodes`` (seeds first; ``props`` are all properties incl. provenance), ``edges``
        (every walkable relationship between kept nodes, plus FLAGS from kept alerts),
        ``omitted`` (label -> nodes within reach that the cap left out), ``hubs`` (node id ->
        its neighbours by label, for every kept node above ``hub_limit``: such a node is not
        walked through, and expanding it gives this summary), ``seeds``, ``title``.

    Raises
    ------
    NotFound
        An unknown seed or alert (any of several), or a pattern without alerts.

    Examples
    --------
    Two shipments, T1 to T2 (declaration D1, 2023) and T2 to T3 (D2, 2024):

    >>> decls = pd.DataFrame({"key": ["D1", "D2"], "date": ["2023-05-01", "2024-02-15"]})
    >>> exported = pd.DataFrame({"src_label": "Trader", "src": ["T1", "T2"],
    ...                          "dst_label": "Declaration", "dst": ["D1", "D2"]})
    >>> imported = pd.DataFrame({"src_label": "Declaration", "src": ["D1", "D2"],
    ...                          "dst_label": "Trader", "dst": ["T2", "T3"]})
    >>> tables = Tables.from_frames(nodes={"Declaration": decls}, rels={"EXPORTED": exported, "IMPORTED_BY": imported})
    >>> sub = select(tables, seeds=["T1"], hops=2, max_nodes=3)
    >>> [n.id for n in sub.nodes], sub.omitted
    (['Trader:T1', 'Declaration:D1', 'Trader:T2'], {'Declaration': 1, 'Trader': 1})
    >>> [n.id for n in select(tables, seeds=["T2"], hops=1, date_from="2024-01-01").nodes]
    ['Trader:T2', 'Declaration:D2', 'Trader:T3']

    Cost: the adjacency index of the store is built once per ``Tables`` (O(nodes +
    relationships)); the walk is vectorised, O(relationships touched) per hop; keeping the
    cap is O(max_nodes · log) plus the neighbours of kept nodes.
    """
    if isinstance(store_or_tables, Tables):
        tables = store_or_tables
    elif isinstance(store_or_tables, Store):
        tables = Tables(store_or_tables)
    else:
        raise GraphiffError(f"expected a Store or Tables, got {type(store_or_tables).__name__}")
    if hops < 0:
        raise GraphiffError("hops must be 0 or more")
    if max_nodes < 1:
        raise GraphiffError("max_nodes must be at least 1")
    date_from = check_date(date_from, "--from date")
    date_to = check_date(date_to, "--to date")
    if date_from and date_to and date_from[:len(date_to)] > date_to[:len(date_from)]:
        raise GraphiffError(f"the date range is empty: {date_from} is after {date_to}")
    seeds = [str(s) for s in (seeds or []) if str(s).strip()]
    alerts = [alert] if isinstance(alert, str) else [str(a) for a in alert or ()]
    if not seeds and not alerts and pattern is None:
        raise GraphiffError("give at least one seed id, an alert id or a pattern")
    idx = graph_index(tables)
    is_alert = idx.is_alert

    # ---- seeds, in order: alerts first with their entities, then entity seeds -------------
    order: list[int] = []
    seen: set[int] = set()

    def add(i: int) -> None:
        if i not in seen:
            seen.add(i)
            order.append(int(i))

    def add_alert(a: int) -> None:
        add(a)
        for e in idx.flagged_by_alert(a).tolist():
            add(e)

    if pattern is not None:
        for a in _alert_nodes_of_pattern(tables, idx, pattern):
            add_alert(a)
    for alert_id in alerts:
        a = idx.find("Alert", alert_id)
        if a < 0:
            raise NotFound(f"no alert {alert_id!r} in the store (alerts are written by `graphiff detect`)")
        add_alert(a)
    for s in seeds:
        for i in idx.resolve(s):
            add_alert(i) if is_alert[i] else add(i)
    seed_arr = np.asarray(order, dtype=np.int64)

    # ---- the walk ----------------------------------------------------------------------------
    node_ok = idx.node_date_ok(date_from, date_to)
    if types is not None:
        for t in types:
            model().node(str(t))           # unknown label -> GraphiffError naming it
        node_ok &= idx.label_mask([*types, *RECORD_LABELS, "Alert"])
    node_ok[seed_arr] = True
    edge_ok = idx.edge_mask(rel_types, date_from, date_to, node_ok)
    walk_from = seed_arr[~is_alert[seed_arr]]
    dist = idx.expand(walk_from, hops, edge_ok, hub_limit=hub_limit)
    dist[seed_arr] = 0
    cand = dist >= 0

    # ---- the cap: best-first from the seeds, only along walkable edges -----------------------
    included = np.zeros(idx.n, dtype=bool)
    queued = np.zeros(idx.n, dtype=bool)
    kept: list[int] = []
    degree, alerts_n = idx.degree, idx.alert_count
    heap: list[tuple] = [(0, r, 0, 0, int(i)) for r, i in enumerate(order)]
    queued[seed_arr] = True
    heapq.heapify(heap)
    while heap and len(kept) < max_nodes:
        *_, i = heapq.heappop(heap)
        if included[i]:
            continue
        included[i] = True
        kept.append(i)
        for a in idx.alerts_of(i).tolist():
            if not included[a] and len(kept) < max_nodes:
                included[a] = True
                kept.append(int(a))
        if is_alert[i]:
            continue
        lo, hi = idx.indptr[i], idx.indptr[i + 1]
        nb = idx.h_nbr[lo:hi]
        m = edge_ok[idx.h_edge[lo:hi]]
        nb = nb[m]
        nb = np.unique(nb[cand[nb] & ~queued[nb]])
        if len(nb):
            queued[nb] = True
            for j, d, ac, dg in zip(nb.tolist(), dist[nb].tolist(), alerts_n[nb].tolist(), degree[nb].tolist()):
                heapq.heappush(heap, (1, d, -ac, -dg, j))

    kept_arr = np.asarray(kept, dtype=np.int64)
    # what the cap left out: nodes within reach, and alerts on them, not kept
    left = np.flatnonzero(cand & ~included)
    omitted: dict[str, int] = {}
    if len(left):
        codes, counts = np.unique(idx.node_label[left], return_counts=True)
        omitted = {idx.labels[int(c)]: int(n) for c, n in zip(codes, counts)}
    al, _ = idx.alerts_for(np.flatnonzero(cand))
    al = np.unique(al)
    missed = int((~included[al]).sum()) if len(al) else 0
    if missed:
        omitted["Alert"] = omitted.get("Alert", 0) + missed

    sub = _build(tables, idx, kept_arr, included, edge_ok, seed_arr, omitted,
                 _title(seeds, alerts, pattern, hops, date_from, date_to))
    walked = kept_arr[~is_alert[kept_arr]]
    sub.hubs = {idx.node_id(int(i)): idx.neighbour_counts(int(i), edge_ok)
                for i in idx.hubs_among(walked, hub_limit, edge_ok).tolist()}
    return sub


def _title(seeds: list[str], alerts: list[str], pattern: str | None, hops: int, date_from: str | None,
           date_to: str | None) -> str:
    parts = []
    if pattern:
        parts.append(f"alerts of pattern {pattern}")
    if alerts:
        parts.append(f"alert{'s' if len(alerts) > 1 else ''} {', '.join(alerts)}")
    if seeds:
        shown = ", ".join(seeds[:5]) + (f" and {len(seeds) - 5} more" if len(seeds) > 5 else "")
        parts.append(shown)
    title = "graphiff link chart: " + "; ".join(parts) + f" ({hops} hop{'s' if hops != 1 else ''}"
    if date_from or date_to:
        title += f", {date_from or '...'} to {date_to or '...'}"
    return title + ")"


def _build(tables: Tables, idx: GraphIndex, kept: np.ndarray, included: np.ndarray, edge_ok: np.ndarray,
           seed_arr: np.ndarray, omitted: dict[str, int], title: str) -> Subgraph:
    props = node_props(tables, idx, kept)
    labels = {int(i): idx.labels[int(c)] for i, c in zip(kept.tolist(), idx.node_label[kept].tolist())}
    keys = dict(zip(kept.tolist(), idx.keys_of(kept).tolist()))
    ids = {i: node_id(labels[i], keys[i]) for i in labels}
    nodes = [SubNode(id=ids[i], label=labels[i], key=keys[i], caption=caption_of(labels[i], keys[i], props[i]),
                     props=props[i]) for i in kept.tolist()]
    edges: list[SubEdge] = []
    m = model()
    # the relationships between kept nodes, found from the kept nodes' own adjacency
    pos, _origin = idx.gather(kept)
    pos = pos[included[idx.h_nbr[pos]]]
    eids = np.unique(idx.h_edge[pos])
    eids = eids[edge_ok[eids]]
    groups = []
    for t in np.unique(idx.e_type[eids]):
        e = eids[idx.e_type[eids] == t]
        groups.append((idx.rel_types[int(t)], idx.e_row[e], idx.e_src[e], idx.e_dst[e]))
    fsel = np.flatnonzero(included[idx.f_alert] & included[idx.f_node])
    if len(fsel):
        groups.append(("FLAGS", idx.f_row[fsel], idx.f_alert[fsel], idx.f_node[fsel]))
    seen: set[str] = set()
    for rtype, rows, srcs, dsts in groups:
        frame = tables.rels(rtype)
        ident_cols = m.rel(rtype).identity
        recs = records(frame.iloc[rows])
        for s, d, rec in zip(srcs.tolist(), dsts.tolist(), recs):
            p = {str(k): pv for k, v in rec.items() if k not in REL_ENDS and (pv := plain_value(v)) is not None}
            ident = rel_ident(p.get(c) for c in ident_cols)
            eid = rel_id(rtype, labels[s], keys[s], labels[d], keys[d], ident)
            if eid in seen:
                continue
            seen.add(eid)
            edges.append(SubEdge(id=eid, source=ids[s], target=ids[d], type=rtype, props=p))
    return Subgraph(nodes=nodes, edges=edges, omitted=dict(sorted(omitted.items())),
                    seeds=[ids[int(i)] for i in seed_arr if included[i]], title=title)


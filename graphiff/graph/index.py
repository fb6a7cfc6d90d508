"""The adjacency index of the whole graph, and node descriptions read through it.

:func:`graph_index` turns the node and relationship tables of a :class:`Tables` into integer
arrays (:class:`GraphIndex`): nodes ``0..N-1`` numbered label by label, relationships as
source/target arrays, an undirected CSR adjacency, and the FLAGS of alerts kept apart. It is
built once per ``Tables`` and shared by the analyst queries of :mod:`graphiff.explore` and
the subgraph selection of :mod:`graphiff.graph.select`.

How hops are counted
--------------------
Records -- ``Declaration``, ``Payment``, ``CashReport`` -- are the *links* between entities: a
declaration joins its exporter, importer, agent, carrier, conveyance and containers. One hop
(:meth:`GraphIndex.expand`) goes from an entity to the entities next to it, directly
(``HOLDS``, ``OFFICER_OF``, ``LOCATED_AT``...) or through a record (or a record settling a
record, e.g. a payment that settles a declaration); the records passed through are part of that
hop. So one hop from a trader reaches its trading partners, carriers, accounts, officers and
shared identifiers.

``Country`` nodes are reached but never passed through (every trader of a country would
otherwise be two hops from every other). Alerts are not traversed either: they are reported
for the nodes they flag.

>>> check_date("2024-03", "date_from")
'2024-03'
"""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np
import pandas as pd

from graphiff.errors import GraphiffError, NotFound
from graphiff.graph.adjacency import HUB_LABELS, NOT_TRAVERSED, RECORD_LABELS, adjacency_arrays
from graphiff.graph.columns import records
from graphiff.graph.resolution import RESOLVABLE
from graphiff.graph.tables import Tables
from graphiff.model import model
from graphiff.model.cells import plain_value
from graphiff.model.identity import node_id

__all__ = ["GraphIndex", "graph_index", "node_props", "caption_of", "check_date",
           "RECORD_LABELS", "HUB_LABELS", "NOT_TRAVERSED"]


_DATE_ARG = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")

# =============================================================================================
# The adjacency index
# =============================================================================================

@dataclass
class GraphIndex:
    """The whole graph as integer arrays: nodes ``0..N-1``, relationships ``0..E-1``.

    Nodes are numbered label by label (``label_offset``); ``keys[label]`` holds the keys of a
    label in that order. ``node_label`` (code into ``labels``), ``node_row`` (row in
    ``tables.nodes(label)``, -1 for a node only named by a relationship), ``node_date`` (ISO
    date of records, else missing). Relationships (all types but FLAGS): ``e_src``, ``e_dst``,
    ``e_type`` (code into ``rel_types``), ``e_row`` (row in ``tables.rels(type)``), and the
    optional ``e_date``/``e_start``/``e_end`` property columns. ``indptr``/``h_nbr``/``h_edge``
    are the undirected adjacency (CSR over both directions). FLAGS are kept apart:
    ``f_alert``/``f_node``/``f_row``, with ``f_indptr``/``f_by_node`` (alerts of a node) and
    ``a_indptr``/``a_by_alert`` (nodes of an alert).
    """

    labels: list[str]
    label_offset: np.ndarray
    keys: dict[str, pd.Index]
    node_label: np.ndarray
    node_row: np.ndarray
    node_date: pd.Series
    rel_types: list[str]
    e_src: np.ndarray
    e_dst: np.ndarray
    e_type: np.ndarray
    e_row: np.ndarray
    e_date: pd.Series | None
    e_start: pd.Series | None
    e_end: pd.Series | None
    indptr: np.ndarray
    h_nbr: np.ndarray
    h_edge: np.ndarray
    f_alert: np.ndarray
    f_node: np.ndarray
    f_row: np.ndarray
    f_indptr: np.ndarray
    f_by_node: np.ndarray
    a_indptr: np.ndarray
    a_by_alert: np.ndarray
    #: label -> record key -> resolved id, for the records entity resolution joined (a record
    #: key given to :meth:`find` names its resolved entity); empty for the records as loaded
    alias: dict[str, dict[str, str]] = field(default_factory=dict)

    # ---- sizes and masks -------------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.node_label)

    @property
    def degree(self) -> np.ndarray:
        """Relationships (FLAGS excepted) at each node, both directions (computed once)."""
        return self._cached("_degree", lambda: np.diff(self.indptr))

    @property
    def alert_count(self) -> np.ndarray:
        """Alerts flagging each node (computed once)."""
        return self._cached("_alert_count", lambda: np.diff(self.f_indptr))

    def label_mask(self, labels: Iterable[str]) -> np.ndarray:
        """True for the nodes of ``labels`` (labels the index lacks are ignored)."""
        wanted = np.zeros(len(self.labels) + 1, dtype=bool)
        wanted[[self.labels.index(x) for x in labels if x in self.labels]] = True
        return wanted[self.node_label]

    @property
    def is_record(self) -> np.ndarray:
        return self._cached("_is_record", lambda: self.label_mask(RECORD_LABELS))

    @property
    def is_hub(self) -> np.ndarray:
        return self._cached("_is_hub", lambda: self.label_mask(HUB_LABELS))

    @property
    def is_alert(self) -> np.ndarray:
        return self._cached("_is_alert", lambda: self.label_mask(["Alert"]))

    @property
    def node_key(self) -> np.ndarray:
        """Keys of all nodes as one object array (built on first use)."""
        return self._cached("_node_key", lambda: np.concatenate(
            [self.keys[lab].to_numpy(dtype=object) for lab in self.labels]) if self.n else np.empty(0, object))

    def _cached(self, name: str, fn):
        v = self.__dict__.get(name)
        if v is None:
            v = fn()
            self.__dict__[name] = v
        return v

    # ---- names -----------------------------------------------------------------------------
    def label(self, i: int) -> str:
        """Label of node ``i``."""
        return self.labels[int(self.node_label[i])]

    def key(self, i: int) -> str:
        """Key of node ``i``."""
        code = int(self.node_label[i])
        return str(self.keys[self.labels[code]][int(i) - int(self.label_offset[code])])

    def keys_of(self, nodes: np.ndarray) -> np.ndarray:
        """Keys of ``nodes`` as an object array (one vectorised take per label, where
        :meth:`key` costs a scalar look-up each)."""
        nodes = np.asarray(nodes, dtype=np.int64)
        out = np.empty(len(nodes), dtype=object)
        codes = self.node_label[nodes]
        for c in np.unique(codes).tolist():
            sel = codes == c
            keys = self.keys[self.labels[c]]
            out[sel] = keys.take(nodes[sel] - int(self.label_offset[c])).to_numpy(dtype=object)
        return np.asarray([str(k) for k in out], dtype=object) if len(out) else out

    def node_id(self, i: int) -> str:
        """``"{label}:{key}"`` of node ``i`` (the id used in subgraphs and exports)."""
        return node_id(self.label(i), self.key(i))

    def find(self, label: str, key: str) -> int:
        """Node number of ``(label, key)``, or -1; a record that entity resolution joined to
        others finds its resolved entity."""
        keys = self.keys.get(label)
        if keys is None or not len(keys):
            return -1
        hit = np.flatnonzero(np.asarray(keys == str(key)))
        if not len(hit) and str(key) in self.alias.get(label, {}):
            hit = np.flatnonzero(np.asarray(keys == self.alias[label][str(key)]))
        return int(self.label_offset[self.labels.index(label)] + hit[0]) if len(hit) else -1

    def resolve(self, ref: str) -> list[int]:
        """The nodes an id names: ``"Label:key"``, or a bare key looked up under every label
        (all matches). Raises :class:`NotFound`."""
        ref = str(ref).strip()
        if ":" in ref:
            label, key = ref.split(":", 1)
            if label in self.keys:
                i = self.find(label, key)
                if i < 0:
                    raise NotFound(f"no {label} with key {key!r} in the store")
                return [i]
        hits = [i for label in self.labels if (i := self.find(label, ref)) >= 0]
        if not hits:
            raise NotFound(f"no node with id {ref!r} in the store (give a node key such as a trader_id, "
                           "or Label:key)")
        return hits

    def resolve_one(self, ref: str) -> int:
        """Like :meth:`resolve` but one node only; an id shared by several labels must be
        written ``Label:key``."""
        hits = self.resolve(ref)
        if len(hits) > 1:
            names = ", ".join(self.node_id(i) for i in hits)
            raise GraphiffError(f"id {ref!r} names several nodes ({names}); say which one as Label:key")
        return hits[0]

    def alerts_of(self, i: int) -> np.ndarray:
        """Alert node numbers flagging node ``i``."""
        return self.f_by_node[self.f_indptr[i]:self.f_indptr[i + 1]]

    def flagged_by_alert(self, a: int) -> np.ndarray:
        """Node numbers an alert node flags."""
        return self.a_by_alert[self.a_indptr[a]:self.a_indptr[a + 1]]

    def alerts_for(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(alert, node)`` pairs: the alerts flagging each of ``nodes``."""
        pos, origin = _csr_gather(self.f_indptr, nodes)
        return self.f_by_node[pos], origin

    # ---- filters -----------------------------------------------------------------------------
    def node_date_ok(self, date_from: str | None = None, date_to: str | None = None) -> np.ndarray:
        """True for nodes without a date and records dated inside ``[date_from, date_to]``."""
        return self._dates_ok("node_date", date_from, date_to)

    def _dates_ok(self, name: str, date_from: str | None, date_to: str | None) -> np.ndarray:
        """Which entries of the date column ``name`` pass the range: undated ones do, dated ones
        must lie inside (a bound ``YYYY`` or ``YYYY-MM`` covers the whole year or month). The
        dates are read once per index as ``YYYYMMDD`` integers, so a request with a date range
        costs two integer comparisons per node or relationship."""
        days = self._cached(f"_{name}_int", lambda: _date_ints(getattr(self, name)))
        return _int_date_ok(days, date_from, date_to)

    def edge_mask(self, rel_types: Iterable[str] | None = None, date_from: str | None = None,
                  date_to: str | None = None, node_ok: np.ndarray | None = None) -> np.ndarray:
        """Relationships usable for a walk: of ``rel_types`` (all when None), dated inside the
        range (``date``, or a ``start_date``..``end_date`` period overlapping it), with both
        ends allowed by ``node_ok``."""
        ok = np.ones(len(self.e_src), dtype=bool)
        if rel_types is not None:
            wanted = np.zeros(len(self.rel_types) + 1, dtype=bool)
            for t in rel_types:
                model().rel(str(t))          # unknown type -> GraphiffError naming it
                if t in self.rel_types:
                    wanted[self.rel_types.index(t)] = True
            ok &= wanted[self.e_type]
        if date_from or date_to:
            if self.e_date is not None:
                ok &= self._dates_ok("e_date", date_from, date_to)
            if self.e_start is not None and date_to:
                ok &= self._dates_ok("e_start", None, date_to)
            if self.e_end is not None and date_from:
                ok &= self._dates_ok("e_end", date_from, None)
        if node_ok is not None and not node_ok.all():
            ok &= node_ok[self.e_src] & node_ok[self.e_dst]
        return ok

    # ---- walking -----------------------------------------------------------------------------
    def gather(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Half-edge positions incident to ``nodes`` and the node each comes from (vectorised)."""
        return _csr_gather(self.indptr, nodes)

    def degree_within(self, nodes: np.ndarray, edge_ok: np.ndarray | None = None) -> np.ndarray:
        """Relationships at each of ``nodes`` (both directions) that ``edge_ok`` allows."""
        nodes = np.asarray(nodes, dtype=np.int64)
        if edge_ok is None:
            return self.degree[nodes]
        pos, origin = self.gather(nodes)
        ok = edge_ok[self.h_edge[pos]]
        counts = pd.Series(ok).groupby(origin).sum() if len(pos) else pd.Series(dtype="int64")
        return counts.reindex(nodes, fill_value=0).to_numpy(dtype=np.int64)

    def hubs_among(self, nodes: np.ndarray, hub_limit: int | None, edge_ok: np.ndarray | None = None) -> np.ndarray:
        """The ``nodes`` with more than ``hub_limit`` allowed relationships (none when the limit
        is None or 0). Only nodes above the limit in the whole graph are counted again under
        the filters, so the check costs O(relationships of the few big nodes)."""
        nodes = np.asarray(nodes, dtype=np.int64)
        if not hub_limit or not len(nodes):
            return np.empty(0, dtype=np.int64)
        big = nodes[self.degree[nodes] > hub_limit]
        if not len(big):
            return big
        return big[self.degree_within(big, edge_ok) > hub_limit]

    def neighbour_counts(self, i: int, edge_ok: np.ndarray | None = None) -> dict[str, int]:
        """Relationships of node ``i`` that ``edge_ok`` allows, counted by the label of the
        node at their other end (a carrier on 3,400 declarations: ``{"Declaration": 3400}``).
        Cost: O(relationships of ``i``)."""
        lo, hi = self.indptr[i], self.indptr[i + 1]
        nb = self.h_nbr[lo:hi]
        if edge_ok is not None:
            nb = nb[edge_ok[self.h_edge[lo:hi]]]
        counts = np.bincount(self.node_label[nb], minlength=len(self.labels))
        return {self.labels[c]: int(n) for c, n in enumerate(counts.tolist()) if n}

    def expand(self, seeds: Iterable[int], hops: int, edge_ok: np.ndarray | None = None,
               hub_limit: int | None = None) -> np.ndarray:
        """Hop distance of every node from ``seeds`` (-1 = not reached within ``hops``).

        A hop reaches the neighbours of the frontier over allowed relationships; records it
        reaches pass the walk on to their other ends within the same hop; hubs (Country) are
        not passed through unless they are seeds, nor -- with ``hub_limit`` -- nodes with more
        allowed relationships than the limit (a shipping line or a vessel on thousands of
        declarations), seeds included. Cost: O(edges touched) per hop, vectorised.
        """
        dist = np.full(self.n, -1, dtype=np.int32)
        frontier = np.unique(np.asarray(list(seeds), dtype=np.int64))
        dist[frontier] = 0
        if hub_limit:
            frontier = np.setdiff1d(frontier, self.hubs_among(frontier, hub_limit, edge_ok))
        mark = np.zeros(self.n, dtype=bool)
        is_rec, is_hub = self.is_record, self.is_hub
        for h in range(1, int(hops) + 1):
            if not len(frontier):
                break
            reached = []
            cur = frontier
            for _ in range(4):                 # a record may pass on to a record (payment -> declaration)
                pos, _origin = self.gather(cur)
                if edge_ok is not None and len(pos):
                    pos = pos[edge_ok[self.h_edge[pos]]]
                nb = self.h_nbr[pos]
                nb = nb[dist[nb] < 0]
                if not len(nb):
                    break
                if len(nb) > self.n // 64:     # de-duplicate: a mask is cheaper than sorting many ids
                    mark[nb] = True
                    nb = np.flatnonzero(mark)
                    mark[nb] = False
                else:
                    nb = np.unique(nb)
                dist[nb] = h
                reached.append(nb)
                cur = nb[is_rec[nb]]
                if not len(cur):
                    break
            if not reached:
                break
            allr = np.concatenate(reached)
            frontier = allr[~is_rec[allr] & ~is_hub[allr]]
            if hub_limit and h < hops:
                frontier = np.setdiff1d(frontier, self.hubs_among(frontier, hub_limit, edge_ok))
        return dist

    def links(self, members: np.ndarray, ends: np.ndarray, edge_ok: np.ndarray | None = None) -> pd.DataFrame:
        """Entity-to-entity links inside ``members`` (a node mask): rows ``u, v, how, r1, r2``.

        ``ends`` marks the nodes a link may start or end at (entities); the other members that
        are records can be passed through (one record, or two joined by a relationship).
        ``how`` describes the link read from ``u`` to ``v``, e.g.
        ``-[EXPORTED]-> Declaration -[IMPORTED_BY]->``; ``r1``/``r2`` are the records passed
        (-1 when none). Both directions are listed.
        """
        ok = members[self.e_src] & members[self.e_dst]
        if edge_ok is not None:
            ok &= edge_ok
        eids = np.flatnonzero(ok)
        s, d, t = self.e_src[eids], self.e_dst[eids], self.e_type[eids].astype(np.int64)
        a = np.concatenate([s, d])
        b = np.concatenate([d, s])
        arrow = _arrows(self.rel_types)[np.concatenate([t * 2 + 1, t * 2])]
        via = self.is_record & ~ends
        a_end, b_end, a_via, b_via = ends[a], ends[b], via[a], via[b]
        labs = np.asarray(self.labels, dtype=object)
        out = []
        m = a_end & b_end
        out.append(pd.DataFrame({"u": a[m], "v": b[m], "how": arrow[m], "r1": -1, "r2": -1}))
        m1, m2 = a_end & b_via, a_via & b_end
        left = pd.DataFrame({"u": a[m1], "r": b[m1], "h1": arrow[m1]})
        right = pd.DataFrame({"r": a[m2], "v": b[m2], "h2": arrow[m2]})
        if len(left) and len(right):
            one = left.merge(right, on="r")
            one = one[one["u"].to_numpy() != one["v"].to_numpy()]
            if len(one):
                lab = labs[self.node_label[one["r"].to_numpy()]]
                out.append(pd.DataFrame({"u": one["u"].to_numpy(), "v": one["v"].to_numpy(),
                                         "how": one["h1"].to_numpy(dtype=object) + " " + lab + " "
                                         + one["h2"].to_numpy(dtype=object),
                                         "r1": one["r"].to_numpy(), "r2": -1}))
            mm = a_via & b_via
            if mm.any():
                mid = pd.DataFrame({"r": a[mm], "q": b[mm], "hm": arrow[mm]})
                two = left.merge(mid, on="r").merge(right.rename(columns={"r": "q"}), on="q")
                two = two[two["u"].to_numpy() != two["v"].to_numpy()]
                if len(two):
                    lr = labs[self.node_label[two["r"].to_numpy()]]
                    lq = labs[self.node_label[two["q"].to_numpy()]]
                    out.append(pd.DataFrame({
                        "u": two["u"].to_numpy(), "v": two["v"].to_numpy(),
                        "how": two["h1"].to_numpy(dtype=object) + " " + lr + " " + two["hm"].to_numpy(dtype=object)
                        + " " + lq + " " + two["h2"].to_numpy(dtype=object),
                        "r1": two["r"].to_numpy(), "r2": two["q"].to_numpy()}))
        res = pd.concat(out, ignore_index=True)
        return res.astype({"u": "int64", "v": "int64", "r1": "int64", "r2": "int64", "how": object})


def _csr_gather(indptr: np.ndarray, nodes) -> tuple[np.ndarray, np.ndarray]:
    nodes = np.asarray(nodes, dtype=np.int64)
    starts = indptr[nodes]
    lens = indptr[nodes + 1] - starts
    total = int(lens.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    offs = np.cumsum(lens) - lens
    pos = np.arange(total, dtype=np.int64) + np.repeat(starts - offs, lens)
    return pos, np.repeat(nodes, lens)


def _arrows(rel_types: list[str]) -> np.ndarray:
    """Arrow text per ``2 * type + forward``."""
    out = []
    for t in rel_types:
        out += [f"<-[{t}]-", f"-[{t}]->"]
    return np.asarray(out, dtype=object)


def check_date(value: str | None, what: str) -> str | None:
    """Validate a date bound: ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` naming a real year, month
    or day; None passes.

    >>> check_date("2024-02-29", "--from")
    '2024-02-29'
    >>> check_date("2025-13-01", "--from")
    Traceback (most recent call last):
    ...
    graphiff.errors.GraphiffError: --from '2025-13-01' is not a date: use a real YYYY-MM-DD (or YYYY-MM, YYYY)
    """
    if value is None or value == "":
        return None
    v = str(value).strip()
    m = _DATE_ARG.match(v)
    try:
        if not m:
            raise ValueError(v)
        parts = [int(x) for x in v.split("-")]
        _dt.date(parts[0], *(parts[1:] + [1, 1])[:2])
    except ValueError:
        raise GraphiffError(f"{what} {value!r} is not a date: use a real YYYY-MM-DD (or YYYY-MM, YYYY)") from None
    return v


def _date_ints(dates: pd.Series) -> np.ndarray:
    """ISO dates as ``YYYYMMDD`` integers; 0 for a missing or unreadable date (which passes
    every range)."""
    s = dates.astype("string").str.slice(0, 10)
    digits = s.str.replace("-", "", regex=False)
    ok = digits.str.fullmatch(r"\d{8}").fillna(False).to_numpy(dtype=bool)
    out = np.zeros(len(s), dtype=np.int64)
    if ok.any():
        out[ok] = digits[ok].astype("int64").to_numpy()
    return out


def _int_date_ok(days: np.ndarray, date_from: str | None, date_to: str | None) -> np.ndarray:
    """Which of ``days`` (:func:`_date_ints`) pass ``[date_from, date_to]``: undated ones do;
    a bound ``YYYY`` or ``YYYY-MM`` covers the whole year or month.

    >>> days = _date_ints(pd.Series(["2024-02-29", None, "2024-03-01", "2023-12-31"]))
    >>> _int_date_ok(days, "2024", "2024-02").tolist()
    [True, True, False, False]
    """
    date_from = check_date(date_from, "date_from")
    date_to = check_date(date_to, "date_to")
    ok = np.ones(len(days), dtype=bool)
    if not (date_from or date_to):
        return ok
    dated = days > 0
    if date_from:
        lo = int((date_from.replace("-", "") + "0000")[:8])
        ok &= ~dated | (days >= lo)
    if date_to:
        hi = int((date_to.replace("-", "") + "9999")[:8])
        ok &= ~dated | (days <= hi)
    return ok


def graph_index(tables: Tables) -> GraphIndex:
    """The adjacency index of ``tables`` (built on first use, then cached for this ``Tables``).

    Reads every node and relationship table once. Cost: O(N + E): one hash pass over the keys
    of each label (node keys and relationship ends together) and a sort of the 2E half-edges;
    for a store of 1M declarations (about 6M relationships) seconds and a few hundred MB.
    """
    return tables.memo("graph_index", lambda: GraphIndex(**adjacency_arrays(tables), alias=tables.resolution.rep))


# =============================================================================================
# Node descriptions
# =============================================================================================

def node_props(tables: Tables, idx: GraphIndex, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Properties (incl. provenance, without ``key``; missing values dropped) of nodes ``ids``.

    Records (declarations, payments, cash reports...) show their values as filed, also in the
    resolved view: a declaration's ``exporter_id`` is the id its line holds, not the resolved id
    of the trader (the graph links it to the resolved entity, which lists that id among its
    aliases)."""
    ids = np.asarray(list(ids), dtype=np.int64)
    out: dict[int, dict[str, Any]] = {int(i): {} for i in ids}
    if not len(ids):
        return out
    labs = idx.node_label[ids]
    for code in np.unique(labs):
        sel = ids[labs == code]
        rows = idx.node_row[sel]
        have = rows >= 0
        if not have.any():
            continue
        label = idx.labels[int(code)]
        # the resolved view rewrites a record's references but keeps its rows in order
        frame = tables.nodes(label) if label in RESOLVABLE else tables.raw.nodes(label)
        recs = records(frame.iloc[rows[have]])
        for i, rec in zip(sel[have], recs):
            out[int(i)] = {str(k): pv for k, v in rec.items() if k != "key" and (pv := plain_value(v)) is not None}
    return out


def caption_of(label: str, key: str, props: dict[str, Any]) -> str:
    """What to print for a node: the schema's caption property, else the key."""
    nt = model().nodes.get(label)
    v = props.get(nt.caption) if nt else None
    return str(v) if v not in (None, "") else str(key)

"""Exploring the network: neighbourhoods, paths, communities and centrality.

What an analyst asks first: *what is this trader connected to, and through which records?*
(:func:`neighbourhood`), *how are these two connected?* (:func:`paths`), *which groups trade or
pay mostly among themselves?* (:func:`communities`) and *who sits in the middle?*
(:func:`centrality`).

All functions take a :class:`graphiff.projections.Tables`, so they run the same on every store.
Neighbourhoods and paths use one in-memory adjacency index of the whole graph
(:func:`graph_index`), built once per ``Tables`` and shared with the link-chart selection
(:func:`graphiff.export.subgraph.select`).

How hops are counted
--------------------
Records -- ``Declaration``, ``Payment``, ``CashReport`` -- are the *links* between entities: a
declaration joins its exporter, importer, agent, carrier, conveyance and containers. One hop
goes from an entity to the entities next to it, directly (``HOLDS``, ``OFFICER_OF``,
``LOCATED_AT``...) or through a record (or a record settling a record, e.g. a payment that
settles a declaration); the records passed through are part of that hop. So one hop from a
trader reaches its trading partners, carriers, accounts, officers and shared identifiers.

``Country`` nodes are reached but never passed through (every trader of a country would
otherwise be two hops from every other). Alerts are not traversed either: they are reported
for the nodes they flag.
"""
from __future__ import annotations

import random
import re
import weakref
from dataclasses import dataclass
from typing import Any, Iterable, Literal

import numpy as np
import pandas as pd

from graphiff.errors import GraphiffError, NotFound
from graphiff.projections import Tables
from graphiff.schema import model

#: Labels whose nodes are records linking entities (one hop passes through them).
RECORD_LABELS = ("Declaration", "Payment", "CashReport")
#: Labels reached but never passed through (hubs that would link everything).
HUB_LABELS = ("Country",)
#: Relationship types that are not traversed (alerts are reported, not walked through).
NOT_TRAVERSED = ("FLAGS",)

PROJECTIONS = ("trade", "money", "carrier", "ownership", "all")
COMMUNITY_METHODS = ("leiden", "louvain")
CENTRALITY_MEASURES = ("betweenness", "degree", "pagerank")

_DATE_ARG = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


# =============================================================================================
# The adjacency index
# =============================================================================================

@dataclass
class GraphIndex:
    """The whole graph as integer arrays: nodes ``0..N-1``, relationships ``0..E-1``.

    Nodes: ``node_label`` (code into ``labels``), ``node_key``, ``node_row`` (row in
    ``tables.nodes(label)``, -1 for a node only named by a relationship), ``node_date`` (ISO
    date of records, else None). Relationships (all types but FLAGS): ``e_src``, ``e_dst``,
    ``e_type`` (code into ``rel_types``), ``e_row`` (row in ``tables.rels(type)``), and the
    optional ``e_date``/``e_start``/``e_end`` property arrays. ``indptr``/``h_nbr``/``h_edge``
    are the undirected adjacency (CSR over both directions). FLAGS are kept apart:
    ``f_alert``/``f_node``/``f_row``, with ``f_indptr``/``f_by_node`` (alerts of a node) and
    ``a_indptr``/``a_by_alert`` (nodes of an alert).
    """

    labels: list[str]
    node_label: np.ndarray
    node_key: np.ndarray
    node_row: np.ndarray
    node_date: np.ndarray
    key_index: dict[str, pd.Index]
    key_gid: dict[str, np.ndarray]
    rel_types: list[str]
    e_src: np.ndarray
    e_dst: np.ndarray
    e_type: np.ndarray
    e_row: np.ndarray
    e_date: np.ndarray | None
    e_start: np.ndarray | None
    e_end: np.ndarray | None
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

    # ---- sizes and masks -------------------------------------------------------------------
    @property
    def n(self) -> int:
        return len(self.node_key)

    @property
    def degree(self) -> np.ndarray:
        return np.diff(self.indptr)

    @property
    def alert_count(self) -> np.ndarray:
        return np.diff(self.f_indptr)

    def label_mask(self, labels: Iterable[str]) -> np.ndarray:
        codes = [self.labels.index(x) for x in labels if x in self.labels]
        return np.isin(self.node_label, codes)

    @property
    def is_record(self) -> np.ndarray:
        return self._cached("_is_record", lambda: self.label_mask(RECORD_LABELS))

    @property
    def is_hub(self) -> np.ndarray:
        return self._cached("_is_hub", lambda: self.label_mask(HUB_LABELS))

    @property
    def is_alert(self) -> np.ndarray:
        return self._cached("_is_alert", lambda: self.label_mask(["Alert"]))

    def _cached(self, name: str, fn):
        v = self.__dict__.get(name)
        if v is None:
            v = fn()
            self.__dict__[name] = v
        return v

    # ---- names -----------------------------------------------------------------------------
    def label(self, i: int) -> str:
        return self.labels[int(self.node_label[i])]

    def node_id(self, i: int) -> str:
        """``"{label}:{key}"`` of node ``i`` (the id used in subgraphs and exports)."""
        return f"{self.label(i)}:{self.node_key[i]}"

    def find(self, label: str, key: str) -> int:
        """Node number of ``(label, key)``, or -1."""
        idx = self.key_index.get(label)
        if idx is None:
            return -1
        pos = idx.get_indexer([str(key)])[0]
        return int(self.key_gid[label][pos]) if pos >= 0 else -1

    def resolve(self, ref: str) -> list[int]:
        """The nodes an id names: ``"Label:key"``, or a bare key looked up under every label
        (all matches, entities before identifiers). Raises :class:`NotFound`."""
        ref = str(ref).strip()
        if ":" in ref:
            label, key = ref.split(":", 1)
            if label in self.key_index:
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

    # ---- filters -----------------------------------------------------------------------------
    def node_date_ok(self, date_from: str | None = None, date_to: str | None = None) -> np.ndarray:
        """True for nodes without a date and records dated inside ``[date_from, date_to]``."""
        return _date_ok(self.node_date, date_from, date_to)

    def edge_mask(self, rel_types: Iterable[str] | None = None, date_from: str | None = None,
                  date_to: str | None = None, node_ok: np.ndarray | None = None) -> np.ndarray:
        """Relationships usable for a walk: of ``rel_types`` (all when None), dated inside the
        range (``date``, or a ``start_date``/``end_date`` period overlapping it), with both
        ends allowed by ``node_ok``."""
        ok = np.ones(len(self.e_src), dtype=bool)
        if rel_types is not None:
            wanted = []
            for t in rel_types:
                model().rel(str(t))          # unknown type -> GraphiffError naming it
                if t in self.rel_types:
                    wanted.append(self.rel_types.index(t))
            ok &= np.isin(self.e_type, wanted)
        if date_from or date_to:
            if self.e_date is not None:
                ok &= _date_ok(self.e_date, date_from, date_to)
            if self.e_start is not None and date_to:
                ok &= _date_ok(self.e_start, None, date_to)
            if self.e_end is not None and date_from:
                ok &= _date_ok(self.e_end, date_from, None)
        if node_ok is not None:
            ok &= node_ok[self.e_src] & node_ok[self.e_dst]
        return ok

    # ---- walking -----------------------------------------------------------------------------
    def gather(self, nodes: np.ndarray, indptr: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Half-edge positions incident to ``nodes`` and the node each comes from (vectorised).
        With ``indptr=self.f_indptr``: positions in ``f_by_node`` (the alerts of ``nodes``)."""
        return _csr_gather(self.indptr if indptr is None else indptr, nodes)

    def alerts_for(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(alert, node)`` pairs: the alerts flagging each of ``nodes``."""
        pos, origin = _csr_gather(self.f_indptr, nodes)
        return self.f_by_node[pos], origin

    def expand(self, seeds: Iterable[int], hops: int, edge_ok: np.ndarray | None = None) -> np.ndarray:
        """Hop distance of every node from ``seeds`` (-1 = not reached within ``hops``).

        A hop reaches the neighbours of the frontier over allowed relationships; records it
        reaches pass the walk on to their other ends within the same hop; hubs (Country) are
        not passed through unless they are seeds. Cost: O(edges touched) per hop, vectorised.
        """
        dist = np.full(self.n, -1, dtype=np.int32)
        frontier = np.unique(np.asarray(list(seeds), dtype=np.int64))
        dist[frontier] = 0
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
                nb = np.unique(nb[dist[nb] < 0])
                if not len(nb):
                    break
                dist[nb] = h
                reached.append(nb)
                cur = nb[is_rec[nb]]
                if not len(cur):
                    break
            if not reached:
                break
            allr = np.concatenate(reached)
            frontier = allr[~is_rec[allr] & ~is_hub[allr]]
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
        s, d, t = self.e_src[eids], self.e_dst[eids], self.e_type[eids]
        half = pd.DataFrame({
            "a": np.concatenate([s, d]), "b": np.concatenate([d, s]),
            "t": np.concatenate([t, t]), "fwd": np.concatenate([np.ones(len(s), bool), np.zeros(len(s), bool)]),
        })
        via = self.is_record & ~ends
        a_end, b_end = ends[half["a"].to_numpy()], ends[half["b"].to_numpy()]
        a_via, b_via = via[half["a"].to_numpy()], via[half["b"].to_numpy()]
        half["arrow"] = _arrows(self.rel_types)[half["t"].to_numpy(dtype=np.int64) * 2 + half["fwd"].to_numpy(dtype=np.int64)]
        out = []
        direct = half[a_end & b_end]
        out.append(pd.DataFrame({"u": direct["a"], "v": direct["b"], "how": direct["arrow"], "r1": -1, "r2": -1}))
        left = half[a_end & b_via].rename(columns={"a": "u", "b": "r", "arrow": "h1"})[["u", "r", "h1"]]
        right = half[a_via & b_end].rename(columns={"a": "r", "b": "v", "arrow": "h2"})[["r", "v", "h2"]]
        if len(left) and len(right):
            one = left.merge(right, on="r")
            one = one[one["u"] != one["v"]]
            lab = np.asarray(self.labels, dtype=object)[self.node_label[one["r"].to_numpy()]] if len(one) else []
            out.append(pd.DataFrame({"u": one["u"], "v": one["v"], "how": one["h1"] + " " + lab + " " + one["h2"],
                                     "r1": one["r"], "r2": -1}))
            mid = half[a_via & b_via].rename(columns={"a": "r", "b": "q", "arrow": "hm"})[["r", "q", "hm"]]
            if len(mid):
                two = left.merge(mid, on="r").merge(right.rename(columns={"r": "q"}), on="q")
                two = two[two["u"] != two["v"]]
                if len(two):
                    lr = np.asarray(self.labels, dtype=object)[self.node_label[two["r"].to_numpy()]]
                    lq = np.asarray(self.labels, dtype=object)[self.node_label[two["q"].to_numpy()]]
                    out.append(pd.DataFrame({"u": two["u"], "v": two["v"],
                                             "how": two["h1"] + " " + lr + " " + two["hm"] + " " + lq + " " + two["h2"],
                                             "r1": two["r"], "r2": two["q"]}))
        res = pd.concat([o for o in out if len(o)], ignore_index=True) if any(len(o) for o in out) else \
            pd.DataFrame({"u": pd.Series(dtype="int64"), "v": pd.Series(dtype="int64"), "how": pd.Series(dtype=object),
                          "r1": pd.Series(dtype="int64"), "r2": pd.Series(dtype="int64")})
        return res.astype({"u": "int64", "v": "int64", "r1": "int64", "r2": "int64"})


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
    """Validate a date bound (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``); None passes."""
    if value is None or value == "":
        return None
    v = str(value).strip()
    if not _DATE_ARG.match(v):
        raise GraphiffError(f"{what} {value!r} is not a date: use YYYY-MM-DD (or YYYY-MM, YYYY)")
    return v


def _date_ok(dates: np.ndarray, date_from: str | None, date_to: str | None) -> np.ndarray:
    """Undated entries pass; dated ones must lie in the range (bounds compared as prefixes, so
    ``date_to="2024-03"`` keeps all of March)."""
    date_from = check_date(date_from, "date_from")
    date_to = check_date(date_to, "date_to")
    ok = np.ones(len(dates), dtype=bool)
    if not (date_from or date_to) or not len(dates):
        return ok
    s = pd.Series(dates, dtype=object)
    has = s.notna().to_numpy()
    if not has.any():
        return ok
    d = s[has].astype(str)
    keep = np.ones(int(has.sum()), dtype=bool)
    if date_from:
        keep &= (d.str.slice(0, len(date_from)) >= date_from).to_numpy()
    if date_to:
        keep &= (d.str.slice(0, len(date_to)) <= date_to).to_numpy()
    ok[has] = keep
    return ok


_INDEX_CACHE: "weakref.WeakKeyDictionary[Tables, GraphIndex]" = weakref.WeakKeyDictionary()


def graph_index(tables: Tables) -> GraphIndex:
    """The adjacency index of ``tables`` (built on first use, then cached for this ``Tables``).

    Reads every node and relationship table once. Cost: O(N + E) time and memory, a sort of
    2E half-edges; for a store of 1M declarations (about 6M relationships) a few seconds and a
    few hundred MB.
    """
    idx = _INDEX_CACHE.get(tables)
    if idx is None:
        idx = _build_index(tables)
        _INDEX_CACHE[tables] = idx
    return idx


def _text(s: pd.Series) -> np.ndarray:
    """Values as strings, missing/blank as None."""
    arr = np.full(len(s), None, dtype=object)
    m = s.notna().to_numpy()
    if m.any():
        v = s[m].astype(str).to_numpy(dtype=object)
        v[np.array([len(x.strip()) == 0 for x in v], dtype=bool)] = None
        arr[m] = v
    return arr


def _build_index(tables: Tables) -> GraphIndex:
    m = model()
    labels = list(m.nodes)
    lab_code = {lab: i for i, lab in enumerate(labels)}
    key_index: dict[str, pd.Index] = {}
    key_gid: dict[str, np.ndarray] = {}
    parts_label, parts_key, parts_row, parts_date = [], [], [], []
    n = 0
    for lab in labels:
        df = tables.nodes(lab)
        keys = df["key"].astype(str).to_numpy(dtype=object) if len(df) else np.empty(0, dtype=object)
        first = ~pd.Series(keys, dtype=object).duplicated().to_numpy() if len(keys) else np.empty(0, bool)
        rows = np.flatnonzero(first)
        keys = keys[rows]
        key_index[lab] = pd.Index(keys, dtype=object)
        key_gid[lab] = np.arange(n, n + len(keys), dtype=np.int64)
        parts_label.append(np.full(len(keys), lab_code[lab], dtype=np.int16))
        parts_key.append(keys)
        parts_row.append(rows.astype(np.int64))
        if lab in RECORD_LABELS and "date" in df.columns and len(df):
            dates = _text(df["date"].iloc[rows])
            parts_date.append(np.array([None if v is None else v[:10] for v in dates], dtype=object))
        else:
            parts_date.append(np.full(len(keys), None, dtype=object))
        n += len(keys)

    extra: dict[str, list] = {"label": [], "key": []}

    def resolve(lab: str, keys: np.ndarray) -> np.ndarray:
        nonlocal n
        idx = key_index[lab]
        pos = idx.get_indexer(keys)
        miss = pos < 0
        if miss.any():
            new = pd.unique(pd.Series(keys[miss], dtype=object)).astype(object)
            key_index[lab] = idx.append(pd.Index(new, dtype=object))
            key_gid[lab] = np.concatenate([key_gid[lab], np.arange(n, n + len(new), dtype=np.int64)])
            extra["label"].append(np.full(len(new), lab_code[lab], dtype=np.int16))
            extra["key"].append(new)
            n += len(new)
            pos[miss] = key_index[lab].get_indexer(keys[miss])
        return key_gid[lab][pos]

    def ends(r: pd.DataFrame, end: str) -> np.ndarray:
        labs = r[f"{end}_label"].astype(str).to_numpy(dtype=object)
        keys = r[end].astype(str).to_numpy(dtype=object)
        out = np.full(len(r), -1, dtype=np.int64)
        for lab in pd.unique(pd.Series(labs, dtype=object)):
            if lab not in lab_code:
                continue
            sel = labs == lab
            out[sel] = resolve(lab, keys[sel])
        return out

    rel_types = [t for t in m.relationships if t not in NOT_TRAVERSED]
    src_p, dst_p, typ_p, row_p, date_p, start_p, end_p = [], [], [], [], [], [], []
    any_date = any_start = any_end = False
    for ti, t in enumerate(rel_types):
        r = tables.rels(t)
        if not len(r):
            continue
        s, d = ends(r, "src"), ends(r, "dst")
        keep = (s >= 0) & (d >= 0)
        src_p.append(s[keep])
        dst_p.append(d[keep])
        typ_p.append(np.full(int(keep.sum()), ti, dtype=np.int16))
        row_p.append(np.flatnonzero(keep).astype(np.int64))
        for col_name, bucket in (("date", date_p), ("start_date", start_p), ("end_date", end_p)):
            if col_name in r.columns:
                vals = _text(r[col_name])[keep]
                bucket.append(np.array([None if v is None else v[:10] for v in vals], dtype=object))
                if col_name == "date":
                    any_date = True
                elif col_name == "start_date":
                    any_start = True
                else:
                    any_end = True
            else:
                bucket.append(np.full(int(keep.sum()), None, dtype=object))

    # FLAGS (alerts): resolved now so that flagged nodes known only from FLAGS exist too
    fl = tables.rels("FLAGS")
    if len(fl):
        fa, fn = ends(fl, "src"), ends(fl, "dst")
        keep = (fa >= 0) & (fn >= 0)
        f_alert, f_node, f_row = fa[keep], fn[keep], np.flatnonzero(keep).astype(np.int64)
    else:
        f_alert = f_node = f_row = np.empty(0, dtype=np.int64)

    node_label = np.concatenate(parts_label + extra["label"]) if n else np.empty(0, np.int16)
    node_key = np.concatenate(parts_key + extra["key"]) if n else np.empty(0, object)
    n_extra = sum(len(k) for k in extra["key"])
    node_row = np.concatenate(parts_row + [np.full(n_extra, -1, dtype=np.int64)]) if n else np.empty(0, np.int64)
    node_date = np.concatenate(parts_date + [np.full(n_extra, None, dtype=object)]) if n else np.empty(0, object)

    def cat(parts, dtype):
        return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)

    e_src, e_dst = cat(src_p, np.int64), cat(dst_p, np.int64)
    e_type, e_row = cat(typ_p, np.int16), cat(row_p, np.int64)
    e_date = cat(date_p, object) if any_date else None
    e_start = cat(start_p, object) if any_start else None
    e_end = cat(end_p, object) if any_end else None

    ne = len(e_src)
    hn = np.concatenate([e_src, e_dst])
    order = np.argsort(hn, kind="stable")
    h_nbr = np.concatenate([e_dst, e_src])[order]
    h_edge = np.concatenate([np.arange(ne, dtype=np.int64), np.arange(ne, dtype=np.int64)])[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(hn, minlength=n), out=indptr[1:])

    o = np.argsort(f_node, kind="stable")
    f_by_node = f_alert[o]
    f_indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(f_node, minlength=n), out=f_indptr[1:])
    o = np.argsort(f_alert, kind="stable")
    a_by_alert = f_node[o]
    a_indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(f_alert, minlength=n), out=a_indptr[1:])

    return GraphIndex(labels=labels, node_label=node_label, node_key=node_key, node_row=node_row,
                      node_date=node_date, key_index=key_index, key_gid=key_gid, rel_types=rel_types,
                      e_src=e_src, e_dst=e_dst, e_type=e_type, e_row=e_row, e_date=e_date, e_start=e_start,
                      e_end=e_end, indptr=indptr, h_nbr=h_nbr, h_edge=h_edge, f_alert=f_alert, f_node=f_node,
                      f_row=f_row, f_indptr=f_indptr, f_by_node=f_by_node, a_indptr=a_indptr, a_by_alert=a_by_alert)


# =============================================================================================
# Node descriptions
# =============================================================================================

def _plain(v: Any) -> Any:
    """A JSON-friendly scalar (None for missing values)."""
    if v is None:
        return None
    if isinstance(v, float):
        return None if v != v else v
    if isinstance(v, (str, bool, int)):
        return v
    if type(v).__name__ in ("NaTType", "NAType"):
        return None
    item = getattr(v, "item", None)
    if callable(item):
        try:
            return _plain(item())
        except (TypeError, ValueError):
            pass
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


def node_props(tables: Tables, idx: GraphIndex, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Properties (incl. provenance, without ``key``; missing values dropped) of nodes ``ids``."""
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
        frame = tables.nodes(idx.labels[int(code)])
        recs = frame.iloc[rows[have]].to_dict("records")
        for i, rec in zip(sel[have], recs):
            out[int(i)] = {str(k): pv for k, v in rec.items() if k != "key" and (pv := _plain(v)) is not None}
    return out


def caption_of(label: str, key: str, props: dict[str, Any]) -> str:
    """What to print for a node: the schema's caption property, else the key."""
    nt = model().nodes.get(label)
    v = props.get(nt.caption) if nt else None
    return str(v) if v not in (None, "") else str(key)


def _summary(idx: GraphIndex, i: int, props: dict[str, Any]) -> dict[str, Any]:
    label, key = idx.label(i), str(idx.node_key[i])
    return {"id": f"{label}:{key}", "label": label, "key": key, "caption": caption_of(label, key, props)}


_RECORD_FIELDS = {
    "Declaration": ("date", "flow", "reporting_country", "hs6", "exporter_id", "importer_id", "carrier_id",
                    "value_usd", "invoice_value", "currency"),
    "Payment": ("date", "from_account", "to_account", "amount", "currency", "amount_usd", "invoice_no",
                "declaration_id"),
    "CashReport": ("date", "report_type", "person_id", "trader_id", "account_id", "amount", "currency",
                   "amount_usd", "direction"),
}


def _record(idx: GraphIndex, i: int, props: dict[str, Any], **extra: Any) -> dict[str, Any]:
    d = _summary(idx, i, props)
    for f in _RECORD_FIELDS.get(d["label"], ("date",)):
        if f in props:
            d[f] = props[f]
    d.update(extra)
    return d


def _alert_row(idx: GraphIndex, a: int, props: dict[str, Any], flags: list[str]) -> dict[str, Any]:
    return {"id": str(idx.node_key[a]), "pattern": props.get("pattern"), "score": props.get("score"),
            "explanation": props.get("explanation"), "flags": flags}


# =============================================================================================
# Neighbourhood
# =============================================================================================

def neighbourhood(tables: Tables, id: str, hops: int = 1, *, limit: int | None = 100) -> dict[str, Any]:
    """Who an entity is connected to, how, through which records, and which alerts touch them.

    Parameters
    ----------
    tables : Tables
        The store's tables.
    id : str
        A node key (``T00012``) or ``Label:key`` (``Person:P7``); an id shared by several
        labels must be written ``Label:key``.
    hops : int
        How far to go (see the module notes: a hop passes through records, so one hop from a
        trader reaches its trading partners).
    limit : int or None
        At most this many neighbours and records are listed (the ``counts`` are complete).

    Returns
    -------
    dict
        ``entity`` (id, label, key, caption, props); ``neighbours`` (nearest and most strongly
        linked first: id, label, key, caption, ``hops``, ``links`` -- each ``from`` the node
        one hop nearer, ``how`` the relationship path, ``records`` how many records carry it,
        ``record_ids`` a few of them -- and ``alerts``); ``records`` (the declarations,
        payments and cash reports passed through, newest first, with their hop); ``alerts``
        (alerts flagging the entity or a neighbour or record, highest score first, with the
        ids they flag here); ``counts``; ``truncated``.

    Examples
    --------
    >>> nb = neighbourhood(Tables(store), "T00012")          # doctest: +SKIP
    >>> [(n["key"], n["links"][0]["how"]) for n in nb["neighbours"]][:1]   # doctest: +SKIP
    [('T00077', '-[EXPORTED]-> Declaration -[IMPORTED_BY]->')]

    Cost: building the index once per ``Tables`` (see :func:`graph_index`), then O(edges
    touched) per hop plus a join over the records inside the neighbourhood.
    """
    if hops < 0:
        raise GraphiffError("hops must be 0 or more")
    idx = graph_index(tables)
    start = idx.resolve_one(id)
    is_rec = idx.is_record
    if idx.is_alert[start]:
        seeds = idx.flagged_by_alert(start)
        dist = idx.expand(seeds, max(hops - 1, 0)) if hops >= 1 else np.full(idx.n, -1, np.int32)
        if hops >= 1:
            dist[dist >= 0] += 1
        dist[start] = 0
    else:
        dist = idx.expand([start], hops)
    members = dist >= 0
    ends = members & (~is_rec)
    ends[start] = True
    neigh = np.flatnonzero(ends & (dist >= 1))
    recs = np.flatnonzero(members & is_rec & (dist >= 1))
    recs = recs[recs != start]

    # links from the node one hop nearer
    lk = idx.links(members, ends)
    if len(lk):
        du, dv = dist[lk["u"].to_numpy()], dist[lk["v"].to_numpy()]
        lk = lk[(dv == du + 1) & (dv >= 1)]
    if idx.is_alert[start]:
        extra = pd.DataFrame({"u": start, "v": idx.flagged_by_alert(start).astype(np.int64), "how": "-[FLAGS]->",
                              "r1": -1, "r2": -1})
        lk = pd.concat([lk, extra], ignore_index=True) if len(lk) else extra
    strength: dict[int, int] = {}
    link_rows: dict[int, list[dict[str, Any]]] = {}
    if len(lk):
        lk = lk.assign(rec=np.where(lk["r2"].to_numpy() >= 0, lk["r2"].to_numpy(), lk["r1"].to_numpy()))
        for (u, v, how), g in lk.groupby(["u", "v", "how"], sort=True):
            r = pd.unique(pd.concat([g["r1"], g["r2"]]).to_numpy())
            r = r[r >= 0]
            link_rows.setdefault(int(v), []).append(
                {"from": idx.node_id(int(u)), "how": str(how), "records": int(len(r)),
                 "record_ids": [idx.node_id(int(x)) for x in r[:5]]})
            strength[int(v)] = strength.get(int(v), 0) + max(1, int(len(r)))

    ac = idx.alert_count
    deg = idx.degree
    order = sorted(neigh.tolist(), key=lambda i: (int(dist[i]), -strength.get(i, 0), -int(ac[i]), -int(deg[i]),
                                                  idx.node_id(i)))
    rec_dates = idx.node_date[recs]
    rec_order = sorted(range(len(recs)), key=lambda j: (int(dist[recs[j]]), _neg_date(rec_dates[j]), idx.node_id(int(recs[j]))))
    listed_n = order if limit is None else order[:limit]
    listed_r = [int(recs[j]) for j in (rec_order if limit is None else rec_order[:limit])]

    # alerts on the entity, neighbours and records
    alerts: dict[int, list[str]] = {}
    for a, node in zip(*(x.tolist() for x in idx.alerts_for(np.flatnonzero(members)))):
        alerts.setdefault(int(a), []).append(idx.node_id(int(node)))
    if idx.is_alert[start]:
        alerts.setdefault(start, [idx.node_id(int(x)) for x in idx.flagged_by_alert(start)])

    props = node_props(tables, idx, [start, *listed_n, *listed_r, *alerts.keys()])
    entity = {**_summary(idx, start, props[start]), "props": props[start], "alerts": int(ac[start])}
    neighbours = [{**_summary(idx, i, props[i]), "hops": int(dist[i]), "links": link_rows.get(i, []),
                   "alerts": int(ac[i])} for i in listed_n]
    records = [_record(idx, i, props[i], hops=int(dist[i])) for i in listed_r]
    alert_list = sorted((_alert_row(idx, a, props[a], sorted(set(f))) for a, f in alerts.items()),
                        key=lambda d: (-(d["score"] or 0), d["id"]))

    def by_label(ids) -> dict[str, int]:
        c: dict[str, int] = {}
        for i in ids:
            c[idx.label(int(i))] = c.get(idx.label(int(i)), 0) + 1
        return dict(sorted(c.items()))

    return {
        "entity": entity, "hops": int(hops), "neighbours": neighbours, "records": records, "alerts": alert_list,
        "counts": {"neighbours": by_label(neigh), "records": by_label(recs), "alerts": len(alert_list)},
        "truncated": {"neighbours": len(listed_n) < len(neigh), "records": len(listed_r) < len(recs)},
    }


def _neg_date(d: str | None) -> tuple:
    """Sort key putting newer dates first and undated last."""
    if not d:
        return (1, "")
    return (0, "".join(chr(255 - ord(c)) for c in d))


# =============================================================================================
# Paths
# =============================================================================================

def paths(tables: Tables, a: str, b: str, max_len: int = 6, k: int = 3, *, records_per_hop: int = 10
          ) -> list[dict[str, Any]]:
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

    Returns
    -------
    list of dict
        Each ``{"length", "nodes": [{id, label, key, caption}], "hops": [{"from", "to", "how":
        [relationship paths], "records": [{id, label, key, date, values...}],
        "records_total"}]}``. Empty when no path of at most ``max_len`` hops exists.

    The walk is undirected over every relationship type (money and goods can be followed
    both ways); parallel records between the same two entities are one hop, so the ``k``
    paths differ in the entities they pass. Country nodes are not passed through.

    Examples
    --------
    >>> [p["length"] for p in paths(Tables(store), "T1", "T3")]    # doctest: +SKIP
    [2, 2, 3]

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
    da = idx.expand([ia], max_len)
    if da[ib] < 0:
        return []
    db = idx.expand([ib], max_len)
    both = (da >= 0) & (db >= 0)
    is_rec = idx.is_record
    ends = both & ((~is_rec & ~idx.is_hub) | np.isin(np.arange(idx.n), [ia, ib]))
    ends &= (da + db <= max_len) | np.isin(np.arange(idx.n), [ia, ib])
    members = ends | (both & is_rec & (da + db <= max_len + 1))
    lk = idx.links(members, ends)
    if not len(lk):
        return []
    pairs = lk[["u", "v"]].to_numpy()
    lo, hi = pairs.min(axis=1), pairs.max(axis=1)
    und = pd.DataFrame({"lo": lo, "hi": hi}).drop_duplicates().reset_index(drop=True)
    verts = np.unique(np.concatenate([und["lo"].to_numpy(), und["hi"].to_numpy()]))
    vpos = {int(v): j for j, v in enumerate(verts)}
    if ia not in vpos or ib not in vpos:
        return []
    g = ig.Graph(n=len(verts), edges=list(zip(und["lo"].map(vpos).tolist(), und["hi"].map(vpos).tolist())),
                 directed=False)
    found = g.get_k_shortest_paths(vpos[ia], vpos[ib], k=k, mode="all")
    found = [[int(verts[j]) for j in p] for p in found if p and len(p) - 1 <= max_len]
    if not found:
        return []

    on_path = {(x, y) for p in found for x, y in zip(p, p[1:])}
    sel = lk[[(int(u), int(v)) in on_path for u, v in zip(lk["u"], lk["v"])]]
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
            shown = sorted(r.tolist(), key=lambda i: (_neg_date(idx.node_date[i]), idx.node_id(i)))[:records_per_hop]
            hops_.append((x, y, hows, shown, int(len(r))))
            needed_recs.update(shown)
        hop_data.append(hops_)
    props = node_props(tables, idx, needed_recs | {n for p in found for n in p})
    out = []
    for p, hops_ in zip(found, hop_data):
        hop_list = []
        for x, y, hows, shown, total in hops_:
            hop_list.append({"from": idx.node_id(x), "to": idx.node_id(y), "how": hows,
                             "records": [_record(idx, i, props[i]) for i in shown], "records_total": total})
        out.append({"length": len(p) - 1, "nodes": [_summary(idx, i, props[i]) for i in p], "hops": hop_list})
    return out


# =============================================================================================
# Projections for communities and centrality
# =============================================================================================

def _captions(tables: Tables, labels: np.ndarray, keys: np.ndarray) -> np.ndarray:
    out = keys.astype(object).copy()
    for lab in pd.unique(pd.Series(labels, dtype=object)):
        nt = model().nodes.get(lab)
        if nt is None:
            continue
        frame = tables.nodes(lab)
        if not len(frame) or nt.caption not in frame.columns:
            continue
        cmap = pd.Series(frame[nt.caption].to_numpy(), index=frame["key"].astype(str).to_numpy())
        cmap = cmap[~cmap.index.duplicated()]
        sel = labels == lab
        vals = pd.Series(keys[sel], dtype=object).map(cmap)
        vals = vals.where(vals.notna() & (vals.astype(str).str.len() > 0), pd.Series(keys[sel], dtype=object))
        out[sel] = vals.astype(str).to_numpy(dtype=object)
    return out


def projection_graph(tables: Tables, projection: str = "trade"):
    """The graph a community or centrality measure runs on, as a python-igraph ``Graph``.

    ``trade``: Traders, an edge exporter -> importer per pair with ``weight`` = shipments
    (mirror declarations merged). ``money``: BankAccounts, from -> to with ``weight`` =
    payments. ``carrier``: Traders and Carriers, ``weight`` = declarations. ``ownership``:
    Persons, Traders, Carriers and the addresses, phones and emails they share (undirected).
    ``all``: every node and relationship of the store (records included, Country and alerts
    left out), as stored.

    Vertices carry ``label``, ``key``, ``name`` (``"Label:key"``) and ``record`` (True for
    declarations, payments and cash reports); edges carry ``weight``. Directed except
    ``carrier`` and ``ownership``.
    """
    import igraph as ig
    from graphiff import projections as pj

    if projection not in PROJECTIONS:
        raise GraphiffError(f"unknown projection {projection!r}; choose one of: {', '.join(PROJECTIONS)}")
    directed = True
    if projection in ("trade", "money"):
        e = pj.trade_edges(tables) if projection == "trade" else pj.money_edges(tables)
        label = "Trader" if projection == "trade" else "BankAccount"
        w = e.groupby(["src", "dst"], sort=True).size().reset_index(name="weight")
        src, dst = w["src"].astype(str).to_numpy(dtype=object), w["dst"].astype(str).to_numpy(dtype=object)
        weight = w["weight"].to_numpy(dtype=float)
        src_l = np.full(len(src), label, dtype=object)
        dst_l = src_l
    elif projection == "carrier":
        u = pj.carrier_use_table(tables)
        src, dst = u["trader_id"].astype(str).to_numpy(dtype=object), u["carrier_id"].astype(str).to_numpy(dtype=object)
        src_l, dst_l = np.full(len(u), "Trader", dtype=object), np.full(len(u), "Carrier", dtype=object)
        weight = u["shipments"].to_numpy(dtype=float)
        directed = False
    elif projection == "ownership":
        off = pj.officer_table(tables)
        ids = pj.identifier_links(tables)
        src = np.concatenate([off["officer"].to_numpy(dtype=object), ids["key"].to_numpy(dtype=object)])
        dst = np.concatenate([off["company"].to_numpy(dtype=object), ids["id_key"].to_numpy(dtype=object)])
        src_l = np.concatenate([off["officer_label"].to_numpy(dtype=object), ids["label"].to_numpy(dtype=object)])
        dst_l = np.concatenate([off["company_label"].to_numpy(dtype=object), ids["id_label"].to_numpy(dtype=object)])
        weight = np.ones(len(src), dtype=float)
        directed = False
    else:
        idx = graph_index(tables)
        keep = ~idx.is_hub[idx.e_src] & ~idx.is_hub[idx.e_dst]
        s, d = idx.e_src[keep], idx.e_dst[keep]
        verts = np.unique(np.concatenate([s, d]))
        pos = np.full(idx.n, -1, dtype=np.int64)
        pos[verts] = np.arange(len(verts))
        g = ig.Graph(n=len(verts), edges=list(zip(pos[s].tolist(), pos[d].tolist())), directed=True)
        labs = np.asarray(idx.labels, dtype=object)[idx.node_label[verts]]
        keys = idx.node_key[verts].astype(object)
        g.vs["label"] = labs.tolist()
        g.vs["key"] = [str(x) for x in keys]
        g.vs["name"] = [f"{lab}:{key}" for lab, key in zip(g.vs["label"], g.vs["key"])]
        g.vs["record"] = idx.is_record[verts].tolist()
        g.es["weight"] = [1.0] * g.ecount()
        return g
    a = pd.Series(src_l, dtype=object) + ":" + pd.Series(src, dtype=object)
    b = pd.Series(dst_l, dtype=object) + ":" + pd.Series(dst, dtype=object)
    names, codes = np.unique(np.concatenate([a.to_numpy(dtype=object), b.to_numpy(dtype=object)]).astype(str),
                             return_inverse=True)
    ne = len(a)
    g = ig.Graph(n=len(names), edges=list(zip(codes[:ne].tolist(), codes[ne:].tolist())), directed=directed)
    g.vs["name"] = names.tolist()
    g.vs["label"] = [x.split(":", 1)[0] for x in names]
    g.vs["key"] = [x.split(":", 1)[1] for x in names]
    g.vs["record"] = [False] * len(names)
    g.es["weight"] = weight.tolist()
    return g


def _undirected_simple(g):
    h = g.copy()
    if h.is_directed():
        h.to_undirected(mode="collapse", combine_edges={"weight": "sum"})
    else:
        h.simplify(multiple=True, loops=True, combine_edges={"weight": "sum"})
    h.simplify(multiple=True, loops=True, combine_edges={"weight": "sum"})
    return h


def communities(tables: Tables, projection: Literal["trade", "money", "carrier", "ownership", "all"] = "trade",
                method: Literal["leiden", "louvain"] = "leiden", *, resolution: float = 1.0,
                seed: int = 0) -> pd.DataFrame:
    """Groups that trade, pay or are tied mostly among themselves (modularity communities).

    Parameters
    ----------
    tables : Tables
    projection : {"trade", "money", "carrier", "ownership", "all"}
        Which graph (see :func:`projection_graph`); made undirected, parallel edges summed
        into ``weight``.
    method : {"leiden", "louvain"}
        Leiden (leidenalg, guarantees connected communities) or Louvain (igraph multilevel).
    resolution : float
        Above 1 gives more, smaller communities; below 1 fewer, larger ones.
    seed : int
        Random seed: the same data and seed give the same communities.

    Returns
    -------
    DataFrame
        One row per entity: ``community`` (0 = largest), ``size`` (entities in it), ``id``,
        ``label``, ``key``, ``caption``, ``degree`` (distinct neighbours in the projection),
        ``strength`` (summed weights), sorted by community then degree. For ``all``, records
        take part in the partition but are not listed.

    Examples
    --------
    >>> communities(Tables(store), "trade").groupby("community").size().head()   # doctest: +SKIP

    Cost: building the projection, then near-linear in edges (Leiden/Louvain).
    """
    import igraph as ig

    if method not in COMMUNITY_METHODS:
        raise GraphiffError(f"unknown community method {method!r}; choose one of: {', '.join(COMMUNITY_METHODS)}")
    g = _undirected_simple(projection_graph(tables, projection))
    cols = ["community", "size", "id", "label", "key", "caption", "degree", "strength"]
    if g.vcount() == 0:
        return pd.DataFrame(columns=cols)
    if method == "leiden":
        import leidenalg

        part = leidenalg.find_partition(g, leidenalg.RBConfigurationVertexPartition, weights="weight",
                                        resolution_parameter=resolution, seed=seed, n_iterations=-1)
        membership = list(part.membership)
    else:
        state = random.getstate()
        try:
            random.seed(seed)
            ig.set_random_number_generator(random)
            membership = list(g.community_multilevel(weights="weight", resolution=resolution).membership)
        finally:
            random.setstate(state)
    df = pd.DataFrame({
        "raw": membership, "id": g.vs["name"], "label": g.vs["label"], "key": g.vs["key"],
        "record": g.vs["record"], "degree": g.degree(), "strength": g.strength(weights="weight"),
    })
    df = df[~df["record"]].drop(columns="record")
    if not len(df):
        return pd.DataFrame(columns=cols)
    sizes = df.groupby("raw").size()
    first = df.groupby("raw")["id"].min()
    order = sorted(sizes.index, key=lambda c: (-int(sizes[c]), first[c]))
    renum = {c: i for i, c in enumerate(order)}
    df["community"] = df["raw"].map(renum).astype("int64")
    df["size"] = df["raw"].map(sizes).astype("int64")
    df["caption"] = _captions(tables, df["label"].to_numpy(dtype=object), df["key"].to_numpy(dtype=object))
    df = df.sort_values(["community", "degree", "id"], ascending=[True, False, True], kind="stable")
    return df[cols].reset_index(drop=True)


def community_summary(df: pd.DataFrame, top: int = 10, members: int = 5) -> list[dict[str, Any]]:
    """The ``top`` largest communities of a :func:`communities` table: ``community``,
    ``size``, ``labels`` (entities per label) and the ``members`` best-connected members."""
    out = []
    for c, g in df.groupby("community", sort=True):
        if len(out) >= top:
            break
        g = g.sort_values(["degree", "id"], ascending=[False, True])
        out.append({"community": int(c), "size": int(len(g)),
                    "labels": {str(k): int(v) for k, v in g["label"].value_counts().sort_index().items()},
                    "members": [{"id": r.id, "caption": r.caption, "degree": int(r.degree)}
                                for r in g.head(members).itertuples()]})
    return out


def centrality(tables: Tables, projection: Literal["trade", "money", "carrier", "ownership", "all"] = "trade",
               measure: Literal["betweenness", "degree", "pagerank"] = "betweenness", top: int | None = 20,
               *, cutoff: int | None = None) -> pd.DataFrame:
    """Who sits in the middle of a projection.

    Parameters
    ----------
    tables : Tables
    projection : {"trade", "money", "carrier", "ownership", "all"}
        See :func:`projection_graph`.
    measure : {"betweenness", "degree", "pagerank"}
        ``betweenness``: on how many shortest paths between others a node lies (brokers,
        intermediaries), undirected, unweighted. ``degree``: distinct counterparties.
        ``pagerank``: weighted PageRank along the direction of goods/money (where the flows
        end up).
    top : int or None
        Rows to return (all when None).
    cutoff : int or None
        Betweenness only: count only paths up to this length (a cheaper local measure).

    Returns
    -------
    DataFrame
        ``rank`` (1 = most central), ``id``, ``label``, ``key``, ``caption``, ``score``,
        ``degree``. Records are scored but not listed (``all`` projection).

    Examples
    --------
    >>> centrality(Tables(store), "trade", "pagerank", top=5)    # doctest: +SKIP

    Cost: degree O(E); PageRank O(E) per iteration; betweenness O(V·E) (Brandes) -- seconds on
    the trade graph of a 1M-declaration store, far too slow on ``all`` at that size unless
    ``cutoff`` is small.
    """
    if measure not in CENTRALITY_MEASURES:
        raise GraphiffError(f"unknown centrality measure {measure!r}; choose one of: {', '.join(CENTRALITY_MEASURES)}")
    g = projection_graph(tables, projection)
    cols = ["rank", "id", "label", "key", "caption", "score", "degree"]
    if g.vcount() == 0:
        return pd.DataFrame(columns=cols)
    u = _undirected_simple(g)
    if measure == "betweenness":
        score = u.betweenness(directed=False, cutoff=cutoff)
    elif measure == "degree":
        score = u.degree()
    else:
        h = g.copy()
        h.simplify(multiple=True, loops=True, combine_edges={"weight": "sum"})
        score = h.pagerank(directed=h.is_directed(), weights="weight")
    df = pd.DataFrame({"id": u.vs["name"], "label": u.vs["label"], "key": u.vs["key"], "record": u.vs["record"],
                       "score": np.asarray(score, dtype=float), "degree": u.degree()})
    df = df[~df["record"]].drop(columns="record")
    df = df.sort_values(["score", "degree", "id"], ascending=[False, False, True], kind="stable")
    if top is not None:
        df = df.head(int(top))
    df = df.reset_index(drop=True)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    df["caption"] = _captions(tables, df["label"].to_numpy(dtype=object), df["key"].to_numpy(dtype=object))
    return df[cols]

"""Exploring the network: neighbourhoods, paths, communities and centrality.

What an analyst asks first: *what is this trader connected to, and through which records?*
(:func:`neighbourhood`), *how are these two connected?* (:func:`paths`), *which groups trade or
pay mostly among themselves?* (:func:`communities`) and *who sits in the middle?*
(:func:`centrality`).

All functions take a :class:`graphiff.graph.features.Tables`, so they run the same on every store.
Neighbourhoods and paths use one in-memory adjacency index of the whole graph
(:func:`graph_index`), built once per ``Tables`` and shared with the link-chart selection
(:func:`graphiff.graph.select.select`).

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
from graphiff.graph.tables import Tables
from graphiff.model import model

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

    # ---- sizes and masks -------------------------------------------------------------------
    @property
    def n(self) -> int:
        return len(self.node_label)

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
        return self.labels[int(self.node_label[i])]

    def key(self, i: int) -> str:
        code = int(self.node_label[i])
        return str(self.keys[self.labels[code]][int(i) - int(self.label_offset[code])])

    def node_id(self, i: int) -> str:
        """``"{label}:{key}"`` of node ``i`` (the id used in subgraphs and exports)."""
        return f"{self.label(i)}:{self.key(i)}"

    def find(self, label: str, key: str) -> int:
        """Node number of ``(label, key)``, or -1."""
        keys = self.keys.get(label)
        if keys is None or not len(keys):
            return -1
        hit = np.flatnonzero(np.asarray(keys == str(key)))
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
        return _date_ok(self.node_date, date_from, date_to)

    def edge_mask(self, rel_types: Iterable[str] | None = None, date_from: str | None = None,
                  date_to: str | None = None, node_ok: np.ndarray | None = None) -> np.ndarray:
        """Relationships usable for a walk: of ``rel_types`` (all when None), dated inside the
        range (``date``, or a ``start_date``..``end_date`` period overlapping it), with both
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
    def gather(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Half-edge positions incident to ``nodes`` and the node each comes from (vectorised)."""
        return _csr_gather(self.indptr, nodes)

    def expand(self, seeds: Iterable[int], hops: int, edge_ok: np.ndarray | None = None) -> np.ndarray:
        """Hop distance of every node from ``seeds`` (-1 = not reached within ``hops``).

        A hop reaches the neighbours of the frontier over allowed relationships; records it
        reaches pass the walk on to their other ends within the same hop; hubs (Country) are
        not passed through unless they are seeds. Cost: O(edges touched) per hop, vectorised.
        """
        dist = np.full(self.n, -1, dtype=np.int32)
        frontier = np.unique(np.asarray(list(seeds), dtype=np.int64))
        dist[frontier] = 0
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
    """Validate a date bound (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``); None passes."""
    if value is None or value == "":
        return None
    v = str(value).strip()
    if not _DATE_ARG.match(v):
        raise GraphiffError(f"{what} {value!r} is not a date: use YYYY-MM-DD (or YYYY-MM, YYYY)")
    return v


def _date_ok(dates: pd.Series, date_from: str | None, date_to: str | None) -> np.ndarray:
    """Undated entries pass; dated ones must lie in the range (bounds compared as prefixes, so
    ``date_to="2024-03"`` keeps all of March)."""
    date_from = check_date(date_from, "date_from")
    date_to = check_date(date_to, "date_to")
    ok = np.ones(len(dates), dtype=bool)
    if not (date_from or date_to) or not len(dates):
        return ok
    s = dates if isinstance(dates, pd.Series) else pd.Series(dates, dtype=object)
    has = s.notna().to_numpy()
    if not has.any():
        return ok
    d = s[has].astype("str")
    keep = np.ones(int(has.sum()), dtype=bool)
    if date_from:
        keep &= (d.str.slice(0, len(date_from)) >= date_from).to_numpy(dtype=bool)
    if date_to:
        keep &= (d.str.slice(0, len(date_to)) <= date_to).to_numpy(dtype=bool)
    ok[has] = keep
    return ok


_INDEX_CACHE: "weakref.WeakKeyDictionary[Tables, GraphIndex]" = weakref.WeakKeyDictionary()


def graph_index(tables: Tables) -> GraphIndex:
    """The adjacency index of ``tables`` (built on first use, then cached for this ``Tables``).

    Reads every node and relationship table once. Cost: O(N + E): one hash pass over the keys
    of each label (node keys and relationship ends together) and a sort of the 2E half-edges;
    for a store of 1M declarations (about 6M relationships) seconds and a few hundred MB.
    """
    idx = _INDEX_CACHE.get(tables)
    if idx is None:
        idx = _build_index(tables)
        _INDEX_CACHE[tables] = idx
    return idx


def _as_str(s: pd.Series) -> pd.Series:
    return s if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object else s.astype("str")


def _dates(s: pd.Series) -> pd.Series:
    """ISO date strings (first 10 characters), blanks as missing."""
    d = _as_str(s).str.slice(0, 10)
    return d.where(d.str.len() > 0)


def _build_index(tables: Tables) -> GraphIndex:
    m = model()
    labels = list(m.nodes)
    rel_types = [t for t in m.relationships if t not in NOT_TRAVERSED]

    # every key of a label: its node table's keys, then the relationship ends naming it
    pieces: dict[str, list[pd.Series]] = {lab: [] for lab in labels}
    node_frames = {}
    for lab in labels:
        df = tables.nodes(lab)
        node_frames[lab] = df
        pieces[lab].append(_as_str(df["key"]).reset_index(drop=True) if len(df) else pd.Series([], dtype="str"))
    # (type, end) -> list of (label, row positions or None for all rows, piece number)
    end_refs: dict[tuple[str, str], list[tuple[str, np.ndarray | None, int]]] = {}
    rel_frames = {}
    for t in [*rel_types, *NOT_TRAVERSED]:
        r = tables.rels(t)
        if not len(r):
            continue
        rel_frames[t] = r
        for end in ("src", "dst"):
            labs_col = _as_str(r[f"{end}_label"])
            keys_col = _as_str(r[end]).reset_index(drop=True)
            uniq = labs_col.unique()
            refs = []
            for lab in uniq:
                if lab not in pieces:
                    continue
                if len(uniq) == 1:
                    rows = None
                    piece = keys_col
                else:
                    rows = np.flatnonzero((labs_col == lab).to_numpy(dtype=bool))
                    piece = keys_col.iloc[rows]
                pieces[lab].append(piece)
                refs.append((lab, rows, len(pieces[lab]) - 1))
            end_refs[(t, end)] = refs

    keys: dict[str, pd.Index] = {}
    codes_of: dict[str, list[np.ndarray]] = {}
    offsets = [0]
    node_rows, node_dates, node_labels = [], [], []
    for li, lab in enumerate(labels):
        parts = pieces[lab]
        sizes = [len(p) for p in parts]
        allk = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        codes, uniques = pd.factorize(allk, sort=False) if len(allk) else (np.empty(0, np.int64), pd.Index([], dtype="str"))
        codes = np.asarray(codes, dtype=np.int64)
        keys[lab] = pd.Index(uniques)
        bounds = np.cumsum([0, *sizes])
        codes_of[lab] = [codes[bounds[j]:bounds[j + 1]] for j in range(len(parts))]
        nu = len(uniques)
        row = np.full(nu, -1, dtype=np.int64)
        ncodes = codes_of[lab][0]
        if len(ncodes):
            first = np.unique(ncodes, return_index=True)
            row[first[0]] = first[1]
        node_rows.append(row)
        df = node_frames[lab]
        if lab in RECORD_LABELS and "date" in df.columns and len(df):
            d = _dates(df["date"]).reset_index(drop=True)
            x = d.iloc[np.maximum(row, 0)].reset_index(drop=True) if nu else pd.Series([], dtype="str")
            node_dates.append(x.where(pd.Series(row >= 0)) if nu else x)
        else:
            node_dates.append(pd.Series([None] * nu, dtype="str") if nu else pd.Series([], dtype="str"))
        node_labels.append(np.full(nu, li, dtype=np.int16))
        offsets.append(offsets[-1] + nu)
    label_offset = np.asarray(offsets, dtype=np.int64)
    n = int(label_offset[-1])

    def end_ids(t: str, end: str, nrows: int) -> np.ndarray:
        out = np.full(nrows, -1, dtype=np.int64)
        for lab, rows, piece in end_refs.get((t, end), []):
            gid = codes_of[lab][piece] + label_offset[labels.index(lab)]
            if rows is None:
                out[:] = gid
            else:
                out[rows] = gid
        return out

    src_p, dst_p, typ_p, row_p = [], [], [], []
    extra_cols = {"date": [], "start_date": [], "end_date": []}
    have_cols = {c: False for c in extra_cols}
    for ti, t in enumerate(rel_types):
        r = rel_frames.get(t)
        if r is None:
            continue
        s, d = end_ids(t, "src", len(r)), end_ids(t, "dst", len(r))
        keep = np.flatnonzero((s >= 0) & (d >= 0))
        src_p.append(s[keep])
        dst_p.append(d[keep])
        typ_p.append(np.full(len(keep), ti, dtype=np.int16))
        row_p.append(keep.astype(np.int64))
        for c in extra_cols:
            if c in r.columns:
                have_cols[c] = True
                extra_cols[c].append(_dates(r[c]).iloc[keep].reset_index(drop=True))
            else:
                extra_cols[c].append(pd.Series([None] * len(keep), dtype="str"))

    def cat(parts, dtype):
        return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)

    e_src, e_dst = cat(src_p, np.int64), cat(dst_p, np.int64)
    e_type, e_row = cat(typ_p, np.int16), cat(row_p, np.int64)
    ecol = {c: (pd.concat(v, ignore_index=True) if have_cols[c] else None) for c, v in extra_cols.items()}

    fl = rel_frames.get("FLAGS")
    if fl is not None:
        fa, fn = end_ids("FLAGS", "src", len(fl)), end_ids("FLAGS", "dst", len(fl))
        keep = np.flatnonzero((fa >= 0) & (fn >= 0))
        f_alert, f_node, f_row = fa[keep], fn[keep], keep.astype(np.int64)
    else:
        f_alert = f_node = f_row = np.empty(0, dtype=np.int64)

    ne = len(e_src)
    hn = np.concatenate([e_src, e_dst])
    order = np.argsort(hn)
    h_nbr = np.concatenate([e_dst, e_src])[order]
    h_edge = np.concatenate([np.arange(ne, dtype=np.int64), np.arange(ne, dtype=np.int64)])[order]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(hn, minlength=n), out=indptr[1:])

    def csr(by: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        o = np.argsort(by, kind="stable")
        ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(by, minlength=n), out=ptr[1:])
        return ptr, other[o]

    f_indptr, f_by_node = csr(f_node, f_alert)
    a_indptr, a_by_alert = csr(f_alert, f_node)
    return GraphIndex(
        labels=labels, label_offset=label_offset, keys=keys,
        node_label=np.concatenate(node_labels) if n else np.empty(0, np.int16),
        node_row=np.concatenate(node_rows) if n else np.empty(0, np.int64),
        node_date=pd.concat(node_dates, ignore_index=True) if n else pd.Series([], dtype="str"),
        rel_types=rel_types, e_src=e_src, e_dst=e_dst, e_type=e_type, e_row=e_row,
        e_date=ecol["date"], e_start=ecol["start_date"], e_end=ecol["end_date"],
        indptr=indptr, h_nbr=h_nbr, h_edge=h_edge, f_alert=f_alert, f_node=f_node, f_row=f_row,
        f_indptr=f_indptr, f_by_node=f_by_node, a_indptr=a_indptr, a_by_alert=a_by_alert)


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
    label, key = idx.label(i), idx.key(i)
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
    return {"id": idx.key(a), "pattern": props.get("pattern"), "score": props.get("score"),
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
            link_rows.setdefault(int(v), []).append(
                {"from": idx.node_id(int(u)), "how": str(how), "records": int(n_),
                 "record_ids": [idx.node_id(int(x)) for x in rmap.get((u, v, how), [])]})

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
        codes, counts = np.unique(idx.node_label[np.asarray(ids, dtype=np.int64)], return_counts=True)
        return dict(sorted((idx.labels[int(c)], int(n_)) for c, n_ in zip(codes, counts)))

    return {
        "entity": entity, "hops": int(hops), "neighbours": neighbours, "records": records, "alerts": alert_list,
        "counts": {"neighbours": by_label(neigh), "records": by_label(recs), "alerts": len(alert_list)},
        "truncated": {"neighbours": len(listed_n) < len(neigh), "records": len(listed_r) < len(recs)},
    }


def _neg_date(d: str | None) -> tuple:
    """Sort key putting newer dates first and undated last."""
    if not isinstance(d, str) or not d:
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
    is_rec = idx.is_record
    endpoint = np.zeros(idx.n, dtype=bool)
    endpoint[[ia, ib]] = True
    both = (da >= 0) & (db >= 0)
    total = np.where(both, da + db, np.iinfo(np.int32).max)
    found: list[list[int]] = []
    lk = None
    # shortest first: widen the corridor between a and b one hop at a time until k paths are found
    for length in range(int(da[ib]), max_len + 1):
        ends = (~is_rec & ~idx.is_hub & (total <= length)) | endpoint
        members = ends | (is_rec & (total <= length + 1))
        lk = idx.links(members, ends)
        if not len(lk):
            continue
        pairs = lk[["u", "v"]].to_numpy()
        und = pd.DataFrame({"lo": pairs.min(axis=1), "hi": pairs.max(axis=1)}).drop_duplicates()
        verts = np.unique(und.to_numpy())
        if ia not in verts or ib not in verts:
            continue
        pos = pd.Series(np.arange(len(verts)), index=verts)
        g = ig.Graph(n=len(verts), edges=list(zip(pos[und["lo"].to_numpy()].tolist(), pos[und["hi"].to_numpy()].tolist())),
                     directed=False)
        got = g.get_k_shortest_paths(int(pos[ia]), int(pos[ib]), k=k, mode="all")
        found = [[int(verts[j]) for j in p] for p in got if p and len(p) - 1 <= length]
        if len(found) >= k:
            break
    if not found:
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
            shown = sorted(r.tolist(), key=lambda i: (_neg_date(idx.node_date.iloc[i]), idx.node_id(i)))[:records_per_hop]
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

    from graphiff.graph import features as pj

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
                seed: int = 0, iterations: int = 2) -> pd.DataFrame:
    """Groups that trade, pay or are tied mostly among themselves (modularity communities).

    Parameters
    ----------
    tables : Tables
    projection : {"trade", "money", "carrier", "ownership", "all"}
        Which graph (see :func:`projection_graph`); made undirected, parallel edges summed
        into ``weight``.
    method : {"leiden", "louvain"}
        Leiden (python-igraph's ``community_leiden`` on modularity; communities are
        guaranteed connected) or Louvain (``community_multilevel``).
    resolution : float
        Above 1 gives more, smaller communities; below 1 fewer, larger ones.
    seed : int
        Random seed: the same data and seed give the same communities.
    iterations : int
        Leiden passes (2 is usually enough; a negative number runs until nothing changes,
        which can take much longer).

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

    Cost: building the projection, then near-linear in edges per pass (Leiden/Louvain): about
    a second for a trade graph of 10k traders and 200k shipments.
    """
    import igraph as ig

    if method not in COMMUNITY_METHODS:
        raise GraphiffError(f"unknown community method {method!r}; choose one of: {', '.join(COMMUNITY_METHODS)}")
    g = _undirected_simple(projection_graph(tables, projection))
    cols = ["community", "size", "id", "label", "key", "caption", "degree", "strength"]
    if g.vcount() == 0:
        return pd.DataFrame(columns=cols)
    state = random.getstate()
    try:
        random.seed(seed)              # python-igraph draws its random numbers from `random`
        ig.set_random_number_generator(random)
        if method == "leiden":
            part = g.community_leiden(objective_function="modularity", weights="weight",
                                      resolution=resolution, n_iterations=iterations)
        else:
            part = g.community_multilevel(weights="weight", resolution=resolution)
        membership = list(part.membership)
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

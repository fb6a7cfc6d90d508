"""Building the adjacency index: the store's tables as integer arrays.

:func:`adjacency_arrays` reads every node and relationship table of a :class:`Tables` once and
returns the arrays :class:`graphiff.graph.index.GraphIndex` is made of; the index module owns
their meaning and the queries over them.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from graphiff.graph.tables import Tables
from graphiff.model import model

#: Labels whose nodes are records linking entities (one hop passes through them).
RECORD_LABELS = ("Declaration", "Payment", "CashReport")
#: Labels reached but never passed through (hubs that would link everything).
HUB_LABELS = ("Country",)
#: Relationship types that are not traversed (alerts are reported, not walked through).
NOT_TRAVERSED = ("FLAGS",)


def _as_str(s: pd.Series) -> pd.Series:
    return s if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object else s.astype("str")


def _dates(s: pd.Series) -> pd.Series:
    """ISO date strings (first 10 characters), blanks as missing."""
    d = _as_str(s).str.slice(0, 10)
    return d.where(d.str.len() > 0)


def adjacency_arrays(tables: Tables) -> dict[str, Any]:
    """The arrays of :class:`graphiff.graph.index.GraphIndex` for ``tables`` (its fields, by name).

    Numbers the nodes label by label (node keys first, then keys only named by relationship
    ends), turns every relationship (``NOT_TRAVERSED`` types apart) into source/target arrays,
    builds the undirected CSR adjacency and the two CSR views of the FLAGS of alerts.
    Cost: O(N + E) hashing plus a sort of the 2E half-edges.
    """
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
        codes, uniques = (pd.factorize(allk, sort=False) if len(allk)
                          else (np.empty(0, np.int64), pd.Index([], dtype="str")))
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
    extra_cols: dict[str, list[pd.Series]] = {"date": [], "start_date": [], "end_date": []}
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
    return dict(
        labels=labels, label_offset=label_offset, keys=keys,
        node_label=np.concatenate(node_labels) if n else np.empty(0, np.int16),
        node_row=np.concatenate(node_rows) if n else np.empty(0, np.int64),
        node_date=pd.concat(node_dates, ignore_index=True) if n else pd.Series([], dtype="str"),
        rel_types=rel_types, e_src=e_src, e_dst=e_dst, e_type=e_type, e_row=e_row,
        e_date=ecol["date"], e_start=ecol["start_date"], e_end=ecol["end_date"],
        indptr=indptr, h_nbr=h_nbr, h_edge=h_edge, f_alert=f_alert, f_node=f_node, f_row=f_row,
        f_indptr=f_indptr, f_by_node=f_by_node, a_indptr=a_indptr, a_by_alert=a_by_alert)

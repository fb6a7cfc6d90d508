"""Provenance-stamped writes into a store: every node and relationship row a load writes
carries the file, line, load id and load time it came from.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Literal

import numpy as np
import pandas as pd

from graphiff.model import Emit, End, FileKind, values
from graphiff.stores import Store


@dataclass(frozen=True)
class Provenance:
    """Where rows come from: the file name, the load, its time and the line of each row.

    Parameters
    ----------
    source : str
        The input file name (no folder), stored as ``_source``.
    load_id : str
        The load's id, stored as ``_load_id``.
    loaded_at : str
        The load's start time (UTC, ISO 8601), stored as ``_loaded_at``.
    lines : array of int, optional
        The input line of each row to stamp, stored as ``_line``; when not given, the rows'
        own ``_line`` column is kept. See :meth:`at`.
    """

    source: str
    load_id: str
    loaded_at: str
    lines: np.ndarray | None = None

    def at(self, lines: np.ndarray) -> Provenance:
        """The same provenance for rows read at ``lines`` (one per row)."""
        return replace(self, lines=np.asarray(lines))

    def stamp(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A copy of ``frame`` with the provenance columns added. Cost: one copy of the frame.

        >>> p = Provenance("traders.csv", "L1", "2024-01-01T00:00:00Z")
        >>> p.at(np.array([2])).stamp(pd.DataFrame({"key": ["T1"]})).iloc[0].to_dict()
        {'key': 'T1', '_source': 'traders.csv', '_line': 2, '_load_id': 'L1', '_loaded_at': '2024-01-01T00:00:00Z'}
        """
        out = frame.copy()
        out["_source"] = self.source
        if self.lines is not None:
            out["_line"] = self.lines.astype("int64")
        elif "_line" not in out.columns:
            raise ValueError("rows need their input lines: Provenance.at(lines) or a _line column")
        out["_load_id"] = self.load_id
        out["_loaded_at"] = self.loaded_at
        return out


def write_nodes(store: Store, label: str, frame: pd.DataFrame, prov: Provenance | None, *,
                on_conflict: Literal["update", "keep"] = "update") -> int:
    """Upsert node rows of ``label`` stamped with their provenance.

    Parameters
    ----------
    store : Store
        Where to write.
    label : str
        A node label of the model.
    frame : DataFrame
        One row per node, with a ``key`` column and the node's properties.
    prov : Provenance or None
        Where the rows come from (with their lines, or ``frame`` has a ``_line`` column); ``None``
        when ``frame`` already carries the provenance columns (as for :func:`write_rels`).
    on_conflict : {"update", "keep"}
        ``update`` overwrites properties of existing nodes, ``keep`` leaves them as they are
        (nodes derived from another file's rows never overwrite a node of its own file).

    Returns
    -------
    int
        The number of rows written. Cost: one frame copy and one store upsert.
    """
    if not len(frame):
        return 0
    store.upsert_nodes(label, frame if prov is None else prov.stamp(frame), on_conflict=on_conflict)
    return len(frame)


def rel_rows(src_label: object, src: pd.Series, dst_label: object, dst: pd.Series, prov: Provenance,
             **props: pd.Series) -> pd.DataFrame:
    """Relationship rows ``src_label, src, dst_label, dst, props..., provenance``, without the
    rows whose ``src`` or ``dst`` is missing. Labels are one string or one per row; ``prov``
    carries the line of each row."""
    df = pd.DataFrame({"src_label": src_label, "src": src.to_numpy(), "dst_label": dst_label, "dst": dst.to_numpy(),
                       **{k: v.to_numpy() for k, v in props.items()}})
    df = prov.stamp(df)
    return df[df["src"].notna() & df["dst"].notna()].reset_index(drop=True)


def write_rels(store: Store, rel_type: str, frame: pd.DataFrame, prov: Provenance | None = None) -> int:
    """Upsert relationship rows of ``rel_type``.

    Parameters
    ----------
    store : Store
        Where to write.
    rel_type : str
        A relationship type of the model.
    frame : DataFrame
        Rows with ``src_label, src, dst_label, dst`` and properties; rows with a missing end
        are dropped.
    prov : Provenance, optional
        When given, the rows are stamped with it; when not, ``frame`` already carries the
        provenance columns (as :func:`rel_rows` makes them).

    Returns
    -------
    int
        The number of rows written. Cost: one frame copy and one store upsert.
    """
    if prov is not None:
        frame = prov.stamp(frame)
    frame = frame[frame["src"].notna() & frame["dst"].notna()].reset_index(drop=True)
    store.upsert_rels(rel_type, frame)
    return len(frame)


# ---- the generic writer: file rows -> nodes and relationships, as files.yaml declares ------

class LoadContext:
    """What a load's writes need across files: the store, the load's id and time and the
    exchange rates. Lookups of stored nodes (end labels, ``lookup:`` ends) are asked of the
    store for each chunk (:meth:`Store.known_keys`, :meth:`Store.lookup_nodes`): each sees every
    write before it."""

    def __init__(self, store: Store, load_id: str, loaded_at: str):
        self.store = store
        self.load_id = load_id
        self.loaded_at = loaded_at
        self._rates: dict[tuple[str, str], float] | None = None

    def provenance(self, source: str) -> Provenance:
        """The provenance of rows of the file ``source`` in this load."""
        return Provenance(source, self.load_id, self.loaded_at)

    def forget_rates(self) -> None:
        """Re-read the exchange rates at the next conversion (rates were written)."""
        self._rates = None

    def rates(self) -> dict[tuple[str, str], float]:
        """USD per unit by ``(currency, month)``, from the stored Rate nodes."""
        if self._rates is None:
            df = self.store.nodes("Rate", ["currency", "month", "usd_per_unit"])
            self._rates = {(c, m): float(u) for c, m, u in zip(df["currency"], df["month"], df["usd_per_unit"])
                           if c and m and u == u}
        return self._rates

    def to_usd(self, amount: pd.Series, currency: pd.Series, date: pd.Series,
               given: pd.Series | None = None) -> tuple[pd.Series, pd.Series]:
        """USD values and their status (given | converted | unconvertible): the amount times
        the rate of its currency in the month of ``date``; a ``given`` USD value wins."""
        rates = self.rates()
        month = date.astype("string").str.slice(0, 7).to_numpy(dtype=object)
        cur = currency.to_numpy(dtype=object)
        rate = np.array([1.0 if c == "USD" else rates.get((c, m), np.nan) for c, m in zip(cur, month)], dtype="float64")
        usd = pd.Series(pd.to_numeric(amount, errors="coerce").to_numpy(dtype="float64", na_value=np.nan) * rate,
                        index=amount.index)
        status = pd.Series(np.where(usd.notna(), "converted", "unconvertible"), index=amount.index, dtype=object)
        if given is not None:
            g = pd.to_numeric(given, errors="coerce").astype("float64")
            usd = g.where(g.notna(), usd)
            status = status.where(g.isna(), "given")
        return usd, status


def write_rows(ctx: LoadContext, kind: FileKind, rows: pd.DataFrame, prov: Provenance) -> None:
    """Write validated rows of one file kind as files.yaml declares: the row's own node, then
    each relationship it emits (with the node of one end), then the ``after`` steps.

    ``rows`` has a ``key`` column and the normalised columns; ``prov`` carries the input line of
    each row. Cost: one store upsert per node label and relationship type written.
    """
    if kind.label:
        write_nodes(ctx.store, kind.label, _row_nodes(ctx, kind, rows), prov)
    for emit in kind.emits:
        _write_emit(ctx, kind, emit, rows, prov)
    for step in kind.after:
        getattr(ctx, step)()


def _row_nodes(ctx: LoadContext, kind: FileKind, rows: pd.DataFrame) -> pd.DataFrame:
    spec = kind.node
    new: dict[str, object] = dict(spec.set)
    for prop, how in spec.derive.items():
        values = rows[how["copy"]]
        new[prop] = values.str.slice(0, how["slice"]) if "slice" in how else values
    if spec.usd:
        u = spec.usd
        usd, status = ctx.to_usd(rows[u["amount"]], rows[u["currency"]], rows[u["date"]],
                                 rows.get(u["given"]) if u.get("given") else None)
        new[u["out"]] = usd
        new["usd_status"] = status
    return rows.assign(**new) if new else rows


def _end_values(ctx: LoadContext, end: End, rows: pd.DataFrame) -> pd.Series | None:
    """The key of this end for each row, or ``None`` when the file lacks its column."""
    if end.is_key:
        return rows["key"]
    if end.value:
        if end.value not in rows:
            return None
        rules: dict[str, Callable[..., pd.Series]] = {
            "address": values.normalise_address, "phone": values.normalise_phone, "email": values.normalise_email}
        rule = rules[end.value]
        parts = [rows[c] for c in end.parts if c in rows.columns]
        return rule(rows[end.value], *parts)
    return rows[end.column] if end.column in rows else None


def _end_labels(ctx: LoadContext, end: End, keys: pd.Series) -> object:
    """One label, or the label of each key among the candidates (first with a stored node)."""
    if len(end.labels) == 1:
        return end.labels[0]
    out = pd.Series(None, index=keys.index, dtype=object)
    for label in end.labels:
        known = pd.Series(ctx.store.known_keys(label, keys.to_numpy(dtype=object)), index=keys.index)
        out = out.where(out.notna() | ~known, label)
    return out.fillna(end.labels[0]).to_numpy()


def _write_emit(ctx: LoadContext, kind: FileKind, emit: Emit, rows: pd.DataFrame, prov: Provenance) -> None:
    if emit.target.lookup:
        _write_lookup(ctx, emit, rows, prov)
        return
    src, dst = _end_values(ctx, emit.source, rows), _end_values(ctx, emit.target, rows)
    if src is None or dst is None:
        return
    lines = prov.lines
    assert lines is not None  # write_rows is given Provenance.at(lines)
    split = emit.source if emit.source.split else emit.target if emit.target.split else None
    if split is not None:  # a list column: one relationship per item
        ex = pd.DataFrame({"src": src, "dst": dst, "line": lines}).dropna()
        side = "src" if split is emit.source else "dst"
        ex = ex.assign(**{side: ex[side].str.split(split.split)}).explode(side)
        ex = ex[ex[side].astype(str).str.len() > 0]
        src, dst, lines, rows = ex["src"], ex["dst"], ex["line"].to_numpy(), rows.loc[ex.index]
    props = _rel_props(kind, emit, rows)
    rels = rel_rows(_end_labels(ctx, emit.source, src), src, _end_labels(ctx, emit.target, dst), dst,
                    prov.at(lines), **props)
    if emit.node is not None:
        spec = emit.node
        end_key = rels["src" if spec.end == "from" else "dst"]
        has = (src.notna() & dst.notna()).to_numpy()
        cols: dict[str, object] = {"key": end_key.to_numpy()}
        for prop, source in spec.props.items():
            if isinstance(source, dict):
                cols[prop] = source["value"]
            elif source == "key":
                cols[prop] = end_key.to_numpy()
            else:
                cols[prop] = rows[source].to_numpy()[has] if source in rows else None
        nodes = pd.DataFrame(cols)
        for prop, other in spec.fallback.items():
            nodes[prop] = nodes[prop].where(nodes[prop].notna(), nodes[other])
        label = (emit.source if spec.end == "from" else emit.target).labels[0]
        write_nodes(ctx.store, label, nodes, prov.at(rels["_line"].to_numpy()), on_conflict="keep")
    write_rels(ctx.store, emit.type, rels)


def _rel_props(kind: FileKind, emit: Emit, rows: pd.DataFrame) -> dict[str, pd.Series]:
    listed = [c for c in emit.props if c != "*" and c in rows]
    props = {c: rows[c] for c in listed}
    if "*" in emit.props:
        ends = {emit.source.source_column, emit.target.source_column, "key"}
        props.update({c: rows[c] for c in rows.columns if c not in ends and c not in props})
    return props


def _write_lookup(ctx: LoadContext, emit: Emit, rows: pd.DataFrame, prov: Provenance) -> None:
    """Relationships to stored nodes matched by property (:meth:`Store.lookup_nodes`)."""
    end = emit.target
    hit = ctx.store.lookup_nodes(end.labels[0], rows.reset_index(drop=True), end.lookup)
    if len(hit):
        pos = hit["row"].to_numpy()
        lk = pd.DataFrame({"p": rows["key"].to_numpy()[pos], "key": hit["key"].to_numpy(),
                           "line": np.asarray(prov.lines)[pos]})
        if len(lk):
            write_rels(ctx.store, emit.type, rel_rows(_end_labels(ctx, emit.source, lk["p"]), lk["p"], end.labels[0],
                                                      lk["key"], prov.at(lk["line"].to_numpy())))

"""A Parquet snapshot of a store's graph: what an engine that does not read the store reads.

``graphiff snapshot --out DIR`` writes every node label and relationship type of a store as
Parquet, the records as :class:`~graphiff.graph.tables.Tables` reads them (``raw``: as loaded,
``SAME_AS`` included, so a reader resolves entities the same way), **partitioned by kind and
month**::

    DIR/snapshot.json                              the manifest (below)
    DIR/nodes/Declaration/snap_month=2024-03/*.parquet  a dated label: by the month of its date
    DIR/nodes/Trader/snap_month=none/*.parquet          an undated one: one partition
    DIR/rels/EXPORTED/snap_month=2024-03/*.parquet      a relationship: by the month of its dated end

Every file keeps the Arrow schema of the store's frame (its pandas metadata included), plus a
``__row`` column: the row's position in the store's table, so a reader can rebuild a frame in
the store's order (:func:`frame_from_json`). Spark and any Parquet reader take the folders as
they are (hive partitioning); ``snapshot.json`` lists the kinds, their row counts and their
schemas::

    {"format": "graphiff-snapshot/1", "nodes": {"Declaration": {"rows": 3672, "dated": "date",
     "schema": "<base64 Arrow IPC schema>"}, ...},
     "rels": {"EXPORTED": {"rows": 3672, "ends": [["Trader", "Declaration"]], "schema": "..."}, ...}}
"""
from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any, Callable, Iterable

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.json as pajson
import pyarrow.parquet as pq

from graphiff.errors import GraphiffError, InvalidInput
from graphiff.model.identity import REL_ENDS
from graphiff.stores.base import Store

__all__ = ["SNAPSHOT_FORMAT", "ROW", "MONTH", "NO_MONTH", "write_snapshot", "read_manifest", "schema_of",
           "frame_from_json", "read_kind"]

SNAPSHOT_FORMAT = "graphiff-snapshot/1"
ROW = "__row"  # the row's position in the store's table
MONTH = "snap_month"  # the partition column (not "month": a Rate has one)
NO_MONTH = "none"  # the partition of undated rows
DATE_COLUMN = "date"

Progress = Callable[[str, str, int], None]


def _months(frame: pd.DataFrame) -> pd.Series | None:
    """``YYYY-MM`` of each row's ``date`` (``none`` when missing), or None for an undated kind."""
    if DATE_COLUMN not in frame.columns:
        return None
    text = frame[DATE_COLUMN].astype("string").str.slice(0, 7)
    ok = text.str.fullmatch(r"\d{4}-\d{2}").fillna(False).astype(bool)
    return text.where(ok, NO_MONTH).fillna(NO_MONTH).astype(str)


def _encode(schema: pa.Schema) -> str:
    return base64.b64encode(schema.serialize().to_pybytes()).decode("ascii")


class _KindWriter:
    """Writes one kind under ``folder``, piece by piece, partitioned by month: every piece with
    the first piece's Arrow schema (a column all null in one piece is cast to it) and ``__row``
    numbering on from the pieces before."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.rows = 0
        self.pieces = 0
        self.schema: pa.Schema | None = None

    def write(self, frame: pd.DataFrame, months: pd.Series | None) -> None:
        frame = frame.reset_index(drop=True)
        frame[ROW] = range(self.rows, self.rows + len(frame))
        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self.schema is None:
            self.schema = table.schema
        elif not table.schema.equals(self.schema):
            table = table.cast(self.schema)
        month = months.to_numpy(dtype=object) if months is not None else [NO_MONTH] * len(frame)
        table = table.append_column(MONTH, pa.array(month, type=pa.string()))
        ds.write_dataset(table, self.folder, format="parquet", partitioning=ds.partitioning(
            pa.schema([(MONTH, pa.string())]), flavor="hive"), existing_data_behavior="overwrite_or_ignore",
            basename_template=f"part-{self.pieces}-{{i}}.parquet")
        self.rows += len(frame)
        self.pieces += 1


def write_snapshot(store: Store, out: str | Path, *, overwrite: bool = False,
                   progress: Progress | None = None, rows: int = 500_000) -> dict[str, Any]:
    """Write the graph of ``store`` as a Parquet snapshot in ``out`` (layout: module docstring).

    Parameters
    ----------
    store : Store
        Any store; its records are read as loaded, piece by piece (``Store.iter_nodes`` /
        ``Store.iter_rels``).
    out : path
        The snapshot folder. It must be new or empty unless ``overwrite`` (then it is replaced).
    progress : callable, optional
        ``progress(kind, name, rows)`` after each label or type is written.
    rows : int, default 500,000
        The rows of a piece read from the store (``Store.iter_nodes``).

    Returns
    -------
    dict
        The manifest written to ``out/snapshot.json``.

    Cost: one read of every table of the store and one Parquet write. Memory: one piece of a
    table (a whole table on a store that cannot page), plus the key and month of every dated node (relationships take
    the month of their dated end).
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise InvalidInput("the snapshot folder is not empty (use --overwrite to replace it)", file=str(out))
        if not (out / "snapshot.json").is_file():
            raise InvalidInput("refusing to replace a folder that is not a graphiff snapshot", file=str(out))
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    counts = store.counts()
    manifest: dict[str, Any] = {"format": SNAPSHOT_FORMAT, "nodes": {}, "rels": {}}
    dates: dict[str, pd.Series] = {}  # dated label -> month by key
    for label in sorted(counts.get("nodes", {})):
        writer = _KindWriter(out / "nodes" / label)
        keyed: list[pd.Series] = []
        dated = False
        for frame in store.iter_nodes(label, rows):
            months = _months(frame)
            if months is not None:
                dated = True
                keyed.append(pd.Series(months.to_numpy(), index=frame["key"].astype(str).to_numpy()))
            writer.write(frame, months)
        if keyed:
            by_key = pd.concat(keyed)
            dates[label] = by_key[~by_key.index.duplicated()]
        manifest["nodes"][label] = {"rows": writer.rows, "dated": DATE_COLUMN if dated else None,
                                    "schema": _encode(writer.schema)}
        if progress:
            progress("nodes", label, writer.rows)
    for rel_type in sorted(counts.get("relationships", {})):
        writer = _KindWriter(out / "rels" / rel_type)
        ends: set[tuple[str, str]] = set()
        for frame in store.iter_rels(rel_type, rows):
            writer.write(frame, _rel_months(frame, dates))
            if len(frame):
                ends.update((str(a), str(b)) for a, b in
                            frame[["src_label", "dst_label"]].drop_duplicates().itertuples(index=False))
        manifest["rels"][rel_type] = {"rows": writer.rows, "schema": _encode(writer.schema),
                                      "ends": sorted([a, b] for a, b in ends)}
        if progress:
            progress("rels", rel_type, writer.rows)
    (out / "snapshot.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return manifest


def _rel_months(frame: pd.DataFrame, dates: dict[str, pd.Series]) -> pd.Series | None:
    """The month of each relationship: of its dated end (the source first), else None."""
    for end, label_col in (("src", "src_label"), ("dst", "dst_label")):
        if not len(frame) or label_col not in frame.columns:
            continue
        labels = set(frame[label_col].astype(str).unique())
        dated = [lbl for lbl in labels if lbl in dates]
        if len(dated) != 1 or len(labels) != 1:
            continue
        m = frame[end].astype(str).map(dates[dated[0]])
        return m.fillna(NO_MONTH).astype(str)
    return None


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest of the snapshot in ``folder``; a folder that is not one raises
    :class:`InvalidInput` naming it."""
    path = Path(folder) / "snapshot.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"not a graphiff snapshot ({exc}); write one with `graphiff snapshot --out DIR`",
                           file=str(folder)) from None
    if not isinstance(manifest, dict) or manifest.get("format") != SNAPSHOT_FORMAT:
        raise InvalidInput(f"not a {SNAPSHOT_FORMAT} snapshot", file=str(path))
    return manifest


def schema_of(manifest: dict[str, Any], kind: str, name: str) -> pa.Schema:
    """The Arrow schema of ``kind`` (``nodes`` / ``rels``) ``name`` in a snapshot's manifest."""
    try:
        raw = base64.b64decode(manifest[kind][name]["schema"])
    except KeyError:
        raise GraphiffError(f"the snapshot has no {kind} {name!r}") from None
    return pa.ipc.read_schema(pa.py_buffer(raw))


def _empty(kind: str) -> pd.DataFrame:
    return pd.DataFrame(columns=["key"] if kind == "nodes" else list(REL_ENDS))


def frame_from_json(rows: Iterable[str], schema: pa.Schema) -> pd.DataFrame:
    """The frame the store gave, rebuilt from rows of a snapshot kind written as JSON objects,
    one per string (as Spark's ``to_json`` writes them; in any order, missing keys read as
    null, other keys ignored): the ``schema``'s types and pandas metadata, the store's row
    order (``__row``), without ``__row`` and the partition column. Arrow's JSON reader parses
    them: no Python object per value.

    >>> import pandas as pd, pyarrow as pa
    >>> f = pd.DataFrame({"key": ["a", "b"], "n": [1, 2]})
    >>> f["__row"] = [0, 1]
    >>> s = pa.Table.from_pandas(f, preserve_index=False).schema
    >>> frame_from_json(['{"key": "b", "n": 2, "__row": 1, "snap_month": "none"}', '{"key": "a", "__row": 0}'], s)
      key    n
    0   a  NaN
    1   b  2.0
    """
    data = "\n".join(rows).encode("utf-8")
    plain = pa.schema(list(schema))  # the reader takes the fields; the metadata is put back below
    if data:
        options = pajson.ParseOptions(explicit_schema=plain, unexpected_field_behavior="ignore")
        parsed = pajson.read_json(pa.BufferReader(data), parse_options=options)
        table = pa.Table.from_arrays([parsed.column(n) for n in schema.names], schema=schema)
    else:
        table = schema.empty_table()
    if ROW in schema.names:
        table = table.sort_by(ROW).drop_columns([ROW])
    return table.to_pandas().reset_index(drop=True)


def read_kind(folder: str | Path, manifest: dict[str, Any], kind: str, name: str) -> pd.DataFrame:
    """One whole kind of a snapshot as the store's frame (an empty frame when it has none)."""
    if name not in manifest.get(kind, {}):
        return _empty(kind)
    schema = schema_of(manifest, kind, name)
    path = Path(folder) / kind / name
    table = pq.read_table(path, schema=schema) if path.exists() else schema.empty_table()
    if ROW in table.column_names:
        table = table.sort_by(ROW).drop_columns([ROW])
    return table.to_pandas().reset_index(drop=True)

"""Readers: CSV, XLSX, JSON Lines and Parquet files -> chunks of string columns.

Every reader yields :class:`Chunk` objects: a DataFrame whose cells are strings (``""`` for a
missing value), the source line of each row, and the rows that could not be parsed at all
(wrong field count, not a JSON object, a value that is not text), so nothing read is lost.

What a reader refuses (fatal :class:`InvalidInput` naming the file): a text file (CSV, JSON
Lines) with a NUL byte or a byte that is not UTF-8 anywhere in it, a file it cannot parse, and a
CSV or XLSX file without a header row ("empty file or no header row"; XLSX: row 1 of the first
sheet, which the message names).
What becomes a text value: JSON and Parquet numbers as written (``NaN`` and ``Infinity`` as
those words, so a numeric column quarantines them), nested objects and lists as JSON text,
Parquet binary values decoded as UTF-8 (a value that is not UTF-8 quarantines its row).
Lines are physical lines of the file (header = line 1 for a file starting with its header),
counted across quoted values that span lines and blank lines.
"""
from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from graphiff.errors import InvalidInput
from graphiff.ingest.textfile import BadRow, LineCounter, batch_line_breaks, record_lines, scan_text

SUFFIXES = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".jsonl": "jsonl",
            ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet"}
CHUNK_ROWS = 500_000


@dataclass
class Chunk:
    frame: pd.DataFrame                 # all columns as str, "" = missing
    lines: np.ndarray                   # source line (1 = header) per row
    bad_rows: list[BadRow] = field(default_factory=list)


def file_format(path: Path) -> str:
    try:
        return SUFFIXES[path.suffix.lower()]
    except KeyError:
        raise InvalidInput(f"unsupported file type {path.suffix!r} (use .csv, .xlsx, .jsonl or .parquet)",
                           file=path.name) from None


def header(path: Path) -> list[str]:
    """The column names of a file (stripped), without reading it all (JSON Lines: the keys of
    the rows of its first chunk, in order of first appearance)."""
    fmt = file_format(path)
    if not path.exists():
        raise InvalidInput("file not found", file=path.name)
    if fmt == "csv":
        scan_text(path)
        cols = [c.strip() for c in _csv_header(path)[0]]
        if not any(cols):
            raise InvalidInput("empty file or no header row", file=path.name)
        return cols
    if fmt == "parquet":
        try:
            return [str(n).strip() for n in pq.read_schema(path).names]
        except Exception as exc:  # noqa: BLE001 - any reader failure is a fatal input problem
            raise InvalidInput(f"cannot read parquet file: {exc}", file=path.name) from None
    for chunk in read_chunks(path):
        return list(chunk.frame.columns)
    return []


def _delimiter(path: Path) -> str:
    return "\t" if path.suffix.lower() == ".tsv" else ","


def _csv_header(path: Path) -> tuple[list[str], int]:
    """The header record as written (the first non-empty record) and the line it ends on."""
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, delimiter=_delimiter(path))
            for rec in reader:
                if rec:
                    return rec, reader.line_num
    except csv.Error as exc:
        raise InvalidInput(f"cannot read the header row: {exc}", file=path.name) from None
    return [], 0


def read_chunks(path: Path, chunk_rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
    """Yield the file as chunks of string columns with their source line numbers.

    Unnamed columns at the end of the header (a trailing comma) are left out; a row with a
    value under one is a bad row. Cost: one pass over the file (text files: one more to check
    their bytes, and for CSV files with blank lines one more to count lines).
    """
    fmt = file_format(path)
    if not path.exists():
        raise InvalidInput("file not found", file=path.name)
    readers = {"csv": _read_csv, "jsonl": _read_jsonl, "parquet": _read_parquet, "xlsx": _read_xlsx}
    for chunk in readers[fmt](path, chunk_rows):
        yield _drop_unnamed(chunk)


def _drop_unnamed(chunk: Chunk) -> Chunk:
    """``chunk`` without the unnamed columns at its end; rows with a value there become bad rows."""
    names = [str(c) for c in chunk.frame.columns]
    n = len(names)
    while n and not names[n - 1].strip():
        n -= 1
    if n == len(names):
        return chunk
    frame = chunk.frame
    has = np.zeros(len(frame), dtype=bool)
    for j in range(n, len(names)):
        has |= (frame.iloc[:, j].astype(object).fillna("").astype(str).str.strip() != "").to_numpy()
    bad = [BadRow(int(chunk.lines[i]), ",".join(str(v) for v in frame.iloc[i].tolist()),
                  "a value under a column without a name (the header ends with an empty name)")
           for i in np.flatnonzero(has)]
    keep = frame.iloc[:, :n].loc[~has].reset_index(drop=True)
    return Chunk(keep, chunk.lines[~has], chunk.bad_rows + bad)


# ---- one cell as text (JSON Lines, Parquet) ---------------------------------------------

class NotText(ValueError):
    """A value that cannot be text (bytes that are not UTF-8, nesting too deep)."""


def _float_text(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def cell_text(v: Any) -> str:
    """One JSON or Parquet value as the text a CSV cell would hold.

    >>> [cell_text(v) for v in (None, 40.0, float("nan"), b"Acme", {"a": [1, 2]}, True, 7)]
    ['', '40', 'NaN', 'Acme', '{"a": [1, 2]}', 'True', '7']
    """
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, float):
        return _float_text(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        try:
            return bytes(v).decode("utf-8")
        except UnicodeDecodeError:
            raise NotText("binary value that is not UTF-8 text") from None
    if isinstance(v, (dict, list, tuple)):
        try:
            return json.dumps(v, ensure_ascii=False, default=str, allow_nan=True)
        except (RecursionError, ValueError, TypeError):
            raise NotText("nested value too deep or not JSON") from None
    return str(v)


# ---- CSV ----------------------------------------------------------------------------------

def _read_csv(path: Path, chunk_rows: int) -> Iterator[Chunk]:
    scan = scan_text(path)
    raw_cols, header_end = _csv_header(path)
    cols = [c.strip() for c in raw_cols]
    if not cols or all(not c for c in cols):
        raise InvalidInput("empty file or no header row", file=path.name)
    bad: list[BadRow] = []

    def on_invalid(row) -> str:  # pyarrow InvalidRow
        bad.append(BadRow(row.number, row.text,
                          f"wrong field count: expected {row.expected_columns}, found {row.actual_columns}"))
        return "skip"

    def empty(bads: list[BadRow]) -> Chunk:
        return Chunk(pd.DataFrame({i: pd.Series(dtype=object) for i in range(len(cols))}).set_axis(cols, axis=1),
                     np.array([], dtype=np.int64), bads)

    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(use_threads=False, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=_delimiter(path), invalid_row_handler=on_invalid,
                                             newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in raw_cols},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except pa.ArrowInvalid as exc:
        if "Empty CSV file" in str(exc):  # a header without a final newline and no rows
            yield empty([])
            return
        raise InvalidInput(f"cannot read CSV: {exc}", file=path.name) from None
    except OSError as exc:
        raise InvalidInput(f"cannot read CSV: {exc}", file=path.name) from None
    if [str(n).strip() for n in reader.schema.names] != cols:
        raise InvalidInput("cannot read the header row (check its quotes)", file=path.name)
    counter = LineCounter(header_end + 1, record_lines(path, _delimiter(path)) if scan.blank_lines else None)
    placed = 0                       # bad rows with their physical line set
    pending: list[tuple[pd.DataFrame, np.ndarray]] = []
    pending_n, reported = 0, 0

    def flush() -> Chunk:
        nonlocal pending, pending_n, reported
        frames = [f for f, _ in pending]
        df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
        df.columns = cols
        lines = np.concatenate([ln for _, ln in pending]).astype(np.int64)
        new_bad = bad[reported:placed]
        reported = placed
        pending, pending_n = [], 0
        return Chunk(df, lines, list(new_bad))

    yielded = False
    try:
        for batch in reader:
            breaks = batch_line_breaks(batch) if scan.has_quote else np.zeros(batch.num_rows, dtype=np.int64)
            lines, m = counter.place(batch.num_rows, breaks, bad[placed:])
            placed += m
            frame = batch.rename_columns([str(i) for i in range(batch.num_columns)]).to_pandas()
            pending.append((frame, lines))
            pending_n += batch.num_rows
            if pending_n >= chunk_rows:
                yield flush()
                yielded = True
    except pa.ArrowInvalid as exc:
        raise InvalidInput(f"cannot parse CSV: {exc}", file=path.name) from None
    _, m = counter.place(0, np.zeros(0, dtype=np.int64), bad[placed:], last=True)
    placed += m
    if pending:
        yield flush()
    elif bad[reported:] or not yielded:
        yield empty(list(bad[reported:]))


# ---- JSON Lines --------------------------------------------------------------------------

def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _jsonl_frame(rows: list[dict[str, str]]) -> pd.DataFrame:
    names: dict[str, None] = {}
    for r in rows:
        names.update(dict.fromkeys(r))
    return pd.DataFrame({c: pd.Series([r.get(c, "") for r in rows], dtype=object) for c in names},
                        index=pd.RangeIndex(len(rows)))


def _read_jsonl(path: Path, chunk_rows: int) -> Iterator[Chunk]:
    scan_text(path)
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    bad: list[BadRow] = []
    yielded = False
    try:
        with path.open("r", encoding="utf-8-sig") as fh:
            for i, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                text = line.rstrip("\r\n")
                try:
                    obj = json.loads(line, object_pairs_hook=_unique_keys, parse_constant=float)
                    if not isinstance(obj, dict):
                        raise ValueError("not an object")
                except RecursionError:
                    bad.append(BadRow(i, text, "not a JSON object: nested too deeply"))
                    continue
                except ValueError as exc:
                    bad.append(BadRow(i, text, f"not a JSON object: {exc}"))
                    continue
                cells: dict[str, str] = {}
                for k, v in obj.items():
                    name = k.strip()
                    try:
                        cells[name] = value = cell_text(v)
                    except NotText as exc:
                        bad.append(BadRow(i, text, str(exc), column=name))
                        break
                    if "\x00" in value:
                        bad.append(BadRow(i, text, "value holds a NUL character", column=name))
                        break
                else:
                    if len(cells) < len(obj):
                        bad.append(BadRow(i, text, "not a JSON object: duplicate key after stripping spaces"))
                        continue
                    rows.append(cells)
                    lines.append(i)
                if len(rows) >= chunk_rows:
                    yield Chunk(_jsonl_frame(rows), np.asarray(lines, dtype=np.int64), bad)
                    rows, lines, bad, yielded = [], [], [], True
    except UnicodeDecodeError as exc:  # scan_text checked the file; it changed since
        raise InvalidInput(f"not UTF-8 text: {exc.reason}", file=path.name) from None
    if rows or bad or not yielded:
        yield Chunk(_jsonl_frame(rows), np.asarray(lines, dtype=np.int64), bad)


# ---- XLSX and Parquet ---------------------------------------------------------------------

def _read_xlsx(path: Path, chunk_rows: int) -> Iterator[Chunk]:
    try:
        raw = pd.read_excel(path, header=None, dtype=str, keep_default_na=False, engine="openpyxl")
    except Exception as exc:  # noqa: BLE001 - any reader failure is a fatal input problem
        raise InvalidInput(f"cannot read xlsx file: {exc}", file=path.name) from None
    cols = [str(c).strip() for c in raw.iloc[0].tolist()] if len(raw) else []
    if not any(cols):  # an empty sheet, or a blank first row: the header is row 1
        raise InvalidInput(f"empty file or no header row: first sheet {_first_sheet(path)!r} has no header row "
                           "(graphiff reads the first sheet; its row 1 names the columns)", file=path.name)
    frame = raw.iloc[1:].reset_index(drop=True).astype(object)
    frame.columns = cols
    # line = sheet row: the header is row 1
    for start in range(0, max(len(frame), 1), chunk_rows):
        part = frame.iloc[start:start + chunk_rows].reset_index(drop=True)
        yield Chunk(part, np.arange(start + 2, start + 2 + len(part), dtype=np.int64))


def _first_sheet(path: Path) -> str:
    """The name of the first sheet of a workbook (the one :func:`_read_xlsx` reads)."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return str(wb.worksheets[0].title)
    finally:
        wb.close()


def _arrow_texts(arr: pa.Array) -> tuple[np.ndarray, np.ndarray, str]:
    """One Parquet column as text cells, the rows whose value cannot be text, and why."""
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    t = arr.type
    n = len(arr)
    ok = np.ones(n, dtype=bool)
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        try:
            arr = arr.cast(pa.string())
            t = arr.type
        except pa.ArrowInvalid:
            pass  # some value is not UTF-8: found value by value below
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        texts = arr.fill_null("").to_numpy(zero_copy_only=False).astype(object)
        nul = pc.match_substring(arr, "\x00").fill_null(False).to_numpy(zero_copy_only=False)
        texts[nul] = [repr(v) for v in texts[nul]]
        return texts, ~nul, "value holds a NUL character"
    if pa.types.is_integer(t):
        return pc.cast(arr, pa.string()).fill_null("").to_numpy(zero_copy_only=False).astype(object), ok, ""
    if pa.types.is_floating(t):
        null = arr.is_null().to_numpy(zero_copy_only=False)
        vals = arr.to_numpy(zero_copy_only=False).astype("float64")
        texts = np.array(["" if z else _float_text(float(v)) for v, z in zip(vals, null)], dtype=object)
        return texts, ok, ""
    texts = np.empty(n, dtype=object)
    reason = ""
    for i, v in enumerate(arr.to_pylist()):
        try:
            texts[i] = cell_text(v)
        except NotText as exc:
            texts[i], ok[i], reason = repr(v)[:200], False, str(exc)
    return texts, ok, reason


def _read_parquet(path: Path, chunk_rows: int) -> Iterator[Chunk]:
    try:
        pf = pq.ParquetFile(path)
        names = [str(n).strip() for n in pf.schema_arrow.names]
        start = 0
        yielded = False
        for batch in pf.iter_batches(batch_size=chunk_rows):
            cols: dict[int, np.ndarray] = {}
            bad_mask = np.zeros(batch.num_rows, dtype=bool)
            bads: list[BadRow] = []
            for j, arr in enumerate(batch.columns):
                texts, ok, reason = _arrow_texts(arr)
                cols[j] = texts
                for i in np.flatnonzero(~ok & ~bad_mask):
                    bads.append(BadRow(start + 2 + int(i), str(texts[i]), reason, column=names[j]))
                bad_mask |= ~ok
            frame = pd.DataFrame(cols, index=pd.RangeIndex(batch.num_rows)).set_axis(names, axis=1)
            keep = ~bad_mask
            lines = np.arange(start + 2, start + 2 + batch.num_rows, dtype=np.int64)
            yield Chunk(frame.loc[keep].reset_index(drop=True), lines[keep], bads)
            yielded = True
            start += batch.num_rows
        if not yielded:
            yield Chunk(pd.DataFrame({i: pd.Series(dtype=object) for i in range(len(names))}).set_axis(names, axis=1),
                        np.array([], dtype=np.int64))
    except InvalidInput:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure is a fatal input problem
        raise InvalidInput(f"cannot read parquet file: {exc}", file=path.name) from None

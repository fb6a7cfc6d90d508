"""Readers: CSV, XLSX, JSON Lines and Parquet files -> chunks of string columns.

Every reader yields :class:`Chunk` objects: a DataFrame whose cells are strings (``""`` for a
missing value), the source line of each row, and the rows that could not be parsed at all
(wrong field count), so nothing read is lost.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from graphiff.errors import InvalidInput

SUFFIXES = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".jsonl": "jsonl",
            ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet"}
CHUNK_ROWS = 500_000


@dataclass
class BadRow:
    line: int | None
    text: str
    reason: str


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


def _check_text(path: Path) -> None:
    try:
        with path.open("rb") as fh:
            head = fh.read(65536)
    except OSError as exc:
        raise InvalidInput(f"cannot read: {exc.strerror or exc}", file=path.name) from None
    if b"\x00" in head:
        raise InvalidInput("not a text file (binary content)", file=path.name)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a multi-byte char cut at the buffer end
            raise InvalidInput(f"not UTF-8 text (byte {exc.start})", file=path.name) from None


def header(path: Path) -> list[str]:
    """The column names of a file, without reading it all."""
    fmt = file_format(path)
    if fmt == "csv":
        _check_text(path)
        with path.open("r", encoding="utf-8-sig", errors="replace") as fh:
            first = fh.readline()
        import csv

        return [c.strip() for c in next(csv.reader([first], delimiter=_delimiter(path)), [])]
    for chunk in read_chunks(path):
        return list(chunk.frame.columns)
    return []


def _delimiter(path: Path) -> str:
    return "\t" if path.suffix.lower() == ".tsv" else ","


def _to_str_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_float_dtype(s):
            s = s.map(lambda v: "" if pd.isna(v) else (str(int(v)) if float(v).is_integer() and abs(v) < 1e15
                                                       else repr(float(v))))
        else:
            s = s.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
        out[str(c).strip()] = s.astype(object)
    return pd.DataFrame(out, index=df.index)


def read_chunks(path: Path, chunk_rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
    """Yield the file as chunks of string columns with their source line numbers."""
    fmt = file_format(path)
    if not path.exists():
        raise InvalidInput("file not found", file=path.name)
    if fmt == "csv":
        yield from _read_csv(path, chunk_rows)
        return
    try:
        if fmt == "xlsx":
            df = pd.read_excel(path, dtype=str, keep_default_na=False, engine="openpyxl")
        elif fmt == "parquet":
            df = pd.read_parquet(path)
        else:
            _check_text(path)
            rows, bad = [], []
            with path.open("r", encoding="utf-8-sig") as fh:
                for i, line in enumerate(fh, start=1):
                    if not line.strip():
                        continue
                    try:
                        obj = json.loads(line)
                        if not isinstance(obj, dict):
                            raise ValueError("not an object")
                        rows.append((i, obj))
                    except ValueError as exc:
                        bad.append(BadRow(i, line.rstrip("\n"), f"not a JSON object: {exc}"))
            df = pd.DataFrame([r for _, r in rows])
            lines = np.array([i for i, _ in rows], dtype=np.int64)
            frame = _to_str_frame(df) if len(df.columns) else df
            yield Chunk(frame.reset_index(drop=True), lines, bad)
            return
    except InvalidInput:
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure is a fatal input problem
        raise InvalidInput(f"cannot read {fmt} file: {exc}", file=path.name) from None
    frame = _to_str_frame(df)
    # XLSX/Parquet: line = row number + 1 (header is line 1)
    for start in range(0, max(len(frame), 1), chunk_rows):
        part = frame.iloc[start:start + chunk_rows].reset_index(drop=True)
        yield Chunk(part, np.arange(start + 2, start + 2 + len(part), dtype=np.int64))


def _read_csv(path: Path, chunk_rows: int) -> Iterator[Chunk]:
    _check_text(path)
    cols = header(path)
    if not cols or all(not c for c in cols):
        raise InvalidInput("empty file or no header row", file=path.name)
    bad: list[BadRow] = []

    def on_invalid(row) -> str:  # pyarrow InvalidRow
        bad.append(BadRow(row.number, row.text,
                          f"wrong field count: expected {row.expected_columns}, found {row.actual_columns}"))
        return "skip"

    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(use_threads=False, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=_delimiter(path), invalid_row_handler=on_invalid,
                                             newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in cols},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInput(f"cannot read CSV: {exc}", file=path.name) from None
    seen = 0
    reported = 0
    skipped_lines: list[int] = []
    pending: list[pd.DataFrame] = []
    pending_n = 0

    def flush(frames: list[pd.DataFrame]) -> Chunk:
        nonlocal seen, reported
        df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
        lines = np.arange(seen + 2, seen + 2 + len(df), dtype=np.int64)
        for s in sorted(skipped_lines):   # shift past rows the parser skipped
            lines[lines >= s] += 1
        seen += len(df)
        new_bad = bad[reported:]
        reported = len(bad)
        df.columns = [c.strip() for c in df.columns]
        return Chunk(df, lines, list(new_bad))

    try:
        for batch in reader:
            skipped_lines.extend(b.line for b in bad[len(skipped_lines):] if b.line is not None)
            pending.append(batch.to_pandas())
            pending_n += batch.num_rows
            if pending_n >= chunk_rows:
                yield flush(pending)
                pending, pending_n = [], 0
    except pa.ArrowInvalid as exc:
        raise InvalidInput(f"cannot parse CSV: {exc}", file=path.name) from None
    skipped_lines.extend(b.line for b in bad[len(skipped_lines):] if b.line is not None)
    if pending or bad[reported:] or seen == 0:
        yield flush(pending) if pending else Chunk(pd.DataFrame(columns=cols, dtype=object),
                                                   np.array([], dtype=np.int64), list(bad[reported:]))

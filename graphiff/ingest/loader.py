"""The load: discover files, read them in chunks, map, validate, quarantine the bad rows and
hand the good ones to the writer (:mod:`graphiff.ingest.writer`), which writes them as
files.yaml declares."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
import pandas as pd

from graphiff.errors import InvalidInput
from graphiff.ingest.mapping import Mapping, load_mapping
from graphiff.ingest.quarantine import Quarantine
from graphiff.ingest.readers import SUFFIXES, Chunk, header, read_chunks
from graphiff.ingest.validate import validate
from graphiff.ingest.writer import LoadContext, write_rows
from graphiff.model import FileKind, model
from graphiff.model import values as nz
from graphiff.stores import Store

KIND_ORDER = list(model().load_order)
Progress = Callable[[str, int], None]


@dataclass
class LoadResult:
    load_id: str
    loaded: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    quarantine: str | None = None
    files: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"load_id": self.load_id, "loaded": self.loaded, "quarantined": self.quarantined,
                "quarantine": self.quarantine, "files": self.files}


@dataclass
class _Source:
    path: Path
    kind: str
    mapping: Mapping | None


def kind_of_name(stem: str) -> str:
    """The file kind a name says: ``declarations``, ``declarations_2024`` or ``rates-krw`` ..."""
    stem = stem.lower()
    for kind in KIND_ORDER:
        if stem == kind or stem.startswith((kind + "_", kind + "-", kind + ".")):
            return kind
    return stem


def discover(paths: Iterable[str | Path], mappings: list[Mapping]) -> list[_Source]:
    """Which file is which kind: a mapping's ``match``, else the canonical file name."""
    out: list[_Source] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise InvalidInput("no such file or folder", file=str(raw))
        candidates = sorted(f for f in p.iterdir() if f.is_file()) if p.is_dir() else [p]
        for f in candidates:
            mapping = next((m for m in mappings if m.applies_to(f)), None)
            kind = mapping.kind if mapping else kind_of_name(f.stem)
            if f.suffix.lower() not in SUFFIXES or kind not in model().files:
                if p.is_dir():
                    continue  # a folder may hold other files (truth.json, README...)
                raise InvalidInput("cannot tell what this file holds: name it after its kind, e.g. declarations.csv "
                                   "or declarations_2024.csv "
                                   f"({', '.join(KIND_ORDER)}) or give a --mapping", file=f.name)
            out.append(_Source(f, kind, mapping))
    if not out:
        raise InvalidInput("no input files found (expected canonical names such as declarations.csv)",
                           file=", ".join(str(p) for p in paths))
    return sorted(out, key=lambda s: (KIND_ORDER.index(s.kind), s.path.name))


def load_id_for(sources: list[_Source]) -> str:
    """A load id from the content of the files and mappings: the same input, the same id."""
    h = hashlib.sha256()
    for s in sources:
        h.update(s.kind.encode())
        with s.path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        if s.mapping:
            h.update(repr(s.mapping).encode())
    return "L" + h.hexdigest()[:12]


def load_paths(store: Store, paths: Iterable[str | Path], *, mappings: Iterable[str | Path] = (),
               quarantine_dir: str | Path = "quarantine", progress: Progress | None = None) -> LoadResult:
    """Load files or folders into ``store``.

    Good rows are upserted (idempotent); bad rows go to ``quarantine_dir/<load_id>.csv`` with
    file, line, column, value and reason. Fatal problems raise :class:`InvalidInput`.

    All or nothing: the writes of every file and the load record are one unit of work
    (:meth:`graphiff.stores.base.Store.atomic`); when anything fails, the store is left as it
    was and no quarantine file is written.
    """
    maps = [load_mapping(m) for m in mappings]
    sources = discover(paths, maps)
    for s in sources:  # fail fast on fatal header problems before writing anything
        _check_header(s)
    load_id = load_id_for(sources)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    quarantine = Quarantine(Path(quarantine_dir) / f"{load_id}.csv")
    result = LoadResult(load_id)
    previous = next((d for d in store.loads() if d.get("load_id") == load_id), None)
    # all or nothing: every write and the load record commit together, and the quarantine file
    # appears only then; any failure (KeyboardInterrupt too) leaves the store and the folder as they were
    try:
        with store.atomic(load_id):
            ctx = LoadContext(store, load_id, now)
            for s in sources:
                ctx.new_file()
                loaded = 0
                seen: dict[str, int] = {}
                for chunk in read_chunks(s.path):
                    n = _load_chunk(ctx, s, chunk, quarantine, seen)
                    loaded += n
                    if progress:
                        progress(s.kind, len(chunk.frame) + len(chunk.bad_rows))
                result.loaded[s.kind] = result.loaded.get(s.kind, 0) + loaded
                result.files.append({"file": s.path.name, "kind": s.kind, "loaded": loaded})
            quarantine.close()
            result.quarantined = {k: int(v) for k, v in quarantine.rows_by_kind.items()}
            for k in result.loaded:
                result.quarantined.setdefault(k, 0)
            result.quarantine = str(quarantine.path) if quarantine.total else None
            info = result.to_dict() | {"loaded_at": now}
            info["first_loaded_at"] = previous.get("first_loaded_at", now) if previous else now
            store.record_load(info)
    except BaseException:
        quarantine.discard()
        raise
    quarantine.publish()
    return result


def _check_header(s: _Source) -> None:
    cols = header(s.path)
    if s.mapping:
        s.mapping.check_columns(s.path.name, cols)
        cols = [r.target for r in s.mapping.rules]
    kind = model().files[s.kind]
    for c in kind.required:
        if c not in cols:
            raise InvalidInput(f"missing required column for {s.kind}", file=s.path.name, column=c)
    if s.kind == "declarations" and "exporter_id" not in cols and "importer_id" not in cols:
        raise InvalidInput("declarations need an exporter_id or importer_id column", file=s.path.name,
                           column="exporter_id")
    if s.kind == "rates" and "month" not in cols and "date" not in cols:
        raise InvalidInput("rates need a month or date column", file=s.path.name, column="month")


def key_of(kind: FileKind, df: pd.DataFrame) -> pd.Series:
    """The key of each row: its key columns joined with the kind's separator."""
    key = df[kind.key[0]].astype(str)
    for c in kind.key[1:]:
        key = key + kind.key_separator + df[c].astype(str)
    return key


def _load_chunk(ctx: LoadContext, s: _Source, chunk: Chunk, q: Quarantine, seen: dict[str, int]) -> int:
    file = s.path.name
    for b in chunk.bad_rows:
        q.add(file, s.kind, b.line, None, b.text, b.reason)
    frame = chunk.frame
    if frame.empty:
        return 0
    frame = s.mapping.apply(frame) if s.mapping else frame
    frame = frame.reset_index(drop=True)
    if s.kind == "declarations":
        if "item_no" not in frame.columns:
            frame["item_no"] = "1"
        frame["item_no"] = frame["item_no"].astype(nz.TEXT).fillna("").str.strip().replace({"": "1"})
    kind = model().files[s.kind]
    norm, errs = validate(kind, frame)
    good = np.ones(len(norm), dtype=bool)
    good[errs["row"].to_numpy(dtype=np.int64)] = False
    # duplicate keys within one file: the first row counts, later ones are quarantined
    keys = key_of(kind, norm).to_numpy(dtype=object)
    dup_rows, dup_keys, dup_first = [], [], []
    lines = chunk.lines
    for i in np.flatnonzero(good):
        k = keys[i]
        first = seen.setdefault(k, int(lines[i]))
        if first != lines[i]:
            dup_rows.append(i)
            dup_keys.append(k)
            dup_first.append(first)
    if dup_rows:
        errs = pd.concat([errs, pd.DataFrame({"row": dup_rows, "column": kind.key[0], "value": dup_keys,
                                              "reason": [f"duplicate key (first at line {f})" for f in dup_first]})],
                         ignore_index=True)
        good[dup_rows] = False
    q.add_frame(file, s.kind, errs, chunk.lines)
    rows = norm.loc[good].reset_index(drop=True)
    rows.insert(0, "key", keys[good])
    if len(rows):
        write_rows(ctx, kind, rows, ctx.provenance(file).at(chunk.lines[good]))
    return int(good.sum())

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
from graphiff.ingest.first_lines import FirstLines
from graphiff.ingest.mapping import Mapping, load_mapping
from graphiff.ingest.quarantine import Quarantine
from graphiff.ingest.readers import SUFFIXES, Chunk, file_format, header, read_chunks
from graphiff.ingest.validate import USD_WARNING, check_header, validate, warnings_of
from graphiff.ingest.writer import LoadContext, write_rows
from graphiff.model import FileKind, model
from graphiff.model import values as nz
from graphiff.stores import Store

KIND_ORDER = list(model().load_order)
Progress = Callable[[str, int], None]
#: The suffixes of data files: one of them in a folder whose name is no file kind is skipped with a
#: warning (``.json`` is left out: a folder may hold truth.json, a manifest...; other files are
#: skipped silently).
DATA_SUFFIXES = frozenset(SUFFIXES) - {".json"}


@dataclass
class LoadResult:
    load_id: str
    loaded: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)
    quarantine: str | None = None
    files: list[dict] = field(default_factory=list)   # file, kind, loaded, warnings (code -> n) per file
    warnings: dict[str, dict[str, int]] = field(default_factory=dict)   # kind -> code -> rows (or files)
    skipped: list[dict[str, str]] = field(default_factory=list)   # data files of a folder not loaded: file, reason

    def to_dict(self) -> dict:
        return {"load_id": self.load_id, "loaded": self.loaded, "quarantined": self.quarantined,
                "quarantine": self.quarantine, "files": self.files, "warnings": self.warnings,
                "skipped": self.skipped}


@dataclass
class _Source:
    path: Path
    kind: str
    mapping: Mapping | None
    warnings: dict[str, int] = field(default_factory=dict)


def kind_of_name(stem: str) -> str:
    """The file kind a name says: ``declarations``, ``declarations_2024`` or ``rates-krw`` ..."""
    stem = stem.lower()
    for kind in KIND_ORDER:
        if stem == kind or stem.startswith((kind + "_", kind + "-", kind + ".")):
            return kind
    return stem


def discover(paths: Iterable[str | Path], mappings: list[Mapping], kind: str | None = None,
             skipped: list[dict[str, str]] | None = None) -> list[_Source]:
    """Which file is which kind: ``kind`` when given (with a mapping of that kind if there is
    one: the one whose ``match`` fits the file, else the first), else a mapping's ``match``,
    else the canonical file name (ignoring letter case: ``Traders.CSV`` is the traders file).

    A file of a folder that is no file kind is skipped: a data file (:data:`DATA_SUFFIXES`) is
    appended to ``skipped`` as ``{"file", "reason"}``, any other file silently. A file given by
    name that is no file kind is fatal."""
    if kind is not None and kind not in model().files:
        raise InvalidInput(f"--kind: unknown file kind {kind!r} (known: {', '.join(KIND_ORDER)})")
    out: list[_Source] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise InvalidInput("no such file or folder", file=str(raw))
        candidates = sorted(f for f in p.iterdir() if f.is_file()) if p.is_dir() else [p]
        for f in candidates:
            if kind is not None:
                same = [m for m in mappings if m.kind == kind]
                mapping = next((m for m in same if m.applies_to(f)), same[0] if same else None)
                f_kind = kind
            else:
                mapping = next((m for m in mappings if m.applies_to(f)), None)
                f_kind = mapping.kind if mapping else kind_of_name(f.stem)
            if f.suffix.lower() not in SUFFIXES or f_kind not in model().files:
                if p.is_dir():  # a folder may hold other files (truth.json, README...)
                    if f.suffix.lower() in DATA_SUFFIXES and skipped is not None:
                        skipped.append({"file": f.name, "reason": _unknown_kind(mappings)})
                    continue
                if f.suffix.lower() not in SUFFIXES:
                    file_format(f)  # raises: unsupported file type
                if mappings:
                    patterns = "; ".join(f"{m.source}: {', '.join(m.match)}" for m in mappings)
                    raise InvalidInput(f"the file matches none of the --mapping patterns ({patterns}) and its name "
                                       "is not a file kind: rename it to match, or force its kind with --kind "
                                       f"({', '.join(KIND_ORDER)})", file=f.name)
                raise InvalidInput("cannot tell what this file holds: name it after its kind, e.g. declarations.csv "
                                   "or declarations_2024.csv "
                                   f"({', '.join(KIND_ORDER)}), give a --mapping or force its kind with --kind",
                                   file=f.name)
            out.append(_Source(f, f_kind, mapping))
    if not out:
        names = skipped or []
        also = f"; skipped {', '.join(s['file'] for s in names)}: {names[0]['reason']}" if names else ""
        raise InvalidInput("no input files found (expected canonical names such as declarations.csv)" + also,
                           file=", ".join(str(p) for p in paths))
    return sorted(out, key=lambda s: (KIND_ORDER.index(s.kind), s.path.name))


def _unknown_kind(mappings: list[Mapping]) -> str:
    """Why a data file of a folder is skipped."""
    how = " and matches no --mapping pattern" if mappings else ""
    return (f"not a known file kind ({', '.join(KIND_ORDER)}){how}; name it after its kind or use "
            "--kind/--mapping")


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
               quarantine_dir: str | Path = "quarantine", progress: Progress | None = None,
               kind: str | None = None) -> LoadResult:
    """Load files or folders into ``store``.

    Good rows are upserted (idempotent); bad rows go to ``quarantine_dir/<load_id>.csv`` with
    file, line, column, value and reason. Fatal problems raise :class:`InvalidInput`. ``kind``
    forces the file kind of every file given (see :func:`discover`). Kept rows worth a look
    (an account id failing the IBAN check) and ignored header columns are counted in
    ``warnings`` by code (:data:`graphiff.ingest.validate.WARNINGS`), per kind and per file (in
    ``files``); data files of a folder whose name is no file kind are listed in ``skipped``.

    All or nothing: the writes of every file and the load record are one unit of work
    (:meth:`graphiff.stores.base.Store.atomic`); when anything fails, the store is left as it
    was and no quarantine file is written.
    """
    maps = [load_mapping(m) for m in mappings]
    skipped: list[dict[str, str]] = []
    sources = discover(paths, maps, kind, skipped)
    for s in sources:  # fail fast on fatal header problems before writing anything
        s.warnings = dict.fromkeys(_check_header(s), 1)
    load_id = load_id_for(sources)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    quarantine = Quarantine(Path(quarantine_dir) / f"{load_id}.csv")
    result = LoadResult(load_id, skipped=skipped)
    previous = next((d for d in store.loads() if d.get("load_id") == load_id), None)
    # all or nothing: every write and the load record commit together, and the quarantine file
    # appears only then; any failure (KeyboardInterrupt too) leaves the store and the folder as they were
    try:
        with store.atomic(load_id):
            ctx = _CountingContext(store, load_id, now)
            for s in sources:
                loaded = 0
                with FirstLines() as seen:
                    for chunk in read_chunks(s.path):
                        loaded += _load_chunk(ctx, s, chunk, quarantine, seen)
                        if progress:
                            progress(s.kind, len(chunk.frame) + len(chunk.bad_rows))
                result.loaded[s.kind] = result.loaded.get(s.kind, 0) + loaded
                result.files.append({"file": s.path.name, "kind": s.kind, "loaded": loaded,
                                     "warnings": dict(s.warnings)})
                for w, n in s.warnings.items():
                    kw = result.warnings.setdefault(s.kind, {})
                    kw[w] = kw.get(w, 0) + n
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


class _CountingContext(LoadContext):
    """The writer's context, counting the rows whose value it could not convert to USD (no rate
    for the currency in that month): kept with ``usd_status = unconvertible``, a load warning."""

    def __init__(self, store: Store, load_id: str, loaded_at: str):
        super().__init__(store, load_id, loaded_at)
        self.unconvertible = 0

    def to_usd(self, amount: pd.Series, currency: pd.Series, date: pd.Series,
               given: pd.Series | None = None) -> tuple[pd.Series, pd.Series]:
        usd, status = super().to_usd(amount, currency, date, given)
        self.unconvertible += int((status == "unconvertible").sum())
        return usd, status


def _check_header(s: _Source) -> list[str]:
    """The header checks of :func:`graphiff.ingest.validate.check_header`; returns its warnings."""
    kind = model().files[s.kind]
    cols = header(s.path)
    _check_separator(s, kind, cols)
    return check_header(kind, cols, file=s.path.name, mapping=s.mapping)


def _check_separator(s: _Source, kind: FileKind, cols: list[str]) -> None:
    """A CSV header read as one column that holds ``;`` or a tab, lacking required columns (or
    the mapping's): the file uses another separator; say so rather than "missing column"."""
    if file_format(s.path) != "csv" or len(cols) != 1:
        return
    needed = s.mapping.source_columns() if s.mapping else set(kind.required)
    if needed <= set(cols):
        return
    for sep, said in ((";", "';'-separated"), ("\t", "tab-separated")):
        if sep in cols[0]:
            raise InvalidInput(f"the header looks {said}; graphiff reads comma-separated CSV (or .tsv for tabs): "
                               "re-save the file with commas", file=s.path.name)


def key_of(kind: FileKind, df: pd.DataFrame) -> pd.Series:
    """The key of each row: its key columns joined with the kind's separator."""
    key = df[kind.key[0]].astype(str)
    for c in kind.key[1:]:
        key = key + kind.key_separator + df[c].astype(str)
    return key


def _load_chunk(ctx: _CountingContext, s: _Source, chunk: Chunk, q: Quarantine, seen: FirstLines) -> int:
    file = s.path.name
    for b in chunk.bad_rows:
        q.add(file, s.kind, b.line, b.column, b.text, b.reason)
    frame = chunk.frame
    if not len(frame):
        return 0
    # a later chunk may bring other columns (JSON Lines): the same name checks, no required columns
    check_header(model().files[s.kind], list(frame.columns), file=file, mapping=s.mapping, required=False)
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
    kept = np.flatnonzero(good)
    first = seen.first(keys[kept], chunk.lines[kept])
    repeated = first != np.asarray(chunk.lines[kept], dtype=np.int64)
    if repeated.any():
        dup_rows = kept[repeated]
        reasons = [f"duplicate key (first at line {f})" for f in first[repeated]]
        errs = pd.concat([errs, pd.DataFrame({"row": dup_rows, "column": kind.key[0], "value": keys[dup_rows],
                                              "reason": reasons})], ignore_index=True)
        good[dup_rows] = False
    q.add_frame(file, s.kind, errs, chunk.lines)
    rows = norm.loc[good].reset_index(drop=True)
    rows.insert(0, "key", keys[good])
    if len(rows):
        before = ctx.unconvertible
        write_rows(ctx, kind, rows, ctx.provenance(file).at(chunk.lines[good]))
        warned = warnings_of(rows)
        if ctx.unconvertible > before:
            warned[USD_WARNING] = ctx.unconvertible - before
        for w, n in warned.items():
            s.warnings[w] = s.warnings.get(w, 0) + n
    return int(good.sum())

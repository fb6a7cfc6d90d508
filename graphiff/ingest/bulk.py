"""``graphiff load --bulk``: a first load into an empty Neo4j database through
``neo4j-admin database import full`` instead of transactions.

The load runs as any load does, into a temporary embedded store (so validation, quarantine,
derived nodes, relationship ids, provenance and the load record are those of every load), whose
tables are then written as neo4j-admin import files (:mod:`graphiff.stores.neo4j_bulk`). Then
either an import command runs the import and restarts the server (``scripts/neo4j-local import``
for the local server) and the load is finished here (constraints, indexes, the load's
bookkeeping), or, for a server this machine cannot reach the files of, the folder is left with
the exact steps for the operator, who ends with ``graphiff load --bulk-finish``.
Incremental loads into a database that holds data keep using transactions
(:func:`graphiff.ingest.loader.load_paths` on the Neo4j store).
"""
from __future__ import annotations

import shlex
import shutil
import subprocess
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from graphiff.errors import StoreError
from graphiff.ingest.loader import LoadResult, Progress, load_paths
from graphiff.stores.embedded import EmbeddedStore
from graphiff.stores.neo4j import Neo4jStore
from graphiff.stores.neo4j_bulk import (
    BulkExport,
    export_bulk,
    finish_bulk,
    import_steps,
    read_manifest,
    require_empty,
)

#: the embedded store the load runs into, inside the bulk folder (removed once exported)
STAGING = "staging.duckdb"
Stage = Callable[[str], None]


@dataclass
class BulkResult:
    """What :func:`bulk_load` did.

    ``load``: the load (as ``graphiff load`` reports it); ``folder``: the bulk folder;
    ``records``: nodes and relationships written ({"nodes": n, "relationships": n}, as
    neo4j-admin counts them); ``seconds``: time per stage ("load", "export", "import",
    "constraints and indexes", "bookkeeping"); ``imported``: True when the import ran and the
    load is finished, False when ``steps`` are left for the operator; ``uri``: the database.
    """

    load: LoadResult
    folder: Path
    records: dict[str, int]
    seconds: dict[str, float] = field(default_factory=dict)
    imported: bool = False
    steps: list[str] = field(default_factory=list)
    uri: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = self.load.to_dict()
        out.pop("files")
        out["bulk"] = {"folder": str(self.folder), "records": self.records,
                       "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
                       "imported": self.imported, "steps": self.steps, "uri": self.uri}
        return out


def bulk_load(uri: str, paths: Iterable[str | Path], folder: str | Path, *, database: str | None = None,
              mappings: Iterable[str | Path] = (), quarantine_dir: str | Path = "quarantine",
              kind: str | None = None, import_command: Sequence[str] | None = None,
              progress: Progress | None = None, stage: Stage | None = None) -> BulkResult:
    """Load files into the EMPTY Neo4j database ``uri`` with a bulk import.

    Parameters
    ----------
    uri, database : str
        The Neo4j database (``bolt://...``); it must hold no node at all (the import replaces it).
    paths, mappings, quarantine_dir, kind
        As for :func:`graphiff.ingest.loader.load_paths`.
    folder : path
        The bulk folder: absent or empty; receives the import files (about 150 bytes per
        record).
    import_command : list of str, optional
        A command that imports the folder and starts the server again (run with the folder as
        its last argument; e.g. ``["scripts/neo4j-local", "import"]``; its last output line, when
        a ``bolt://`` or ``neo4j://`` URI, is where the server now answers). Without it the
        folder is left with the operator's steps (``BulkResult.steps``). With it, the folder is
        removed once the load is finished.
    progress : callable, optional
        ``progress(kind, rows)`` per chunk of input loaded, and ``progress(name, records)`` per
        file exported.
    stage : callable, optional
        ``stage(name)`` as each stage starts.

    Raises
    ------
    StoreError
        The database is not empty, the folder is not empty, the import command fails.
    InvalidInput
        As for any load (nothing is written to the database then).

    Cost: the embedded load (the rate of ``graphiff load`` into a file), one CSV export of the
    whole graph, the import (the server down meanwhile) and the constraints' index builds.
    """
    out = Path(folder)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise StoreError(f"the bulk folder {out} is not empty: give another --bulk-dir or remove it")
    with closing(Neo4jStore(uri, database)) as target:
        require_empty(target)
    seconds: dict[str, float] = {}

    def begin(name: str) -> float:
        if stage:
            stage(name)
        return time.perf_counter()

    out.mkdir(parents=True, exist_ok=True)
    staging = out / STAGING
    try:
        t0 = begin("load")
        with closing(EmbeddedStore(staging)) as emb:
            result = load_paths(emb, paths, mappings=mappings, quarantine_dir=quarantine_dir, progress=progress,
                                kind=kind)
            seconds["load"] = time.perf_counter() - t0
            t0 = begin("export")
            export = export_bulk(emb, out, progress=progress)
            seconds["export"] = time.perf_counter() - t0
    finally:
        for p in (staging, staging.with_name(staging.name + ".wal")):
            p.unlink(missing_ok=True)
    res = BulkResult(result, out, dict(export.manifest["records"]), seconds, uri=uri)
    if not import_command:
        res.steps = import_steps(out, uri, database)
        return res
    t0 = begin("import")
    res.uri = run_import(import_command, out) or uri
    seconds["import"] = time.perf_counter() - t0
    seconds.update(finish_bulk(res.uri, out, database=database, stage=stage))
    res.imported = True
    shutil.rmtree(out, ignore_errors=True)
    return res


def run_import(command: Sequence[str], folder: Path) -> str | None:
    """Run ``command FOLDER`` (an import that restarts the server); the ``bolt://`` or
    ``neo4j://`` URI its output ends with, if any.

    Raises
    ------
    StoreError
        The command cannot run or exits with an error (its last output lines in the message).
    """
    argv = [*command, str(folder)]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise StoreError(f"cannot run the import command {shlex.join(argv)}: {exc}") from None
    if proc.returncode != 0:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
        raise StoreError(f"the import command {shlex.join(argv)} failed (exit {proc.returncode}): {tail}; "
                         f"the files stay in {folder}")
    lines = proc.stdout.strip().splitlines()
    last = lines[-1].strip() if lines else ""
    return last if last.startswith(("bolt://", "neo4j://", "bolt+s://", "neo4j+s://", "bolt+ssc://",
                                    "neo4j+ssc://")) else None


def finish(uri: str, folder: str | Path, *, database: str | None = None,
           stage: Stage | None = None) -> BulkExport:
    """Finish a bulk import the operator ran (``graphiff load --bulk-finish``): constraints,
    indexes and the load's bookkeeping (:func:`graphiff.stores.neo4j_bulk.finish_bulk`).
    Returns the folder's export record, with the seconds per step under ``manifest["seconds"]``.

    Raises
    ------
    StoreError
        The folder is no bulk folder, or the database does not hold its import.
    """
    manifest = read_manifest(folder)
    manifest["seconds"] = finish_bulk(uri, folder, database=database, stage=stage)
    return BulkExport(Path(folder), manifest)


__all__ = ["BulkResult", "bulk_load", "finish", "run_import"]

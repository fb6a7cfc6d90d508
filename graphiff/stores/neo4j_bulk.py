"""Bulk loading an empty Neo4j database with ``neo4j-admin database import full``.

A first load of millions of rows into Neo4j through transactions runs at thousands of rows per
second; ``neo4j-admin database import full`` writes the store files directly, at hundreds of
thousands of records per second, into a database that is stopped and empty. This module does
the Neo4j side of ``graphiff load --bulk`` (:mod:`graphiff.ingest.bulk` runs the loader first,
into an embedded store, so validation, quarantine, derived nodes, relationship ids and
provenance are those of any load):

1. :func:`export_bulk` writes the embedded store's node and relationship tables as CSV files
   with neo4j-admin headers into one folder: per label ``nodes/<Label>.csv`` (``:ID``, the node
   id: the DuckDB row id after those of the labels before it, read with ``--id-type=actual``, so
   the importer maps no ids; then ``key`` and the properties), per relationship type and pair of
   end labels ``relationships/<TYPE>.<Src>.<Dst>.csv`` (``:START_ID``, ``:END_ID``: the ends'
   node ids, joined on their keys; ``rid``), every property column typed as the store types it
   (``string``, ``double``, ``long``, ``boolean``; a null is an empty field, so the property is
   absent, as a transactional load leaves it). Beside them: ``bulk.json`` (the manifest: the
   files, the record counts, the column registry and the load records), ``import.args`` (the
   arguments of ``neo4j-admin database import full``, one a line, paths relative to the folder,
   read by ``scripts/neo4j-local import``) and ``import.sh`` (the same command for a server's
   own ``neo4j-admin``).
2. The import itself runs outside Python: ``scripts/neo4j-local import DIR`` for the local
   server, or the operator on a remote server (:func:`import_steps` says how).
3. :func:`finish_bulk` connects to the started database, checks it holds exactly what was
   exported, creates the constraints and their indexes (the store's schema set-up) and writes
   the bookkeeping a transactional load leaves: the ``:_Columns`` registry and the ``:_Load``
   records. Nothing else of a finished load remains (its staging records are gone).

The result is the graph a transactional load of the same files writes: the same labels,
properties and types, the same ``status`` and the same alerts.
"""
from __future__ import annotations

import csv
import io
import json
import shlex
import time
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from graphiff.errors import StoreError
from graphiff.model import model
from graphiff.model.identity import REL_ENDS
from graphiff.stores.cypher import cypher
from graphiff.stores.embedded import EmbeddedStore
from graphiff.stores.neo4j import Neo4jStore
from graphiff.stores.neo4j_columns import register_columns

#: the files of a bulk folder beside the CSV files
MANIFEST = "bulk.json"
ARGS_FILE = "import.args"
SCRIPT_FILE = "import.sh"
#: the manifest's format version
FORMAT = 1
#: constraints created at once when finishing (each builds its index over the imported data)
SCHEMA_WORKERS = 2
#: column type (graphiff.stores.columns.sql_type) -> neo4j-admin header type
HEADER_TYPES = {"VARCHAR": "string", "DOUBLE": "double", "BIGINT": "long", "BOOLEAN": "boolean"}

Progress = Callable[[str, int], None]


def _q(name: str) -> str:
    """A quoted DuckDB identifier (column names come from input headers)."""
    return '"' + str(name).replace('"', '""') + '"'


def _header_line(fields: list[str]) -> str:
    """One CSV line of header fields, quoted where a field needs it (a comma, a quote)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(fields)
    return buf.getvalue()


def _prop_field(name: str, sql_type: str) -> str:
    """The header field of a property column. The type is always written: neo4j-admin reads the
    text after the last ``:`` as the type, so a column named ``a:b`` stays ``a:b``."""
    try:
        return f"{name}:{HEADER_TYPES[sql_type]}"
    except KeyError:
        raise StoreError(f"column {name!r} has type {sql_type}, which a bulk import cannot write") from None


@dataclass
class BulkExport:
    """What :func:`export_bulk` wrote: the manifest (as in ``bulk.json``) and its folder.

    ``manifest`` keys: ``format``, ``nodes`` ({label: records}), ``relationships`` ({type:
    records}), ``records`` ({"nodes": n, "relationships": n}), ``files`` (one per CSV file:
    ``kind`` "nodes" or "relationships", ``name`` the label or type, ``header``, ``data`` (paths
    relative to the folder), ``rows``), ``multiline`` (data files with a value spanning lines),
    ``columns`` ({registry id: [names, types]}: what ``:_Columns`` records) and ``loads`` (the load
    records).
    """

    folder: Path
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def records(self) -> int:
        """Nodes plus relationships, as neo4j-admin counts them."""
        return int(self.manifest["records"]["nodes"]) + int(self.manifest["records"]["relationships"])


def export_bulk(store: EmbeddedStore, folder: str | Path, *, progress: Progress | None = None) -> BulkExport:
    """Write the embedded ``store``'s graph into ``folder`` as neo4j-admin import files.

    Parameters
    ----------
    store : EmbeddedStore
        The graph to export (every node label and relationship type it holds, and its loads).
    folder : path
        Where to write (created; files of the same names are replaced).
    progress : callable, optional
        ``progress(name, rows)`` after each file (a label or a relationship type).

    Returns
    -------
    BulkExport
        The folder and its manifest.

    Cost: one DuckDB scan per table to find values that span lines or doubles that are
    infinite, then one ``COPY ... TO`` CSV per file (DuckDB writes about a million rows of 30
    columns in a few seconds); memory bounded by DuckDB's own buffers.
    """
    out = Path(folder)
    for sub in ("nodes", "relationships"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    loads = store.loads()  # (also waits for the store's queued writes)
    con = store.con
    tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                        "WHERE table_schema = 'main' ORDER BY table_name").fetchall()]
    m = model()
    files: list[dict[str, Any]] = []
    multiline: list[str] = []
    columns: dict[str, list[list[str]]] = {}
    counts: dict[str, dict[str, int]] = {"nodes": {}, "relationships": {}}

    def table_columns(table: str) -> list[tuple[str, str]]:
        return [(str(c), str(t)) for c, t in con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position", [table]).fetchall()]

    def write(kind: str, name: str, stem: str, header: list[str], select: list[str], source: str, spans: bool,
              where: str = "", params: list[Any] | None = None) -> int:
        """One header file and one data file (``COPY ... TO``); the rows written."""
        header_path, data_path = f"{kind}/{stem}.header.csv", f"{kind}/{stem}.csv"
        (out / header_path).write_text(_header_line(header), encoding="utf-8")
        sql = f"SELECT {', '.join(select)} FROM {source} {where}"
        target = str(out / data_path).replace("'", "''")
        row = con.execute(f"COPY ({sql}) TO '{target}' (FORMAT csv, HEADER false)", params or []).fetchone()
        rows = int(row[0]) if row else 0
        files.append({"kind": kind, "name": name, "header": header_path, "data": data_path, "rows": rows})
        if spans:
            multiline.append(data_path)
        return rows

    def tally(kind: str, name: str, rows: int) -> None:
        if rows:
            counts[kind][name] = rows
        if progress:
            progress(name, rows)

    # node ids: each label's DuckDB row ids after those of the labels before it (neo4j-admin
    # --id-type=actual: no id mapping in the importer, which takes ~40 % of its CPU with string ids)
    offset: dict[str, int] = {}
    start = 0
    for table in tables:
        if table.startswith("n_") and table[2:] in m.nodes:
            offset[table[2:]] = start
            row = con.execute(f"SELECT coalesce(max(rowid), -1) + 1 FROM {_q(table)}").fetchone()
            start += int(row[0]) if row else 0
    for table in tables:
        if not table.startswith("n_") or table[2:] not in m.nodes:
            continue
        label = table[2:]
        cols = table_columns(table)
        columns[f"node:{label}"] = [[c for c, _ in cols], [t for _, t in cols]]
        props = [(c, t) for c, t in cols if c != "key"]
        spans, select = _scan(con, table, props)
        header = [":ID", "key:string"] + [_prop_field(c, t) for c, t in props]
        tally("nodes", label, write("nodes", label, label, header, [f"rowid + {offset[label]}", "key"] + select,
                                    _q(table), spans))

    for table in tables:
        if not table.startswith("r_") or table[2:] not in m.relationships:
            continue
        rel_type = table[2:]
        cols = [(c, t) for c, t in table_columns(table) if c not in ("rid", *REL_ENDS)]
        columns[f"rel:{rel_type}"] = [[c for c, _ in cols], [t for _, t in cols]]
        spans, select = _scan(con, table, cols, "r")
        pairs = con.execute(f"SELECT src_label, dst_label, count(*) FROM {_q(table)} GROUP BY ALL ORDER BY 1, 2"
                            ).fetchall()
        total = 0
        for src, dst, n in pairs:
            if src not in offset or dst not in offset:  # end labels only from the model (and stored)
                lost = src if src not in offset else dst
                raise StoreError(f"{rel_type} relationships join {src} and {dst}, and {lost} has no nodes in the store")
            # the ends' node ids: a join on their keys (every end exists: a load creates missing ends bare)
            source = (f"{_q(table)} r JOIN {_q('n_' + src)} a ON a.key = r.src "
                      f"JOIN {_q('n_' + dst)} b ON b.key = r.dst")
            rows = write("relationships", rel_type, f"{rel_type}.{src}.{dst}",
                         [":START_ID", ":END_ID", "rid:string"] + [_prop_field(c, t) for c, t in cols],
                         [f"a.rowid + {offset[src]}", f"b.rowid + {offset[dst]}", "r.rid"] + select, source, spans,
                         "WHERE r.src_label = ? AND r.dst_label = ?", [src, dst])
            if rows != n:
                raise StoreError(f"{n - rows:,} {rel_type} relationships from {src} to {dst} have an end missing "
                                 "from the store's nodes")
            total += rows
        tally("relationships", rel_type, total)

    manifest = {
        "format": FORMAT,
        "nodes": counts["nodes"], "relationships": counts["relationships"],
        "records": {k: sum(v.values()) for k, v in counts.items()},
        "files": files, "multiline": multiline, "columns": columns,
        "loads": loads,
    }
    args = import_args(manifest)
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    (out / ARGS_FILE).write_text("".join(a + "\n" for a in args), encoding="utf-8")
    script = out / SCRIPT_FILE
    script.write_text(_script(args), encoding="utf-8")
    script.chmod(0o755)
    return BulkExport(out, manifest)


def _scan(con: Any, table: str, cols: list[tuple[str, str]], alias: str = "") -> tuple[bool, list[str]]:
    """One scan of ``table``: whether a text value spans lines (its file then needs
    neo4j-admin's multi-line parsing, which is slower), and the SELECT expression of each column
    (an infinite double is written as Java spells it, ``Infinity``; DuckDB writes ``inf``),
    qualified by ``alias`` when given."""
    texts = [c for c, t in cols if t == "VARCHAR"]
    doubles = [c for c, t in cols if t == "DOUBLE"]
    checks = [f"coalesce(bool_or(strpos({_q(c)}, chr(10)) > 0 OR strpos({_q(c)}, chr(13)) > 0), false)"
              for c in texts] or ["false"]
    checks += [f"coalesce(bool_or(isinf({_q(c)})), false)" for c in doubles]
    row = con.execute(f"SELECT {', '.join(checks)} FROM {_q(table)}").fetchone()
    flags = list(row) if row else [False] * len(checks)
    spans = any(flags[:max(1, len(texts))])
    infinite = {c for c, f in zip(doubles, flags[max(1, len(texts)):]) if f}
    at = f"{alias}." if alias else ""
    select = [(f"CASE WHEN isinf({at}{_q(c)}) THEN (CASE WHEN {at}{_q(c)} > 0 THEN 'Infinity' ELSE '-Infinity' END) "
               f"ELSE CAST({at}{_q(c)} AS VARCHAR) END" if c in infinite else at + _q(c)) for c, _ in cols]
    return spans, select


def import_args(manifest: dict[str, Any]) -> list[str]:
    """The arguments of ``neo4j-admin database import full`` for a bulk folder's files (paths
    relative to the folder; the database name and ``--overwrite-destination`` are the caller's).

    >>> import_args({"files": [{"kind": "nodes", "name": "Trader", "header": "nodes/Trader.header.csv",
    ...                         "data": "nodes/Trader.csv"}], "multiline": []})
    ['--id-type=actual', '--nodes=Trader=nodes/Trader.header.csv,nodes/Trader.csv']
    """
    args = ["--id-type=actual"] + [f"--{f['kind']}={f['name']}={f['header']},{f['data']}" for f in manifest["files"]]
    if manifest.get("multiline"):
        args += ["--multiline-fields-format=v2", "--multiline-fields=" + ",".join(manifest["multiline"])]
    return args


def _script(args: list[str]) -> str:
    """``import.sh``: the import with the server's own ``neo4j-admin`` (``$NEO4J_ADMIN``)."""
    lines = " \\\n    ".join(shlex.quote(a) for a in args)
    return ("#!/bin/sh\n"
            "# Written by `graphiff load --bulk`. Imports the files of this folder into a Neo4j database,\n"
            "# REPLACING it (--overwrite-destination): the DBMS (Community) or the database (Enterprise)\n"
            "# must be stopped. Usage: sh import.sh [DATABASE]   (default neo4j; run as the user owning\n"
            "# Neo4j's data; NEO4J_ADMIN=/path/to/bin/neo4j-admin if it is not on PATH). Then start\n"
            "# Neo4j and run `graphiff load --bulk-finish` on this folder.\n"
            "set -e\n"
            'cd "$(dirname "$0")"\n'
            'exec "${NEO4J_ADMIN:-neo4j-admin}" database import full --overwrite-destination=true "${1:-neo4j}" \\\n'
            f"    {lines}\n")


def read_manifest(folder: str | Path) -> dict[str, Any]:
    """The manifest (``bulk.json``) of a bulk folder.

    Raises
    ------
    StoreError
        The folder has no readable manifest of this format.
    """
    path = Path(folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StoreError(f"{path}: not a bulk folder written by `graphiff load --bulk` ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise StoreError(f"{path}: not a bulk manifest of format {FORMAT}")
    return manifest


def node_count(store: Neo4jStore) -> int:
    """How many nodes the database holds, of any label (graph, bookkeeping and case book).
    Cost: one count-store read."""
    q = cypher("count_all_nodes")
    return int(store._read(lambda tx: tx.run(q).single()["n"], "counting the nodes"))


def require_empty(store: Neo4jStore) -> None:
    """Refuse a bulk import into a database that holds anything: the import replaces the whole
    database (its case book too).

    Raises
    ------
    StoreError
        The database holds nodes.
    """
    n = node_count(store)
    if n:
        where = store.uri + (f" (database {store.database})" if store.database else "")
        raise StoreError(f"--bulk needs an empty Neo4j database, and {where} holds {n:,} nodes (a bulk import "
                         "replaces the whole database): load without --bulk to add to it, or empty it first")


def finish_bulk(uri: str, folder: str | Path, *, database: str | None = None,
                stage: Callable[[str], None] | None = None) -> dict[str, float]:
    """Finish a bulk import: the constraints and indexes, then the bookkeeping of the load.

    Parameters
    ----------
    uri, database : str
        The Neo4j database the folder was imported into (started).
    folder : path
        The bulk folder (its ``bulk.json``).
    stage : callable, optional
        ``stage(name)`` as each step starts: "constraints and indexes", "bookkeeping".

    Returns
    -------
    dict
        Seconds per step.

    Raises
    ------
    StoreError
        The database does not hold what the folder exported (another database, a failed import),
        or holds other loads. Finishing twice is harmless.

    Cost: creating one uniqueness constraint per label and relationship type, each building its
    index over the imported nodes or relationships (the largest part), then one small write per
    label and type.
    """
    manifest = read_manifest(folder)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    if stage:
        stage("constraints and indexes")
    # opening creates the schema: the constraints and their indexes, SCHEMA_WORKERS built side by side
    with closing(Neo4jStore(uri, database, schema_workers=SCHEMA_WORKERS)) as store:
        store._auto(cypher("await_indexes"), "waiting for the indexes")
        seconds["constraints and indexes"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        if stage:
            stage("bookkeeping")
        counts = store.counts()
        want = {"nodes": manifest["nodes"], "relationships": manifest["relationships"]}
        if counts != want:
            raise StoreError(f"{store.uri} does not hold what {Path(folder)} exported (it holds "
                             f"{sum(counts['nodes'].values()):,} nodes and {sum(counts['relationships'].values()):,} "
                             f"relationships, the import {manifest['records']['nodes']:,} and "
                             f"{manifest['records']['relationships']:,}): was the import run into this database?")
        ids = {str(d.get("load_id")) for d in manifest["loads"]}
        other = [str(d.get("load_id")) for d in store.loads() if str(d.get("load_id")) not in ids]
        if other:
            raise StoreError(f"{store.uri} already records other loads ({', '.join(other)}): not a bulk import of "
                             f"{Path(folder)}")

        def registry(tx: Any) -> None:  # every label's and type's columns in one transaction
            for cid, (names, types) in manifest["columns"].items():
                register_columns(lambda work, _what: work(tx), cid, dict(zip(names, types)))

        store._write(registry, "writing the column registry")
        for info in manifest["loads"]:
            store.record_load(info)
        seconds["bookkeeping"] = time.perf_counter() - t0
    return seconds


def import_steps(folder: str | Path, uri: str, database: str | None = None) -> list[str]:
    """What an operator runs to import a bulk folder into a remote server, then finish it: one
    line per step, the commands exact (the arguments of ``import.args``)."""
    folder = Path(folder)
    db = database or "neo4j"
    args = (folder / ARGS_FILE).read_text(encoding="utf-8").splitlines()
    admin = " ".join(["neo4j-admin database import full --overwrite-destination=true", shlex.quote(db),
                      *(shlex.quote(a) for a in args)])
    finish = ["graphiff load --bulk-finish", shlex.quote(str(folder)), "--store", shlex.quote(uri)]
    if database:
        finish += ["--database", shlex.quote(database)]
    return [
        f"1. copy {folder} to the Neo4j server, e.g. rsync -a {shlex.quote(str(folder))}/ NEO4J-HOST:bulk/",
        f"2. stop Neo4j (Community: neo4j stop; Enterprise: STOP DATABASE {db} in the system database); "
        f"the import REPLACES database {db}",
        f"3. on the server, in the copied folder, as the user owning Neo4j's data: sh import.sh {shlex.quote(db)}"
        f"   (the same as: {admin})",
        f"4. start Neo4j (Community: neo4j start; Enterprise: START DATABASE {db}, or CREATE DATABASE {db} "
        "if it did not exist)",
        f"5. here: {' '.join(finish)}   (constraints, indexes and the load record)",
    ]

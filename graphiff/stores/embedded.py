"""The embedded store: one local DuckDB file, no server.

Each node label is a table ``n_<Label>`` keyed by ``key``; each relationship type a table
``r_<TYPE>`` keyed by ``rid`` (ends + identity properties). An upsert inserts the rows with new
keys (an anti-join) and updates the rows with known keys, in one transaction per call, or in the
one transaction of the open unit of work (:meth:`Store.atomic`: a load's writes and its load
record commit together, or a ROLLBACK leaves the file as it was; a process killed inside it
leaves nothing, since DuckDB logs a transaction only when it commits). DuckDB's write-ahead log
makes the file crash-safe.
"""
from __future__ import annotations

import json
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Literal, Sequence

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from graphiff.errors import StoreError
from graphiff.model import model
from graphiff.model.identity import REL_ENDS, rel_ids
from graphiff.model.lookup import no_matches
from graphiff.stores.base import Store, load_order, stamped
from graphiff.stores.book import Book
from graphiff.stores.book_sqlite import SqliteBook, book_path
from graphiff.stores.columns import sql_type, to_arrow

#: DuckDB's memory cap while a unit of work (a load) is open and while its commit is checkpointed
#: into the file: what the load writes beyond it goes to the store file and its temporary folder,
#: so a file of any length loads in the same memory. Reads outside a load keep DuckDB's default
#: (80% of the machine's memory).
LOAD_MEMORY_LIMIT = "512MB"


def _q(name: str) -> str:
    """Quote an identifier (column names may come from input headers)."""
    return '"' + str(name).replace('"', '""') + '"'


def _first_line(exc: BaseException) -> str:
    """The first line of a DuckDB error (its messages can span many lines)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


_DAMAGE = ("corrupt", "checksum", "could not read enough bytes", "not a valid duckdb", "magic bytes",
           "serializ", "deserializ")


def _store_error(path: Path, what: str, exc: BaseException) -> StoreError:
    """One clear StoreError for a DuckDB error: a damaged or foreign file says so."""
    line = _first_line(exc)
    if any(w in line.lower() for w in _DAMAGE):
        return StoreError(f"{path} is not a graphiff store or is damaged: {line}")
    return StoreError(f"embedded store {path}: {what} failed: {line}")


@contextmanager
def _reading(path: Path, what: str) -> Iterator[None]:
    """Turn a DuckDB error while reading into one clear StoreError."""
    try:
        yield
    except duckdb.Error as exc:
        raise _store_error(path, what, exc) from None


def _text(values: pd.Series) -> pa.Array:
    """``values`` as an Arrow string array, missing values (None, NaN, NA) as nulls."""
    return pa.array(values.astype("string"), type=pa.string(), from_pandas=True)


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    """The value of a ``SELECT count(*) ...`` query (which always returns one row)."""
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


class EmbeddedStore(Store):
    """A graph in one DuckDB file (``path``); created on first use."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.uri = str(self.path)
        existed = self.path.exists()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot open embedded store {self.path}: {exc}") from None
        try:
            self.con = duckdb.connect(str(self.path))
        except duckdb.IOException as exc:
            if existed and "lock" not in str(exc).lower():
                raise StoreError(f"{self.path} is not a graphiff store or is damaged: {_first_line(exc)}") from None
            raise StoreError(f"cannot open embedded store {self.path}: {_first_line(exc)}") from None
        except (duckdb.Error, OSError) as exc:
            if existed and isinstance(exc, duckdb.Error):
                raise StoreError(f"{self.path} is not a graphiff store or is damaged: {_first_line(exc)}") from None
            raise StoreError(f"cannot open embedded store {self.path}: {_first_line(exc)}") from None
        try:
            # DuckDB draws its own progress bar on stdout (even into a pipe) for a query over
            # 2 s: it would break the JSON a command prints there
            self.con.execute("SET enable_progress_bar = false")
            # bulk loads write a large WAL and checkpoint once, instead of every 16 MB
            self.con.execute("SET checkpoint_threshold = '1GB'")
            self.con.execute("CREATE TABLE IF NOT EXISTS _loads (load_id VARCHAR PRIMARY KEY, info VARCHAR)")
            # read every table once: a damaged file fails here, not in the middle of a command
            for (t,) in self.con.execute("SELECT table_name FROM information_schema.tables").fetchall():
                self.con.execute(f"SELECT count(*) FROM {_q(t)}").fetchone()
        except duckdb.Error as exc:
            try:
                self.con.close()
            except duckdb.Error:
                pass
            raise StoreError(f"{self.path} is not a graphiff store or is damaged: {_first_line(exc)}") from None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="graphiff-duckdb")
        self._pending: list[Future] = []
        self._failed: StoreError | None = None
        self._cols: dict[str, dict[str, str]] = {}
        self._table_names: set[str] | None = None
        self._in_unit = False  # the open unit of work's transaction holds every write
        self._aborting = False  # queued writes of a unit being rolled back are skipped

    # ---- helpers ----------------------------------------------------------------------
    def _tables(self) -> set[str]:
        if self._table_names is None:
            self._table_names = {r[0] for r in self.con.execute(
                "SELECT table_name FROM information_schema.tables").fetchall()}
        return self._table_names

    def _columns(self, table: str) -> dict[str, str]:
        if table not in self._cols:
            rows = self.con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?", [table]
            ).fetchall()
            self._cols[table] = {r[0]: r[1] for r in rows}
        return self._cols[table]

    def _ensure_table(self, table: str, pk: str, types: dict[str, str]) -> None:
        if table not in self._tables():
            self.con.execute(f"CREATE TABLE {_q(table)} ({_q(pk)} VARCHAR NOT NULL)")
            self._cols.pop(table, None)
            self._table_names = None
        have = self._columns(table)
        for c, t in types.items():
            if c not in have:
                self.con.execute(f"ALTER TABLE {_q(table)} ADD COLUMN {_q(c)} {t}")
                have[c] = t

    def _upsert(self, table: str, pk: str, frame: pd.DataFrame, on_conflict: str) -> int:
        """Merge ``frame`` into ``table`` on ``pk``: rows with new keys are inserted (anti-join),
        rows with known keys update their columns with the new non-null values (``update``) or
        are left alone (``keep``). Of a repeated key, the last row wins an update and the first
        a keep, as in a sequence of MERGEs (so a file read in chunks writes what it writes
        whole). One transaction per call.

        The frame is turned into Arrow here; the SQL runs on the store's writer thread, in call
        order, so the caller can prepare the next batch meanwhile. Every read waits for the
        writes before it (:meth:`_flush`)."""
        if frame.empty:
            return 0
        repeated = frame[pk].duplicated(keep="first" if on_conflict == "keep" else "last").to_numpy()
        if repeated.any():
            frame = frame[~repeated]
        types = {c: sql_type(frame[c]) for c in frame.columns}
        incoming = to_arrow(frame, types)
        ends = ([(end, str(label)) for end in ("src", "dst") for label in frame[f"{end}_label"].unique()]
                if table.startswith("r_") else [])
        for _, label in ends:
            model().node(label)
        while len(self._pending) >= 3:  # bound the memory held by queued batches
            self._pending[0].exception()
            self._pending.pop(0)
        self._pending.append(self._writer.submit(self._write, table, pk, incoming, types, on_conflict, ends))
        return len(frame)

    def _write(self, table: str, pk: str, incoming: pa.Table, types: dict[str, str], on_conflict: str,
               ends: list[tuple[str, str]]) -> None:
        """The SQL of one :meth:`_upsert` (runs on the writer thread)."""
        if self._failed is not None or self._aborting:
            return
        if not self._in_unit:
            self.con.execute("BEGIN TRANSACTION")
        try:
            self._ensure_table(table, pk, types)
            have = self._columns(table)
            # the SQL below reads the batch by its local name (DuckDB's replacement scan): a
            # registered view would be kept alive, with its Arrow data, until the unit commits
            _incoming = incoming  # noqa: F841 - read by name in the SQL
            cols = [pk] + [c for c in incoming.column_names if c != pk]
            t, k = _q(table), _q(pk)
            for end, label in ends:  # end nodes that do not exist yet are created bare, as MERGE does
                node_table = f"n_{label}"
                self._ensure_table(node_table, "key", {})
                self.con.execute(
                    f"INSERT INTO {_q(node_table)} (key) SELECT DISTINCT e.{end} FROM _incoming e "
                    f"WHERE e.{end}_label = ? AND NOT EXISTS (SELECT 1 FROM {_q(node_table)} x WHERE x.key = e.{end})",
                    [label])
            if on_conflict == "update" and len(cols) > 1:
                row = self.con.execute(f"SELECT count(*) FROM _incoming i JOIN {t} ON {t}.{k} = i.{k}").fetchone()
                known = row[0] if row else 0
                if known:
                    sets = ", ".join(f"{_q(c)} = COALESCE(CAST(i.{_q(c)} AS {have[c]}), {t}.{_q(c)})" for c in cols[1:])
                    self.con.execute(f"UPDATE {t} SET {sets} FROM _incoming i WHERE {t}.{k} = i.{k}")
            collist = ", ".join(_q(c) for c in cols)
            select = ", ".join(f"CAST(i.{_q(c)} AS {have[c]})" for c in cols)
            self.con.execute(f"INSERT INTO {t} ({collist}) SELECT {select} FROM _incoming i "
                             f"WHERE NOT EXISTS (SELECT 1 FROM {t} x WHERE x.{k} = i.{k})")
            if not self._in_unit:
                self.con.execute("COMMIT")
        except duckdb.Error as exc:
            if not self._in_unit:  # else the unit's ROLLBACK undoes the whole unit
                self.con.execute("ROLLBACK")
            self._cols.clear()
            self._table_names = None
            self._failed = _store_error(self.path, f"write to {table}", exc)
            raise self._failed from None

    # ---- the unit of work (Store.atomic) -------------------------------------------------
    def _begin_unit(self, load_id: str) -> None:
        self._flush()
        try:
            self.con.execute(f"SET memory_limit = '{LOAD_MEMORY_LIMIT}'")
            self.con.execute("BEGIN TRANSACTION")
        except duckdb.Error as exc:
            self._reset_memory()
            raise StoreError(f"embedded store {self.path}: cannot start the load: {_first_line(exc)}") from None
        self._in_unit = True

    def _reset_memory(self) -> None:
        """DuckDB's default memory cap again (the unit of work is over)."""
        try:
            self.con.execute("RESET memory_limit")
        except duckdb.Error:
            pass  # the connection is gone: nothing to reset

    def _commit_unit(self, load_id: str) -> None:
        try:
            self._flush()
            self.con.execute("COMMIT")
        except BaseException as exc:
            self._rollback_unit(load_id)
            if isinstance(exc, duckdb.Error):
                raise StoreError(f"embedded store {self.path}: committing load {load_id} failed: "
                                 f"{_first_line(exc)}") from None
            raise
        self._in_unit = False
        try:  # write the load into the file now, still under the load's memory cap
            self.con.execute("CHECKPOINT")
        except duckdb.Error:
            pass  # the load is committed in the write-ahead log; DuckDB checkpoints it at the next open
        self._reset_memory()

    def _rollback_unit(self, load_id: str) -> None:
        self._aborting = True
        try:
            for f in self._pending:  # the writer thread must be idle before the ROLLBACK
                f.cancel()
            for f in self._pending:
                if not f.cancelled():
                    f.exception()
            self._pending = []
            try:
                self.con.execute("ROLLBACK")
            except duckdb.Error:
                pass  # no transaction open (e.g. the commit itself failed and ended it)
        finally:
            self._reset_memory()
            self._aborting = False
            self._in_unit = False
            self._failed = None
            self._cols.clear()
            self._table_names = None

    def _flush(self) -> None:
        """Wait for the queued writes; raise the first that failed."""
        pending, self._pending = self._pending, []
        for f in pending:
            try:
                f.result()
            except StoreError:
                pass  # kept in self._failed, raised below
        if self._failed is not None:
            failed, self._failed = self._failed, None
            raise failed

    # ---- primitives -------------------------------------------------------------------
    def upsert_nodes(self, label: str, rows: pd.DataFrame, *, on_conflict: Literal["update", "keep"] = "update") -> int:
        model().node(label)
        return self._upsert(f"n_{label}", "key", rows, on_conflict)

    def upsert_rels(self, rel_type: str, rows: pd.DataFrame) -> int:
        rt = model().rel(rel_type)
        if rows.empty:
            return 0
        rows = rows.assign(**{c: rows[c].astype(str) for c in REL_ENDS})
        # identity: the ends, the type and the schema's identity properties
        rows.insert(0, "rid", rel_ids(rel_type, rows, rt.identity))
        return self._upsert(f"r_{rel_type}", "rid", rows, "update")

    def known_keys(self, label: str, keys: Sequence[str]) -> np.ndarray:
        """Which of ``keys`` are keys of stored ``label`` nodes: one query (a semi-join of the
        keys against ``n_<label>``), memory bounded by ``keys``."""
        self._flush()
        model().node(label)
        asked = _text(pd.Series(np.asarray(keys, dtype=object)))
        out = np.zeros(len(asked), dtype=bool)
        if not len(asked) or f"n_{label}" not in self._tables():
            return out
        _asked = pa.table({"i": pa.array(np.arange(len(asked), dtype=np.int64)), "key": asked})  # noqa: F841
        with _reading(self.path, f"looking up {label} keys"):
            hit = self.con.execute(f"SELECT a.i FROM _asked a WHERE a.key IN (SELECT key FROM {_q('n_' + label)})"
                                   ).fetchnumpy()["i"]
        out[np.asarray(hit, dtype=np.int64)] = True
        return out

    def lookup_nodes(self, label: str, rows: pd.DataFrame, props: tuple[str, ...]) -> pd.DataFrame:
        """The lookup rule (:func:`graphiff.model.lookup.match_by_lookup`) as one query: a join
        of the rows against ``n_<label>`` per property, each for the rows that have none of the
        earlier properties; memory bounded by ``rows`` and the matches."""
        self._flush()
        model().node(label)
        table = f"n_{label}"
        have = self._columns(table) if table in self._tables() else {}
        present = [p for p in props if p in rows.columns]
        parts: list[str] = []
        earlier: list[str] = []
        for i, p in enumerate(present):
            if p in have:
                stored = _q(p) if have[p] == "VARCHAR" else f"CAST({_q(p)} AS VARCHAR)"
                cond = " AND ".join([f"r.{_q(p)} IS NOT NULL"] + [f"r.{_q(e)} IS NULL" for e in earlier])
                parts.append(f"SELECT r._row AS row, n.key, {i} AS o FROM _rows r "
                             f"JOIN (SELECT key, {stored} AS v FROM {_q(table)} WHERE {_q(p)} IS NOT NULL) n "
                             f"ON n.v = r.{_q(p)} WHERE {cond}")
            earlier.append(p)
        if not parts or not len(rows):
            return no_matches()
        _rows = pa.table({"_row": pa.array(np.arange(len(rows), dtype=np.int64)),  # noqa: F841
                          **{p: _text(rows[p]) for p in present}})
        with _reading(self.path, f"looking up {label} nodes"):
            hit = self.con.execute(" UNION ALL ".join(parts) + " ORDER BY o, row, key").df()
        hit["matched_on"] = np.asarray(present, dtype=object)[hit["o"].to_numpy()]
        return (hit[["row", "key", "matched_on"]].astype({"row": "int64", "key": object})
                .drop_duplicates(["row", "key"], ignore_index=True))

    def nodes(self, label: str, columns: list[str] | None = None) -> pd.DataFrame:
        self._flush()
        with _reading(self.path, "reading nodes"):
            model().node(label)
            if f"n_{label}" not in self._tables():
                return pd.DataFrame(columns=["key", *(columns or [])])
            if columns is None:
                return self.con.execute(f"SELECT * FROM {_q('n_' + label)} ORDER BY key").df()
            have = self._columns(f"n_{label}")
            sel = ", ".join(["key"] + [(_q(c) if c in have else f"NULL AS {_q(c)}") for c in columns if c != "key"])
            return self.con.execute(f"SELECT {sel} FROM {_q('n_' + label)} ORDER BY key").df()

    def rels(self, rel_type: str) -> pd.DataFrame:
        self._flush()
        with _reading(self.path, "reading relationships"):
            model().rel(rel_type)
            if f"r_{rel_type}" not in self._tables():
                return pd.DataFrame(columns=list(REL_ENDS))
            return self.con.execute(f"SELECT * EXCLUDE (rid) FROM {_q('r_' + rel_type)} ORDER BY rid").df()

    def iter_nodes(self, label: str, rows: int = 500_000) -> Iterator[pd.DataFrame]:
        self._flush()
        model().node(label)
        if f"n_{label}" not in self._tables():
            yield self.nodes(label)
            return
        yield from self._pieces(f"n_{label}", f"SELECT * FROM {_q('n_' + label)} ORDER BY key", rows)

    def iter_rels(self, rel_type: str, rows: int = 500_000) -> Iterator[pd.DataFrame]:
        self._flush()
        model().rel(rel_type)
        if f"r_{rel_type}" not in self._tables():
            yield self.rels(rel_type)
            return
        yield from self._pieces(f"r_{rel_type}", f"SELECT * EXCLUDE (rid) FROM {_q('r_' + rel_type)} ORDER BY rid",
                                rows)

    def _pieces(self, table: str, sql: str, rows: int) -> Iterator[pd.DataFrame]:
        """The result of ``sql`` over ``table`` in frames of about ``rows`` rows, each column
        with the dtype the whole result's frame has. DuckDB picks a column's pandas dtype by
        whether the rows it converts hold nulls or values (``int64`` or ``Int64``, ``str`` or
        an all-null ``object``), so each column's dtype is read from two of its rows: a null
        one and a valued one, when the table has them."""
        cur = self.con.cursor()
        try:
            with _reading(self.path, f"reading {table}"):
                dtypes = {}
                for c in self._columns(table):
                    if c == "rid" and table.startswith("r_"):
                        continue
                    probe = (f"SELECT * FROM (SELECT {_q(c)} FROM {_q(table)} WHERE {_q(c)} IS NULL LIMIT 1) "
                             f"UNION ALL SELECT * FROM (SELECT {_q(c)} FROM {_q(table)} "
                             f"WHERE {_q(c)} IS NOT NULL LIMIT 1)")
                    dtypes[c] = cur.execute(probe).df()[c].dtype
                cur.execute(sql)
                vectors = max(1, rows // 2048)  # DuckDB hands out vectors of 2,048 rows
                while True:
                    piece = cur.fetch_df_chunk(vectors)
                    if not len(piece):
                        break
                    odd = {c: t for c, t in dtypes.items() if c in piece.columns and piece[c].dtype != t}
                    yield piece.astype(odd) if odd else piece
        finally:
            cur.close()

    def delete_nodes(self, label: str, keys: list[str] | None = None) -> int:
        self._flush()
        model().node(label)
        tables = self._tables()
        if f"n_{label}" not in tables:
            return 0
        if not self._in_unit:
            self.con.execute("BEGIN TRANSACTION")
        try:
            if keys is None:
                n = _count(self.con, f"SELECT count(*) FROM {_q('n_' + label)}")
                self.con.execute(f"DELETE FROM {_q('n_' + label)}")
                for t in tables:
                    if t.startswith("r_"):
                        self.con.execute(f"DELETE FROM {_q(t)} WHERE src_label = ? OR dst_label = ?", [label, label])
            else:
                self.con.register("_del", pd.DataFrame({"key": [str(k) for k in keys]}))
                n = _count(self.con, f"SELECT count(*) FROM {_q('n_' + label)} WHERE key IN (SELECT key FROM _del)")
                self.con.execute(f"DELETE FROM {_q('n_' + label)} WHERE key IN (SELECT key FROM _del)")
                for t in tables:
                    if t.startswith("r_"):
                        self.con.execute(
                            f"DELETE FROM {_q(t)} WHERE (src_label = ? AND src IN (SELECT key FROM _del)) "
                            f"OR (dst_label = ? AND dst IN (SELECT key FROM _del))", [label, label])
                self.con.unregister("_del")
            if not self._in_unit:
                self.con.execute("COMMIT")
        except duckdb.Error as exc:
            if not self._in_unit:
                self.con.execute("ROLLBACK")
            raise _store_error(self.path, "delete", exc) from None
        return int(n)

    def delete_rels(self, rel_type: str, rids: list[str] | None = None) -> int:
        self._flush()
        model().rel(rel_type)
        table = f"r_{rel_type}"
        if table not in self._tables() or (rids is not None and not rids):
            return 0
        try:
            if rids is None:
                n = _count(self.con, f"SELECT count(*) FROM {_q(table)}")
                self.con.execute(f"DELETE FROM {_q(table)}")
                return n
            self.con.register("_del", pd.DataFrame({"rid": [str(r) for r in rids]}))
            try:
                n = _count(self.con, f"SELECT count(*) FROM {_q(table)} WHERE rid IN (SELECT rid FROM _del)")
                self.con.execute(f"DELETE FROM {_q(table)} WHERE rid IN (SELECT rid FROM _del)")
            finally:
                self.con.unregister("_del")
            return n
        except duckdb.Error as exc:
            raise _store_error(self.path, "delete relationships", exc) from None

    def counts(self) -> dict[str, dict[str, int]]:
        self._flush()
        with _reading(self.path, "counting"):
            nodes: dict[str, int] = {}
            rels: dict[str, int] = {}
            for t in sorted(self._tables()):
                if t.startswith(("n_", "r_")):
                    n = _count(self.con, f"SELECT count(*) FROM {_q(t)}")
                    if n:
                        (nodes if t.startswith("n_") else rels)[t[2:]] = int(n)
            return {"nodes": nodes, "relationships": rels}

    def record_load(self, info: dict[str, Any]) -> None:
        self._flush()
        with _reading(self.path, "recording the load"):
            self.con.execute("INSERT INTO _loads VALUES (?, ?) ON CONFLICT (load_id) "
                             "DO UPDATE SET info = excluded.info",
                             [info["load_id"], json.dumps(stamped(info), sort_keys=True, default=str)])

    def loads(self) -> list[dict[str, Any]]:
        self._flush()
        with _reading(self.path, "reading the loads"):
            rows = self.con.execute("SELECT info FROM _loads").fetchall()
            out = [json.loads(r[0]) for r in rows]
            return sorted(out, key=load_order)

    def wipe(self) -> None:
        self._flush()
        with _reading(self.path, "wipe"):
            for t in self._tables():
                if t.startswith(("n_", "r_")):
                    self.con.execute(f"DROP TABLE {_q(t)}")
            self.con.execute("DELETE FROM _loads")
            self._cols.clear()
            self._table_names = None

    def book(self) -> Book:
        """The case book: ``<file>.casework.sqlite`` beside the store file
        (:mod:`graphiff.stores.book_sqlite`)."""
        if self._book is None:
            self._book = SqliteBook(":memory:" if self.uri == ":memory:" else book_path(self.path))
        return self._book

    def close(self) -> None:
        if self._book is not None:
            self._book.close()
            self._book = None
        try:
            if self._in_unit:  # closed inside an unfinished unit: nothing of it stays
                self._rollback_unit("")
            self._flush()
        finally:
            self._writer.shutdown(wait=True)
        try:
            self.con.close()
        except duckdb.Error:
            pass

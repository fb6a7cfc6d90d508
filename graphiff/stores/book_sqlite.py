"""The case book of an embedded store: one SQLite file beside the DuckDB file.

Why SQLite and not a table in the DuckDB file: one DuckDB file admits one writing process,
while case work is written by the workbench server and by the CLI (``graphiff alerts set``,
``graphiff detect``) at the same time. SQLite in write-ahead-log mode lets several processes
read and write one file; ``BEGIN IMMEDIATE`` makes :meth:`update` and :meth:`append` atomic
across them. Two tables: ``docs(kind, id, body)`` and ``chain(name, seq, body)``.
"""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from graphiff.errors import StoreError
from graphiff.stores.book import Book, check_kind, decode, encode

__all__ = ["SqliteBook", "book_path"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (kind TEXT NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (kind, id));
CREATE TABLE IF NOT EXISTS chain (name TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL,
                                  PRIMARY KEY (name, seq));
"""


def book_path(store_file: str | Path) -> Path:
    """Where the case book of the embedded store ``store_file`` lives: ``<file>.casework.sqlite``.

    >>> book_path("out/graphiff.duckdb").as_posix()
    'out/graphiff.duckdb.casework.sqlite'
    """
    p = Path(store_file)
    return p.with_name(p.name + ".casework.sqlite")


class SqliteBook(Book):
    """A case book in a SQLite file (``":memory:"``: in memory, for an in-memory store).

    Raises
    ------
    StoreError
        The file cannot be created or is not a SQLite database.
    """

    def __init__(self, path: str | Path):
        self.path = str(path)
        self.uri = self.path
        self._lock = threading.RLock()
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._con = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
            if self.path != ":memory:":
                self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute("PRAGMA synchronous=NORMAL")
            self._con.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the case book {self.path}: {exc}") from None

    @contextmanager
    def _tx(self, what: str, *, write: bool) -> Iterator[sqlite3.Connection]:
        with self._lock:
            con = self._con
            try:
                con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield con
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(f"case book {self.path}: {what} failed: {exc}") from None

    def put(self, kind: str, docs: Sequence[Mapping[str, Any]]) -> int:
        rows = [(check_kind(kind), str(d["id"]), encode(d)) for d in docs]
        with self._tx("writing " + kind, write=True) as con:
            con.executemany("INSERT INTO docs(kind, id, body) VALUES (?, ?, ?) "
                            "ON CONFLICT(kind, id) DO UPDATE SET body = excluded.body", rows)
        return len(rows)

    def docs(self, kind: str, ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        check_kind(kind)
        with self._tx("reading " + kind, write=False) as con:
            if ids is None:
                got = con.execute("SELECT body FROM docs WHERE kind = ? ORDER BY id", (kind,)).fetchall()
            else:
                want = sorted({str(i) for i in ids})
                got = []
                for i in range(0, len(want), 500):
                    part = want[i:i + 500]
                    got += con.execute(f"SELECT body FROM docs WHERE kind = ? AND id IN ({','.join('?' * len(part))}) "
                                       "ORDER BY id", (kind, *part)).fetchall()
        return [d for (body,) in got if (d := decode(body)) is not None]

    def delete(self, kind: str, ids: Iterable[str]) -> int:
        want = [(check_kind(kind), str(i)) for i in ids]
        with self._tx("deleting " + kind, write=True) as con:
            before = con.total_changes
            con.executemany("DELETE FROM docs WHERE kind = ? AND id = ?", want)
            return con.total_changes - before

    def update(self, kind: str, doc_id: str,
               change: Callable[[dict[str, Any] | None], dict[str, Any] | None]) -> dict[str, Any] | None:
        check_kind(kind)
        with self._tx("updating " + kind, write=True) as con:
            row = con.execute("SELECT body FROM docs WHERE kind = ? AND id = ?", (kind, doc_id)).fetchone()
            new = change(decode(row[0]) if row else None)
            if new is None:
                con.execute("DELETE FROM docs WHERE kind = ? AND id = ?", (kind, doc_id))
            else:
                new = {**new, "id": doc_id}
                con.execute("INSERT INTO docs(kind, id, body) VALUES (?, ?, ?) "
                            "ON CONFLICT(kind, id) DO UPDATE SET body = excluded.body", (kind, doc_id, encode(new)))
        return new

    def append(self, chain: str, build: Callable[[dict[str, Any] | None], Sequence[Mapping[str, Any]]]
               ) -> list[dict[str, Any]]:
        check_kind(chain)
        with self._tx("appending to " + chain, write=True) as con:
            row = con.execute("SELECT body FROM chain WHERE name = ? ORDER BY seq DESC LIMIT 1", (chain,)).fetchone()
            new = [dict(e) for e in build(decode(row[0]) if row else None)]
            con.executemany("INSERT INTO chain(name, seq, body) VALUES (?, ?, ?)",
                            [(chain, int(e["seq"]), encode(e)) for e in new])
        return new

    def entries(self, chain: str, since: int = 0) -> list[dict[str, Any]]:
        check_kind(chain)
        with self._tx("reading " + chain, write=False) as con:
            got = con.execute("SELECT body FROM chain WHERE name = ? AND seq > ? ORDER BY seq",
                              (chain, int(since))).fetchall()
        out = []
        for (body,) in got:
            try:
                d = decode(body)
            except ValueError:
                d = {"_unreadable": body}
            out.append(d if d is not None else {"_unreadable": body})
        return out

    def close(self) -> None:
        with self._lock:
            try:
                self._con.close()
            except sqlite3.Error:
                pass

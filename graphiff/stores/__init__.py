"""Graph stores: one interface (:class:`graphiff.stores.base.Store`), small backends.

:func:`open_store` picks a backend from the URI through :data:`BACKENDS` and imports it only
then, so the interface never imports its backends (no import cycle, and the Neo4j driver is
loaded only for a Neo4j store).
"""
from __future__ import annotations

import os
from importlib import import_module
from pathlib import Path

from graphiff.errors import StoreError
from graphiff.stores.base import Store
from graphiff.stores.book import Book

#: URI scheme -> "module:class" of the backend serving it; anything else is an embedded path.
BACKENDS: dict[str, str] = {
    scheme: "graphiff.stores.neo4j:Neo4jStore"
    for scheme in ("bolt", "neo4j", "bolt+s", "neo4j+s", "bolt+ssc", "neo4j+ssc")
}
EMBEDDED = "graphiff.stores.embedded:EmbeddedStore"
DEFAULT_STORE = "graphiff.duckdb"


def _backend(target: str) -> type[Store]:
    module, _, cls = target.partition(":")
    return getattr(import_module(module), cls)


def embedded_path(uri: str | None = None) -> Path | None:
    """The file of the embedded store ``uri`` names (``None``: ``$GRAPHIFF_STORE`` or the
    default), or ``None`` when ``uri`` names a Neo4j server. Cost: string handling only.

    >>> embedded_path("duckdb:data/g.duckdb").as_posix(), embedded_path("bolt://localhost:7687")
    ('data/g.duckdb', None)
    """
    uri = uri or os.environ.get("GRAPHIFF_STORE") or DEFAULT_STORE
    scheme, sep, _ = uri.partition("://")
    if sep and scheme in BACKENDS:
        return None
    return Path(uri[len("duckdb:"):] if uri.startswith("duckdb:") else uri)


def remove_embedded(path: Path) -> None:
    """Delete an embedded store file and its write-ahead log (``<file>.wal``), if present.
    Only for a store the caller itself just created (a failed command leaves no empty store)."""
    for p in (path, path.with_name(path.name + ".wal")):
        try:
            p.unlink()
        except FileNotFoundError:
            pass


def open_store(uri: str | None = None, *, database: str | None = None, create: bool = True) -> Store:
    """Open a store from a URI: ``bolt://``/``neo4j://`` (Neo4j) or a local path / ``duckdb:PATH``
    (embedded). ``None`` means ``$GRAPHIFF_STORE`` or the default embedded store
    ``./graphiff.duckdb``. With ``create=False`` a missing embedded store is an error rather
    than a new empty one (a mistyped path must not look like an empty graph)."""
    uri = uri or os.environ.get("GRAPHIFF_STORE") or DEFAULT_STORE
    path = embedded_path(uri)
    if path is None:
        return _backend(BACKENDS[uri.partition("://")[0]])(uri, database=database)  # type: ignore[call-arg]
    if not create and not path.exists():
        raise StoreError(f"no embedded store at {path} (load data into it first with `graphiff load`, "
                         "or give --store)")
    return _backend(EMBEDDED)(str(path))  # type: ignore[call-arg]


def open_book(uri: str | None = None, *, database: str | None = None) -> Book:
    """The case book of the store ``uri`` names, without opening an embedded store's DuckDB
    file (the workbench writes triage and audit entries while ``graphiff detect`` holds that
    file): ``<file>.casework.sqlite`` for an embedded store, which must exist; the store's own
    database for Neo4j (the book then owns the connection and closes it). Cost: opening one
    SQLite file, or connecting to Neo4j.

    Raises
    ------
    StoreError
        The embedded store does not exist, or the Neo4j server cannot be reached.
    """
    uri = uri or os.environ.get("GRAPHIFF_STORE") or DEFAULT_STORE
    path = embedded_path(uri)
    if path is None:
        from graphiff.stores.book_neo4j import Neo4jBook
        return Neo4jBook(open_store(uri, database=database), owns_store=True)  # type: ignore[arg-type]
    if not path.exists():
        raise StoreError(f"no embedded store at {path} (load data into it first with `graphiff load`, "
                         "or give --store)")
    from graphiff.stores.book_sqlite import SqliteBook, book_path
    return SqliteBook(book_path(path))


__all__ = ["BACKENDS", "Book", "Store", "embedded_path", "open_book", "open_store", "remove_embedded"]

"""The case book: what graphiff keeps about the work done on a graph, beside the graph itself.

Alert triage, notes, cases, users and tokens are **documents** (JSON objects with an ``id``,
grouped by ``kind``); the audit log is a **chain** of numbered entries, only ever appended to.
Nothing here knows what a document means (that is :mod:`graphiff.casework`); a backend only
keeps them, with the few atomic steps case work needs:

- :meth:`Book.put` / :meth:`Book.docs` / :meth:`Book.delete`: upsert, read and remove documents;
- :meth:`Book.update`: read-modify-write of one document as one atomic step, also against
  other processes (two analysts adding notes, failed logins counted from two servers);
- :meth:`Book.append` / :meth:`Book.entries`: append entries to a chain, the new entries
  built from the last one inside the same atomic step (so a hash chain has no forks).

Backends (small, like the stores'): :class:`graphiff.stores.book_sqlite.SqliteBook`, a SQLite
file beside an embedded store (``<store file>.casework.sqlite``; SQLite lets the workbench
and the CLI write it at the same time, which one DuckDB file does not), and
:class:`graphiff.stores.book_neo4j.Neo4jBook`, nodes ``_CaseDoc`` / ``_CaseChain`` in the
store's own Neo4j database (not part of the graph model, spared by ``wipe``). Open one with
:meth:`graphiff.stores.base.Store.book` or :func:`graphiff.stores.open_book`.
"""
from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import Any, Callable, Iterable, Mapping, Sequence

from graphiff.errors import StoreError

__all__ = ["Book", "encode", "decode"]

#: The document kinds and chains graphiff uses (a backend accepts any plain name).
KIND_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def check_kind(kind: str) -> str:
    """``kind`` when it is a plain lower-case name (documents and chains are grouped by it)."""
    if not kind or not set(kind) <= KIND_CHARS:
        raise StoreError(f"bad case-book kind {kind!r} (lower-case letters, digits and _ only)")
    return kind


def encode(doc: Mapping[str, Any]) -> str:
    """A document as stored: JSON text with sorted keys (the same document, the same text)."""
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def decode(text: str | None) -> dict[str, Any] | None:
    """A stored document back as a dict (None for a missing one)."""
    if text is None:
        return None
    data = json.loads(text)
    return data if isinstance(data, dict) else None


class Book(ABC):
    """One case book. Use as a context manager or call :meth:`close`. Thread-safe: the
    workbench calls it from many request threads."""

    uri: str

    @abstractmethod
    def put(self, kind: str, docs: Sequence[Mapping[str, Any]]) -> int:
        """Insert or replace documents of ``kind`` by their ``id`` (all in one transaction).
        Returns how many were written. Cost: one transaction, linear in the documents."""

    @abstractmethod
    def docs(self, kind: str, ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """The documents of ``kind`` (those with one of ``ids`` when given), ordered by id.
        Cost: one read, linear in what it returns."""

    @abstractmethod
    def delete(self, kind: str, ids: Iterable[str]) -> int:
        """Remove documents of ``kind`` by id; returns how many were there."""

    @abstractmethod
    def update(self, kind: str, doc_id: str,
               change: Callable[[dict[str, Any] | None], dict[str, Any] | None]) -> dict[str, Any] | None:
        """Atomically read document ``doc_id`` (None when missing), call ``change`` on it and
        store what it returns (None: remove it); no other writer of the same document runs in
        between, in this process or another. ``change`` may raise to leave everything as it
        was. Returns what was stored."""

    @abstractmethod
    def append(self, chain: str, build: Callable[[dict[str, Any] | None], Sequence[Mapping[str, Any]]]
               ) -> list[dict[str, Any]]:
        """Atomically read the last entry of ``chain`` (None when empty), call ``build`` on it
        and append the entries it returns, each with an integer ``seq`` one above the one
        before (``build`` sets them). Returns the entries appended. No other append to the
        chain runs in between."""

    @abstractmethod
    def entries(self, chain: str, since: int = 0) -> list[dict[str, Any]]:
        """The entries of ``chain`` with ``seq`` above ``since``, in ``seq`` order, as stored
        (an entry edited outside graphiff is returned as edited: that is what verification
        looks for)."""

    @abstractmethod
    def close(self) -> None:
        """Release the book."""

    def get(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        """One document, or None."""
        found = self.docs(kind, [doc_id])
        return found[0] if found else None

    def __enter__(self) -> "Book":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

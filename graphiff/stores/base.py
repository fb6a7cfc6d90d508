"""The store interface: what every backend (embedded DuckDB, Neo4j) must do.

A store holds records and hands back tables. Nodes are rows keyed by ``key`` (unique per
label); relationships are rows ``(src_label, src, dst_label, dst, ...props)``, unique on those
plus the identity properties the schema names for the type. Upserts are idempotent: loading the
same rows twice leaves the store unchanged. Every row carries provenance columns
``_source``, ``_line``, ``_load_id``, ``_loaded_at``.

Backends implement the small abstract primitives; the shared steps (``status``, the unit of
work :meth:`Store.atomic`) are defined once here. Alerts are written and read through
:mod:`graphiff.alerts`.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator, Literal, Sequence

import numpy as np
import pandas as pd

from graphiff.errors import StoreError
from graphiff.model.lookup import match_by_lookup
from graphiff.stores.book import Book


def stamped(info: dict[str, Any]) -> dict[str, Any]:
    """A load record with ``recorded_at`` (UTC, microseconds) added when it has none: what
    orders loads recorded within one second (``loaded_at`` has whole seconds)."""
    if info.get("recorded_at"):
        return dict(info)
    return {**info, "recorded_at": datetime.now(timezone.utc).isoformat(timespec="microseconds")}


def load_order(info: dict[str, Any]) -> tuple[str, str]:
    """The sort key of :meth:`Store.loads`: first load time, then when it was recorded."""
    return (str(info.get("first_loaded_at", info.get("loaded_at", ""))), str(info.get("recorded_at", "")))


class Store(ABC):
    """One graph store. Use as a context manager or call :meth:`close`."""

    uri: str
    #: the load id of the open unit of work (:meth:`atomic`), None outside one
    unit: str | None = None
    #: the case book once :meth:`book` opened it
    _book: Book | None = None

    # ---- primitives every backend implements -------------------------------------------
    @abstractmethod
    def upsert_nodes(self, label: str, rows: pd.DataFrame, *, on_conflict: Literal["update", "keep"] = "update") -> int:
        """Merge node rows on ``key``. ``update`` overwrites properties with the new non-null
        values; ``keep`` only creates nodes that do not exist yet. Returns the rows written."""

    @abstractmethod
    def upsert_rels(self, rel_type: str, rows: pd.DataFrame) -> int:
        """Merge relationship rows (columns ``src_label, src, dst_label, dst`` + properties).
        Missing end nodes are created as bare nodes with only their key. Returns rows written."""

    @abstractmethod
    def nodes(self, label: str, columns: list[str] | None = None) -> pd.DataFrame:
        """All nodes of ``label`` as a table: ``key`` plus one column per property (only
        ``key`` + ``columns`` when given; a column no node has comes back as nulls)."""

    @abstractmethod
    def rels(self, rel_type: str) -> pd.DataFrame:
        """All relationships of ``rel_type``: ``src_label, src, dst_label, dst`` + properties."""

    def iter_nodes(self, label: str, rows: int = 500_000) -> Iterator[pd.DataFrame]:
        """:meth:`nodes` of ``label`` in consecutive pieces of about ``rows`` rows, in the same
        order and with the same column dtypes as the whole table, for readers that need not
        hold a whole label in memory (:func:`graphiff.graph.snapshot.write_snapshot`). The
        default gives the whole table as one piece; a backend that can page overrides it."""
        yield self.nodes(label)

    def iter_rels(self, rel_type: str, rows: int = 500_000) -> Iterator[pd.DataFrame]:
        """:meth:`rels` of ``rel_type`` in pieces, as :meth:`iter_nodes`."""
        yield self.rels(rel_type)

    @abstractmethod
    def delete_nodes(self, label: str, keys: list[str] | None = None) -> int:
        """Delete nodes of ``label`` (all when ``keys`` is None) and their relationships."""

    @abstractmethod
    def delete_rels(self, rel_type: str, rids: list[str] | None = None) -> int:
        """Delete relationships of ``rel_type``: those whose identity
        (:func:`graphiff.model.identity.rel_ids`) is in ``rids``, or all when ``rids`` is None.
        Nodes stay. Returns the number deleted."""

    @abstractmethod
    def counts(self) -> dict[str, dict[str, int]]:
        """``{"nodes": {label: n}, "relationships": {type: n}}`` for non-empty labels/types."""

    @abstractmethod
    def record_load(self, info: dict[str, Any]) -> None:
        """Remember one load (id, time, files, counts)."""

    @abstractmethod
    def loads(self) -> list[dict[str, Any]]:
        """The loads recorded so far, oldest first."""

    @abstractmethod
    def wipe(self) -> None:
        """Delete every node, relationship and load record (an empty graph)."""

    @abstractmethod
    def close(self) -> None:
        """Release the store."""

    @abstractmethod
    def book(self) -> Book:
        """The store's case book (:mod:`graphiff.stores.book`: alert triage, cases, users, the
        audit log), opened on first use and closed with the store."""

    # ---- what a load asks of the stored graph ------------------------------------------
    def known_keys(self, label: str, keys: Sequence[str]) -> np.ndarray:
        """Which of ``keys`` are keys of stored ``label`` nodes (the unit's own writes
        included): one bool per key.

        A load asks this for every chunk (multi-label ends). The default reads every key of
        ``label`` (cost O(nodes of label) per call); a backend that can answer with a query of
        the keys overrides it (memory bounded by the call).
        """
        stored = pd.Index(self.nodes(label, [])["key"].to_numpy(dtype=object))
        return np.asarray(stored.get_indexer(np.asarray(keys, dtype=object)) >= 0, dtype=bool)

    def lookup_nodes(self, label: str, rows: pd.DataFrame, props: tuple[str, ...]) -> pd.DataFrame:
        """The stored ``label`` nodes each row names by property, by the lookup rule of the
        input contract (:func:`graphiff.model.lookup.match_by_lookup`, whose result this is:
        ``row``, ``key``, ``matched_on``).

        A load asks this for every chunk (``lookup:`` ends). The default reads ``key`` and
        ``props`` of every ``label`` node (cost O(nodes of label) per call); a backend that can
        answer with a query of the rows overrides it (memory bounded by the call).
        """
        return match_by_lookup(rows, self.nodes(label, list(props)), props)

    # ---- shared steps ------------------------------------------------------------------
    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def atomic(self, load_id: str) -> Iterator[Store]:
        """A unit of work: every write inside the ``with`` block, and the ``record_load`` that
        ends it, becomes visible together when the block ends normally, or not at all when it
        raises (any exception, ``KeyboardInterrupt`` included: the store is left exactly as it
        was, the same ``status()``). How to use it (``load_paths`` and the package importer)::

            with store.atomic(load_id):
                ...  # every upsert_nodes / upsert_rels of the load (through ingest.writer)
                store.record_load(info)  # last, inside the block

        Inside the block, ``nodes()`` sees the unit's own writes (the writer's lookups need
        them); ``counts()``, ``loads()`` and ``rels()`` may show only what is committed
        (Neo4j), so read those before the block. A process killed inside the block leaves
        nothing visible on the embedded store; on Neo4j a unit killed while staging leaves
        nothing visible, and one killed while publishing is completed the next time the store
        is opened (docs/neo4j.md).

        Nesting: an inner ``atomic`` with the same ``load_id`` joins the outer unit (it
        commits or rolls back with it); with another ``load_id`` it is refused with
        :class:`~graphiff.errors.StoreError`. One unit at a time per store object; not
        thread-safe (one thread writes a unit).

        Parameters
        ----------
        load_id : str
            The load (or package import) the writes belong to.

        Raises
        ------
        StoreError
            Nested with another load id, or the commit failed (then nothing is visible).

        Cost: embedded, one DuckDB transaction (its undo data in memory or spilled to the
        file); Neo4j, every batch is written twice (staged, then published).
        """
        if self.unit is not None:
            if self.unit != load_id:
                raise StoreError(f"a unit of work for load {self.unit} is already open on {self.uri}; "
                                 f"load {load_id} cannot start inside it")
            yield self
            return
        self._begin_unit(load_id)
        self.unit = load_id
        try:
            yield self
        except BaseException:
            self.unit = None
            self._rollback_unit(load_id)
            raise
        self.unit = None
        self._commit_unit(load_id)

    def _begin_unit(self, load_id: str) -> None:
        """Start a unit of work (backends override; the default writes through directly)."""

    def _commit_unit(self, load_id: str) -> None:
        """Make the unit's writes visible (backends override). A commit that fails must leave
        either nothing visible or (Neo4j, while publishing) a state the store completes later."""

    def _rollback_unit(self, load_id: str) -> None:
        """Discard the unit's writes; must not raise on a unit already gone (backends override)."""

    def status(self) -> dict[str, Any]:
        """Counts of nodes and relationships, and the loads so far."""
        c = self.counts()
        return {"nodes": c["nodes"], "relationships": c["relationships"], "loads": self.loads()}

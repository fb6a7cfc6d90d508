"""The store interface: what every backend (embedded DuckDB, Neo4j) must do.

A store holds records and hands back tables. Nodes are rows keyed by ``key`` (unique per
label); relationships are rows ``(src_label, src, dst_label, dst, ...props)``, unique on those
plus the identity properties the schema names for the type. Upserts are idempotent: loading the
same rows twice leaves the store unchanged. Every row carries provenance columns
``_source``, ``_line``, ``_load_id``, ``_loaded_at``.

Backends implement the small abstract primitives; the shared steps (``status``) are defined
once here. Alerts are written and read through :mod:`graphiff.alerts`.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Literal

import pandas as pd


class Store(ABC):
    """One graph store. Use as a context manager or call :meth:`close`."""

    uri: str

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

    @abstractmethod
    def delete_nodes(self, label: str, keys: list[str] | None = None) -> int:
        """Delete nodes of ``label`` (all when ``keys`` is None) and their relationships."""

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

    # ---- shared steps ------------------------------------------------------------------
    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def status(self) -> dict[str, Any]:
        """Counts of nodes and relationships, and the loads so far."""
        c = self.counts()
        return {"nodes": c["nodes"], "relationships": c["relationships"], "loads": self.loads()}

"""The store's tables, read once: what every detector, explorer and chart reads.

:class:`Tables` hands out the node and relationship tables of a store as DataFrames, the same
on the embedded store and on Neo4j, and keeps one memo cache for what is computed from them
(:mod:`graphiff.graph.features`, :mod:`graphiff.graph.index`).
"""
from __future__ import annotations

from typing import Callable, Hashable, Mapping, TypeVar

import pandas as pd

from graphiff.model.identity import REL_ENDS
from graphiff.stores.base import Store

T = TypeVar("T")


class Tables:
    """Cached tables of one store (or of in-memory frames, for small examples).

    ``Tables(store)`` reads lazily from the store; ``Tables.from_frames(nodes={...}, rels={...})``
    wraps ready DataFrames. Missing labels/types give empty frames with a ``key`` column
    (nodes) or the four end columns (relationships).
    """

    def __init__(self, store: Store | None = None):
        self.store = store
        self._nodes: dict[str, pd.DataFrame] = {}
        self._rels: dict[str, pd.DataFrame] = {}
        self._memo: dict[Hashable, object] = {}

    @classmethod
    def from_frames(cls, nodes: Mapping[str, pd.DataFrame] | None = None,
                    rels: Mapping[str, pd.DataFrame] | None = None) -> "Tables":
        t = cls(None)
        t._nodes.update(nodes or {})
        t._rels.update(rels or {})
        return t

    def nodes(self, label: str) -> pd.DataFrame:
        if label not in self._nodes:
            df = self.store.nodes(label) if self.store is not None else pd.DataFrame(columns=["key"])
            self._nodes[label] = df
        return self._nodes[label]

    def rels(self, rel_type: str) -> pd.DataFrame:
        if rel_type not in self._rels:
            df = self.store.rels(rel_type) if self.store is not None else pd.DataFrame(columns=list(REL_ENDS))
            self._rels[rel_type] = df
        return self._rels[rel_type]

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """What ``compute()`` returns, computed once per ``key`` on these tables (the one memo
        cache of everything derived from them: feature tables, the adjacency index...).

        >>> t = Tables.from_frames()
        >>> t.memo("answer", lambda: 42), t.memo("answer", lambda: 0)
        (42, 42)
        """
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]  # type: ignore[return-value]

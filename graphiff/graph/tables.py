"""The store's tables, read once: what every detector, explorer and chart reads.

:class:`Tables` hands out the node and relationship tables of a store as DataFrames, the same
on the embedded store and on Neo4j, and keeps one memo cache for what is computed from them
(:mod:`graphiff.graph.features`, :mod:`graphiff.graph.index`). By default the tables are the
**resolved view** (:mod:`graphiff.graph.resolution`): records that ``SAME_AS`` joins read as
one entity; ``Tables(store, resolved=False)`` gives the records as loaded.

The memo knows which tables each result read. Tables made of one part's records and a context
shared by every part (a Spark bucket: :func:`graphiff.spark.engine._part_runner`) can share
one memo (``shared``): a result that read none of the part's own tables (``own``) is the same
for every part, so it is computed once and handed to the next part, where before every part
computed it again over the whole context.
"""
from __future__ import annotations

from typing import Callable, Hashable, Iterable, Mapping, TypeVar

import pandas as pd

from graphiff.graph.resolution import (
    PARTNER_SOURCE,
    RESOLVABLE,
    Resolution,
    resolution_from_tables,
    resolve_nodes,
    resolve_rels,
)
from graphiff.model.identity import REL_ENDS
from graphiff.stores.base import Store

T = TypeVar("T")

#: what a result given with :meth:`Tables.give` reads: never shared with another part
GIVEN = ("given",)
_RESOLUTION = ("graph.tables", "resolution")


class Tables:
    """Cached tables of one store (or of in-memory frames, for small examples).

    ``Tables(store)`` reads lazily from the store; ``Tables.from_frames(nodes={...}, rels={...})``
    wraps ready DataFrames. Missing labels/types give empty frames with a ``key`` column
    (nodes) or the four end columns (relationships). With ``resolved=True`` (the default)
    :meth:`nodes` and :meth:`rels` are the resolved view (one row per resolved entity, ends
    and references rewritten to resolved ids); :attr:`raw` is always the records as loaded.
    """

    def __init__(self, store: Store | None = None, *, resolved: bool = True):
        self.store = store
        self.resolved = resolved
        self._nodes: dict[str, pd.DataFrame] = {}
        self._rels: dict[str, pd.DataFrame] = {}
        self._memo: dict[Hashable, object] = {}
        self._read: dict[Hashable, frozenset] = {}  # memo key -> the tables its result read
        self._trace: list[set] = []  # the reads of the results being computed (shared with raw)
        self._shared: dict[Hashable, tuple[object, frozenset]] | None = None
        self._own: frozenset = frozenset()
        self._raw: Tables | None = None if resolved else self

    @classmethod
    def from_frames(cls, nodes: Mapping[str, pd.DataFrame] | None = None,
                    rels: Mapping[str, pd.DataFrame] | None = None, *, resolved: bool = True,
                    shared: dict[Hashable, tuple[object, frozenset]] | None = None,
                    own: Iterable[tuple[str, str]] = ()) -> "Tables":
        """Tables of ready frames. With ``shared`` (a dict the caller keeps between parts),
        results that read none of the ``own`` tables (``("nodes", label)`` or ``("rels",
        type)``: the part's own records, the rest being a context every part shares) are taken
        from and put into ``shared``."""
        raw = cls(None, resolved=False)
        raw._nodes.update(nodes or {})
        raw._rels.update(rels or {})
        t = raw
        if resolved:
            t = cls(None)
            t._raw = raw
            t._trace = raw._trace
        for x in {raw, t}:
            x._shared, x._own = shared, frozenset(own) | {GIVEN}
        return t

    def _reading(self, what: Iterable[Hashable]) -> None:
        if self._trace:
            self._trace[-1].update(what)

    @property
    def raw(self) -> "Tables":
        """The records as loaded (no resolution): the same object when ``resolved`` is False."""
        if self._raw is None:
            self._raw = Tables(self.store, resolved=False)
            self._raw._trace = self._trace
        return self._raw

    @property
    def resolution(self) -> Resolution:
        """The clusters the store's ``SAME_AS`` relationships make (empty without any, or when
        not ``resolved``)."""
        if not self.resolved:
            return Resolution()

        def compute() -> Resolution:
            raw = self.raw
            same_as = raw.rels("SAME_AS")
            if not len(same_as):
                return Resolution()
            partner: dict[str, set[str]] = {}
            filled: dict[str, dict[str, int]] = {}
            clustered = set(same_as["src"].astype(str)) | set(same_as["dst"].astype(str))
            for label in RESOLVABLE:
                n = raw.nodes(label)
                if not len(n):
                    continue
                n = n[n["key"].astype(str).isin(clustered).to_numpy()]
                if "source" in n.columns:
                    src = n["source"].astype("string")
                    partner[label] = set(n.loc[src.str.startswith(PARTNER_SOURCE).fillna(False).to_numpy(), "key"]
                                         .astype(str))
                props = [c for c in n.columns if not c.startswith("_") and c != "key"]
                filled[label] = dict(zip(n["key"].astype(str), n[props].notna().sum(axis=1).astype(int)))
            return resolution_from_tables(same_as, partner, filled)
        return self.memo(_RESOLUTION, compute)

    def nodes(self, label: str) -> pd.DataFrame:
        self._reading([("nodes", label)])
        if self.resolved and self._trace and label in self._nodes:
            self._reading(self._read.get(_RESOLUTION, ()))  # the resolved view read the resolution
        if label not in self._nodes:
            if self.resolved:
                raw = self.raw.nodes(label)
                res = self.resolution
                self._nodes[label] = resolve_nodes(label, raw, res) if res else raw
            else:
                self._nodes[label] = (self.store.nodes(label) if self.store is not None
                                      else pd.DataFrame(columns=["key"]))
        return self._nodes[label]

    def rels(self, rel_type: str) -> pd.DataFrame:
        self._reading([("rels", rel_type)])
        if self.resolved and self._trace and rel_type in self._rels:
            self._reading(self._read.get(_RESOLUTION, ()))
        if rel_type not in self._rels:
            if self.resolved:
                raw = self.raw.rels(rel_type)
                res = self.resolution
                self._rels[rel_type] = resolve_rels(rel_type, raw, res) if (res or rel_type == "SAME_AS") else raw
            else:
                self._rels[rel_type] = (self.store.rels(rel_type) if self.store is not None
                                        else pd.DataFrame(columns=list(REL_ENDS)))
        return self._rels[rel_type]

    def memo(self, key: Hashable, compute: Callable[[], T]) -> T:
        """What ``compute()`` returns, computed once per ``key`` on these tables (the one memo
        cache of everything derived from them: feature tables, the adjacency index...).

        >>> t = Tables.from_frames()
        >>> t.memo("answer", lambda: 42), t.memo("answer", lambda: 0)
        (42, 42)
        """
        if key not in self._memo:
            skey = (self.resolved, key)
            found = self._shared.get(skey) if self._shared is not None else None
            if found is not None and not found[1] & self._own:
                self._memo[key], self._read[key] = found
            else:
                self._trace.append(set())
                try:
                    value = compute()
                finally:
                    read = frozenset(self._trace.pop())
                self._memo[key], self._read[key] = value, read
                if self._shared is not None and not read & self._own:
                    self._shared[skey] = (value, read)
        self._reading(self._read.get(key, ()))
        return self._memo[key]  # type: ignore[return-value]

    def give(self, key: Hashable, value: object) -> None:
        """Make :meth:`memo` return ``value`` for ``key``: a result computed elsewhere, e.g. a
        feature aggregated on Spark over every record, for tables that hold a part of them
        (:func:`graphiff.graph.features.give_feature`). What is computed from it is never
        shared with other parts."""
        self._memo[key] = value
        self._read[key] = frozenset({GIVEN})

    def reads(self, key: Hashable) -> frozenset:
        """The tables the memoised result ``key`` read (``("nodes", label)``, ``("rels",
        type)``), those of the results it used included; :data:`GIVEN` for a given one."""
        return self._read.get(key, frozenset())

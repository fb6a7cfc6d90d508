"""What the workbench server reads from the store: one immutable snapshot, re-read on change.

A :class:`Snapshot` is everything a request needs, read once: the tables (the resolved view by
default), the adjacency index, the search index, the alerts with their evidence records and
dates, and per-record dates and USD values for timelines. :class:`SnapshotHolder` keeps the
current one and replaces it when the store changes:

- a cheap **fingerprint** (the loads, the node and relationship counts, the alerts' keys,
  scores and statuses, the SAME_AS links' statuses) is taken at most every ``refresh_seconds``,
  in a background thread, when a request comes in; for the embedded store the file's size and
  modification time are looked at first, and the store is only opened when they moved;
- a rebuild builds the new snapshot beside the old one and swaps it in one assignment:
  requests that started on the old one finish on it.

The embedded store (one DuckDB file, one writing process at a time) is opened only to read
and closed straight after, so ``graphiff load``, ``detect`` or ``resolve`` can run while the
server serves; a check that finds the file locked keeps the old snapshot and tries again
later. A Neo4j store stays connected (its full-text index answers searches).
"""
from __future__ import annotations

import gc
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from graphiff.alerts import Alert, stored_alerts
from graphiff.errors import GraphiffError
from graphiff.explore.evidence import evidence_records
from graphiff.graph.index import RECORD_LABELS, GraphIndex, graph_index
from graphiff.graph.tables import Tables
from graphiff.model import model
from graphiff.search import SearchIndex, open_search
from graphiff.stores import Store, embedded_path, open_store

__all__ = ["Snapshot", "SnapshotHolder", "AlertBook", "RecordTimes", "build_snapshot", "fingerprint",
           "VALUE_COLUMNS"]

log = logging.getLogger("graphiff.workbench")

#: The USD value of each record label (what a timeline sums).
VALUE_COLUMNS = {"Declaration": "value_usd", "Payment": "amount_usd", "CashReport": "amount_usd"}

Progress = Callable[[str], None]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# =============================================================================================
# Per-record dates and values (timelines)
# =============================================================================================

@dataclass
class RecordTimes:
    """Dates (``datetime64[D]``, NaT when undated) and USD values (NaN when unknown) of every
    declaration, payment and cash report, looked up by node id (``Label:key``) or bare key."""

    ids: pd.Index
    keys: pd.Index
    dates: np.ndarray
    values: np.ndarray

    @classmethod
    def build(cls, tables: Tables, idx: GraphIndex) -> "RecordTimes":
        """Read once per snapshot. Cost: O(records)."""
        ids: list[np.ndarray] = []
        keys: list[np.ndarray] = []
        dates: list[np.ndarray] = []
        values: list[np.ndarray] = []
        for label in RECORD_LABELS:
            if label not in idx.labels:
                continue
            code = idx.labels.index(label)
            lo = int(idx.label_offset[code])
            k = idx.keys[label].to_numpy(dtype=object).astype(str)
            nums = np.arange(lo, lo + len(k))
            d = pd.to_datetime(idx.node_date.iloc[nums].astype("string").str.slice(0, 10), errors="coerce",
                               format="%Y-%m-%d")
            v = np.full(len(k), np.nan)
            frame = tables.raw.nodes(label)
            col = VALUE_COLUMNS.get(label)
            rows = idx.node_row[nums]
            if col and col in frame.columns and len(frame):
                have = rows >= 0
                v[have] = pd.to_numeric(frame[col].iloc[rows[have]], errors="coerce").to_numpy(dtype=float)
            ids.append(np.char.add(f"{label}:", k.astype(str)).astype(object) if len(k) else np.empty(0, object))
            keys.append(k.astype(object))
            dates.append(d.to_numpy(dtype="datetime64[D]"))
            values.append(v)
        def cat(parts: list[np.ndarray], dt: Any) -> np.ndarray:
            return np.concatenate(parts) if parts else np.empty(0, dtype=dt)
        return cls(ids=pd.Index(cat(ids, object)), keys=pd.Index(cat(keys, object)),
                   dates=cat(dates, "datetime64[D]"), values=cat(values, float))

    def positions(self, ids: list[str]) -> np.ndarray:
        """Positions of the records among ``ids`` (others, e.g. entities, are left out; each
        record once)."""
        if not ids or not len(self.ids):
            return np.empty(0, dtype=np.int64)
        arr = pd.Index([str(i) for i in ids])
        pos = self.ids.get_indexer(arr)
        miss = pos < 0
        if miss.any() and self.keys.is_unique:
            pos[miss] = self.keys.get_indexer(arr[miss])
        elif miss.any():
            bare = self.keys.get_indexer_non_unique(arr[miss])[0]
            pos = np.concatenate([pos[~miss], bare])
        return np.unique(pos[pos >= 0])

    def date_range(self, ids: list[str]) -> tuple[str | None, str | None]:
        """First and last date of the records among ``ids``."""
        pos = self.positions(ids)
        d = self.dates[pos]
        d = d[~np.isnat(d)]
        if not len(d):
            return None, None
        return str(d.min()), str(d.max())

    def buckets(self, ids: list[str], bucket: str) -> list[dict[str, Any]]:
        """Counts and summed USD values of the dated records among ``ids`` per ``day``,
        ``week`` (starting Monday) or ``month``, oldest first. Cost: O(len(ids)) vectorised."""
        pos = self.positions(ids)
        d = self.dates[pos]
        ok = ~np.isnat(d)
        d, v = d[ok], self.values[pos][ok]
        if not len(d):
            return []
        if bucket == "month":
            start = d.astype("datetime64[M]").astype("datetime64[D]")
        elif bucket == "week":
            days = d.astype("int64")
            start = (days - (days + 3) % 7).astype("datetime64[D]")    # 1970-01-01 was a Thursday
        elif bucket == "day":
            start = d
        else:
            raise GraphiffError(f"unknown bucket {bucket!r}: choose day, week or month")
        frame = pd.DataFrame({"start": start, "value": v})
        g = frame.groupby("start", sort=True)["value"]
        counts, sums = g.size(), g.sum(min_count=1).fillna(0.0)
        return [{"start": str(np.datetime64(s, "D")), "count": int(c), "value_usd": round(float(x), 2)}
                for s, c, x in zip(counts.index.to_numpy(), counts.to_numpy(), sums.to_numpy())]


# =============================================================================================
# Alerts
# =============================================================================================

@dataclass
class AlertBook:
    """The store's alerts, ready to list: each as the API's JSON (``status``, first and last
    date of its evidence records), its evidence record ids, counts by pattern."""

    items: list[dict[str, Any]]
    alerts: dict[str, Alert]
    records: dict[str, list[str]]
    patterns: dict[str, int]

    @classmethod
    def build(cls, tables: Tables, times: RecordTimes) -> "AlertBook":
        """Cost: one read of the Alert nodes and FLAGS (cached tables), one key look-up per
        evidence string."""
        alerts = stored_alerts(tables)
        stored = tables.nodes("Alert")
        status: dict[str, str] = {}
        if len(stored) and "status" in stored.columns:
            status = {str(k): str(s) for k, s in zip(stored["key"], stored["status"]) if isinstance(s, str) and s}
        items: list[dict[str, Any]] = []
        records: dict[str, list[str]] = {}
        by_id: dict[str, Alert] = {}
        patterns: dict[str, int] = {}
        for a in alerts:
            recs = evidence_records(tables, a)
            first, last = times.date_range(recs)
            items.append({**a.to_dict(), "status": status.get(a.id, "new"), "first_date": first, "last_date": last})
            records[a.id] = recs
            by_id[a.id] = a
            patterns[a.pattern] = patterns.get(a.pattern, 0) + 1
        return cls(items=items, alerts=by_id, records=records, patterns=dict(sorted(patterns.items())))


# =============================================================================================
# The snapshot
# =============================================================================================

@dataclass
class Snapshot:
    """One reading of the store. Never changed after it is built; threads share it."""

    store_kind: str                 # "embedded" | "neo4j"
    resolved: bool
    tables: Tables
    index: GraphIndex
    search: SearchIndex
    alerts: AlertBook
    times: RecordTimes
    counts: dict[str, dict[str, int]]
    loads: list[dict[str, Any]]
    fingerprint: tuple
    refreshed_at: str = field(default_factory=_now)


def fingerprint(store: Store) -> tuple:
    """What changes when a load, ``detect``, ``resolve`` or a judgement changes the store: the
    loads, the counts of every label and type, the alerts' keys, scores and statuses and the
    SAME_AS links' ends and statuses. Cost: a few small reads (the Alert nodes and the SAME_AS
    relationships are read whole)."""
    loads = tuple((str(x.get("load_id")), str(x.get("recorded_at")), str(x.get("loaded_at"))) for x in store.loads())
    c = store.counts()
    counts = (tuple(sorted(c.get("nodes", {}).items())), tuple(sorted(c.get("relationships", {}).items())))
    alerts = store.nodes("Alert", ["score", "status"])
    a_hash = int(pd.util.hash_pandas_object(alerts.astype(str), index=False).sum()) if len(alerts) else 0
    same = store.rels("SAME_AS")
    s_hash = 0
    if len(same):
        cols = [x for x in ("src", "dst", "status", "score") if x in same.columns]
        s_hash = int(pd.util.hash_pandas_object(same[cols].astype(str), index=False).sum())
    return loads, counts, a_hash, s_hash


def _read_all(tables: Tables) -> None:
    """Read every table the snapshot may need while the store is open (then it can close)."""
    m = model()
    raw = tables.raw
    for label in m.nodes:
        raw.nodes(label)
    for rel in m.relationships:
        raw.rels(rel)
    _ = tables.resolution
    for label in m.nodes:
        tables.nodes(label)
    for rel in m.relationships:
        tables.rels(rel)


def build_snapshot(store: Store, *, resolved: bool = True, release: Callable[[], None] | None = None,
                   progress: Progress | None = None) -> Snapshot:
    """Read ``store`` into a new :class:`Snapshot`.

    Parameters
    ----------
    store : Store
        An open store.
    resolved : bool
        The resolved view (default) or the records as loaded.
    release : callable, optional
        Given (the embedded store): every table is read first, the tables are detached from
        the store and ``release()`` is called (it closes the store) before the indexes are
        built. None (Neo4j): the store stays in use (its full-text index answers searches).
    progress : callable, optional
        Called with a short description of each step.

    Cost: one read of every node and relationship table, the adjacency index (O(N + E)) and
    the search index (seconds per 100,000 declarations).
    """
    say = progress or (lambda _msg: None)
    say("reading the store")
    kind = "embedded" if embedded_path(store.uri) is not None else "neo4j"
    fp = fingerprint(store)
    counts = store.counts()
    loads = store.loads()
    tables = Tables(store, resolved=resolved)
    _read_all(tables)
    if release is not None:
        tables.store = None
        tables.raw.store = None
        release()
    say("indexing the graph")
    idx = graph_index(tables)
    for name in ("is_record", "is_hub", "is_alert", "node_key", "degree", "alert_count"):
        getattr(idx, name)
    say("indexing names for search")
    search = open_search(store, tables)
    say("reading alerts")
    times = RecordTimes.build(tables, idx)
    book = AlertBook.build(tables, times)
    return Snapshot(store_kind=kind, resolved=resolved, tables=tables, index=idx, search=search, alerts=book,
                    times=times, counts=counts, loads=loads, fingerprint=fp)


def _settle() -> None:
    """After a snapshot is swapped in: free the old one's cycles, then move every object left
    (the new snapshot: millions of strings and frames) out of the garbage collector's sight
    (``gc.freeze``), so its full collections no longer walk the whole graph -- without this a
    large snapshot turns every full collection into a pause of seconds in some request."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class SnapshotHolder:
    """The current :class:`Snapshot` of one store, re-read when the store changes.

    Parameters
    ----------
    store_uri : str or None
        The store (None: ``$GRAPHIFF_STORE`` or ``./graphiff.duckdb``); an embedded store
        must exist.
    database : str, optional
        The Neo4j database.
    resolved : bool
        The resolved view (default) or the records as loaded.
    refresh_seconds : float
        How often at most the store is checked for changes (0: never).
    progress : callable, optional
        Told the steps of the first reading.
    """

    def __init__(self, store_uri: str | None, *, database: str | None = None, resolved: bool = True,
                 refresh_seconds: float = 5.0, progress: Progress | None = None):
        self.uri = store_uri
        self.database = database
        self.resolved = resolved
        self.refresh_seconds = float(refresh_seconds)
        self.path: Path | None = embedded_path(store_uri)
        self._store: Store | None = None
        self._check_lock = threading.Lock()
        self._checking = False
        self._file_state: tuple | None = None
        self.last_error: str | None = None
        if self.path is None:
            self._store = open_store(store_uri, database=database)
            try:
                self._snap = build_snapshot(self._store, resolved=resolved, progress=progress)
            except BaseException:
                self._store.close()
                raise
        else:
            state = self._stat()
            store = open_store(store_uri, create=False)
            try:
                self._snap = build_snapshot(store, resolved=resolved, release=store.close, progress=progress)
            finally:
                store.close()
            self._file_state = self._stat() if state is not None else None
        self._last_check = time.monotonic()
        _settle()

    # ---- reading ---------------------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        """The current snapshot (no check)."""
        return self._snap

    def current(self) -> Snapshot:
        """The current snapshot; when ``refresh_seconds`` have passed since the last check, a
        check starts in the background (this call does not wait for it)."""
        if self.refresh_seconds > 0 and time.monotonic() - self._last_check >= self.refresh_seconds:
            with self._check_lock:
                start = not self._checking
                if start:
                    self._checking = True
                    self._last_check = time.monotonic()
            if start:
                threading.Thread(target=self._check_in_background, name="graphiff-refresh", daemon=True).start()
        return self._snap

    def _check_in_background(self) -> None:
        try:
            self.check()
        except Exception as exc:  # noqa: BLE001 - a failed check keeps the old snapshot
            self.last_error = str(exc)
            log.warning("store check failed, keeping the current snapshot: %s", exc)
        finally:
            with self._check_lock:
                self._checking = False
                self._last_check = time.monotonic()

    # ---- checking --------------------------------------------------------------------------
    def _stat(self) -> tuple | None:
        if self.path is None:
            return None
        out: list[tuple[int, int] | None] = []
        for p in (self.path, self.path.with_name(self.path.name + ".wal")):
            try:
                st = p.stat()
                out.append((st.st_size, st.st_mtime_ns))
            except FileNotFoundError:
                out.append(None)
        return tuple(out)

    def check(self) -> bool:
        """Look at the store now; rebuild and swap the snapshot when it changed. Returns True
        when a new snapshot was swapped in. A locked embedded file (another command is writing)
        keeps the old snapshot: False, and the next check tries again.

        Cost: a ``stat`` of the embedded file when it did not move; else the fingerprint's
        reads, plus a whole :func:`build_snapshot` when it changed.
        """
        if self.path is None:
            assert self._store is not None
            fp = fingerprint(self._store)
            if fp == self._snap.fingerprint:
                return False
            self._snap = build_snapshot(self._store, resolved=self.resolved)
            _settle()
            return True
        state = self._stat()
        if state == self._file_state:
            return False
        try:
            store = open_store(self.uri, create=False)
        except GraphiffError as exc:
            self.last_error = str(exc)
            log.info("store busy or unreadable, keeping the current snapshot: %s", exc)
            return False
        try:
            fp = fingerprint(store)
            new = (None if fp == self._snap.fingerprint
                   else build_snapshot(store, resolved=self.resolved, release=store.close))
        finally:
            store.close()
        self._file_state = self._stat()
        self.last_error = None
        if new is None:
            return False
        self._snap = new
        _settle()
        return True

    def close(self) -> None:
        """Release the Neo4j driver (the embedded store is not held open)."""
        if self._store is not None:
            self._store.close()
            self._store = None

"""The alerts as the workbench lists them: the snapshot's alerts merged with their triage from
the case book (:mod:`graphiff.casework.triage`), and the alerts the book remembers that the
store no longer holds.

The snapshot is read once; triage changes at any time (this server, ``graphiff alerts set``,
``graphiff detect``). :class:`TriageView` keeps the merged list and reads the book again when
this server changed the triage (:meth:`TriageView.invalidate`: the next list waits for the new
reading), when the snapshot was replaced, and otherwise at most every ``max_age`` seconds (in
the background: the list keeps answering from the previous reading meanwhile).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from graphiff.alerts import Alert
from graphiff.casework.triage import triaged
from graphiff.errors import GraphiffError
from graphiff.explore.evidence import evidence_records
from graphiff.stores.book import Book
from graphiff.workbench.snapshot import Snapshot

__all__ = ["TriageView", "Triaged", "list_item", "detail_item", "alert_dates"]

log = logging.getLogger("graphiff.workbench")

#: The fields of an alert list item besides the alert's own (docs/api.md).
_TRIAGE = ("status", "decision", "assignee", "updated", "updated_at", "first_seen", "last_seen",
           "no_longer_detected_at")
_ALERT = ("id", "pattern", "score", "entities", "explanation", "evidence")


def alert_dates(snap: Snapshot, alert: dict[str, Any]) -> tuple[str | None, str | None]:
    """First and last date of the evidence records of ``alert`` (an alert's dict) that the
    snapshot holds: the snapshot's own figures for a current alert, else looked up."""
    aid = str(alert.get("id"))
    if aid in snap.alerts.records:
        return snap.times.date_range(snap.alerts.records[aid])
    try:
        return snap.times.date_range(evidence_records(snap.tables, Alert.from_dict(alert)))
    except (GraphiffError, KeyError, TypeError, ValueError):
        return None, None


def list_item(t: dict[str, Any], dates: tuple[str | None, str | None]) -> dict[str, Any]:
    """An alert list item from a triaged alert (:func:`graphiff.casework.triage.triaged`)."""
    out = {k: t.get(k) for k in _ALERT}
    out.update({k: t.get(k) for k in _TRIAGE})
    out["n_notes"] = len(t.get("notes") or [])
    out["first_date"], out["last_date"] = dates
    return out


def detail_item(t: dict[str, Any], dates: tuple[str | None, str | None]) -> dict[str, Any]:
    """The alert of ``GET /api/alerts/{id}``: the list item with its notes and history."""
    return {**list_item(t, dates), "notes": list(t.get("notes") or []), "history": list(t.get("history") or [])}


def _key(snap: Snapshot) -> tuple[int, str]:
    """Which snapshot a reading belongs to (an id alone could be reused once one is freed)."""
    return id(snap), snap.refreshed_at


@dataclass
class Triaged:
    """One merged reading: the list items (score, then id), by id, counts per pattern."""

    items: list[dict[str, Any]]
    by_id: dict[str, dict[str, Any]]
    patterns: dict[str, int]


class TriageView:
    """The merged alert list of one app (``app.state.triage``).

    Parameters
    ----------
    book : Book
        The store's case book.
    max_age : float
        Seconds after which the book is read again (in the background).
    """

    def __init__(self, book: Book, *, max_age: float = 2.0, clock: Callable[[], float] = time.monotonic):
        self.book = book
        self.max_age = float(max_age)
        self.clock = clock
        self._lock = threading.Lock()
        self._state: tuple[tuple[int, str], float, Triaged] | None = None     # (snapshot key, read at, reading)
        self._dirty = True
        self._refreshing = False

    def invalidate(self) -> None:
        """This server changed the triage: the next :meth:`get` reads the book again."""
        self._dirty = True

    def get(self, snap: Snapshot) -> Triaged:
        """The merged list for ``snap``. Cost: a list look-up; two reads of the book and one
        merge (linear in the alerts) when the snapshot changed or the triage was changed here."""
        state = self._state
        if state is None or self._dirty or state[0] != _key(snap):
            with self._lock:
                state = self._state
                if state is None or self._dirty or state[0] != _key(snap):
                    self._dirty = False
                    state = (_key(snap), self.clock(), self._read(snap))
                    self._state = state
            return state[2]
        if self.clock() - state[1] >= self.max_age and not self._refreshing:
            self._refreshing = True
            threading.Thread(target=self._refresh, args=(snap,), name="graphiff-triage", daemon=True).start()
        return state[2]

    def _refresh(self, snap: Snapshot) -> None:
        try:
            started = self.clock()
            got = self._read(snap)
            with self._lock:
                current = self._state
                if current is not None and current[0] == _key(snap) and current[1] <= started and not self._dirty:
                    self._state = (_key(snap), started, got)
        except GraphiffError as exc:
            log.warning("reading the alerts' triage failed, keeping the last reading: %s", exc)
        finally:
            self._refreshing = False

    def _read(self, snap: Snapshot) -> Triaged:
        items = []
        patterns: dict[str, int] = {}
        for t in triaged(self.book, list(snap.alerts.alerts.values())):
            item = list_item(t, alert_dates(snap, t))
            items.append(item)
            patterns[str(item["pattern"])] = patterns.get(str(item["pattern"]), 0) + 1
        return Triaged(items=items, by_id={str(i["id"]): i for i in items}, patterns=dict(sorted(patterns.items())))

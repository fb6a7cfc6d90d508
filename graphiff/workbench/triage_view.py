"""The alerts as the workbench lists them: the snapshot's alerts merged with their triage from
the case book (:mod:`graphiff.casework.triage`), and the alerts the book remembers that the
store no longer holds.

The snapshot is read once; triage changes at any time (this server, ``graphiff alerts set``,
``graphiff detect``). :class:`TriageView` keeps the merged list and merges again when this
server changed the triage (:meth:`TriageView.invalidate`: the next list waits for it), when the
snapshot was replaced, and when a look at the book in the background -- at most every
``max_age`` seconds, while lists are asked for -- finds the triage documents changed (reading
them is cheap: only alerts an analyst touched have one), or ``full_age`` seconds have passed
(what ``detect`` remembers of the alerts). The list keeps answering from the previous merge
meanwhile.
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
        Seconds after which the triage documents are looked at again (in the background).
    full_age : float
        Seconds after which everything is merged again even when no triage document changed.
    """

    def __init__(self, book: Book, *, max_age: float = 2.0, full_age: float = 30.0,
                 clock: Callable[[], float] = time.monotonic):
        self.book = book
        self.max_age = float(max_age)
        self.full_age = float(full_age)
        self.clock = clock
        self._lock = threading.Lock()
        self._state: _State | None = None
        self._checked = 0.0
        self._dirty = True
        self._refreshing = False

    def invalidate(self) -> None:
        """This server changed the triage: the next :meth:`get` reads the book again."""
        self._dirty = True

    def get(self, snap: Snapshot) -> Triaged:
        """The merged list for ``snap``. Cost: a list look-up; a merge (two reads of the book,
        linear in the alerts) when the snapshot changed or the triage was changed here."""
        state = self._state
        if state is None or self._dirty or state.key != _key(snap):
            with self._lock:
                state = self._state
                if state is None or self._dirty or state.key != _key(snap):
                    self._dirty = False
                    state = self._merge(snap)
                    self._state = state
                    self._checked = state.at
            return state.reading
        if self.clock() - self._checked >= self.max_age and not self._refreshing:
            self._refreshing = True
            self._checked = self.clock()
            threading.Thread(target=self._refresh, args=(snap,), name="graphiff-triage", daemon=True).start()
        return state.reading

    def _refresh(self, snap: Snapshot) -> None:
        try:
            state = self._state
            if state is None or state.key != _key(snap):
                return
            if self.clock() - state.at < self.full_age and self.book.docs("triage") == state.triage:
                return                                            # nothing changed: no merge
            got = self._merge(snap)
            with self._lock:
                current = self._state
                if current is not None and current.key == got.key and current.at <= got.at and not self._dirty:
                    self._state = got
        except GraphiffError as exc:
            log.warning("reading the alerts' triage failed, keeping the last reading: %s", exc)
        finally:
            self._refreshing = False

    def _merge(self, snap: Snapshot) -> _State:
        at = self.clock()
        triage = self.book.docs("triage")
        items = []
        patterns: dict[str, int] = {}
        known = {str(a["id"]): a for a in snap.alerts.items}
        for t in triaged(self.book, list(snap.alerts.alerts.values()), as_dicts=known):
            current = known.get(str(t["id"]))
            dates = (current["first_date"], current["last_date"]) if current is not None else alert_dates(snap, t)
            item = list_item(t, dates)
            items.append(item)
            patterns[str(item["pattern"])] = patterns.get(str(item["pattern"]), 0) + 1
        reading = Triaged(items=items, by_id={str(i["id"]): i for i in items},
                          patterns=dict(sorted(patterns.items())))
        return _State(key=_key(snap), at=at, triage=triage, reading=reading)


@dataclass
class _State:
    """A merge: for which snapshot, when, from which triage documents."""

    key: tuple[int, str]
    at: float
    triage: list[dict[str, Any]]
    reading: Triaged

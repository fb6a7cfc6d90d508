"""Alert triage that survives detection: status, assignee and notes per alert, kept in the
case book across ``graphiff detect`` runs.

Two kinds of documents, so a detection run and an analyst never overwrite each other:

- ``alert`` (written by :func:`reconcile` after each run): the alert as last found (pattern,
  score, entities, explanation, evidence), a digest of its content, ``first_seen`` /
  ``last_seen``, ``updated_at`` (the last run that found it changed) and ``gone_at`` (the run
  that no longer found it; None while it is found);
- ``triage`` (written by :func:`set_status`): ``status``, ``assignee``, ``notes``
  ``[{user, at, text}]``, ``history`` ``[{at, user, status, previous}]``, and ``seen_at`` /
  ``seen_digest``: when the analyst last acted and the digest of the alert they acted on.

Alert ids are stable (:func:`graphiff.alerts.make_alert_id`: the pattern and the entities),
so the same finding keeps its id, its status and its notes when found again; new evidence
changes its digest and marks it **updated** until an analyst next acts on it (compared by
digest, not by time: a run and a note in the same second, or on two machines, cannot hide it). An alert no
longer found is shown as ``no_longer_detected`` with the date; nothing about it is deleted,
and found again later it gets its analyst status back.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, Sequence

from graphiff.alerts import Alert
from graphiff.errors import GraphiffError, NotFound
from graphiff.stores.book import Book, encode

__all__ = ["STATUSES", "SETTABLE", "DECISIONS", "MAX_NOTE", "RunReport", "digest", "reconcile", "triaged",
           "triaged_one", "set_status", "decisions"]

#: Every status an alert can show. ``no_longer_detected`` is set by detection only.
STATUSES = ("new", "in_review", "escalated", "dismissed", "false_positive", "no_longer_detected")
#: The statuses an analyst sets.
SETTABLE = STATUSES[:5]
#: The analysts' decisions that an alert is not worth pursuing (what targeting learns from).
DECISIONS = ("dismissed", "false_positive")
#: The longest note, in characters.
MAX_NOTE = 10_000


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def digest(alert: Alert) -> str:
    """A short hash of what an alert says (score, explanation, evidence, entities): a change
    means new evidence for the same finding."""
    d = alert.to_dict()
    d["score"] = round(float(d["score"]), 6)
    d.pop("id", None)
    return hashlib.sha256(encode(d).encode("utf-8")).hexdigest()[:16]


@dataclass
class RunReport:
    """What a detection run changed in the triage: ids of alerts ``new`` (never seen),
    ``updated`` (found with changed evidence), ``back`` (found again after they had gone) and
    ``gone`` (no longer found)."""

    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    back: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)


def reconcile(book: Book, alerts: Sequence[Alert], patterns: Iterable[str], *, run_id: str,
              at: str | None = None) -> RunReport:
    """Record a detection run in the case book.

    Parameters
    ----------
    book : Book
        The store's case book.
    alerts : list of Alert
        Everything the run found.
    patterns : iterable of str
        The patterns that ran: their alerts not in ``alerts`` are marked gone (alerts of
        patterns that did not run are left as they are).
    run_id : str
        The run (the ``_load_id`` of the alerts it wrote).
    at : str, optional
        The run's time (ISO 8601, UTC); default now.

    Returns
    -------
    RunReport
        What changed. Cost: one read of the book's alert documents, one write of those that
        changed (linear in the alerts).
    """
    at = at or _now()
    ran = set(patterns) | {a.pattern for a in alerts}
    old = {d["id"]: d for d in book.docs("alert")}
    report = RunReport()
    put: list[dict[str, Any]] = []
    found = set()
    for a in alerts:
        found.add(a.id)
        dg = digest(a)
        prev = old.get(a.id)
        doc = {"id": a.id, "pattern": a.pattern, "alert": a.to_dict(), "digest": dg, "last_seen": at,
               "last_run": run_id, "gone_at": None}
        if prev is None:
            report.new.append(a.id)
            put.append({**doc, "first_seen": at, "updated_at": None})
            continue
        doc = {**prev, **doc}
        if prev.get("gone_at"):
            report.back.append(a.id)
        if prev.get("digest") != dg:
            report.updated.append(a.id)
            doc["updated_at"] = at
        if doc != prev:
            put.append(doc)
    for aid, prev in old.items():
        if aid not in found and prev.get("pattern") in ran and not prev.get("gone_at"):
            report.gone.append(aid)
            put.append({**prev, "gone_at": at, "gone_run": run_id})
    book.put("alert", put)
    return report


def _view(alert: dict[str, Any], doc: dict[str, Any] | None, tri: dict[str, Any] | None,
          current: bool) -> dict[str, Any]:
    tri = tri or {}
    doc = doc or {}
    gone = doc.get("gone_at") if doc else None
    status = "no_longer_detected" if (not current or gone) else str(tri.get("status") or "new")
    updated_at = doc.get("updated_at")
    # new evidence since the analyst last acted, told by content, not by clock (a run and a note in
    # one second, two machines): never acted on, or acted on another digest
    updated = bool(updated_at) and tri.get("seen_digest") != doc.get("digest")
    return {**alert, "status": status, "decision": tri.get("status") or "new",
            "assignee": tri.get("assignee"), "notes": list(tri.get("notes") or []),
            "history": list(tri.get("history") or []), "first_seen": doc.get("first_seen"),
            "last_seen": doc.get("last_seen"),
            "no_longer_detected_at": gone or (None if current else doc.get("last_seen")),
            "updated": updated, "updated_at": updated_at}


def triaged(book: Book, alerts: Sequence[Alert], *,
            as_dicts: Mapping[str, Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Every alert with its triage: the alerts the store holds now (``alerts``), then those
    the book remembers that are no longer detected. ``as_dicts`` (alert id -> the alert's dict,
    e.g. the workbench's, which holds them already) spares :meth:`Alert.to_dict`, a deep copy.

    Each item is the alert's dict (:meth:`Alert.to_dict`) plus ``status`` (one of
    :data:`STATUSES`), ``decision`` (the analyst's last status), ``assignee``, ``notes``,
    ``history``, ``first_seen``, ``last_seen``, ``no_longer_detected_at``, ``updated`` (new
    evidence since the analyst last acted) and ``updated_at``. Ordered by score, then id.
    Cost: two reads of the book.
    """
    docs = {d["id"]: d for d in book.docs("alert")}
    tri = {d["id"]: d for d in book.docs("triage")}
    out = []
    now = set()
    for a in alerts:
        now.add(a.id)
        given = as_dicts.get(a.id) if as_dicts is not None else None
        out.append(_view(dict(given) if given is not None else a.to_dict(), docs.get(a.id), tri.get(a.id), True))
    for aid, d in docs.items():
        if aid not in now and isinstance(d.get("alert"), dict):
            out.append(_view(d["alert"], d, tri.get(aid), False))
    out.sort(key=lambda x: (-float(x.get("score") or 0), str(x["id"])))
    return out


def triaged_one(book: Book, alert_id: str, current: Alert | None = None) -> dict[str, Any]:
    """One alert with its triage (see :func:`triaged`): ``current`` when the store holds it,
    else as the book remembers it. Raises :class:`NotFound` when neither knows it."""
    doc = book.get("alert", alert_id)
    tri = book.get("triage", alert_id)
    if current is not None:
        return _view(current.to_dict(), doc, tri, True)
    if doc is None or not isinstance(doc.get("alert"), dict):
        raise NotFound(f"no alert {alert_id!r} (see `graphiff alerts`)")
    return _view(doc["alert"], doc, tri, False)


def set_status(book: Book, alert_id: str, *, user: str, status: str | None = None, note: str | None = None,
               assignee: str | None = None, known: bool = True) -> dict[str, Any]:
    """Triage one alert: set its status and/or assignee (``""`` clears it) and/or add a note.

    Parameters
    ----------
    book : Book
        The store's case book.
    alert_id : str
        The alert (the caller has checked it exists: ``known``; an unknown id raises
        :class:`NotFound`).
    user : str
        Who acts (recorded with the change and the note).
    status : str, optional
        One of :data:`SETTABLE`.
    note, assignee : str, optional
        A note to add (at most :data:`MAX_NOTE` characters); who the alert is assigned to.

    Returns
    -------
    dict
        The triage document as stored. Cost: one atomic update.
    """
    if not known:
        raise NotFound(f"no alert {alert_id!r} (see `graphiff alerts`)")
    if status is not None and status not in SETTABLE:
        raise GraphiffError(f"unknown status {status!r}; choose one of: {', '.join(SETTABLE)}"
                            + (" (no_longer_detected is set by detection only)" if status in STATUSES else ""))
    text = None if note is None else str(note).strip()
    if note is not None and not text:
        raise GraphiffError("the note is empty")
    if text and len(text) > MAX_NOTE:
        raise GraphiffError(f"the note has {len(text):,} characters; at most {MAX_NOTE:,}")
    if status is None and text is None and assignee is None:
        raise GraphiffError("nothing to change: give a status, a note or an assignee")
    at = _now()
    seen_digest = (book.get("alert", alert_id) or {}).get("digest")

    def change(old: dict[str, Any] | None) -> dict[str, Any]:
        d = dict(old or {"id": alert_id, "status": "new", "assignee": None, "notes": [], "history": []})
        if status is not None and status != d.get("status"):
            d["history"] = [*d.get("history", []), {"at": at, "user": user, "status": status,
                                                    "previous": d.get("status", "new")}]
            d["status"] = status
        if assignee is not None:
            d["assignee"] = assignee or None
        if text:
            d["notes"] = [*d.get("notes", []), {"user": user, "at": at, "text": text}]
        d["seen_at"], d["seen_digest"] = at, seen_digest
        return d
    out = book.update("triage", alert_id, change)
    assert out is not None
    return out


def decisions(book: Book) -> list[dict[str, Any]]:
    """The analysts' decisions that alerts are not worth pursuing (status in
    :data:`DECISIONS`), each with the alert as last found, who decided and when, and the notes:
    what ``graphiff alerts export --decisions`` writes for learned targeting."""
    docs = {d["id"]: d for d in book.docs("alert")}
    out = []
    for t in book.docs("triage"):
        if t.get("status") not in DECISIONS:
            continue
        last: dict[str, Any] = next((h for h in reversed(t.get("history") or []) if h.get("status") == t["status"]), {})
        alert = (docs.get(t["id"]) or {}).get("alert") or {"id": t["id"]}
        out.append({"alert": alert, "decision": t["status"], "by": last.get("user"), "at": last.get("at"),
                    "notes": list(t.get("notes") or [])})
    return out

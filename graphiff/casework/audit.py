"""The audit log: who looked at what, changed what and exported what, append-only and
chained by hash so that an edit or a deletion is detectable.

Each entry is ``{seq, at, user, action, case, purpose, ids, detail, prev, hash}``: ``seq``
counts from 1, ``at`` is UTC with microseconds, ``case`` / ``purpose`` name the case open when
the action was done (None outside one), ``ids`` are what was returned or touched (node, alert
and case ids -- never the data itself), ``detail`` a few words of context (the search query,
the chart format, the recipient of a package). ``prev`` is the hash of the entry before
(:data:`GENESIS` for the first) and ``hash`` the SHA-256 of the entry's canonical JSON without
``hash``: changing an entry breaks its own hash, deleting one breaks the ``seq`` run and the
``prev`` link of the next. Deleting the *last* entries leaves a shorter valid chain: compare
the head that :func:`verify` reports with one kept elsewhere (``graphiff audit --verify
--head SEQ:HASH``).

The actions (:data:`ACTIONS`) are the vocabulary of the log; :func:`record` refuses others so
a typo cannot hide an action from ``graphiff audit --action``.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, Sequence

from graphiff.errors import GraphiffError
from graphiff.stores.book import Book, encode

__all__ = ["ACTIONS", "CHAIN", "GENESIS", "MAX_IDS", "Verification", "entry", "entry_hash", "read", "record",
           "record_many", "verify"]

#: The chain of the case book holding the audit log.
CHAIN = "audit"
#: ``prev`` of the first entry.
GENESIS = "0" * 64
#: Ids kept per entry (more are counted in ``detail.ids_total``).
MAX_IDS = 1000

#: Every action the log knows, with what it means.
ACTIONS: dict[str, str] = {
    "login": "a user signed in (password or token)",
    "login_failed": "a sign-in was refused (wrong password, unknown user, locked account)",
    "logout": "a user signed out, or the session expired",
    "search": "a search; ids: the hits returned",
    "view_entity": "an entity's details were shown; ids: the entity",
    "view_alert": "an alert was shown; ids: the alert",
    "list_alerts": "the alert list was shown; ids: the alerts returned",
    "neighbourhood": "a neighbourhood was drawn; ids: the nodes returned",
    "timeline": "a timeline was drawn; ids: the nodes asked for",
    "export": "a link chart was exported; ids: the nodes in it; detail: format",
    "package": "a sharing package was made; ids: the nodes in it; detail: recipient, redaction",
    "status": "an alert's status, assignee or notes changed; ids: the alert",
    "case_create": "a case was opened",
    "case_change": "entities, alerts, notes or the layout of a case changed",
    "case_close": "a case was closed",
    "case_reopen": "a closed case was reopened",
    "case_view": "a case was shown",
    "user_change": "a user was added, removed, or changed role or password (never the password itself)",
    "token_change": "an API token was made or revoked",
    "detect": "a detection run reconciled the alerts' triage",
}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def entry_hash(e: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) of an entry's canonical JSON, its ``hash`` left out."""
    return hashlib.sha256(encode({k: v for k, v in e.items() if k != "hash"}).encode("utf-8")).hexdigest()


def entry(*, user: str, action: str, ids: Iterable[str] = (), case: str | None = None,
          purpose: str | None = None, detail: Mapping[str, Any] | None = None, at: str | None = None
          ) -> dict[str, Any]:
    """An audit entry not yet chained (no ``seq``, ``prev``, ``hash``): what :func:`record_many`
    takes. Raises :class:`GraphiffError` for an action not in :data:`ACTIONS`."""
    if action not in ACTIONS:
        raise GraphiffError(f"unknown audit action {action!r}")
    got = [str(i) for i in ids]
    info = dict(detail or {})
    if len(got) > MAX_IDS:
        info["ids_total"] = len(got)
        got = got[:MAX_IDS]
    return {"at": at or _now(), "user": str(user), "action": action, "case": case, "purpose": purpose,
            "ids": got, "detail": info}


def record_many(book: Book, entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Append entries (from :func:`entry`) to the log in one atomic step, each chained to the
    one before. Returns them as stored. Cost: one transaction; hashing is microseconds."""
    todo = [dict(e) for e in entries]
    if not todo:
        return []

    def build(last: dict[str, Any] | None) -> list[dict[str, Any]]:
        seq = int(last["seq"]) if last and "seq" in last else 0
        prev = str(last.get("hash", GENESIS)) if last else GENESIS
        out = []
        for e in todo:
            seq += 1
            chained = {**e, "seq": seq, "prev": prev}
            chained["hash"] = prev = entry_hash(chained)
            out.append(chained)
        return out
    return book.append(CHAIN, build)


def record(book: Book, *, user: str, action: str, ids: Iterable[str] = (), case: str | None = None,
           purpose: str | None = None, detail: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Append one entry (see :func:`entry` for the fields) and return it as stored."""
    return record_many(book, [entry(user=user, action=action, ids=ids, case=case, purpose=purpose,
                                    detail=detail)])[0]


def read(book: Book, *, user: str | None = None, since: str | None = None, action: str | None = None,
         case: str | None = None) -> list[dict[str, Any]]:
    """The log's entries, oldest first, filtered by user, time (``at`` on or after ``since``,
    an ISO date or time), action and case. Cost: one read of the whole log."""
    out = []
    for e in book.entries(CHAIN):
        if user and e.get("user") != user:
            continue
        if since and str(e.get("at", "")) < since:
            continue
        if action and e.get("action") != action:
            continue
        if case and e.get("case") != case:
            continue
        out.append(e)
    return out


@dataclass
class Verification:
    """What :func:`verify` found: ``ok`` when every entry is intact and in order."""

    entries: int
    head_seq: int
    head_hash: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def head(self) -> str:
        """``SEQ:HASH`` of the last entry: keep it elsewhere to detect a truncated log later."""
        return f"{self.head_seq}:{self.head_hash}"


def verify(book: Book, *, head: str | None = None) -> Verification:
    """Check the whole chain: every entry's hash, the ``seq`` run (a gap is a deleted entry)
    and every ``prev`` link; with ``head`` (``SEQ:HASH`` noted earlier) also that that entry
    is still there, unchanged.

    Returns
    -------
    Verification
        ``problems`` names each broken entry in words (``ok`` is True when there is none).
        Cost: one read of the log and one SHA-256 per entry (10,000 entries well under a second).
    """
    problems: list[str] = []
    seq: int = 0
    prev: str | None = GENESIS
    hashes: dict[int, str] = {}
    got = book.entries(CHAIN)
    for e in got:
        if "_unreadable" in e:
            # taken as the entry after the last readable one (its own problem, not a gap; the
            # link of the entry after it cannot be checked)
            problems.append(f"entry #{seq + 1} is not readable (changed outside graphiff)")
            seq, prev = seq + 1, None
            continue
        s = int(e.get("seq", -1))
        if s != seq + 1:
            problems.append(f"entries #{seq + 1}..#{s - 1} are missing (deleted)" if s > seq + 1
                            else f"entry #{s} is out of order")
        elif prev is not None and e.get("prev") != prev:
            problems.append(f"entry #{s} does not follow entry #{seq} (its link to the previous entry is broken)")
        if entry_hash(e) != e.get("hash"):
            problems.append(f"entry #{s} was changed after it was written (its hash does not match)")
        seq, prev = s, str(e.get("hash"))
        hashes[s] = prev
    if head:
        want_seq, _, want_hash = head.partition(":")
        try:
            n = int(want_seq)
        except ValueError:
            raise GraphiffError(f"--head must be SEQ:HASH as `graphiff audit --verify` printed it, "
                                f"not {head!r}") from None
        if n not in hashes:
            problems.append(f"entry #{n} (the head noted earlier) is gone: the log was cut short")
        elif hashes[n] != want_hash:
            problems.append(f"entry #{n} is not the one noted earlier (its hash differs)")
    return Verification(entries=len(got), head_seq=seq, head_hash=(prev or "") if got else GENESIS,
                        problems=problems)

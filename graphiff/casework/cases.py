"""Cases: saved investigations with a stated purpose.

A case (kind ``case`` in the case book, ids ``C-0001``, ``C-0002``, ...) has a ``name``, a
``purpose``, a ``legal_basis`` and a handling ``marking`` (e.g. ``TLP:AMBER``); the
``entities`` (node ids ``Label:key``) and ``alerts`` (alert ids) in it; ``notes``
``[{user, at, text}]``; the canvas ``layout`` (``{node id: [x, y]}``); its ``status``
(``open`` or ``closed``) and ``history`` ``[{at, user, action}]``. Analysts open cases and add
to them; closing and reopening is for supervisors (the caller checks the role:
:func:`graphiff.casework.users.require`). A closed case is read-only until reopened.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Mapping

from graphiff.errors import GraphiffError, NotFound
from graphiff.stores.book import Book

__all__ = ["FIELDS", "MAX_TEXT", "add_to_case", "close_case", "create_case", "get_case", "list_cases",
           "remove_from_case", "reopen_case", "set_layout", "add_case_note"]

#: The texts every case states, with what they mean.
FIELDS = {"name": "what the case is called", "purpose": "why the data is used (goes into every export)",
          "legal_basis": "the law or mandate that allows it", "marking": "handling marking, e.g. TLP:AMBER"}
MAX_TEXT = 2_000
_ID = re.compile(r"^C-\d{4,}$")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _text(name: str, value: str | None, *, required: bool = True) -> str:
    v = " ".join(str(value or "").split())
    if required and not v:
        raise GraphiffError(f"a case needs a {name.replace('_', ' ')} ({FIELDS[name]})")
    if len(v) > MAX_TEXT:
        raise GraphiffError(f"the case's {name.replace('_', ' ')} has {len(v):,} characters; at most {MAX_TEXT:,}")
    return v


def create_case(book: Book, *, name: str, purpose: str, legal_basis: str, marking: str, user: str,
                entities: Iterable[str] = (), alerts: Iterable[str] = ()) -> dict[str, Any]:
    """Open a new case and return it. Every text is required (a case states why its data is
    used). Cost: two atomic updates (the next number, the case)."""
    fields = {"name": _text("name", name), "purpose": _text("purpose", purpose),
              "legal_basis": _text("legal_basis", legal_basis), "marking": _text("marking", marking)}

    def bump(c: dict[str, Any] | None) -> dict[str, Any]:
        return {"id": "case", "next": int((c or {}).get("next", 0)) + 1}
    n = book.update("counter", "case", bump)
    assert n is not None
    at = _now()
    case = {"id": f"C-{int(n['next']):04d}", **fields, "status": "open", "created_by": user, "created_at": at,
            "entities": list(dict.fromkeys(str(e) for e in entities)),
            "alerts": list(dict.fromkeys(str(a) for a in alerts)), "notes": [], "layout": {},
            "history": [{"at": at, "user": user, "action": "opened"}]}
    book.put("case", [case])
    return case


def get_case(book: Book, case_id: str) -> dict[str, Any]:
    """One case, or :class:`NotFound`."""
    case = book.get("case", case_id) if _ID.match(case_id or "") else None
    if case is None:
        raise NotFound(f"no case {case_id!r} (see `graphiff case list`)")
    return case


def list_cases(book: Book, *, status: str | None = None) -> list[dict[str, Any]]:
    """The cases (``open`` or ``closed`` only with ``status``), newest first, each without its
    layout and with counts of entities, alerts and notes."""
    out = []
    for c in book.docs("case"):
        if status and c.get("status") != status:
            continue
        out.append({**{k: v for k, v in c.items() if k not in ("layout", "history")},
                    "n_entities": len(c.get("entities") or []), "n_alerts": len(c.get("alerts") or []),
                    "n_notes": len(c.get("notes") or [])})
    out.sort(key=lambda c: str(c["id"]), reverse=True)
    return out


def _change(book: Book, case_id: str, user: str, action: str,
            edit: Callable[[dict[str, Any]], None], *, open_only: bool = True) -> dict[str, Any]:
    get_case(book, case_id)

    def change(old: dict[str, Any] | None) -> dict[str, Any]:
        if old is None:
            raise NotFound(f"no case {case_id!r}")
        c = dict(old)
        if open_only and c.get("status") != "open":
            raise GraphiffError(f"case {case_id} is closed; reopen it first")
        edit(c)
        c["history"] = [*c.get("history", []), {"at": _now(), "user": user, "action": action}]
        return c
    out = book.update("case", case_id, change)
    assert out is not None
    return out


def add_to_case(book: Book, case_id: str, *, user: str, entities: Iterable[str] = (),
                alerts: Iterable[str] = ()) -> dict[str, Any]:
    """Add entities (node ids) and alerts (alert ids) to an open case; ones already in it stay once."""
    ents, als = [str(e) for e in entities], [str(a) for a in alerts]
    if not ents and not als:
        raise GraphiffError("nothing to add: give entities or alerts")

    def edit(c: dict[str, Any]) -> None:
        c["entities"] = list(dict.fromkeys([*c.get("entities", []), *ents]))
        c["alerts"] = list(dict.fromkeys([*c.get("alerts", []), *als]))
    return _change(book, case_id, user, f"added {len(ents)} entities, {len(als)} alerts", edit)


def remove_from_case(book: Book, case_id: str, *, user: str, entities: Iterable[str] = (),
                     alerts: Iterable[str] = ()) -> dict[str, Any]:
    """Take entities and alerts out of an open case."""
    ents, als = {str(e) for e in entities}, {str(a) for a in alerts}
    if not ents and not als:
        raise GraphiffError("nothing to remove: give entities or alerts")

    def edit(c: dict[str, Any]) -> None:
        c["entities"] = [e for e in c.get("entities", []) if e not in ents]
        c["alerts"] = [a for a in c.get("alerts", []) if a not in als]
        c["layout"] = {k: v for k, v in (c.get("layout") or {}).items() if k not in ents}
    return _change(book, case_id, user, f"removed {len(ents)} entities, {len(als)} alerts", edit)


def set_layout(book: Book, case_id: str, layout: Mapping[str, Any], *, user: str) -> dict[str, Any]:
    """Save the canvas positions ``{node id: [x, y]}`` of an open case (replacing the old ones)."""
    clean: dict[str, list[float]] = {}
    for k, v in layout.items():
        try:
            x, y = (float(v[0]), float(v[1])) if isinstance(v, (list, tuple)) else (float(v["x"]), float(v["y"]))
        except (TypeError, ValueError, KeyError, IndexError):
            raise GraphiffError(f"bad position for {k!r}: give [x, y]") from None
        clean[str(k)] = [round(x, 2), round(y, 2)]

    def edit(c: dict[str, Any]) -> None:
        c["layout"] = clean
    return _change(book, case_id, user, f"saved the layout of {len(clean)} nodes", edit)


def add_case_note(book: Book, case_id: str, *, user: str, text: str) -> dict[str, Any]:
    """Add a note to an open case."""
    t = str(text or "").strip()
    if not t:
        raise GraphiffError("the note is empty")
    if len(t) > 10_000:
        raise GraphiffError(f"the note has {len(t):,} characters; at most 10,000")

    def edit(c: dict[str, Any]) -> None:
        c["notes"] = [*c.get("notes", []), {"user": user, "at": _now(), "text": t}]
    return _change(book, case_id, user, "added a note", edit)


def close_case(book: Book, case_id: str, *, user: str) -> dict[str, Any]:
    """Close a case (read-only until reopened)."""
    def edit(c: dict[str, Any]) -> None:
        c["status"], c["closed_by"], c["closed_at"] = "closed", user, _now()
    return _change(book, case_id, user, "closed", edit)


def reopen_case(book: Book, case_id: str, *, user: str) -> dict[str, Any]:
    """Reopen a closed case."""
    def edit(c: dict[str, Any]) -> None:
        if c.get("status") == "open":
            raise GraphiffError(f"case {case_id} is open already")
        c["status"], c["closed_by"], c["closed_at"] = "open", None, None
    return _change(book, case_id, user, "reopened", edit, open_only=False)

"""FastAPI dependencies: the current snapshot of the store, the server's settings, the case
book and the alerts' triage (who asks, and their rights: :mod:`graphiff.workbench.auth`).

Every route takes the snapshot once, at the start of the request, and answers from it alone:
a refresh swapping in a new snapshot meanwhile never mixes two readings of the store.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from graphiff.share.keys import TeamKey
from graphiff.stores.book import Book
from graphiff.workbench.snapshot import Snapshot, SnapshotHolder
from graphiff.workbench.triage_view import TriageView

__all__ = ["Settings", "current_snapshot", "settings", "case_book", "triage_view", "SnapshotDep", "SettingsDep",
           "BookDep", "TriageDep"]


@dataclass(frozen=True)
class Settings:
    """What the server was started with besides the store."""

    producer: str                 # who sends the sharing packages made here
    key: TeamKey | None           # the team key for pseudonymised packages (None: not configured)
    version: str


def holder(request: Request) -> SnapshotHolder:
    """The app's :class:`SnapshotHolder`."""
    return request.app.state.holder


def current_snapshot(request: Request) -> Snapshot:
    """The snapshot this request answers from (a due store check starts in the background)."""
    return holder(request).current()


def settings(request: Request) -> Settings:
    """The app's :class:`Settings`."""
    return request.app.state.settings


def case_book(request: Request) -> Book:
    """The store's case book (triage, cases, users, the audit log)."""
    return request.app.state.book


def triage_view(request: Request) -> TriageView:
    """The app's :class:`TriageView` (the alerts merged with their triage)."""
    return request.app.state.triage


SnapshotDep = Annotated[Snapshot, Depends(current_snapshot)]
SettingsDep = Annotated[Settings, Depends(settings)]
BookDep = Annotated[Book, Depends(case_book)]
TriageDep = Annotated[TriageView, Depends(triage_view)]

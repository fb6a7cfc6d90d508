"""FastAPI dependencies: the current snapshot of the store and the server's settings.

Every route takes the snapshot once, at the start of the request, and answers from it alone:
a refresh swapping in a new snapshot meanwhile never mixes two readings of the store.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from graphiff.share.keys import TeamKey
from graphiff.workbench.snapshot import Snapshot, SnapshotHolder

__all__ = ["Settings", "current_snapshot", "settings", "SnapshotDep", "SettingsDep"]


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


SnapshotDep = Annotated[Snapshot, Depends(current_snapshot)]
SettingsDep = Annotated[Settings, Depends(settings)]

"""The one small exception hierarchy of graphiff.

Every error the library raises on purpose is a :class:`GraphiffError`; the CLI turns it into
one message and exit code 2, never a traceback.
"""
from __future__ import annotations


class GraphiffError(Exception):
    """Base class of every error graphiff raises on purpose."""


class InvalidInput(GraphiffError):
    """An input file cannot be used at all (unreadable, binary, a required column missing).

    ``file`` and ``column`` name what is wrong, when known.
    """

    def __init__(self, message: str, *, file: str | None = None, column: str | None = None):
        self.file = file
        self.column = column
        parts = []
        if file:
            parts.append(f"file {file}")
        if column:
            parts.append(f"column {column!r}")
        prefix = (", ".join(parts) + ": ") if parts else ""
        super().__init__(prefix + message)


class InvalidMapping(InvalidInput):
    """A column mapping file is malformed or names an unknown field."""


class StoreError(GraphiffError):
    """The store cannot be opened, reached or written."""


class NotFound(GraphiffError):
    """An entity, alert or file asked for does not exist."""


class PackageError(GraphiffError):
    """A sharing package is malformed, tampered with or truncated."""


class AccessDenied(GraphiffError):
    """The user may not do this: the role forbids it, the account is locked, or a request
    changing something came without a valid CSRF token (the workbench answers 403)."""


class LoginRequired(AccessDenied):
    """No user is signed in, the session has expired or the credentials are wrong (the
    workbench answers 401)."""

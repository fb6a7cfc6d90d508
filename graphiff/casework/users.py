"""Users, roles, passwords and API tokens of the workbench.

Roles (:data:`ROLES`, each with the rights of the ones before): **analyst** searches, views,
triages alerts, builds cases and exports link charts; **supervisor** also closes and reopens
cases, exports sharing packages and reads the audit log; **admin** also manages users.
:data:`RIGHTS` says which role an action needs and :func:`require` enforces it.

Passwords are hashed with Argon2id (``argon2-cffi``) and only the hash is kept; tokens are
random and only their SHA-256 is kept, so neither appears in the case book, a log or an
answer. After :data:`MAX_FAILURES` wrong passwords in a row an account is locked for
:data:`LOCK_MINUTES` minutes (counted in the case book, so every server sees it).

Documents: kind ``user`` (``id`` = the name) and kind ``token`` (``id`` = the token id).
"""
from __future__ import annotations

import getpass
import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from graphiff.errors import AccessDenied, GraphiffError, LoginRequired, NotFound
from graphiff.stores.book import Book

__all__ = ["ROLES", "RIGHTS", "MAX_FAILURES", "LOCK_MINUTES", "MIN_PASSWORD", "User", "add_user", "allowed",
           "authenticate", "create_token", "has_users", "list_tokens", "list_users", "local_user", "os_user_name",
           "remove_user",
           "require", "revoke_token", "set_password", "set_role", "token_user"]

ROLES = ("analyst", "supervisor", "admin")
#: action -> the least role allowed to do it
RIGHTS: dict[str, str] = {
    "read": "analyst",        # search, view entities and alerts, neighbourhoods, timelines
    "triage": "analyst",      # set an alert's status, assignee, notes
    "case": "analyst",        # open a case, add to it, note, lay it out
    "export": "analyst",      # export a link chart
    "case_close": "supervisor",  # close or reopen a case
    "package": "supervisor",  # make a sharing package
    "audit": "supervisor",    # read the audit log
    "users": "admin",         # add, remove, change users and tokens
}
#: each right in words, for refusals
_DOING = {"read": "read the data", "triage": "triage alerts", "case": "work on cases", "export": "export link charts",
          "case_close": "close or reopen cases", "package": "make sharing packages", "audit": "read the audit log",
          "users": "manage users"}
MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD = 10
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_HASHER = PasswordHasher()
#: verified against when the user does not exist, so a wrong name costs as long as a wrong password
_DUMMY = _HASHER.hash("graphiff-no-such-user")
TOKEN_PREFIX = "gft_"


@dataclass(frozen=True)
class User:
    """Who is acting: a name and a role; ``local`` for the single local user of a workbench on
    127.0.0.1 with no users configured (no login)."""

    name: str
    role: str
    local: bool = False

    def can(self, action: str) -> bool:
        """Whether the role allows ``action`` (a key of :data:`RIGHTS`)."""
        return allowed(self.role, action)


def os_user_name() -> str:
    """The operating system's user name (who runs a command or a local workbench)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment
        return os.environ.get("USER", "unknown")


def local_user(name: str) -> User:
    """The single local user (an admin: nobody else can use that workbench)."""
    return User(name=name, role="admin", local=True)


def allowed(role: str, action: str) -> bool:
    """Whether ``role`` may do ``action``."""
    need = RIGHTS.get(action)
    if need is None:
        raise GraphiffError(f"unknown right {action!r}")
    return role in ROLES and ROLES.index(role) >= ROLES.index(need)


def require(user: User, action: str) -> None:
    """Raise :class:`AccessDenied` unless ``user`` may do ``action``, naming the role needed."""
    if not user.can(action):
        raise AccessDenied(f"{user.name} ({user.role}) may not {_DOING.get(action, action)}: "
                           f"that needs the {RIGHTS[action]} role")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="seconds")


def _check_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise GraphiffError(f"bad user name {name!r}: letters, digits and . _ @ - (at most 64), "
                            "starting with a letter or digit")
    return name


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise GraphiffError(f"unknown role {role!r}; choose one of: {', '.join(ROLES)}")
    return role


def _check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise GraphiffError(f"a password has at least {MIN_PASSWORD} characters")
    return password


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc.get(k) for k in ("id", "role", "created_at", "created_by", "last_login", "locked_until",
                                    "failures")}


def has_users(book: Book) -> bool:
    """Whether any user is configured (then the workbench requires a login)."""
    return bool(book.docs("user"))


def list_users(book: Book) -> list[dict[str, Any]]:
    """The users, by name: name (``id``), role, when made and by whom, last login, lock-out
    state (never the password hash)."""
    return [_public(d) for d in book.docs("user")]


def add_user(book: Book, name: str, role: str, password: str, *, by: str) -> User:
    """Add a user. Raises :class:`GraphiffError` for a bad name, role or short password, or a
    name already taken. Cost: one Argon2 hash (about 0.1 s)."""
    _check_name(name), _check_role(role), _check_password(password)
    hashed = _HASHER.hash(password)

    def change(old: dict[str, Any] | None) -> dict[str, Any]:
        if old is not None:
            raise GraphiffError(f"user {name!r} exists already (change it with `graphiff users passwd` or "
                                "`graphiff users role`)")
        return {"id": name, "role": role, "password": hashed, "created_at": _iso(_now()), "created_by": by,
                "failures": 0, "locked_until": None, "last_login": None}
    book.update("user", name, change)
    return User(name=name, role=role)


def _existing(book: Book, name: str, change: Any) -> dict[str, Any]:
    def wrap(old: dict[str, Any] | None) -> dict[str, Any]:
        if old is None:
            raise NotFound(f"no user {name!r}")
        return change(old)
    out = book.update("user", name, wrap)
    assert out is not None
    return out


def set_password(book: Book, name: str, password: str) -> None:
    """Replace a user's password (and lift a lock-out)."""
    hashed = _HASHER.hash(_check_password(password))
    _existing(book, name, lambda d: {**d, "password": hashed, "failures": 0, "locked_until": None})


def set_role(book: Book, name: str, role: str) -> None:
    """Change a user's role."""
    _check_role(role)
    _existing(book, name, lambda d: {**d, "role": role})


def remove_user(book: Book, name: str) -> None:
    """Remove a user and revoke their tokens (what they did stays in the audit log)."""
    _existing(book, name, lambda d: d)
    book.delete("user", [name])
    for t in book.docs("token"):
        if t.get("user") == name and not t.get("revoked_at"):
            book.put("token", [{**t, "revoked_at": _iso(_now())}])


def authenticate(book: Book, name: str, password: str, *, now: datetime | None = None) -> User:
    """The user ``name`` if ``password`` is theirs.

    Raises
    ------
    LoginRequired
        Unknown user or wrong password (one message for both); the failure is counted.
    AccessDenied
        The account is locked after :data:`MAX_FAILURES` failures in a row (until the time it
        names). Cost: one Argon2 verification (about 0.1 s), one atomic update.
    """
    now = now or _now()
    doc = book.get("user", name) if _NAME.match(name or "") else None
    if doc is None:
        try:
            _HASHER.verify(_DUMMY, password or "")
        except VerificationError:
            pass
        raise LoginRequired("wrong user name or password")
    locked = doc.get("locked_until")
    if locked and datetime.fromisoformat(locked) > now:
        raise AccessDenied(f"the account {name!r} is locked after {MAX_FAILURES} failed logins until {locked}")
    good = False
    try:
        good = bool(_HASHER.verify(str(doc.get("password", "")), password or ""))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        pass

    locked_meanwhile = False

    def count(d: dict[str, Any] | None) -> dict[str, Any] | None:
        nonlocal locked_meanwhile
        if d is None:
            return None
        # read again inside the atomic step: attempts verified at the same time as others (a
        # brute force sends them in parallel) must neither count past a lock, nor lift it, nor
        # sign in once the account is locked
        until = d.get("locked_until")
        if until and datetime.fromisoformat(until) > now:
            locked_meanwhile = True
            return d
        if good:
            return {**d, "failures": 0, "locked_until": None, "last_login": _iso(now)}
        failures = int(d.get("failures") or 0) + 1
        until = _iso(now + timedelta(minutes=LOCK_MINUTES)) if failures >= MAX_FAILURES else None
        return {**d, "failures": 0 if until else failures, "locked_until": until}
    after = book.update("user", name, count)
    if not good or locked_meanwhile:
        if after and after.get("locked_until"):
            raise AccessDenied(f"the account {name!r} is locked after {MAX_FAILURES} failed logins until "
                               f"{after['locked_until']}")
        raise LoginRequired("wrong user name or password")
    return User(name=name, role=str(doc["role"]))


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(book: Book, name: str, *, label: str = "", by: str) -> tuple[str, str]:
    """A new API token for user ``name``: ``(token id, secret)``. The secret
    (``gft_<id>_<random>``) is shown once and never stored, only its SHA-256."""
    if book.get("user", name) is None:
        raise NotFound(f"no user {name!r}")
    tid = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}{tid}_{secrets.token_urlsafe(32)}"
    book.put("token", [{"id": tid, "user": name, "hash": _token_hash(secret), "label": label,
                        "created_at": _iso(_now()), "created_by": by, "revoked_at": None}])
    return tid, secret


def list_tokens(book: Book, name: str | None = None) -> list[dict[str, Any]]:
    """Tokens (id, user, label, made, revoked; never the secret or its hash)."""
    return [{k: t.get(k) for k in ("id", "user", "label", "created_at", "created_by", "revoked_at")}
            for t in book.docs("token") if name is None or t.get("user") == name]


def revoke_token(book: Book, token_id: str) -> None:
    """Revoke a token: it no longer signs anybody in."""
    def change(old: dict[str, Any] | None) -> dict[str, Any]:
        if old is None:
            raise NotFound(f"no token {token_id!r} (see `graphiff users tokens`)")
        return {**old, "revoked_at": old.get("revoked_at") or _iso(_now())}
    book.update("token", token_id, change)


def token_user(book: Book, secret: str) -> User:
    """The user a token signs in, or :class:`LoginRequired` (unknown, revoked, or its user gone)."""
    m = re.match(rf"^{TOKEN_PREFIX}([0-9a-f]{{8}})_", secret or "")
    doc = book.get("token", m.group(1)) if m else None
    if doc is None or doc.get("revoked_at") or not secrets.compare_digest(str(doc.get("hash")), _token_hash(secret)):
        raise LoginRequired("the API token is not valid (unknown or revoked)")
    user = book.get("user", str(doc.get("user")))
    if user is None:
        raise LoginRequired("the API token's user no longer exists")
    return User(name=str(user["id"]), role=str(user["role"]))

"""Who is asking: sessions, sign-in, CSRF tokens, API tokens and rights (docs/api.md,
"Signing in, roles and the audit log").

- **Sessions** live in the server's memory (:class:`Sessions`): a random 32-byte id in the
  cookie ``graphiff_session`` (``HttpOnly``, ``SameSite=Strict``, ``Path=/``, ``Secure`` when
  the request came over https or the server runs behind a TLS proxy), a CSRF token, the user,
  the case the analyst works on (its purpose goes into every audit entry) and the time of the
  last request: a session idle longer than the idle timeout ends (audited as a logout).
- **CSRF**: every ``POST``, ``PUT``, ``PATCH`` and ``DELETE`` that is not signed with a bearer
  token must carry a session cookie and the session's token in ``X-CSRF-Token``, compared in
  constant time; without it 403. (The single local user included: a page of another site
  cannot change anything on a workbench running on this machine.)
- **Bearer tokens** (``Authorization: Bearer gft_...``, :func:`graphiff.casework.users.token_user`)
  sign scripts in per request; they need no CSRF token.
- **The single local user**: with no users in the case book and the server bound to a loopback
  address, every request is the local user (:func:`graphiff.casework.users.local_user`, an
  admin) without a login. Whether users exist is read at most every few seconds.

Routes declare the right they need with one of the ``Depends`` aliases (:data:`Reader`,
:data:`Triager`, ...): the dependency identifies the caller, checks CSRF, then the right
(:func:`graphiff.casework.users.require`: 403 naming the role needed), and hands the route a
:class:`Caller`, whose :meth:`Caller.log` writes the request's audit entry.
"""
from __future__ import annotations

import ipaddress
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Annotated, Any, Callable, Iterable, Mapping

from fastapi import Depends, Request, Response

from graphiff.casework.audit import entry
from graphiff.casework.users import RIGHTS, User, has_users, local_user, require, token_user
from graphiff.errors import AccessDenied, LoginRequired
from graphiff.stores.book import Book
from graphiff.workbench.audit_log import AuditWriter

__all__ = ["COOKIE", "CSRF_HEADER", "UNSAFE_METHODS", "Session", "Sessions", "Caller", "Auth", "needs",
           "signed_in", "Reader", "Triager", "CaseWorker", "CaseCloser", "Exporter", "Packager", "Auditor",
           "SignedIn", "is_loopback"]

log = logging.getLogger("graphiff.workbench")

#: The session cookie's name.
COOKIE = "graphiff_session"
#: The header carrying the session's CSRF token.
CSRF_HEADER = "X-CSRF-Token"
#: Methods that may change something: they need the CSRF token (or a bearer token).
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: How often at most the case book is asked whether users exist (seconds).
USERS_CHECK_SECONDS = 3.0


def is_loopback(host: str) -> bool:
    """True for addresses only this machine reaches: 127.0.0.0/8, ::1 and ``localhost``.

    >>> is_loopback("127.0.0.2"), is_loopback("localhost"), is_loopback("0.0.0.0"), is_loopback("10.0.0.1")
    (True, True, False, False)
    """
    h = host.strip().strip("[]").lower()
    if h == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


@dataclass
class Session:
    """One signed-in browser: ``id`` (the cookie), ``csrf`` (its token), the ``user``, the
    ``case`` it works on (``{id, name, purpose, marking}`` or None) and the monotonic time of
    its last request (``seen``)."""

    id: str
    user: User
    csrf: str
    seen: float
    case: dict[str, Any] | None = None


class Sessions:
    """The sessions of one server, in memory (a restart signs everybody out).

    Parameters
    ----------
    idle_seconds : float
        A session unused this long has ended.
    clock : callable
        The monotonic clock (tests pass their own).
    """

    def __init__(self, idle_seconds: float, *, clock: Callable[[], float] = time.monotonic):
        self.idle_seconds = float(idle_seconds)
        self.clock = clock
        self._by_id: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, user: User) -> Session:
        """A new session for ``user`` (fresh random id and CSRF token). Cost: O(1)."""
        s = Session(id=secrets.token_urlsafe(32), user=user, csrf=secrets.token_urlsafe(32), seen=self.clock())
        with self._lock:
            self._by_id[s.id] = s
        return s

    def touch(self, sid: str) -> tuple[Session | None, Session | None]:
        """``(live, ended)`` for the cookie value ``sid``: the live session (its idle time
        restarted) and None, or None and the session that had ended by idling (now removed),
        or None twice for an unknown id."""
        now = self.clock()
        with self._lock:
            s = self._by_id.get(sid)
            if s is None:
                return None, None
            if now - s.seen > self.idle_seconds:
                del self._by_id[sid]
                return None, s
            s.seen = now
            return s, None

    def drop(self, sid: str) -> Session | None:
        """End a session; returns it (None when unknown)."""
        with self._lock:
            return self._by_id.pop(sid, None)

    def leave_case(self, case_id: str) -> int:
        """Every session working on case ``case_id`` works on none from now on (the case was
        closed: a closed case is no session's case); returns how many did. Cost: O(sessions)."""
        with self._lock:
            mine = [s for s in self._by_id.values() if s.case is not None and s.case.get("id") == case_id]
            for s in mine:
                s.case = None
        return len(mine)

    def idle(self) -> list[Session]:
        """Remove and return every session idle beyond the timeout. Cost: O(sessions)."""
        now = self.clock()
        with self._lock:
            gone = [s for s in self._by_id.values() if now - s.seen > self.idle_seconds]
            for s in gone:
                del self._by_id[s.id]
        return gone

    def __len__(self) -> int:
        return len(self._by_id)


@dataclass
class Caller:
    """Who makes a request and how they were recognised: ``via`` is ``session`` (the cookie),
    ``token`` (a bearer token) or ``local`` (the single local user, no cookie: reads only)."""

    user: User
    via: str
    session: Session | None
    client: str | None
    audit: AuditWriter = field(repr=False)

    @property
    def case(self) -> dict[str, Any] | None:
        """The case the session works on (None outside one)."""
        return self.session.case if self.session is not None else None

    def log(self, action: str, ids: Iterable[str] = (), detail: Mapping[str, Any] | None = None, *,
            wait: bool = False, case: Mapping[str, Any] | None = None) -> None:
        """Write this request's audit entry: the user, the session's case and its purpose (or
        ``case``, the case acted on), ``ids`` (what was returned or touched: ids, never data)
        and ``detail``. ``wait`` for anything that changes, exports or signs in: raises
        :class:`~graphiff.workbench.audit_log.AuditFailed` when the entry cannot be written."""
        c = case if case is not None else self.case
        self.audit.write(entry(user=self.user.name, action=action, ids=ids,
                               case=str(c["id"]) if c else None, purpose=str(c.get("purpose") or "") if c else None,
                               detail=detail), wait=wait)


class Auth:
    """Sign-in, sessions and rights of one app (``app.state.auth``).

    Parameters
    ----------
    book : Book
        The store's case book (users, tokens, lock-outs).
    audit : AuditWriter
        Where audit entries go (logouts by idling are written here).
    host : str
        The address the server is bound to: the local user exists only on a loopback one.
    local_name : str
        The local user's name (the operating-system user).
    idle_minutes : int
        Idle timeout of a session.
    secure_cookies : bool
        Mark cookies ``Secure`` on every request (the server runs behind a TLS proxy); without,
        only requests that came over https get them.
    """

    def __init__(self, book: Book, audit: AuditWriter, *, host: str, local_name: str, idle_minutes: int = 30,
                 secure_cookies: bool = False):
        self.book = book
        self.audit = audit
        self.loopback = is_loopback(host)
        self.local_name = local_name
        self.idle_minutes = int(idle_minutes)
        self.secure_cookies = bool(secure_cookies)
        self.sessions = Sessions(self.idle_minutes * 60.0)
        self.users_check_seconds = USERS_CHECK_SECONDS
        self._users: tuple[float, bool] | None = None
        self._roles: dict[str, tuple[float, str | None]] = {}
        self._users_lock = threading.Lock()

    # ---- the mode ----------------------------------------------------------------------------
    def users_exist(self) -> bool:
        """Whether the case book has users (read at most every :data:`USERS_CHECK_SECONDS`)."""
        now = time.monotonic()
        with self._users_lock:
            cached = self._users
        if cached is not None and now - cached[0] < self.users_check_seconds:
            return cached[1]
        got = has_users(self.book)
        with self._users_lock:
            self._users = (now, got)
        return got

    def local_mode(self) -> bool:
        """The single local user without login: no users, and bound to a loopback address."""
        return self.loopback and not self.users_exist()

    def local(self) -> User:
        """The single local user."""
        return local_user(self.local_name)

    # ---- identifying a request -------------------------------------------------------------
    def session_of(self, request: Request) -> Session | None:
        """The live session of the request's cookie (its idle time restarted), or None. A
        session ended by idling is audited as a logout and raises :class:`LoginRequired` (the
        local user's: None, it reads on); a local user's session is dropped once users exist, a
        removed user's at once; a changed role applies to the session."""
        sid = request.cookies.get(COOKIE)
        if not sid:
            return None
        s, ended = self.sessions.touch(sid)
        if ended is not None:
            self.log_idle(ended)
            if ended.user.local and self.local_mode():
                return None                  # the local user reads on; a change needs a new session
            raise LoginRequired(f"the session ended after {self.idle_minutes} minutes without a request: "
                                "sign in again")
        if s is None:
            return None
        if s.user.local:
            if not self.local_mode():
                self.sessions.drop(s.id)
                raise LoginRequired("users are configured now: sign in")
            return s
        role = self.role_of(s.user.name)
        if role is None:
            self.sessions.drop(s.id)
            raise LoginRequired(f"the user {s.user.name!r} no longer exists")
        if role != s.user.role:
            s.user = User(name=s.user.name, role=role)
        return s

    def role_of(self, name: str) -> str | None:
        """The role user ``name`` has now (None: removed), read at most every
        :data:`USERS_CHECK_SECONDS`: a role changed or a user removed takes effect in the
        sessions already signed in."""
        now = time.monotonic()
        with self._users_lock:
            cached = self._roles.get(name)
        if cached is not None and now - cached[0] < self.users_check_seconds:
            return cached[1]
        doc = self.book.get("user", name)
        role = str(doc["role"]) if doc is not None else None
        with self._users_lock:
            self._roles[name] = (now, role)
        return role

    def end_idle(self) -> None:
        """End every session idle beyond the timeout (each audited as a logout)."""
        for s in self.sessions.idle():
            self.log_idle(s)

    def log_idle(self, s: Session) -> None:
        """Audit the end of a session by idling."""
        c = s.case
        self.audit.write(entry(user=s.user.name, action="logout", case=str(c["id"]) if c else None,
                               purpose=str(c.get("purpose") or "") if c else None,
                               detail={"reason": f"idle for {self.idle_minutes} minutes"}))

    def identify(self, request: Request) -> Caller:
        """The caller of ``request``: bearer token, else session cookie, else the local user
        (reads only). Requests that may change something and are not signed with a token need
        the session cookie and its CSRF token.

        Raises
        ------
        LoginRequired
            No valid token or session (401).
        AccessDenied
            A request that may change something without the session's CSRF token (403).

        Cost: a dictionary look-up for a session; two case-book reads for a token.
        """
        client = request.client.host if request.client else None
        auth = request.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            user = token_user(self.book, auth[7:].strip())
            return Caller(user=user, via="token", session=None, client=client, audit=self.audit)
        s = self.session_of(request)
        unsafe = request.method.upper() in UNSAFE_METHODS
        if s is not None:
            if unsafe:
                sent = request.headers.get(CSRF_HEADER, "")
                if not sent or not secrets.compare_digest(sent.encode("utf-8"), s.csrf.encode("utf-8")):
                    raise AccessDenied(f"this request changes something and needs the session's CSRF token in the "
                                       f"{CSRF_HEADER} header (from GET /api/session)")
            return Caller(user=s.user, via="session", session=s, client=client, audit=self.audit)
        if self.local_mode():
            if unsafe:
                raise AccessDenied(f"this request changes something and needs the session cookie and its CSRF "
                                   f"token in the {CSRF_HEADER} header (from GET /api/session)")
            return Caller(user=self.local(), via="local", session=None, client=client, audit=self.audit)
        raise LoginRequired("sign in first (POST /api/login), or send an API token (Authorization: Bearer ...)")

    # ---- cookies ---------------------------------------------------------------------------
    def set_cookie(self, request: Request, response: Response, session: Session) -> None:
        """Put the session's cookie on ``response``."""
        response.set_cookie(COOKIE, session.id, path="/", httponly=True, samesite="strict",
                            secure=self.secure_cookies or request.url.scheme == "https")

    def clear_cookie(self, request: Request, response: Response) -> None:
        """Remove the session cookie from the browser."""
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                               secure=self.secure_cookies or request.url.scheme == "https")

    # ---- answers ---------------------------------------------------------------------------
    def answer(self, user: User | None, session: Session | None) -> dict[str, Any]:
        """The ``GET /api/session`` answer."""
        case = session.case if session is not None else None
        return {"user": None if user is None else {"name": user.name, "role": user.role, "local": user.local},
                "login_required": not self.local_mode(),
                "csrf": session.csrf if session is not None else None,
                "case": None if case is None else {k: case.get(k) for k in ("id", "name", "purpose", "marking")},
                "idle_minutes": self.idle_minutes,
                "rights": [] if user is None else [r for r in RIGHTS if user.can(r)]}


def _auth(request: Request) -> Auth:
    return request.app.state.auth


def needs(right: str) -> Callable[[Request], Caller]:
    """A FastAPI dependency: the request's :class:`Caller`, who must hold ``right`` (a key of
    :data:`graphiff.casework.users.RIGHTS`); 401 without a user, 403 without the right or the
    CSRF token."""
    if right not in RIGHTS:
        raise ValueError(f"unknown right {right!r}")

    def dependency(request: Request) -> Caller:
        caller = _auth(request).identify(request)
        require(caller.user, right)
        return caller
    dependency.__name__ = f"needs_{right}"
    return dependency


def signed_in(request: Request) -> Caller:
    """A FastAPI dependency: any identified caller (logout)."""
    return _auth(request).identify(request)


Reader = Annotated[Caller, Depends(needs("read"))]
Triager = Annotated[Caller, Depends(needs("triage"))]
CaseWorker = Annotated[Caller, Depends(needs("case"))]
CaseCloser = Annotated[Caller, Depends(needs("case_close"))]
Exporter = Annotated[Caller, Depends(needs("export"))]
Packager = Annotated[Caller, Depends(needs("package"))]
Auditor = Annotated[Caller, Depends(needs("audit"))]
SignedIn = Annotated[Caller, Depends(signed_in)]

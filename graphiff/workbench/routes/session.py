"""``GET /api/session``, ``POST /api/login``, ``POST /api/logout`` and ``PUT /api/session/case``:
signing in and out, the CSRF token, and the case a session works on (docs/api.md)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from graphiff.casework.audit import entry
from graphiff.casework.cases import get_case
from graphiff.casework.users import authenticate
from graphiff.errors import AccessDenied, GraphiffError, LoginRequired
from graphiff.workbench.auth import COOKIE, Auth, Reader, SignedIn
from graphiff.workbench.deps import BookDep
from graphiff.workbench.models import LoginRequest, OkAnswer, SessionAnswer, SessionCaseRequest

router = APIRouter(prefix="/api", tags=["session"])


def _auth(request: Request) -> Auth:
    return request.app.state.auth


@router.get("/session", response_model=SessionAnswer)
def session(request: Request, response: Response) -> dict[str, Any]:
    """Who is signed in, the CSRF token to send with changes, the session's case, the rights.
    Nobody signed in: ``user`` is null and ``login_required`` says whether a login is needed
    (with no users on 127.0.0.1 the local user gets a session here, without a login)."""
    auth = _auth(request)
    try:
        caller = auth.identify(request)
    except LoginRequired:
        if request.cookies.get(COOKIE):
            auth.clear_cookie(request, response)
        return auth.answer(None, None)
    if caller.via == "local":            # the single local user: a session, so that it has a CSRF token
        auth.end_idle()                   # (sessions of page loads long gone do not pile up)
        s = auth.sessions.create(caller.user)
        auth.set_cookie(request, response, s)
        return auth.answer(caller.user, s)
    return auth.answer(caller.user, caller.session)


def _attempted(name: str) -> str:
    """The name a failed login tried, as the audit log keeps it (at most 64 characters)."""
    return " ".join(str(name).split())[:64] or "(empty)"


@router.post("/login", response_model=SessionAnswer,
             responses={401: {"description": "wrong name or password"}, 403: {"description": "account locked"}})
def login(request: Request, response: Response, book: BookDep, body: LoginRequest) -> dict[str, Any]:
    """Sign in with a name and password: a new session (cookie ``graphiff_session``) and its
    CSRF token. Wrong name or password: 401; an account locked after five failures: 403.
    Every attempt is audited (never the password)."""
    auth = _auth(request)
    client = request.client.host if request.client else None
    try:
        user = authenticate(book, body.name, body.password)
    except AccessDenied as exc:        # LoginRequired (wrong) or locked
        reason = "wrong name or password" if isinstance(exc, LoginRequired) else "account locked"
        tried = _attempted(body.name)
        auth.audit.write(entry(user=tried, action="login_failed",
                               detail={"name": tried, "reason": reason, "client": client}), wait=True)
        raise
    old = request.cookies.get(COOKIE)
    if old:
        auth.sessions.drop(old)
    auth.end_idle()
    s = auth.sessions.create(user)
    auth.audit.write(entry(user=user.name, action="login", detail={"via": "password", "client": client}), wait=True)
    auth.set_cookie(request, response, s)
    return auth.answer(user, s)


@router.post("/logout", response_model=OkAnswer)
def logout(request: Request, response: Response, caller: SignedIn) -> dict[str, Any]:
    """End the session (the cookie is cleared)."""
    auth = _auth(request)
    if caller.session is not None:
        auth.sessions.drop(caller.session.id)
    caller.log("logout", detail={"reason": "signed out", "client": caller.client}, wait=True)
    auth.clear_cookie(request, response)
    return {"ok": True}


@router.put("/session/case", response_model=SessionAnswer)
def session_case(request: Request, caller: Reader, book: BookDep, body: SessionCaseRequest) -> dict[str, Any]:
    """Work on a case (it must exist and be open) or on none: later audit entries of this
    session name the case and its purpose."""
    if caller.session is None:
        raise GraphiffError("a case is chosen for a signed-in session; API tokens have none (the case is named in "
                            "each case request instead)")
    if body.case is None:
        caller.session.case = None
    else:
        case = get_case(book, body.case)
        if case.get("status") != "open":
            raise GraphiffError(f"case {case['id']} is closed; reopen it first (supervisors)")
        caller.session.case = {k: case.get(k) for k in ("id", "name", "purpose", "marking")}
        caller.log("case_view", ids=[str(case["id"])], detail={"chosen_for_session": True})
    return _auth(request).answer(caller.user, caller.session)

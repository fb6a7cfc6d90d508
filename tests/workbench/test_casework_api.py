"""Case work in the workbench API (docs/api.md, "Signing in, roles and the audit log") on BOTH
stores: sign-in, roles, CSRF, tokens, lock-out, the idle timeout, triage, cases, exports and the
audit log of every request.

Each test works on a store holding the workbench world (conftest.py) with users in its case
book: a private copy of the embedded store; on Neo4j the shared store, whose case work (users,
tokens, cases, triage) is removed again after each test so the other workbench tests still
run as the single local user.
"""
from __future__ import annotations

import io
import logging
import os
import shutil
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
import zipfile
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient

from graphiff.casework import audit
from graphiff.casework.users import add_user, create_token, remove_user, revoke_token
from graphiff.errors import GraphiffError, StoreError
from graphiff.share.verify import read_package
from graphiff.stores import open_book
from graphiff.stores.book import Book
from graphiff.stores.book_sqlite import book_path
from graphiff.workbench import create_app
from graphiff.workbench.audit_log import AuditWriter
from graphiff.workbench.auth import COOKIE
from tests._apikit import error as _error
from tests._apikit import ok as _ok
from tests._clikit import run_cli_streams

USERS = {"ann": "analyst", "sue": "supervisor", "adm": "admin", "lou": "analyst"}
PASSWORDS = {n: f"{n}-Correct-Horse-Battery-4711" for n in USERS}
#: Kinds of case-book documents the tests write (removed after each test on the shared Neo4j store).
KINDS = ("user", "token", "case", "counter", "triage")
GONE = "circular_trade:0ff1ce0ff1ce0ff1"
_APPS: dict[int, dict[str, Any]] = {}


def _copy(uri: str, folder: Path) -> str:
    """A private copy of the embedded store ``uri`` and its case book (SQLite's own backup:
    the book may have pages in its write-ahead log)."""
    folder.mkdir(parents=True, exist_ok=True)
    dst = folder / "casework.duckdb"
    shutil.copy(uri, dst)
    src_book = sqlite3.connect(book_path(uri))
    dst_book = sqlite3.connect(book_path(dst))
    try:
        src_book.backup(dst_book)
    finally:
        src_book.close()
        dst_book.close()
    return str(dst)


@pytest.fixture(scope="module", autouse=True)
def _close_apps():
    yield
    for got in _APPS.values():
        got["app"].state.close()
    _APPS.clear()


@pytest.fixture
def cw(wb_store, wb_app, tmp_path_factory) -> Iterator[SimpleNamespace]:
    """The case-work app (one per store and filling) over a store with the users of
    :data:`USERS`: ``app``, ``uri``, ``book`` (the app's case book) and ``start`` (the audit
    log's last seq before the test)."""
    key = id(wb_app)
    if key not in _APPS:
        uri = wb_store if wb_store.startswith("bolt") else _copy(wb_store, tmp_path_factory.mktemp("cw"))
        app = create_app(uri, refresh_seconds=0)
        app.state.auth.users_check_seconds = 0      # users are added and removed around every test
        _APPS[key] = {"uri": uri, "app": app}
    got = _APPS[key]
    app = got["app"]
    book: Book = app.state.book
    for name, role in USERS.items():
        if book.get("user", name) is None:
            add_user(book, name, role, PASSWORDS[name], by="test")
    app.state.auth.audit.flush()
    entries = book.entries(audit.CHAIN)
    start = int(entries[-1]["seq"]) if entries else 0
    yield SimpleNamespace(app=app, uri=got["uri"], book=book, start=start)
    app.state.auth.audit.flush()
    for kind in KINDS:
        book.delete(kind, [d["id"] for d in book.docs(kind)])
    book.delete("alert", [GONE])
    app.state.triage.invalidate()


@contextmanager
def _client(app, *, https: bool = False) -> Iterator[TestClient]:
    with TestClient(app, base_url=("https" if https else "http") + "://127.0.0.1") as c:
        yield c


def _login(c: TestClient, name: str) -> dict:
    body = _ok(c.post("/api/login", json={"name": name, "password": PASSWORDS[name]}))
    c.headers["X-CSRF-Token"] = body["csrf"]
    return body


@contextmanager
def _as(app, name: str, *, https: bool = False) -> Iterator[TestClient]:
    with _client(app, https=https) as c:
        _login(c, name)
        yield c


def _entries(cw) -> list[dict]:
    """The audit entries written since the test started (after the writer flushed)."""
    cw.app.state.auth.audit.flush()
    return cw.book.entries(audit.CHAIN, since=cw.start)


def _written(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _alert_ids(c: TestClient, **params) -> list[str]:
    return [a["id"] for a in _ok(c.get("/api/alerts", params={"limit": 10000, **params}))["alerts"]]


# ------------------------------------------------------------------------------- sign-in
_EXEMPT = {("GET", "/api/health"), ("GET", "/api/session"), ("POST", "/api/login")}


def test_without_login_every_request_is_refused(cw, wb_facts):
    """With users in the case book, every /api request but health, session and login is a 401
    without a session or token -- reads and changes alike -- while the page, its scripts and
    the API reference stay reachable (the page shows the login form)."""
    asked = set()
    with _client(cw.app) as c:
        for route, methods in _ok(c.get("/openapi.json"))["paths"].items():
            for method in (m.upper() for m in methods):
                if (method, route) in _EXEMPT or not route.startswith("/api"):
                    continue
                path = route.replace("{alert_id}", wb_facts["cycle_alert"]).replace("{case_id}", "C-0001")
                r = c.request(method, path, json={} if method in ("POST", "PUT", "PATCH") else None,
                              params={"q": "x", "id": wb_facts["trader"]} if method == "GET" else None)
                assert "sign in" in _error(r, 401), (method, path)
                asked.add((method, route))
        assert {("GET", "/api/search"), ("GET", "/api/neighbourhood"), ("GET", "/api/entity"), ("GET", "/api/alerts"),
                ("GET", "/api/alerts/{alert_id}"), ("POST", "/api/alerts/{alert_id}/triage"), ("POST", "/api/export"),
                ("POST", "/api/package"), ("GET", "/api/cases"), ("POST", "/api/cases"),
                ("POST", "/api/cases/{case_id}/close"), ("POST", "/api/cases/{case_id}/package"),
                ("PUT", "/api/cases/{case_id}/layout"), ("PUT", "/api/session/case"), ("POST", "/api/logout"),
                ("GET", "/api/audit"), ("GET", "/api/styles"), ("POST", "/api/timeline")} <= asked
        assert _ok(c.get("/api/health"))["status"] == "ok"
        s = _ok(c.get("/api/session"))
        assert s == {"user": None, "login_required": True, "csrf": None, "case": None, "idle_minutes": 30,
                     "rights": []}
        for page in ("/", "/docs", "/openapi.json", "/static/vendor/cytoscape.min.js"):
            assert c.get(page).status_code == 200, page
        # a forged cookie is nobody
        c.cookies.set(COOKIE, "forged")
        _error(c.get("/api/search", params={"q": "x"}), 401)


def test_login_session_and_logout(cw, wb_facts):
    with _client(cw.app) as c:
        msg = _error(c.post("/api/login", json={"name": "ann", "password": "not-her-password"}), 401)
        assert "wrong user name or password" in msg
        _error(c.post("/api/login", json={"name": "nobody", "password": "whatever-it-is"}), 401)
        r = c.post("/api/login", json={"name": "ann", "password": PASSWORDS["ann"]})
        body = _ok(r)
        assert body["user"] == {"name": "ann", "role": "analyst", "local": False}
        assert body["login_required"] is True and body["csrf"] and body["case"] is None
        assert set(body["rights"]) == {"read", "triage", "case", "export"}
        cookie = r.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert "Path=/" in cookie and "Secure" not in cookie          # plain http here
        assert len(c.cookies[COOKIE]) >= 43                              # 32 random bytes
        assert PASSWORDS["ann"] not in r.text
        c.headers["X-CSRF-Token"] = body["csrf"]
        assert _ok(c.get("/api/session")) == body
        assert _ok(c.get("/api/search", params={"q": wb_facts["misspelt"]}))["results"]
        out = c.post("/api/logout")
        assert _ok(out) == {"ok": True}
        assert f'{COOKIE}=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
        _error(c.get("/api/search", params={"q": "x"}), 401)
        # a logged-out session id no longer works even if a client kept it
        c.cookies.set(COOKIE, r.cookies[COOKIE])
        _error(c.get("/api/search", params={"q": "x"}), 401)
    with _client(cw.app, https=True) as c:                            # over https the cookie is Secure
        r = c.post("/api/login", json={"name": "ann", "password": PASSWORDS["ann"]})
        assert r.status_code == 200 and "Secure" in r.headers["set-cookie"]
    cw.app.state.auth.secure_cookies = True                           # --behind-tls-proxy
    try:
        with _client(cw.app) as c:
            r = c.post("/api/login", json={"name": "ann", "password": PASSWORDS["ann"]})
            assert r.status_code == 200 and "Secure" in r.headers["set-cookie"]
    finally:
        cw.app.state.auth.secure_cookies = False
    actions = [(e["action"], e["user"]) for e in _entries(cw)]
    assert ("login_failed", "ann") in actions and ("login_failed", "nobody") in actions
    assert ("login", "ann") in actions and ("logout", "ann") in actions and ("search", "ann") in actions
    failed = [e for e in _entries(cw) if e["action"] == "login_failed"]
    assert {e["detail"]["name"] for e in failed} == {"ann", "nobody"}
    assert all(e["detail"]["reason"] == "wrong name or password" for e in failed)


def test_csrf_is_required_on_changes(cw, wb_facts):
    with _as(cw.app, "ann") as c:
        token = c.headers.pop("X-CSRF-Token")
        for method, path, body in (("POST", "/api/timeline", {"ids": []}),
                                   ("POST", f"/api/alerts/{wb_facts['cycle_alert']}/triage", {"status": "in_review"}),
                                   ("PUT", "/api/session/case", {"case": None}),
                                   ("POST", "/api/logout", None)):
            assert "CSRF" in _error(c.request(method, path, json=body), 403)
            assert "CSRF" in _error(c.request(method, path, json=body, headers={"X-CSRF-Token": "x" + token}), 403)
        assert _ok(c.post("/api/timeline", json={"ids": []}, headers={"X-CSRF-Token": token}))["buckets"] == []
        assert _ok(c.get("/api/session"))["user"]["name"] == "ann"      # still signed in: nothing was done
        assert _ok(c.get(f"/api/alerts/{wb_facts['cycle_alert']}"))["alert"]["status"] == "new"


def test_the_local_user_needs_the_csrf_token_too(wb_app, wb_facts):
    """With no users on 127.0.0.1 the local user reads without a login, but a change needs the
    session cookie and its CSRF token: a page of another site cannot post to the workbench."""
    with _client(wb_app) as c:
        assert _ok(c.get("/api/search", params={"q": wb_facts["misspelt"]}))["results"]
        assert "CSRF" in _error(c.post("/api/timeline", json={"ids": []}), 403)
        s = _ok(c.get("/api/session"))
        assert s["user"]["local"] is True and s["user"]["role"] == "admin" and s["login_required"] is False
        assert s["csrf"] and "package" in s["rights"]
        assert "CSRF" in _error(c.post("/api/timeline", json={"ids": []}), 403)       # the cookie alone
        assert _ok(c.post("/api/timeline", json={"ids": []}, headers={"X-CSRF-Token": s["csrf"]}))["buckets"] == []


def test_roles(cw, wb_facts, tmp_path):
    body = {"nodes": wb_facts["traders"], "purpose": "JIT Lake", "marking": "TLP:AMBER", "recipient": "LV customs",
            "redact": "none"}
    with _as(cw.app, "ann") as ann:
        msg = _error(ann.post("/api/package", json=body), 403)
        assert "ann (analyst)" in msg and "supervisor" in msg
        case = _ok(ann.post("/api/cases", json={"name": "Op Lake", "purpose": "JIT Lake", "legal_basis": "Reg 515/97",
                                                "marking": "TLP:AMBER", "entities": wb_facts["traders"]}))
        assert "supervisor" in _error(ann.post(f"/api/cases/{case['id']}/close"), 403)
        assert "supervisor" in _error(ann.post(f"/api/cases/{case['id']}/package", json={"recipient": "LV"}), 403)
        assert "supervisor" in _error(ann.get("/api/audit"), 403)
        assert _ok(ann.get(f"/api/cases/{case['id']}"))["status"] == "open"
        r = ann.post("/api/export", json={"format": "anx", "nodes": wb_facts["traders"]})     # analysts export charts
        assert r.status_code == 200, r.text
    with _as(cw.app, "sue") as sue:
        r = sue.post("/api/package", json=body)
        assert r.status_code == 200, r.text
        manifest, _, _ = read_package(_written(tmp_path / "view.zip", r.content))
        assert manifest["recipient"] == "LV customs" and manifest["purpose"] == "JIT Lake"
        assert _ok(sue.post(f"/api/cases/{case['id']}/close"))["status"] == "closed"
        assert _ok(sue.post(f"/api/cases/{case['id']}/reopen"))["status"] == "open"
        assert _ok(sue.get("/api/audit", params={"limit": 5}))["entries"]
    with _as(cw.app, "adm") as adm:
        assert "audit" in _ok(adm.get("/api/session"))["rights"] and "users" in _ok(adm.get("/api/session"))["rights"]


def test_closing_a_case_takes_it_from_the_sessions_working_on_it(cw, wb_facts):
    """A closed case is no session's case: once a supervisor closes it, the sessions that
    worked on it (the closer's and an analyst's) work on none, and their audit entries no
    longer name the closed case and its purpose."""
    with _as(cw.app, "ann") as ann, _as(cw.app, "sue") as sue:
        cid = _ok(ann.post("/api/cases", json={"name": "Op Fen", "purpose": "Fen: a purpose that ended",
                                               "legal_basis": "Reg 515/97", "marking": "TLP:GREEN",
                                               "entities": wb_facts["traders"]}))["id"]
        for c in (ann, sue):
            assert _ok(c.put("/api/session/case", json={"case": cid}))["case"]["id"] == cid
        assert _ok(sue.post(f"/api/cases/{cid}/close"))["status"] == "closed"
        for c in (ann, sue):
            assert _ok(c.get("/api/session"))["case"] is None
        _ok(ann.get("/api/search", params={"q": wb_facts["misspelt"]}))
    searched = [e for e in _entries(cw) if e["action"] == "search" and e["user"] == "ann"]
    assert searched and searched[-1]["case"] is None and searched[-1]["purpose"] is None


def test_bearer_tokens(cw, wb_facts):
    tid, secret = create_token(cw.book, "ann", label="nightly", by="test")
    bearer = {"Authorization": f"Bearer {secret}"}
    with _client(cw.app) as c:
        assert _ok(c.get("/api/search", params={"q": wb_facts["misspelt"]}, headers=bearer))["results"]
        s = _ok(c.get("/api/session", headers=bearer))
        assert s["user"] == {"name": "ann", "role": "analyst", "local": False} and s["csrf"] is None
        got = _ok(c.post(f"/api/alerts/{wb_facts['cycle_alert']}/triage", json={"status": "in_review"},
                         headers=bearer))                                      # no CSRF token needed
        assert got["status"] == "in_review"
        _error(c.post("/api/package", json={"nodes": wb_facts["traders"], "purpose": "p", "marking": "m",
                                            "recipient": "r", "redact": "none"}, headers=bearer), 403)
        _error(c.get("/api/search", params={"q": "x"}, headers={"Authorization": f"Bearer {secret}x"}), 401)
        _error(c.get("/api/search", params={"q": "x"}, headers={"Authorization": "Bearer gft_nonsense"}), 401)
        revoke_token(cw.book, tid)
        assert "revoked" in _error(c.get("/api/search", params={"q": "x"}, headers=bearer), 401)
    triaged = [e for e in _entries(cw) if e["action"] == "status"]
    assert triaged and triaged[-1]["user"] == "ann" and triaged[-1]["ids"] == [wb_facts["cycle_alert"]]


def test_lock_out_after_five_failures(cw):
    with _client(cw.app) as c:
        for _ in range(4):
            _error(c.post("/api/login", json={"name": "lou", "password": "wrong-wrong-wrong"}), 401)
        assert "locked" in _error(c.post("/api/login", json={"name": "lou", "password": "wrong-wrong-wrong"}), 403)
        assert "locked" in _error(c.post("/api/login", json={"name": "lou", "password": PASSWORDS["lou"]}), 403)
        _login(c, "ann")                                     # others sign in as before
    failed = [e for e in _entries(cw) if e["action"] == "login_failed" and e["user"] == "lou"]
    assert [e["detail"]["reason"] for e in failed] == ["wrong name or password"] * 4 + ["account locked"] * 2


def test_idle_timeout(cw, wb_facts):
    sessions = cw.app.state.auth.sessions
    real = sessions.clock
    shift = [0.0]
    sessions.clock = lambda: real() + shift[0]
    try:
        with _as(cw.app, "ann") as c:
            shift[0] += 29 * 60                               # 29 minutes idle: still signed in
            assert _ok(c.get("/api/search", params={"q": wb_facts["misspelt"]}))["results"]
            shift[0] += 29 * 60                               # the request above restarted the clock
            assert _ok(c.get("/api/session"))["user"]["name"] == "ann"
            shift[0] += 31 * 60
            assert "30 minutes" in _error(c.get("/api/search", params={"q": "x"}), 401)
            assert _ok(c.get("/api/session"))["user"] is None
    finally:
        sessions.clock = real
    ends = [e for e in _entries(cw) if e["action"] == "logout"]
    assert ends and ends[-1]["user"] == "ann" and "idle" in ends[-1]["detail"]["reason"]


def test_a_changed_role_or_a_removed_user_applies_to_live_sessions(cw):
    from graphiff.casework.users import set_role

    with _as(cw.app, "ann") as c:
        _error(c.get("/api/audit"), 403)
        set_role(cw.book, "ann", "supervisor")           # `graphiff users role ann supervisor` meanwhile
        assert _ok(c.get("/api/audit", params={"limit": 1}))["entries"]
        assert _ok(c.get("/api/session"))["user"]["role"] == "supervisor"
        remove_user(cw.book, "ann")                      # `graphiff users remove ann`
        assert "no longer exists" in _error(c.get("/api/cases"), 401)
        assert _ok(c.get("/api/session"))["user"] is None


def test_the_local_user_reads_on_after_idling(wb_app, wb_facts):
    sessions = wb_app.state.auth.sessions
    real = sessions.clock
    shift = [0.0]
    sessions.clock = lambda: real() + shift[0]
    try:
        with _client(wb_app) as c:
            csrf = _ok(c.get("/api/session"))["csrf"]
            shift[0] += 31 * 60
            assert _ok(c.get("/api/search", params={"q": wb_facts["misspelt"]}))["results"]
            assert "CSRF" in _error(c.post("/api/timeline", json={"ids": []}, headers={"X-CSRF-Token": csrf}), 403)
            fresh = _ok(c.get("/api/session"))
            assert fresh["user"]["local"] and fresh["csrf"] != csrf
            assert _ok(c.post("/api/timeline", json={"ids": []}, headers={"X-CSRF-Token": fresh["csrf"]}))
    finally:
        sessions.clock = real


# ------------------------------------------------------------------------------- triage
def test_triage_through_the_api(cw, wb_facts):
    aid = wb_facts["cycle_alert"]
    with _as(cw.app, "ann") as c:
        before = _ok(c.get("/api/alerts", params={"limit": 10000}))
        assert {"decision", "assignee", "updated", "updated_at", "n_notes", "first_seen",
                "no_longer_detected_at"} <= set(before["alerts"][0])
        assert all(a["status"] == "new" for a in before["alerts"]) and before["alerts"][0]["first_seen"]
        got = _ok(c.post(f"/api/alerts/{aid}/triage", json={"status": "in_review", "note": "asked the bank",
                                                            "assignee": "ann"}))
        assert got["id"] == aid and got["status"] == "in_review" and got["assignee"] == "ann"
        assert got["n_notes"] == 1 and got["notes"][0]["user"] == "ann" and got["notes"][0]["text"] == "asked the bank"
        assert got["first_date"] and got["evidence"]
        assert _alert_ids(c, status="in_review") == [aid]
        assert aid not in _alert_ids(c, status="new")
        assert _ok(c.get("/api/alerts", params={"limit": 10000}))["total"] == before["total"]
        item = next(a for a in _ok(c.get("/api/alerts", params={"status": "in_review"}))["alerts"] if a["id"] == aid)
        assert item["n_notes"] == 1 and "notes" not in item and item["decision"] == "in_review"
        _ok(c.post(f"/api/alerts/{aid}/triage", json={"status": "dismissed", "note": "explained by a processing deal"}))
        view = _ok(c.get(f"/api/alerts/{aid}"))["alert"]
        assert view["status"] == "dismissed" and [n["text"] for n in view["notes"]] == [
            "asked the bank", "explained by a processing deal"]
        assert [(h["status"], h["previous"], h["user"]) for h in view["history"]] == [
            ("in_review", "new", "ann"), ("dismissed", "in_review", "ann")]
        assert _alert_ids(c, status="dismissed,false_positive") == [aid]
        assert _alert_ids(c, status="in_review") == []
        _ok(c.post(f"/api/alerts/{aid}/triage", json={"assignee": ""}))
        assert _ok(c.get(f"/api/alerts/{aid}"))["alert"]["assignee"] is None
        assert "unknown status" in _error(c.post(f"/api/alerts/{aid}/triage", json={"status": "closed"}), 400)
        assert "detection only" in _error(c.post(f"/api/alerts/{aid}/triage",
                                                 json={"status": "no_longer_detected"}), 400)
        _error(c.post(f"/api/alerts/{aid}/triage", json={}), 400)
        _error(c.post("/api/alerts/circular_trade:0000000000000000/triage", json={"status": "dismissed"}), 404)
        _error(c.get("/api/alerts", params={"status": "shelved"}), 400)
    changes = [e for e in _entries(cw) if e["action"] == "status"]
    assert [e["detail"].get("status") for e in changes] == ["in_review", "dismissed", None]
    assert all(e["ids"] == [aid] and "asked the bank" not in str(e) for e in changes)


def test_triage_made_elsewhere_shows_up(cw, wb_facts):
    """A status set outside this server (`graphiff alerts set`) is in the list within the
    view's max_age, without a restart."""
    from graphiff.casework.triage import set_status

    aid, view = wb_facts["cycle_alert"], cw.app.state.triage
    with _as(cw.app, "ann") as c:
        assert aid not in _alert_ids(c, status="escalated")
        set_status(cw.book, aid, user="bob", status="escalated", note="from the command line")
        old, view.max_age = view.max_age, 0.05
        try:
            deadline = time.monotonic() + 20
            while aid not in _alert_ids(c, status="escalated"):
                assert time.monotonic() < deadline, "the change made elsewhere never showed"
                time.sleep(0.1)
        finally:
            view.max_age = old
        assert _ok(c.get(f"/api/alerts/{aid}"))["alert"]["notes"][0]["user"] == "bob"


def test_an_alert_no_longer_detected_is_listed_and_opens(cw, wb_facts):
    """An alert the store no longer holds (the last detect run did not find it) is listed with
    what the case book remembers and opens with its remembered content and what the store
    still holds of its subgraph, instead of a 404."""
    snap = cw.app.state.holder.snapshot
    old = snap.alerts.alerts[wb_facts["cycle_alert"]].to_dict()
    remembered = {**old, "id": GONE, "entities": [*old["entities"], {"label": "Trader", "id": "GONE-TRADER-1"}]}
    cw.book.put("alert", [{"id": GONE, "pattern": old["pattern"], "alert": remembered, "digest": "0" * 16,
                           "first_seen": "2026-01-05T10:00:00+00:00", "last_seen": "2026-02-01T10:00:00+00:00",
                           "updated_at": None, "gone_at": "2026-03-01T10:00:00+00:00"}])
    cw.app.state.triage.invalidate()       # written behind the server's back: as `graphiff detect` would
    with _as(cw.app, "ann") as c:
        gone = _ok(c.get("/api/alerts", params={"status": "no_longer_detected"}))["alerts"]
        assert [a["id"] for a in gone] == [GONE]
        assert gone[0]["no_longer_detected_at"] == "2026-03-01T10:00:00+00:00" and gone[0]["first_date"]
        assert GONE in _alert_ids(c, entity=wb_facts["traders"][0])
        every = _ok(c.get("/api/alerts", params={"limit": 10000}))
        assert every["total"] == sum(every["patterns"].values()) and GONE in [a["id"] for a in every["alerts"]]
        body = _ok(c.get(f"/api/alerts/{GONE}"))
        assert body["alert"]["status"] == "no_longer_detected" and body["alert"]["explanation"] == old["explanation"]
        assert body["evidence_text"] and body["evidence_text"][0] == old["explanation"]
        ids = {n["id"] for n in body["subgraph"]["nodes"]}
        assert set(wb_facts["traders"]) <= ids and "Trader:GONE-TRADER-1" not in ids
        assert not any(n["label"] == "Alert" and n["id"].endswith(GONE) for n in body["subgraph"]["nodes"])
        noted = _ok(c.post(f"/api/alerts/{GONE}/triage", json={"note": "seen again in March?"}))
        assert noted["status"] == "no_longer_detected" and noted["n_notes"] == 1
    assert any(e["action"] == "view_alert" and e["ids"] == [GONE] for e in _entries(cw))


# ------------------------------------------------------------------------------- cases
def test_cases_round_trip(cw, wb_facts, tmp_path):
    t0, t1 = wb_facts["traders"][:2]
    aid = wb_facts["cycle_alert"]
    with _as(cw.app, "ann") as c:
        _error(c.post("/api/cases", json={"name": "Op Lake", "purpose": "", "legal_basis": "x", "marking": "y"}), 400)
        _error(c.post("/api/cases", json={"name": "Op Lake", "purpose": "p", "legal_basis": "x", "marking": "y",
                                          "entities": ["Trader:NO-SUCH"]}), 404)
        case = _ok(c.post("/api/cases", json={"name": "Op Lake", "purpose": "JIT Lake: circular trade via LV",
                                              "legal_basis": "Reg. (EU) 515/97 art. 4", "marking": "TLP:AMBER",
                                              "entities": [t0.split(":", 1)[1]]}))
        cid = case["id"]
        assert cid.startswith("C-") and case["status"] == "open" and case["created_by"] == "ann"
        assert case["entities"] == [t0]                      # a bare key names its entity
        case = _ok(c.post(f"/api/cases/{cid}/items", json={"entities": [t1], "alerts": [f"Alert:{aid}"]}))
        assert case["entities"] == [t0, t1] and case["alerts"] == [aid]
        case = _ok(c.post(f"/api/cases/{cid}/items", json={"entities": [t1], "remove": True}))
        assert case["entities"] == [t0]
        case = _ok(c.post(f"/api/cases/{cid}/items", json={"entities": [t1]}))
        case = _ok(c.post(f"/api/cases/{cid}/notes", json={"text": "asked LV for the invoices"}))
        assert case["notes"][0]["text"] == "asked LV for the invoices" and case["notes"][0]["user"] == "ann"
        case = _ok(c.put(f"/api/cases/{cid}/layout", json={"layout": {t0: [10.5, -3], t1: {"x": 1, "y": 2}}}))
        assert case["layout"] == {t0: [10.5, -3.0], t1: [1.0, 2.0]}
        _error(c.put(f"/api/cases/{cid}/layout", json={"layout": {t0: "here"}}), 400)
        again = _ok(c.get(f"/api/cases/{cid}"))
        assert again == case and [h["user"] for h in again["history"]] == ["ann"] * len(again["history"])
        listed = _ok(c.get("/api/cases", params={"status": "open"}))["cases"]
        assert [x["id"] for x in listed] == [cid] and listed[0]["n_entities"] == 2 and listed[0]["n_alerts"] == 1
        assert "layout" not in listed[0]
        assert _ok(c.get("/api/cases", params={"status": "closed"}))["cases"] == []
        sub = _ok(c.get(f"/api/cases/{cid}/subgraph"))["subgraph"]
        assert {t0, t1} <= {n["id"] for n in sub["nodes"]} and any(e["type"] == "TRADED_WITH" for e in sub["edges"])
        _error(c.get("/api/cases/C-9999"), 404)

        # the session works on the case: later entries name it and its purpose
        s = _ok(c.put("/api/session/case", json={"case": cid}))
        assert s["case"] == {"id": cid, "name": "Op Lake", "purpose": "JIT Lake: circular trade via LV",
                             "marking": "TLP:AMBER"}
        _ok(c.get("/api/search", params={"q": wb_facts["misspelt"]}))
        r = c.post(f"/api/cases/{cid}/export", json={"format": "anx"})
        assert r.status_code == 200, r.text
        assert r.headers["content-disposition"].startswith("attachment;") and cid in r.headers["content-disposition"]
        text = ET.tostring(ET.fromstring(r.content), encoding="unicode")
        assert wb_facts["name"] in text and t1.split(":", 1)[1] in text
        _error(c.post(f"/api/cases/{cid}/export", json={"format": "docx"}), 400)
        _ok(c.put("/api/session/case", json={"case": None}))
    with _as(cw.app, "sue") as sue:
        assert "key" in _error(sue.post(f"/api/cases/{cid}/package", json={"recipient": "LV customs"}), 400)
        _error(sue.post(f"/api/cases/{cid}/package", json={"recipient": "", "redact": "none"}), 400)
        r = sue.post(f"/api/cases/{cid}/package", json={"recipient": "LV customs", "redact": "none"})
        assert r.status_code == 200, r.text
        assert zipfile.ZipFile(io.BytesIO(r.content)).testzip() is None
        manifest, _, _ = read_package(_written(tmp_path / "case.zip", r.content))
        assert manifest["recipient"] == "LV customs" and manifest["case"] == cid
        assert manifest["purpose"] == "JIT Lake: circular trade via LV" and manifest["marking"] == "TLP:AMBER"
        assert manifest["legal_basis"] == "Reg. (EU) 515/97 art. 4"
        closed = _ok(sue.post(f"/api/cases/{cid}/close"))
        assert closed["status"] == "closed" and closed["closed_by"] == "sue"
    with _as(cw.app, "ann") as c:
        assert "closed" in _error(c.post(f"/api/cases/{cid}/notes", json={"text": "more"}), 400)
        assert "closed" in _error(c.put("/api/session/case", json={"case": cid}), 400)
        assert _ok(c.get(f"/api/cases/{cid}"))["notes"] == case["notes"]
    by_action: dict[str, list[dict]] = {}
    for e in _entries(cw):
        by_action.setdefault(e["action"], []).append(e)
    assert by_action["case_create"][0]["ids"][0] == cid and by_action["case_create"][0]["case"] == cid
    assert len(by_action["case_change"]) >= 5 and all(e["case"] == cid for e in by_action["case_change"])
    search = [e for e in by_action["search"] if e["case"] == cid]
    assert search and search[0]["purpose"] == "JIT Lake: circular trade via LV"
    assert wb_facts["trader"] in search[0]["ids"]
    export = by_action["export"][-1]
    assert export["case"] == cid and export["detail"]["format"] == "anx" and t0 in export["ids"]
    package = by_action["package"][-1]
    assert package["user"] == "sue" and package["detail"]["recipient"] == "LV customs" and package["case"] == cid
    assert by_action["case_close"][0]["user"] == "sue"


# ------------------------------------------------------------------------------- the audit log
def test_every_action_is_audited(cw, wb_facts):
    aid = wb_facts["cycle_alert"]
    with _client(cw.app) as c:
        _error(c.post("/api/login", json={"name": "ann", "password": "guessing-wrong"}), 401)
        _login(c, "ann")
        case = _ok(c.post("/api/cases", json={"name": "Op Audit", "purpose": "audit test purpose",
                                              "legal_basis": "art. 4", "marking": "TLP:RED"}))
        _ok(c.put("/api/session/case", json={"case": case["id"]}))
        hits = [h["id"] for h in _ok(c.get("/api/search", params={"q": wb_facts["misspelt"]}))["results"]]
        _ok(c.get("/api/entity", params={"id": wb_facts["trader"]}))
        listed = _alert_ids(c, pattern="circular_trade")
        _ok(c.get(f"/api/alerts/{aid}"))
        near = [n["id"] for n in _ok(c.get("/api/neighbourhood", params={"id": wb_facts["trader"]}))["nodes"]]
        _ok(c.post("/api/timeline", json={"ids": near[:5]}))
        assert c.post("/api/export", json={"format": "graphml", "nodes": wb_facts["traders"]}).status_code == 200
        _ok(c.post(f"/api/alerts/{aid}/triage", json={"status": "escalated"}))
        _ok(c.post("/api/logout"))
    with _as(cw.app, "sue") as sue:
        assert sue.post("/api/package", json={"nodes": wb_facts["traders"], "purpose": "share it",
                                              "marking": "TLP:AMBER", "recipient": "UG revenue",
                                              "redact": "remove"}).status_code == 200
        log = _ok(sue.get("/api/audit", params={"user": "ann", "action": "search"}))
        assert log["total"] >= 1 and log["entries"][0]["user"] == "ann" and log["entries"][0]["ids"] == hits
        newest = _ok(sue.get("/api/audit", params={"limit": 3}))["entries"]
        assert [e["seq"] for e in newest] == sorted((e["seq"] for e in newest), reverse=True)
        _error(sue.get("/api/audit", params={"action": "dance"}), 400)
    got = {}
    for e in _entries(cw):
        got.setdefault(e["action"], e)
    for action in ("login_failed", "login", "case_create", "case_view", "search", "view_entity", "list_alerts",
                   "view_alert", "neighbourhood", "timeline", "export", "status", "logout", "package"):
        assert action in got, (action, sorted(got))
    assert got["search"]["ids"] == hits and got["search"]["detail"]["query"] == wb_facts["misspelt"]
    assert got["view_entity"]["ids"] == [wb_facts["trader"]]
    assert got["list_alerts"]["ids"] == listed and got["view_alert"]["ids"] == [aid]
    assert got["neighbourhood"]["ids"] == near
    assert got["status"]["ids"] == [aid] and got["status"]["detail"]["status"] == "escalated"
    assert got["package"]["detail"]["recipient"] == "UG revenue" and got["package"]["case"] is None
    for action in ("search", "view_entity", "list_alerts", "view_alert", "neighbourhood", "timeline", "export",
                   "status"):
        assert got[action]["user"] == "ann" and got[action]["case"] == case["id"], action
        assert got[action]["purpose"] == "audit test purpose", action
    # ids, never the data: no entry carries the trader's name or an alert's explanation
    text = " ".join(str(e) for e in _entries(cw))
    assert wb_facts["name"] not in text
    assert audit.verify(cw.book).ok


def test_the_password_never_appears(cw, wb_facts, caplog):
    password = PASSWORDS["ann"]
    seen: list[str] = []
    with caplog.at_level(logging.DEBUG):
        with _client(cw.app) as c:
            for pw in (password[:-1], password + "x", password):
                r = c.post("/api/login", json={"name": "ann", "password": pw})
                seen.append(r.text + str(r.headers))
            c.headers["X-CSRF-Token"] = r.json()["csrf"]
            seen.append(c.get("/api/session").text)
            r = c.post("/api/login", json={"name": "ann", "password": password, "extra": password})
            seen.append(r.text)                                        # a refused body names the field only
            r = c.post("/api/login", json={"name": "ann", "password": password * 200})
            seen.append(r.text)
            seen.append(c.post("/api/logout").text)
        cw.app.state.auth.audit.flush()
    assert not any(password in s for s in seen)
    assert password not in caplog.text
    stored = [str(d) for kind in ("user", "token") for d in cw.book.docs(kind)]
    stored += [str(e) for e in cw.book.entries(audit.CHAIN)]
    assert stored and not any(password in s for s in stored)
    if not cw.uri.startswith("bolt"):                                  # the file itself, write-ahead log included
        for p in Path(book_path(cw.uri)).parent.glob(Path(book_path(cw.uri)).name + "*"):
            assert password.encode() not in p.read_bytes(), p


# ------------------------------------------------------------------------------- the writer
class _BrokenBook(Book):
    """A case book whose audit chain cannot be written (or is slow): everything else is the
    real book's."""

    def __init__(self, real: Book, *, delay: float = 0.0, broken: bool = True):
        self.real, self.delay, self.broken, self.uri = real, delay, broken, real.uri

    def append(self, chain, build):
        time.sleep(self.delay)
        if self.broken:
            raise StoreError("case book: appending to audit failed: disk I/O error")
        return self.real.append(chain, build)

    def put(self, kind, docs):
        return self.real.put(kind, docs)

    def docs(self, kind, ids=None):
        return self.real.docs(kind, ids)

    def delete(self, kind, ids):
        return self.real.delete(kind, ids)

    def update(self, kind, doc_id, change):
        return self.real.update(kind, doc_id, change)

    def entries(self, chain, since=0):
        return self.real.entries(chain, since)

    def close(self):
        pass


@contextmanager
def _writer(cw, book: Book) -> Iterator[AuditWriter]:
    auth = cw.app.state.auth
    real, auth.audit = auth.audit, AuditWriter(book)
    try:
        yield auth.audit
    finally:
        auth.audit.close()
        auth.audit = real


def test_reads_never_wait_for_the_log_but_changes_do(cw, wb_facts):
    with _as(cw.app, "ann") as c, _writer(cw, _BrokenBook(cw.book, delay=1.0, broken=False)):
        t = time.perf_counter()
        _ok(c.get("/api/search", params={"q": wb_facts["misspelt"]}))
        _ok(c.get("/api/entity", params={"id": wb_facts["trader"]}))
        assert time.perf_counter() - t < 0.9                         # the first batch is still being written
        t = time.perf_counter()
        _ok(c.post(f"/api/alerts/{wb_facts['cycle_alert']}/triage", json={"status": "in_review"}))
        assert time.perf_counter() - t >= 0.9                        # waited for its entry
    assert [e["action"] for e in _entries(cw)][-3:] == ["search", "view_entity", "status"]


def test_a_log_that_cannot_be_written(cw, wb_facts, caplog):
    """A read is answered and the failure logged (never what the entry holds); a change fails
    with a 500 saying the audit log could not be written."""
    with _as(cw.app, "ann") as c, _writer(cw, _BrokenBook(cw.book)) as w, caplog.at_level(logging.DEBUG):
        assert _ok(c.get("/api/search", params={"q": wb_facts["misspelt"]}))["results"]
        w.flush()
        assert "could not be written" in caplog.text and "search" in caplog.text
        assert wb_facts["misspelt"] not in caplog.text
        msg = _error(c.post(f"/api/alerts/{wb_facts['cycle_alert']}/triage", json={"status": "in_review"}), 500)
        assert "audit log could not be written" in msg
        msg = _error(c.post("/api/export", json={"format": "anx", "nodes": wb_facts["traders"]}), 500)
        assert "audit log" in msg


# ------------------------------------------------------------------------------- graphiff serve
def test_serve_beyond_this_machine_needs_users(tmp_path, cw):
    for host in ("0.0.0.0", "192.168.1.10"):
        code, out, err = run_cli_streams("serve", "--store", str(tmp_path / "none.duckdb"), "--host", host)
        assert code == 2 and not out.strip() and err.strip().count("\n") == 0, (out, err)
        assert "graphiff users add" in err and "Traceback" not in err
    assert not (tmp_path / "none.duckdb").exists()
    if not cw.uri.startswith("bolt"):          # a store with users passes the check (then TLS is checked)
        code, _, err = run_cli_streams("serve", "--store", cw.uri, "--host", "0.0.0.0", "--tls-cert",
                                       str(tmp_path / "cert.pem"))
        assert code == 2 and "--tls-key" in err
        from graphiff.cli.serve import check_host

        assert check_host("0.0.0.0", cw.uri) is True
        for name in USERS:
            remove_user(cw.book, name)
        with pytest.raises(GraphiffError, match="graphiff users add"):
            check_host("0.0.0.0", cw.uri)
        assert check_host("127.0.0.1", cw.uri) is False


def test_serve_over_tls(wb_store, tmp_path):
    """`graphiff serve --tls-cert --tls-key` answers https, prints an https address, and its
    session cookie is Secure; with no users it says it runs as the single local user."""
    if wb_store.startswith("bolt") or not shutil.which("openssl"):
        pytest.skip("once, on the embedded store, with openssl to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    store = _copy(wb_store, tmp_path / "tls")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "graphiff.cli", "serve", "--store", store, "--port", str(port),
                             "--tls-cert", str(cert), "--tls-key", str(key)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == f"graphiff workbench at https://127.0.0.1:{port}/"
        assert "single local user" in proc.stdout.readline()
        ctx = ssl.create_default_context(cafile=str(cert))
        ctx.check_hostname = False
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/api/session", context=ctx, timeout=60) as r:
            cookie = r.headers["Set-Cookie"]
            assert r.status == 200 and "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_open_book_is_the_apps(cw):
    """The app writes the case book of its own store (the CLI's `graphiff audit` reads it)."""
    with open_book(cw.uri) as other:
        assert {d["id"] for d in other.docs("user")} == set(USERS)


class _CountingBook(_BrokenBook):
    def __init__(self, real: Book):
        super().__init__(real, broken=False)
        self.appends = 0

    def append(self, chain, build):
        self.appends += 1
        return super().append(chain, build)


def test_the_writer_batches_and_writes_everything_on_close():
    from graphiff.stores.book_sqlite import SqliteBook

    real = SqliteBook(":memory:")
    book = _CountingBook(real)
    w = AuditWriter(book, linger=0.2)
    for i in range(300):
        w.write(audit.entry(user="ann", action="search", ids=[f"Trader:T{i}"]))
    w.write(audit.entry(user="ann", action="status", ids=["a:1"]), wait=True)      # written at once
    assert book.appends <= 3 and len(real.entries(audit.CHAIN)) == 301
    for i in range(50):
        w.write(audit.entry(user="ann", action="view_entity", ids=[f"Trader:T{i}"]))
    w.close()                                                                     # queued entries are written
    got = real.entries(audit.CHAIN)
    assert len(got) == 351 and [e["seq"] for e in got] == list(range(1, 352))
    assert [e["action"] for e in got[299:302]] == ["search", "status", "view_entity"]
    assert audit.verify(real).ok and w.written == 351 and w.failed == 0
    with pytest.raises(StoreError, match="closed"):
        w.write(audit.entry(user="ann", action="status"), wait=True)
    real.close()

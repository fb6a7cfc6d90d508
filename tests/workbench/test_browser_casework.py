"""Case work on the workbench page in a real headless Chromium against a real ``graphiff serve``.

The scenario of issue 14: sign in as an analyst -> triage an alert with a note -> add its
entities to a new case -> lay the case out -> export it to ANX -> sign out. Also: a wrong
password and a locked account are said on the sign-in form; a session that ended brings the
form back and the page goes on after signing in again; the package and close buttons are
only there for a role that may use them, and a refused request shows the server's reason;
on 127.0.0.1 with no users the page says it is in local mode and still sends the CSRF token.

The world: a small alias world loaded, resolved and detected into an embedded store; users are
added to its case book (``graphiff.casework.users``) before the server starts. A copy made
before that, without users, is the local-mode store.
"""
from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
import zipfile

import pytest

from graphiff.casework import audit, users
from graphiff.samples import generate_world
from graphiff.stores import open_book, open_store
from tests._browserkit import BROWSER_MARKS, serve

pytestmark = BROWSER_MARKS

PASSWORDS = {"ann": "ann-correct-horse-1", "sam": "sam-battery-staple-2", "lou": "lou-never-typed-right"}
ROLES = {"ann": "analyst", "sam": "supervisor", "lou": "analyst"}
LOCAL_NOTE = "Local mode: single local user, no login (bound to 127.0.0.1, no users configured)"
NOTE = "Asked the LV bank for the statements of the three accounts <b>not</b> yet answered"
CASE = {"name": "Op Lake", "purpose": "JIT Lake: circular trade via LV", "legal_basis": "Reg. (EU) 515/97 art. 4",
        "marking": "TLP:AMBER"}
REFUSED = "the server responded with a status of"       # Chromium logs each 4xx answer as a console error


# ------------------------------------------------------------------------------------ the world
@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict:
    """Two embedded stores of one small world: ``signed`` (with users: login required) and
    ``local`` (a copy without users: the single local user)."""
    from graphiff.detectors import run_detectors
    from graphiff.ingest import load_paths
    from graphiff.resolve.run import resolve

    base = tmp_path_factory.mktemp("casework-browser")
    folder = base / "world"
    generate_world(folder, scale=0.03, seed=7, aliases=True)
    signed = base / "signed" / "graph.duckdb"
    with open_store(str(signed)) as st:
        load_paths(st, [folder], quarantine_dir=base / "quarantine")
        resolve(st)
        run_detectors(st)
    shutil.copytree(signed.parent, base / "local")       # before any user exists
    with open_book(str(signed)) as book:
        for name, role in ROLES.items():
            users.add_user(book, name, role, PASSWORDS[name], by="test")
    return {"base": base, "signed": str(signed), "local": str(base / "local" / "graph.duckdb")}


@pytest.fixture(scope="module")
def signed_server(stores) -> str:
    """The workbench of the store with users (every request needs a login)."""
    yield from serve(stores["signed"], stores["base"] / "serve-signed.log")


@pytest.fixture(scope="module")
def local_server(stores) -> str:
    """The workbench of the store without users, on 127.0.0.1 (the single local user)."""
    yield from serve(stores["local"], stores["base"] / "serve-local.log")


def _status_without_cookie(origin: str, path: str) -> int:
    try:
        with urllib.request.urlopen(origin + path, timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


# ------------------------------------------------------------------------------------ the page
class Workbench:
    """The workbench page in its own browser context (its own cookies), with every console
    error, page error, dialog and request elsewhere recorded."""

    def __init__(self, browser, origin: str, viewport=(1600, 950)):
        self.origin = origin
        self.context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                           accept_downloads=True)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.foreign: list[str] = []
        self.page.on("console", lambda m: self.errors.append(f"{m.type}: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.on("request", self._request)
        self.page.goto(origin + "/")

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _request(self, req) -> None:
        url = req.url
        if not (url.startswith(self.origin + "/") or url.startswith("blob:" + self.origin + "/") or url == "data:,"):
            self.foreign.append(url)

    def close(self) -> None:
        self.context.close()

    def clean(self, allow: str | None = None) -> None:
        """No dialog, no console error (but ``allow``), no request elsewhere."""
        errors = [e for e in self.errors if not (allow and allow in e)]
        assert self.dialogs == [], f"a dialog opened: {self.dialogs}"
        assert errors == [], f"console errors: {errors}"
        assert self.foreign == [], f"requests left the page's origin: {self.foreign}"

    # predicates as functions: a string predicate would need eval(), which the page's CSP forbids
    def js(self, expr: str, arg=None):
        return self.page.evaluate(expr, arg)

    def ready(self) -> None:
        self.page.wait_for_function("() => window.graphiff && window.graphiff.ready === true "
                                    "&& window.graphiff.busy === 0", timeout=60_000)

    def idle(self) -> None:
        self.page.wait_for_function("() => window.graphiff.busy === 0", timeout=60_000)

    def draws(self) -> int:
        return self.js("() => window.graphiff.draws")

    def wait_draw(self, before: int) -> None:
        self.page.wait_for_function("(n) => window.graphiff.draws > n && window.graphiff.busy === 0",
                                    arg=before, timeout=60_000)

    def text(self, selector: str) -> str:
        return self.page.locator(selector).inner_text()

    def status_starts(self, prefix: str) -> None:
        self.page.wait_for_function("(p) => document.getElementById('status').textContent.startsWith(p)",
                                    arg=prefix, timeout=60_000)

    def node_ids(self) -> list[str]:
        return self.js("() => window.graphiff.cy.nodes().map(n => n.id())")

    def login_form(self) -> None:
        self.page.wait_for_selector("#login-form", state="visible", timeout=60_000)

    def try_login(self, name: str, password: str) -> None:
        """Type a name and password and press Enter; until the answer is in."""
        self.login_form()
        self.page.fill("#login-name", name)
        self.page.fill("#login-password", password)
        self.page.press("#login-password", "Enter")
        self.page.wait_for_function("() => window.graphiff.busy === 0 && !document.getElementById('login-go').disabled",
                                    timeout=60_000)

    def login(self, name: str) -> None:
        self.try_login(name, PASSWORDS[name])
        self.ready()

    def get(self, path: str, **params) -> dict:
        """GET on the API with this page's session cookie."""
        r = self.context.request.get(self.origin + path, params=params or None)
        assert r.ok, f"GET {path}: {r.status} {r.text()}"
        return r.json()

    def new_case(self, **fields) -> str:
        """A case made with the page's form (and opened); its id."""
        f = {**CASE, **fields}
        self.page.click("#btn-new-case")
        self.page.fill("#case-name", f["name"])
        self.page.fill("#case-purpose", f["purpose"])
        self.page.fill("#case-legal", f["legal_basis"])
        self.page.fill("#case-marking", f["marking"])
        self.page.click("#case-go")
        self.page.wait_for_function("(n) => { const c = window.graphiff.session().case; return c && c.name === n; }",
                                    arg=f["name"], timeout=30_000)
        self.page.wait_for_function("(n) => !document.getElementById('case-detail').hidden && "
                                    "document.getElementById('case-title').textContent.includes(n)",
                                    arg=f["name"], timeout=30_000)
        self.idle()
        return self.js("() => window.graphiff.session().case.id")


def _alert_item(page, alert_id: str):
    return page.locator(f'[data-testid=alert-item][data-id="{alert_id}"]')


# ------------------------------------------------------------------------------------ the tests
def test_analyst_triages_builds_a_case_exports_anx_and_signs_out(signed_server, stores, browser, tmp_path):
    wb = Workbench(browser, signed_server)
    page = wb.page

    # 1. the sign-in form, and nothing of the data behind it
    wb.login_form()
    assert not page.locator("#layout-main").is_visible()
    assert page.locator("[data-testid=alert-item]").count() == 0
    wb.login("ann")
    assert wb.text("#user-name") == "ann"
    assert wb.text("#user-role") == "analyst"
    assert page.locator("#btn-logout").is_visible()
    assert page.locator("#local-note").is_hidden()
    assert "No case open" in wb.text("#case-banner")
    # the default status filter: the work still to do
    assert wb.text("#alert-status-summary") == "new, in review, escalated"

    # 2. triage the best circular trade: status, assignee and a note
    alert = wb.get("/api/alerts", pattern="circular_trade")["alerts"][0]
    item = _alert_item(page, alert["id"])
    assert item.locator("[data-testid=status-badge]").inner_text() == "new"
    item.scroll_into_view_if_needed()
    before = wb.draws()
    item.click()
    wb.wait_draw(before)
    assert page.locator("#alert-detail").get_attribute("data-id") == alert["id"]
    assert page.locator("#alert-triage-line [data-testid=status-badge]").inner_text() == "new"
    assert wb.text("#alert-notes") == "No note yet."
    page.select_option("#triage-status", "in_review")
    page.fill("#triage-assignee", "ann")
    page.fill("#triage-note", NOTE)
    page.click("#triage-save")
    wb.status_starts(f"Alert {alert['id']}: status in review, assigned to ann, note added")
    page.wait_for_function("(id) => Array.from(document.querySelectorAll('[data-testid=alert-item]'))"
                           ".some(li => li.dataset.id === id && li.dataset.status === 'in_review')",
                           arg=alert["id"], timeout=30_000)
    wb.idle()
    assert item.locator("[data-testid=status-badge]").inner_text() == "in review"
    assert item.locator("[data-testid=alert-assignee]").inner_text() == "\u2192 ann"
    assert item.locator("[data-testid=alert-notes-count]").inner_text() == "\u270e 1"
    assert page.locator("#alert-triage-line [data-testid=status-badge]").inner_text() == "in review"
    notes = page.locator("#alert-notes [data-testid=note]")
    assert notes.count() == 1
    assert notes.first.locator(".note-head").inner_text().startswith("ann \u00b7 ")
    assert notes.first.locator(".note-text").inner_text() == NOTE            # markup in a note stays text
    assert page.locator("#alert-notes b").count() == 0
    assert page.locator("#triage-note").input_value() == ""
    assert "ann: new \u2192 in review" in page.locator("#alert-history").text_content()     # folded away
    # ... and on the server: the API and the case book hold it
    got = wb.get(f"/api/alerts/{urllib.parse.quote(alert['id'], safe='')}")["alert"]
    assert (got["status"], got["assignee"]) == ("in_review", "ann")
    assert [(n["user"], n["text"]) for n in got["notes"]] == [("ann", NOTE)]
    with open_book(stores["signed"]) as book:
        tri = book.get("triage", alert["id"])
    assert tri["status"] == "in_review" and tri["notes"][-1]["text"] == NOTE

    # 3. a new case, opened: its name, purpose and marking in the header
    case_id = wb.new_case()
    banner = page.locator("#case-banner")
    assert banner.locator("[data-testid=case-banner-name]").inner_text() == CASE["name"]
    assert CASE["purpose"] in banner.locator("[data-testid=case-banner-purpose]").inner_text()
    assert banner.locator("[data-testid=marking]").inner_text() == CASE["marking"]
    assert page.locator(f'[data-testid=case-item][data-id="{case_id}"]').get_attribute("class") == "active"

    # 4. the alert and its entities go into the case
    entities = [f"{e['label']}:{e['id']}" for e in alert["entities"]]
    page.click("#btn-alert-to-case")
    wb.status_starts(f"Added alert {alert['id']}")
    assert wb.text("#case-n-entities") == f"({len(entities)})"
    case = wb.get(f"/api/cases/{case_id}")
    assert set(case["entities"]) == set(entities)
    assert case["alerts"] == [alert["id"]]
    assert (case["purpose"], case["legal_basis"], case["marking"]) == (CASE["purpose"], CASE["legal_basis"],
                                                                      CASE["marking"])

    # 5. the case on the canvas; a node moved and the layout saved; drawn again where it was put
    before = wb.draws()
    page.click("#btn-case-show")
    wb.wait_draw(before)
    assert set(entities) <= set(wb.node_ids())
    moved = entities[0]
    wb.js("(id) => window.graphiff.cy.getElementById(id).position({x: 1234.5, y: -567})", moved)
    page.click("#btn-case-layout")
    wb.status_starts("Layout of")
    assert wb.get(f"/api/cases/{case_id}")["layout"][moved] == [1234.5, -567]
    page.click("#btn-clear")
    assert wb.node_ids() == []
    before = wb.draws()
    page.click("#btn-case-show")
    wb.wait_draw(before)
    assert wb.js("(id) => window.graphiff.cy.getElementById(id).position()", moved) == {"x": 1234.5, "y": -567}

    # 6. a note on the case
    page.fill("#case-note", "Bank statements requested from LV")
    page.click("#btn-case-note")
    wb.status_starts(f"Note added to case {case_id}")
    assert "Bank statements requested from LV" in wb.text("#case-notes")

    # 7. the case as i2 ANX: an XML chart titled with the case, naming its entities
    page.select_option("#case-export-format", "anx")
    with page.expect_download(timeout=60_000) as dl:
        page.click("#btn-case-export")
    path = tmp_path / "case.anx"
    dl.value.save_as(path)
    root = ET.parse(path).getroot()
    assert root.tag == "Chart"
    titles = [f.get("Field") for f in root.iter("Field") if f.get("Type") == "SummaryFieldTitle"]
    assert titles == [f"{case_id}: {CASE['name']}"]
    identities = {e.get("Identity") for e in root.iter("Entity")}
    assert set(entities) <= identities, set(entities) - identities
    wb.status_starts(f"Exported case {case_id}")

    # 8. sign out: the sign-in form is back, the page dropped what it showed, the API says 401
    page.click("#btn-logout")
    wb.login_form()
    assert "signed out" in wb.text("#login-note")
    assert not page.locator("#layout-main").is_visible()
    assert wb.node_ids() == []
    assert page.locator("[data-testid=alert-item]").count() == 0
    r = wb.context.request.get(signed_server + "/api/alerts")
    assert r.status == 401, r.status
    assert "error" in r.json()
    assert _status_without_cookie(signed_server, "/api/alerts") == 401

    # the audit log names ann's sign-in and sign-out, the triage, and the export under the case's purpose
    with open_book(stores["signed"]) as book:
        mine = audit.read(book, user="ann")
    assert {"login", "status", "case_create", "case_change", "export", "logout"} <= {e["action"] for e in mine}
    assert any(e["action"] == "status" and alert["id"] in e["ids"] for e in mine)
    exported = [e for e in mine if e["action"] == "export" and e["case"] == case_id]
    assert exported and exported[-1]["purpose"] == CASE["purpose"]
    wb.clean()
    wb.close()


def test_wrong_password_and_locked_account_are_said(signed_server, browser):
    wb = Workbench(browser, signed_server)
    page = wb.page
    wb.try_login("ann", "not-ann's-password")
    assert page.locator("#login-error").is_visible()
    assert "wrong user name or password" in wb.text("#login-error")
    assert page.locator("#login-password").input_value() == ""
    assert not page.locator("#layout-main").is_visible()
    # five wrong passwords in a row lock the account: said on the form, even with the right one then
    for n in range(users.MAX_FAILURES):
        wb.try_login("lou", f"wrong password {n}")
    assert "locked" in wb.text("#login-error")
    wb.try_login("lou", PASSWORDS["lou"])
    assert "locked" in wb.text("#login-error")
    assert not page.locator("#layout-main").is_visible()
    assert wb.js("() => window.graphiff.signedIn") is False
    wb.clean(allow=REFUSED)
    wb.close()


def test_an_ended_session_brings_the_form_back_and_the_page_goes_on(signed_server, browser):
    wb = Workbench(browser, signed_server)
    page = wb.page
    wb.login("ann")
    alert = wb.get("/api/alerts", pattern="circular_trade")["alerts"][0]
    # the session ends behind the page's back (signed out from another tab)
    csrf = wb.get("/api/session")["csrf"]
    r = wb.context.request.post(signed_server + "/api/logout", headers={"X-CSRF-Token": csrf})
    assert r.ok, r.text()
    wb.js("(id) => window.graphiff.openAlert(id)", alert["id"])
    wb.login_form()
    assert "session has ended" in wb.text("#login-note")
    # signed in again: the page goes on
    wb.login("ann")
    before = wb.draws()
    wb.js("(id) => window.graphiff.openAlert(id)", alert["id"])
    wb.wait_draw(before)
    assert page.locator("#alert-detail").get_attribute("data-id") == alert["id"]
    assert page.locator("[data-testid=alert-item]").count() > 0
    wb.clean(allow=REFUSED)
    wb.close()


def test_package_and_close_are_for_supervisors(signed_server, browser, tmp_path):
    # an analyst: no package button, no close button; a forced close is refused with the reason
    ann = Workbench(browser, signed_server)
    ann.login("ann")
    case_id = ann.new_case(name="Op Reed", purpose="Reed: undervalued tea imports")
    page = ann.page
    assert page.locator("#btn-package").is_hidden()
    assert page.locator("#btn-case-package").is_hidden()
    assert page.locator("#btn-case-close").is_hidden()
    assert page.locator("#btn-case-export").is_visible()
    ann.js("() => document.getElementById('btn-case-close').click()")
    page.wait_for_function("() => document.getElementById('status').classList.contains('error')", timeout=30_000)
    assert ann.text("#status").startswith("Error: not allowed: ")
    assert "supervisor" in ann.text("#status")
    ann.clean(allow=REFUSED)
    ann.close()

    # a supervisor: both; the case's package names the recipient and carries the case's purpose
    sam = Workbench(browser, signed_server)
    sam.login("sam")
    page = sam.page
    assert sam.text("#user-role") == "supervisor"
    assert page.locator("#btn-package").is_visible()
    item = page.locator(f'[data-testid=case-item][data-id="{case_id}"]')
    item.click()
    page.wait_for_function("(id) => { const c = window.graphiff.session().case; return c && c.id === id; }",
                           arg=case_id, timeout=30_000)
    sam.idle()
    assert "Op Reed" in sam.text("#case-banner")
    # something in it to package: the best alert and its entities
    alert = sam.get("/api/alerts", pattern="circular_trade")["alerts"][0]
    sam.js("(id) => window.graphiff.openAlert(id)", alert["id"])
    page.wait_for_function("(id) => document.getElementById('alert-detail').dataset.id === id",
                           arg=alert["id"], timeout=30_000)
    page.click("#btn-alert-to-case")
    sam.status_starts("Added alert")
    assert page.locator("#btn-case-package").is_visible()
    page.click("#btn-case-package")
    page.fill("#case-package-recipient", "LV customs")
    page.select_option("#case-package-redact", "remove")
    with page.expect_download(timeout=120_000) as dl:
        page.click("#case-package-go")
    zpath = tmp_path / "case.zip"
    dl.value.save_as(zpath)
    with zipfile.ZipFile(zpath) as z:
        name = next(n for n in z.namelist() if n.endswith("manifest.json"))
        manifest = json.dumps(json.loads(z.read(name)))
    assert "LV customs" in manifest
    assert "Reed: undervalued tea imports" in manifest
    assert case_id in manifest
    # closed, then reopened
    assert page.locator("#btn-case-close").is_visible()
    page.click("#btn-case-close")
    sam.status_starts(f"Case {case_id} closed")
    assert sam.text("#case-state") == "closed"
    assert page.locator("#btn-case-add").is_hidden()
    # a closed case is no session's case: the banner says that no case is open
    page.wait_for_function("() => document.getElementById('case-banner').classList.contains('none')",
                           timeout=30_000)
    assert sam.js("() => window.graphiff.session().case") is None
    page.click("#btn-case-reopen")
    page.wait_for_function("(id) => { const c = window.graphiff.session().case; return c && c.id === id; }",
                           arg=case_id, timeout=30_000)
    sam.idle()
    assert sam.text("#case-state") == "open"
    sam.clean()
    sam.close()


def test_local_mode_says_so_and_sends_the_csrf_token(local_server, browser):
    wb = Workbench(browser, local_server)
    page = wb.page
    wb.ready()
    assert page.locator("#login").is_hidden()
    assert page.locator("#local-note").is_visible()
    assert wb.text("#local-note") == LOCAL_NOTE
    assert page.locator("#btn-logout").is_hidden()
    assert wb.text("#user-role") == "admin"
    assert page.locator("#btn-package").is_visible()
    # a change from the page carries the CSRF token: the triage is saved
    alerts = wb.get("/api/alerts", pattern="circular_trade")["alerts"]
    alert, other = alerts[0], alerts[1]
    quoted = urllib.parse.quote(alert["id"], safe="")
    before = wb.draws()
    wb.js("(id) => window.graphiff.openAlert(id)", alert["id"])
    wb.wait_draw(before)
    page.select_option("#triage-status", "escalated")
    page.click("#triage-save")
    wb.status_starts(f"Alert {alert['id']}: status escalated")
    assert wb.get(f"/api/alerts/{quoted}")["alert"]["status"] == "escalated"
    # the same change without the token is refused
    r = wb.context.request.post(f"{local_server}/api/alerts/{quoted}/triage", data={"status": "dismissed"})
    assert r.status == 403, r.status
    wb.idle()
    assert _alert_item(page, alert["id"]).count() == 1                   # escalated: still work to do

    # the default status filter leaves out what is decided; ticking the status brings it back
    assert _alert_item(page, other["id"]).count() == 1
    before = wb.draws()
    wb.js("(id) => window.graphiff.openAlert(id)", other["id"])
    wb.wait_draw(before)
    page.select_option("#triage-status", "dismissed")
    page.click("#triage-save")
    wb.status_starts(f"Alert {other['id']}: status dismissed")
    page.wait_for_function("(id) => !Array.from(document.querySelectorAll('[data-testid=alert-item]'))"
                           ".some(li => li.dataset.id === id)", arg=other["id"], timeout=30_000)
    page.click("#alert-status-box summary")
    page.check('#alert-status input[value="dismissed"]')
    page.wait_for_function("(id) => Array.from(document.querySelectorAll('[data-testid=alert-item]'))"
                           ".some(li => li.dataset.id === id && li.dataset.status === 'dismissed')",
                           arg=other["id"], timeout=30_000)
    assert wb.text("#alert-status-summary") == "new, in review, escalated, dismissed"

    # the server forgot the session (a restart: sessions live in its memory): the page takes a
    # fresh one and the change goes through
    wb.context.clear_cookies()
    page.fill("#triage-note", "seen again after a restart")
    page.click("#triage-save")
    wb.status_starts(f"Alert {other['id']}: note added")
    assert wb.get(f"/api/alerts/{urllib.parse.quote(other['id'], safe='')}")["alert"]["notes"][-1]["text"] == \
        "seen again after a restart"
    wb.clean(allow=REFUSED)
    wb.close()

"""Users, roles, tokens and the audit log on both stores: logins that count failures and lock an
account after five, tokens that sign in until revoked, what each role may do; passwords and token
secrets found nowhere (not in the store's files or nodes, not in what the command line prints, not
in the audit log); `graphiff audit --verify` finding a changed entry, a deleted one and a log cut
short since a head was noted; 10,000 entries verified."""
from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest
from _clikit import run_cli_streams

from graphiff.casework import audit, users
from graphiff.errors import AccessDenied, GraphiffError, LoginRequired
from graphiff.stores import embedded_path
from graphiff.stores.book import encode
from graphiff.stores.book_sqlite import book_path
from tests.casework._casekit import ok, ok_json, refused

PASSWORDS = {"ann": "ann-Secret-Passw0rd", "sue": "sue-Other-Passw0rd!", "root": "root-Admin-Passw0rd"}


def _add(store_uri: str, monkeypatch, name: str, role: str, password: str | None = None) -> str:
    monkeypatch.setattr("sys.stdin", io.StringIO((password or PASSWORDS[name]) + "\n"))
    code, out, err = run_cli_streams("users", "add", name, "--role", role, "--password-stdin", "--store", store_uri,
                                     "--user", "root")
    assert code == 0 and not err, out + err
    return out + err


def _tamper(store, store_uri: str, seq: int, body: str | None) -> None:
    """Change (``body``) or delete (None) audit entry ``seq`` behind graphiff's back."""
    path = embedded_path(store_uri)
    if path is not None:
        with sqlite3.connect(book_path(path)) as con:
            if body is None:
                con.execute("DELETE FROM chain WHERE name = 'audit' AND seq = ?", (seq,))
            else:
                con.execute("UPDATE chain SET body = ? WHERE name = 'audit' AND seq = ?", (body, seq))
        return
    with store.driver.session(database=store.database) as s:
        if body is None:
            s.run("MATCH (e:_CaseChain {name: 'audit', seq: $seq}) DELETE e", seq=seq).consume()
        else:
            s.run("MATCH (e:_CaseChain {name: 'audit', seq: $seq}) SET e.body = $body", seq=seq, body=body).consume()


def _everything_stored(store, store_uri: str) -> bytes:
    """Every byte the store keeps: the files of an embedded store (DuckDB, case book, their logs),
    every node's properties in Neo4j (the case book's _CaseDoc / _CaseChain bodies among them)."""
    path = embedded_path(store_uri)
    if path is not None:
        return b"".join(p.read_bytes() for p in sorted(Path(path).parent.iterdir()) if p.is_file())
    with store.driver.session(database=store.database) as s:
        rows = [r["p"] for r in s.run("MATCH (n) RETURN properties(n) AS p")]
    assert any("body" in r for r in rows)
    return json.dumps(rows, default=str).encode("utf-8")


def test_logins_lockout_tokens_and_roles(store, store_uri, monkeypatch):
    for name, role in (("root", "admin"), ("ann", "analyst"), ("sue", "supervisor")):
        _add(store_uri, monkeypatch, name, role)
    assert "exists already" in refused("users", "add", "ann", "--role", "analyst", "--password-stdin",
                                       "--store", store_uri)
    listed = ok_json("users", "list", "--store", store_uri)
    assert [(u["id"], u["role"], u["created_by"]) for u in listed] == [
        ("ann", "analyst", "root"), ("root", "admin", "root"), ("sue", "supervisor", "root")]
    assert all("password" not in u for u in listed)

    book = store.book()
    assert users.authenticate(book, "ann", PASSWORDS["ann"]) == users.User("ann", "analyst")
    for _ in range(2):
        with pytest.raises(LoginRequired, match="wrong user name or password"):
            users.authenticate(book, "ann", "not-her-password")
    assert book.get("user", "ann")["failures"] == 2
    users.authenticate(book, "ann", PASSWORDS["ann"])           # a good login starts the count again
    assert book.get("user", "ann")["failures"] == 0
    with pytest.raises(LoginRequired):
        users.authenticate(book, "nobody", PASSWORDS["ann"])      # one message for an unknown user
    for i in range(users.MAX_FAILURES):
        with pytest.raises(AccessDenied) as exc:
            users.authenticate(book, "ann", f"wrong-{i}")
        assert isinstance(exc.value, LoginRequired) == (i < users.MAX_FAILURES - 1)
    with pytest.raises(AccessDenied, match="locked"):
        users.authenticate(book, "ann", PASSWORDS["ann"])        # locked: even the right password
    assert ok_json("users", "list", "--store", store_uri)[0]["locked_until"]
    monkeypatch.setattr("sys.stdin", io.StringIO("ann-New-Passw0rd-2\n"))
    ok("users", "passwd", "ann", "--password-stdin", "--store", store_uri)   # lifts the lock
    assert users.authenticate(book, "ann", "ann-New-Passw0rd-2").name == "ann"

    token = ok_json("users", "token", "sue", "--label", "nightly", "--store", store_uri, "--user", "root")
    assert token["token"].startswith("gft_")
    assert users.token_user(book, token["token"]) == users.User("sue", "supervisor")
    with pytest.raises(LoginRequired):
        users.token_user(book, token["token"][:-2] + "xx")
    assert [(t["id"], t["user"], t["label"], t["revoked_at"]) for t in ok_json("users", "tokens", "--store", store_uri)
            ] == [(token["id"], "sue", "nightly", None)]
    ok("users", "revoke", token["id"], "--store", store_uri)
    with pytest.raises(LoginRequired, match="not valid"):
        users.token_user(book, token["token"])
    second = ok_json("users", "token", "ann", "--store", store_uri)["token"]
    assert users.token_user(book, second).name == "ann"
    ok("users", "remove", "ann", "--store", store_uri)
    with pytest.raises(LoginRequired):
        users.token_user(book, second)                          # removing a user revokes their tokens
    assert "no user 'ann'" in refused("users", "role", "ann", "admin", "--store", store_uri)
    ok("users", "role", "sue", "admin", "--store", store_uri)
    assert users.authenticate(book, "sue", PASSWORDS["sue"]).role == "admin"

    analyst, supervisor, admin = (users.User("a", r) for r in users.ROLES)
    for action in ("read", "triage", "case", "export"):
        users.require(analyst, action)
    for action in ("case_close", "package", "audit", "users"):
        with pytest.raises(AccessDenied, match=f"needs the {users.RIGHTS[action]} role"):
            users.require(analyst, action)
    users.require(supervisor, "package"), users.require(supervisor, "case_close")
    with pytest.raises(AccessDenied, match="needs the admin role"):
        users.require(supervisor, "users")
    for action in users.RIGHTS:
        users.require(admin, action)
    with pytest.raises(GraphiffError, match="unknown right"):
        users.require(admin, "fly")

    changes = [(e["action"], e["ids"], e["detail"]) for e in audit.read(book) if e["action"].endswith("_change")]
    assert changes[:3] == [("user_change", [n], {"change": "added", "role": r})
                           for n, r in (("root", "admin"), ("ann", "analyst"), ("sue", "supervisor"))]
    assert ("token_change", [token["id"]], {"change": "revoked"}) in changes
    assert ("user_change", ["ann"], {"change": "password"}) in changes


def test_parallel_guesses_do_not_get_past_the_lock_out(tmp_path):
    """A brute force sends its guesses at once: every one is verified before any is counted.
    The count, read again inside the atomic step, still stops at the lock: no more than
    MAX_FAILURES wrong answers and the account stays locked; a right password verified before
    the lock but counted after it does not sign in, nor lift the lock."""
    import threading
    from concurrent.futures import ThreadPoolExecutor
    from datetime import datetime, timedelta, timezone

    from graphiff.stores.book_sqlite import SqliteBook

    n = 3 * users.MAX_FAILURES
    book = SqliteBook(tmp_path / "book.sqlite")
    users.add_user(book, "ann", "analyst", PASSWORDS["ann"], by="test")
    gate = threading.Barrier(n)
    update = book.update

    def counted_after_all_verified(kind, doc_id, change):
        if kind == "user":
            gate.wait(timeout=60)        # every guess has been verified: now they are counted
        return update(kind, doc_id, change)
    book.update = counted_after_all_verified  # type: ignore[method-assign]

    def guess(i: int) -> str:
        try:
            users.authenticate(book, "ann", f"wrong-guess-{i}")
            return "in"
        except LoginRequired:
            return "wrong"
        except AccessDenied:
            return "locked"
    with ThreadPoolExecutor(n) as pool:
        got = list(pool.map(guess, range(n)))
    assert got.count("wrong") == users.MAX_FAILURES - 1, got
    assert got.count("locked") == n - users.MAX_FAILURES + 1, got
    assert book.get("user", "ann")["locked_until"]

    # the right password, verified while the account was still open, counted once it is locked
    book.update = update  # type: ignore[method-assign]
    users.set_password(book, "ann", PASSWORDS["ann"])             # lifts the lock
    later = (datetime.now(timezone.utc) + timedelta(minutes=5)).isoformat(timespec="seconds")

    def locked_in_between(kind, doc_id, change):
        update(kind, doc_id, lambda d: {**d, "locked_until": later})   # another guess locked it
        return update(kind, doc_id, change)
    book.update = locked_in_between  # type: ignore[method-assign]
    with pytest.raises(AccessDenied, match="locked"):
        users.authenticate(book, "ann", PASSWORDS["ann"])
    book.update = update  # type: ignore[method-assign]
    assert book.get("user", "ann")["locked_until"] == later
    assert book.get("user", "ann")["last_login"] is None
    book.close()


def test_passwords_and_tokens_appear_nowhere(store, store_uri, monkeypatch):
    printed = "".join(_add(store_uri, monkeypatch, n, r) for n, r in (("root", "admin"), ("ann", "analyst")))
    monkeypatch.setattr("sys.stdin", io.StringIO("ann-Changed-Passw0rd\n"))
    printed += ok("users", "passwd", "ann", "--password-stdin", "--store", store_uri)
    code, out, err = run_cli_streams("users", "token", "ann", "--store", store_uri)
    assert code == 0
    secret = next(w for w in out.split() if w.startswith("gft_"))
    assert "not shown again" in out
    printed += ok("users", "list", "--store", store_uri) + ok("users", "tokens", "--store", store_uri, "--json")
    printed += ok("audit", "--store", store_uri, "--json") + ok("audit", "--store", store_uri)
    book = store.book()
    users.authenticate(book, "ann", "ann-Changed-Passw0rd")
    with pytest.raises(LoginRequired):
        users.authenticate(book, "ann", "ann-Guessed-Wrong-1")
    assert users.token_user(book, secret).name == "ann"

    secrets = [*PASSWORDS.values(), "ann-Changed-Passw0rd", "ann-Guessed-Wrong-1", secret, secret.split("_", 2)[2]]
    stored = _everything_stored(store, store_uri)
    assert secret.split("_")[1].encode() in stored and b"argon2id" in stored   # the scan reads the case book
    log = json.dumps(audit.read(book))
    for s in secrets:
        assert s.encode("utf-8") not in stored, s
        assert s not in printed, s
        assert s not in log, s


def test_verify_finds_a_changed_a_deleted_and_a_cut_entry(store, store_uri):
    book = store.book()
    for i in range(6):
        audit.record(book, user="ann", action="search", ids=[f"Trader:T{i}"], detail={"q": f"name {i}"})
    res = ok_json("audit", "--verify", "--store", store_uri)
    assert res["ok"] and res["entries"] == 6 and res["problems"] == []
    head = res["head"]
    assert head == f"6:{book.entries('audit')[-1]['hash']}"
    assert ok("audit", "--verify", "--store", store_uri).strip() == f"audit log intact: 6 entries, head {head}"
    ok("audit", "--verify", "--head", head, "--store", store_uri)

    # changed: the user of entry 3 rewritten (the stored hash kept)
    e3 = book.entries("audit")[2]
    _tamper(store, store_uri, 3, encode({**e3, "user": "mallory"}))
    code, out, _ = run_cli_streams("audit", "--verify", "--store", store_uri)
    assert code == 1 and "entry #3 was changed after it was written" in out
    # the tamperer recomputes the hash: the next entry's link shows it
    forged = {**e3, "user": "mallory"}
    forged["hash"] = audit.entry_hash(forged)
    _tamper(store, store_uri, 3, encode(forged))
    problems = audit.verify(book).problems
    assert problems == ["entry #4 does not follow entry #3 (its link to the previous entry is broken)"]
    _tamper(store, store_uri, 3, encode(e3))
    assert audit.verify(book).ok

    # deleted: entry 2 removed
    _tamper(store, store_uri, 2, None)
    code, out, _ = run_cli_streams("audit", "--verify", "--store", store_uri)
    assert code == 1 and "entries #2..#2 are missing (deleted)" in out
    res = json.loads(run_cli_streams("audit", "--verify", "--json", "--store", store_uri)[1])
    assert not res["ok"] and res["entries"] == 5


def test_a_log_cut_short_is_found_with_the_noted_head(store, store_uri):
    book = store.book()
    for i in range(5):
        audit.record(book, user="ann", action="view_entity", ids=[f"Trader:T{i}"])
    head = audit.verify(book).head
    _tamper(store, store_uri, 5, None)
    _tamper(store, store_uri, 4, None)
    shorter = ok_json("audit", "--verify", "--store", store_uri)
    assert shorter["ok"] and shorter["head"].startswith("3:")        # the chain alone cannot tell
    code, out, err = run_cli_streams("audit", "--verify", "--head", head, "--store", store_uri)
    assert code == 1 and "entry #5 (the head noted earlier) is gone: the log was cut short" in out, out + err
    assert "--head must be SEQ:HASH" in refused("audit", "--verify", "--head", "five", "--store", store_uri)


def test_ten_thousand_entries_verify(store, store_uri):
    book = store.book()
    for start in range(0, 10_000, 1000):
        audit.record_many(book, [audit.entry(user=f"u{i % 7}", action="search", ids=[f"Trader:T{i}"],
                                             detail={"q": f"query {i}"}) for i in range(start, start + 1000)])
    result = audit.verify(book)
    assert result.ok and result.entries == 10_000 and result.head_seq == 10_000
    assert ok("audit", "--verify", "--store", store_uri).startswith("audit log intact: 10,000 entries, head 10000:")


def test_an_unreadable_entry_is_one_problem(tmp_path):
    """An entry overwritten with something that is not JSON is named once, by its number: not
    also as a gap before the next entry, nor as a broken link after it."""
    from graphiff.stores.book_sqlite import SqliteBook

    path = tmp_path / "book.sqlite"
    with SqliteBook(path) as book:
        for i in range(5):
            audit.record(book, user="ann", action="search", ids=[f"Trader:T{i}"])
    with sqlite3.connect(path) as con:
        con.execute("UPDATE chain SET body = 'not json' WHERE name = 'audit' AND seq = 3")
    with SqliteBook(path) as book:
        got = audit.verify(book)
    assert got.problems == ["entry #3 is not readable (changed outside graphiff)"]
    assert (got.entries, got.head_seq) == (5, 5)

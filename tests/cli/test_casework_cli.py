"""The case-work commands as a user meets them (embedded store): help texts, one-line errors with
exit code 2 for bad input and unknown ids, alert filters, the decisions export, users added from
standard input, and the audit listing's filters."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from _clikit import run_cli, run_cli_streams

from graphiff.alerts import Alert, replace_alerts
from graphiff.ingest import load_paths
from graphiff.stores import open_store
from tests.casework._casekit import ok, ok_json, refused

ALERTS = [("circular_trade:aaa", "circular_trade", 0.9, "T1", "[/] trades with [bold]Bold[/bold] Co"),
          ("circular_trade:bbb", "circular_trade", 0.8, "T2", "a second cycle"),
          ("shell_intermediary:ccc", "shell_intermediary", 0.7, "T3", "Moo :cow: Ltd resold fast")]


@pytest.fixture
def db(tmp_path) -> str:
    """An embedded store with three traders and three alerts (no detect run: the case book knows none)."""
    data = tmp_path / "in"
    data.mkdir()
    pd.DataFrame([{"trader_id": t, "name": n, "country": "KE"} for t, n in
                  (("T1", "[/]"), ("T2", "[bold]Bold[/bold] Co"), ("T3", "Moo :cow: Ltd"))]).to_csv(
        data / "traders.csv", index=False)
    path = tmp_path / "g.duckdb"
    with open_store(str(path)) as st:
        load_paths(st, [data], quarantine_dir=tmp_path / "q")
        replace_alerts(st, [Alert(id=i, pattern=p, score=s, entities=[{"label": "Trader", "id": t}], explanation=x,
                                  evidence={"n": 1}) for i, p, s, t, x in ALERTS],
                       run_id="R1", loaded_at="2024-06-01T00:00:00Z")
    return str(path)


@pytest.mark.parametrize("args, words", [
    (["alerts"], ["status", "assignee", "no_longer_detected", "show", "set", "export", "--updated"]),
    (["alerts", "set"], ["in_review", "false_positive", "detection only", "--note", "--assignee", "--user"]),
    (["alerts", "export"], ["--decisions", "dismissed", "learned targeting"]),
    (["case"], ["create", "add", "remove", "note", "close", "reopen", "export", "list", "show"]),
    (["case", "create"], ["--purpose", "--legal-basis", "--marking", "TLP:AMBER"]),
    (["case", "export"], ["--package", "--recipient", "anx", "pseudonymise", "purpose"]),
    (["case", "close"], ["supervisor"]),
    (["users"], ["add", "role", "passwd", "token", "tokens", "revoke", "Argon2id"]),
    (["users", "add"], ["--password-stdin", "analyst", "supervisor", "admin"]),
    (["users", "token"], ["not", "again", "Bearer"]),
    (["audit"], ["--verify", "--head", "SEQ:HASH", "Exit code 1", "not a usage error", "--since", "--action"]),
])
def test_help_texts_explain(args, words):
    code, out = run_cli(*args, "--help")
    assert code == 0, out
    text = " ".join(out.replace("│", " ").split())
    for w in words:
        assert w in text, (args, w)


def test_every_case_work_command_has_a_help_text():
    from typer.main import get_command

    from graphiff.cli import app

    root = get_command(app)
    for name in ("alerts", "case", "users", "audit"):
        cmd = root.commands[name]  # type: ignore[attr-defined]
        assert cmd.help, name
        for sub, c in getattr(cmd, "commands", {}).items():
            assert c.help and len(c.help) > 20, (name, sub)
            for p in c.params:
                assert p.name in ("help",) or getattr(p, "help", None), (name, sub, p.name)


def test_bad_status_and_unknown_ids_are_one_line_errors(db):
    assert "unknown status 'bogus'; choose one of: new, in_review" in refused("alerts", "--status", "bogus",
                                                                             "--store", db)
    assert "unknown status 'closed'" in refused("alerts", "set", "circular_trade:aaa", "--status", "closed",
                                                "--store", db)
    assert "set by detection only" in refused("alerts", "set", "circular_trade:aaa", "--status",
                                              "no_longer_detected", "--store", db)
    assert "nothing to change" in refused("alerts", "set", "circular_trade:aaa", "--store", db)
    assert "the note is empty" in refused("alerts", "set", "circular_trade:aaa", "--note", "  ", "--store", db)
    assert "no alert 'circular_trade:zzz'" in refused("alerts", "set", "circular_trade:zzz", "--status", "dismissed",
                                                      "--store", db)
    assert "no alert 'nope'" in refused("alerts", "show", "nope", "--store", db)
    assert "no case 'C-0009'" in refused("case", "show", "C-0009", "--store", db)
    assert "no case 'C-0009'" in refused("case", "add", "C-0009", "--entity", "Trader:T1", "--store", db)
    assert "no case 'Op Lake'" in refused("case", "close", "Op Lake", "--store", db)
    assert "choose open or closed" in refused("case", "list", "--status", "shut", "--store", db)
    assert "needs a purpose" in refused("case", "create", "--name", "x", "--purpose", " ", "--legal-basis", "y",
                                        "--marking", "z", "--store", db)
    assert "unknown role 'boss'" in refused("users", "add", "ann", "--role", "boss", "--store", db)
    assert "no user 'ann'" in refused("users", "passwd", "ann", "--store", db)
    assert "no token 'deadbeef'" in refused("users", "revoke", "deadbeef", "--store", db)
    assert "no embedded store" in refused("case", "list", "--store", str(Path(db).with_name("missing.duckdb")))
    assert not Path(db).with_name("missing.duckdb").exists()
    with pytest.raises(AssertionError):          # a known alert triaged is no error
        refused("alerts", "set", "circular_trade:aaa", "--status", "in_review", "--store", db)


def test_alerts_list_filters(db):
    everything = ok_json("alerts", "--store", db)
    assert [a["id"] for a in everything["alerts"]] == [a[0] for a in ALERTS]      # highest score first
    assert {a["status"] for a in everything["alerts"]} == {"new"}
    ok("alerts", "set", "circular_trade:aaa", "--status", "dismissed", "--note", "known loop", "--store", db)
    ok("alerts", "set", "circular_trade:bbb", "--status", "in_review", "--assignee", "bob", "--store", db)

    def ids(*args: str) -> list[str]:
        return [a["id"] for a in ok_json("alerts", "--store", db, *args)["alerts"]]
    assert ids("--status", "dismissed") == ["circular_trade:aaa"]
    assert ids("--status", "new", "--status", "in_review") == ["circular_trade:bbb", "shell_intermediary:ccc"]
    assert ids("--pattern", "shell_intermediary") == ["shell_intermediary:ccc"]
    assert ids("--pattern", "circular_trade", "--status", "new") == []
    assert ids("--assignee", "bob") == ["circular_trade:bbb"]
    assert ids("--updated") == []
    page = ok_json("alerts", "--store", db, "--limit", "1")
    assert page["total"] == 3 and len(page["alerts"]) == 1

    table = ok("alerts", "--store", db)
    assert "[/] trades with [bold]Bold[/bold] Co" in table          # names print as written, not as markup
    assert "dismissed" in table and "in_review" in table and "bob" in table
    assert "2 more" in ok("alerts", "--store", db, "--limit", "1")
    shown = ok("alerts", "show", "circular_trade:aaa", "--store", db)
    assert "known loop" in shown and "new -> dismissed" in shown and "Trader:T1" in shown
    assert "no alert of the 3 matches" in ok("alerts", "--store", db, "--pattern", "nothing")


def test_alerts_export_decisions(db, tmp_path):
    ok("alerts", "set", "circular_trade:aaa", "--status", "dismissed", "--note", "known loop", "--store", db,
       "--user", "ann")
    ok("alerts", "set", "circular_trade:bbb", "--status", "escalated", "--store", db, "--user", "ann")
    ok("alerts", "set", "shell_intermediary:ccc", "--status", "false_positive", "--store", db, "--user", "bob")
    out = tmp_path / "d" / "decisions.json"
    assert "wrote 2 decision(s)" in ok("alerts", "export", "--decisions", "--out", str(out), "--store", db)
    got = json.loads(out.read_text(encoding="utf-8"))
    assert [(d["alert"]["id"], d["decision"], d["by"]) for d in got] == [
        ("circular_trade:aaa", "dismissed", "ann"), ("shell_intermediary:ccc", "false_positive", "bob")]
    assert got[0]["notes"][0]["text"] == "known loop" and got[0]["at"]
    everything = tmp_path / "all.json"
    res = ok_json("alerts", "export", "--out", str(everything), "--store", db)
    assert res == {"out": str(everything), "what": "alerts", "written": 3}
    statuses = {a["id"]: a["status"] for a in json.loads(everything.read_text(encoding="utf-8"))}
    assert statuses == {"circular_trade:aaa": "dismissed", "circular_trade:bbb": "escalated",
                        "shell_intermediary:ccc": "false_positive"}
    log = ok_json("audit", "--action", "export", "--store", db)["entries"]
    assert [(e["detail"], e["ids"]) for e in log] == [
        ({"what": "decisions"}, ["circular_trade:aaa", "shell_intermediary:ccc"]),
        ({"what": "alerts"}, [a[0] for a in ALERTS])]


def test_users_add_from_stdin(db, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-pw\nsecond line ignored\n"))
    code, out, err = run_cli_streams("users", "add", "ann", "--role", "supervisor", "--password-stdin", "--store", db)
    assert code == 0 and "added ann (supervisor)" in out and "a-long-enough-pw" not in out + err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert "at least 10 characters" in refused("users", "add", "bob", "--role", "analyst", "--password-stdin",
                                               "--store", db)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert "no password on standard input" in refused("users", "add", "bob", "--role", "analyst",
                                                      "--password-stdin", "--store", db)
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-pw\n"))
    assert "--password-stdin" in refused("users", "add", "bob", "--role", "analyst", "--store", db)  # no terminal
    assert "--password-stdin" in refused("users", "passwd", "ann", "--store", db)
    monkeypatch.setattr("sys.stdin", io.StringIO("pw\n"))
    assert "bad user name" in refused("users", "add", "x y", "--role", "analyst", "--password-stdin", "--store", db)
    assert [(u["id"], u["role"]) for u in ok_json("users", "list", "--store", db)] == [("ann", "supervisor")]
    from graphiff.casework.users import authenticate
    from graphiff.stores import open_book

    with open_book(db) as book:
        assert authenticate(book, "ann", "a-long-enough-pw").role == "supervisor"


def test_audit_listing_filters(db):
    ok("alerts", "set", "circular_trade:aaa", "--status", "in_review", "--store", db, "--user", "ann")
    ok("case", "create", "--name", "n", "--purpose", "p", "--legal-basis", "l", "--marking", "m", "--store", db,
       "--user", "bob")
    ok("case", "show", "C-0001", "--store", db, "--user", "ann")
    ok("alerts", "show", "circular_trade:aaa", "--store", db, "--user", "bob")

    def listed(*args: str) -> list[tuple[int, str, str]]:
        return [(e["seq"], e["user"], e["action"]) for e in ok_json("audit", "--store", db, *args)["entries"]]
    assert listed() == [(1, "ann", "status"), (2, "bob", "case_create"), (3, "ann", "case_view"),
                        (4, "bob", "view_alert")]
    assert listed("--user", "ann") == [(1, "ann", "status"), (3, "ann", "case_view")]
    assert listed("--action", "view_alert") == [(4, "bob", "view_alert")]
    assert listed("--case", "C-0001") == [(2, "bob", "case_create"), (3, "ann", "case_view")]
    assert listed("--limit", "2") == [(3, "ann", "case_view"), (4, "bob", "view_alert")]     # the newest, oldest first
    assert listed("--since", "2000-01-01") == listed()
    assert listed("--since", "2999-01-01") == []
    assert listed("--since", "2999-01-01T10:00") == []
    assert ok_json("audit", "--store", db, "--limit", "1")["total"] == 4

    table = ok("audit", "--store", db)
    assert "case_create" in table and "C-0001" in table and "1: circular_trade:aaa" in table
    assert "no audit entries match" in ok("audit", "--store", db, "--user", "nobody")
    assert "unknown audit action 'looked'" in refused("audit", "--action", "looked", "--store", db)
    assert "--head goes with --verify" in refused("audit", "--head", "1:ab", "--store", db)
    assert "leave out --user" in refused("audit", "--verify", "--user", "ann", "--store", db)
    assert "--since 'yesterday' is neither a date" in refused("audit", "--since", "yesterday", "--store", db)
    assert "--since '2025-02-30' is neither a date" in refused("audit", "--since", "2025-02-30", "--store", db)


def _doc_commands(text: str) -> list[str]:
    """Every `graphiff ...` command line of a Markdown text: code-block lines (continuations joined) and
    inline code spans."""
    import re

    found = []
    for block in re.findall(r"```\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("#")[0].strip()
            if line.startswith("graphiff ") or "| graphiff " in line:
                found.append(line[line.index("graphiff "):])
    found += [s for s in re.findall(r"`([^`]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
              if s.startswith("graphiff ")]
    return found


def test_the_case_work_docs_name_only_real_commands_and_options():
    """docs/case-work.md and the README's case-work table: every command named exists, with every option
    given to it."""
    import re

    from typer.main import get_command

    from graphiff.cli import app

    root = get_command(app)
    here = Path(__file__).resolve().parents[2]
    readme = (here / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Case work"):readme.index("## Neo4j")]
    lines = _doc_commands((here / "docs" / "case-work.md").read_text(encoding="utf-8") + section)
    assert len(lines) > 40
    checked = set()
    for line in lines:
        words = line.replace("\\|", "|").split()[1:]
        cmd: object = root
        path = []
        while words and words[0] in getattr(cmd, "commands", {}):
            path.append(words[0])
            cmd = cmd.commands[words.pop(0)]  # type: ignore[attr-defined]
        if path and path[0] not in ("alerts", "case", "users", "audit", "detect", "serve"):
            continue
        assert path, line
        known = {o for p in cmd.params for o in getattr(p, "opts", [])}  # type: ignore[attr-defined]
        for opt in re.findall(r"(?<![\w-])--[a-z][a-z-]*", " ".join(words)):
            assert opt in known, f"{line}: {' '.join(path)} has no {opt}"
            checked.add((" ".join(path), opt))
    assert ("audit", "--head") in checked and ("case export", "--recipient") in checked


def test_serve_refuses_a_bad_certificate_or_key_in_one_line(db, tmp_path):
    """Files that are no PEM certificate and key (or swapped, or an encrypted key) are one line
    and exit code 2 before anything is served, not a traceback after the https address."""
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n", encoding="utf-8")
    err = refused("serve", "--store", db, "--port", "1", "--tls-cert", str(junk), "--tls-key", str(junk))
    assert "not a PEM certificate and its unencrypted private key" in err

"""Case work commands (docs/case-work.md): alerts (triage), case, users, audit.

Thin commands over :mod:`graphiff.casework` and :mod:`graphiff.case_export`. Every change, and
every look at alerts and cases, is written to the audit log as the acting user (``--user``, else
``$GRAPHIFF_USER``, else the login name: :func:`graphiff.cli.common.acting_user`). Commands that
touch only the case book open it with :func:`graphiff.stores.open_book`, which leaves an
embedded store's DuckDB file alone (they work while another process writes the store); those
that need the alerts or the graph open the store.
"""
from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Optional

import typer
from rich.table import Table

from graphiff.cli.app import app
from graphiff.cli.common import (
    DatabaseOpt,
    JsonOpt,
    StoreOpt,
    UnresolvedOpt,
    acting_user,
    console,
    esc,
    print_json,
    store_from,
    user_name,
)
from graphiff.errors import GraphiffError

if TYPE_CHECKING:
    from graphiff.alerts import Alert
    from graphiff.stores import Book, Store

ActorOpt = typer.Option(None, "--user", envvar="GRAPHIFF_USER",
                        help="Who acts (written to the audit log and to notes; default $GRAPHIFF_USER, else your "
                             "login name).")

alerts_app = typer.Typer(name="alerts", no_args_is_help=False, add_completion=False,
                         help="Alert triage that survives detection: list the store's alerts with their status, "
                              "assignee, notes and updated flag (also the ones no longer detected); show one, set "
                              "its status, export the analysts' decisions.")
case_app = typer.Typer(name="case", no_args_is_help=True, add_completion=False,
                       help="Cases: saved investigations with a name, purpose, legal basis and handling marking, "
                            "their entities, alerts and notes; export one as a link chart or a sharing package.")
users_app = typer.Typer(name="users", no_args_is_help=True, add_completion=False,
                        help="Users, roles (analyst, supervisor, admin) and API tokens of the workbench. Passwords "
                             "are kept as Argon2id hashes, tokens as SHA-256: neither is ever shown again or "
                             "logged.")
app.add_typer(alerts_app, name="alerts")
app.add_typer(case_app, name="case")
app.add_typer(users_app, name="users")


@contextmanager
def _book(store: str | None, database: str | None) -> Iterator[Book]:
    """The case book of the store, without opening the store itself."""
    from graphiff.stores import open_book

    book = open_book(store, database=database)
    try:
        yield book
    finally:
        book.close()


def _record(book: Book, who: str, action: str, ids: list[str] | tuple[str, ...] = (), *,
            case: dict[str, Any] | None = None, detail: dict[str, Any] | None = None) -> None:
    """One audit entry; ``case`` fills its case and purpose."""
    from graphiff.casework import audit

    audit.record(book, user=who, action=action, ids=ids, detail=detail,
                 case=str(case["id"]) if case else None, purpose=str(case.get("purpose")) if case else None)


def _write_json(data: Any, out: Path) -> None:
    """``data`` as an indented JSON file (folders made as needed); one clear error if it cannot be written."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    except OSError as exc:
        raise GraphiffError(f"cannot write {out}: {exc.strerror or exc}") from None


def _day(at: Any) -> str:
    return str(at or "")[:10]


# ================================================================================== alerts
def _status_check(statuses: list[str]) -> None:
    from graphiff.casework.triage import STATUSES

    bad = [s for s in statuses if s not in STATUSES]
    if bad:
        raise GraphiffError(f"unknown status {bad[0]!r}; choose one of: {', '.join(STATUSES)}")


def _status_cell(item: dict[str, Any]) -> str:
    if item["status"] == "no_longer_detected":
        return f"no_longer_detected since {_day(item.get('no_longer_detected_at'))}"
    return str(item["status"])


def _find_alert(st: Store, alert_id: str) -> Alert | None:
    from graphiff.alerts import stored_alerts

    return next((a for a in stored_alerts(st) if a.id == alert_id), None)


@alerts_app.callback(invoke_without_command=True)
def alerts_cmd(
    ctx: typer.Context,
    status: list[str] = typer.Option([], "--status", help="Only alerts with this status (repeatable): new, "
                                     "in_review, escalated, dismissed, false_positive, no_longer_detected."),
    pattern: list[str] = typer.Option([], "--pattern", help="Only alerts of this pattern (repeatable), e.g. "
                                      "circular_trade."),
    assignee: Optional[str] = typer.Option(None, "--assignee", help="Only alerts assigned to this user."),
    updated: bool = typer.Option(False, "--updated", help="Only alerts with new evidence since an analyst last "
                                                          "acted on them."),
    limit: int = typer.Option(50, "--limit", "-n", min=1, help="Show at most this many (highest score first)."),
    user: Optional[str] = ActorOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """The store's alerts with their triage, highest score first: status (no_longer_detected with the date the
    last run of its pattern missed it), assignee, updated flag (new evidence since an analyst last acted), notes
    and explanation. Alerts no longer detected are listed too: nothing an analyst wrote is lost. The listing is
    written to the audit log."""
    if ctx.invoked_subcommand is not None:
        return
    from graphiff.alerts import stored_alerts
    from graphiff.casework.triage import triaged

    _status_check(status)
    who = acting_user(user)
    with store_from(store, database) as st:
        book = st.book()
        rows = triaged(book, stored_alerts(st))
        known = len(rows)
        rows = [r for r in rows if (not status or r["status"] in status) and (not pattern or r["pattern"] in pattern)
                and (assignee is None or r.get("assignee") == assignee) and (not updated or r["updated"])]
        shown = rows[:limit]
        filters = {k: v for k, v in (("status", status), ("pattern", pattern), ("assignee", assignee),
                                      ("updated", updated)) if v}
        _record(book, who, "list_alerts", [str(r["id"]) for r in shown], detail=filters or None)
    if as_json:
        print_json({"total": len(rows), "alerts": shown})
        return
    if not shown:
        console.print("no alerts in the store (run `graphiff detect` first)" if not known
                      else f"no alert of the {known:,} matches", highlight=False, markup=False)
        return
    from graphiff.charts.base import truncate

    t = Table(title=f"{len(shown):,} of {len(rows):,} alert(s)" if len(shown) < len(rows) else
              f"{len(rows):,} alert(s)")
    for col, just in (("id", "left"), ("pattern", "left"), ("score", "right"), ("status", "left"),
                      ("assignee", "left"), ("updated", "left"), ("notes", "right"), ("explanation", "left")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in shown:
        t.add_row(esc(r["id"]), esc(r["pattern"]), f"{float(r.get('score') or 0):.2f}", esc(_status_cell(r)),
                  esc(r.get("assignee")), "updated" if r["updated"] else "", str(len(r["notes"])),
                  esc(truncate(str(r.get("explanation") or ""), 80)))
    console.print(t)
    if len(shown) < len(rows):
        console.print(f"{len(rows) - len(shown):,} more: raise --limit or narrow with --status / --pattern",
                      highlight=False)


@alerts_app.command("show")
def alerts_show_cmd(
    alert_id: str = typer.Argument(..., metavar="ID", help="The alert's id (from `graphiff alerts`)."),
    user: Optional[str] = ActorOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """One alert: what it says, its entities, its triage (status, assignee, when first and last found, updated),
    its notes and the history of its status. The view is written to the audit log."""
    from graphiff.casework.triage import triaged_one

    who = acting_user(user)
    with store_from(store, database) as st:
        book = st.book()
        item = triaged_one(book, alert_id, _find_alert(st, alert_id))
        _record(book, who, "view_alert", [alert_id])
    if as_json:
        print_json(item)
        return
    console.print(f"[bold]{esc(item['id'])}[/] {esc(item['pattern'])}, score {float(item.get('score') or 0):.2f}: "
                  f"{esc(_status_cell(item))}" + (" [yellow](updated: new evidence)[/]" if item["updated"] else ""),
                  highlight=False)
    console.print(esc(item.get("explanation")), highlight=False)
    console.print(f"assignee: {esc(item.get('assignee') or '-')}; first found {esc(item.get('first_seen') or '-')}, "
                  f"last found {esc(item.get('last_seen') or '-')}", highlight=False)
    ents = ", ".join(f"{e.get('label')}:{e.get('id')}" for e in item.get("entities") or [])
    console.print(f"entities: {esc(ents or '-')}", highlight=False)
    for n in item["notes"]:
        console.print(f"note {esc(n.get('at'))} {esc(n.get('user'))}: {esc(n.get('text'))}", highlight=False)
    for h in item["history"]:
        console.print(f"status {esc(h.get('at'))} {esc(h.get('user'))}: {esc(h.get('previous'))} -> "
                      f"{esc(h.get('status'))}", highlight=False)


@alerts_app.command("set")
def alerts_set_cmd(
    alert_id: str = typer.Argument(..., metavar="ID", help="The alert's id (from `graphiff alerts`)."),
    status: Optional[str] = typer.Option(None, "--status", help="new, in_review, escalated, dismissed or "
                                         "false_positive (no_longer_detected is set by detection only)."),
    note: Optional[str] = typer.Option(None, "--note", help="A note to add (kept with your name and the time; "
                                                            "notes are never edited)."),
    assignee: Optional[str] = typer.Option(None, "--assignee", help="Who works on it ('' to unassign)."),
    user: Optional[str] = ActorOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Triage one alert: set its status and/or assignee and/or add a note. The alert must be in the store or
    remembered by the case book (no longer detected). Written to the audit log."""
    from graphiff.casework.triage import set_status

    who = acting_user(user)
    with store_from(store, database) as st:
        book = st.book()
        known = _find_alert(st, alert_id) is not None or book.get("alert", alert_id) is not None
        doc = set_status(book, alert_id, user=who, status=status, note=note, assignee=assignee, known=known)
        _record(book, who, "status", [alert_id],
                detail={"status": status, "note": note is not None, "assignee": assignee})
    if as_json:
        print_json(doc)
        return
    said = [f"status {doc.get('status')}"]
    if assignee is not None:
        said.append(f"assigned to {doc.get('assignee')}" if doc.get("assignee") else "unassigned")
    if note is not None:
        said.append(f"note added ({len(doc.get('notes') or [])} in all)")
    console.print(esc(f"{alert_id}: " + ", ".join(said)), highlight=False)


@alerts_app.command("export")
def alerts_export_cmd(
    out: Path = typer.Option(..., "--out", "-o", help="The JSON file to write."),
    decisions: bool = typer.Option(False, "--decisions", help="Only the analysts' decisions that an alert is not "
                                   "worth pursuing (dismissed, false_positive), each with the alert as last found, "
                                   "who decided, when, and the notes: what learned targeting learns from."),
    user: Optional[str] = ActorOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Write the alerts with their triage (status, assignee, notes, history), including those no longer detected,
    as a JSON array; with --decisions only the dismissed and false-positive decisions. Written to the audit
    log."""
    from graphiff.casework import triage

    who = acting_user(user)
    if decisions:
        with _book(store, database) as book:
            data = triage.decisions(book)
            _write_json(data, out)
            _record(book, who, "export", [str(d["alert"].get("id")) for d in data], detail={"what": "decisions"})
    else:
        from graphiff.alerts import stored_alerts

        with store_from(store, database) as st:
            book = st.book()
            data = triage.triaged(book, stored_alerts(st))
            _write_json(data, out)
            _record(book, who, "export", [str(d["id"]) for d in data], detail={"what": "alerts"})
    what = "decision(s)" if decisions else "alert(s) with their triage"
    if as_json:
        print_json({"out": str(out), "what": "decisions" if decisions else "alerts", "written": len(data)})
        return
    console.print(f"wrote {len(data):,} {what} to {esc(out)}", highlight=False)


# ==================================================================================== case
def _case_table(cases: list[dict[str, Any]]) -> Table:
    t = Table(title=f"{len(cases):,} case(s)")
    for col in ("id", "status", "name", "purpose", "marking", "entities", "alerts", "notes", "opened"):
        t.add_column(col, justify="right" if col in ("entities", "alerts", "notes") else "left")
    for c in cases:
        t.add_row(esc(c["id"]), esc(c.get("status")), esc(c.get("name")), esc(c.get("purpose")),
                  esc(c.get("marking")), str(c["n_entities"]), str(c["n_alerts"]), str(c["n_notes"]),
                  esc(f"{_day(c.get('created_at'))} {c.get('created_by') or ''}"))
    return t


def _print_case(case: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(case)
        return
    console.print(f"[bold]{esc(case['id'])}[/] {esc(case.get('name'))} ({esc(case.get('status'))})", highlight=False)
    for k in ("purpose", "legal_basis", "marking"):
        console.print(f"{k.replace('_', ' ')}: {esc(case.get(k))}", highlight=False)
    console.print(f"opened {esc(case.get('created_at'))} by {esc(case.get('created_by'))}"
                  + (f"; closed {esc(case.get('closed_at'))} by {esc(case.get('closed_by'))}"
                     if case.get("status") == "closed" else ""), highlight=False)
    for k in ("entities", "alerts"):
        items = case.get(k) or []
        console.print(f"{k} ({len(items)}): {esc(', '.join(map(str, items)) or '-')}", highlight=False)
    for n in case.get("notes") or []:
        console.print(f"note {esc(n.get('at'))} {esc(n.get('user'))}: {esc(n.get('text'))}", highlight=False)
    for h in case.get("history") or []:
        console.print(f"{esc(h.get('at'))} {esc(h.get('user'))}: {esc(h.get('action'))}", highlight=False)


def _case_said(case: dict[str, Any], what: str, as_json: bool) -> None:
    if as_json:
        print_json(case)
        return
    console.print(f"{esc(case['id'])} ({esc(case.get('status'))}): {what}; {len(case.get('entities') or [])} "
                  f"entities, {len(case.get('alerts') or [])} alerts, {len(case.get('notes') or [])} notes",
                  highlight=False)


EntityOpt = typer.Option([], "--entity", "-e", help="An entity as Label:key, e.g. Trader:T0042 (repeatable).")
AlertOpt = typer.Option([], "--alert", "-a", help="An alert id (repeatable).")
CaseIdArg = typer.Argument(..., metavar="ID", help="The case's id, e.g. C-0001 (`graphiff case list`).")


@case_app.command("list")
def case_list_cmd(
    status: Optional[str] = typer.Option(None, "--status", help="Only open or closed cases."),
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """The cases, newest first: id, status, name, purpose, marking, how many entities, alerts and notes."""
    from graphiff.casework.cases import list_cases

    if status is not None and status not in ("open", "closed"):
        raise GraphiffError(f"unknown case status {status!r}; choose open or closed")
    with _book(store, database) as book:
        cases = list_cases(book, status=status)
    if as_json:
        print_json(cases)
        return
    if not cases:
        console.print("no cases" + (f" {status}" if status else "") + " (open one with `graphiff case create`)",
                      highlight=False, markup=False)
        return
    console.print(_case_table(cases))


@case_app.command("show")
def case_show_cmd(
    case_id: str = CaseIdArg,
    user: Optional[str] = ActorOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """One case: its texts, entities, alerts, notes and history. The view is written to the audit log."""
    from graphiff.casework.cases import get_case

    who = acting_user(user)
    with _book(store, database) as book:
        case = get_case(book, case_id)
        _record(book, who, "case_view", [case_id], case=case)
    _print_case(case, as_json)


@case_app.command("create")
def case_create_cmd(
    name: str = typer.Option(..., "--name", help="What the case is called."),
    purpose: str = typer.Option(..., "--purpose", help="Why the data is used (goes into every export and package)."),
    legal_basis: str = typer.Option(..., "--legal-basis", help="The law or mandate that allows it."),
    marking: str = typer.Option(..., "--marking", help="Handling marking, e.g. TLP:AMBER."),
    entity: list[str] = EntityOpt,
    alert: list[str] = AlertOpt,
    user: Optional[str] = ActorOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Open a new case (ids C-0001, C-0002, ...). Every text is required: a case states why its data is used."""
    from graphiff.casework.cases import create_case

    who = acting_user(user)
    with _book(store, database) as book:
        case = create_case(book, name=name, purpose=purpose, legal_basis=legal_basis, marking=marking, user=who,
                           entities=entity, alerts=alert)
        _record(book, who, "case_create", [case["id"], *case["entities"], *case["alerts"]], case=case)
    _case_said(case, "opened", as_json)


@case_app.command("add")
def case_add_cmd(
    case_id: str = CaseIdArg,
    entity: list[str] = EntityOpt,
    alert: list[str] = AlertOpt,
    user: Optional[str] = ActorOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Add entities and alerts to an open case (ones already in it stay once)."""
    from graphiff.casework.cases import add_to_case

    who = acting_user(user)
    with _book(store, database) as book:
        case = add_to_case(book, case_id, user=who, entities=entity, alerts=alert)
        _record(book, who, "case_change", [case_id, *entity, *alert], case=case,
                detail={"added": {"entities": len(entity), "alerts": len(alert)}})
    _case_said(case, "added", as_json)


@case_app.command("remove")
def case_remove_cmd(
    case_id: str = CaseIdArg,
    entity: list[str] = EntityOpt,
    alert: list[str] = AlertOpt,
    user: Optional[str] = ActorOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Take entities and alerts out of an open case."""
    from graphiff.casework.cases import remove_from_case

    who = acting_user(user)
    with _book(store, database) as book:
        case = remove_from_case(book, case_id, user=who, entities=entity, alerts=alert)
        _record(book, who, "case_change", [case_id, *entity, *alert], case=case,
                detail={"removed": {"entities": len(entity), "alerts": len(alert)}})
    _case_said(case, "removed", as_json)


@case_app.command("note")
def case_note_cmd(
    case_id: str = CaseIdArg,
    text: str = typer.Argument(..., metavar="TEXT", help="The note (kept with your name and the time)."),
    user: Optional[str] = ActorOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Add a note to an open case."""
    from graphiff.casework.cases import add_case_note

    who = acting_user(user)
    with _book(store, database) as book:
        case = add_case_note(book, case_id, user=who, text=text)
        _record(book, who, "case_change", [case_id], case=case, detail={"note": True})
    _case_said(case, "note added", as_json)


@case_app.command("close")
def case_close_cmd(
    case_id: str = CaseIdArg,
    user: Optional[str] = ActorOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Close a case: read-only until reopened. In the workbench this needs the supervisor role; on the command
    line you act as one, and who closed it is recorded."""
    from graphiff.casework.cases import close_case

    who = acting_user(user)
    with _book(store, database) as book:
        case = close_case(book, case_id, user=who)
        _record(book, who, "case_close", [case_id], case=case)
    _case_said(case, f"closed by {esc(who)}", as_json)


@case_app.command("reopen")
def case_reopen_cmd(
    case_id: str = CaseIdArg,
    user: Optional[str] = ActorOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Reopen a closed case. In the workbench this needs the supervisor role; on the command line you act as one,
    and who reopened it is recorded."""
    from graphiff.casework.cases import reopen_case

    who = acting_user(user)
    with _book(store, database) as book:
        case = reopen_case(book, case_id, user=who)
        _record(book, who, "case_reopen", [case_id], case=case)
    _case_said(case, f"reopened by {esc(who)}", as_json)


@case_app.command("export")
def case_export_cmd(
    case_id: str = CaseIdArg,
    out: Path = typer.Option(..., "--out", "-o", help="File to write."),
    fmt: Optional[str] = typer.Option(None, "--format", "-f", help="A link chart: html, anx, graphml, gexf, cyjs, "
                                                                   "png or svg (default: from the --out suffix)."),
    package: bool = typer.Option(False, "--package", help="A sharing package instead of a chart (needs "
                                                          "--recipient)."),
    recipient: Optional[str] = typer.Option(None, "--recipient", help="With --package: who the package is for "
                                                                      "(in the manifest and the audit log)."),
    redact: str = typer.Option("pseudonymise", "--redact",
                               help="With --package, personal identifiers: pseudonymise (keyed hash, needs the "
                                    "team key) | remove | none."),
    key_file: Optional[Path] = typer.Option(None, "--key-file",
                                            help="With --package: file holding the team key (else "
                                                 "$GRAPHIFF_PACKAGE_KEY)."),
    producer: Optional[str] = typer.Option(None, "--producer", envvar="GRAPHIFF_PRODUCER",
                                           help="With --package: who sends it (default: $GRAPHIFF_PRODUCER, else "
                                                "your user name)."),
    user: Optional[str] = ActorOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    unresolved: bool = UnresolvedOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Export a case: its entities and the entities and evidence of its alerts as a link chart in any format, or
    with --package as a sharing package whose manifest carries the case's purpose, legal basis, marking and id
    and the recipient. In the workbench a package needs the supervisor role; on the command line you act as one.
    Written to the audit log (the package's entry names the recipient)."""
    from graphiff.alerts import stored_alerts
    from graphiff.case_export import export_case_chart, export_case_package
    from graphiff.casework.cases import get_case
    from graphiff.graph.tables import Tables

    who = acting_user(user)
    key = None
    name = ""
    if package:
        from graphiff.cli.package import team_key

        if fmt is not None:
            raise GraphiffError("--format is for a link chart; a package (--package) is a zip")
        if not str(recipient or "").strip():
            raise GraphiffError("--package needs --recipient: who the package is for")
        key = team_key(redact, key_file)
    else:
        from graphiff.cli.chart import chart_format

        if recipient is not None or key_file is not None:
            raise GraphiffError("--recipient and --key-file go with --package")
        name = chart_format(fmt, out)
    with store_from(store, database) as st:
        book = st.book()
        case = get_case(book, case_id)
        tables = Tables(st, resolved=not unresolved)
        ids = [case_id, *case.get("entities", []), *case.get("alerts", [])]
        if package:
            manifest = export_case_package(tables, case, stored_alerts(st), out, producer=producer or user_name(),
                                           recipient=str(recipient), redact=redact,  # type: ignore[arg-type]
                                           key=key)
            _record(book, who, "package", ids, case=case, detail={"recipient": recipient, "redaction": redact})
        else:
            written = export_case_chart(tables, case, stored_alerts(st), name, out)
            _record(book, who, "export", ids, case=case, detail={"format": name})
    if package:
        if as_json:
            print_json({"package": str(out), **manifest})
            return
        c = manifest["counts"]
        console.print(f"package {esc(out)} of case {esc(case_id)} for {esc(recipient)} ({esc(manifest['marking'])}; "
                      f"purpose: {esc(manifest['purpose'])}), redaction: {esc(manifest['redaction']['policy'])}: "
                      f"{sum(c['nodes'].values()):,} nodes, {c['alerts']} alert(s)", highlight=False)
        return
    if as_json:
        print_json({"out": str(written), "format": name, "case": case_id})
        return
    console.print(f"wrote case {esc(case_id)} as a {name} chart to {esc(written)}", highlight=False)


# =================================================================================== users
def _password(name: str, from_stdin: bool) -> str:
    """The new password: the first line of standard input, or asked for twice with hidden input."""
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise GraphiffError("no password on standard input (--password-stdin reads its first line)")
        return line
    if not sys.stdin.isatty():
        raise GraphiffError("no terminal to ask the password on: give it on standard input with --password-stdin")
    return str(typer.prompt(f"password for {name}", hide_input=True, confirmation_prompt=True))


PasswordStdinOpt = typer.Option(False, "--password-stdin", help="Read the password from the first line of "
                                "standard input (for scripts) instead of asking twice.")
UserNameArg = typer.Argument(..., metavar="NAME", help="The user's name (letters, digits and . _ @ -).")


@users_app.command("add")
def users_add_cmd(
    name: str = UserNameArg,
    role: str = typer.Option(..., "--role", help="analyst (search, view, triage, cases, charts), supervisor (also "
                                                 "close cases, packages, the audit log) or admin (also users)."),
    password_stdin: bool = PasswordStdinOpt,
    user: Optional[str] = ActorOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
) -> None:
    """Add a user of the workbench. Asks for the password twice (hidden; at least 10 characters) unless
    --password-stdin. As soon as one user exists, the workbench needs a login."""
    from graphiff.casework.users import ROLES, add_user

    if role not in ROLES:  # before asking for a password
        raise GraphiffError(f"unknown role {role!r}; choose one of: {', '.join(ROLES)}")
    who = acting_user(user)
    with _book(store, database) as book:
        if book.get("user", name) is not None:  # before asking for a password
            raise GraphiffError(f"user {name!r} exists already (see `graphiff users list`)")
        add_user(book, name, role, _password(name, password_stdin), by=who)
        _record(book, who, "user_change", [name], detail={"change": "added", "role": role})
    console.print(f"added {esc(name)} ({role})", highlight=False)


@users_app.command("list")
def users_list_cmd(
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """The users: name, role, when and by whom added, last login, lock-out."""
    from graphiff.casework.users import list_users

    with _book(store, database) as book:
        users = list_users(book)
    if as_json:
        print_json(users)
        return
    if not users:
        console.print("no users: a workbench on 127.0.0.1 runs with one local user and no login (add one with "
                      "`graphiff users add`)", highlight=False, markup=False)
        return
    t = Table(title=f"{len(users)} user(s)")
    for col in ("name", "role", "added", "by", "last login", "locked until", "failures"):
        t.add_column(col)
    for u in users:
        t.add_row(esc(u["id"]), esc(u.get("role")), esc(u.get("created_at")), esc(u.get("created_by")),
                  esc(u.get("last_login") or "-"), esc(u.get("locked_until") or ""), str(u.get("failures") or 0))
    console.print(t)


@users_app.command("role")
def users_role_cmd(
    name: str = UserNameArg,
    role: str = typer.Argument(..., metavar="ROLE", help="analyst, supervisor or admin."),
    user: Optional[str] = ActorOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
) -> None:
    """Change a user's role."""
    from graphiff.casework.users import set_role

    who = acting_user(user)
    with _book(store, database) as book:
        set_role(book, name, role)
        _record(book, who, "user_change", [name], detail={"change": "role", "role": role})
    console.print(f"{esc(name)} is now {esc(role)}", highlight=False)


@users_app.command("passwd")
def users_passwd_cmd(
    name: str = UserNameArg,
    password_stdin: bool = PasswordStdinOpt,
    user: Optional[str] = ActorOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
) -> None:
    """Set a user's password (asked twice, hidden, unless --password-stdin); lifts a lock-out."""
    from graphiff.casework.users import set_password

    who = acting_user(user)
    with _book(store, database) as book:
        if book.get("user", name) is None:  # before asking for a password
            raise GraphiffError(f"no user {name!r} (see `graphiff users list`)")
        set_password(book, name, _password(name, password_stdin))
        _record(book, who, "user_change", [name], detail={"change": "password"})
    console.print(f"password of {esc(name)} changed", highlight=False)


@users_app.command("remove")
def users_remove_cmd(
    name: str = UserNameArg,
    user: Optional[str] = ActorOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
) -> None:
    """Remove a user and revoke their tokens (what they did stays in the audit log)."""
    from graphiff.casework.users import remove_user

    who = acting_user(user)
    with _book(store, database) as book:
        remove_user(book, name)
        _record(book, who, "user_change", [name], detail={"change": "removed"})
    console.print(f"removed {esc(name)}; their tokens are revoked", highlight=False)


@users_app.command("token")
def users_token_cmd(
    name: str = UserNameArg,
    label: str = typer.Option("", "--label", help="What the token is for, e.g. 'nightly export'."),
    user: Optional[str] = ActorOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Make an API token for scripts (sent as `Authorization: Bearer TOKEN`), acting as user NAME with their role.
    The token is printed once and never again: only its SHA-256 is kept."""
    from graphiff.casework.users import create_token

    who = acting_user(user)
    with _book(store, database) as book:
        tid, secret = create_token(book, name, label=label, by=who)
        _record(book, who, "token_change", [tid], detail={"change": "made", "user": name})
    if as_json:
        print_json({"id": tid, "user": name, "label": label, "token": secret})
        return
    console.print(f"token {tid} for {esc(name)}:", highlight=False)
    typer.echo(secret)
    console.print("keep it now: it is not shown again (revoke it with `graphiff users revoke "
                  f"{tid}`)", highlight=False, markup=False)


@users_app.command("tokens")
def users_tokens_cmd(
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """The API tokens: id, user, label, when and by whom made, when revoked (never the token itself)."""
    from graphiff.casework.users import list_tokens

    with _book(store, database) as book:
        tokens = list_tokens(book)
    if as_json:
        print_json(tokens)
        return
    if not tokens:
        console.print("no tokens (make one with `graphiff users token NAME`)", highlight=False, markup=False)
        return
    t = Table(title=f"{len(tokens)} token(s)")
    for col in ("id", "user", "label", "made", "by", "revoked"):
        t.add_column(col)
    for k in tokens:
        t.add_row(esc(k["id"]), esc(k.get("user")), esc(k.get("label")), esc(k.get("created_at")),
                  esc(k.get("created_by")), esc(k.get("revoked_at") or ""))
    console.print(t)


@users_app.command("revoke")
def users_revoke_cmd(
    token_id: str = typer.Argument(..., metavar="TOKEN_ID", help="The token's id (`graphiff users tokens`)."),
    user: Optional[str] = ActorOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
) -> None:
    """Revoke an API token: it no longer signs anybody in."""
    from graphiff.casework.users import revoke_token

    who = acting_user(user)
    with _book(store, database) as book:
        revoke_token(book, token_id)
        _record(book, who, "token_change", [token_id], detail={"change": "revoked"})
    console.print(f"token {esc(token_id)} revoked", highlight=False)


# =================================================================================== audit
def _since(value: str | None) -> str | None:
    """``--since``: a day (YYYY-MM-DD, YYYY-MM, YYYY) or a time (YYYY-MM-DDTHH:MM[:SS], UTC unless it names
    its offset), as the log's UTC times compare with it."""
    from graphiff.graph.index import check_date

    if value is None:
        return None
    try:
        if "T" not in value.upper():
            return check_date(value, "date")
        t = datetime.fromisoformat(value)
    except (GraphiffError, ValueError):
        raise GraphiffError(f"--since {value!r} is neither a date (YYYY-MM-DD) nor a time (YYYY-MM-DDTHH:MM)"
                            ) from None
    return (t.astimezone(timezone.utc) if t.tzinfo else t).replace(tzinfo=None).isoformat()


def _ids_cell(ids: list[Any]) -> str:
    head = ", ".join(str(i) for i in ids[:3])
    return f"{len(ids)}: {head}" + (", …" if len(ids) > 3 else "") if ids else ""


@app.command("audit")
def audit_cmd(
    user: Optional[str] = typer.Option(None, "--user", help="Only entries of this user."),
    since: Optional[str] = typer.Option(None, "--since",
                                        help="Only entries on or after this day (YYYY-MM-DD) or UTC time "
                                             "(YYYY-MM-DDTHH:MM)."),
    action: Optional[str] = typer.Option(None, "--action", help="Only entries of this action (login, search, "
                                         "view_alert, status, export, package, case_create, ...)."),
    case: Optional[str] = typer.Option(None, "--case", help="Only entries made with this case open, e.g. C-0001."),
    limit: int = typer.Option(100, "--limit", "-n", min=1, help="Show the newest N entries that match."),
    verify: bool = typer.Option(False, "--verify", help="Instead of listing: check the whole chain (every entry's "
                                "hash, none missing, each linked to the one before) and print its head SEQ:HASH. "
                                "Exit code 1 when the log was changed: a finding, not a usage error."),
    head: Optional[str] = typer.Option(None, "--head", help="With --verify: a head SEQ:HASH printed earlier; that "
                                       "entry must still be there, unchanged (detects a log cut short)."),
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """The audit log: who searched, viewed, changed and exported what, and when (ids, never the data), oldest
    first. With --verify, check that no entry was changed or deleted since it was written; keep the head it
    prints elsewhere and pass it back with --head to also detect entries removed from the end."""
    from graphiff.casework import audit

    since = _since(since)
    if head is not None and not verify:
        raise GraphiffError("--head goes with --verify")
    if verify:
        if user or since or action or case:
            raise GraphiffError("--verify checks the whole log: leave out --user, --since, --action and --case")
        with _book(store, database) as book:
            result = audit.verify(book, head=head)
        if as_json:
            print_json({"ok": result.ok, "entries": result.entries, "head": result.head, "problems": result.problems})
        elif result.ok:
            console.print(f"audit log intact: {result.entries:,} entries, head {result.head}", highlight=False)
        else:
            for p in result.problems:
                console.print(f"[bold red]audit log broken:[/] {esc(p)}", highlight=False)
            console.print(f"{len(result.problems):,} problem(s) in {result.entries:,} entries", highlight=False)
        if not result.ok:
            raise typer.Exit(1)
        return
    if action is not None and action not in audit.ACTIONS:
        raise GraphiffError(f"unknown audit action {action!r}; choose one of: {', '.join(audit.ACTIONS)}")
    with _book(store, database) as book:
        entries = audit.read(book, user=user, since=since, action=action, case=case)
    shown = entries[-limit:]
    if as_json:
        print_json({"total": len(entries), "entries": shown})
        return
    if not shown:
        console.print("no audit entries" + (" match" if user or since or action or case else ""),
                      highlight=False, markup=False)
        return
    t = Table(title=f"last {len(shown):,} of {len(entries):,} audit entries" if len(shown) < len(entries)
              else f"{len(entries):,} audit entries")
    for col in ("seq", "at", "user", "action", "case", "ids", "detail"):
        t.add_column(col, justify="right" if col == "seq" else "left")
    for e in shown:
        detail = json.dumps(e.get("detail") or {}, ensure_ascii=False, default=str) if e.get("detail") else ""
        t.add_row(str(e.get("seq")), esc(str(e.get("at", ""))[:19]), esc(e.get("user")), esc(e.get("action")),
                  esc(e.get("case") or ""), esc(_ids_cell(list(e.get("ids") or []))), esc(detail))
    console.print(t)

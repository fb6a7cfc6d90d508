"""``graphiff case``: cases, saved investigations with a name, purpose, legal basis and marking
(docs/case-work.md): list, show, create, add, remove, note, close, reopen, and export as a link
chart or a sharing package. Thin commands over :mod:`graphiff.casework.cases` and
:mod:`graphiff.case_export`; every change and every look is audited, naming the case and its
purpose. Commands that touch only the case book leave the store's own file alone.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table

from graphiff.cli.app import app
from graphiff.cli.common import (
    ActorOpt,
    DatabaseOpt,
    JsonOpt,
    StoreOpt,
    UnresolvedOpt,
    acting_user,
    audit_as,
    case_book,
    console,
    day,
    esc,
    print_json,
    store_from,
    user_name,
)
from graphiff.errors import GraphiffError

case_app = typer.Typer(name="case", no_args_is_help=True, add_completion=False,
                       help="Cases: saved investigations with a name, purpose, legal basis and handling marking, "
                            "their entities, alerts and notes; export one as a link chart or a sharing package.")
app.add_typer(case_app, name="case")


def _case_table(cases: list[dict[str, Any]]) -> Table:
    t = Table(title=f"{len(cases):,} case(s)")
    for col in ("id", "status", "name", "purpose", "marking", "entities", "alerts", "notes", "opened"):
        t.add_column(col, justify="right" if col in ("entities", "alerts", "notes") else "left")
    for c in cases:
        t.add_row(esc(c["id"]), esc(c.get("status")), esc(c.get("name")), esc(c.get("purpose")),
                  esc(c.get("marking")), str(c["n_entities"]), str(c["n_alerts"]), str(c["n_notes"]),
                  esc(f"{day(c.get('created_at'))} {c.get('created_by') or ''}"))
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
    with case_book(store, database) as book:
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
    with case_book(store, database) as book:
        case = get_case(book, case_id)
        audit_as(book, who, "case_view", [case_id], case=case)
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
    with case_book(store, database) as book:
        case = create_case(book, name=name, purpose=purpose, legal_basis=legal_basis, marking=marking, user=who,
                           entities=entity, alerts=alert)
        audit_as(book, who, "case_create", [case["id"], *case["entities"], *case["alerts"]], case=case)
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
    with case_book(store, database) as book:
        case = add_to_case(book, case_id, user=who, entities=entity, alerts=alert)
        audit_as(book, who, "case_change", [case_id, *entity, *alert], case=case,
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
    with case_book(store, database) as book:
        case = remove_from_case(book, case_id, user=who, entities=entity, alerts=alert)
        audit_as(book, who, "case_change", [case_id, *entity, *alert], case=case,
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
    with case_book(store, database) as book:
        case = add_case_note(book, case_id, user=who, text=text)
        audit_as(book, who, "case_change", [case_id], case=case, detail={"note": True})
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
    with case_book(store, database) as book:
        case = close_case(book, case_id, user=who)
        audit_as(book, who, "case_close", [case_id], case=case)
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
    with case_book(store, database) as book:
        case = reopen_case(book, case_id, user=who)
        audit_as(book, who, "case_reopen", [case_id], case=case)
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
    from graphiff.case_export import case_subgraph, export_case_package
    from graphiff.casework.cases import get_case
    from graphiff.charts.base import write_chart
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
        alerts = stored_alerts(st)
        sub = case_subgraph(tables, case, alerts, aggregate=not package)
        ids = [case_id, *case.get("entities", []), *case.get("alerts", [])]
        if package:
            manifest = export_case_package(tables, case, alerts, out, producer=producer or user_name(),
                                           recipient=str(recipient), redact=redact,  # type: ignore[arg-type]
                                           key=key, sub=sub)
            audit_as(book, who, "package", ids, case=case, detail={"recipient": recipient, "redaction": redact})
        else:
            written = write_chart(sub, name, out)
            audit_as(book, who, "export", ids, case=case, detail={"format": name})
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

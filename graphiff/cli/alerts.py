"""``graphiff alerts``: alert triage that survives detection (docs/case-work.md): list the
store's alerts with their triage, show one, set its status, assignee or notes, export them or the
analysts' decisions. Thin commands over :mod:`graphiff.casework.triage`; every look and every
change is written to the audit log as the acting user (:func:`graphiff.cli.common.acting_user`).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.table import Table

from graphiff.cli.app import app
from graphiff.cli.common import (
    ActorOpt,
    DatabaseOpt,
    JsonOpt,
    StoreOpt,
    acting_user,
    audit_as,
    case_book,
    console,
    day,
    esc,
    print_json,
    store_from,
)
from graphiff.errors import GraphiffError

if TYPE_CHECKING:
    from graphiff.alerts import Alert
    from graphiff.stores import Store

alerts_app = typer.Typer(name="alerts", no_args_is_help=False, add_completion=False,
                         help="Alert triage that survives detection: list the store's alerts with their status, "
                              "assignee, notes and updated flag (also the ones no longer detected); show one, set "
                              "its status, export the analysts' decisions.")
app.add_typer(alerts_app, name="alerts")


def _write_json(data: Any, out: Path) -> None:
    """``data`` as an indented JSON file (folders made as needed); one clear error if it cannot be written."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    except OSError as exc:
        raise GraphiffError(f"cannot write {out}: {exc.strerror or exc}") from None


def _status_check(statuses: list[str]) -> None:
    from graphiff.casework.triage import STATUSES

    bad = [s for s in statuses if s not in STATUSES]
    if bad:
        raise GraphiffError(f"unknown status {bad[0]!r}; choose one of: {', '.join(STATUSES)}")


def _status_cell(item: dict[str, Any]) -> str:
    if item["status"] == "no_longer_detected":
        return f"no_longer_detected since {day(item.get('no_longer_detected_at'))}"
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
        audit_as(book, who, "list_alerts", [str(r["id"]) for r in shown], detail=filters or None)
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
        audit_as(book, who, "view_alert", [alert_id])
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
        audit_as(book, who, "status", [alert_id],
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
        with case_book(store, database) as book:
            data = triage.decisions(book)
            _write_json(data, out)
            audit_as(book, who, "export", [str(d["alert"].get("id")) for d in data], detail={"what": "decisions"})
    else:
        from graphiff.alerts import stored_alerts

        with store_from(store, database) as st:
            book = st.book()
            data = triage.triaged(book, stored_alerts(st))
            _write_json(data, out)
            audit_as(book, who, "export", [str(d["id"]) for d in data], detail={"what": "alerts"})
    what = "decision(s)" if decisions else "alert(s) with their triage"
    if as_json:
        print_json({"out": str(out), "what": "decisions" if decisions else "alerts", "written": len(data)})
        return
    console.print(f"wrote {len(data):,} {what} to {esc(out)}", highlight=False)

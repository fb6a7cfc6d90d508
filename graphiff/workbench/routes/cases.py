"""Cases (saved investigations, :mod:`graphiff.casework.cases`): list, open, add to, note, lay
out, close and reopen; draw one; export it as a link chart or a sharing package
(:mod:`graphiff.case_export`); and ``GET /api/audit``, the audit log for supervisors.

Every request is audited; the entries of a request about a case name that case and its
purpose. Changes, exports and packages are written to the log before the answer is sent.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Iterable

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from graphiff.case_export import case_subgraph, export_case_package
from graphiff.casework import audit as audit_log
from graphiff.casework.audit import ACTIONS
from graphiff.casework.cases import (
    add_case_note,
    add_to_case,
    close_case,
    create_case,
    get_case,
    list_cases,
    remove_from_case,
    reopen_case,
    set_layout,
)
from graphiff.errors import GraphiffError, NotFound
from graphiff.graph.index import check_date
from graphiff.workbench.auth import Auditor, CaseCloser, CaseWorker, Exporter, Packager, Reader
from graphiff.workbench.deps import BookDep, SettingsDep, SnapshotDep
from graphiff.workbench.models import (
    AuditList,
    CaseAnswer,
    CaseCreate,
    CaseExportRequest,
    CaseItems,
    CaseLayout,
    CaseList,
    CaseNote,
    CasePackageRequest,
    CaseSubgraph,
)
from graphiff.workbench.routes.export import DOWNLOAD, attachment, chart_download, chart_format, check_key
from graphiff.workbench.snapshot import Snapshot
from graphiff.workbench.views import alert_key, subgraph_json

router = APIRouter(prefix="/api", tags=["cases"])

_EMPTY: dict[str, Any] = {"nodes": [], "edges": [], "left_out": 0, "left_out_by_label": {}, "hubs": [], "seeds": []}


def _entities(snap: Snapshot, refs: Iterable[str]) -> list[str]:
    """Node ids (``Label:key`` of the entity) of ``refs``: bare keys and the keys of resolved
    records name their entity; an unknown id is a 404."""
    idx = snap.index
    return list(dict.fromkeys(idx.node_id(idx.resolve_one(str(r))) for r in refs))


def _alerts(snap: Snapshot, book: Any, refs: Iterable[str]) -> list[str]:
    """Alert ids of ``refs`` (with or without ``Alert:``); one neither the store nor the case
    book knows is a 404."""
    out = []
    for r in refs:
        key = alert_key(str(r))
        if key not in snap.alerts.alerts and book.get("alert", key) is None:
            raise NotFound(f"no alert {key!r} in the store or the case book")
        out.append(key)
    return list(dict.fromkeys(out))


def _known_as(snap: Snapshot, ref: str) -> list[str]:
    """The node id ``ref`` names in the graph, or nothing when it names none."""
    try:
        return _entities(snap, [ref])
    except GraphiffError:
        return []


@router.get("/cases", response_model=CaseList)
def cases(caller: Reader, book: BookDep,
          status: str | None = Query(None, description="open or closed (default both).")) -> dict[str, Any]:
    """The cases, newest first, with counts of their entities, alerts and notes."""
    if status not in (None, "", "open", "closed"):
        raise GraphiffError(f"unknown case status {status!r}: open or closed")
    got = list_cases(book, status=status or None)
    caller.log("case_view", ids=[str(c["id"]) for c in got], detail={"list": True})
    return {"cases": got}


@router.post("/cases", response_model=CaseAnswer)
def open_case(caller: CaseWorker, snap: SnapshotDep, book: BookDep, body: CaseCreate) -> dict[str, Any]:
    """Open a case with its name, purpose, legal basis and marking (and entities and alerts)."""
    case = create_case(book, name=body.name, purpose=body.purpose, legal_basis=body.legal_basis,
                       marking=body.marking, user=caller.user.name, entities=_entities(snap, body.entities),
                       alerts=_alerts(snap, book, body.alerts))
    caller.log("case_create", ids=[case["id"], *case["entities"], *case["alerts"]], case=case, wait=True)
    return case


@router.get("/cases/{case_id}", response_model=CaseAnswer)
def case(caller: Reader, book: BookDep, case_id: str) -> dict[str, Any]:
    """One case: its texts, entities, alerts, notes, layout and history."""
    c = get_case(book, case_id)
    caller.log("case_view", ids=[c["id"]], case=c)
    return c


@router.post("/cases/{case_id}/items", response_model=CaseAnswer)
def items(caller: CaseWorker, snap: SnapshotDep, book: BookDep, case_id: str, body: CaseItems) -> dict[str, Any]:
    """Add entities and alerts to an open case (``remove``: take them out)."""
    if body.remove:      # as given, and as the entity they name (an entity gone from the graph goes too)
        ents = list(dict.fromkeys(x for e in body.entities for x in (str(e), *_known_as(snap, str(e)))))
        als = [alert_key(a) for a in body.alerts]
        c = remove_from_case(book, case_id, user=caller.user.name, entities=ents, alerts=als)
    else:
        ents, als = _entities(snap, body.entities), _alerts(snap, book, body.alerts)
        c = add_to_case(book, case_id, user=caller.user.name, entities=ents, alerts=als)
    caller.log("case_change", ids=[c["id"], *ents, *als],
               detail={"removed" if body.remove else "added": len(body.entities) + len(body.alerts)}, case=c,
               wait=True)
    return c


@router.post("/cases/{case_id}/notes", response_model=CaseAnswer)
def note(caller: CaseWorker, book: BookDep, case_id: str, body: CaseNote) -> dict[str, Any]:
    """Add a note to an open case."""
    c = add_case_note(book, case_id, user=caller.user.name, text=body.text)
    caller.log("case_change", ids=[c["id"]], detail={"note_added": True}, case=c, wait=True)
    return c


@router.put("/cases/{case_id}/layout", response_model=CaseAnswer)
def layout(caller: CaseWorker, book: BookDep, case_id: str, body: CaseLayout) -> dict[str, Any]:
    """Save the canvas positions of an open case (``{node id: [x, y]}``, replacing the old ones)."""
    c = set_layout(book, case_id, body.layout, user=caller.user.name)
    caller.log("case_change", ids=[c["id"]], detail={"layout": len(c.get("layout") or {})}, case=c, wait=True)
    return c


@router.post("/cases/{case_id}/close", response_model=CaseAnswer)
def close(request: Request, caller: CaseCloser, book: BookDep, case_id: str) -> dict[str, Any]:
    """Close a case (read-only until reopened; supervisors). The sessions working on it, the
    closer's and others', work on no case from now on (``GET /api/session`` says so)."""
    c = close_case(book, case_id, user=caller.user.name)
    caller.log("case_close", ids=[c["id"]], case=c, wait=True)
    request.app.state.auth.sessions.leave_case(str(c["id"]))
    return c


@router.post("/cases/{case_id}/reopen", response_model=CaseAnswer)
def reopen(caller: CaseCloser, book: BookDep, case_id: str) -> dict[str, Any]:
    """Reopen a closed case (supervisors)."""
    c = reopen_case(book, case_id, user=caller.user.name)
    caller.log("case_reopen", ids=[c["id"]], case=c, wait=True)
    return c


def _has_graph(snap: Snapshot, c: dict[str, Any]) -> bool:
    """Whether anything of the case is in the graph (else its subgraph is empty)."""
    idx = snap.index
    for e in c.get("entities") or []:
        try:
            if idx.resolve(str(e)):
                return True
        except NotFound:
            continue
    return any(a in snap.alerts.alerts for a in c.get("alerts") or [])


@router.get("/cases/{case_id}/subgraph", response_model=CaseSubgraph)
def subgraph(caller: Reader, snap: SnapshotDep, book: BookDep, case_id: str,
             aggregate: bool = Query(True, description="Fold declarations and payments into TRADED_WITH / PAID "
                                                       "links.")) -> dict[str, Any]:
    """The case's entities and alerts (their entities and evidence records) as a subgraph, to
    draw it with its saved layout; empty when nothing of it is in the graph."""
    c = get_case(book, case_id)
    graph: dict[str, Any] = dict(_EMPTY)
    if _has_graph(snap, c):
        graph = subgraph_json(case_subgraph(snap.tables, c, list(snap.alerts.alerts.values()), aggregate=aggregate))
    caller.log("case_view", ids=[c["id"], *(n["id"] for n in graph["nodes"])], case=c)
    return {"subgraph": graph}


@router.post("/cases/{case_id}/export", response_class=Response, responses={200: DOWNLOAD})
def export(caller: Exporter, snap: SnapshotDep, book: BookDep, case_id: str, body: CaseExportRequest) -> Response:
    """The case as a link chart (html, anx, graphml, gexf, cyjs, png, svg), as a download."""
    fmt = chart_format(body.format)
    c = get_case(book, case_id)
    sub = case_subgraph(snap.tables, c, list(snap.alerts.alerts.values()), aggregate=body.aggregate)
    response, ids = chart_download(sub, fmt, f"graphiff-{c['id']}")
    caller.log("export", ids=ids, detail={"format": fmt, "case": c["id"]}, case=c, wait=True)
    return response


@router.post("/cases/{case_id}/package", response_class=Response, responses={200: DOWNLOAD})
def package(caller: Packager, snap: SnapshotDep, settings: SettingsDep, book: BookDep, case_id: str,
            body: CasePackageRequest) -> Response:
    """The case as a sharing package for ``recipient``, as a zip download: its manifest carries
    the case's purpose, legal basis, marking and id and the recipient; ``pseudonymise`` needs
    the server's team key."""
    check_key(settings, body.redact)
    c = get_case(book, case_id)
    alerts = list(snap.alerts.alerts.values())
    sub = case_subgraph(snap.tables, c, alerts, aggregate=False)
    with tempfile.TemporaryDirectory(prefix="graphiff-package-") as tmp:
        out = Path(tmp) / "package.zip"
        export_case_package(snap.tables, c, alerts, out, producer=settings.producer, recipient=body.recipient,
                            redact=body.redact, key=settings.key, sub=sub)
        data = out.read_bytes()
    caller.log("package", ids=[n.id for n in sub.nodes],
               detail={"recipient": body.recipient, "redaction": body.redact, "case": c["id"]},
               case=c, wait=True)
    return attachment(data, "application/zip", f"graphiff-{c['id']}.zip")


@router.get("/audit", response_model=AuditList)
def audit(caller: Auditor, book: BookDep,
          user: str | None = Query(None, description="Entries of this user."),
          since: str | None = Query(None, description="Entries on or after this date (YYYY-MM-DD) or time (ISO 8601)."),
          action: str | None = Query(None, description="Entries of this action."),
          case: str | None = Query(None, description="Entries naming this case."),
          limit: int = Query(200, ge=1, le=10000)) -> dict[str, Any]:
    """The audit log, newest first (supervisors): who did what, when, in which case, on which ids."""
    if action and action not in ACTIONS:
        raise GraphiffError(f"unknown action {action!r}; choose among: {', '.join(ACTIONS)}")
    if since and len(since) <= 10:
        since = check_date(since, "since")
    got = audit_log.read(book, user=user or None, since=since or None, action=action or None, case=case or None)
    return {"entries": list(reversed(got))[:limit], "total": len(got)}

"""``GET /api/alerts`` (the list to filter and sort), ``GET /api/alerts/{id}`` (one alert: its
evidence in words and its subgraph) and ``POST /api/alerts/{id}/triage`` (status, assignee,
notes). The alerts carry their triage from the case book (:mod:`graphiff.workbench.triage_view`);
alerts no longer detected are listed and shown with what the book remembers of them."""
from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query

from graphiff.alerts import Alert
from graphiff.casework.triage import STATUSES, set_status, triaged_one
from graphiff.errors import GraphiffError, NotFound
from graphiff.explore.evidence import evidence_parties, evidence_records, evidence_text
from graphiff.graph.index import check_date
from graphiff.graph.select import select
from graphiff.graph.subgraph import Subgraph
from graphiff.graph.view import aggregate as fold
from graphiff.model import model
from graphiff.workbench.auth import Reader, Triager
from graphiff.workbench.deps import BookDep, SnapshotDep, TriageDep
from graphiff.workbench.models import AlertDetail, AlertList, AlertView, TriageRequest
from graphiff.workbench.triage_view import alert_dates, detail_item
from graphiff.workbench.views import alert_key, id_list, subgraph_json

router = APIRouter(prefix="/api", tags=["alerts"])


def _entity_key(a: dict[str, Any]) -> str:
    ents = a.get("entities") or []
    return f"{ents[0]['label']}:{ents[0]['id']}" if ents else ""


@router.get("/alerts", response_model=AlertList)
def alerts(
    caller: Reader,
    snap: SnapshotDep,
    view: TriageDep,
    pattern: list[str] = Query([], description="Patterns kept (comma-separated or repeated)."),
    status: list[str] = Query([], description="Statuses kept (comma-separated or repeated): " + ", ".join(STATUSES)
                              + "."),
    min_score: float = Query(0.0, ge=0.0, le=1.0),
    entity: str | None = Query(None, description="Alerts flagging this node (or its resolved entity)."),
    date_from: str | None = Query(None, alias="from", description="Evidence dated on or after (YYYY-MM-DD, YYYY-MM, "
                                                                   "YYYY)."),
    date_to: str | None = Query(None, alias="to", description="Evidence dated on or before."),
    sort: Literal["score", "date", "pattern", "entity"] = Query("score"),
    limit: int = Query(200, ge=1, le=10000),
) -> dict[str, Any]:
    """The alerts with their triage (those no longer detected included), filtered and sorted;
    ``total`` counts the matches before ``limit``, ``patterns`` every alert listed per pattern."""
    listed = view.get(snap)
    pats, stats = set(id_list(pattern)), set(id_list(status))
    unknown = sorted(stats - set(STATUSES))
    if unknown:
        raise GraphiffError(f"unknown status {unknown[0]!r}; choose among: {', '.join(STATUSES)}")
    date_from = check_date(date_from or None, "from")
    date_to = check_date(date_to or None, "to")
    flagged: set[str] | None = None
    targets: set[int] = set()
    if entity:
        idx = snap.index
        targets = set(idx.resolve(entity))
        flagged = {idx.key(int(a)) for i in targets for a in idx.alerts_of(i).tolist()}
    out = []
    for a in listed.items:
        if pats and a["pattern"] not in pats:
            continue
        if stats and a["status"] not in stats:
            continue
        if a["score"] < min_score:
            continue
        if flagged is not None and a["id"] not in flagged and not _names_any(snap, a, targets):
            continue
        if date_from and not (a["last_date"] and a["last_date"][:len(date_from)] >= date_from):
            continue
        if date_to and not (a["first_date"] and a["first_date"][:len(date_to)] <= date_to):
            continue
        out.append(a)
    if sort == "date":
        out.sort(key=lambda a: (a["last_date"] or "", a["score"]), reverse=True)
    elif sort == "pattern":
        out.sort(key=lambda a: (a["pattern"], -a["score"], a["id"]))
    elif sort == "entity":
        out.sort(key=lambda a: (_entity_key(a), -a["score"], a["id"]))
    shown = out[:limit]
    caller.log("list_alerts", ids=[str(a["id"]) for a in shown], detail=_filters(
        pattern=sorted(pats), status=sorted(stats), min_score=min_score or None, entity=entity or None,
        date_from=date_from, date_to=date_to, total=len(out)))
    return {"alerts": shown, "total": len(out), "patterns": listed.patterns}


def _filters(**kw: Any) -> dict[str, Any]:
    """The filters of a list request that were given (the audit entry's detail)."""
    return {k: v for k, v in kw.items() if v is not None and v != []}


def _names_any(snap: Any, a: dict[str, Any], targets: set[int]) -> bool:
    """Whether an alert the store no longer holds names one of the nodes ``targets`` (its
    entities looked up in the snapshot; a current alert is matched by its FLAGS instead)."""
    if not targets or a["id"] in snap.alerts.alerts:
        return False
    idx = snap.index
    return any(idx.find(str(e.get("label")), str(e.get("id"))) in targets for e in a.get("entities") or [])


def _tied_records(sub: Subgraph, entities: set[str]) -> list[str]:
    """Records joined to a flagged entity by something else than their parties (a declaration
    carried by a flagged carrier): folding them into trade links would cut the entity off from
    its evidence, so they stay as nodes."""
    parties = {(a.record, rel) for a in model().aggregates.values() for rel in (a.source, a.target)}
    parties |= {("Declaration", "DECLARED_BY")}
    label = {n.id: n.label for n in sub.nodes}
    tied = []
    for e in sub.edges:
        for rec, ent in ((e.source, e.target), (e.target, e.source)):
            if ent in entities and (label.get(rec), e.type) not in parties and label.get(rec) != "Alert":
                tied.append(rec)
    return tied


def _triaged(snap: Any, book: Any, key: str) -> tuple[dict[str, Any], Alert, bool]:
    """The alert ``key`` with its triage, as an :class:`Alert`, and whether the store holds it
    (else it is what the case book remembers). Raises :class:`NotFound` when neither knows it."""
    current = snap.alerts.alerts.get(key)
    try:
        t = triaged_one(book, key, current)
    except NotFound:
        raise NotFound(f"no alert {key!r} in the store or the case book (alerts are written by `graphiff "
                       "detect`)") from None
    return t, current if current is not None else Alert.from_dict(t), current is not None


@router.get("/alerts/{alert_id}", response_model=AlertView)
def alert(caller: Reader, snap: SnapshotDep, book: BookDep, alert_id: str,
          aggregate: bool = Query(True, description="Fold declarations and payments into TRADED_WITH / PAID links."),
          ) -> dict[str, Any]:
    """One alert with its triage (notes, history): its explanation and evidence in words, and
    its subgraph (its entities and evidence records). An alert no longer detected is shown as
    the case book remembers it, with what the store still holds of its subgraph."""
    key = alert_key(alert_id)
    t, found, current = _triaged(snap, book, key)
    idx = snap.index
    entities = [f"{e['label']}:{e['id']}" for e in found.entities if idx.find(str(e["label"]), str(e["id"])) >= 0]
    records = snap.alerts.records[key] if current else evidence_records(snap.tables, found)
    seeds = list(dict.fromkeys([*entities, *records, *evidence_parties(snap.tables, found)]))
    if seeds or current:
        sub = select(snap.tables, seeds=seeds, alert=key if current else None, hops=0, max_nodes=len(seeds) + 200)
        if aggregate:
            sub = fold(sub, keep=_tied_records(sub, set(entities)))
        graph = subgraph_json(sub)
    else:
        graph = {"nodes": [], "edges": [], "left_out": 0, "left_out_by_label": {}, "hubs": [], "seeds": []}
    caller.log("view_alert", ids=[key], detail=None if current else {"no_longer_detected": True})
    return {"alert": detail_item(t, alert_dates(snap, t)), "evidence_text": _in_words(snap, found, current),
            "subgraph": graph}


def _in_words(snap: Any, alert: Alert, current: bool) -> list[str]:
    """The alert's evidence in words; for an alert no longer detected, as far as the store
    still holds its records (at least its explanation)."""
    if current:
        return evidence_text(snap.tables, alert)
    try:
        return evidence_text(snap.tables, alert)
    except (GraphiffError, KeyError, TypeError, ValueError):
        return [alert.explanation]


@router.post("/alerts/{alert_id}/triage", response_model=AlertDetail)
def triage(caller: Triager, snap: SnapshotDep, book: BookDep, view: TriageDep, alert_id: str,
           body: TriageRequest) -> dict[str, Any]:
    """Set an alert's status and/or assignee (``""`` clears it) and/or add a note; the answer
    is the alert with its triage. Audited (``status``) before the answer is sent."""
    key = alert_key(alert_id)
    known = key in snap.alerts.alerts or book.get("alert", key) is not None
    set_status(book, key, user=caller.user.name, status=body.status, note=body.note, assignee=body.assignee,
               known=known)
    view.invalidate()
    caller.log("status", ids=[key], detail=_filters(status=body.status, assignee=body.assignee,
                                                   note_added=True if body.note else None), wait=True)
    t, _, _ = _triaged(snap, book, key)
    return detail_item(t, alert_dates(snap, t))

"""``GET /api/alerts`` (the list to filter and sort) and ``GET /api/alerts/{id}`` (one alert:
its evidence in words and its subgraph)."""
from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query

from graphiff.errors import NotFound
from graphiff.explore.evidence import evidence_parties, evidence_text
from graphiff.graph.index import check_date
from graphiff.graph.select import select
from graphiff.graph.subgraph import Subgraph
from graphiff.graph.view import aggregate as fold
from graphiff.model import model
from graphiff.workbench.deps import SnapshotDep
from graphiff.workbench.models import AlertList, AlertView
from graphiff.workbench.views import alert_key, id_list, subgraph_json

router = APIRouter(prefix="/api", tags=["alerts"])


def _entity_key(a: dict[str, Any]) -> str:
    ents = a.get("entities") or []
    return f"{ents[0]['label']}:{ents[0]['id']}" if ents else ""


@router.get("/alerts", response_model=AlertList)
def alerts(
    snap: SnapshotDep,
    pattern: list[str] = Query([], description="Patterns kept (comma-separated or repeated)."),
    status: list[str] = Query([], description="Statuses kept (every alert is new until case work)."),
    min_score: float = Query(0.0, ge=0.0, le=1.0),
    entity: str | None = Query(None, description="Alerts flagging this node (or its resolved entity)."),
    date_from: str | None = Query(None, alias="from", description="Evidence dated on or after (YYYY-MM-DD, YYYY-MM, "
                                                                   "YYYY)."),
    date_to: str | None = Query(None, alias="to", description="Evidence dated on or before."),
    sort: Literal["score", "date", "pattern", "entity"] = Query("score"),
    limit: int = Query(200, ge=1, le=10000),
) -> dict[str, Any]:
    """The store's alerts, filtered and sorted; ``total`` counts the matches before ``limit``,
    ``patterns`` every alert of the store per pattern."""
    items = snap.alerts.items
    pats, stats = set(id_list(pattern)), set(id_list(status))
    date_from = check_date(date_from or None, "from")
    date_to = check_date(date_to or None, "to")
    flagged: set[str] | None = None
    if entity:
        idx = snap.index
        flagged = {idx.key(int(a)) for i in idx.resolve(entity) for a in idx.alerts_of(i).tolist()}
    out = []
    for a in items:
        if pats and a["pattern"] not in pats:
            continue
        if stats and a["status"] not in stats:
            continue
        if a["score"] < min_score:
            continue
        if flagged is not None and a["id"] not in flagged:
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
    return {"alerts": out[:limit], "total": len(out), "patterns": snap.alerts.patterns}


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


@router.get("/alerts/{alert_id}", response_model=AlertView)
def alert(snap: SnapshotDep, alert_id: str,
          aggregate: bool = Query(True, description="Fold declarations and payments into TRADED_WITH / PAID links."),
          ) -> dict[str, Any]:
    """One alert: its explanation and evidence in words, and its subgraph (its entities and
    evidence records)."""
    key = alert_key(alert_id)
    found = snap.alerts.alerts.get(key)
    if found is None:
        raise NotFound(f"no alert {key!r} in the store (alerts are written by `graphiff detect`)")
    item = next(a for a in snap.alerts.items if a["id"] == key)
    idx = snap.index
    entities = [f"{e['label']}:{e['id']}" for e in found.entities if idx.find(str(e["label"]), str(e["id"])) >= 0]
    records = snap.alerts.records.get(key, [])
    seeds = list(dict.fromkeys([*entities, *records, *evidence_parties(snap.tables, found)]))
    sub = select(snap.tables, seeds=seeds, alert=key, hops=0, max_nodes=len(seeds) + 200)
    if aggregate:
        sub = fold(sub, keep=_tied_records(sub, set(entities)))
    return {"alert": item, "evidence_text": evidence_text(snap.tables, found), "subgraph": subgraph_json(sub)}

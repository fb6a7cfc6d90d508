"""The JSON the workbench API answers and accepts (docs/api.md), as pydantic models.

They document the API at ``/docs`` and check request bodies; the shapes are the contract with
the page and with other tools, so a change here is a change of docs/api.md.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ErrorAnswer", "Health", "Matched", "SearchResult", "SearchAnswer", "Node", "Edge", "Hub", "SubgraphAnswer",
    "EntityRef", "AlertItem", "AlertList", "AlertView", "NodeDetail", "Provenance", "Alias", "AlertSummary",
    "EntityAnswer", "Bucket", "TimelineAnswer", "TimelineRequest", "ExportRequest", "PackageRequest",
    "StylesAnswer", "MAX_IDS", "Note", "StatusChange", "AlertDetail", "TriageRequest", "SessionUser", "SessionCase",
    "SessionAnswer", "LoginRequest", "SessionCaseRequest", "OkAnswer", "CaseSummary", "CaseAnswer", "CaseList",
    "CaseCreate", "CaseItems", "CaseNote", "CaseLayout", "CaseSubgraph", "CaseExportRequest", "CasePackageRequest",
    "AuditEntry", "AuditList",
]

#: The most ids a request body may list (nodes, records or timeline ids).
MAX_IDS = 200_000


class ErrorAnswer(BaseModel):
    error: str = Field(description="One sentence saying what is wrong.")


class Health(BaseModel):
    status: str = "ok"
    version: str
    store: Literal["embedded", "neo4j"]
    resolved: bool
    nodes: int
    relationships: int
    alerts: int
    loads: int
    last_load: str | None = Field(None, description="When the newest load was made (ISO 8601).")
    refreshed_at: str = Field(description="When the server last read the store (ISO 8601).")


class Matched(BaseModel):
    field: str
    value: str


class SearchResult(BaseModel):
    id: str = Field(description="Node id Label:key.")
    label: str
    caption: str
    score: float = Field(ge=0, le=1)
    matched: list[Matched]


class SearchAnswer(BaseModel):
    results: list[SearchResult]
    query: str


class Node(BaseModel):
    id: str = Field(description="Node id Label:key.")
    label: str
    caption: str
    properties: dict[str, Any] = Field(description="Every property, provenance (_source, _line, _load_id, "
                                                   "_loaded_at) included; a resolved entity's aliases.")
    seed: bool = False
    flagged_by: list[str] = Field(default_factory=list, description="Ids of the alerts flagging the node.")


class Edge(BaseModel):
    id: str
    source: str
    target: str
    type: str
    properties: dict[str, Any] = Field(description="Relationship properties; TRADED_WITH / PAID: count, value_usd, "
                                                   "first_date, last_date, record_ids (and hs6).")


class Hub(BaseModel):
    id: str
    counts: dict[str, int] = Field(description="Neighbours by label (a hub is shown, not expanded).")


class SubgraphAnswer(BaseModel):
    nodes: list[Node]
    edges: list[Edge]
    left_out: int = Field(description="Nodes within reach that the node cap left out.")
    left_out_by_label: dict[str, int]
    hubs: list[Hub]
    seeds: list[str]


class EntityRef(BaseModel):
    label: str
    id: str


class AlertItem(BaseModel):
    id: str
    pattern: str
    score: float
    entities: list[EntityRef]
    explanation: str
    evidence: dict[str, Any]
    status: str = Field(description="new, in_review, escalated, dismissed, false_positive, or no_longer_detected "
                                    "(the last detect run of its pattern did not find it).")
    decision: str = Field("new", description="The analysts' last status (kept while it is no longer detected).")
    assignee: str | None = None
    updated: bool = Field(False, description="New evidence since an analyst last acted on it.")
    updated_at: str | None = None
    n_notes: int = Field(0, description="How many notes it has.")
    first_seen: str | None = Field(None, description="When detection first found it (ISO 8601).")
    last_seen: str | None = None
    no_longer_detected_at: str | None = None
    first_date: str | None
    last_date: str | None


class Note(BaseModel):
    user: str
    at: str
    text: str


class StatusChange(BaseModel):
    at: str
    user: str
    status: str
    previous: str | None = None


class AlertDetail(AlertItem):
    notes: list[Note] = Field(default_factory=list)
    history: list[StatusChange] = Field(default_factory=list)


class AlertList(BaseModel):
    alerts: list[AlertItem]
    total: int = Field(description="Alerts matching the filters (before the limit).")
    patterns: dict[str, int] = Field(description="Alerts in the store per pattern.")


class AlertView(BaseModel):
    alert: AlertDetail
    evidence_text: list[str] = Field(description="The explanation and the evidence in words, one line each.")
    subgraph: SubgraphAnswer


class NodeDetail(BaseModel):
    id: str
    label: str
    caption: str
    properties: dict[str, Any]


class Provenance(BaseModel):
    source: str | None
    line: int | None
    load_id: str | None
    loaded_at: str | None
    partner: str | None = Field(None, description="The partner whose sharing package brought the record.")


class Alias(BaseModel):
    id: str
    caption: str
    status: str | None = Field(None, description="SAME_AS status: linked, confirmed...")
    score: float | None = None


class AlertSummary(BaseModel):
    id: str
    pattern: str | None
    score: float | None
    explanation: str | None
    flags: list[str]


class EntityAnswer(BaseModel):
    node: NodeDetail
    provenance: list[Provenance]
    aliases: list[Alias]
    alerts: list[AlertSummary]
    degree: dict[str, int] = Field(description="Neighbours by label.")


class Bucket(BaseModel):
    start: str
    count: int
    value_usd: float


class TimelineAnswer(BaseModel):
    buckets: list[Bucket]
    bucket: Literal["day", "week", "month"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TimelineRequest(_Body):
    ids: list[str] = Field(default_factory=list, max_length=MAX_IDS)
    bucket: Literal["day", "week", "month"] = "month"


class ExportRequest(_Body):
    format: str = Field(description="html, anx, graphml, gexf, cyjs, png or svg.")
    nodes: list[str] = Field(default_factory=list, max_length=MAX_IDS, description="Node ids of the view.")
    records: list[str] = Field(default_factory=list, max_length=MAX_IDS,
                               description="Record ids under the view's aggregated links.")
    aggregate: bool = True
    title: str | None = Field(None, max_length=500)


class PackageRequest(_Body):
    nodes: list[str] = Field(default_factory=list, max_length=MAX_IDS)
    records: list[str] = Field(default_factory=list, max_length=MAX_IDS)
    purpose: str = Field(min_length=1, max_length=2000)
    marking: str = Field(min_length=1, max_length=200)
    redact: Literal["none", "pseudonymise", "remove"] = "pseudonymise"
    recipient: str = Field(min_length=1, max_length=500, description="Who the package is for (into the manifest "
                                                                     "and the audit entry).")


class StylesAnswer(BaseModel):
    styles: dict[str, dict[str, Any]]
    default_style: dict[str, Any]
    edge_styles: dict[str, dict[str, Any]]
    default_edge_style: dict[str, Any]
    labels: list[str]
    rel_types: list[str]


# =============================================================================================
# Case work: triage, sessions, cases, the audit log
# =============================================================================================

class TriageRequest(_Body):
    status: str | None = Field(None, description="new, in_review, escalated, dismissed or false_positive.")
    note: str | None = Field(None, max_length=10_000)
    assignee: str | None = Field(None, max_length=200, description="Who works on it (\"\" clears it).")


class SessionUser(BaseModel):
    name: str
    role: str
    local: bool = Field(description="The single local user of a workbench on 127.0.0.1 with no users.")


class SessionCase(BaseModel):
    id: str
    name: str | None
    purpose: str | None
    marking: str | None


class SessionAnswer(BaseModel):
    user: SessionUser | None
    login_required: bool = Field(description="Whether this server needs a login (users exist, or it is "
                                             "reachable from other machines).")
    csrf: str | None = Field(description="Send it as X-CSRF-Token with every POST, PUT, PATCH and DELETE.")
    case: SessionCase | None
    idle_minutes: int
    rights: list[str]


class LoginRequest(_Body):
    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=4096)


class SessionCaseRequest(_Body):
    case: str | None = Field(description="An open case's id, or null to work outside a case.")


class OkAnswer(BaseModel):
    ok: bool = True


class _CaseFields(BaseModel):
    """What every case states (:mod:`graphiff.casework.cases`)."""

    model_config = ConfigDict(extra="allow")
    id: str
    name: str
    purpose: str
    legal_basis: str
    marking: str
    status: Literal["open", "closed"]
    created_by: str
    created_at: str


class CaseSummary(_CaseFields):
    n_entities: int
    n_alerts: int
    n_notes: int


class CaseAnswer(_CaseFields):
    entities: list[str]
    alerts: list[str]
    notes: list[Note]
    layout: dict[str, list[float]]
    history: list[dict[str, Any]]


class CaseList(BaseModel):
    cases: list[CaseSummary]


class CaseCreate(_Body):
    name: str = Field(min_length=1, max_length=2000)
    purpose: str = Field(min_length=1, max_length=2000)
    legal_basis: str = Field(min_length=1, max_length=2000)
    marking: str = Field(min_length=1, max_length=2000)
    entities: list[str] = Field(default_factory=list, max_length=MAX_IDS)
    alerts: list[str] = Field(default_factory=list, max_length=MAX_IDS)


class CaseItems(_Body):
    entities: list[str] = Field(default_factory=list, max_length=MAX_IDS)
    alerts: list[str] = Field(default_factory=list, max_length=MAX_IDS)
    remove: bool = Field(False, description="Take them out of the case instead.")


class CaseNote(_Body):
    text: str = Field(min_length=1, max_length=10_000)


class CaseLayout(_Body):
    layout: dict[str, Any] = Field(description="Node id -> [x, y] (or {x, y}).", max_length=MAX_IDS)


class CaseSubgraph(BaseModel):
    subgraph: SubgraphAnswer


class CaseExportRequest(_Body):
    format: str = Field(description="html, anx, graphml, gexf, cyjs, png or svg.")
    aggregate: bool = True


class CasePackageRequest(_Body):
    recipient: str = Field(min_length=1, max_length=500)
    redact: Literal["none", "pseudonymise", "remove"] = "pseudonymise"


class AuditEntry(BaseModel):
    model_config = ConfigDict(extra="allow")
    seq: int
    at: str
    user: str
    action: str
    case: str | None
    purpose: str | None
    ids: list[str]
    detail: dict[str, Any]
    prev: str
    hash: str


class AuditList(BaseModel):
    entries: list[AuditEntry]
    total: int = Field(description="Entries matching the filters (before the limit).")

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
    "StylesAnswer", "MAX_IDS",
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
    status: str = Field(description="new until case work records another.")
    first_date: str | None
    last_date: str | None


class AlertList(BaseModel):
    alerts: list[AlertItem]
    total: int = Field(description="Alerts matching the filters (before the limit).")
    patterns: dict[str, int] = Field(description="Alerts in the store per pattern.")


class AlertView(BaseModel):
    alert: AlertItem
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


class StylesAnswer(BaseModel):
    styles: dict[str, dict[str, Any]]
    default_style: dict[str, Any]
    edge_styles: dict[str, dict[str, Any]]
    default_edge_style: dict[str, Any]
    labels: list[str]
    rel_types: list[str]

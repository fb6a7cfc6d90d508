"""``GET /api/neighbourhood``, ``GET /api/entity``, ``GET``/``POST /api/timeline``."""
from __future__ import annotations

from typing import Any, Literal

import numpy as np
from fastapi import APIRouter, Query

from graphiff.explore.describe import alert_summary, same_as
from graphiff.graph.index import caption_of, node_props
from graphiff.graph.resolution import PARTNER_SOURCE
from graphiff.graph.view import view
from graphiff.model.cells import plain_value
from graphiff.model.identity import node_id
from graphiff.workbench.auth import Reader
from graphiff.workbench.deps import SnapshotDep
from graphiff.workbench.models import MAX_IDS, EntityAnswer, SubgraphAnswer, TimelineAnswer, TimelineRequest
from graphiff.workbench.views import id_list, subgraph_json

router = APIRouter(prefix="/api", tags=["graph"])


@router.get("/neighbourhood", response_model=SubgraphAnswer)
def neighbourhood(
    caller: Reader,
    snap: SnapshotDep,
    id: list[str] = Query(..., description="Seed node id(s): Label:key or a bare key (comma-separated or repeated)."),
    hops: int = Query(1, ge=0, le=10, description="A hop passes through declarations, payments and cash reports."),
    rel: list[str] = Query([], description="Relationship types walked (default all)."),
    types: list[str] = Query([], description="Node labels shown (default all; seeds always)."),
    date_from: str | None = Query(None, alias="from", description="YYYY-MM-DD (or YYYY-MM, YYYY), inclusive."),
    date_to: str | None = Query(None, alias="to", description="YYYY-MM-DD (or YYYY-MM, YYYY), inclusive."),
    limit: int = Query(300, ge=1, le=5000, description="Node cap."),
    aggregate: bool = Query(False, description="Fold declarations and payments into TRADED_WITH / PAID links."),
    hub_limit: int = Query(200, ge=0, description="Nodes with more relationships are summarised, not expanded; "
                                                  "0: no limit."),
) -> dict[str, Any]:
    """The subgraph around one or more seeds."""
    seeds = id_list(id, "seed ids", limit=5000)
    sub = view(snap.tables, seeds, hops=hops, rel_types=id_list(rel) or None, date_from=date_from or None,
               date_to=date_to or None, max_nodes=limit, types=id_list(types) or None, hub_limit=hub_limit or None,
               aggregated=aggregate)
    out = subgraph_json(sub)
    caller.log("neighbourhood", ids=[n["id"] for n in out["nodes"]], detail={"seeds": seeds[:50], "hops": hops})
    return out


def _text(v: Any) -> str | None:
    pv = plain_value(v)
    return None if pv is None else str(pv)


def _line(v: Any) -> int | None:
    pv = plain_value(v)
    try:
        return None if pv is None else int(float(pv))
    except (TypeError, ValueError):
        return None


@router.get("/entity", response_model=EntityAnswer)
def entity(caller: Reader, snap: SnapshotDep,
           id: str = Query(..., description="Node id: Label:key or a bare key.")) -> dict[str, Any]:
    """What the detail panel shows: properties, provenance, aliases, alerts and degree of a node."""
    tables, idx = snap.tables, snap.index
    i = idx.resolve_one(id)
    label, key = idx.label(i), idx.key(i)
    alerts = idx.alerts_of(i).tolist()
    props = node_props(tables, idx, [i, *alerts])
    node: dict[str, Any] = {"id": node_id(label, key), "label": label,
                            "caption": caption_of(label, key, props[i]), "properties": props[i]}

    members = tables.resolution.members.get(label, {}).get(key) or [key]
    raw = tables.raw.nodes(label)
    provenance = []
    if len(raw):
        rows = raw[raw["key"].astype(str).isin(set(members)).to_numpy()]
        order = {k: n for n, k in enumerate(members)}
        for rec in sorted(rows.to_dict("records"), key=lambda r: order.get(str(r["key"]), 0)):
            src = _text(rec.get("source"))
            partner = src[len(PARTNER_SOURCE):] if src and src.startswith(PARTNER_SOURCE) else None
            provenance.append({"source": _text(rec.get("_source")), "line": _line(rec.get("_line")),
                               "load_id": _text(rec.get("_load_id")), "loaded_at": _text(rec.get("_loaded_at")),
                               "partner": partner})

    aliases = []
    joined = same_as(tables, label, key)
    if joined:
        links = tables.raw.rels("SAME_AS")
        cluster = set(members)
        best: dict[str, tuple[float, str | None]] = {}
        if len(links):
            s, d = links["src"].astype(str).to_numpy(), links["dst"].astype(str).to_numpy()
            inside = np.isin(s, list(cluster)) & np.isin(d, list(cluster))
            scores = links["score"].to_numpy() if "score" in links.columns else np.full(len(links), np.nan)
            status = links["status"].to_numpy() if "status" in links.columns else np.full(len(links), None)
            for a, b, sc, st in zip(s[inside], d[inside], scores[inside], status[inside]):
                scv = plain_value(sc)
                val = float(scv) if isinstance(scv, (int, float)) else -1.0
                for k in (a, b):
                    if k not in best or val > best[k][0] or st == "confirmed":
                        best[k] = (val, _text(st))
        for j in joined:
            sc, st = best.get(j["key"], (-1.0, None))
            aliases.append({"id": j["id"], "caption": j["caption"], "status": st, "score": sc if sc >= 0 else None})

    summaries = [alert_summary(idx, a, props[a], [node["id"]]) for a in alerts]
    summaries.sort(key=lambda d: (-(d["score"] or 0), d["id"]))
    caller.log("view_entity", ids=[node["id"]])
    return {"node": node, "provenance": provenance, "aliases": aliases, "alerts": summaries,
            "degree": idx.neighbour_counts(i)}


@router.get("/timeline", response_model=TimelineAnswer)
def timeline(caller: Reader, snap: SnapshotDep,
             ids: list[str] = Query([], description="Node ids; records are counted, entities ignored."),
             bucket: Literal["day", "week", "month"] = Query("month")) -> dict[str, Any]:
    """Records among ``ids`` counted (and their USD values summed) per day, week or month."""
    asked = id_list(ids, limit=MAX_IDS)
    out = {"buckets": snap.times.buckets(asked, bucket), "bucket": bucket}
    caller.log("timeline", ids=asked, detail={"bucket": bucket})
    return out


@router.post("/timeline", response_model=TimelineAnswer)
def timeline_post(caller: Reader, snap: SnapshotDep, body: TimelineRequest) -> dict[str, Any]:
    """As ``GET /api/timeline``, for views too long for a URL."""
    asked = id_list(body.ids)
    out = {"buckets": snap.times.buckets(asked, body.bucket), "bucket": body.bucket}
    caller.log("timeline", ids=asked, detail={"bucket": body.bucket})
    return out

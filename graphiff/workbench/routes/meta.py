"""``GET /api/health`` and ``GET /api/styles``."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from graphiff.charts.style import (
    DEFAULT_EDGE_STYLE,
    DEFAULT_STYLE,
    EDGE_STYLES,
    STYLES,
    EdgeStyle,
    Style,
    ordered_labels,
    swatch_path,
)
from graphiff.model import model
from graphiff.workbench.auth import Reader
from graphiff.workbench.deps import SettingsDep, SnapshotDep
from graphiff.workbench.models import Health, StylesAnswer

router = APIRouter(prefix="/api", tags=["meta"])


@router.get("/health", response_model=Health)
def health(snap: SnapshotDep, settings: SettingsDep) -> dict[str, Any]:
    """Whether the server is up, which store it reads and how big the graph is."""
    last = snap.loads[-1] if snap.loads else None
    return {"status": "ok", "version": settings.version, "store": snap.store_kind, "resolved": snap.resolved,
            "nodes": sum(snap.counts.get("nodes", {}).values()),
            "relationships": sum(snap.counts.get("relationships", {}).values()),
            "alerts": len(snap.alerts.items), "loads": len(snap.loads),
            "last_load": str(last.get("recorded_at") or last.get("loaded_at")) if last else None,
            "refreshed_at": snap.refreshed_at}


def _style(st: Style) -> dict[str, Any]:
    return {"colour": st.colour, "shape": st.shape, "size": st.size, "swatch": swatch_path(st.shape, st.size)}


def _edge_style(st: EdgeStyle) -> dict[str, Any]:
    return {"colour": st.colour, "line": st.line, "width": st.width, "caption": st.caption, "arrow": st.arrow}


@router.get("/styles", response_model=StylesAnswer)
def styles(_caller: Reader) -> dict[str, Any]:
    """How each label and relationship type is drawn (the link charts' styles)."""
    m = model()
    return {"styles": {lab: _style(st) for lab, st in STYLES.items()}, "default_style": _style(DEFAULT_STYLE),
            "edge_styles": {name: _edge_style(st) for name, st in EDGE_STYLES.items()},
            "default_edge_style": _edge_style(DEFAULT_EDGE_STYLE),
            "labels": ordered_labels(list(m.nodes)),
            "rel_types": [*m.relationships, *(t for t in m.aggregates if t not in m.relationships)]}

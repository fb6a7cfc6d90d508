"""``POST /api/export`` (the view as a link chart) and ``POST /api/package`` (the view as a
sharing package)."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

from graphiff.charts.base import FORMATS, write_chart
from graphiff.errors import GraphiffError, PackageError
from graphiff.graph.index import RECORD_LABELS
from graphiff.graph.select import select
from graphiff.graph.subgraph import Subgraph
from graphiff.graph.view import aggregate as fold
from graphiff.share.keys import KEY_ENV
from graphiff.share.package import make_package
from graphiff.workbench.deps import SettingsDep, SnapshotDep
from graphiff.workbench.models import ExportRequest, PackageRequest
from graphiff.workbench.snapshot import Snapshot

router = APIRouter(prefix="/api", tags=["export"])

#: Content type of each chart format's download.
CONTENT_TYPES = {"html": "text/html; charset=utf-8", "anx": "application/xml", "graphml": "application/xml",
                 "gexf": "application/xml", "cyjs": "application/json", "png": "image/png",
                 "svg": "image/svg+xml"}

_DOWNLOAD = {"description": "The file, as a download.", "content": {"application/octet-stream": {}}}


def _view(snap: Snapshot, nodes: list[str], records: list[str], title: str | None) -> tuple[Subgraph, list[str]]:
    """The view's nodes and records, re-selected from the snapshot (no walk): the subgraph and
    the records shown as nodes (which stay unfolded)."""
    idx = snap.index
    ids = [i for i in dict.fromkeys([*nodes, *records]) if not str(i).startswith("Alert:")]
    if not ids:
        raise GraphiffError("the view is empty: give the ids of its nodes (and records)")
    sub = select(snap.tables, seeds=ids, hops=0, max_nodes=len(ids) + len(snap.alerts.items) + 1)
    shown: set[str] = set()
    for ref in nodes:
        for i in idx.resolve(ref):
            if idx.label(i) in RECORD_LABELS:
                shown.add(idx.node_id(i))
    sub.title = str(title or "graphiff workbench view")
    return sub, sorted(shown)


def _attachment(data: bytes, media_type: str, filename: str) -> Response:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return Response(content=data, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{safe}"'})


@router.post("/export", response_class=Response, responses={200: _DOWNLOAD})
def export(snap: SnapshotDep, body: ExportRequest) -> Response:
    """The view -- its nodes plus the records under its aggregated links -- as a link chart
    (html, anx, graphml, gexf, cyjs, png, svg), returned as a download."""
    fmt = body.format.lower().lstrip(".")
    if fmt not in FORMATS:
        raise GraphiffError(f"unknown format {body.format!r}; choose one of: {', '.join(FORMATS)}")
    sub, shown = _view(snap, body.nodes, body.records, body.title)
    if body.aggregate:
        sub = fold(sub, keep=shown)
    with tempfile.TemporaryDirectory(prefix="graphiff-export-") as tmp:
        out = write_chart(sub, fmt, Path(tmp) / f"view{FORMATS[fmt].suffix}")
        data = out.read_bytes()
    return _attachment(data, CONTENT_TYPES.get(fmt, "application/octet-stream"), f"graphiff-view{FORMATS[fmt].suffix}")


@router.post("/package", response_class=Response, responses={200: _DOWNLOAD})
def package(snap: SnapshotDep, settings: SettingsDep, body: PackageRequest) -> Response:
    """A sharing package of the view (its nodes and records, with the alerts naming them), as
    a zip download; ``pseudonymise`` needs the server to be started with the team key."""
    if body.redact == "pseudonymise" and settings.key is None:
        raise PackageError("redact pseudonymise needs the team key, and this server has none: start graphiff serve "
                           f"with --key-file FILE (or set {KEY_ENV}), or choose redact remove or none")
    sub, _ = _view(snap, body.nodes, body.records, None)
    sub.title = "graphiff workbench view"
    with tempfile.TemporaryDirectory(prefix="graphiff-package-") as tmp:
        out = Path(tmp) / "package.zip"
        make_package(sub, out, purpose=body.purpose, marking=body.marking, producer=settings.producer,
                     redact=body.redact, key=settings.key, alerts=list(snap.alerts.alerts.values()),
                     store=snap.tables)
        data = out.read_bytes()
    return _attachment(data, "application/zip", "graphiff-package.zip")

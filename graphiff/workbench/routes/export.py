"""``POST /api/export`` (the view as a link chart) and ``POST /api/package`` (the view as a
sharing package). Both are audited before the file is sent: nothing leaves without its entry."""
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
from graphiff.workbench.auth import Exporter, Packager
from graphiff.workbench.deps import Settings, SettingsDep, SnapshotDep
from graphiff.workbench.models import ExportRequest, PackageRequest
from graphiff.workbench.snapshot import Snapshot

router = APIRouter(prefix="/api", tags=["export"])

#: Content type of each chart format's download.
CONTENT_TYPES = {"html": "text/html; charset=utf-8", "anx": "application/xml", "graphml": "application/xml",
                 "gexf": "application/xml", "cyjs": "application/json", "png": "image/png",
                 "svg": "image/svg+xml"}

#: The OpenAPI description of a download answer.
DOWNLOAD = {"description": "The file, as a download.", "content": {"application/octet-stream": {}}}


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


def check_key(settings: Settings, redact: str) -> None:
    """Refuse a pseudonymised package when the server has no team key (400 saying how)."""
    if redact == "pseudonymise" and settings.key is None:
        raise PackageError("redact pseudonymise needs the team key, and this server has none: start graphiff serve "
                           f"with --key-file FILE (or set {KEY_ENV}), or choose redact remove or none")


def chart_format(fmt: str) -> str:
    """A chart format's name as :data:`graphiff.charts.base.FORMATS` has it (400 for an unknown one)."""
    name = fmt.lower().lstrip(".")
    if name not in FORMATS:
        raise GraphiffError(f"unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    return name


def chart_download(sub: Subgraph, fmt: str, filename: str) -> tuple[Response, list[str]]:
    """``sub`` written as a link chart in ``fmt`` (from :func:`chart_format`): the download and
    the node ids in it."""
    with tempfile.TemporaryDirectory(prefix="graphiff-export-") as tmp:
        out = write_chart(sub, fmt, Path(tmp) / f"view{FORMATS[fmt].suffix}")
        data = out.read_bytes()
    return (attachment(data, CONTENT_TYPES.get(fmt, "application/octet-stream"), f"{filename}{FORMATS[fmt].suffix}"),
            [n.id for n in sub.nodes])


def attachment(data: bytes, media_type: str, filename: str) -> Response:
    """A download named ``filename`` (characters other than letters, digits, ``._-`` replaced)."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return Response(content=data, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{safe}"'})


@router.post("/export", response_class=Response, responses={200: DOWNLOAD})
def export(caller: Exporter, snap: SnapshotDep, body: ExportRequest) -> Response:
    """The view -- its nodes plus the records under its aggregated links -- as a link chart
    (html, anx, graphml, gexf, cyjs, png, svg), returned as a download."""
    fmt = chart_format(body.format)
    sub, shown = _view(snap, body.nodes, body.records, body.title)
    if body.aggregate:
        sub = fold(sub, keep=shown)
    response, ids = chart_download(sub, fmt, "graphiff-view")
    caller.log("export", ids=ids, detail={"format": fmt}, wait=True)
    return response


@router.post("/package", response_class=Response, responses={200: DOWNLOAD})
def package(caller: Packager, snap: SnapshotDep, settings: SettingsDep, body: PackageRequest) -> Response:
    """A sharing package of the view (its nodes and records, with the alerts naming them) for
    ``recipient``, as a zip download; ``pseudonymise`` needs the server to be started with the
    team key. The manifest and the audit entry name the recipient."""
    check_key(settings, body.redact)
    sub, _ = _view(snap, body.nodes, body.records, None)
    sub.title = "graphiff workbench view"
    with tempfile.TemporaryDirectory(prefix="graphiff-package-") as tmp:
        out = Path(tmp) / "package.zip"
        make_package(sub, out, purpose=body.purpose, marking=body.marking, producer=settings.producer,
                     redact=body.redact, key=settings.key, alerts=list(snap.alerts.alerts.values()),
                     store=snap.tables, recipient=body.recipient)
        data = out.read_bytes()
    caller.log("package", ids=[n.id for n in sub.nodes], detail={"recipient": body.recipient, "redaction": body.redact,
                                                                 "purpose": body.purpose, "marking": body.marking},
               wait=True)
    return attachment(data, "application/zip", "graphiff-package.zip")

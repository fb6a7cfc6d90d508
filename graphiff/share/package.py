"""Making a sharing package for joint operations (docs/sharing.md).

A package is one zip file::

    entities.ftm.json   the subgraph as FollowTheMoney entities, JSON lines (graphiff.share.ftm)
    nodes.csv           the same nodes as a table: id, label, key, caption, ftm_id, properties, provenance
    edges.csv           the relationships: id, type, src_label, src, dst_label, dst, properties, provenance
    alerts.json         the alerts in scope (naming at least one entity of the subgraph)
    judgements.json     (only when it has SAME_AS) which records are one entity, for FtM tools
    manifest.json       producer, created, purpose, handling marking, redaction policy, counts,
                        graphiff version, column types, and SHA-256 + size of every other file

CSV cells are formula-safe (:func:`graphiff.model.cells.safe_cell`); a cell that starts with a
single quote was either quoted by ``safe_cell`` or already started with a quote (then it got a
second one), so the importer drops exactly one leading quote and gets the value back.

A package carries records, not resolved entities: a resolved entity of the subgraph goes out as
its records with the ``SAME_AS`` relationships among them (:mod:`graphiff.share.judgements`).

The redaction policies are in :mod:`graphiff.share.redact`; reading and verifying a package is
:mod:`graphiff.share.verify`; merging one into a store is :mod:`graphiff.share.importer`.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import zipfile
from dataclasses import replace
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable, Literal

from graphiff.alerts import alert_from_row
from graphiff.errors import PackageError
from graphiff.graph.subgraph import SubEdge, Subgraph, SubNode
from graphiff.graph.tables import Tables
from graphiff.model import model
from graphiff.model.cells import plain_value, safe_cell
from graphiff.model.identity import PROVENANCE, REL_ENDS, rel_id, rel_ident, split_node_id
from graphiff.share.ftm import ftm_id, ftm_json_lines, to_ftm
from graphiff.share.judgements import JUDGEMENTS_FILE, as_records, judgements, judgements_json
from graphiff.share.keys import check_key, manifest_key_id
from graphiff.share.named import personal_index
from graphiff.share.redact import POLICIES, Redactor
from graphiff.stores.base import Store

#: ``format`` of every package manifest, and the newest format version this graphiff writes and reads.
FORMAT = "graphiff-package"
FORMAT_VERSION = 1
#: The files of a package besides ``manifest.json`` (``judgements.json`` only when it has a SAME_AS).
FILES = ("entities.ftm.json", "nodes.csv", "edges.csv", "alerts.json", JUDGEMENTS_FILE)
#: The fixed leading columns of nodes.csv and edges.csv (properties and provenance follow).
NODE_FIXED = ("id", "label", "key", "caption", "ftm_id")
EDGE_FIXED = ("id", "type", "src_label", "src", "dst_label", "dst")


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _version() -> str:
    """The installed graphiff's version (from the package metadata)."""
    try:
        return metadata.version("graphiff")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "unknown"


def _alert_dict(a: Any) -> dict[str, Any]:
    if hasattr(a, "to_dict"):
        return a.to_dict()
    if isinstance(a, dict):
        d = dict(a)
        d.setdefault("entities", [])
        return d
    raise PackageError(f"not an alert: {a!r}")


def _split_alerts(sub: Subgraph, alerts: Iterable[Any]) -> tuple[Subgraph, list[dict[str, Any]]]:
    """Alert nodes and FLAGS edges leave the graph; the alerts in scope go to alerts.json.

    ``alerts`` (Alert records or dicts) win over Alert nodes of ``sub`` with the same id; the
    other Alert nodes are decoded by :func:`graphiff.alerts.alert_from_row`, with their
    entities in the order of their FLAGS edges."""
    by_id: dict[str, dict[str, Any]] = {}
    for a in alerts:
        d = _alert_dict(a)
        by_id[str(d.get("id"))] = d
    for n in sub.nodes:
        if n.label != "Alert" or n.key in by_id:
            continue
        entities = [dict(zip(("label", "id"), split_node_id(e.target)))
                    for e in sub.edges if e.type == "FLAGS" and e.source == n.id]
        by_id[n.key] = alert_from_row({**n.props, "key": n.key}, entities).to_dict()
    graph_nodes = [n for n in sub.nodes if n.label != "Alert"]
    ids = {n.id for n in graph_nodes}
    graph_edges = [e for e in sub.edges if e.type != "FLAGS" and e.source in ids and e.target in ids]
    seeds = set(sub.seeds)
    in_scope = [a for a in by_id.values()
                if a.get("id") in seeds or f"Alert:{a.get('id')}" in seeds
                or any(f"{e.get('label')}:{e.get('id')}" in ids for e in a.get("entities", []))]
    in_scope.sort(key=lambda a: (-float(a.get("score") or 0), str(a.get("id"))))
    return replace(sub, nodes=graph_nodes, edges=graph_edges), in_scope


def _col_type(values: Iterable[Any]) -> str:
    kinds = set()
    for v in values:
        pv = plain_value(v)
        if pv is None:
            continue
        kinds.add("bool" if isinstance(pv, bool) else "int" if isinstance(pv, int)
                  else "float" if isinstance(pv, float) else "str")
    if not kinds:
        return "str"
    if kinds <= {"int"}:
        return "int"
    if kinds <= {"int", "float"}:
        return "float"
    if kinds == {"bool"}:
        return "bool"
    return "str"


def _cell(v: Any) -> str:
    pv = plain_value(v)
    if pv is None:
        return ""
    if isinstance(pv, float):
        return repr(pv)
    text = safe_cell(pv)
    if isinstance(pv, str) and pv.startswith("'"):
        text = "'" + pv       # a value that starts with a quote gets a second one (see module doc)
    return text


def _csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([safe_cell(h) for h in header])
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _prop_columns(items: Iterable[dict[str, Any]], fixed: tuple[str, ...]) -> list[str]:
    cols: set[str] = set()
    for props in items:
        cols.update(k for k, v in props.items() if plain_value(v) is not None)
    cols -= set(fixed) | set(PROVENANCE) | set(REL_ENDS) | {"key", "rid"}
    return sorted(cols)


def _tables(sub: Subgraph) -> tuple[bytes, bytes, dict[str, dict[str, dict[str, str]]]]:
    """nodes.csv, edges.csv and the column types (per label / type) of ``sub``."""
    ncols = _prop_columns((n.props for n in sub.nodes), NODE_FIXED)
    header = [*NODE_FIXED, *ncols, *PROVENANCE]
    rows = []
    types: dict[str, dict[str, dict[str, str]]] = {"nodes": {}, "edges": {}}
    by_label: dict[str, list[SubNode]] = {}
    for n in sorted(sub.nodes, key=lambda n: (n.label, n.key)):
        by_label.setdefault(n.label, []).append(n)
        rows.append([_cell(n.id), _cell(n.label), _cell(n.key), _cell(n.caption), ftm_id(n.label, n.key),
                     *[_cell(n.props.get(c)) for c in ncols], *[_cell(n.props.get(c)) for c in PROVENANCE]])
    for label, ns in by_label.items():
        cols = sorted({k for n in ns for k, v in n.props.items() if plain_value(v) is not None} - {"key", *PROVENANCE})
        types["nodes"][label] = {c: _col_type(n.props.get(c) for n in ns) for c in cols}
    nodes_csv = _csv_bytes(header, rows)

    ecols = _prop_columns((e.props for e in sub.edges), EDGE_FIXED)
    header = [*EDGE_FIXED, *ecols, *PROVENANCE]
    rows = []
    by_type: dict[str, list[SubEdge]] = {}
    for e in sorted(sub.edges, key=lambda e: (e.type, e.source, e.target, str(e.props.get("role", "")))):
        by_type.setdefault(e.type, []).append(e)
        sl, _, sk = e.source.partition(":")
        dl, _, dk = e.target.partition(":")
        ident = rel_ident(plain_value(e.props.get(c)) for c in model().rel(e.type).identity)
        rows.append([_cell(rel_id(e.type, sl, sk, dl, dk, ident)), _cell(e.type), _cell(sl), _cell(sk), _cell(dl),
                     _cell(dk), *[_cell(e.props.get(c)) for c in ecols], *[_cell(e.props.get(c)) for c in PROVENANCE]])
    for t, es in by_type.items():
        cols = sorted({k for e in es for k, v in e.props.items() if plain_value(v) is not None}
                      - {"rid", *REL_ENDS, *PROVENANCE})
        types["edges"][t] = {c: _col_type(e.props.get(c) for e in es) for c in cols}
    return nodes_csv, _csv_bytes(header, rows), types


def make_package(sub: Subgraph, out: str | Path, *, purpose: str, marking: str, producer: str,
                 redact: Literal["none", "pseudonymise", "remove"] = "pseudonymise", key: bytes | None = None,
                 alerts: Iterable[Any] = (), store: Store | Tables | None = None, recipient: str | None = None,
                 legal_basis: str | None = None, case: str | None = None) -> dict[str, Any]:
    """Write ``sub`` as a sharing package zip to ``out`` and return its manifest.

    ``purpose`` (why it is shared), ``marking`` (handling marking, e.g. "TLP:AMBER") and
    ``producer`` (the sending team) are required; ``recipient`` (who it is for), ``legal_basis``
    (the law or mandate allowing the use) and ``case`` (the case it was made from,
    :mod:`graphiff.casework.cases`) go into the manifest when given. ``redact`` is the policy (module docstring);
    ``pseudonymise`` needs the team ``key`` (:func:`graphiff.share.keys.check_key`: at least 32
    bytes and 128 bits of estimated entropy; the manifest names it by its random id, never by a
    hash of it). ``alerts`` are Alert objects or dicts; those naming an entity of ``sub`` (and
    Alert nodes of ``sub``) go to ``alerts.json``. ``store`` is the store ``sub`` comes from:
    with it, persons and accounts that alert texts or free-text properties name without being
    in ``sub`` are recognised by every identifier the store holds for them and redacted like the
    subgraph's (:mod:`graphiff.share.named`); without it, only by the alerts' structure, so give
    it whenever a redacted package carries alerts. With it, a resolved entity of ``sub`` goes
    out as its records and the ``SAME_AS`` among them (linked, confirmed and rejected, with
    their evidence), also listed in ``judgements.json``
    (:func:`graphiff.share.judgements.as_records`); give the :class:`Tables` ``sub`` was
    selected from (resolved or not), or the store (then its nodes tell whether ``sub`` is the
    resolved view). Cost: linear in the subgraph and the alerts'
    texts, plus one read of the store's Person and BankAccount tables when ``store`` is given.
    The zip is written to a temporary name and renamed, so nobody sees half a package.
    """
    if redact not in POLICIES:
        raise PackageError(f"unknown redaction policy {redact!r}; choose one of: {', '.join(POLICIES)}")
    for name, value in (("purpose", purpose), ("marking", marking), ("producer", producer)):
        if not str(value or "").strip():
            raise PackageError(f"a package needs a {name}")
    check_key(key, required=redact == "pseudonymise")

    graph, scoped = _split_alerts(sub, alerts)
    tables = store if isinstance(store, Tables) else Tables(store) if store is not None else None
    graph = as_records(graph, tables)
    key_ref = None
    if redact != "none":
        r = Redactor(redact, bytes(key) if key else None)
        r.plan(graph, scoped, personal_index(tables) if tables is not None else None)
        scoped = [r.alert(a) for a in scoped]      # first: the subgraph's seeds and title name the new alert ids
        graph = r.subgraph(graph)
        purpose = str(r.text(purpose) or "[removed]")
        key_ref = manifest_key_id(key)

    entities = to_ftm(graph, publisher=producer)
    nodes_csv, edges_csv, col_types = _tables(graph)
    contents = {
        "entities.ftm.json": ftm_json_lines(entities),
        "nodes.csv": nodes_csv,
        "edges.csv": edges_csv,
        "alerts.json": json.dumps(scoped, indent=2, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8"),
    }
    judged = judgements(graph)
    if judged:
        contents[JUDGEMENTS_FILE] = judgements_json(judged)
    node_counts: dict[str, int] = {}
    for n in graph.nodes:
        node_counts[n.label] = node_counts.get(n.label, 0) + 1
    edge_counts: dict[str, int] = {}
    for e in graph.edges:
        edge_counts[e.type] = edge_counts.get(e.type, 0) + 1
    schema_counts: dict[str, int] = {}
    for ent in entities:
        schema_counts[ent["schema"]] = schema_counts.get(ent["schema"], 0) + 1
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "producer": producer,
        "created": _now(),
        "purpose": purpose,
        "marking": marking,
        **{k: v for k, v in (("recipient", recipient), ("legal_basis", legal_basis), ("case", case))
           if str(v or "").strip()},
        "redaction": {"policy": redact, "key_id": key_ref,
                      "method": {"none": "nothing redacted",
                                 "pseudonymise": "personal identifiers replaced by psn- + HMAC-SHA256(team key)",
                                 "remove": "personal identifiers removed; persons and their accounts kept "
                                           "with opaque ids"}[redact]},
        "title": graph.title,
        "seeds": list(graph.seeds),
        "omitted": {k: int(v) for k, v in graph.omitted.items()},
        "counts": {"nodes": dict(sorted(node_counts.items())), "relationships": dict(sorted(edge_counts.items())),
                   "entities": dict(sorted(schema_counts.items())), "alerts": len(scoped),
                   **({"judgements": len(judged)} if judged else {})},
        "columns": col_types,
        "graphiff_version": _version(),
        "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                  for name, data in contents.items()},
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in contents.items():
                zf.writestr(name, data)
            zf.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True))
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return manifest


__all__ = ["make_package", "FORMAT", "FORMAT_VERSION", "FILES", "NODE_FIXED", "EDGE_FIXED"]

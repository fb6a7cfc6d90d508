"""Importing a partner's sharing package into a store.

:func:`import_package` verifies every file against the manifest (:mod:`graphiff.share.verify`)
before anything is written, reads the nodes and relationships (from nodes.csv/edges.csv with
their manifest column types, else from entities.ftm.json), then merges them idempotently with
the partner as provenance, through the ingest writer (:mod:`graphiff.ingest.writer`).
Relationship identities are :func:`graphiff.model.identity.rel_id`. Records that already exist
locally keep their local values (and provenance); the package only fills gaps.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from graphiff.errors import PackageError
from graphiff.ingest.writer import Provenance, write_nodes, write_rels
from graphiff.model import model
from graphiff.model.identity import PROVENANCE, REL_ENDS, rel_id, split_node_id
from graphiff.share.ftm_read import from_ftm, read_ftm_json_lines
from graphiff.share.package import EDGE_FIXED, NODE_FIXED
from graphiff.share.verify import read_package
from graphiff.stores import Store


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _uncell(text: str) -> str:
    return text[1:] if text.startswith("'") else text


def _typed_values(row: dict[str, str], skip: set[str], ctypes: dict[str, str], where: str) -> dict[str, Any]:
    """The non-empty cells of a CSV row converted to their manifest types (``where`` names the
    row in errors)."""
    out: dict[str, Any] = {}
    for c, v in row.items():
        if c in skip or v == "":
            continue
        try:
            out[c] = _convert(v, ctypes.get(c, "str"))
        except ValueError:
            raise PackageError(f"{where}, column {c!r}: bad value {v!r}") from None
    return out


def _convert(value: str, kind: str) -> Any:
    if value == "":
        return None
    if kind == "int":
        try:
            return int(value)
        except ValueError:
            return float(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        return value.lower() in ("true", "1")
    return value


def _read_csv(data: bytes, fname: str, pkg: str) -> tuple[list[str], list[dict[str, str]]]:
    try:
        text = data.decode("utf-8")
        reader = csv.reader(io.StringIO(text, newline=""))
        header = [_uncell(h) for h in next(reader, [])]
        rows = [dict(zip(header, (_uncell(c) for c in row))) for row in reader if row]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise PackageError(f"package {pkg}: {fname} cannot be read as CSV: {exc}") from None
    return header, rows


def _frames_from_csv(files: dict[str, bytes], manifest: dict[str, Any], pkg: str
                     ) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    m = model()
    types = manifest.get("columns") or {}
    header, rows = _read_csv(files["nodes.csv"], "nodes.csv", pkg)
    for c in ("label", "key"):
        if c not in header:
            raise PackageError(f"package {pkg}: nodes.csv has no {c!r} column")
    skip = set(NODE_FIXED) | set(PROVENANCE)
    nodes: dict[str, list[dict[str, Any]]] = {}
    for i, row in enumerate(rows, start=2):
        label, key = row.get("label", ""), row.get("key", "")
        if label not in m.nodes:
            raise PackageError(f"package {pkg}: nodes.csv line {i}: unknown label {label!r}")
        if not key:
            raise PackageError(f"package {pkg}: nodes.csv line {i}: empty key")
        rec: dict[str, Any] = {"key": key}
        rec.update(_typed_values(row, skip, (types.get("nodes") or {}).get(label, {}),
                                 f"package {pkg}: nodes.csv line {i}"))
        rec["_line"] = i
        nodes.setdefault(label, []).append(rec)
    header, rows = _read_csv(files["edges.csv"], "edges.csv", pkg)
    for c in ("type", *REL_ENDS):
        if c not in header:
            raise PackageError(f"package {pkg}: edges.csv has no {c!r} column")
    skip = set(EDGE_FIXED) | set(PROVENANCE)
    rels: dict[str, list[dict[str, Any]]] = {}
    for i, row in enumerate(rows, start=2):
        t = row.get("type", "")
        if t not in m.relationships:
            raise PackageError(f"package {pkg}: edges.csv line {i}: unknown relationship type {t!r}")
        rt = m.rel(t)
        if row["src_label"] not in rt.sources or row["dst_label"] not in rt.targets:
            raise PackageError(f"package {pkg}: edges.csv line {i}: {t} cannot join {row['src_label']} to "
                               f"{row['dst_label']}")
        if not row["src"] or not row["dst"]:
            raise PackageError(f"package {pkg}: edges.csv line {i}: empty src or dst")
        rec = {c: row[c] for c in REL_ENDS}
        rec.update(_typed_values(row, skip, (types.get("edges") or {}).get(t, {}),
                                 f"package {pkg}: edges.csv line {i}"))
        rec["_line"] = i
        rels.setdefault(t, []).append(rec)
    def frame(records: list[dict[str, Any]], ctypes: dict[str, str]) -> pd.DataFrame:
        df = pd.DataFrame(records)
        for c, kind in ctypes.items():      # keep integer columns integer when some values are missing
            if c in df.columns and kind in ("int", "bool"):
                try:
                    df[c] = df[c].astype("Int64" if kind == "int" else "boolean")
                except (TypeError, ValueError):
                    pass
        return df

    return ({k: frame(v, (types.get("nodes") or {}).get(k, {})) for k, v in nodes.items()},
            {k: frame(v, (types.get("edges") or {}).get(k, {})) for k, v in rels.items()})


def _frames_from_ftm(files: dict[str, bytes], pkg: str) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    try:
        sub = from_ftm(read_ftm_json_lines(files["entities.ftm.json"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise PackageError(f"package {pkg}: entities.ftm.json cannot be read: {exc}") from None
    nodes: dict[str, list[dict[str, Any]]] = {}
    for i, n in enumerate(sub.nodes, start=1):
        nodes.setdefault(n.label, []).append({"key": n.key, **n.props, "_line": i})
    rels: dict[str, list[dict[str, Any]]] = {}
    for i, e in enumerate(sub.edges, start=1):
        sl, sk = split_node_id(e.source)
        dl, dk = split_node_id(e.target)
        rels.setdefault(e.type, []).append({"src_label": sl, "src": sk, "dst_label": dl, "dst": dk, **e.props,
                                            "_line": i})
    return ({k: pd.DataFrame(v) for k, v in nodes.items()}, {k: pd.DataFrame(v) for k, v in rels.items()})


def _only_gaps(incoming: pd.DataFrame, local: pd.DataFrame, on: str, fixed: Iterable[str] = ()) -> pd.DataFrame:
    """``incoming`` with every value the local row already has blanked out (local data wins);
    rows of known records left with nothing to write are dropped. Columns in ``fixed`` (keys,
    relationship ends and identity) are never blanked."""
    incoming = incoming.reset_index(drop=True)
    if not len(local) or on not in local.columns:
        return incoming
    local = local.drop_duplicates(subset=[on]).set_index(on)
    known = incoming[on].isin(local.index).to_numpy()
    if not known.any():
        return incoming
    out = incoming.astype(object).copy()
    fixed = {on, *REL_ENDS, *fixed}
    value_cols = [c for c in out.columns if c not in fixed]
    for c in value_cols:
        if c in local.columns:
            have = local[c].reindex(out[on]).notna().to_numpy()
            out.loc[have, c] = None
    anything = out[value_cols].notna().any(axis=1).to_numpy() if value_cols else np.zeros(len(out), dtype=bool)
    return out[~known | anything].reset_index(drop=True)


def import_package(store: Store, path: str | Path) -> dict[str, Any]:
    """Verify the package at ``path`` and merge it into ``store``; return a summary.

    Nothing is written unless every file matches the manifest and the tables parse. Rows get
    provenance ``_source = "package:<producer>:<zip name>"``, ``_load_id = "P" +
    sha256(manifest)[:12]``; the load is recorded with the partner as producer. Existing local
    values are kept (the package only fills gaps), so importing the same package twice changes
    nothing.
    """
    path = Path(path)
    manifest, manifest_bytes, files = read_package(path)
    producer = str(manifest.get("producer") or "unknown")
    if {"nodes.csv", "edges.csv"} <= set(files):
        nodes, rels = _frames_from_csv(files, manifest, path.name)
        origin = "csv"
    else:
        nodes, rels = _frames_from_ftm(files, path.name)
        origin = "ftm"
    load_id = "P" + hashlib.sha256(manifest_bytes).hexdigest()[:12]
    previous = next((d for d in store.loads() if d.get("load_id") == load_id), None)
    now = _now()
    loaded_at = (previous or {}).get("loaded_at") or now
    source = f"package:{producer}:{path.name}"
    prov = Provenance(source=source, load_id=load_id, loaded_at=loaded_at)

    m = model()
    written_nodes: dict[str, int] = {}
    for label in sorted(nodes):
        frame = prov.stamp(nodes[label])         # rows keep their package line as _line
        keyprop = m.node(label).key
        if keyprop not in frame.columns:
            frame[keyprop] = frame["key"]
        frame = frame.drop_duplicates(subset=["key"], keep="last")
        todo = _only_gaps(frame, store.nodes(label), "key")
        if len(todo):
            # stamped before the gaps are found, so a local node keeps its own provenance
            store.upsert_nodes(label, todo)
        written_nodes[label] = int(len(todo))
    # end nodes a relationship needs but the package does not describe: bare, with provenance
    have = {label: set(f["key"]) for label, f in nodes.items()}
    for t, frame in rels.items():
        for end in ("src", "dst"):
            for label, keys in frame.groupby(f"{end}_label")[end]:
                extra = sorted(set(keys) - have.get(str(label), set()))
                if extra:
                    write_nodes(store, str(label), pd.DataFrame({"key": extra, "_line": None}), prov,
                                on_conflict="keep")
                    have.setdefault(str(label), set()).update(extra)
    written_rels: dict[str, int] = {}
    for t in sorted(rels):
        rt = m.rel(t)
        frame = prov.stamp(rels[t])
        for c in rt.identity:
            if c not in frame.columns:
                frame[c] = None

        def rids(f: pd.DataFrame) -> list[str]:
            return [rel_id(t, str(r["src_label"]), str(r["src"]), str(r["dst_label"]), str(r["dst"]),
                           "|".join(str(r[c]) for c in rt.identity)) for r in f.to_dict("records")]

        frame.insert(0, "rid", rids(frame))
        frame = frame.drop_duplicates(subset=["rid"], keep="last")
        local = store.rels(t)
        if len(local):
            for c in rt.identity:
                if c not in local.columns:
                    local[c] = None
            local = local.assign(rid=rids(local))
        todo = _only_gaps(frame, local, "rid", rt.identity)
        if len(todo):
            write_rels(store, t, todo.drop(columns=["rid"]))     # stamped before the gaps, as nodes
        written_rels[t] = int(len(todo))

    counts_nodes = {k: int(len(v)) for k, v in sorted(nodes.items())}
    counts_rels = {k: int(len(v)) for k, v in sorted(rels.items())}
    info = {
        "load_id": load_id,
        "kind": "package",
        "producer": producer,
        "package": path.name,
        "source": source,
        "purpose": manifest.get("purpose"),
        "marking": manifest.get("marking"),
        "redaction": (manifest.get("redaction") or {}).get("policy"),
        "created": manifest.get("created"),
        "graphiff_version": manifest.get("graphiff_version"),
        "read_from": origin,
        "loaded": {"nodes": counts_nodes, "relationships": counts_rels},
        "files": [{"file": k, **v} for k, v in sorted(manifest["files"].items())],
        "loaded_at": loaded_at,
        "first_loaded_at": (previous or {}).get("first_loaded_at", loaded_at),
    }
    if previous is None:
        store.record_load(info)
    try:
        alerts = json.loads(files.get("alerts.json", b"[]").decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        alerts = []
    return {**info, "already_imported": previous is not None,
            "written": {"nodes": written_nodes, "relationships": written_rels},
            "alerts": len(alerts) if isinstance(alerts, list) else 0}


__all__ = ["import_package"]

"""``SAME_AS`` in sharing packages: the records behind a resolved entity, and the judgements.

A package carries **records, not conclusions**. In the resolved view (the default of
``graphiff package``) a resolved entity is one node, its relationships rewritten to the
resolved id; :func:`as_records` turns such a subgraph back into the records as loaded -- every
member record of every resolved entity as its own node, each relationship on its original
ends, reference columns (a declaration's ``exporter_id``...) as loaded -- plus the ``SAME_AS``
relationships among the package's records that say which of them are one entity, with their
``score``, ``status``, ``evidence``, ``method``, ``version``, ``decided_by`` and ``decided_at``.
Only :data:`SHARED_STATUSES` go out: ``review`` (waiting for an analyst) and ``unsure`` are
internal. The partner's graphiff joins the records again in its resolved view; an FtM tool
sees them as separate entities and reads the judgements of ``judgements.json``.

``judgements.json`` (written only when the package has a ``SAME_AS``) lists one object per
``SAME_AS`` in the form of nomenklatura's resolver edges (the entity-resolution tool of the FtM
ecosystem; ``nomenklatura.resolver.Edge.from_dict`` reads each object): ``source`` and
``target`` are the FtM entity ids of the two records (``target`` the greater), ``judgement``
``positive`` (linked, confirmed) or ``negative`` (rejected), ``score``, ``user``
(``decided_by``), ``timestamp`` (``decided_at``), plus ``evidence`` (the JSON object of the
``SAME_AS``, redacted like the rest of the package) and a ``graphiff`` context: ``label``,
``source_key``, ``target_key``, ``status``, ``method``, ``version``. A link entity
(``UnknownLink`` with role "same as") would show a rejected pair as a link between two records
that are *not* the same, so the judgements travel beside the entities; the pairs that join are
also FtM ``Similar`` entities (:mod:`graphiff.share.ftm`).
"""
from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Iterable

import pandas as pd

from graphiff.graph.index import caption_of
from graphiff.graph.resolution import RESOLVABLE, Resolution
from graphiff.graph.subgraph import SubEdge, Subgraph, SubNode
from graphiff.graph.tables import Tables
from graphiff.model import model
from graphiff.model.cells import plain_value
from graphiff.model.identity import REL_ENDS, node_id, rel_id, rel_ident, rel_ids, split_node_id
from graphiff.share.ftm import ftm_id

#: The package file of the judgements.
JUDGEMENTS_FILE = "judgements.json"
#: SAME_AS statuses a package carries (``review`` and ``unsure`` stay home).
SHARED_STATUSES = ("linked", "confirmed", "rejected")
#: SAME_AS status -> nomenklatura judgement.
JUDGEMENT = {"linked": "positive", "confirmed": "positive", "rejected": "negative", "unsure": "unsure",
             "review": "no_judgement"}
#: nomenklatura judgement -> SAME_AS status (for judgements without a graphiff context).
STATUS_OF_JUDGEMENT = {"positive": "confirmed", "negative": "rejected", "unsure": "unsure"}
#: Types of the SAME_AS properties that are not text (the package reader converts them).
SAME_AS_KINDS = {"score": "float"}
#: The node properties the resolved view computes (never in a package, refused from a partner).
RESOLVED_COLUMNS = ("aliases", "alias_names")


def _plain_props(rec: dict[str, Any], drop: Iterable[str] = ()) -> dict[str, Any]:
    """A table row as SubNode/SubEdge properties: plain values, missing ones and ``drop`` left out."""
    skip = set(drop)
    return {str(k): pv for k, v in rec.items() if k not in skip and (pv := plain_value(v)) is not None}


def resolved_entities(sub: Subgraph, res: Resolution) -> set[str]:
    """The ids of the nodes of ``sub`` that are resolved entities of ``res``: a cluster's
    representative carrying the cluster's other keys as ``aliases`` (as the resolved view's
    tables have it; a node of the records as loaded never does)."""
    out = set()
    for n in sub.nodes:
        members = res.members.get(n.label, {}).get(n.key)
        if members and str(n.props.get("aliases", "")) == "; ".join(members[1:]):
            out.add(n.id)
    return out


def _raw_rows(raw: Tables, label: str, keys: set[str]) -> dict[str, dict[str, Any]]:
    frame = raw.nodes(label)
    if not len(frame) or not keys:
        return {}
    hit = frame[frame["key"].astype(str).isin(keys).to_numpy()]
    return {str(r["key"]): r for r in hit.to_dict("records")}


def as_records(sub: Subgraph, tables: Tables | None) -> Subgraph:
    """``sub`` as the records it stands for, with the ``SAME_AS`` among them (module docstring).

    Resolved entities (:func:`resolved_entities`) become their member records (from
    ``tables.raw``), every other node gets its properties as loaded, and every relationship of
    ``sub`` becomes the relationships as loaded that the resolved view merged into it; then the
    ``SAME_AS`` relationships of :data:`SHARED_STATUSES` whose two ends are records of the
    result are added. A subgraph of the records as loaded (``--unresolved``) keeps its nodes
    and relationships; only its ``SAME_AS`` of other statuses are dropped. Seeds, title and
    ``omitted`` stay (a resolved entity's seed names its representative, one of the records).
    Cost: one read of the label's and type's tables per label and type of ``sub``.
    """
    sub = _shared_only(sub)
    if tables is None:
        return _without_resolved_columns(sub)
    res = tables.resolution
    raw = tables.raw
    entities = resolved_entities(sub, res) if res else set()
    if not entities and not (tables.resolved and res):
        return _without_resolved_columns(_with_same_as(sub, raw))
    # nodes: members of resolved entities, the others with their values as loaded
    wanted: dict[str, set[str]] = {}
    for n in sub.nodes:
        keys = res.members[n.label][n.key] if n.id in entities else [n.key]
        wanted.setdefault(n.label, set()).update(keys)
    rows = {label: _raw_rows(raw, label, keys) for label, keys in wanted.items()}
    nodes: list[SubNode] = []
    seen: set[str] = set()
    for n in sub.nodes:
        keys = res.members[n.label][n.key] if n.id in entities else [n.key]
        for k in keys:
            nid = node_id(n.label, k)
            if nid in seen:
                continue
            seen.add(nid)
            rec = rows[n.label].get(k)
            if rec is None:      # a node only named by relationships: what the subgraph has
                nodes.append(n if k == n.key else SubNode(nid, n.label, k, k, {}))
                continue
            props = _plain_props(rec, ("key",))
            nodes.append(SubNode(nid, n.label, k, caption_of(n.label, k, props), props))
    # relationships: those as loaded that the resolved view merged into an edge of the subgraph
    m = model()
    by_type: dict[str, dict[str, SubEdge]] = {}
    for e in sub.edges:
        (sl, sk), (dl, dk) = split_node_id(e.source), split_node_id(e.target)
        ident = rel_ident(plain_value(e.props.get(c)) for c in m.rel(e.type).identity)
        by_type.setdefault(e.type, {})[rel_id(e.type, sl, sk, dl, dk, ident)] = e
    edges: list[SubEdge] = []
    for t, want in by_type.items():
        frame = raw.rels(t)
        identity = [c for c in m.rel(t).identity]
        matched: set[str] = set()
        if len(frame):
            ends = frame[list(REL_ENDS)].astype(str)
            inside = (_ids(ends, "src").isin(seen) & _ids(ends, "dst").isin(seen)).to_numpy()
            f = frame[inside].copy()
            ends = ends[inside]
            for c in identity:
                if c not in f.columns:
                    f[c] = None
            mapped = ends.copy()
            for end, lab in (("src", "src_label"), ("dst", "dst_label")):
                for label, reps in res.rep.items():
                    mask = (ends[lab] == label).to_numpy()
                    if mask.any() and reps:
                        vals = ends.loc[mask, end]
                        mapped.loc[mask, end] = vals.map(reps).fillna(vals).to_numpy()
            resolved_ids = rel_ids(t, pd.concat([mapped, f[identity]], axis=1), identity)
            hit = resolved_ids.isin(set(want)).to_numpy()
            for rid, rec in zip(resolved_ids[hit], f[hit].to_dict("records")):
                matched.add(str(rid))
                props = _plain_props(rec, REL_ENDS)
                sl, sk, dl, dk = (str(rec[c]) for c in REL_ENDS)
                eid = rel_id(t, sl, sk, dl, dk, rel_ident(props.get(c) for c in identity))
                edges.append(SubEdge(eid, node_id(sl, sk), node_id(dl, dk), t, props))
        edges.extend(e for rid, e in want.items() if rid not in matched)   # none expected: kept as given
    out = replace(sub, nodes=nodes, edges=edges)
    return _without_resolved_columns(_with_same_as(out, raw))


def _without_resolved_columns(sub: Subgraph) -> Subgraph:
    """``sub`` without the node properties only the resolved view has (:data:`RESOLVED_COLUMNS`):
    a package carries records, and a partner's package may not set them."""
    if not any(c in n.props for n in sub.nodes for c in RESOLVED_COLUMNS):
        return sub
    nodes = [n if not any(c in n.props for c in RESOLVED_COLUMNS)
             else replace(n, props={k: v for k, v in n.props.items() if k not in RESOLVED_COLUMNS}) for n in sub.nodes]
    return replace(sub, nodes=nodes)


def _ids(ends: pd.DataFrame, end: str) -> pd.Series:
    """The node ids (``Label:key``) of one end of relationship rows (their columns as text)."""
    return ends[f"{end}_label"] + ":" + ends[end]


def _shared_only(sub: Subgraph) -> Subgraph:
    """``sub`` without the SAME_AS relationships a package does not carry."""
    keep = [e for e in sub.edges if e.type != "SAME_AS" or str(e.props.get("status")) in SHARED_STATUSES]
    return sub if len(keep) == len(sub.edges) else replace(sub, edges=keep)


def _with_same_as(sub: Subgraph, raw: Tables) -> Subgraph:
    """``sub`` plus the SAME_AS relationships (of :data:`SHARED_STATUSES`) between two of its
    records that it does not hold yet."""
    same = raw.rels("SAME_AS")
    if not len(same) or "status" not in same.columns:
        return sub
    ids = {n.id for n in sub.nodes if n.label in RESOLVABLE}
    have = {e.id for e in sub.edges if e.type == "SAME_AS"}
    ends = same[list(REL_ENDS)].astype(str)
    keep = (same["status"].astype(str).isin(SHARED_STATUSES) & _ids(ends, "src").isin(ids)
            & _ids(ends, "dst").isin(ids)).to_numpy()
    extra: list[SubEdge] = []
    for rec in same[keep].to_dict("records"):
        src, dst = node_id(str(rec["src_label"]), str(rec["src"])), node_id(str(rec["dst_label"]), str(rec["dst"]))
        eid = rel_id("SAME_AS", str(rec["src_label"]), str(rec["src"]), str(rec["dst_label"]), str(rec["dst"]))
        if eid in have:
            continue
        have.add(eid)
        extra.append(SubEdge(eid, src, dst, "SAME_AS", _plain_props(rec, REL_ENDS)))
    return replace(sub, edges=[*sub.edges, *extra]) if extra else sub


def _evidence_object(value: Any) -> Any:
    """The evidence of a SAME_AS as JSON data (its text when it is not JSON)."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def judgements(sub: Subgraph) -> list[dict[str, Any]]:
    """The ``judgements.json`` entries of the SAME_AS relationships of ``sub`` (the subgraph
    as it goes into the package: redacted), sorted by ``(target, source)``.

    >>> e = SubEdge("x", "Trader:A", "Trader:B", "SAME_AS", {"status": "rejected", "score": 0.3,
    ...             "evidence": '{"tin": {"match": "different"}}', "decided_by": "ana", "decided_at": "2026-01-02"})
    >>> [j] = judgements(Subgraph(edges=[e]))
    >>> j["judgement"], j["score"], j["user"], j["evidence"]
    ('negative', 0.3, 'ana', {'tin': {'match': 'different'}})
    >>> sorted([j["source"], j["target"]]) == sorted([ftm_id("Trader", "A"), ftm_id("Trader", "B")])
    True
    """
    out = []
    for e in sub.edges:
        if e.type != "SAME_AS":
            continue
        (sl, sk), (dl, dk) = split_node_id(e.source), split_node_id(e.target)
        a, b = (ftm_id(sl, sk), sk), (ftm_id(dl, dk), dk)
        (target, target_key), (source, source_key) = max(a, b), min(a, b)
        status = str(e.props.get("status"))
        score = plain_value(e.props.get("score"))
        out.append({
            "target": target, "source": source, "judgement": JUDGEMENT.get(status, "no_judgement"),
            "score": score if isinstance(score, (int, float)) and not isinstance(score, bool) else None,
            "user": plain_value(e.props.get("decided_by")), "timestamp": plain_value(e.props.get("decided_at")),
            "evidence": _evidence_object(plain_value(e.props.get("evidence"))),
            "graphiff": {"label": sl, "source_key": source_key, "target_key": target_key, "status": status,
                         "method": plain_value(e.props.get("method")), "version": plain_value(e.props.get("version"))},
        })
    out.sort(key=lambda j: (j["target"], j["source"]))
    return out


def judgements_json(items: list[dict[str, Any]]) -> bytes:
    """``judgements.json``: the entries as one JSON array."""
    return json.dumps(items, indent=2, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")


__all__ = ["JUDGEMENTS_FILE", "SHARED_STATUSES", "JUDGEMENT", "STATUS_OF_JUDGEMENT", "SAME_AS_KINDS",
           "RESOLVED_COLUMNS", "resolved_entities", "as_records", "judgements", "judgements_json"]

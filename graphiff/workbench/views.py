"""How subgraphs, nodes and query lists are written in the API's answers (docs/api.md)."""
from __future__ import annotations

from typing import Any, Iterable

from graphiff.errors import GraphiffError
from graphiff.graph.subgraph import SubEdge, Subgraph, SubNode
from graphiff.model.cells import plain_value

__all__ = ["id_list", "node_json", "edge_json", "subgraph_json", "alert_key"]


def id_list(values: Iterable[str] | None, what: str = "ids", *, limit: int | None = None) -> list[str]:
    """Query-string lists: comma-separated values and repeated parameters both work; blanks
    are dropped, each value kept once, in order.

    >>> id_list(["Trader:T1,Trader:T2", "T3", " "])
    ['Trader:T1', 'Trader:T2', 'T3']
    """
    out: dict[str, None] = {}
    for v in values or ():
        for part in str(v).split(","):
            if part.strip():
                out.setdefault(part.strip())
    if limit is not None and len(out) > limit:
        raise GraphiffError(f"too many {what}: {len(out)} (at most {limit})")
    return list(out)


def alert_key(ref: str) -> str:
    """An alert id with or without the ``Alert:`` label."""
    return ref[len("Alert:"):] if ref.startswith("Alert:") else ref


def _props(props: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in props.items():
        if isinstance(v, list):
            out[str(k)] = [plain_value(x) for x in v]
        elif (pv := plain_value(v)) is not None:
            out[str(k)] = pv
    return out


def node_json(n: SubNode, flags: dict[str, list[str]], seeds: set[str]) -> dict[str, Any]:
    """A node of an answer: id, label, caption, properties (provenance included), seed,
    flagged_by (alert ids)."""
    return {"id": n.id, "label": n.label, "caption": str(n.caption), "properties": _props(n.props),
            "seed": n.id in seeds, "flagged_by": flags.get(n.id, [])}


def edge_json(e: SubEdge) -> dict[str, Any]:
    """A relationship of an answer: id, source, target, type, properties."""
    return {"id": e.id, "source": e.source, "target": e.target, "type": e.type, "properties": _props(e.props)}


def subgraph_json(sub: Subgraph) -> dict[str, Any]:
    """The ``{nodes, edges, left_out, left_out_by_label, hubs, seeds}`` of an answer."""
    ids = {n.id for n in sub.nodes}
    flags: dict[str, list[str]] = {}
    for e in sub.edges:
        if e.type == "FLAGS" and e.source in ids:
            flags.setdefault(e.target, []).append(alert_key(e.source))
    seeds = set(sub.seeds)
    left = {str(k): int(v) for k, v in sorted(sub.omitted.items()) if v}
    return {
        "nodes": [node_json(n, flags, seeds) for n in sub.nodes],
        "edges": [edge_json(e) for e in sub.edges if e.source in ids and e.target in ids],
        "left_out": sum(left.values()),
        "left_out_by_label": left,
        "hubs": [{"id": k, "counts": dict(v)} for k, v in sub.hubs.items()],
        "seeds": [s for s in sub.seeds if s in ids],     # records folded into links are not shown
    }

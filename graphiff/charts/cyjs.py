"""Cytoscape JSON (``.cyjs``): ``{"data": {...}, "elements": {"nodes": [...], "edges": [...]}}``.

Readable by Cytoscape desktop (File > Import > Network from File) and by Cytoscape.js
(``cy.json(...)``). Node data: ``id``, ``label`` (entity label), ``key``, ``caption``, ``name``
(= caption, what Cytoscape desktop shows), style hints, ``hub`` (a node above the hub limit,
shown but not walked through: its neighbours counted by label) and every property; a property
whose name clashes with one of those gets the prefix ``prop_``. Edge data: ``id``, ``source``,
``target``, ``type``, ``interaction`` (= type), every property (JSON keeps lists as lists: an
aggregated link's ``record_ids`` and ``hs6``) and, for a relationship drawn otherwise (FLAGS,
SAME_AS, the aggregated ``TRADED_WITH`` / ``PAID``), ``caption``, ``colour`` and ``width``.
The document's ``data`` says what the node cap left out and which hubs were not expanded.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from graphiff.charts.base import flagged_by, hubs_note, omitted_note, valid_edges
from graphiff.charts.layout import layout_positions
from graphiff.charts.style import edge_caption, edge_style, edge_style_name, style_for
from graphiff.graph.subgraph import Subgraph
from graphiff.model.cells import plain_value

NODE_RESERVED = {"id", "label", "key", "caption", "name", "colour", "shape", "alert", "flagged_by",
                 "parent", "source", "target", "hub"}
EDGE_RESERVED = {"id", "source", "target", "type", "interaction", "name", "caption", "colour", "width"}


def _props(props: dict[str, Any]) -> dict[str, Any]:
    """Plain JSON values, missing ones dropped; a list of plain values stays a list."""
    out: dict[str, Any] = {}
    for k, v in (props or {}).items():
        if isinstance(v, (list, tuple)) and all(not isinstance(x, (list, tuple, dict)) for x in v):
            out[str(k)] = [p for x in v if (p := plain_value(x)) is not None]
        elif (pv := plain_value(v)) is not None:
            out[str(k)] = pv
    return out


def _merge(base: dict[str, Any], props: dict[str, Any], reserved: set[str]) -> dict[str, Any]:
    for k, v in props.items():
        name = k
        while name in reserved or name in base:
            name = "prop_" + name
        base[name] = v
    return base


def cyjs_document(sub: Subgraph) -> dict[str, Any]:
    """The Cytoscape JSON document for ``sub``."""
    positions = layout_positions(sub)
    flags = flagged_by(sub)
    nodes = []
    for n in sub.nodes:
        st = style_for(n.label)
        caption = str(plain_value(n.caption) or n.key)
        data: dict[str, Any] = {
            "id": n.id, "label": n.label, "key": str(n.key), "caption": caption, "name": caption,
            "colour": st.colour, "shape": st.shape, "alert": n.label == "Alert",
        }
        if n.id in flags:
            data["flagged_by"] = flags[n.id]
        if n.id in sub.hubs:
            data["hub"] = dict(sub.hubs[n.id])
        x, y = positions.get(n.id, (0.0, 0.0))
        nodes.append({"data": _merge(data, _props(n.props), NODE_RESERVED), "position": {"x": x, "y": y}})
    edges = []
    for e in valid_edges(sub):
        data = {"id": str(e.id), "source": e.source, "target": e.target, "type": e.type, "interaction": e.type}
        if edge_style_name(e.type, e.props):
            look = edge_style(e.type, e.props)
            data.update(caption=edge_caption(e.type, e.props), colour=look.colour, width=look.width)
        edges.append({"data": _merge(data, _props(e.props), EDGE_RESERVED)})
    return {
        "format_version": "1.0",
        "generated_by": "graphiff",
        "target_cytoscapejs_version": "~3",
        "data": {
            "name": str(sub.title), "title": str(sub.title), "seeds": [str(s) for s in sub.seeds],
            "omitted": {str(k): int(v) for k, v in sub.omitted.items()}, "omitted_note": omitted_note(sub),
            "hubs": {str(k): dict(v) for k, v in sub.hubs.items()}, "hubs_note": hubs_note(sub),
        },
        "elements": {"nodes": nodes, "edges": edges},
    }


def write_cyjs(sub: Subgraph, out: Path) -> None:
    """Write ``sub`` as Cytoscape JSON to ``out``."""
    text = json.dumps(cyjs_document(sub), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    Path(out).write_bytes(text.encode("utf-8", errors="replace"))   # lone surrogates -> "?"

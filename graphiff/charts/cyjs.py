"""Cytoscape JSON (``.cyjs``): ``{"data": {...}, "elements": {"nodes": [...], "edges": [...]}}``.

Readable by Cytoscape desktop (File > Import > Network from File) and by Cytoscape.js
(``cy.json(...)``). Node data: ``id``, ``label`` (entity label), ``key``, ``caption``, ``name``
(= caption, what Cytoscape desktop shows), style hints and every property; a property whose name
clashes with one of those gets the prefix ``prop_``. Edge data: ``id``, ``source``, ``target``,
``type``, ``interaction`` (= type) and every property.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from graphiff.charts.base import flagged_by, omitted_note, valid_edges
from graphiff.charts.layout import layout_positions
from graphiff.charts.style import style_for
from graphiff.graph.subgraph import Subgraph
from graphiff.model.cells import clean_props, plain_value

NODE_RESERVED = {"id", "label", "key", "caption", "name", "colour", "shape", "alert", "flagged_by",
                 "parent", "source", "target"}
EDGE_RESERVED = {"id", "source", "target", "type", "interaction", "name"}


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
        x, y = positions.get(n.id, (0.0, 0.0))
        nodes.append({"data": _merge(data, clean_props(n.props), NODE_RESERVED), "position": {"x": x, "y": y}})
    edges = []
    for e in valid_edges(sub):
        data = {"id": str(e.id), "source": e.source, "target": e.target, "type": e.type, "interaction": e.type}
        edges.append({"data": _merge(data, clean_props(e.props), EDGE_RESERVED)})
    return {
        "format_version": "1.0",
        "generated_by": "graphiff",
        "target_cytoscapejs_version": "~3",
        "data": {
            "name": str(sub.title), "title": str(sub.title), "seeds": [str(s) for s in sub.seeds],
            "omitted": {str(k): int(v) for k, v in sub.omitted.items()}, "omitted_note": omitted_note(sub),
        },
        "elements": {"nodes": nodes, "edges": edges},
    }


def write_cyjs(sub: Subgraph, out: Path) -> None:
    """Write ``sub`` as Cytoscape JSON to ``out``."""
    text = json.dumps(cyjs_document(sub), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    Path(out).write_bytes(text.encode("utf-8", errors="replace"))   # lone surrogates -> "?"

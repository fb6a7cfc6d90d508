"""GEXF 1.2 export (networkx writer), for Gephi.

GEXF gives nodes and edges a native ``label``: a node's is its caption (what Gephi shows), an
edge's its relationship type. The entity label travels as the attribute ``entity_label``, the
relationship type also as ``rel_type``; the node key as ``entity_key`` (networkx reserves ``key``);
``caption`` and every property are attributes
(names GEXF reserves, e.g. ``start``/``end``, get the prefix ``prop_``). Colour, size and the
chart layout go into the ``viz`` namespace. An aggregated link (``TRADED_WITH``, ``PAID``) is
labelled with what it stands for ("3 × USD 1.2M, 2024-01-10 – 2024-03-01", also its ``caption``)
and weighted by its ``count`` (Gephi draws heavier links thicker); lists are ``"; "``-joined
text. Reads back with ``networkx.read_gexf``.
"""
from __future__ import annotations

from pathlib import Path

import networkx as nx

from graphiff.charts.graphml import to_networkx
from graphiff.charts.layout import layout_positions
from graphiff.charts.style import AGGREGATE_STYLES, hex_to_rgb, style_for
from graphiff.graph.subgraph import Subgraph

GEXF_NODE_RESERVED = frozenset({"id", "label", "pid", "start", "end", "viz", "parents", "slices", "spells",
                                "entity_label", "entity_key", "key", "caption", "x", "y", "alert",
                                "flagged", "hub"})
GEXF_EDGE_RESERVED = frozenset({"id", "label", "weight", "type", "start", "end", "slices", "spells",
                                "networkx_key", "key", "rel_type", "caption"})


def write_gexf(sub: Subgraph, out: Path) -> None:
    """Write ``sub`` as GEXF 1.2 to ``out``."""
    positions = layout_positions(sub)
    g = to_networkx(sub, node_reserved=GEXF_NODE_RESERVED, edge_reserved=GEXF_EDGE_RESERVED,
                    positions=positions)
    h = nx.MultiDiGraph()
    h.graph.update(g.graph)
    for nid, data in g.nodes(data=True):
        label = data.pop("label")
        st = style_for(label)
        r, gr, b = hex_to_rgb(st.colour)
        data["entity_label"] = label
        data["entity_key"] = data.pop("key")      # networkx's GEXF writer renames "key"
        data["label"] = data["caption"]
        data["viz"] = {
            "color": {"r": r, "g": gr, "b": b, "a": 1.0},
            "size": float(st.size) / 2.0 * (1.5 if label == "Alert" else 1.0),
            "position": {"x": data["x"], "y": -data["y"], "z": 0.0},   # GEXF y axis points up
        }
        h.add_node(nid, **data)
    for u, v, k, data in g.edges(keys=True, data=True):
        data["rel_type"] = data.pop("type")
        data["label"] = data.get("caption") or data["rel_type"]
        if data["rel_type"] in AGGREGATE_STYLES and isinstance(data.get("count"), (int, float)):
            data["weight"] = float(data["count"])
        data["id"] = k
        h.add_edge(u, v, key=k, **data)
    nx.write_gexf(h, out, encoding="utf-8", prettyprint=False, version="1.2draft")

"""GraphML export (networkx writer), and the Subgraph -> networkx conversion GEXF shares.

Nodes carry ``label`` (entity label), ``key``, ``caption``, ``x``/``y`` (chart layout) and
every property (provenance included); relationships carry ``type`` and every property. Missing
values (None, NaN) are dropped; a list (an aggregated link's ``record_ids``, ``hs6``) is one
``"; "``-joined text. A property whose values are not all of one type becomes text, so
every GraphML key has one declared type and reads back as written
(``networkx.read_graphml(path, force_multigraph=True)``). An aggregated link (``TRADED_WITH``,
``PAID``) also carries ``caption`` ("3 × USD 1.2M, 2024-01-10 – 2024-03-01") and its ``count``,
``value_usd``, ``first_date``, ``last_date`` as properties; a hub (shown, not walked through)
carries ``hub`` (what it holds, in words), and the graph ``hubs`` (the chart's note).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx

from graphiff.charts.base import flagged_by, hub_counts, hubs_note, text_props, valid_edges
from graphiff.charts.layout import layout_positions
from graphiff.charts.style import AGGREGATE_STYLES, edge_caption
from graphiff.graph.subgraph import Subgraph
from graphiff.model.cells import clean_text, plain_value

GRAPHML_NODE_RESERVED = frozenset({"label", "key", "caption", "x", "y", "alert", "flagged", "hub"})
GRAPHML_EDGE_RESERVED = frozenset({"type", "id", "caption"})


def _clean(value: Any) -> Any:
    return clean_text(value) if isinstance(value, str) else value


def _rename(props: dict[str, Any], reserved: frozenset[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in props.items():
        name = clean_text(k) or "_"
        while name in reserved or name in out:
            name = "prop_" + name
        out[name] = _clean(v)
    return out


def _unify_types(records: list[dict[str, Any]]) -> None:
    """Make every attribute one type across ``records`` (bool, int, float, else str), in place."""
    kinds: dict[str, set[type]] = {}
    for rec in records:
        for k, v in rec.items():
            kinds.setdefault(k, set()).add(type(v))
    for k, ts in kinds.items():
        if len(ts) <= 1:
            continue
        if ts <= {int, float}:
            conv = float
        else:
            conv = None
        for rec in records:
            if k in rec:
                v = rec[k]
                if conv is float:
                    rec[k] = float(v)
                elif isinstance(v, bool):
                    rec[k] = "true" if v else "false"
                else:
                    rec[k] = str(v)


def to_networkx(
    sub: Subgraph,
    *,
    node_reserved: frozenset[str] = GRAPHML_NODE_RESERVED,
    edge_reserved: frozenset[str] = GRAPHML_EDGE_RESERVED,
    positions: dict[str, tuple[float, float]] | None = None,
) -> nx.MultiDiGraph:
    """``sub`` as a ``networkx.MultiDiGraph`` keyed by node id / relationship id, with plain,
    XML-safe attribute values (see the module docstring)."""
    if positions is None:
        positions = layout_positions(sub)
    flags = flagged_by(sub)
    node_attrs: list[dict[str, Any]] = []
    for n in sub.nodes:
        x, y = positions.get(n.id, (0.0, 0.0))
        attrs = _rename(text_props(n.props), node_reserved)
        attrs.update({
            "label": clean_text(n.label),
            "key": clean_text(plain_value(n.key) if n.key is not None else ""),
            "caption": clean_text(plain_value(n.caption) or n.key),
            "x": float(x), "y": float(y),
            "alert": n.label == "Alert",
            "flagged": n.id in flags,
        })
        if n.id in sub.hubs:
            attrs["hub"] = clean_text(hub_counts(sub.hubs[n.id]))
        node_attrs.append(attrs)
    edges = valid_edges(sub)
    edge_attrs: list[dict[str, Any]] = []
    for e in edges:
        attrs = _rename(text_props(e.props), edge_reserved)
        attrs["type"] = clean_text(e.type)
        if e.type in AGGREGATE_STYLES:
            attrs["caption"] = clean_text(edge_caption(e.type, e.props))
        edge_attrs.append(attrs)
    _unify_types(node_attrs)
    _unify_types(edge_attrs)

    g = nx.MultiDiGraph()
    g.graph.update({"title": clean_text(sub.title), "seeds": clean_text(" ".join(map(str, sub.seeds))),
                    **{f"omitted_{clean_text(k)}": int(v) for k, v in sub.omitted.items()}})
    if sub.hubs:
        g.graph["hubs"] = clean_text(hubs_note(sub))
    for n, attrs in zip(sub.nodes, node_attrs):
        g.add_node(clean_text(n.id), **attrs)
    seen: set[str] = set()
    for e, attrs in zip(edges, edge_attrs):
        eid = clean_text(e.id) or "e"
        base, i = eid, 1
        while eid in seen:
            i += 1
            eid = f"{base}#{i}"
        seen.add(eid)
        g.add_edge(clean_text(e.source), clean_text(e.target), key=eid, **attrs)
    return g


def write_graphml(sub: Subgraph, out: Path) -> None:
    """Write ``sub`` as GraphML to ``out``."""
    g = to_networkx(sub)
    nx.write_graphml(g, out, encoding="utf-8", prettyprint=True, infer_numeric_types=True)

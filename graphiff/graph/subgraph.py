"""The Subgraph every export takes (chosen by graphiff.graph.select.select)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SubNode:
    id: str            # "{label}:{key}", unique in the subgraph
    label: str         # a label of graphiff/model/model.yaml
    key: str           # the node key (source id)
    caption: str       # what to print on the chart
    props: dict[str, Any] = field(default_factory=dict)   # incl. provenance _source/_line/_load_id/_loaded_at


@dataclass
class SubEdge:
    id: str
    source: str        # SubNode.id
    target: str        # SubNode.id
    type: str          # a relationship type of model.yaml
    props: dict[str, Any] = field(default_factory=dict)


@dataclass
class Subgraph:
    nodes: list[SubNode] = field(default_factory=list)
    edges: list[SubEdge] = field(default_factory=list)
    omitted: dict[str, int] = field(default_factory=dict)   # label -> nodes left out by the cap
    seeds: list[str] = field(default_factory=list)
    hubs: dict[str, dict[str, int]] = field(default_factory=dict)  # node id -> neighbours by label, not walked
    title: str = "graphiff link chart"

"""The graph model and the canonical input files, read from the YAML files beside this module.

One model for every store and export: labels, keys, relationship types and the input
contract all come from here, never from user strings.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from graphiff.errors import GraphiffError


@dataclass(frozen=True)
class NodeType:
    label: str
    key: str
    caption: str
    personal: bool


@dataclass(frozen=True)
class RelType:
    type: str
    sources: tuple[str, ...]
    targets: tuple[str, ...]
    identity: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileKind:
    name: str
    label: str | None
    key: tuple[str, ...]
    required: tuple[str, ...]
    types: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Model:
    nodes: dict[str, NodeType]
    relationships: dict[str, RelType]
    files: dict[str, FileKind]

    def node(self, label: str) -> NodeType:
        try:
            return self.nodes[label]
        except KeyError:
            raise GraphiffError(f"unknown node label {label!r}") from None

    def rel(self, rel_type: str) -> RelType:
        try:
            return self.relationships[rel_type]
        except KeyError:
            raise GraphiffError(f"unknown relationship type {rel_type!r}") from None


def _read(name: str) -> Any:
    return yaml.safe_load(resources.files("graphiff.model").joinpath(name).read_text("utf-8"))


@lru_cache(maxsize=1)
def model() -> Model:
    """Return the graph model (cached)."""
    raw = _read("model.yaml")
    nodes = {
        label: NodeType(label, d["key"], d.get("caption", d["key"]), bool(d.get("personal")))
        for label, d in raw["nodes"].items()
    }
    rels = {
        t: RelType(t, tuple(d["from"]), tuple(d["to"]), tuple(d.get("identity", ())))
        for t, d in raw["relationships"].items()
    }
    files = {
        name: FileKind(name, d.get("label"), tuple(d["key"]), tuple(d["required"]), dict(d.get("types", {})))
        for name, d in _read("files.yaml").items()
    }
    return Model(nodes, rels, files)

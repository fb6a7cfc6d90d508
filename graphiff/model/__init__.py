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
class End:
    """One end of a relationship a file row emits (files.yaml ``from`` / ``to``).

    Exactly one of ``column`` (the row's column holding the end's key), ``is_key`` (the row's
    own key), ``value`` (an identifier rule of :mod:`graphiff.model.values` applied to the column
    of that name, ``parts`` appended) or ``lookup`` (stored nodes matched by these properties)
    says where the key comes from. ``labels`` are the candidate labels: the first with a
    stored node of that key wins, else the first.
    """

    labels: tuple[str, ...]
    column: str | None = None
    is_key: bool = False
    value: str | None = None
    parts: tuple[str, ...] = ()
    split: str | None = None
    lookup: tuple[str, ...] = ()

    @property
    def source_column(self) -> str | None:
        """The row column this end needs (``None``: the row's own key or a lookup)."""
        return self.column or self.value


@dataclass(frozen=True)
class NodeSpec:
    """A node written for one end of an emitted relationship, never overwriting a stored one.

    ``props`` maps a property to ``"key"`` (the end's key), a row column, or a constant
    (``{"value": ...}``); ``fallback`` fills a missing property from another (``name: key``).
    """

    end: str
    props: dict[str, Any]
    fallback: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Emit:
    """A relationship each row of a file writes (with the node of one end, if any)."""

    type: str
    source: End
    target: End
    props: tuple[str, ...] = ()
    node: NodeSpec | None = None


@dataclass(frozen=True)
class RowNode:
    """How a row becomes its own node: constant properties, derived properties
    (``{property: {copy: column, slice: n}}``) and a USD conversion (``{amount, currency, date,
    given?, out}``)."""

    set: dict[str, Any] = field(default_factory=dict)
    derive: dict[str, dict[str, Any]] = field(default_factory=dict)
    usd: dict[str, str] | None = None


@dataclass(frozen=True)
class FileKind:
    """One canonical input file kind (files.yaml): its columns, key, checks and what a row writes."""

    name: str
    label: str | None
    key: tuple[str, ...]
    required: tuple[str, ...]
    types: dict[str, str] = field(default_factory=dict)
    columns: tuple[str, ...] = ()
    key_separator: str = "/"
    node: RowNode = field(default_factory=RowNode)
    emits: tuple[Emit, ...] = ()
    after: tuple[str, ...] = ()

    @property
    def derived(self) -> tuple[str, ...]:
        """The properties the load sets on a row's node beyond its input columns (``node.set``,
        ``node.derive``, the USD conversion's ``out`` and ``usd_status``); an input column of
        one of these names is refused.

        >>> model().files["declarations"].derived, model().files["traders"].derived
        (('decl_key', 'hs6', 'usd_status'), ('origin',))
        """
        names = [*self.node.set, *self.node.derive]
        if self.node.usd:
            names += [self.node.usd["out"], "usd_status"]
        return tuple(n for n in dict.fromkeys(names) if n not in self.columns)


@dataclass(frozen=True)
class Aggregate:
    """An aggregated link (model.yaml ``aggregates``): records of ``record`` between two parties
    folded into one link per ordered pair -- from the party at the ``source`` relationship to
    the party at the ``target`` one -- summing ``value`` and listing ``codes``. Never stored."""

    type: str
    record: str
    source: str
    target: str
    value: str
    codes: str | None = None


@dataclass(frozen=True)
class Model:
    nodes: dict[str, NodeType]
    relationships: dict[str, RelType]
    files: dict[str, FileKind]
    load_order: tuple[str, ...] = ()
    aggregates: dict[str, Aggregate] = field(default_factory=dict)

    @property
    def canonical_columns(self) -> dict[str, list[str]]:
        """The canonical columns of each file kind, in order."""
        return {name: list(f.columns) for name, f in self.files.items()}

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
    contract = _read("files.yaml")
    files = {name: _file_kind(name, d) for name, d in contract["files"].items()}
    aggregates = {t: Aggregate(t, d["record"], d["source"], d["target"], d["value"], d.get("codes"))
                  for t, d in (raw.get("aggregates") or {}).items()}
    return Model(nodes, rels, files, tuple(contract["load_order"]), aggregates)


def _end(raw: dict[str, Any] | None, own_label: str | None) -> End:
    raw = raw or {"key": True}
    labels = tuple(raw.get("labels") or [raw.get("label") or own_label])
    return End(labels, raw.get("column"), bool(raw.get("key")), raw.get("value"), tuple(raw.get("parts", ())),
               raw.get("split"), tuple(raw.get("lookup", ())))


def _file_kind(name: str, d: dict[str, Any]) -> FileKind:
    label = d.get("label")
    emits = tuple(
        Emit(e["type"], _end(e.get("from"), label), _end(e.get("to"), label), tuple(e.get("props", ())),
             NodeSpec(e["node"]["end"], dict(e["node"]["props"]), dict(e["node"].get("fallback", {})))
             if e.get("node") else None)
        for e in d.get("emits", ()))
    node = d.get("node") or {}
    return FileKind(name, label, tuple(d["key"]), tuple(d["required"]), dict(d.get("types", {})),
                    tuple(d["columns"]), d.get("key_separator", "/"),
                    RowNode(dict(node.get("set", {})), dict(node.get("derive", {})), node.get("usd")),
                    emits, tuple(d.get("after", ())))




"""The input contract (files.yaml) is consistent with the graph model (model.yaml)."""
from __future__ import annotations

from collections import Counter

import pytest

from graphiff.model import End, FileKind, model
from graphiff.model.values import checker

MODEL = model()
KINDS = sorted(MODEL.files)


def kind(name: str) -> FileKind:
    return MODEL.files[name]


def test_there_are_file_kinds():
    assert {"traders", "declarations", "payments", "rates"} <= set(KINDS)


def test_load_order_names_every_file_kind_once():
    counts = Counter(MODEL.load_order)
    assert sorted(counts) == KINDS
    assert all(n == 1 for n in counts.values()), counts


@pytest.mark.parametrize("name", KINDS)
def test_label_exists(name):
    label = kind(name).label
    assert label is None or label in MODEL.nodes, (name, label)


@pytest.mark.parametrize("name", KINDS)
def test_columns_are_unique(name):
    cols = kind(name).columns
    assert cols and len(set(cols)) == len(cols)


@pytest.mark.parametrize("name", KINDS)
def test_typed_required_and_key_columns_are_canonical(name):
    f = kind(name)
    cols = set(f.columns)
    assert set(f.key) <= cols, set(f.key) - cols
    assert set(f.required) <= cols, set(f.required) - cols
    assert set(f.types) <= cols, set(f.types) - cols


@pytest.mark.parametrize("name", KINDS)
def test_every_type_has_a_checker(name):
    for column, type_name in kind(name).types.items():
        check, reason = checker(type_name)
        assert callable(check) and reason, (name, column, type_name)


def _emits():
    return [(name, e) for name in KINDS for e in kind(name).emits]


@pytest.mark.parametrize("name, emit", _emits(), ids=lambda x: x if isinstance(x, str) else x.type)
def test_emitted_relationship_exists_with_matching_end_labels(name, emit):
    assert emit.type in MODEL.relationships, (name, emit.type)
    rel = MODEL.relationships[emit.type]
    assert emit.source.labels and set(emit.source.labels) <= set(rel.sources), (name, emit.type, emit.source.labels)
    assert emit.target.labels and set(emit.target.labels) <= set(rel.targets), (name, emit.type, emit.target.labels)
    for end in (emit.source, emit.target):
        assert all(lab in MODEL.nodes for lab in end.labels)


def _where_from(end: End) -> list[str]:
    return [w for w, on in (("column", end.column), ("key", end.is_key), ("value", end.value),
                            ("lookup", end.lookup)) if on]


@pytest.mark.parametrize("name, emit", _emits(), ids=lambda x: x if isinstance(x, str) else x.type)
def test_emitted_ends_name_their_key_once_from_canonical_columns(name, emit):
    f = kind(name)
    cols = set(f.columns)
    for end in (emit.source, emit.target):
        assert len(_where_from(end)) == 1, (name, emit.type, end)
        if end.is_key:
            assert f.label in end.labels, (name, emit.type, end)
        if end.column:
            assert end.column in cols, (name, emit.type, end.column)
        assert set(end.lookup) <= cols, (name, emit.type, end.lookup)
    if emit.node is not None:
        assert emit.node.end in ("from", "to")


@pytest.mark.parametrize("name, emit", _emits(), ids=lambda x: x if isinstance(x, str) else x.type)
def test_identity_properties_are_written(name, emit):
    identity = MODEL.relationships[emit.type].identity
    assert set(identity) <= set(emit.props), (name, emit.type, identity)
    assert set(identity) <= set(kind(name).columns)


@pytest.mark.parametrize("name", KINDS)
def test_usd_conversion_reads_canonical_columns(name):
    usd = kind(name).node.usd
    if usd is None:
        return
    cols = set(kind(name).columns)
    for part in ("amount", "currency", "date", "given"):
        if part in usd:
            assert usd[part] in cols, (name, part, usd[part])
    assert usd["out"]

"""Identity strings of graph records (graphiff.model.identity)."""
from __future__ import annotations

import pytest

from graphiff.model.identity import PROVENANCE, REL_ENDS, node_id, rel_id, split_node_id


def test_rel_id_names_both_ends_and_the_type():
    assert rel_id("EXPORTED", "Trader", "T1", "Declaration", "D1/1") == "Trader:T1|EXPORTED|Declaration:D1/1|"


def test_rel_id_identity_properties_make_relationships_distinct():
    director = rel_id("OFFICER_OF", "Person", "P1", "Trader", "T1", "DIRECTOR")
    owner = rel_id("OFFICER_OF", "Person", "P1", "Trader", "T1", "OWNER")
    assert director == "Person:P1|OFFICER_OF|Trader:T1|DIRECTOR"
    assert director != owner


def test_rel_id_is_directed():
    assert rel_id("HOLDS", "Trader", "T1", "BankAccount", "A1") != rel_id("HOLDS", "BankAccount", "A1", "Trader", "T1")


def test_node_id():
    assert node_id("Trader", "T1") == "Trader:T1"
    assert node_id("Declaration", "D1/1") == "Declaration:D1/1"


@pytest.mark.parametrize("label, key", [
    ("Trader", "T1"), ("Declaration", "D:1/1"), ("Address", "1 MAIN ST: NAIROBI"), ("Phone", "+254700000001"),
    ("Email", "a@b.c"), ("Trader", ""),
])
def test_split_node_id_inverts_node_id(label, key):
    assert split_node_id(node_id(label, key)) == (label, key)


def test_split_node_id_without_label_separator():
    assert split_node_id("Trader") == ("Trader", "")
    assert split_node_id(":T1") == ("", "T1")


def test_column_names():
    assert REL_ENDS == ("src_label", "src", "dst_label", "dst")
    assert PROVENANCE == ("_source", "_line", "_load_id", "_loaded_at")

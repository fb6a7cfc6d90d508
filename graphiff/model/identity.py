"""Identity of graph records: provenance columns, relationship ends and relationship ids.

Every node and relationship row carries the provenance columns :data:`PROVENANCE`; every
relationship row names its ends with :data:`REL_ENDS`; :func:`rel_id` is the one identity
string of a relationship (what a MERGE matches on), used by both stores and by every export.

>>> rel_id("EXPORTED", "Trader", "T1", "Declaration", "D1/1")
'Trader:T1|EXPORTED|Declaration:D1/1|'
>>> node_id("Trader", "T1")
'Trader:T1'
"""
from __future__ import annotations

#: Provenance columns of every node and relationship row: source file (or partner package),
#: line, load id and load time.
PROVENANCE = ("_source", "_line", "_load_id", "_loaded_at")
#: The columns naming a relationship's two ends.
REL_ENDS = ("src_label", "src", "dst_label", "dst")


def rel_id(rel_type: str, src_label: str, src: str, dst_label: str, dst: str, ident: str = "") -> str:
    """The identity string of one relationship (what MERGE matches on); ``ident`` holds the
    identity properties the schema names for the type (e.g. an officer's role)."""
    return f"{src_label}:{src}|{rel_type}|{dst_label}:{dst}|{ident}"


def node_id(label: str, key: str) -> str:
    """The id of a node across labels, ``"{label}:{key}"`` (charts, subgraphs, packages)."""
    return f"{label}:{key}"


def split_node_id(node_id: str) -> tuple[str, str]:
    """``"Trader:T1"`` -> ``("Trader", "T1")``; the key may itself contain ``:``.

    >>> split_node_id("Declaration:D:1/1")
    ('Declaration', 'D:1/1')
    """
    label, _, key = node_id.partition(":")
    return label, key

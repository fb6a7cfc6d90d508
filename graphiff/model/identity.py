"""Identity of graph records: provenance columns, relationship ends and relationship ids.

Every node and relationship row carries the provenance columns :data:`PROVENANCE`; every
relationship row names its ends with :data:`REL_ENDS`; :func:`rel_id` is the one identity
string of a relationship (what a MERGE matches on), used by both stores and by every export.

>>> rel_id("EXPORTED", "Trader", "T1", "Declaration", "D1/1")
'Trader:T1|EXPORTED|Declaration:D1/1|'
>>> rel_id("OFFICER_OF", "Person", "P1", "Trader", "T1", rel_ident(["director"]))
'Person:P1|OFFICER_OF|Trader:T1|director'
>>> node_id("Trader", "T1")
'Trader:T1'
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Provenance columns of every node and relationship row: source file (or partner package),
#: line, load id and load time.
PROVENANCE = ("_source", "_line", "_load_id", "_loaded_at")
#: The columns naming a relationship's two ends.
REL_ENDS = ("src_label", "src", "dst_label", "dst")
#: The columns the resolved view gives an entity: the keys and the names of the other records
#: entity resolution joined to it (:mod:`graphiff.graph.resolution`); no input may carry them.
RESOLVED_COLUMNS = ("aliases", "alias_names")


def rel_id(rel_type: str, src_label: str, src: str, dst_label: str, dst: str, ident: str = "") -> str:
    """The identity string of one relationship (what MERGE matches on); ``ident`` holds the
    identity properties the schema names for the type (e.g. an officer's role)."""
    return f"{src_label}:{src}|{rel_type}|{dst_label}:{dst}|{ident}"


def _ident_text(value: Any) -> str:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def rel_ident(values: Iterable[Any]) -> str:
    """The ``ident`` of :func:`rel_id`: the values of the type's identity properties joined
    with ``|``; a missing value (None, NaN, NA) is ``""``, any other value its ``str`` (so ``0``
    is ``"0"`` and ``False`` is ``"False"``), as :func:`rel_ids` makes it.

    >>> rel_ident(["director", None, 0, False, float("nan")])
    'director||0|False|'
    """
    return "|".join(_ident_text(v) for v in values)


def rel_ids(rel_type: str, frame: pd.DataFrame, identity: Sequence[str] = ()) -> pd.Series:
    """:func:`rel_id` of every row of ``frame`` (columns :data:`REL_ENDS` and ``identity``), as
    the stores key relationships: the ends as text, the identity values joined as
    :func:`rel_ident` joins them. Cost: one Arrow string join over the rows.

    >>> f = pd.DataFrame({"src_label": ["Person"] * 2, "src": ["P1", "P2"], "dst_label": ["Trader"] * 2,
    ...                   "dst": ["T1", "T1"], "role": ["director", None]})
    >>> rel_ids("OFFICER_OF", f, ["role"]).tolist()
    ['Person:P1|OFFICER_OF|Trader:T1|director', 'Person:P2|OFFICER_OF|Trader:T1|']
    """
    text = pa.large_string()

    def column(s: pd.Series) -> pa.Array:
        return pa.array(s.array).cast(text)

    def lit(v: str) -> pa.Scalar:
        return pa.scalar(v, text)

    sl, s, dl, d = (column(frame[c].astype(str)) for c in REL_ENDS)
    parts: list[pa.Array | pa.Scalar] = [sl, lit(":"), s, lit(f"|{rel_type}|"), dl, lit(":"), d, lit("|")]
    for i, c in enumerate(identity):
        parts += [lit("|")] if i else []
        parts.append(column(frame[c].astype("string").fillna("")))
    rid = pc.binary_join_element_wise(*parts, lit(""))  # one pass: no intermediate strings
    return pd.Series(pd.array(rid, dtype=pd.StringDtype("pyarrow")), index=frame.index).astype(str)


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

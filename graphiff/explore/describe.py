"""How explore writes a node, a record and an alert in its answers (plain dicts, ready for JSON).

>>> RECORD_FIELDS["Payment"][:3]
('date', 'from_account', 'to_account')
"""
from __future__ import annotations

from typing import Any

from graphiff.graph.index import GraphIndex, caption_of
from graphiff.graph.tables import Tables
from graphiff.model.cells import plain_value
from graphiff.model.identity import node_id

__all__ = ["RECORD_FIELDS", "node_summary", "record_summary", "alert_summary", "same_as", "same_as_status",
           "SAME_AS_HOWS"]

#: How a direct SAME_AS link between two records reads (the records as loaded, ``--unresolved``).
SAME_AS_HOWS = ("-[SAME_AS]->", "<-[SAME_AS]-")

#: The properties listed for a record, per label (others: ``date`` only).
RECORD_FIELDS = {
    "Declaration": ("date", "flow", "reporting_country", "hs6", "exporter_id", "importer_id", "carrier_id",
                    "value_usd", "invoice_value", "currency", "target_score", "target_reasons"),
    "Payment": ("date", "from_account", "to_account", "amount", "currency", "amount_usd", "invoice_no",
                "declaration_id"),
    "CashReport": ("date", "report_type", "person_id", "trader_id", "account_id", "amount", "currency",
                   "amount_usd", "direction"),
}


def node_summary(idx: GraphIndex, i: int, props: dict[str, Any]) -> dict[str, Any]:
    """``{id, label, key, caption}`` of node ``i`` (``props``: its properties, for the caption),
    plus ``id_check`` when the load marked its id (``iban_invalid``: an account id failing the
    IBAN check) and ``aliases`` (the keys of the other records) when it is a resolved entity,
    records that entity resolution joined (:mod:`graphiff.graph.resolution`)."""
    label, key = idx.label(i), idx.key(i)
    out: dict[str, Any] = {"id": node_id(label, key), "label": label, "key": key,
                           "caption": caption_of(label, key, props)}
    if props.get("id_check"):
        out["id_check"] = props["id_check"]
    # only a cluster's representative in the resolved view (a loaded column named "aliases" is data)
    if idx.alias.get(label, {}).get(key) == key and props.get("aliases"):
        out["aliases"] = [a for a in str(props["aliases"]).split("; ") if a]
    return out


def same_as(tables: Tables, label: str, key: str) -> list[dict[str, Any]]:
    """The other records of the resolved entity ``label:key`` (its representative), each
    ``{id, key, caption}`` with the caption of the record as loaded; empty for a node that is
    not a resolved entity (and in the unresolved view). Cost: one pass over the label's records.

    >>> import pandas as pd
    >>> recs = pd.DataFrame({"key": ["T2", "T9"], "name": ["MARA METALS", "MARA LEGACY"]})
    >>> same = pd.DataFrame({"src_label": ["Trader"], "src": ["T2"], "dst_label": ["Trader"], "dst": ["T9"],
    ...                      "status": ["linked"], "score": [0.97]})
    >>> same_as(Tables.from_frames(nodes={"Trader": recs}, rels={"SAME_AS": same}), "Trader", "T2")
    [{'id': 'Trader:T9', 'key': 'T9', 'caption': 'MARA LEGACY'}]
    """
    members = tables.resolution.members.get(label, {}).get(str(key))
    if not members:
        return []
    others = members[1:]
    raw = tables.raw.nodes(label)
    rows: dict[str, dict[str, Any]] = {}
    if len(raw):
        keys = raw["key"].astype(str)
        for rec in raw[keys.isin(set(others)).to_numpy()].to_dict("records"):
            rows[str(rec["key"])] = {k: pv for k, v in rec.items() if (pv := plain_value(v)) is not None}
    return [{"id": node_id(label, k), "key": k, "caption": caption_of(label, k, rows.get(k, {}))} for k in others]


def record_summary(idx: GraphIndex, i: int, props: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """:func:`node_summary` of a record plus its :data:`RECORD_FIELDS` (those it has) and ``extra``."""
    d = node_summary(idx, i, props)
    for f in RECORD_FIELDS.get(d["label"], ("date",)):
        if f in props:
            d[f] = props[f]
    d.update(extra)
    return d


def alert_summary(idx: GraphIndex, a: int, props: dict[str, Any], flags: list[str]) -> dict[str, Any]:
    """``{id, pattern, score, explanation, flags}`` of alert node ``a``; ``flags`` are the node ids
    it flags that the answer shows."""
    try:   # a score that is not a number (a damaged or foreign Alert node) shows as none
        score = float(props["score"]) if props.get("score") is not None else None
    except (TypeError, ValueError):
        score = None
    return {"id": idx.key(a), "pattern": props.get("pattern"), "score": score,
            "explanation": props.get("explanation"), "flags": flags}


def same_as_status(tables: Tables, a: str, b: str) -> str | None:
    """The ``status`` of the SAME_AS between nodes ``a`` and ``b`` (``Label:key`` ids), or None:
    in the records as loaded a SAME_AS is walked like any relationship, and a ``rejected`` or
    ``review`` one must not read as "the same". Empty in the resolved view. Cost: one pass over
    the SAME_AS table per :class:`Tables`, then a dictionary look-up."""
    def build() -> dict[frozenset[str], str]:
        rels = tables.rels("SAME_AS")
        if not len(rels) or "status" not in rels.columns:
            return {}
        return {frozenset((node_id(str(sl), str(s)), node_id(str(dl), str(d)))): str(st)
                for sl, s, dl, d, st in zip(rels["src_label"], rels["src"], rels["dst_label"], rels["dst"],
                                            rels["status"])}
    return tables.memo(("explore.describe", "same_as_status"), build).get(frozenset((a, b)))

"""How explore writes a node, a record and an alert in its answers (plain dicts, ready for JSON).

>>> RECORD_FIELDS["Payment"][:3]
('date', 'from_account', 'to_account')
"""
from __future__ import annotations

from typing import Any

from graphiff.graph.index import GraphIndex, caption_of
from graphiff.model.identity import node_id

__all__ = ["RECORD_FIELDS", "node_summary", "record_summary", "alert_summary"]

#: The properties listed for a record, per label (others: ``date`` only).
RECORD_FIELDS = {
    "Declaration": ("date", "flow", "reporting_country", "hs6", "exporter_id", "importer_id", "carrier_id",
                    "value_usd", "invoice_value", "currency"),
    "Payment": ("date", "from_account", "to_account", "amount", "currency", "amount_usd", "invoice_no",
                "declaration_id"),
    "CashReport": ("date", "report_type", "person_id", "trader_id", "account_id", "amount", "currency",
                   "amount_usd", "direction"),
}


def node_summary(idx: GraphIndex, i: int, props: dict[str, Any]) -> dict[str, Any]:
    """``{id, label, key, caption}`` of node ``i`` (``props``: its properties, for the caption),
    plus ``id_check`` when the load marked its id (``iban_invalid``: an account id failing the
    IBAN check)."""
    label, key = idx.label(i), idx.key(i)
    out = {"id": node_id(label, key), "label": label, "key": key, "caption": caption_of(label, key, props)}
    if props.get("id_check"):
        out["id_check"] = props["id_check"]
    return out


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

"""FollowTheMoney (FtM) entities back as a graphiff Subgraph: the reverse of
:func:`graphiff.share.ftm.to_ftm`, for packages written by graphiff (exact, through each entity's
``graphiff`` context) and for entities from other FtM tools (by schema).
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from followthemoney import model as ftm_model

from graphiff.errors import PackageError
from graphiff.graph.subgraph import SubEdge, Subgraph, SubNode
from graphiff.model import model as gmodel
from graphiff.model.identity import rel_id, split_node_id
from graphiff.share.ftm import LINK_ENDS, OFFICER_SCHEMA, PROPS
from graphiff.share.verify import parse_json

_NUMERIC = {"amount", "amount_usd", "share_pct", "invoice_value", "value_usd"}

#: The deepest nesting of one FtM entity line (an entity nests about 4 levels).
MAX_ENTITY_DEPTH = 16


def _check_entity(d: Any) -> str | None:
    """What is wrong with one parsed FtM entity, or ``None``: it must be an object with a
    known, non-abstract ``schema``, a non-empty text ``id``, ``properties`` mapping names to
    lists of text, and a ``graphiff`` field (when present) naming a known label."""
    if not isinstance(d, dict):
        return "is not a JSON object"
    schema = d.get("schema")
    found = ftm_model.get(schema) if isinstance(schema, str) else None
    if found is None:
        return f"has an unknown FtM schema {str(schema)[:80]!r}"
    if found.abstract:
        return f"has the abstract FtM schema {schema!r}"
    if not isinstance(d.get("id"), str) or not d["id"]:
        return "has no id"
    props = d.get("properties", {})
    if not isinstance(props, dict) or not all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in props.values()):
        return "has properties that are not lists of text"
    g = d.get("graphiff", {})
    if not isinstance(g, dict):
        return "has a graphiff field that is not an object"
    if g.get("label") is not None and g.get("label") not in gmodel().nodes:
        return f"names an unknown graphiff label {str(g.get('label'))[:80]!r}"
    if g.get("key") is not None and not isinstance(g.get("key"), str):
        return "has a graphiff key that is not text"
    if g.get("type") is not None and not isinstance(g.get("type"), str):
        return "has a graphiff type that is not text"
    return None


def read_ftm_json_lines(data: bytes, *, max_depth: int = MAX_ENTITY_DEPTH) -> list[dict[str, Any]]:
    """Parse ``entities.ftm.json`` bytes back into dictionaries (blank lines skipped).

    Every line must be one FtM entity (:func:`_check_entity`) nesting at most ``max_depth``
    levels; otherwise ``ValueError`` names the line. Cost: one parse per line.

    >>> read_ftm_json_lines(b'{"schema": "Company", "id": "c1", "properties": {"name": ["Acme"]}}')[0]["id"]
    'c1'
    >>> read_ftm_json_lines(b'{"schema": "Starship", "id": "x"}')
    Traceback (most recent call last):
    ValueError: line 1 has an unknown FtM schema 'Starship'
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"is not UTF-8 text: {exc}") from None
    out = []
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            d = parse_json(line, f"line {n}", max_depth=max_depth)
        except PackageError as exc:
            raise ValueError(str(exc)) from None
        problem = _check_entity(d)
        if problem:
            raise ValueError(f"line {n} {problem}")
        out.append(d)
    return out


_SCHEMA_LABEL = {"Company": "Trader", "Organization": "Trader", "LegalEntity": "Trader", "Person": "Person",
                 "BankAccount": "BankAccount", "Payment": "Payment", "EconomicActivity": "Declaration",
                 "Address": "Address"}
_AMOUNT = re.compile(r"^\s*(?P<value>[+-]?\d+(?:\.\d+)?)\s*(?P<cur>[A-Za-z]{3})?\s*$")


def _number(v: str) -> float | str:
    try:
        return float(v)
    except ValueError:
        return v


def _g(proxy: Any, prop: str) -> list[str]:
    return proxy.get(prop, quiet=True)


def _f(proxy: Any, prop: str) -> str | None:
    return proxy.first(prop, quiet=True)


def from_ftm(entities: Iterable[dict[str, Any]]) -> Subgraph:
    """The reverse of :func:`to_ftm`: FtM entities back as a graphiff Subgraph.

    Node labels and keys come from the ``graphiff`` context when present (packages written by
    graphiff), else from the schema (Company -> Trader, Person, BankAccount, Payment,
    EconomicActivity -> Declaration, Address, Event with keyword ``cash report`` -> CashReport,
    Vehicle -> Conveyance/Container by ``type``) with the entity id as key. Properties of the
    :data:`PROPS` table are mapped back; relationships are rebuilt from link entities and from
    entity properties (payerAccount -> SENT, sender -> EXPORTED, addressEntity -> LOCATED_AT, ...).
    Placeholder payers are dropped. Provenance is not carried by FtM entities.
    """
    proxies = [ftm_model.get_proxy(dict(e), cleaned=False) for e in entities]
    nodes: dict[str, SubNode] = {}
    node_of: dict[str | None, str] = {}      # entity id -> node id
    edges: dict[str, SubEdge] = {}

    def add_edge(t: str, source: str, target: str, props: dict[str, Any] | None = None) -> None:
        props = dict(props or {})
        sl, sk = split_node_id(source)
        dl, dk = split_node_id(target)
        eid = rel_id(t, sl, sk, dl, dk, str(props.get("role", "")) if t == "OFFICER_OF" else "")
        edges.setdefault(eid, SubEdge(eid, source, target, t, props))

    def ensure(label: str, key: str, **props: Any) -> str:
        nid = f"{label}:{key}"
        if nid not in nodes:
            keyprop = gmodel().node(label).key
            nodes[nid] = SubNode(nid, label, key, key, {keyprop: key, **props})
        return nid

    for p in proxies:
        ctx = p.context.get("graphiff") or {}
        if ctx.get("placeholder") or ctx.get("link") or "type" in ctx:
            continue
        schema = p.schema.name
        label = ctx.get("label")
        if not label:
            if schema == "Event":
                if "cash report" not in [k.lower() for k in _g(p, "keywords")]:
                    continue
                label = "CashReport"
            elif schema in ("Vehicle", "Vessel"):
                label = "Container" if "container" in [t.lower() for t in _g(p, "type")] else "Conveyance"
            elif schema == "Company" and "carrier" in [c.lower() for c in _g(p, "classification")]:
                label = "Carrier"
            else:
                label = _SCHEMA_LABEL.get(schema)
            if label is None:
                continue
        if label not in gmodel().nodes:
            raise ValueError(f"entity {str(p.id)[:80]!r} names an unknown graphiff label {str(label)[:80]!r}")
        key = str(ctx.get("key") or p.id)
        props: dict[str, Any] = {gmodel().node(label).key: key}
        for gprop, fprop in PROPS.get(label, []):
            vals = _g(p, fprop)
            if vals and gprop not in props:
                props[gprop] = _number(vals[0]) if gprop in _NUMERIC else vals[0]
        if label in ("Trader", "Carrier") and props.get("country"):
            props["country"] = str(props["country"]).upper()
        if label == "Person" and props.get("nationality"):
            props["nationality"] = str(props["nationality"]).upper()
        if label in ("Trader", "Carrier", "Person") and _g(p, "address"):
            props.setdefault("address", _f(p, "address"))
        if label == "BankAccount":
            acc = _f(p, "iban") or _f(p, "accountNumber")
            if acc:
                props["account_id"] = acc
            if props.get("bank_country"):
                props["bank_country"] = str(props["bank_country"]).upper()
        if label == "Declaration":
            m = _AMOUNT.match(_f(p, "invoiceAmount") or "")
            if m:
                props["invoice_value"] = float(m.group("value"))
                if m.group("cur"):
                    props["currency"] = m.group("cur").upper()
            m = _AMOUNT.match(_f(p, "customsAmount") or "")
            if m:
                props["value_usd"] = float(m.group("value"))
        if label == "CashReport":
            parts = (_f(p, "summary") or "").split()
            if len(parts) == 3:
                props["direction"], props["amount"], props["currency"] = parts[0], _number(parts[1]), parts[2]
            name = (_f(p, "name") or "").split(" cash report ")
            if len(name) == 2 and name[0]:
                props["report_type"] = name[0]
        if label in ("Payment", "Declaration") and props.get("currency"):
            props["currency"] = str(props["currency"]).upper()
        caption = p.caption if p.caption and p.caption != p.schema.label else key
        node_id = f"{label}:{key}"
        nodes[node_id] = SubNode(node_id, label, key, caption, props)
        node_of[p.id] = node_id

    by_id = {p.id: p for p in proxies}
    for p in proxies:
        ctx = p.context.get("graphiff") or {}
        schema = p.schema.name
        if schema in LINK_ENDS:
            a, b = LINK_ENDS[schema]
            srcs = [node_of[x] for x in _g(p, a) if x in node_of]
            dsts = [node_of[x] for x in _g(p, b) if x in node_of]
            role = _f(p, "role") or ""
            for s in srcs:
                for d in dsts:
                    if ctx.get("type") in ("HOLDS", "INVOLVES"):
                        add_edge(ctx["type"], s, d)
                    elif ctx.get("type") == "OFFICER_OF" or (not ctx and role.upper() in OFFICER_SCHEMA):
                        props = {"role": role.upper()}
                        if _f(p, "startDate"):
                            props["start_date"] = _f(p, "startDate")
                        if _f(p, "endDate"):
                            props["end_date"] = _f(p, "endDate")
                        if pct := _f(p, "percentage"):
                            props["share_pct"] = _number(pct)
                        add_edge("OFFICER_OF", s, d, props)
                    elif not ctx and schema == "Ownership" and split_node_id(d)[0] == "BankAccount":
                        add_edge("HOLDS", s, d)
            continue
        nid = node_of.get(p.id)
        if nid is None:
            continue
        label = split_node_id(nid)[0]
        if label in ("Trader", "Carrier", "Person"):
            for a in _g(p, "addressEntity"):
                if a in node_of:
                    add_edge("LOCATED_AT", nid, node_of[a])
            for ph in _g(p, "phone"):
                add_edge("HAS_PHONE", nid, ensure("Phone", ph))
            for em in _g(p, "email"):
                add_edge("HAS_EMAIL", nid, ensure("Email", em.lower()))
            if label != "Person":
                for c in _g(p, "country"):
                    add_edge("IN_COUNTRY", nid, ensure("Country", c.upper()))
        elif label == "Payment":
            for a in _g(p, "payerAccount"):
                if a in node_of:
                    add_edge("SENT", node_of[a], nid)
            for a in _g(p, "beneficiaryAccount"):
                if a in node_of:
                    add_edge("RECEIVED_BY", nid, node_of[a])
            for c in _g(p, "contract"):
                for q in proxies:
                    if q.schema.name == "EconomicActivity" and c in _g(q, "contract") and q.id in node_of:
                        add_edge("SETTLES", nid, node_of[q.id])
        elif label == "Declaration":
            for prop, t, forward in (("sender", "EXPORTED", False), ("receiver", "IMPORTED_BY", True),
                                     ("declarant", "DECLARED_BY", True)):
                for x in _g(p, prop):
                    if x in node_of:
                        add_edge(t, nid, node_of[x]) if forward else add_edge(t, node_of[x], nid)
            for v in _g(p, "transport"):
                if v in node_of:
                    vl = split_node_id(node_of[v])[0]
                    add_edge("IN_CONTAINER" if vl == "Container" else "ON_CONVEYANCE", nid, node_of[v])
                    if vl == "Conveyance" and v in by_id:
                        for op in _g(by_id[v], "operator"):
                            if op in node_of:
                                add_edge("CARRIED_BY", nid, node_of[op])
        elif label == "CashReport":
            for x in _g(p, "involved"):
                if x in node_of:
                    xl = split_node_id(node_of[x])[0]
                    add_edge("FILED_BY" if xl == "Person" else "FOR", nid, node_of[x])
    return Subgraph(nodes=list(nodes.values()), edges=list(edges.values()), title="imported FollowTheMoney entities")


__all__ = ["from_ftm", "read_ftm_json_lines"]

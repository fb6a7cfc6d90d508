"""A Subgraph as FollowTheMoney (FtM) entities (the reverse is :mod:`graphiff.share.ftm_read`).

FtM (https://followthemoney.tech) is the entity model of Aleph, OpenSanctions and many
investigative tools, so a partner can open a sharing package without graphiff. Every entity
written here is made with the ``followthemoney`` library and parses and validates with it.

Entity ids are deterministic: ``"gf-" + sha1("<label>:<key>")[:20]`` for nodes (and a hash of the
relationship for link entities), so packages from the same team about the same records link.
Each entity also carries a ``graphiff`` context field (FtM keeps extra top-level fields and
writes them back) naming the graphiff label and key it came from, which makes the reverse
mapping (:func:`graphiff.share.ftm_read.from_ftm`) exact for graphiff packages. Entities from other FtM tools (no
context) are mapped back by schema, with the entity id as key.

Schema choices (graphiff -> FtM):

============================  =====================================================================
graphiff                      FtM
============================  =====================================================================
Trader                        ``Company`` (``classification = "trader"``)
Carrier                       ``Company`` (``classification = "carrier"``, ``sector`` = carrier type)
Person                        ``Person``
BankAccount                   ``BankAccount`` (``iban`` when the id is a valid IBAN, else
                              ``accountNumber``)
HOLDS                         ``Ownership`` (owner = holder, asset = account,
                              ``ownershipType = "account holder"``)
Payment                       ``Payment``: ``payerAccount`` / ``beneficiaryAccount`` are the SENT /
                              RECEIVED_BY accounts; ``payer`` / ``beneficiary`` (legal entities, required
                              by FtM) are the holders of those accounts when the subgraph has them,
                              else a placeholder ``LegalEntity`` "holder of account ..." (context
                              ``{"graphiff": {"placeholder": true}}``). The account ids stay in
                              the accounts and in the package CSV (``from_account``/``to_account``).
Declaration                   ``EconomicActivity`` -- FtM's customs declaration schema (its label is
                              "Customs declaration"): ``ccdNumber`` = declaration id, ``recordId`` =
                              ``declaration_id/item_no``, ``vedCode`` = HS code, ``sender`` = exporter
                              (EXPORTED), ``receiver`` = importer (IMPORTED_BY), ``declarant``
                              (DECLARED_BY), ``transport`` = conveyance and container vehicles,
                              ``invoiceAmount`` = "<value> <currency>", ``customsAmount`` =
                              "<value_usd> USD"; reporting country and carrier in ``summary``.
CashReport                    ``Event`` (FtM has no cash-declaration schema): ``name`` =
                              "<type> cash report <id>", ``date``, ``summary`` = "<direction> <amount>
                              <currency>", ``involved`` = the filing person (FILED_BY) and the trader
                              (FOR), ``keywords`` = ``cash report``, type, direction; INVOLVES ->
                              ``UnknownLink`` (subject = event, object = account, ``role = "INVOLVES"``)
OFFICER_OF                    by role: DIRECTOR, SIGNATORY -> ``Directorship``; OWNER, SHAREHOLDER, UBO
                              -> ``Ownership`` (``percentage`` = share_pct); EMPLOYEE -> ``Employment``
                              (a person) or ``UnknownLink``; ``role``, ``startDate``, ``endDate`` kept
SETTLES                       a ``Contract`` (the invoice) that both the ``Payment.contract`` and the
                              ``EconomicActivity.contract`` point to
Address                       ``Address`` (``full``), linked by ``addressEntity`` (LOCATED_AT)
Conveyance, Container         ``Vehicle`` (``type`` = "conveyance" / "container"); CARRIED_BY also sets
                              the conveyance's ``operator`` to the carrier
Phone, Email, Country         not entities: ``phone`` / ``email`` / ``country`` properties of the
                              linked legal entity (HAS_PHONE, HAS_EMAIL, IN_COUNTRY)
SAME_AS (linked, confirmed)   ``Similar`` (FtM's "presumed to be the same" link: ``candidate`` = src,
                              ``match`` = dst, ``confidenceScore`` = score, ``criteria`` = how each
                              field compared, ``matcher`` = method and who decided); every SAME_AS
                              of the package, rejected ones too, is in ``judgements.json``
                              (:mod:`graphiff.share.judgements`)
Rate, Alert, FLAGS            not exported as entities (alerts travel in ``alerts.json``)
============================  =====================================================================

Values FtM cannot hold in a property's type are dropped from the entity by the library's own
cleaning (e.g. a pseudonymised birth date or phone, which is no longer a date or a phone); the
package CSV files keep them.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable

from followthemoney import model as ftm_model

from graphiff.graph.subgraph import Subgraph, SubNode
from graphiff.model.cells import plain_value
from graphiff.model.identity import rel_id, split_node_id
from graphiff.model.values import is_valid_iban

#: graphiff label -> FtM schema of the entity it becomes (labels missing here are not entities).
NODE_SCHEMA: dict[str, str] = {
    "Trader": "Company",
    "Carrier": "Company",
    "Person": "Person",
    "BankAccount": "BankAccount",
    "Payment": "Payment",
    "Declaration": "EconomicActivity",
    "CashReport": "Event",
    "Address": "Address",
    "Conveyance": "Vehicle",
    "Container": "Vehicle",
}

#: graphiff property -> FtM property, per label (simple one-to-one copies; read both ways).
PROPS: dict[str, list[tuple[str, str]]] = {
    "Trader": [("name", "name"), ("country", "jurisdiction"), ("tin", "taxNumber"),
               ("registration_date", "incorporationDate"), ("phone", "phone"), ("email", "email"),
               ("legal_form", "legalForm"), ("activity_code", "sector"), ("trader_id", "idNumber")],
    "Carrier": [("name", "name"), ("country", "jurisdiction"), ("tin", "taxNumber"), ("phone", "phone"),
                ("email", "email"), ("carrier_type", "sector"), ("carrier_id", "idNumber")],
    "Person": [("name", "name"), ("birth_date", "birthDate"), ("nationality", "nationality"),
               ("passport_no", "passportNumber"), ("phone", "phone"), ("email", "email"), ("person_id", "idNumber")],
    "BankAccount": [("bank_country", "country"), ("opened_date", "openingDate"), ("bank_name", "bankName"),
                    ("bic", "bic"), ("currency", "currency")],
    "Payment": [("date", "date"), ("amount", "amount"), ("currency", "currency"), ("amount_usd", "amountUsd"),
                ("reference", "purpose"), ("payment_id", "transactionNumber")],
    "Declaration": [("declaration_id", "ccdNumber"), ("decl_key", "recordId"), ("hs_code", "vedCode"),
                    ("goods_description", "goodsDescription"), ("flow", "directionOfTransportation"),
                    ("customs_procedure", "customsProcedure"), ("date", "date"), ("origin_country", "originCountry"),
                    ("dispatch_country", "departureCountry"), ("destination_country", "destinationCountry")],
    "CashReport": [("date", "date"), ("report_id", "recordId")],
    "Address": [("address", "full")],
    "Conveyance": [("conveyance_id", "registrationNumber")],
    "Container": [("container_id", "registrationNumber")],
}

#: OFFICER_OF role -> FtM link schema (``Employment`` only when the officer is a person).
OFFICER_SCHEMA = {"DIRECTOR": "Directorship", "SIGNATORY": "Directorship", "OWNER": "Ownership",
                  "SHAREHOLDER": "Ownership", "UBO": "Ownership", "EMPLOYEE": "Employment"}
#: FtM link schema -> (source property, target property)
LINK_ENDS = {"Directorship": ("director", "organization"), "Ownership": ("owner", "asset"),
             "Employment": ("employee", "employer"), "UnknownLink": ("subject", "object")}


def ftm_id(label: str, key: str) -> str:
    """The FtM entity id of graphiff node ``label:key`` (same record, same id, every package)."""
    return "gf-" + hashlib.sha1(f"{label}:{key}".encode("utf-8")).hexdigest()[:20]


def link_id(rel_type: str, src_label: str, src: str, dst_label: str, dst: str, ident: str = "") -> str:
    """The FtM entity id of a relationship that becomes a link entity (Ownership, ...)."""
    return "gf-" + hashlib.sha1(
        rel_id(rel_type, src_label, src, dst_label, dst, ident).encode("utf-8")).hexdigest()[:20]


def _text(v: Any) -> str | None:
    pv = plain_value(v)
    if pv is None or isinstance(pv, bool):
        return None if pv is None else str(pv).lower()
    s = str(pv).strip()
    return s or None


class _Builder:
    def __init__(self, sub: Subgraph, publisher: str | None):
        self.sub = sub
        self.publisher = publisher
        self.nodes = {n.id: n for n in sub.nodes}
        self.proxies: dict[str, Any] = {}
        self.by_node: dict[str, Any] = {}

    def make(self, schema: str, eid: str, context: dict[str, Any]) -> Any:
        if eid in self.proxies:
            return self.proxies[eid]
        proxy = ftm_model.get_proxy({"id": eid, "schema": schema, "properties": {}, "graphiff": context})
        if self.publisher and "publisher" in proxy.schema.properties:
            proxy.add("publisher", self.publisher, quiet=True)
        self.proxies[eid] = proxy
        return proxy

    @staticmethod
    def add(proxy: Any, prop: str, value: Any) -> None:
        text = _text(value)
        if text is not None:
            proxy.add(prop, text, quiet=True, fuzzy=False)

    # ---- nodes ---------------------------------------------------------------------------
    def node(self, n: SubNode) -> None:
        schema = NODE_SCHEMA.get(n.label)
        if schema is None:
            return
        p = self.make(schema, ftm_id(n.label, n.key), {"label": n.label, "key": n.key})
        self.by_node[n.id] = p
        props = n.props
        for gprop, fprop in PROPS.get(n.label, []):
            self.add(p, fprop, props.get(gprop))
        if n.label in ("Trader", "Carrier", "Person"):
            if not p.has("name"):
                self.add(p, "name", n.caption or n.key)
            parts = [_text(props.get(c)) for c in ("address", "city", "postcode")]
            if parts[0]:
                self.add(p, "address", ", ".join(x for x in parts if x))
            if n.label != "Person":
                self.add(p, "country", props.get("country"))
                self.add(p, "classification", n.label.lower())
        elif n.label == "BankAccount":
            acc = _text(props.get("account_id")) or n.key
            self.add(p, "iban" if is_valid_iban(acc) else "accountNumber", acc)
            self.add(p, "name", acc)
        elif n.label == "Declaration":
            if props.get("invoice_value") is not None and _text(props.get("invoice_value")):
                self.add(p, "invoiceAmount",
                         f"{_text(props.get('invoice_value'))} {_text(props.get('currency')) or ''}".strip())
            if _text(props.get("value_usd")):
                self.add(p, "customsAmount", f"{_text(props.get('value_usd'))} USD")
            bits = [f"{_text(props.get('flow')) or ''} customs declaration "
                    f"{_text(props.get('declaration_id')) or n.key}"
                    f" item {_text(props.get('item_no')) or '?'}".strip()]
            if _text(props.get("reporting_country")):
                bits.append(f"reported in {_text(props.get('reporting_country'))}")
            self.add(p, "summary", "; ".join(bits))
        elif n.label == "CashReport":
            kind = _text(props.get("report_type")) or ""
            self.add(p, "name", f"{kind} cash report {n.key}".strip())
            amount = " ".join(x for x in (_text(props.get("direction")), _text(props.get("amount")),
                                          _text(props.get("currency"))) if x)
            if amount:
                self.add(p, "summary", amount)
            for c in ("origin_country", "destination_country"):
                self.add(p, "country", props.get(c))
            for kw in ("cash report", kind, _text(props.get("direction"))):
                self.add(p, "keywords", kw)
        elif n.label in ("Conveyance", "Container"):
            self.add(p, "name", n.key)
            self.add(p, "type", n.label.lower())
            self.add(p, "registrationNumber", n.key)
        elif n.label == "Address":
            self.add(p, "full", n.key)
            self.add(p, "name", n.caption or n.key)

    # ---- edges ---------------------------------------------------------------------------
    def edges(self) -> None:
        sub = self.sub
        holders: dict[str, list[Any]] = {}
        for e in sub.edges:
            if e.type == "HOLDS" and e.source in self.by_node and e.target in self.by_node:
                holders.setdefault(e.target, []).append(self.by_node[e.source])
        for e in sub.edges:
            src, dst = self.by_node.get(e.source), self.by_node.get(e.target)
            sl, sk = split_node_id(e.source)
            dl, dk = split_node_id(e.target)
            t = e.type
            props = e.props or {}
            ctx = {"type": t, "source": e.source, "target": e.target}
            if t in ("HAS_PHONE", "HAS_EMAIL", "IN_COUNTRY"):
                if src is not None:
                    self.add(src, {"HAS_PHONE": "phone", "HAS_EMAIL": "email", "IN_COUNTRY": "country"}[t], dk)
                continue
            if src is None or dst is None:
                continue
            if t == "LOCATED_AT":
                src.add("addressEntity", dst.id)
            elif t == "HOLDS":
                link = self.make("Ownership", link_id(t, sl, sk, dl, dk), ctx)
                link.add("owner", src.id)
                link.add("asset", dst.id)
                self.add(link, "ownershipType", "account holder")
                self.add(link, "role", "account holder")
            elif t == "OFFICER_OF":
                role = (_text(props.get("role")) or "").upper()
                schema = OFFICER_SCHEMA.get(role, "UnknownLink")
                if schema == "Employment" and sl != "Person":
                    schema = "UnknownLink"
                link = self.make(schema, link_id(t, sl, sk, dl, dk, role), ctx)
                a, b = LINK_ENDS[schema]
                link.add(a, src.id)
                link.add(b, dst.id)
                self.add(link, "role", role or None)
                self.add(link, "startDate", props.get("start_date"))
                self.add(link, "endDate", props.get("end_date"))
                if schema == "Ownership":
                    self.add(link, "percentage", props.get("share_pct"))
            elif t == "SENT":
                dst.add("payerAccount", src.id)
                for h in holders.get(e.source, []):
                    dst.add("payer", h.id)
            elif t == "RECEIVED_BY":
                src.add("beneficiaryAccount", dst.id)
                for h in holders.get(e.target, []):
                    src.add("beneficiary", h.id)
            elif t == "EXPORTED":
                dst.add("sender", src.id)
            elif t == "IMPORTED_BY":
                src.add("receiver", dst.id)
            elif t == "DECLARED_BY":
                src.add("declarant", dst.id)
            elif t in ("ON_CONVEYANCE", "IN_CONTAINER"):
                src.add("transport", dst.id)
            elif t == "CARRIED_BY":
                self.add(src, "summary", f"carried by {self.nodes[e.target].caption or dk}")
                for e2 in sub.edges:
                    if e2.type == "ON_CONVEYANCE" and e2.source == e.source and e2.target in self.by_node:
                        self.by_node[e2.target].add("operator", dst.id)
            elif t == "SETTLES":
                decl = self.nodes[e.target]
                invoice = _text(decl.props.get("invoice_no"))
                contract = self.make("Contract", ftm_id("Contract", dk), {"link": "SETTLES", "declaration": dk})
                self.add(contract, "title", f"invoice {invoice}" if invoice else f"customs declaration {dk}")
                self.add(contract, "type", "invoice")
                src.add("contract", contract.id)
                dst.add("contract", contract.id)
            elif t in ("FILED_BY", "FOR"):
                src.add("involved", dst.id)
            elif t == "INVOLVES":
                link = self.make("UnknownLink", link_id(t, sl, sk, dl, dk), ctx)
                link.add("subject", src.id)
                link.add("object", dst.id)
                self.add(link, "role", "INVOLVES")
            elif t == "SAME_AS" and _text(props.get("status")) in ("linked", "confirmed"):
                link = self.make("Similar", link_id(t, sl, sk, dl, dk), ctx)
                link.add("candidate", src.id)
                link.add("match", dst.id)
                self.add(link, "confidenceScore", props.get("score"))
                self.add(link, "criteria", same_as_criteria(props))
                self.add(link, "matcher", " / ".join(x for x in (_text(props.get("method")),
                                                                  _text(props.get("decided_by"))) if x) or None)
        # FtM requires a payer and a beneficiary: fall back to a placeholder legal entity
        for p in list(self.proxies.values()):
            if p.schema.name != "Payment":
                continue
            for party, acc_prop in (("payer", "payerAccount"), ("beneficiary", "beneficiaryAccount")):
                if p.has(party):
                    continue
                accounts = p.get(acc_prop)
                basis = accounts[0] if accounts else f"{p.id}:{party}"
                acc_name = self.proxies[accounts[0]].first("name") if accounts and accounts[0] in self.proxies else None
                ph = self.make("LegalEntity", "gf-" + hashlib.sha1(f"holder:{basis}".encode()).hexdigest()[:20],
                               {"placeholder": True})
                self.add(ph, "name", f"holder of account {acc_name}" if acc_name else f"unknown {party}")
                p.add(party, ph.id)


def same_as_criteria(props: dict[str, Any], limit: int = 1000) -> str | None:
    """The ``criteria`` of the ``Similar`` entity of a SAME_AS: its status and how each field of
    its evidence compared (the outcome, never the values compared), at most ``limit`` characters.

    >>> ev = '{"tin": {"a": "X1", "b": "X1", "match": "equal"}, "city": "equal", "total": 9.5}'
    >>> same_as_criteria({"status": "linked", "evidence": ev})
    'linked; tin equal; city equal; total 9.5'

    A top-level value is taken as it is: the evidence is redacted before (the package's
    :class:`graphiff.share.redact.Redactor`).
    """
    parts = [_text(props.get("status")) or ""]
    try:
        evidence = json.loads(str(props.get("evidence")))
    except ValueError:
        evidence = None
    if isinstance(evidence, dict):
        for field, v in evidence.items():
            if isinstance(v, dict):
                if v.get("match") is not None:
                    parts.append(f"{field} {v['match']}")
            elif isinstance(v, (str, int, float, bool)):
                parts.append(f"{field} {v}")
    text = "; ".join(x for x in parts if x)
    return text[:limit] or None


def to_ftm(sub: Subgraph, *, publisher: str | None = None) -> list[dict[str, Any]]:
    """The entities of ``sub`` as FtM dictionaries (``id``, ``schema``, ``properties``,
    ``graphiff`` context), sorted by id. ``publisher`` (e.g. the producing team) is set on every
    entity whose schema has that property."""
    b = _Builder(sub, publisher)
    for n in sub.nodes:
        b.node(n)
    b.edges()
    return [b.proxies[k].to_dict() for k in sorted(b.proxies)]


def ftm_json_lines(entities: Iterable[dict[str, Any]]) -> bytes:
    """FtM entities as JSON lines (the ``entities.ftm.json`` format of ``ftm`` tools)."""
    return "".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in entities).encode("utf-8")


__all__ = ["NODE_SCHEMA", "PROPS", "OFFICER_SCHEMA", "LINK_ENDS", "ftm_id", "link_id", "to_ftm", "ftm_json_lines",
           "same_as_criteria"]

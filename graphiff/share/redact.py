"""Redaction of a sharing package: the policies and the pseudonymiser (team keys: :mod:`graphiff.share.keys`).

Redaction (``redact=`` of :func:`graphiff.share.package.make_package`) is applied before
anything is written:

``none``
    everything as in the store.
``pseudonymise`` (default)
    personal identifiers are replaced by ``"psn-" + HMAC-SHA256(team key, kind:value)[:20]``: the
    same person (or phone, email, address, account) gets the same pseudonym in every package of
    the same team key, so partners can link packages, and nobody can reverse it without the key.
    Personal identifiers are: every property of a Person except ``nationality`` (names, birth date,
    passport, phone, email, address, person id, unknown extra columns), the keys of Person nodes,
    of Phone/Email/Address nodes attached to a person (or to no trader/carrier in the subgraph),
    and of bank accounts held by a person (or whose holder is not known to be a trader/carrier in
    the subgraph), those accounts' ``account_id``/``holder_id``/other non-bank properties, and a
    cash report's ``person_*`` columns. Persons and person-held accounts that the package's texts
    name without being nodes of it (an alert's "director P0001924 directs 12 companies", a
    payment's account outside the subgraph) are personal too, with every identifier the store
    holds for them (:mod:`graphiff.share.named`). The same values anywhere else in the package
    (a trader sharing a phone with a person, a payment's ``from_account``, alert explanations,
    evidence keys and values, ``detail`` strings, references, the title and seeds) are replaced
    too: whole cells by the pseudonym, free text by whole-token, case-insensitive substitution
    (``P12`` is not touched inside ``P123``). Alert ids are recomputed from the redacted alert
    (the store's id hashes the original values). Company data stays.
``SAME_AS`` evidence
    the values a ``SAME_AS`` between personal records compared (its ``evidence``: names,
    passports, birth dates, phones, accounts...) are replaced as the same values are everywhere
    else (:meth:`Redactor.evidence`); how they compared (``equal``, ``typo``, weights) stays.
``remove``
    personal identifier properties are removed (free text mentions become ``[removed]``);
    Person nodes and person-held accounts stay, with an opaque id as key (and as name, which FtM
    requires), so the network keeps its shape; Phone/Email/Address nodes of persons are dropped
    with their links. With a team key the opaque ids are the same pseudonyms as above (linkable
    across packages); without one they come from a random per-package key (``anon-...``) and link
    nothing outside the package.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from typing import Any, Callable, Iterable, Iterator

from graphiff.alerts import make_alert_id
from graphiff.graph.subgraph import SubEdge, Subgraph, SubNode
from graphiff.model import model
from graphiff.model.cells import plain_value
from graphiff.model.identity import PROVENANCE
from graphiff.model.values import clean_account, clean_address, clean_email, clean_phone
from graphiff.share.named import PersonalIndex, named_by_structure, texts_of

#: The redaction policies, mildest first.
POLICIES = ("none", "pseudonymise", "remove")
#: Person properties that are not personal identifiers (kept under every policy).
PERSON_CLEAR = frozenset({"nationality"})
#: Properties of a person-held bank account that describe the bank, not the person.
ACCOUNT_CLEAR = frozenset({"bank_country", "bank_name", "bic", "currency", "opened_date", "closed_date",
                           "account_type", "origin"})
#: Identifier labels and the property carrying their value.
IDENT_LABELS = {"Address": "address", "Phone": "phone", "Email": "email"}
_ORG_LABELS = ("Trader", "Carrier")
#: Kinds of personal value that stay as opaque ids under ``remove`` (they hold the network together).
_ID_KINDS = frozenset({"Person", "BankAccount"})
#: Kinds of personal value replaced wherever they occur in the package (not only in their node).
_GLOBAL_KINDS = frozenset({"Person", "BankAccount", "Phone", "Email", "Address", "name", "passport"})
#: In the evidence of a ``SAME_AS`` (a JSON object ``{field: {"a", "b", "match", "weight"}, ...}``,
#: :mod:`graphiff.resolve`): the keys of a field's entry that say how two values compared (kept;
#: free text in them is scrubbed like any text), and the top-level entries that are not fields.
EVIDENCE_OUTCOME_KEYS = frozenset({"match", "weight", "note", "level", "similarity", "ratio", "score", "distance"})
EVIDENCE_META = frozenset({"blocked_on", "prior", "total", "analyst"})
#: Evidence fields whose values are account ids, and whose values are ids of persons or companies.
_EVIDENCE_ACCOUNTS = frozenset({"accounts", "account_id", "account", "iban", "account_no", "account_number"})
_EVIDENCE_PARTIES = frozenset({"officers", "holder_id", "holder", "person_id"})
#: The largest number kept as it is in personal evidence (a count or a weight); longer numbers may
#: be identifiers written as numbers and are replaced like text.
_EVIDENCE_MAX_NUMBER = 10_000


def _missing(v: Any) -> bool:
    return plain_value(v) is None


#: Kind of personal value -> (its ingest rule in graphiff.model.values, what a value the rule
#: rejects becomes). Values are normalised as the ingest keys them before they are pseudonymised,
#: so a person's phone property and the Phone node of the same number get the same pseudonym.
_RULES: dict[str, tuple[Callable[..., str | None], Callable[[str], str]]] = {
    "Phone": (clean_phone, str.strip),
    "Email": (clean_email, lambda v: v.strip().lower()),
    "Address": (clean_address, lambda v: v.strip().upper()),
    "BankAccount": (clean_account, str.strip),
}


def _normalised(kind: str, raw: str, *parts: Any) -> str:
    """``raw`` (a value of ``kind``: Phone, Email, Address with its ``parts``, BankAccount) as
    the ingest normalises it; a value the rule rejects is only tidied.

    >>> _normalised("Phone", "0044 20 7946 0958"), _normalised("Email", " n/a ")
    ('+442079460958', 'n/a')
    >>> _normalised("Address", "Via Roma 44", "Rome")
    'VIA ROMA 44 ROME'
    """
    rule, fallback = _RULES[kind]
    return rule(raw, *parts) or fallback(raw)


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


class Redactor:
    """Applies one policy to a subgraph and its alerts (see the module docstring).

    Use: ``r = Redactor(policy, key)``, then ``r.plan(subgraph, alerts)`` once (it decides
    which nodes are personal and what every personal value becomes), then
    ``r.subgraph(subgraph)`` and ``r.alert(a)`` for each alert dict. Without a key the
    pseudonyms come from a random per-package key (``anon-...``). Cost: linear in the
    subgraph, plus one regular expression over every free-text value.
    """

    def __init__(self, policy: str, key: bytes | None):
        self.policy = policy
        self.prefix = "psn-" if key else "anon-"
        self.key = key or secrets.token_bytes(32)
        self.exact: dict[str, str | None] = {}       # folded whole value -> replacement (None: drop)
        self.words: dict[str, str] = {}              # folded text -> replacement in free text
        self._regex: re.Pattern[str] | None = None
        self.registered: set[tuple[str, str]] = set()  # (kind, normalised value) registered as personal
        self.alert_ids: dict[str, str] = {}          # alert id in the store -> its id in the package
        self.evidence_of: dict[str, SubNode] = {}    # SAME_AS edge id -> the personal record it joins
        self._persons_done: set[str] = set()

    def token(self, kind: str, value: str) -> str:
        """The pseudonym of ``value`` of ``kind``: prefix + HMAC-SHA256(key, kind:value)[:20]."""
        digest = hmac.new(self.key, f"{kind}:{value}".encode("utf-8"), hashlib.sha256).hexdigest()
        return self.prefix + digest[:20]

    def _value_token(self, kind: str, raw: str, *, norm: str | None = None) -> str | None:
        """Register ``raw`` (and its normalised form) as personal; return what replaces it."""
        norm = norm if norm is not None else raw.strip()
        self.registered.add((kind, norm))
        tok = self.token(kind, norm)
        keep_link = kind in _ID_KINDS or self.policy == "pseudonymise"
        repl = tok if keep_link else None
        if kind not in _GLOBAL_KINDS:
            return repl
        for variant in {raw, norm}:
            v = variant.strip()
            if not v:
                continue
            self.exact[_fold(v)] = repl
            if len(v) >= 3:
                self.words[_fold(v)] = repl if repl is not None else "[removed]"
                if kind == "BankAccount" and re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]+", v):
                    spaced = " ".join(v[i:i + 4] for i in range(0, len(v), 4))
                    self.words[_fold(spaced)] = self.words[_fold(v)]
        return repl

    @staticmethod
    def _norm_key(label: str, key: str) -> str:
        """A node key as the ingest has it (keys of other labels, Address included, are stripped)."""
        return _normalised(label, key) if label in ("BankAccount", "Phone", "Email") else key.strip()

    def person_prop(self, prop: str, raw: str, node: SubNode) -> str | None:
        """Register a person property value as personal (by its kind); return what replaces it
        (``None``: removed)."""
        if prop == "phone":
            return self._value_token("Phone", raw, norm=_normalised("Phone", raw))
        if prop == "email":
            return self._value_token("Email", raw, norm=_normalised("Email", raw))
        if prop == "address":
            parts = [node.props.get(c) for c in ("city", "postcode") if not _missing(node.props.get(c))]
            return self._value_token("Address", raw, norm=_normalised("Address", raw, *parts))
        if prop in ("person_id", "officer_id", "holder_id"):
            return self._value_token("Person", raw)
        if prop in ("name", "first_name", "last_name", "alias", "person_name"):
            return self._value_token("name", raw, norm=_fold(raw))
        if prop == "birth_date":
            # dates are not registered for free-text substitution (other records' dates would change)
            tok = self.token("date", raw.strip())
            return tok if self.policy == "pseudonymise" else None
        if prop in ("passport_no", "passport"):
            return self._value_token("passport", raw, norm=re.sub(r"\s+", "", raw).upper())
        return self._value_token("text", raw)

    # ---- plan: which nodes are personal, and what every personal value becomes -----------
    def plan(self, sub: Subgraph, alerts: Iterable[dict[str, Any]] = (), index: PersonalIndex | None = None) -> None:
        """Decide which nodes of ``sub`` are personal, their new keys and properties, and register
        every personal value for replacement everywhere: of the subgraph's personal nodes, and of
        the persons and accounts that ``alerts`` (entities, explanations, evidence) and the
        subgraph's free texts name without them being nodes of ``sub`` -- found through
        ``index`` (:func:`graphiff.share.named.personal_index` of the store; complete), else by
        the evidence structure (:func:`graphiff.share.named.named_by_structure`). Call once,
        before :meth:`alert` and :meth:`subgraph`."""
        alerts = list(alerts)
        nodes = {n.id: n for n in sub.nodes}
        persons = {nid for nid, n in nodes.items() if n.label == "Person"}
        org_keys = {n.key for n in sub.nodes if n.label in _ORG_LABELS}
        person_keys = {n.key for n in sub.nodes if n.label == "Person"}
        attached: dict[str, set[str]] = {}
        for e in sub.edges:
            if e.target in nodes and nodes[e.target].label in IDENT_LABELS and e.source in nodes:
                attached.setdefault(e.target, set()).add(nodes[e.source].label)
        self.personal: set[str] = set(persons)
        for nid, n in nodes.items():
            if n.label in IDENT_LABELS:
                labels = attached.get(nid, set())
                if "Person" in labels or not (labels & set(_ORG_LABELS)):
                    self.personal.add(nid)
        held_by: dict[str, set[str]] = {}
        for e in sub.edges:
            if e.type == "HOLDS" and e.source in nodes and e.target in nodes:
                held_by.setdefault(e.target, set()).add(nodes[e.source].label)
        for nid, n in nodes.items():
            if n.label != "BankAccount":
                continue
            labels = set(held_by.get(nid, set()))
            holder = plain_value(n.props.get("holder_id"))
            if holder is not None:
                if str(holder) in person_keys:
                    labels.add("Person")
                elif str(holder) in org_keys:
                    labels.add("Trader")
            if "Person" in labels or not (labels & set(_ORG_LABELS)):
                self.personal.add(nid)
        self.nodes = nodes
        self._named_outside(sub, alerts, index)
        # new keys of personal nodes (the key values are registered for replacement everywhere)
        self.new_key: dict[str, str] = {}
        for nid in sorted(self.personal):
            n = nodes[nid]
            norm = self._norm_key(n.label, n.key)
            self._value_token(n.label, n.key, norm=norm)
            self.new_key[nid] = self.token(n.label, norm)
        self.dropped: set[str] = set()
        if self.policy == "remove":
            self.dropped = {nid for nid in self.personal if nodes[nid].label in IDENT_LABELS}
        # personal property values (registers them for replacement everywhere)
        self.new_props: dict[str, dict[str, Any]] = {}
        for nid in sorted(self.personal):
            n = nodes[nid]
            keyprop = model().node(n.label).key
            out: dict[str, Any] = {}
            for prop, value in n.props.items():
                if prop in PROVENANCE or prop == "key":
                    out[prop] = value       # (provenance text is scrubbed in subgraph())
                elif prop == keyprop:
                    out[prop] = self.new_key[nid]
                elif _missing(value):
                    continue
                elif n.label == "Person" and prop in PERSON_CLEAR:
                    out[prop] = value
                elif n.label == "BankAccount" and prop in ACCOUNT_CLEAR:
                    out[prop] = value
                elif n.label == "BankAccount" and prop == "holder_id":
                    out[prop] = self._value_token("Person", str(value))
                elif n.label == "BankAccount" and prop in ("iban", "account_no", "account_number"):
                    account = str(value)
                    out[prop] = self._value_token("BankAccount", account, norm=_normalised("BankAccount", account))
                elif n.label == "Person":
                    out[prop] = self.person_prop(prop, str(plain_value(value)), n)
                else:
                    out[prop] = self._value_token("text", str(plain_value(value)))
            if n.label == "Person" and self.policy == "remove":
                out["name"] = self.new_key[nid]
            self.new_props[nid] = {k: v for k, v in out.items() if v is not None}
        # what a SAME_AS between personal records compared (its evidence) is personal too
        self.evidence_of = {}
        for e in sub.edges:
            if e.type == "SAME_AS" and (e.source in self.personal or e.target in self.personal):
                node = nodes[e.source] if e.source in self.personal else nodes[e.target]
                self.evidence_of[e.id] = node
                self.evidence(node, e.props.get("evidence"))      # registers the values compared
        # a cash report's filer columns are personal wherever the person is
        for n in sub.nodes:
            for prop, value in n.props.items():
                if prop.startswith("person_") and not _missing(value) and n.label != "Person":
                    self.person_prop(prop, str(plain_value(value)), n)
        # entities of alerts outside the subgraph whose holder is unknown count as personal
        for a in alerts:
            for ent in a.get("entities", []):
                label, key = str(ent.get("label")), str(ent.get("id"))
                if f"{label}:{key}" not in nodes and (label in ("Person", "BankAccount") or label in IDENT_LABELS):
                    self._value_token(label, key, norm=self._norm_key(label, key))
        words = sorted(self.words, key=len, reverse=True)
        # whole tokens only: P12 is not replaced inside P123, nor PER-1 inside PER-1-2
        self._regex = (re.compile(r"(?<!\w)(?<!\w-)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)(?!-\w)",
                                  re.IGNORECASE) if words else None)

    @staticmethod
    def _texts(sub: Subgraph, alerts: list[dict[str, Any]]) -> Iterator[str]:
        """Every text of the package-to-be: alert entity ids, explanations and evidence (keys
        too), node captions and property values, relationship property values, title, seeds."""
        for a in alerts:
            yield from texts_of([[str(e.get("id")) for e in a.get("entities", [])], a.get("explanation"),
                                 a.get("evidence")])
        for n in sub.nodes:
            yield n.caption
            yield from texts_of(list(n.props.values()))
        for e in sub.edges:
            yield from texts_of(list(e.props.values()))
        yield sub.title
        yield from sub.seeds

    def _register_person(self, key: str, index: PersonalIndex | None) -> None:
        """Register a person that is not a node of the subgraph: its id, every personal property
        the store has (``index``), and the accounts it holds."""
        if key in self._persons_done:
            return
        self._persons_done.add(key)
        self._value_token("Person", key)
        props = index.persons.get(key, {}) if index is not None else {}
        node = SubNode(f"Person:{key}", "Person", key, key, props)
        for prop, value in props.items():
            if prop in PERSON_CLEAR or prop in PROVENANCE or _missing(value):
                continue
            self.person_prop(prop, str(plain_value(value)), node)
        for acct in (index.held.get(key, []) if index is not None else []):
            self._value_token("BankAccount", acct, norm=self._norm_key("BankAccount", acct))

    def _named_outside(self, sub: Subgraph, alerts: list[dict[str, Any]], index: PersonalIndex | None) -> None:
        """Register the persons and personal accounts the package's texts name (see :meth:`plan`);
        identifier and account nodes of the subgraph whose value turns out personal become personal."""
        nodes = self.nodes
        named = (index.named(self._texts(sub, alerts)) if index is not None
                 else named_by_structure(alerts, self._texts(sub, alerts)))
        for nid in sorted(named):
            label, _, key = nid.partition(":")
            if nid in nodes:
                if index is not None:          # the store says it is personal (a person, or a person's account)
                    self.personal.add(nid)
                continue
            if index is None and any(f"{org}:{key}" in nodes for org in _ORG_LABELS):
                continue                       # a holder field naming a company of the package
            if label == "Person":
                self._register_person(key, index)
            elif label == "BankAccount":
                self._value_token("BankAccount", key, norm=self._norm_key("BankAccount", key))
                holder = index.accounts.get(key) if index is not None else None
                if holder is not None and f"Person:{holder}" not in nodes:
                    self._register_person(holder, index)
        for nid, n in nodes.items():
            if (n.label in IDENT_LABELS or n.label == "BankAccount") and nid not in self.personal \
                    and (n.label, self._norm_key(n.label, n.key)) in self.registered:
                self.personal.add(nid)

    # ---- SAME_AS evidence of personal records ----------------------------------------------
    def evidence(self, node: SubNode, value: Any) -> str | None:
        """The evidence of a ``SAME_AS`` joining ``node`` (a personal record) to another, redacted:
        every value compared (a field's ``a`` and ``b``, at any depth) is replaced as the same
        field's value is anywhere in the package -- the same pseudonym under ``pseudonymise``
        (equal values stay visibly equal), ``null`` under ``remove`` -- except the fields that
        are not personal (a person's nationality, an account's bank); how the values compared
        (:data:`EVIDENCE_OUTCOME_KEYS`) and the entries that are not fields
        (:data:`EVIDENCE_META`) stay, their free text scrubbed. Evidence that is not a JSON
        object is dropped (``None``). Registers what it replaces (called by :meth:`plan`)."""
        if _missing(value):
            return None
        data = value
        if isinstance(value, str):
            try:
                data = json.loads(value)
            except ValueError:
                return None
        if not isinstance(data, dict):
            return None
        out: dict[str, Any] = {}
        for f, v in data.items():
            name = str(self.text(str(f)) or "[removed]")
            if f in EVIDENCE_META:
                out[name] = self.deep(v)
            elif isinstance(v, dict):
                out[name] = {str(self.text(str(k)) or "[removed]"):
                             self.deep(x) if k in EVIDENCE_OUTCOME_KEYS else self._evidence_value(node, str(f), x)
                             for k, x in v.items()}
            else:
                out[name] = self._evidence_value(node, str(f), v)
        return json.dumps(out, ensure_ascii=False)

    def _evidence_value(self, node: SubNode, f: str, x: Any) -> Any:
        """One compared value of field ``f`` in personal evidence (see :meth:`evidence`)."""
        if x is None or isinstance(x, bool):
            return x
        if isinstance(x, (int, float)) and abs(x) < _EVIDENCE_MAX_NUMBER:
            return x
        if isinstance(x, (list, tuple)):
            return [self._evidence_value(node, f, y) for y in x]
        if isinstance(x, dict):
            return {str(self.text(str(k)) or "[removed]"): self._evidence_value(node, f, y) for k, y in x.items()}
        text = str(x)
        if (node.label == "Person" and f in PERSON_CLEAR) or (node.label == "BankAccount" and f in ACCOUNT_CLEAR):
            return self.text(text)
        parts = [self._evidence_part(node, f, part.strip()) for part in text.split(";") if part.strip()]
        kept = [p for p in parts if p is not None]
        return ";".join(kept) if kept else None

    def _evidence_part(self, node: SubNode, f: str, part: str) -> str | None:
        folded = _fold(part)
        if folded in self.exact:              # a value the package replaces elsewhere: the same replacement
            return self.exact[folded]
        if f in _EVIDENCE_ACCOUNTS:
            return self._value_token("BankAccount", part, norm=_normalised("BankAccount", part))
        if f in _EVIDENCE_PARTIES:
            if any(f"{org}:{part}" in self.nodes and f"{org}:{part}" not in self.personal for org in _ORG_LABELS):
                return part                   # a company of the package: company data
            return self._value_token("Person", part)
        return self.person_prop(f, part, node)

    # ---- apply ---------------------------------------------------------------------------
    def text(self, value: Any) -> Any:
        """One value outside the personal nodes: whole-cell match, else free-text substitution."""
        if not isinstance(value, str):
            return value
        folded = _fold(value)
        if folded in self.exact:
            return self.exact[folded]
        if self._regex is None:
            return value
        return self._regex.sub(lambda m: self.words.get(_fold(m.group(0)), "[removed]"), value)

    def prov(self, value: Any) -> Any:
        """A provenance value (a file name may name someone too); never dropped."""
        if not isinstance(value, str):
            return value
        nv = self.text(value)
        return nv if isinstance(nv, str) else "[removed]"

    def deep(self, value: Any) -> Any:
        """:meth:`text` applied through nested dicts (keys too) and lists (alert evidence)."""
        if isinstance(value, dict):
            return {(self.text(k) or "[removed]") if isinstance(k, str) else k: self.deep(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.deep(v) for v in value]
        return self.text(value)

    def props(self, props: dict[str, Any]) -> dict[str, Any]:
        """The properties of a node or relationship that is not personal, with personal values
        replaced (dropped under ``remove``); provenance is kept (see :meth:`prov`)."""
        out = {}
        for k, v in props.items():
            nv = self.text(v)
            if k in PROVENANCE:
                out[k] = self.prov(v)
                continue
            if nv is not None:
                out[k] = nv
        return out

    def node_id(self, nid: str) -> str:
        """The id ``nid`` has in the package (personal nodes get their new key)."""
        if nid in self.new_key:
            return f"{nid.partition(':')[0]}:{self.new_key[nid]}"
        return nid

    def subgraph(self, sub: Subgraph) -> Subgraph:
        """``sub`` redacted as planned (:meth:`plan`): personal nodes rekeyed or dropped, values
        replaced everywhere, seeds and title scrubbed."""
        nodes: list[SubNode] = []
        for n in sub.nodes:
            if n.id in self.dropped:
                continue
            if n.id in self.personal:
                props = {k: (self.prov(v) if k in PROVENANCE else v) for k, v in self.new_props[n.id].items()}
                key = self.new_key[n.id]
                caption = props.get("name") if n.label == "Person" else key
                nodes.append(SubNode(self.node_id(n.id), n.label, key, str(caption or key), props))
            else:
                nodes.append(SubNode(n.id, n.label, n.key, str(self.text(n.caption) or n.key), self.props(n.props)))
        edges: list[SubEdge] = []
        for e in sub.edges:
            if e.source in self.dropped or e.target in self.dropped:
                continue
            # the edge id is made again from the redacted ends (select's id names the original keys)
            src, dst = self.node_id(e.source), self.node_id(e.target)
            props = self.props(e.props)
            if e.id in self.evidence_of:
                ev = self.evidence(self.evidence_of[e.id], e.props.get("evidence"))
                props.pop("evidence", None)
                if ev is not None:
                    props["evidence"] = ev
            edges.append(SubEdge(f"{src}|{e.type}|{dst}#{len(edges)}", src, dst, e.type, props))
        title = str(self.text(sub.title) or "graphiff package")
        for old, new in self.alert_ids.items():
            title = title.replace(old, new)
        return Subgraph(nodes=nodes, edges=edges, omitted=dict(sub.omitted),
                        seeds=[self._seed(s) for s in sub.seeds], title=title)

    def _seed(self, s: str) -> str:
        if s in self.new_key:
            return self.node_id(s)
        label, _, rest = s.partition(":")
        if label == "Alert" and rest in self.alert_ids:
            return f"Alert:{self.alert_ids[rest]}"
        if s in self.alert_ids:
            return self.alert_ids[s]
        return str(self.text(s) or "[removed]")

    def alert(self, a: dict[str, Any]) -> dict[str, Any]:
        """An alert dict redacted: its entities renamed (or dropped with their node), explanation
        and evidence scrubbed."""
        out = dict(a)
        ents = []
        for ent in a.get("entities", []):
            label, key = str(ent.get("label")), str(ent.get("id"))
            nid = f"{label}:{key}"
            if nid in self.dropped:
                continue
            if nid in self.new_key:
                ents.append({**ent, "id": self.new_key[nid]})
            elif nid not in self.nodes and (label in ("Person", "BankAccount") or label in IDENT_LABELS):
                # an entity outside the subgraph: its holder is unknown, so it counts as personal
                if self.policy == "remove" and label in IDENT_LABELS:
                    continue
                ents.append({**ent, "id": self.token(label, self._norm_key(label, key))})
            else:
                ents.append({k: (self.text(v) if k == "id" else v) for k, v in ent.items()})
        out["entities"] = ents
        out["explanation"] = self.text(a.get("explanation", "")) or ""
        out["evidence"] = self.deep(a.get("evidence", {}))
        # the store's alert id hashes the original entities and evidence (an oracle for guessing
        # the ids behind the pseudonyms): the package's id hashes the redacted ones
        if "id" in a:
            out["id"] = make_alert_id(str(a.get("pattern", "")), ents,
                                      out["evidence"] if isinstance(out["evidence"], dict) else {})
            self.alert_ids[str(a["id"])] = out["id"]
        return out

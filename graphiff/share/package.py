"""Sharing packages for joint operations (design.md section 8): make one, import one.

A package is one zip file::

    entities.ftm.json   the subgraph as FollowTheMoney entities, JSON lines (graphiff.share.ftm)
    nodes.csv           the same nodes as a table: id, label, key, caption, ftm_id, properties, provenance
    edges.csv           the relationships: id, type, src_label, src, dst_label, dst, properties, provenance
    alerts.json         the alerts in scope (naming at least one entity of the subgraph)
    manifest.json       producer, created, purpose, handling marking, redaction policy, counts,
                        graphiff version, column types, and SHA-256 + size of every other file

CSV cells are formula-safe (:func:`graphiff.charts.base.safe_cell`); a cell that starts with a
single quote was either quoted by ``safe_cell`` or already started with a quote (then it got a
second one), so the importer drops exactly one leading quote and gets the value back.

Redaction (``redact=``), applied before anything is written:

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
    cash report's ``person_*`` columns. The same values anywhere else in the package (a trader
    sharing a phone with a person, a payment's ``from_account``, alert explanations and evidence,
    the title) are replaced too: whole cells by the pseudonym, free text by whole-word,
    case-insensitive substitution. Company data stays.
``remove``
    personal identifier properties are removed (free text mentions become ``[removed]``);
    Person nodes and person-held accounts stay, with an opaque id as key (and as name, which FtM
    requires), so the network keeps its shape; Phone/Email/Address nodes of persons are dropped
    with their links. With a team key the opaque ids are the same pseudonyms as above (linkable
    across packages); without one they come from a random per-package key (``anon-...``) and link
    nothing outside the package.

Importing (:func:`import_package`) verifies every file against the manifest before anything is
written, then merges nodes and relationships idempotently with the partner as provenance.
Records that already exist locally keep their local values; the package only fills gaps.
"""
from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import zipfile
import zlib
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Literal

import numpy as np
import pandas as pd

from graphiff.errors import PackageError
from graphiff.graph.subgraph import SubEdge, Subgraph, SubNode
from graphiff.model import model
from graphiff.model.cells import plain_value, safe_cell
from graphiff.model.identity import PROVENANCE, REL_ENDS, rel_id
from graphiff.share.ftm import (
    from_ftm,
    ftm_id,
    ftm_json_lines,
    read_ftm_json_lines,
    to_ftm,
)
from graphiff.stores import Store

FORMAT = "graphiff-package"
FORMAT_VERSION = 1
FILES = ("entities.ftm.json", "nodes.csv", "edges.csv", "alerts.json")
POLICIES = ("none", "pseudonymise", "remove")
KEY_ENV = "GRAPHIFF_PACKAGE_KEY"
MIN_KEY_BYTES = 16
MAX_FILE_BYTES = 2 << 30          # refuse members claiming more than 2 GiB

NODE_FIXED = ("id", "label", "key", "caption", "ftm_id")
EDGE_FIXED = ("id", "type", "src_label", "src", "dst_label", "dst")

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


# =========================================================================== keys and values

def read_key(key_file: str | Path | None = None, *, env: bool = True) -> bytes | None:
    """The team key: the content of ``key_file`` (surrounding whitespace dropped), else
    ``$GRAPHIFF_PACKAGE_KEY`` (when ``env``), else ``None``."""
    if key_file is not None:
        try:
            data = Path(key_file).read_bytes().strip()
        except OSError as exc:
            raise PackageError(f"cannot read key file {key_file}: {exc.strerror or exc}") from None
        if not data:
            raise PackageError(f"key file {key_file} is empty")
        return data
    if env and os.environ.get(KEY_ENV):
        return os.environ[KEY_ENV].strip().encode("utf-8")
    return None


def _missing(v: Any) -> bool:
    return plain_value(v) is None


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _version() -> str:
    try:
        from graphiff import __version__

        return __version__
    except ImportError:  # pragma: no cover
        return "unknown"


# =========================================================================== redaction

def _norm_phone(v: str) -> str:
    from graphiff.model.values import normalise_phone

    out = normalise_phone(pd.Series([v])).iloc[0]
    return out if isinstance(out, str) else v.strip()


def _norm_email(v: str) -> str:
    return v.strip().lower()


def _norm_address(v: str, *parts: Any) -> str:
    from graphiff.model.values import normalise_address

    out = normalise_address(pd.Series([v]), *[pd.Series([p]) for p in parts]).iloc[0]
    return out if isinstance(out, str) else v.strip().upper()


def _norm_account(v: str) -> str:
    from graphiff.model.values import normalise_account

    out = normalise_account(pd.Series([v])).iloc[0]
    return out if isinstance(out, str) else v.strip()


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


class _Redactor:
    """Applies one policy to a subgraph and its alerts (see the module docstring)."""

    def __init__(self, policy: str, key: bytes | None):
        self.policy = policy
        self.prefix = "psn-" if key else "anon-"
        self.key = key or secrets.token_bytes(32)
        self.exact: dict[str, str | None] = {}       # folded whole value -> replacement (None: drop)
        self.words: dict[str, str] = {}              # folded text -> replacement in free text
        self._regex: re.Pattern[str] | None = None

    def token(self, kind: str, value: str) -> str:
        digest = hmac.new(self.key, f"{kind}:{value}".encode("utf-8"), hashlib.sha256).hexdigest()
        return self.prefix + digest[:20]

    def _value_token(self, kind: str, raw: str, *, norm: str | None = None) -> str | None:
        """Register ``raw`` (and its normalised form) as personal; return what replaces it."""
        norm = norm if norm is not None else raw.strip()
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
        return {"BankAccount": _norm_account, "Phone": _norm_phone, "Email": _norm_email}.get(
            label, lambda v: v.strip())(key)

    def person_prop(self, prop: str, raw: str, node: SubNode) -> str | None:
        if prop == "phone":
            return self._value_token("Phone", raw, norm=_norm_phone(raw))
        if prop == "email":
            return self._value_token("Email", raw, norm=_norm_email(raw))
        if prop == "address":
            parts = [node.props.get(c) for c in ("city", "postcode") if not _missing(node.props.get(c))]
            return self._value_token("Address", raw, norm=_norm_address(raw, *parts))
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
    def plan(self, sub: Subgraph, alerts: Iterable[dict[str, Any]] = ()) -> None:
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
                    out[prop] = self._value_token("BankAccount", str(value), norm=_norm_account(str(value)))
                elif n.label == "Person":
                    out[prop] = self.person_prop(prop, str(plain_value(value)), n)
                else:
                    out[prop] = self._value_token("text", str(plain_value(value)))
            if n.label == "Person" and self.policy == "remove":
                out["name"] = self.new_key[nid]
            self.new_props[nid] = {k: v for k, v in out.items() if v is not None}
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
        self._regex = (re.compile("(?<!\\w)(?:" + "|".join(re.escape(w) for w in words) + ")(?!\\w)", re.IGNORECASE)
                       if words else None)

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
        if isinstance(value, dict):
            return {(self.text(k) or "[removed]") if isinstance(k, str) else k: self.deep(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.deep(v) for v in value]
        return self.text(value)

    def props(self, props: dict[str, Any]) -> dict[str, Any]:
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
        if nid in self.new_key:
            return f"{nid.partition(':')[0]}:{self.new_key[nid]}"
        return nid

    def subgraph(self, sub: Subgraph) -> Subgraph:
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
            edges.append(SubEdge(e.id, self.node_id(e.source), self.node_id(e.target), e.type, self.props(e.props)))
        return Subgraph(nodes=nodes, edges=edges, omitted=dict(sub.omitted),
                        seeds=[self.node_id(s) if s in self.new_key else str(self.text(s) or "[removed]")
                               for s in sub.seeds],
                        title=str(self.text(sub.title) or "graphiff package"))

    def alert(self, a: dict[str, Any]) -> dict[str, Any]:
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
        return out


# =========================================================================== making a package

def _alert_dict(a: Any) -> dict[str, Any]:
    if hasattr(a, "to_dict"):
        return a.to_dict()
    if isinstance(a, dict):
        d = dict(a)
        d.setdefault("entities", [])
        return d
    raise PackageError(f"not an alert: {a!r}")


def alerts_from_store(store: Store) -> list[dict[str, Any]]:
    """The alerts written back to ``store`` (Alert nodes and their FLAGS), as alert dicts."""
    nodes = store.nodes("Alert")
    if not len(nodes):
        return []
    flags = store.rels("FLAGS")
    ents: dict[str, list[dict[str, str]]] = {}
    for row in flags.itertuples(index=False):
        ents.setdefault(str(row.src), []).append({"label": str(row.dst_label), "id": str(row.dst)})
    out = []
    for row in nodes.to_dict("records"):
        ev = plain_value(row.get("evidence"))
        try:
            evidence = json.loads(ev) if isinstance(ev, str) else {}
        except ValueError:
            evidence = {"text": ev}
        score = plain_value(row.get("score"))
        out.append({"id": str(row["key"]), "pattern": plain_value(row.get("pattern")) or "",
                    "score": float(score) if score is not None else 0.0,
                    "entities": sorted(ents.get(str(row["key"]), []), key=lambda e: (e["label"], e["id"])),
                    "explanation": plain_value(row.get("explanation")) or "", "evidence": evidence})
    return out


def _split_alerts(sub: Subgraph, alerts: Iterable[Any]) -> tuple[Subgraph, list[dict[str, Any]]]:
    """Alert nodes and FLAGS edges leave the graph; the alerts in scope go to alerts.json."""
    by_id: dict[str, dict[str, Any]] = {}
    for a in alerts:
        d = _alert_dict(a)
        by_id[str(d.get("id"))] = d
    alert_nodes = {n.id: n for n in sub.nodes if n.label == "Alert"}
    for nid, n in alert_nodes.items():
        if n.key in by_id:
            continue
        ev = plain_value(n.props.get("evidence"))
        try:
            evidence = json.loads(ev) if isinstance(ev, str) else {}
        except ValueError:
            evidence = {"text": ev}
        score = plain_value(n.props.get("score"))
        by_id[n.key] = {"id": n.key, "pattern": plain_value(n.props.get("pattern")) or "",
                        "score": float(score) if isinstance(score, (int, float)) else 0.0,
                        "entities": [{"label": e.target.partition(":")[0], "id": e.target.partition(":")[2]}
                                     for e in sub.edges if e.type == "FLAGS" and e.source == nid],
                        "explanation": plain_value(n.props.get("explanation")) or "", "evidence": evidence}
    graph_nodes = [n for n in sub.nodes if n.label != "Alert"]
    ids = {n.id for n in graph_nodes}
    graph_edges = [e for e in sub.edges if e.type != "FLAGS" and e.source in ids and e.target in ids]
    seeds = set(sub.seeds)
    in_scope = [a for a in by_id.values()
                if a.get("id") in seeds or f"Alert:{a.get('id')}" in seeds
                or any(f"{e.get('label')}:{e.get('id')}" in ids for e in a.get("entities", []))]
    in_scope.sort(key=lambda a: (-float(a.get("score") or 0), str(a.get("id"))))
    return replace(sub, nodes=graph_nodes, edges=graph_edges), in_scope


def _col_type(values: Iterable[Any]) -> str:
    kinds = set()
    for v in values:
        pv = plain_value(v)
        if pv is None:
            continue
        kinds.add("bool" if isinstance(pv, bool) else "int" if isinstance(pv, int)
                  else "float" if isinstance(pv, float) else "str")
    if not kinds:
        return "str"
    if kinds <= {"int"}:
        return "int"
    if kinds <= {"int", "float"}:
        return "float"
    if kinds == {"bool"}:
        return "bool"
    return "str"


def _cell(v: Any) -> str:
    pv = plain_value(v)
    if pv is None:
        return ""
    if isinstance(pv, float):
        return repr(pv)
    text = safe_cell(pv)
    if isinstance(pv, str) and pv.startswith("'"):
        text = "'" + pv       # a value that starts with a quote gets a second one (see module doc)
    return text


def _csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([safe_cell(h) for h in header])
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _prop_columns(items: Iterable[dict[str, Any]], fixed: tuple[str, ...]) -> list[str]:
    cols: set[str] = set()
    for props in items:
        cols.update(k for k, v in props.items() if not _missing(v))
    cols -= set(fixed) | set(PROVENANCE) | set(REL_ENDS) | {"key", "rid"}
    return sorted(cols)


def _tables(sub: Subgraph) -> tuple[bytes, bytes, dict[str, dict[str, dict[str, str]]]]:
    """nodes.csv, edges.csv and the column types (per label / type) of ``sub``."""
    ncols = _prop_columns((n.props for n in sub.nodes), NODE_FIXED)
    header = [*NODE_FIXED, *ncols, *PROVENANCE]
    rows = []
    types: dict[str, dict[str, dict[str, str]]] = {"nodes": {}, "edges": {}}
    by_label: dict[str, list[SubNode]] = {}
    for n in sorted(sub.nodes, key=lambda n: (n.label, n.key)):
        by_label.setdefault(n.label, []).append(n)
        rows.append([_cell(n.id), _cell(n.label), _cell(n.key), _cell(n.caption), ftm_id(n.label, n.key),
                     *[_cell(n.props.get(c)) for c in ncols], *[_cell(n.props.get(c)) for c in PROVENANCE]])
    for label, ns in by_label.items():
        cols = sorted({k for n in ns for k, v in n.props.items() if not _missing(v)} - {"key", *PROVENANCE})
        types["nodes"][label] = {c: _col_type(n.props.get(c) for n in ns) for c in cols}
    nodes_csv = _csv_bytes(header, rows)

    ecols = _prop_columns((e.props for e in sub.edges), EDGE_FIXED)
    header = [*EDGE_FIXED, *ecols, *PROVENANCE]
    rows = []
    by_type: dict[str, list[SubEdge]] = {}
    for e in sorted(sub.edges, key=lambda e: (e.type, e.source, e.target, str(e.props.get("role", "")))):
        by_type.setdefault(e.type, []).append(e)
        sl, _, sk = e.source.partition(":")
        dl, _, dk = e.target.partition(":")
        ident = "|".join(str(plain_value(e.props.get(c)) or "") for c in model().rel(e.type).identity)
        rows.append([_cell(rel_id(e.type, sl, sk, dl, dk, ident)), _cell(e.type), _cell(sl), _cell(sk), _cell(dl),
                     _cell(dk), *[_cell(e.props.get(c)) for c in ecols], *[_cell(e.props.get(c)) for c in PROVENANCE]])
    for t, es in by_type.items():
        cols = sorted({k for e in es for k, v in e.props.items() if not _missing(v)}
                      - {"rid", *REL_ENDS, *PROVENANCE})
        types["edges"][t] = {c: _col_type(e.props.get(c) for e in es) for c in cols}
    return nodes_csv, _csv_bytes(header, rows), types


def make_package(sub: Subgraph, out: str | Path, *, purpose: str, marking: str, producer: str,
                 redact: Literal["none", "pseudonymise", "remove"] = "pseudonymise", key: bytes | None = None,
                 alerts: Iterable[Any] = ()) -> dict[str, Any]:
    """Write ``sub`` as a sharing package zip to ``out`` and return its manifest.

    ``purpose`` (why it is shared), ``marking`` (handling marking, e.g. "TLP:AMBER") and
    ``producer`` (the sending team) are required. ``redact`` is the policy (module docstring);
    ``pseudonymise`` needs the team ``key`` (at least 16 bytes). ``alerts`` are Alert objects or
    dicts; those naming an entity of ``sub`` (and Alert nodes of ``sub``) go to ``alerts.json``.
    The zip is written to a temporary name and renamed, so nobody sees half a package.
    """
    if redact not in POLICIES:
        raise PackageError(f"unknown redaction policy {redact!r}; choose one of: {', '.join(POLICIES)}")
    for name, value in (("purpose", purpose), ("marking", marking), ("producer", producer)):
        if not str(value or "").strip():
            raise PackageError(f"a package needs a {name}")
    if key is not None and not isinstance(key, (bytes, bytearray)):
        raise PackageError("the team key must be bytes")
    if key is not None and len(key) < MIN_KEY_BYTES:
        raise PackageError(f"the team key is too short ({len(key)} bytes; at least {MIN_KEY_BYTES} needed)")
    if redact == "pseudonymise" and not key:
        raise PackageError(f"pseudonymisation needs the team key: give --key-file FILE or set {KEY_ENV}")

    graph, scoped = _split_alerts(sub, alerts)
    key_id = None
    if redact != "none":
        r = _Redactor(redact, bytes(key) if key else None)
        r.plan(graph, scoped)
        graph = r.subgraph(graph)
        scoped = [r.alert(a) for a in scoped]
        if key:
            key_id = hashlib.sha256(b"graphiff-package-key-id:" + bytes(key)).hexdigest()[:12]

    entities = to_ftm(graph, publisher=producer)
    nodes_csv, edges_csv, col_types = _tables(graph)
    contents = {
        "entities.ftm.json": ftm_json_lines(entities),
        "nodes.csv": nodes_csv,
        "edges.csv": edges_csv,
        "alerts.json": json.dumps(scoped, indent=2, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8"),
    }
    node_counts: dict[str, int] = {}
    for n in graph.nodes:
        node_counts[n.label] = node_counts.get(n.label, 0) + 1
    edge_counts: dict[str, int] = {}
    for e in graph.edges:
        edge_counts[e.type] = edge_counts.get(e.type, 0) + 1
    schema_counts: dict[str, int] = {}
    for ent in entities:
        schema_counts[ent["schema"]] = schema_counts.get(ent["schema"], 0) + 1
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "producer": producer,
        "created": _now(),
        "purpose": purpose,
        "marking": marking,
        "redaction": {"policy": redact, "key_id": key_id,
                      "method": {"none": "nothing redacted",
                                 "pseudonymise": "personal identifiers replaced by psn- + HMAC-SHA256(team key)",
                                 "remove": "personal identifiers removed; persons and their accounts kept "
                                           "with opaque ids"}[redact]},
        "title": graph.title,
        "seeds": list(graph.seeds),
        "omitted": {k: int(v) for k, v in graph.omitted.items()},
        "counts": {"nodes": dict(sorted(node_counts.items())), "relationships": dict(sorted(edge_counts.items())),
                   "entities": dict(sorted(schema_counts.items())), "alerts": len(scoped)},
        "columns": col_types,
        "graphiff_version": _version(),
        "files": {name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
                  for name, data in contents.items()},
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in contents.items():
                zf.writestr(name, data)
            zf.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True))
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return manifest


# =========================================================================== reading a package

def read_package(path: str | Path) -> tuple[dict[str, Any], bytes, dict[str, bytes]]:
    """Open and verify a package: ``(manifest, manifest bytes, {file name: bytes})``.

    Every file must be listed in the manifest with its size and SHA-256, and every listed file
    must be there; anything else (a bad or truncated zip, a tampered, missing or extra file)
    raises :class:`PackageError` naming the problem.
    """
    path = Path(path)
    name = path.name
    try:
        zf = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise PackageError(f"package {name}: no such file") from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise PackageError(f"package {name} is not a readable zip file (damaged or truncated?): {exc}") from None
    with zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise PackageError(f"package {name} holds the same file twice: {', '.join(dupes)}")
        if "manifest.json" not in names:
            raise PackageError(f"package {name} has no manifest.json (not a graphiff package?)")

        def read(info: zipfile.ZipInfo, limit: int) -> bytes:
            if info.file_size > limit:
                raise PackageError(f"package {name}: {info.filename} is larger than its manifest says "
                                   f"({info.file_size} > {limit} bytes)")
            try:
                with zf.open(info) as fh:
                    return fh.read(limit + 1)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
                raise PackageError(f"package {name}: {info.filename} is damaged (tampered or truncated): {exc}") from None

        by_name = {i.filename: i for i in infos}
        manifest_bytes = read(by_name["manifest.json"], 64 << 20)
        try:
            manifest = json.loads(manifest_bytes.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise PackageError(f"package {name}: manifest.json is not valid JSON: {exc}") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
            raise PackageError(f"package {name}: manifest.json is not a graphiff package manifest")
        if int(manifest.get("format_version", 0)) > FORMAT_VERSION:
            raise PackageError(f"package {name} has format version {manifest.get('format_version')}; this graphiff "
                               f"reads up to {FORMAT_VERSION} (upgrade graphiff)")
        listed: dict[str, Any] = manifest["files"]
        extra = sorted(set(names) - set(listed) - {"manifest.json"})
        if extra:
            raise PackageError(f"package {name} holds file(s) its manifest does not list: {', '.join(extra)}")
        missing = sorted(set(listed) - set(names))
        if missing:
            raise PackageError(f"package {name} is missing file(s) its manifest lists: {', '.join(missing)}")
        files: dict[str, bytes] = {}
        for fname, meta in sorted(listed.items()):
            try:
                size, digest = int(meta["size"]), str(meta["sha256"]).lower()
            except (KeyError, TypeError, ValueError):
                raise PackageError(f"package {name}: manifest entry of {fname} has no size/sha256") from None
            data = read(by_name[fname], min(size, MAX_FILE_BYTES))
            if len(data) != size:
                raise PackageError(f"package {name}: {fname} has {len(data)} bytes, the manifest says {size} "
                                   "(truncated or tampered)")
            if not hmac.compare_digest(hashlib.sha256(data).hexdigest(), digest):
                raise PackageError(f"package {name}: {fname} does not match its SHA-256 in the manifest (tampered)")
            files[fname] = data
    if not ({"nodes.csv", "edges.csv"} <= set(files) or "entities.ftm.json" in files):
        raise PackageError(f"package {name} has neither nodes.csv/edges.csv nor entities.ftm.json")
    return manifest, manifest_bytes, files


def _uncell(text: str) -> str:
    return text[1:] if text.startswith("'") else text


def _typed_values(row: dict[str, str], skip: set[str], ctypes: dict[str, str], where: str) -> dict[str, Any]:
    """The non-empty cells of a CSV row converted to their manifest types (``where`` names the
    row in errors)."""
    out: dict[str, Any] = {}
    for c, v in row.items():
        if c in skip or v == "":
            continue
        try:
            out[c] = _convert(v, ctypes.get(c, "str"))
        except ValueError:
            raise PackageError(f"{where}, column {c!r}: bad value {v!r}") from None
    return out


def _convert(value: str, kind: str) -> Any:
    if value == "":
        return None
    if kind == "int":
        try:
            return int(value)
        except ValueError:
            return float(value)
    if kind == "float":
        return float(value)
    if kind == "bool":
        return value.lower() in ("true", "1")
    return value


def _read_csv(data: bytes, fname: str, pkg: str) -> tuple[list[str], list[dict[str, str]]]:
    try:
        text = data.decode("utf-8")
        reader = csv.reader(io.StringIO(text, newline=""))
        header = [_uncell(h) for h in next(reader, [])]
        rows = [dict(zip(header, (_uncell(c) for c in row))) for row in reader if row]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise PackageError(f"package {pkg}: {fname} cannot be read as CSV: {exc}") from None
    return header, rows


def _frames_from_csv(files: dict[str, bytes], manifest: dict[str, Any], pkg: str
                     ) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    m = model()
    types = manifest.get("columns") or {}
    header, rows = _read_csv(files["nodes.csv"], "nodes.csv", pkg)
    for c in ("label", "key"):
        if c not in header:
            raise PackageError(f"package {pkg}: nodes.csv has no {c!r} column")
    skip = set(NODE_FIXED) | set(PROVENANCE)
    nodes: dict[str, list[dict[str, Any]]] = {}
    for i, row in enumerate(rows, start=2):
        label, key = row.get("label", ""), row.get("key", "")
        if label not in m.nodes:
            raise PackageError(f"package {pkg}: nodes.csv line {i}: unknown label {label!r}")
        if not key:
            raise PackageError(f"package {pkg}: nodes.csv line {i}: empty key")
        rec: dict[str, Any] = {"key": key}
        rec.update(_typed_values(row, skip, (types.get("nodes") or {}).get(label, {}), f"package {pkg}: nodes.csv line {i}"))
        rec["_line"] = i
        nodes.setdefault(label, []).append(rec)
    header, rows = _read_csv(files["edges.csv"], "edges.csv", pkg)
    for c in ("type", *REL_ENDS):
        if c not in header:
            raise PackageError(f"package {pkg}: edges.csv has no {c!r} column")
    skip = set(EDGE_FIXED) | set(PROVENANCE)
    rels: dict[str, list[dict[str, Any]]] = {}
    for i, row in enumerate(rows, start=2):
        t = row.get("type", "")
        if t not in m.relationships:
            raise PackageError(f"package {pkg}: edges.csv line {i}: unknown relationship type {t!r}")
        rt = m.rel(t)
        if row["src_label"] not in rt.sources or row["dst_label"] not in rt.targets:
            raise PackageError(f"package {pkg}: edges.csv line {i}: {t} cannot join {row['src_label']} to "
                               f"{row['dst_label']}")
        if not row["src"] or not row["dst"]:
            raise PackageError(f"package {pkg}: edges.csv line {i}: empty src or dst")
        rec = {c: row[c] for c in REL_ENDS}
        rec.update(_typed_values(row, skip, (types.get("edges") or {}).get(t, {}), f"package {pkg}: edges.csv line {i}"))
        rec["_line"] = i
        rels.setdefault(t, []).append(rec)
    def frame(records: list[dict[str, Any]], ctypes: dict[str, str]) -> pd.DataFrame:
        df = pd.DataFrame(records)
        for c, kind in ctypes.items():      # keep integer columns integer when some values are missing
            if c in df.columns and kind in ("int", "bool"):
                try:
                    df[c] = df[c].astype("Int64" if kind == "int" else "boolean")
                except (TypeError, ValueError):
                    pass
        return df

    return ({k: frame(v, (types.get("nodes") or {}).get(k, {})) for k, v in nodes.items()},
            {k: frame(v, (types.get("edges") or {}).get(k, {})) for k, v in rels.items()})


def _frames_from_ftm(files: dict[str, bytes], pkg: str) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    try:
        sub = from_ftm(read_ftm_json_lines(files["entities.ftm.json"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise PackageError(f"package {pkg}: entities.ftm.json cannot be read: {exc}") from None
    nodes: dict[str, list[dict[str, Any]]] = {}
    for i, n in enumerate(sub.nodes, start=1):
        nodes.setdefault(n.label, []).append({"key": n.key, **n.props, "_line": i})
    rels: dict[str, list[dict[str, Any]]] = {}
    for i, e in enumerate(sub.edges, start=1):
        sl, _, sk = e.source.partition(":")
        dl, _, dk = e.target.partition(":")
        rels.setdefault(e.type, []).append({"src_label": sl, "src": sk, "dst_label": dl, "dst": dk, **e.props,
                                            "_line": i})
    return ({k: pd.DataFrame(v) for k, v in nodes.items()}, {k: pd.DataFrame(v) for k, v in rels.items()})


def _only_gaps(incoming: pd.DataFrame, local: pd.DataFrame, on: str, fixed: Iterable[str] = ()) -> pd.DataFrame:
    """``incoming`` with every value the local row already has blanked out (local data wins);
    rows of known records left with nothing to write are dropped. Columns in ``fixed`` (keys,
    relationship ends and identity) are never blanked."""
    incoming = incoming.reset_index(drop=True)
    if not len(local) or on not in local.columns:
        return incoming
    local = local.drop_duplicates(subset=[on]).set_index(on)
    known = incoming[on].isin(local.index).to_numpy()
    if not known.any():
        return incoming
    out = incoming.astype(object).copy()
    fixed = {on, *REL_ENDS, *fixed}
    value_cols = [c for c in out.columns if c not in fixed]
    for c in value_cols:
        if c in local.columns:
            have = local[c].reindex(out[on]).notna().to_numpy()
            out.loc[have, c] = None
    anything = out[value_cols].notna().any(axis=1).to_numpy() if value_cols else np.zeros(len(out), dtype=bool)
    return out[~known | anything].reset_index(drop=True)


def import_package(store: Store, path: str | Path) -> dict[str, Any]:
    """Verify the package at ``path`` and merge it into ``store``; return a summary.

    Nothing is written unless every file matches the manifest and the tables parse. Rows get
    provenance ``_source = "package:<producer>:<zip name>"``, ``_load_id = "P" +
    sha256(manifest)[:12]``; the load is recorded with the partner as producer. Existing local
    values are kept (the package only fills gaps), so importing the same package twice changes
    nothing.
    """
    path = Path(path)
    manifest, manifest_bytes, files = read_package(path)
    producer = str(manifest.get("producer") or "unknown")
    if {"nodes.csv", "edges.csv"} <= set(files):
        nodes, rels = _frames_from_csv(files, manifest, path.name)
        origin = "csv"
    else:
        nodes, rels = _frames_from_ftm(files, path.name)
        origin = "ftm"
    load_id = "P" + hashlib.sha256(manifest_bytes).hexdigest()[:12]
    previous = next((d for d in store.loads() if d.get("load_id") == load_id), None)
    now = _now()
    loaded_at = (previous or {}).get("loaded_at") or now
    source = f"package:{producer}:{path.name}"
    prov = {"_source": source, "_load_id": load_id, "_loaded_at": loaded_at}

    m = model()
    written_nodes: dict[str, int] = {}
    for label in sorted(nodes):
        frame = nodes[label].assign(**prov)
        keyprop = m.node(label).key
        if keyprop not in frame.columns:
            frame[keyprop] = frame["key"]
        frame = frame.drop_duplicates(subset=["key"], keep="last")
        todo = _only_gaps(frame, store.nodes(label), "key")
        if len(todo):
            store.upsert_nodes(label, todo)
        written_nodes[label] = int(len(todo))
    # end nodes a relationship needs but the package does not describe: bare, with provenance
    have = {label: set(f["key"]) for label, f in nodes.items()}
    for t, frame in rels.items():
        for end in ("src", "dst"):
            for label, keys in frame.groupby(f"{end}_label")[end]:
                extra = sorted(set(keys) - have.get(str(label), set()))
                if extra:
                    bare = pd.DataFrame({"key": extra, **{k: v for k, v in prov.items()}, "_line": None})
                    store.upsert_nodes(str(label), bare, on_conflict="keep")
                    have.setdefault(str(label), set()).update(extra)
    written_rels: dict[str, int] = {}
    for t in sorted(rels):
        rt = m.rel(t)
        frame = rels[t].assign(**prov)
        for c in rt.identity:
            if c not in frame.columns:
                frame[c] = None

        def rids(f: pd.DataFrame) -> list[str]:
            return [rel_id(t, str(r["src_label"]), str(r["src"]), str(r["dst_label"]), str(r["dst"]),
                           "|".join(str(r[c]) for c in rt.identity)) for r in f.to_dict("records")]

        frame.insert(0, "rid", rids(frame))
        frame = frame.drop_duplicates(subset=["rid"], keep="last")
        local = store.rels(t)
        if len(local):
            for c in rt.identity:
                if c not in local.columns:
                    local[c] = None
            local = local.assign(rid=rids(local))
        todo = _only_gaps(frame, local, "rid", rt.identity)
        if len(todo):
            store.upsert_rels(t, todo.drop(columns=["rid"]))
        written_rels[t] = int(len(todo))

    counts_nodes = {k: int(len(v)) for k, v in sorted(nodes.items())}
    counts_rels = {k: int(len(v)) for k, v in sorted(rels.items())}
    info = {
        "load_id": load_id,
        "kind": "package",
        "producer": producer,
        "package": path.name,
        "source": source,
        "purpose": manifest.get("purpose"),
        "marking": manifest.get("marking"),
        "redaction": (manifest.get("redaction") or {}).get("policy"),
        "created": manifest.get("created"),
        "graphiff_version": manifest.get("graphiff_version"),
        "read_from": origin,
        "loaded": {"nodes": counts_nodes, "relationships": counts_rels},
        "files": [{"file": k, **v} for k, v in sorted(manifest["files"].items())],
        "loaded_at": loaded_at,
        "first_loaded_at": (previous or {}).get("first_loaded_at", loaded_at),
    }
    if previous is None:
        store.record_load(info)
    try:
        alerts = json.loads(files.get("alerts.json", b"[]").decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        alerts = []
    return {**info, "already_imported": previous is not None,
            "written": {"nodes": written_nodes, "relationships": written_rels},
            "alerts": len(alerts) if isinstance(alerts, list) else 0}


__all__ = ["make_package", "import_package", "read_package", "read_key", "alerts_from_store", "POLICIES",
           "KEY_ENV", "FORMAT", "FORMAT_VERSION"]

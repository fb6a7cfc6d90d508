"""What search looks through: one document per record of the store, with its searchable fields.

A **document** is one node as loaded (``tables.raw``): a trader, person or carrier record, a
declaration item, an account, a payment, a cash report, a container... Its fields come from the
graph model (``graphiff/model/model.yaml``) and the input contract (``files.yaml``), never from a
list of labels written here:

* **text fields** (matched fuzzily, any word order): the caption of labels captioned by a
  ``name`` (Trader, Person, Carrier) and the columns whose identifier rule is ``address``, and
  the key of the node that rule makes (``Address``);
* **identifier fields** (matched exactly after :func:`compact_id`, or by prefix): the key of every
  searchable label (``trader_id``, ``decl_key``, ``account_id``, ``container_id``...), the first
  column of a composite key (``declaration_id``), the columns whose identifier rule is ``phone``
  or ``email`` (and the keys of the ``Phone`` / ``Email`` nodes), and the document numbers of
  :data:`IDENTIFIER_COLUMNS` (tax ids, passports, transport documents, invoices).

Each document maps to its **entity**: the resolved id entity resolution gives the record
(``GraphIndex.alias``), else its own key. A text or key match on a record that is not its
entity's representative is reported as ``alias_names`` / ``aliases``, the columns of the
resolved view that hold those values.

The same :class:`Documents` serve both backends: the embedded one indexes their text in
tantivy, the Neo4j one asks the database's full-text index and maps its answers back here.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
from normality import normalize

from graphiff.errors import GraphiffError
from graphiff.graph.columns import text_objects
from graphiff.graph.tables import Tables
from graphiff.model import model
from graphiff.model.values import clean_phone

#: labels that are bookkeeping or reference data, never search results
NOT_SEARCHED = ("Country", "Rate", "Alert")
#: document numbers an analyst types (when a file kind has the column)
IDENTIFIER_COLUMNS = ("tin", "passport_no", "transport_doc_no", "invoice_no")
#: identifier rules of files.yaml (``value:`` ends) and how search treats their values
RULE_KIND = {"address": "text", "phone": "phone", "email": "id"}
#: the field name of a text / key match on a record that is not its entity's representative
ALIAS_FIELD = {"name": "alias_names", "key": "aliases"}
#: the shortest compacted query that is also looked up as an identifier prefix
MIN_PREFIX = 4
#: identifier postings returned for one prefix at most
PREFIX_CAP = 200

_ID_DROP = re.compile(r"[\s\-()]+")
_PHONE_CHARS = re.compile(r"^[+\d\s\-().]+$")
_NOT_DIGIT = re.compile(r"\D")


# =============================================================================================
# Normalisation (one home for how a query and a document are compared)
# =============================================================================================

@lru_cache(maxsize=500_000)
def fold(value: str) -> str:
    """Text as search compares it: ASCII (accents folded, other scripts transliterated), lower
    case, punctuation as spaces, spaces collapsed (``normality``). ``""`` when nothing is left.

    >>> fold("MÜLLER GmbH & Co."), fold("O'Brien <script>"), fold("  ")
    ('muller gmbh co', 'o brien script', '')
    """
    return normalize(str(value), ascii=True) or ""


def compact_id(value: str) -> str:
    """An identifier as search compares it: ASCII upper case, without spaces, dashes and
    brackets (an IBAN written in groups, a container number with a dash); ``/``, ``.`` and
    ``@`` are kept (declaration keys, e-mails).

    >>> compact_id(" de89 3704 0044-0532 0130 00 "), compact_id("Info@T1.example"), compact_id("D1/2")
    ('DE89370400440532013000', 'INFO@T1.EXAMPLE', 'D1/2')
    """
    text = str(value)
    if not text.isascii():
        text = normalize(text, ascii=True, lowercase=False, collapse=False,
                         replace_categories={}) or ""
    return _ID_DROP.sub("", text).upper()


def phone_digits(value: str) -> str | None:
    """A phone number as search compares it: the digits of :func:`graphiff.model.values.clean_phone`
    without the ``+`` (``00`` counts as ``+``); ``None`` when it is not a phone number.

    >>> phone_digits("+254 700 000 001"), phone_digits("00254700000001"), phone_digits("T1")
    ('254700000001', '254700000001', None)
    """
    cleaned = clean_phone(value)
    return _NOT_DIGIT.sub("", cleaned) if cleaned else None


def fuzzy_distance(word: str) -> int:
    """Edits allowed for a query word: 0 up to 2 letters, 1 up to 5, else 2.

    >>> [fuzzy_distance(w) for w in ("ab", "perl", "modrn", "resorces")]
    [0, 1, 1, 2]
    """
    return 0 if len(word) <= 2 else 1 if len(word) <= 5 else 2


def query_id_forms(q: str) -> list[str]:
    """The forms of a query looked up among identifiers: :func:`compact_id`, and the digits of a
    query written like a phone number.

    >>> query_id_forms("+44 20 7946 0958"), query_id_forms("gb29 nwbk")
    (['+442079460958', '442079460958'], ['GB29NWBK'])
    """
    forms = [compact_id(q)]
    if _PHONE_CHARS.match(q.strip()):
        digits = phone_digits(q)
        if digits and digits not in forms:
            forms.append(digits)
    return [f for f in forms if f]


# =============================================================================================
# Which fields each label has (read from the model)
# =============================================================================================

@dataclass(frozen=True)
class FieldSpec:
    """One searchable field of a label: the node ``column`` it reads (``key`` for the key), the
    ``name`` reported in ``matched``, and its ``kind`` (``text``, ``id`` or ``phone``)."""

    column: str
    name: str
    kind: str


@lru_cache(maxsize=1)
def field_specs() -> dict[str, tuple[FieldSpec, ...]]:
    """The searchable fields of every searchable label, read from ``model.yaml`` and ``files.yaml``.

    >>> [(f.column, f.kind) for f in field_specs()["Trader"]][:3]
    [('key', 'id'), ('name', 'text'), ('tin', 'id')]
    >>> [(f.name, f.kind) for f in field_specs()["Address"]]
    [('address', 'text')]
    """
    m = model()
    specs: dict[str, dict[str, FieldSpec]] = {}
    for label, nt in m.nodes.items():
        if label in NOT_SEARCHED:
            continue
        specs[label] = {"key": FieldSpec("key", nt.key, "id")}
        if nt.caption == "name":
            specs[label]["name"] = FieldSpec("name", "name", "text")
    for fk in m.files.values():
        if fk.label is None or fk.label not in specs:
            continue
        own = specs[fk.label]
        if len(fk.key) > 1:
            own[fk.key[0]] = FieldSpec(fk.key[0], fk.key[0], "id")
        for column in IDENTIFIER_COLUMNS:
            if column in fk.columns:
                own[column] = FieldSpec(column, column, "id")
        for emit in fk.emits:
            end = emit.target
            rule = end.value
            if rule not in RULE_KIND:
                continue
            if rule in fk.columns:                       # the record's own column (raw text)
                own[rule] = FieldSpec(rule, rule, RULE_KIND[rule])
            for target in end.labels:                    # the identifier node the rule makes
                if target in specs:
                    name = m.nodes[target].key
                    specs[target]["key"] = FieldSpec("key", name, RULE_KIND[rule])
    return {label: tuple(s.values()) for label, s in specs.items()}


def searchable_labels() -> tuple[str, ...]:
    """Every label search returns, in model order."""
    return tuple(field_specs())


def check_types(types: list[str] | None) -> tuple[str, ...]:
    """The labels a ``types`` filter names (all searchable labels for ``None`` or an empty
    list). Raises :class:`GraphiffError` naming an unknown or unsearchable label.

    >>> check_types(["Trader", " Person "])
    ('Trader', 'Person')
    >>> check_types(["Trader", "Boat"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphiff.errors.GraphiffError: unknown type 'Boat' in types: give labels among Trader, Person, Carrier, ...
    """
    allowed = searchable_labels()
    if not types:
        return allowed
    out: list[str] = []
    for t in types:
        label = str(t).strip()
        if label not in allowed:
            kind = "not searchable" if label in model().nodes else "unknown"
            raise GraphiffError(f"{kind} type {label!r} in types: give labels among {', '.join(allowed)}")
        if label not in out:
            out.append(label)
    return tuple(out)


# =============================================================================================
# The documents
# =============================================================================================

@dataclass
class Documents:
    """The searchable documents of one :class:`Tables` snapshot.

    Documents are numbered ``0..n-1``. ``label[i]``, ``key[i]`` (the record's key) and
    ``entity[i]`` (the resolved id: the key of the entity it belongs to) describe document
    ``i``; ``texts[i]`` are its text fields as ``(field, value, folded)``; ``caption`` maps
    ``(label, entity key)`` to what the entity is called. Identifiers are one sorted list
    ``id_values`` (compacted) with ``id_postings[j] = (doc, field, value)``, so an exact or
    prefix lookup is a binary search. ``by_key`` finds a document by ``(label, key)``.
    """

    label: list[str] = field(default_factory=list)
    key: list[str] = field(default_factory=list)
    entity: list[str] = field(default_factory=list)
    texts: list[tuple[tuple[str, str, str], ...]] = field(default_factory=list)
    caption: dict[tuple[str, str], str] = field(default_factory=dict)
    id_values: list[str] = field(default_factory=list)
    id_postings: list[tuple[int, str, str]] = field(default_factory=list)
    by_key: dict[tuple[str, str], int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.label)

    def text_docs(self) -> list[int]:
        """The documents with at least one text field (what a full-text index holds)."""
        return [i for i, t in enumerate(self.texts) if t]

    def lookup_ids(self, forms: list[str], labels: tuple[str, ...]) -> list[tuple[int, str, str, float]]:
        """Identifier matches of the query forms: ``(doc, field, value, score)``.

        An identifier equal to a form scores 1; one that starts with a form of at least
        :data:`MIN_PREFIX` characters scores 0.5 to 0.9 by how much of it was typed (at most
        :data:`PREFIX_CAP` per form). Cost: O(log I + matches) for I identifiers.
        """
        wanted = set(labels)
        out: list[tuple[int, str, str, float]] = []
        for form in forms:
            j = bisect.bisect_left(self.id_values, form)
            end = len(self.id_values)
            while j < end and self.id_values[j] == form:        # exact matches sort first
                doc, fname, raw = self.id_postings[j]
                if self.label[doc] in wanted:
                    out.append((doc, fname, raw, 1.0))
                j += 1
            if len(form) < MIN_PREFIX:
                continue
            taken, stop = 0, min(end, j + 20 * PREFIX_CAP)
            while j < stop and taken < PREFIX_CAP and self.id_values[j].startswith(form):
                doc, fname, raw = self.id_postings[j]
                if self.label[doc] in wanted:
                    out.append((doc, fname, raw, 0.5 + 0.4 * len(form) / len(self.id_values[j])))
                    taken += 1
                j += 1
        return out


def _column_text(nodes: pd.DataFrame, column: str) -> pd.Series:
    """A column as stripped text (``None`` where missing or blank); all ``None`` when absent."""
    if column not in nodes.columns:
        return pd.Series([None] * len(nodes), index=nodes.index, dtype=object)
    return text_objects(nodes[column])


def _compact_ids(values: pd.Series) -> pd.Series:
    """:func:`compact_id` of a column of text (vectorised; non-ASCII values one by one)."""
    text = values.astype(str)
    out = text.str.replace(_ID_DROP.pattern, "", regex=True).str.upper()
    odd = ~text.map(str.isascii).astype(bool)
    if odd.any():
        out[odd] = text[odd].map(compact_id)
    return out


def build_documents(tables: Tables) -> Documents:
    """The documents of every searchable label of ``tables`` (cached on the tables).

    Reads the records as loaded (``tables.raw``), the clusters of entity resolution and the
    resolved node tables for captions. Cost: O(records + identifiers): vectorised per column,
    names folded one by one (cached), one sort of the identifiers; about 2 seconds per 100,000
    declarations besides reading the tables.
    """
    return tables.memo(("search", "documents"), lambda: _build(tables))


def _build(tables: Tables) -> Documents:
    docs = Documents()
    alias = tables.resolution.rep if tables.resolved else {}
    raw = tables.raw
    id_parts: list[pd.DataFrame] = []
    m = model()
    for label, specs in field_specs().items():
        nodes = raw.nodes(label)
        if not len(nodes):
            continue
        nodes = nodes.reset_index(drop=True)
        keys = nodes["key"].astype(str)
        reps = alias.get(label, {})
        entity = keys.map(lambda k: reps.get(k, k)) if reps else keys
        is_alias = (entity != keys).to_numpy(dtype=bool)
        start = len(docs.label)
        doc_no = np.arange(start, start + len(keys), dtype=np.int64)
        docs.label.extend([label] * len(keys))
        docs.key.extend(keys.tolist())
        docs.entity.extend(entity.tolist())
        texts: list[list[tuple[str, str, str]]] = [[] for _ in range(len(keys))]
        for spec in specs:
            values = keys.where(keys != "") if spec.column == "key" else _column_text(nodes, spec.column)
            has = values.notna().to_numpy(dtype=bool)
            if not has.any():
                continue
            alias_name = ALIAS_FIELD.get(spec.column)
            names = np.where(is_alias, alias_name, spec.name) if alias_name else np.full(len(keys), spec.name)
            vals = values[has].astype(str)
            if spec.kind == "text":
                for n, fname, v in zip(np.flatnonzero(has), names[has], vals):
                    folded = fold(v)
                    if folded:
                        texts[n].append((str(fname), v, folded))
            if spec.kind == "phone":
                table = {v: phone_digits(v) for v in vals.unique()}
                forms = vals.map(table)
            elif spec.kind == "id" or spec.column == "key":
                forms = _compact_ids(vals)
            else:
                continue
            id_parts.append(pd.DataFrame({"form": forms.to_numpy(dtype=object), "doc": doc_no[has],
                                          "field": names[has], "value": vals.to_numpy(dtype=object)}))
        docs.texts.extend(tuple(t) for t in texts)
        # captions of the entities, from the resolved view (the representative's name)
        nt = m.nodes[label]
        resolved = tables.nodes(label) if tables.resolved else nodes
        if nt.caption != nt.key and nt.caption in resolved.columns:
            caps = _column_text(resolved, nt.caption)
            rkeys = resolved["key"].astype(str)
            named = caps.where(caps.notna(), rkeys).tolist()
            docs.caption.update(zip(zip([label] * len(rkeys), rkeys.tolist()), named))
    docs.by_key = dict(zip(zip(docs.label, docs.key), range(len(docs.label))))
    if id_parts:
        ids = pd.concat(id_parts, ignore_index=True)
        ids = ids[ids["form"].notna() & (ids["form"].astype(str) != "")].sort_values("form", kind="stable")
        docs.id_values = ids["form"].astype(str).tolist()
        docs.id_postings = list(zip(ids["doc"].astype(int).tolist(), ids["field"].astype(str).tolist(),
                                    ids["value"].astype(str).tolist()))
    return docs

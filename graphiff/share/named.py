"""Which persons and person-held accounts the texts of a package name.

A package's texts (alert explanations, evidence keys and values, ``detail`` strings, free-text
properties such as a payment reference, the title) can name persons and accounts that are not
nodes of the package: a shell-company alert says "director P0001924 directs 12 companies", a
carrier alert lists the cash reports of a linked person. :mod:`graphiff.share.redact` must
pseudonymise or remove those too, so it first asks this module who is named:

- with the store (:func:`personal_index`): every person of the store, by id, name, passport
  number, phone, e-mail or address, and every account held by a person (or by nobody known to
  be a trader or carrier), by its id, found in the texts as whole tokens or runs of tokens
  (``"+389 70 555 123"`` finds the phone ``+38970555123``; ``P12`` is not found in ``P123``);
- without it (:func:`named_by_structure`): ``Person:key`` / ``BankAccount:key`` references in
  the texts, and the values of evidence fields that name persons or accounts (``person``,
  ``persons``, ``holder_id``, ``account``...).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

import pandas as pd

from graphiff.graph.tables import Tables
from graphiff.model.cells import plain_value
from graphiff.model.identity import PROVENANCE
from graphiff.model.values import clean_account, clean_email, clean_phone
from graphiff.stores.base import Store

_TOKEN_RE = re.compile(r"[^\s,;:()\[\]{}\"<>|=]+")
_STRIP = ".-'/!?*"
#: Person properties whose value is looked for in texts (with the person key).
FIND_PROPS = ("name", "alias", "person_name", "passport_no", "passport", "phone", "email", "address")
#: The most tokens of a looked-for value (a longer value, say a very long address, is not looked for).
MAX_WORDS = 12
#: Evidence fields whose values name persons / accounts (used without a store).
PERSON_FIELDS = frozenset({"person", "person_id", "persons", "officer", "officer_id", "officers", "director",
                           "directors", "filer", "filers", "holder", "holder_id", "holders", "from_holder",
                           "to_holder", "ubo", "ubos", "owner", "owners", "beneficial_owner"})
ACCOUNT_FIELDS = frozenset({"account", "account_id", "accounts", "from_account", "to_account", "payer_account",
                            "payee_account", "beneficiary_account", "iban"})
#: Words after which an id-shaped token names a person / an account in free text (used without a store).
PERSON_WORDS = frozenset({"person", "persons", "director", "directors", "officer", "officers", "holder", "holders",
                          "filer", "filers", "ubo", "owner", "owners", "shareholder", "signatory"})
ACCOUNT_WORDS = frozenset({"account", "accounts", "iban"})
_PERSON_SHAPE = re.compile(r"(?=.*\d)(?=.*[A-Za-z])[\w.-]{3,}")       # letters and digits: P0001924, PER-7781
_ACCOUNT_SHAPE = re.compile(r"(?=(?:.*\d){5})[\w.-]{5,}")           # five digits or more
_REF_RE = re.compile(r"(?<![\w-])(Person|BankAccount):([^\s,;()\[\]{}\"<>|=]+)")


def tokens(text: str, *, fold: bool = True) -> list[str]:
    """The tokens of ``text`` as looked up: split at spaces and ``, ; : ( ) [ ] { } " < > | =``,
    outer ``. - ' / ! ? *`` stripped, case folded (unless not ``fold``).

    >>> tokens("officer Person:P0000425, director P0001924 directs (Ivanka W. Petrovska).")
    ['officer', 'person', 'p0000425', 'director', 'p0001924', 'directs', 'ivanka', 'w', 'petrovska']
    """
    out = []
    for t in _TOKEN_RE.findall(text):
        t = t.strip(_STRIP)
        t = t.casefold() if fold else t
        if t:
            out.append(t)
    return out


def forms(text: str, max_words: int) -> Iterator[str]:
    """Every run of 1..``max_words`` consecutive tokens of ``text``, joined by a space and (for
    runs of several tokens) without one, and the whole text folded. Cost: tokens x ``max_words``.

    >>> sorted(set(forms("call +389 70", 2)))
    ['+389', '+389 70', '+38970', '70', 'call', 'call +389', 'call +389 70', 'call+389']
    """
    yield " ".join(text.split()).casefold()
    toks = tokens(text)
    for i in range(len(toks)):
        for j in range(i + 1, min(len(toks), i + max_words) + 1):
            run = toks[i:j]
            yield " ".join(run)
            if j - i > 1:
                yield "".join(run)


def value_form(value: str) -> str:
    """How a looked-for value is indexed: its tokens joined by a space (see :func:`forms`)."""
    return " ".join(tokens(value))


@dataclass
class PersonalIndex:
    """The persons and personal accounts of a store, and the text forms that name them.

    ``persons``: person key -> properties; ``accounts``: personal account key -> the key of the
    person holding it (``None``: no holder known to be a trader or carrier); ``held``: person key
    -> the accounts it holds; ``forms``: text form -> node ids (``Person:key``,
    ``BankAccount:key``); ``max_words``: the most tokens of an indexed form."""

    persons: dict[str, dict[str, Any]] = field(default_factory=dict)
    accounts: dict[str, str | None] = field(default_factory=dict)
    held: dict[str, list[str]] = field(default_factory=dict)
    forms: dict[str, set[str]] = field(default_factory=dict)
    max_words: int = 1

    def add_form(self, text: str, nid: str, *, min_len: int = 3) -> None:
        """Index ``text`` (a value naming ``nid``) unless its form is shorter than ``min_len``."""
        form = value_form(text)
        if len(form) < min_len or form.count(" ") >= MAX_WORDS:
            return
        self.forms.setdefault(form, set()).add(nid)
        self.max_words = min(MAX_WORDS, max(self.max_words, form.count(" ") + 1))

    def named(self, texts: Iterable[str]) -> set[str]:
        """The node ids (``Person:key`` / ``BankAccount:key``) that ``texts`` name. Cost: the
        tokens of all texts x :attr:`max_words` dictionary look-ups."""
        hits: set[str] = set()
        for text in texts:
            for f in forms(text, self.max_words):
                got = self.forms.get(f)
                if got:
                    hits |= got
        return hits


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return df.to_dict("records") if len(df) else []


def personal_index(source: Store | Tables) -> PersonalIndex:
    """The :class:`PersonalIndex` of a store (or its :class:`Tables`): of every record as
    loaded (``Tables.raw``), so each record of a resolved entity -- a person known under two
    ids, with two spellings of the name -- is found by its own identifiers. Cost: one read of the
    Person, BankAccount, Trader and Carrier tables and the HOLDS relationships."""
    tables = (source if isinstance(source, Tables) else Tables(source, resolved=False)).raw
    idx = PersonalIndex()
    for row in _records(tables.nodes("Person")):
        key = str(row["key"])
        idx.persons[key] = {k: plain_value(v) for k, v in row.items()
                            if k != "key" and k not in PROVENANCE and plain_value(v) is not None}
    orgs = {f"{label}:{k}" for label in ("Trader", "Carrier") for k in tables.nodes(label)["key"].astype(str)}
    holders: dict[str, set[str]] = {}
    for row in _records(tables.rels("HOLDS")):
        holders.setdefault(str(row["dst"]), set()).add(f"{row['src_label']}:{row['src']}")
    for row in _records(tables.nodes("BankAccount")):
        key = str(row["key"])
        hs = set(holders.get(key, set()))
        h = plain_value(row.get("holder_id"))
        if h is not None:
            hs |= {f"Person:{h}"} if str(h) in idx.persons else {f"Trader:{h}", f"Carrier:{h}"}
        person = next((x.split(":", 1)[1] for x in sorted(hs) if x.startswith("Person:")
                       and x.split(":", 1)[1] in idx.persons), None)
        if person is None and hs & orgs:
            continue                                     # a company's account: company data
        idx.accounts[key] = person
        if person is not None:
            idx.held.setdefault(person, []).append(key)
    for key, props in idx.persons.items():
        nid = f"Person:{key}"
        idx.add_form(key, nid, min_len=1)
        for prop in FIND_PROPS:
            v = props.get(prop)
            if v is None:
                continue
            v = str(v)
            idx.add_form(v, nid)
            if prop == "phone":
                idx.add_form(clean_phone(v) or v, nid)
            elif prop == "email":
                idx.add_form(clean_email(v) or v, nid)
            elif prop.startswith("passport"):
                idx.add_form(re.sub(r"\s+", "", v), nid)
    for key in idx.accounts:
        idx.add_form(key, f"BankAccount:{key}", min_len=1)
        idx.add_form(clean_account(key) or key, f"BankAccount:{key}", min_len=1)
    return idx


def texts_of(value: Any) -> Iterator[str]:
    """Every string in ``value`` (nested dicts, keys too, and lists). Iterative, so a deeply
    nested value cannot exhaust the stack."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            yield v
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, (list, tuple, set)):
            stack.extend(v)


def named_by_structure(alerts: Iterable[dict[str, Any]], texts: Iterable[str]) -> set[str]:
    """Node ids named without a store: ``Person:key`` / ``BankAccount:key`` in ``texts``, an
    id-shaped token after a word of :data:`PERSON_WORDS` / :data:`ACCOUNT_WORDS` ("director
    P0001924 directs..."), and the values of the evidence fields :data:`PERSON_FIELDS` /
    :data:`ACCOUNT_FIELDS` of ``alerts``. A heuristic: pass the store for a complete answer.

    >>> sorted(named_by_structure([{"evidence": {"holders": ["P1"], "x": {"account": "GB1"}}}],
    ...                           ["officer Person:P9, see BankAccount:X2.", "director P0001924 directs 9 companies",
    ...                            "directors direct at most 3 companies", "Account 1759440386651, held by P44"]))
    ['BankAccount:1759440386651', 'BankAccount:GB1', 'BankAccount:X2', 'Person:P0001924', 'Person:P1', 'Person:P9']
    """
    out: set[str] = set()
    for text in texts:
        for label, key in _REF_RE.findall(text):
            key = key.rstrip(".")
            if key:
                out.add(f"{label}:{key}")
        toks = tokens(text, fold=False)
        for word, nxt in zip(toks, toks[1:]):
            w = word.casefold()
            if w in PERSON_WORDS and _PERSON_SHAPE.fullmatch(nxt):
                out.add(f"Person:{nxt}")
            elif w in ACCOUNT_WORDS and _ACCOUNT_SHAPE.fullmatch(nxt):
                out.add(f"BankAccount:{nxt}")
    stack: list[Any] = [a.get("evidence") for a in alerts]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            for k, x in v.items():
                label = ("Person" if str(k).lower() in PERSON_FIELDS
                         else "BankAccount" if str(k).lower() in ACCOUNT_FIELDS else None)
                if label:
                    for s in ([x] if isinstance(x, str) else x if isinstance(x, list) else []):
                        if isinstance(s, str) and s.strip():
                            out.add(f"{label}:{s.strip()}")
                stack.append(x)
        elif isinstance(v, list):
            stack.extend(v)
    return out


__all__ = ["PersonalIndex", "personal_index", "named_by_structure", "texts_of", "tokens", "forms",
           "value_form", "FIND_PROPS", "PERSON_FIELDS", "ACCOUNT_FIELDS"]

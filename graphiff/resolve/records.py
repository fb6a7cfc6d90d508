"""The records entity resolution compares: one row per trader, person, carrier or bank account
as loaded, with the fields a comparison reads, normalised.

Names go through :func:`name_core` (rigour's legal-form removal, normality's transliteration,
a plural/singular fold and sorted tokens), identifiers are the keys of the shared identifier
nodes the load made (``Address``, ``Phone``, ``Email``: already normalised by
:mod:`graphiff.model.values`), and tax ids through :func:`clean_tin`, which drops values that
identify nothing ("0", "N/A", "000000000").
"""
from __future__ import annotations

import re
from functools import lru_cache

import pandas as pd
from normality import ascii_text
from rapidfuzz.distance import Indel
from rigour.names import normalize_name, remove_org_types

from graphiff.graph.columns import col, text
from graphiff.graph.resolution import PARTNER_SOURCE
from graphiff.graph.tables import Tables

#: legal-form and filler words left after rigour's legal-form removal ("Co.", "& Co. KG")
_FILLER = frozenset({"co", "company", "and", "kg", "corp", "corporation", "inc", "incorporated", "the", "cie",
                     "ltd", "limited", "llc", "plc", "sa", "gmbh", "ag", "bv", "nv", "srl", "spa", "sarl", "oy",
                     "ab", "as", "pty", "pvt", "private", "group",
                     # Polish "Sp. z o.o." / "Spółka z o.o." as written by other administrations
                     "sp", "spz", "spolka", "z", "oo", "zoo",
                     # Japanese "Kabushiki Kaisha" / "K.K."
                     "kabushiki", "kaisha", "kk"})
#: long legal-form words: a word at the end of a name within a typo of one is a legal form too
#: ("Cmopany Limited", "Kabushiki Kisha")
_LONG_FORMS = ("company", "limited", "corporation", "incorporated", "kabushiki", "kaisha")
_NON_WORD = re.compile(r"[^a-z0-9 ]+")
#: dotted initials ("F.Z.E.", "L.L.C.") written as one word so legal-form removal sees them
_DOTTED = re.compile(r"\b(?:[A-Za-z]\.){2,}")
#: legal forms written out that rigour knows only abbreviated
_SPELLED = re.compile(r"\bfree\s+zone\s+(?:establishment|company)s?\b", re.IGNORECASE)
#: a tax id made of one repeated character, or of no digits at all, identifies nothing
_JUNK_TIN = re.compile(r"^(.)\1*$|^[^0-9]*$")


@lru_cache(maxsize=1_000_000)
def name_core(name: str) -> str:
    """The comparable core of a name: legal forms removed (rigour, in any script), transliterated to ASCII
    (normality), lower case without punctuation, each word's plural folded, words sorted.
    ``""`` when nothing is left (an empty name, or one that is only a legal form).

    >>> name_core("MARA LEGACY METALS LIMITED"), name_core("Mara Legacy Metal Co."), name_core("LTD")
    ('legacy mara metal', 'legacy mara metal', '')
    >>> name_core("Müller GmbH & Co. KG"), name_core("Okello, John"), name_core("Summit Acacia Pharma F.Z.E.")
    ('muller', 'john okello', 'acacia pharma summit')
    >>> name_core("ООО «Ромашка»")
    'romaska'
    >>> name_core("Blue Ridge Packaging Cmopany Limited"), name_core("Lamu Paper Kabushiki Kisha")
    ('blue packaging ridge', 'lamu paper')
    >>> name_core("Kivu Noble Tyres Free Zone Establishments") == name_core("Kivu Noble Tyres FZE")
    True
    """
    if not name:
        return ""
    # rigour's legal-form table is case-folded and matches case-folded text only ("ООО", "АО")
    dotted = _SPELLED.sub(" FZE ", _DOTTED.sub(lambda m: m.group(0).replace(".", "") + " ", str(name)))
    stripped = remove_org_types(dotted.casefold()) or ""
    plain = ascii_text(normalize_name(stripped) or "") or ""
    words = [_singular(w) for w in _NON_WORD.sub(" ", plain.lower()).split()]
    out = []
    for n, w in enumerate(words):
        if w in _FILLER or (n >= len(words) - 2 and n > 0 and len(w) >= 5
                            and any(Indel.normalized_similarity(w, f) >= 0.8 for f in _LONG_FORMS)):
            continue
        out.append(w)
    return " ".join(sorted(out))


def _singular(w: str) -> str:
    """A plural English word folded to its singular (energies -> energy, boxes -> box,
    metals -> metal); short words and ``-ss`` words stay.

    >>> [_singular(w) for w in ("energies", "boxes", "metals", "glass", "gas", "services")]
    ['energy', 'box', 'metal', 'glass', 'gas', 'service']
    """
    if len(w) <= 4 or not w.endswith("s") or w.endswith("ss"):
        return w
    if w.endswith("ies"):
        return w[:-3] + "y"
    if w.endswith(("xes", "ches", "shes", "sses", "zes")):
        return w[:-2]
    return w[:-1]


def clean_tin(value: object) -> str | None:
    """A tax or registration number as compared: upper case, letters and digits only; None
    when missing or when it cannot identify anyone (one repeated character such as ``0`` or
    ``000000000``, or no digit at all such as ``N/A``, ``NONE``, ``-``).

    >>> clean_tin(" p051-234 567x "), clean_tin("000000000"), clean_tin("N/A"), clean_tin(None)
    ('P051234567X', None, None, None)
    """
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    v = re.sub(r"[^0-9A-Za-z]", "", str(value)).upper()
    if not v or _JUNK_TIN.match(v):
        return None
    return v


def _linked(raw: Tables, rel_type: str, label: str, end: str = "src") -> pd.Series:
    """For each record of ``label`` at the ``end`` of ``rel_type``: the sorted keys at the other
    end, ``;``-joined (an empty table gives an empty series)."""
    r = raw.rels(rel_type)
    if not len(r):
        return pd.Series(dtype=object)
    other = "dst" if end == "src" else "src"
    r = r[r[f"{end}_label"].astype(str) == label]
    if not len(r):
        return pd.Series(dtype=object)
    lists: dict[str, list[str]] = {}
    for k, v in sorted(set(zip(r[end].astype(str).tolist(), r[other].astype(str).tolist()))):
        lists.setdefault(k, []).append(v)
    return pd.Series({k: ";".join(v) for k, v in lists.items()}, dtype=object)


def records(raw: Tables, label: str) -> pd.DataFrame:
    """The records of ``label`` as entity resolution compares them.

    Parameters
    ----------
    raw : Tables
        The store's tables as loaded (``Tables(store, resolved=False)``).
    label : str
        ``Trader``, ``Person``, ``Carrier`` or ``BankAccount``.

    Returns
    -------
    DataFrame
        One row per record: ``key``, ``partner`` (imported from a partner package), ``name``,
        ``core`` (:func:`name_core`), ``country``, ``city``, ``tin`` (:func:`clean_tin`),
        ``address``, ``phone``, ``email`` (identifier node keys, ``;``-joined when several),
        ``accounts`` (accounts held), ``officers`` (who is an officer of it, and what it is
        an officer of); persons add ``birth_date``, ``passport``, ``nationality``; accounts
        have ``number`` (the national part: an IBAN without its first four characters),
        ``bank_country``, ``bic`` and ``holder``. Cost: one pass over the label's node table
        and its identifier relationships.
    """
    n = raw.nodes(label)
    keys = n["key"].astype(str) if len(n) else pd.Series(dtype=object)
    out = pd.DataFrame({"key": keys.to_numpy()})
    src = text(col(n, "source"))
    out["partner"] = src.str.startswith(PARTNER_SOURCE).fillna(False).to_numpy(dtype=bool)
    if label == "BankAccount":
        k = out["key"]
        iban = k.str.match(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{8,}$")
        out["number"] = k.where(~iban, k.str.slice(4)).to_numpy()
        out["bank_country"] = text(col(n, "bank_country")).str.upper().to_numpy()
        out["bank_country"] = out["bank_country"].where(~iban | out["bank_country"].notna(), k.str.slice(0, 2))
        out["bic"] = text(col(n, "bic")).str.upper().str.slice(0, 8).to_numpy()
        out["holder"] = text(col(n, "holder_id")).to_numpy()
        out["name"] = out["key"]
        out["core"] = ""
        return out
    names = text(col(n, "name"))
    out["name"] = names.to_numpy()
    out["core"] = [name_core(v) if isinstance(v, str) else "" for v in names.to_numpy()]
    if label == "Person":   # initials say little about a person ("Dennis S. Garcia" / "GARCIA Dennis")
        out["core"] = [" ".join(w for w in c.split() if len(w) > 1) for c in out["core"]]
    out["country"] = text(col(n, "country" if label != "Person" else "nationality")).str.upper().to_numpy()
    out["city"] = text(col(n, "city")).str.lower().str.strip().to_numpy()
    out["tin"] = [clean_tin(v) for v in col(n, "tin" if label != "Person" else "passport_no").to_numpy()]
    for rel, field in (("LOCATED_AT", "address"), ("HAS_PHONE", "phone"), ("HAS_EMAIL", "email"),
                       ("HOLDS", "accounts")):
        out[field] = out["key"].map(_linked(raw, rel, label)).to_numpy()
    officers = _linked(raw, "OFFICER_OF", label, "dst")
    companies = _linked(raw, "OFFICER_OF", label, "src")
    both = pd.concat([officers, companies])
    if both.index.has_duplicates:   # a trader both has officers and is one: one list
        joined: dict[str, str] = {}
        for k, v in zip(both.index.tolist(), both.tolist()):
            joined[k] = joined[k] + ";" + v if k in joined else v
        both = pd.Series(joined, dtype=object)
    out["officers"] = out["key"].map(both).to_numpy() if len(both) else None
    if label == "Person":
        out["birth_date"] = text(col(n, "birth_date")).str.slice(0, 10).to_numpy()
        out["passport"] = out["tin"]
    return out

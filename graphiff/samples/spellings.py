"""Other spellings of one party, as another administration would record it: name variants
(legal forms spelled out or abbreviated, word order, dropped middle names, numbers, typos,
accents), address variants and phone numbers in other formats. Every variant is a function of
the text and uniform draws, so a seed gives the same spellings; :mod:`graphiff.samples.aliases`
uses them to write alias worlds."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Callable

import numpy as np

from graphiff.samples.reference import COUNTRIES

#: legal forms as the generator writes them (``ids.SUFFIX``, carriers) and other spellings of each
LEGAL_FORMS: dict[str, tuple[str, ...]] = {
    "Co., Ltd": ("Co. Ltd", "Company Limited", "CO LTD", "Co.,Ltd."),
    "(Pty) Ltd": ("Pty Ltd", "(Pty) Limited", "PTY LTD"),
    "Pvt Ltd": ("Private Limited", "Pvt. Ltd.", "PVT LTD"),
    "Pte Ltd": ("Pte. Ltd.", "Private Limited", "PTE LTD"),
    "Sp. z o.o.": ("Sp.z o.o.", "SP Z OO", "Spolka z o.o."),
    "Ltd": ("Limited", "LTD.", "Ltd.", "Co. Ltd"),
    "Limited": ("Ltd", "LTD", "Ltd."),
    "PLC": ("P.L.C.", "Plc", "Public Limited Company"),
    "LLC": ("L.L.C.", "Llc"),
    "L.L.C.": ("LLC",),
    "Inc": ("Inc.", "Incorporated", "INC"),
    "GmbH": ("G.m.b.H.", "GMBH"),
    "B.V.": ("BV", "B.V"),
    "K.K.": ("KK", "Kabushiki Kaisha"),
    "AG": ("A.G.",),
    "NV": ("N.V.",),
    "S.A.": ("SA", "S.A"),
    "SA": ("S.A.",),
    "FZE": ("F.Z.E.", "Free Zone Establishment"),
}
_FORM_SET = frozenset(LEGAL_FORMS)
_FORM_WORDS = sorted({f.count(" ") + 1 for f in LEGAL_FORMS}, reverse=True)
_INITIAL = re.compile(r"[A-Z]\.")
_VOWELS = set("aeiouAEIOU")


def _pick(seq: list, u: float):
    return seq[min(int(u * len(seq)), len(seq) - 1)]


def _split_form(name: str) -> tuple[str, str]:
    """(core, legal form) of a company name (the longest known form its last words spell); the
    form is ``""`` when none is known."""
    toks = name.split(" ")
    for k in _FORM_WORDS:
        if len(toks) > k:
            form = " ".join(toks[-k:])
            if form in _FORM_SET:
                return " ".join(toks[:-k]), form
    return name, ""


def _number(word: str) -> str | None:
    """The other grammatical number of an English noun (None when there is no safe one)."""
    if len(word) < 4 or not word.isalpha() or word.endswith(("ing", "ss")):
        return None
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith("s"):
        return word[:-1]
    if word.endswith("y") and word[-2] not in _VOWELS:
        return word[:-1] + "ies"
    return word + "s"


def _typo(text: str, u: float, v: float) -> str:
    """One typo in a word of six letters or more: two adjacent letters swapped or one dropped
    (never the first letter)."""
    words = text.split(" ")
    long = [i for i, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
    if not long:
        return text
    i = _pick(long, u)
    w = words[i]
    if v < 0.5:
        spots = [j for j in range(1, len(w) - 1) if w[j].lower() != w[j + 1].lower()]
        if spots:
            j = _pick(spots, v * 2)
            words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
            return " ".join(words)
    j = 1 + min(int((v % 0.5) * 2 * (len(w) - 1)), len(w) - 2)
    words[i] = w[:j] + w[j + 1:]
    return " ".join(words)


def _plain(text: str) -> str:
    """Diacritics dropped (NFKD without combining marks)."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def _amp(text: str) -> str:
    if " & " in text:
        return text.replace(" & ", " and ")
    return re.sub(r" and ", " & ", text, flags=re.IGNORECASE)


def _c_form(name: str, u: float, v: float) -> str:
    core, form = _split_form(name)
    if not form:
        return f"{name} Ltd"
    alts = LEGAL_FORMS[form]
    k = min(int(u * (len(alts) + 1)), len(alts))
    return core if k == len(alts) else f"{core} {alts[k]}"


def _c_number(name: str, u: float, v: float) -> str:
    core, form = _split_form(name)
    words = core.split(" ")
    other = _number(words[-1])
    if other is None:
        return name
    words[-1] = other
    return " ".join(words) + (f" {form}" if form else "")


def _c_typo(name: str, u: float, v: float) -> str:
    core, form = _split_form(name)
    return _typo(core, u, v) + (f" {form}" if form else "")


def _person_parts(name: str) -> tuple[str, str | None, str] | None:
    toks = name.split(" ")
    if len(toks) < 2:
        return None
    if len(toks) >= 3 and _INITIAL.fullmatch(toks[1]):
        return toks[0], toks[1], " ".join(toks[2:])
    return toks[0], None, " ".join(toks[1:])


def _p_surname_first(name: str, u: float, v: float) -> str:
    parts = _person_parts(name)
    return name if parts is None else f"{parts[2].upper()} {parts[0]}"


def _p_drop_middle(name: str, u: float, v: float) -> str:
    parts = _person_parts(name)
    return name if parts is None or parts[1] is None else f"{parts[0]} {parts[2]}"


Op = tuple[str, Callable[[str], bool], Callable[[str, float, float], str]]

# the operations in the order they are applied (upper case last)
_COMPANY_OPS: list[Op] = [
    ("form", lambda s: True, _c_form),
    ("number", lambda s: " " in _split_form(s)[0] and _number(_split_form(s)[0].split(" ")[-1]) is not None,
     _c_number),
    ("typo", lambda s: any(len(w) >= 6 and w.isalpha() for w in _split_form(s)[0].split(" ")), _c_typo),
    ("amp", lambda s: " & " in s or " and " in s.lower(), lambda s, u, v: _amp(s)),
    ("plain", lambda s: not s.isascii(), lambda s, u, v: _plain(s)),
    ("upper", lambda s: s != s.upper(), lambda s, u, v: s.upper()),
]
_PERSON_OPS: list[Op] = [
    ("surname_first", lambda s: _person_parts(s) is not None, _p_surname_first),
    ("drop_middle", lambda s: (_person_parts(s) or ("", None, ""))[1] is not None, _p_drop_middle),
    ("typo", lambda s: any(len(w) >= 6 and w.isalpha() for w in s.split(" ")), lambda s, u, v: _typo(s, u, v)),
    ("plain", lambda s: not s.isascii(), lambda s, u, v: _plain(s)),
    ("upper", lambda s: s != s.upper(), lambda s, u, v: s.upper()),
]
N_UNIFORMS = 7  # uniforms one variant uses


@lru_cache(maxsize=1 << 17)
def _usable(name: str, person: bool) -> list[int]:
    """The operations that apply to ``name`` (cached: a party is spelt by many administrations)."""
    return [i for i, op in enumerate(_PERSON_OPS if person else _COMPANY_OPS) if op[1](name)]


def _variant(name: str, u: list[float], person: bool) -> str:
    ops = _PERSON_OPS if person else _COMPANY_OPS
    usable = _usable(name, person)
    if not usable:
        return name
    first = _pick(usable, u[1])
    chosen = {first}
    if u[0] < 0.45 and len(usable) > 1:
        chosen.add(_pick([i for i in usable if i != first], u[2]))
    out = name
    for k, i in enumerate(sorted(chosen)):
        out = ops[i][2](out, u[3 + 2 * k], u[4 + 2 * k])
    if out == name:  # e.g. a typo that swapped equal letters
        out = name.upper() if name != name.upper() else name.title()
    return out


def name_variant(name: str, rng: np.random.Generator, *, person: bool = False) -> str:
    """How another administration may spell ``name``: one or two of upper case, another
    spelling of the legal form (Ltd / Limited / LTD. / Co. Ltd, LLC / L.L.C., SA / S.A., ...;
    added or dropped), the other grammatical number of the last word, one typo (two adjacent
    letters swapped or one dropped, in a word of six letters or more), diacritics dropped,
    ``&`` / ``and``; for persons (``person=True``) upper case, the surname first in capitals
    ("OKELLO John") or the middle initial dropped, a typo, diacritics dropped.

    Parameters
    ----------
    name : str
        A company name as :func:`graphiff.samples.ids.company_names` writes them ("Mara Legacy
        Metals Ltd") or a person's name ("John K. Okello").
    rng : numpy.random.Generator
        Source of the choices (seven uniforms per call).
    person : bool, default False
        Whether ``name`` is a person's name.

    Returns
    -------
    str
        A spelling different from ``name`` that a human reader takes for the same company or
        person. Cost: a few microseconds.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> [name_variant("Mara Legacy Metals Ltd", rng) for _ in range(3)]
    ['MARA LEGACY METALS LTD', 'Mara Legcy Metals Co. Ltd', 'Mara Legacy Metals Ltd.']
    >>> name_variant("John K. Okello", rng, person=True)
    'JOHN OKELLO'
    """
    return _variant(name, rng.random(N_UNIFORMS).tolist(), person)


def name_variants(names: np.ndarray | list[str], rng: np.random.Generator, *, person: bool = False) -> np.ndarray:
    """:func:`name_variant` of each name (the uniforms drawn in one block).

    Parameters
    ----------
    names : array-like of str
        Names (company names, or persons' names with ``person=True``).
    rng : numpy.random.Generator
        Source of the choices.
    person : bool, default False
        Whether the names are persons' names.

    Returns
    -------
    numpy.ndarray
        Object array of variants, aligned with ``names``. Cost: a few microseconds per name.
    """
    arr = np.asarray(names, dtype=object)
    u = rng.random((len(arr), N_UNIFORMS)).tolist()
    return np.array([_variant(str(nm), ui, person) for nm, ui in zip(arr, u)], dtype=object)


# ---- addresses and phones ------------------------------------------------------------------

ABBREVIATIONS = {"Road": "Rd", "Street": "St", "Avenue": "Ave", "Drive": "Dr", "Highway": "Hwy", "Lane": "Ln",
                 "Crescent": "Cres", "Centre": "Ctr", "Terminal": "Term"}
_ABBREV_RE = re.compile(r"\b(" + "|".join(ABBREVIATIONS) + r")\b")


def address_variant(address: str, u: float, v: float) -> str:
    """The same address typed differently: abbreviated street types (Road / Rd, Street / St,
    ...), upper case, punctuation, "Plot No.".

    Parameters
    ----------
    address : str
        An address as the generator writes them ("Plot 1234/56 Harbour Road").
    u, v : float
        Uniforms choosing the variation.

    Returns
    -------
    str
        A different spelling of the same address. Cost: microseconds.

    Examples
    --------
    >>> address_variant("Plot 1234/56 Harbour Road", 0.1, 0.3)
    'Plot 1234/56 Harbour Rd'
    >>> address_variant("Plot 1234/56 Harbour Road", 0.6, 0.3)
    'PLOT 1234/56, HARBOUR ROAD'
    """
    out = address
    if u < 0.5 and _ABBREV_RE.search(out):
        out = _ABBREV_RE.sub(lambda m: ABBREVIATIONS[m.group(1)] + ("." if v < 0.3 else ""), out)
    elif u < 0.75:
        out = re.sub(r"^(Plot \S+) ", r"\1, ", out).upper()
    else:
        out = re.sub(r"^Plot ", "Plot No. " if v < 0.5 else "P/No. ", out)
    if out == address:
        out = address.upper()
    return out


def phone_variant(phone: str, country: str, u: float) -> str:
    """An international phone number (``+`` dialling code, digits) formatted another way: spaces,
    dashes, brackets, ``00`` for ``+``; :func:`graphiff.model.values.clean_phone` gives the
    same value back.

    Parameters
    ----------
    phone : str
        A phone number as the generator writes them (``+``, dialling code, digits).
    country : str
        The country whose dialling code it starts with.
    u : float
        A uniform choosing the format.

    Returns
    -------
    str
        The number in another format (unchanged when it does not start with the country's
        dialling code). Cost: microseconds.

    Examples
    --------
    >>> phone_variant("+254712345678", "KE", 0.3)
    '00254 712 345678'
    """
    dial = COUNTRIES[country][1]
    if not phone.startswith("+" + dial):
        return phone
    rest = phone[1 + len(dial):]
    forms = [f"+{dial} {rest[:3]} {rest[3:6]} {rest[6:]}", f"00{dial} {rest[:3]} {rest[3:]}",
             f"+{dial}-{rest[:3]}-{rest[3:6]}-{rest[6:]}", f"00{dial}-{rest}", f"+{dial} ({rest[:3]}) {rest[3:]}"]
    return _pick(forms, u)


# ---- per (administration, party) aliases ----------------------------------------------------



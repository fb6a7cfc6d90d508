"""How a search query and a searched value are compared: one home for the normalisation of
text (:func:`fold`), identifiers (:func:`compact_id`, :func:`query_id_forms`) and phones
(:func:`phone_digits`, :func:`national_digits`), and how many typos a word may have
(:func:`fuzzy_distance`). Used by the documents searched (:mod:`graphiff.search.documents`),
the scorer (:mod:`graphiff.search.rank`) and both backends.
"""
from __future__ import annotations

import re
from functools import lru_cache

from normality import normalize
from normality.cleaning import category_replace

from graphiff.model.values import clean_phone

_ID_DROP = re.compile(r"[\s\-()]+")
#: what :data:`_ID_DROP` removes from ASCII text, in Arrow's (RE2) syntax (Python's ``\s`` also
#: matches ``\v`` and ``\x1c``-``\x1f``)
ID_DROP_ARROW = r"[\t\n\x0b\x0c\r\x1c-\x1f \-()]+"
_PHONE_CHARS = re.compile(r"^[+\d\s\-().]+$")
_NOT_DIGIT = re.compile(r"\D")


@lru_cache(maxsize=1)
def _ascii_table() -> dict[int, str]:
    """What ``normality`` makes of each ASCII character once lower-cased: itself, a space or
    nothing (by its Unicode category)."""
    return {c: category_replace(chr(c)) for c in range(128)}


def fold_text(value: str) -> str:
    """:func:`fold` without its cache (for many distinct values at once); ASCII text by a
    translation table (the same result, about ten times faster than ``normality``; tests
    compare them)."""
    text = str(value)
    if text.isascii():
        return " ".join(text.lower().translate(_ascii_table()).split())
    return normalize(text, ascii=True) or ""


@lru_cache(maxsize=100_000)
def fold(value: str) -> str:
    """Text as search compares it: ASCII (accents folded, other scripts transliterated), lower
    case, punctuation as spaces, spaces collapsed (``normality``). ``""`` when nothing is left.
    Cost: a few microseconds (cached for the query words).

    >>> fold("MÜLLER GmbH & Co."), fold("O'Brien <script>"), fold("  ")
    ('muller gmbh co', 'o brien script', '')
    """
    return fold_text(value)


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


@lru_cache(maxsize=1)
def _calling_codes() -> frozenset[str]:
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE  # a dependency of followthemoney

    return frozenset(str(c) for c in COUNTRY_CODE_TO_REGION_CODE)


def national_digits(value: str) -> str | None:
    """A phone number's national significant number: the digits after the country calling code
    of an international number, or after the trunk ``0`` of a national one -- how the same
    number is written inside its country. ``None`` when it is not a phone number or fewer than
    six digits are left.

    >>> national_digits("+254 785 721 853"), national_digits("0785 721853"), national_digits("+1 202 555 0143")
    ('785721853', '785721853', '2025550143')
    """
    cleaned = clean_phone(value)
    if not cleaned:
        return None
    if cleaned.startswith("+"):
        digits, codes = cleaned[1:], _calling_codes()
        # calling codes are prefix-free (ITU E.164): the first that matches is the one
        rest = next((digits[k:] for k in (1, 2, 3) if digits[:k] in codes), None)
    else:
        rest = cleaned.lstrip("0")
    return rest if rest and len(rest) >= 6 else None


def query_id_forms(q: str) -> list[str]:
    """The forms of a query looked up among identifiers: :func:`compact_id`, and for a query
    written like a phone number its digits and its national significant number
    (:func:`national_digits`: ``0785 721853`` finds ``+254785721853``).

    >>> query_id_forms("+44 20 7946 0958"), query_id_forms("gb29 nwbk")
    (['+442079460958', '442079460958', '2079460958'], ['GB29NWBK'])
    """
    forms = [compact_id(q)]
    if _PHONE_CHARS.match(q.strip()):
        for form in (phone_digits(q), national_digits(q)):
            if form and form not in forms:
                forms.append(form)
    return [f for f in forms if f]

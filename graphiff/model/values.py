"""Vectorised validation and normalisation of input columns.

Each checker takes a Series of raw strings (``""`` = missing) and returns ``(values, bad)``:
the normalised values (``None`` where missing or bad) and a boolean mask of rows whose
non-empty value is invalid. Reasons are the ``REASONS`` entry of the column type.
"""
from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pycountry

REASONS = {
    "country": "unknown country (expected ISO 3166-1 code or name)",
    "currency": "unknown currency (expected ISO 4217 code)",
    "date": "bad date (expected ISO 8601, YYYY-MM-DD, optionally with a valid time)",
    "month": "bad month (expected YYYY-MM)",
    "hs": "bad HS code (expected 6 to 10 digits)",
    "amount": "bad amount (expected a positive finite number)",
    "number": "bad number (expected a finite number >= 0)",
    "int": "bad integer (expected a whole number from -2^63 to 2^63-1)",
    "list": "bad list",
    "str": "bad text",
    "enum": "unexpected value (allowed: {allowed})",
    "iban": "invalid IBAN (check digits or format)",
}

Checker = Callable[[pd.Series], tuple[pd.Series, pd.Series]]
TEXT = pd.StringDtype("pyarrow")   # normalised text columns: Arrow-backed, missing = NA


def _blank(s: pd.Series) -> pd.Series:
    return (s.isna() | (s.astype(TEXT).str.strip() == "")).fillna(True).astype(bool)


@lru_cache(maxsize=1)
def country_lookup() -> dict[str, str]:
    """Upper-cased alpha-2, alpha-3, numeric, names and common/official names -> alpha-2."""
    table: dict[str, str] = {}
    for c in pycountry.countries:
        a2 = c.alpha_2
        for attr in ("alpha_2", "alpha_3", "numeric", "name", "official_name", "common_name"):
            v = getattr(c, attr, None)
            if v:
                table[str(v).upper()] = a2
    table.update({"UK": "GB", "XK": "XK", "KOSOVO": "XK", "EU": "EU"})
    return table


@lru_cache(maxsize=1)
def currency_codes() -> frozenset[str]:
    return frozenset(c.alpha_3 for c in pycountry.currencies)


def check_country(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    blank = _blank(s)
    key = s.astype(TEXT).str.strip().str.upper()
    out = key.map(country_lookup())
    bad = out.isna() & ~blank
    return out.astype(TEXT), bad


def check_currency(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    blank = _blank(s)
    key = s.astype(TEXT).str.strip().str.upper()
    ok = key.isin(currency_codes())
    bad = ~ok & ~blank
    return key.astype(TEXT).where(ok), bad


#: An ISO 8601 date with an optional time of day (``T`` or a space, ``hh[:mm[:ss[.f]]]``, hours
#: 00-23, minutes and seconds 00-59) and an optional zone (``Z`` or ``+hh[:]mm``).
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}"
                      r"([T ]([01]\d|2[0-3])(:[0-5]\d(:[0-5]\d([.,]\d+)?)?)?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)?)?$")


def check_date(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dates as ``YYYY-MM-DD``; a time part must be a valid time of day (``T25:00`` is bad).

    >>> check_date(pd.Series(["2024-01-31T23:59:59Z", "2024-01-31T25:00:00", "2024-02-30", ""]))[1].tolist()
    [False, True, True, False]
    """
    blank = _blank(s)
    raw = s.astype(TEXT).str.strip()
    iso = raw.str.match(ISO_DATE.pattern).fillna(False)
    parsed = pd.to_datetime(raw.str.slice(0, 10).where(iso), format="%Y-%m-%d", errors="coerce")
    out = parsed.dt.strftime("%Y-%m-%d")
    bad = parsed.isna() & ~blank
    return out.astype(TEXT).where(parsed.notna()), bad


def check_month(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    blank = _blank(s)
    raw = s.astype(TEXT).str.strip()
    parsed = pd.to_datetime(raw.where(raw.str.match(r"^\d{4}-\d{2}$").fillna(False)), format="%Y-%m", errors="coerce")
    out = parsed.dt.strftime("%Y-%m")
    bad = parsed.isna() & ~blank
    return out.astype(TEXT).where(parsed.notna()), bad


def check_hs(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    blank = _blank(s)
    raw = s.astype(TEXT).str.strip().str.replace(r"[.\s]", "", regex=True)
    ok = raw.str.fullmatch(r"\d{6,10}").fillna(False)
    bad = ~ok & ~blank
    return raw.astype(TEXT).where(ok), bad


def _numeric(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    blank = _blank(s)
    raw = s.astype(TEXT).str.strip()
    num = pd.to_numeric(raw.where(~blank), errors="coerce").astype("float64")
    finite = np.isfinite(num.to_numpy(dtype="float64", na_value=np.nan))
    return num.where(finite), blank


def check_amount(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    num, blank = _numeric(s)
    ok = num.notna() & (num > 0)
    return num.where(ok), ~ok & ~blank


def check_number(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    num, blank = _numeric(s)
    ok = num.notna() & (num >= 0)
    return num.where(ok), ~ok & ~blank


INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
_INT_TEXT = re.compile(r"[+-]?[0-9]+")


def clean_int(v: object) -> int | None:
    """A whole number that fits a 64-bit integer (what the stores hold), else ``None``: digits
    are read exactly; a number written with a fraction or exponent counts when it is whole.

    >>> clean_int("40"), clean_int(" 4.0e1 "), clean_int("99999999999999999999"), clean_int("1.5"), clean_int("NaN")
    (40, 40, None, None, None)
    """
    text = (_text(v) or "").strip()
    if _INT_TEXT.fullmatch(text):
        n = int(text)
    else:
        try:
            f = float(text)
        except ValueError:
            return None
        if not math.isfinite(f) or not f.is_integer() or "_" in text:
            return None
        n = int(f)
    return n if INT64_MIN <= n <= INT64_MAX else None


def check_int(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Whole numbers as ``Int64``; a value that is not whole or does not fit 64 bits is bad.
    Cost: one :func:`clean_int` call per distinct value."""
    blank = _blank(s)
    codes, uniq = pd.factorize(s.astype(object).where(~blank, None).to_numpy(dtype=object))
    table = pd.array([clean_int(v) for v in uniq], dtype="Int64")
    num = pd.Series(table.take(codes, allow_fill=True), index=s.index)
    return num, num.isna() & ~blank


def check_list(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    blank = _blank(s)
    raw = (s.astype(TEXT).fillna("").str.replace(r"\s*;[\s;]*", ";", regex=True).str.strip()
           .str.strip(";"))
    return raw.astype(TEXT).where(~blank & (raw != "")), pd.Series(False, index=s.index)


def check_str(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    blank = _blank(s)
    return s.astype(TEXT).str.strip().where(~blank), pd.Series(False, index=s.index)


def make_enum(allowed: list[str]) -> Checker:
    allowed_set = set(allowed)

    def check_enum(s: pd.Series) -> tuple[pd.Series, pd.Series]:
        blank = _blank(s)
        key = s.astype(TEXT).str.strip().str.upper()
        ok = key.isin(allowed_set)
        return key.astype(TEXT).where(ok), ~ok & ~blank

    return check_enum


CHECKERS: dict[str, Checker] = {
    "country": check_country, "currency": check_currency, "date": check_date, "month": check_month,
    "hs": check_hs, "amount": check_amount, "number": check_number, "int": check_int,
    "list": check_list, "str": check_str,
}


def checker(type_name: str) -> tuple[Checker, str]:
    """The checker and the quarantine reason for a column type of files.yaml."""
    if type_name.startswith("enum:"):
        allowed = type_name[5:].split("|")
        return make_enum(allowed), REASONS["enum"].format(allowed=", ".join(allowed))
    return CHECKERS[type_name], REASONS[type_name]


# ---- identifiers: account/IBAN, phone, email, address ---------------------------------
# Each kind has one rule, a scalar ``clean_*`` function; the Series versions apply it once per
# distinct value. The rules follow the Arrow string kernels the loader used before: Unicode
# classes for digits, word characters and spaces, Arrow's one-to-one case mappings.

IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{10,30}")
_SPACES = re.compile(r"\s+")
_NOT_DIGIT = re.compile(r"\D")
_NOT_WORD = re.compile(r"\W+")


def _text(v: object) -> str | None:
    """A raw cell as text: ``None`` for missing (None, NA, NaN)."""
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return None
    return str(v)


def _upper(text: str) -> str:
    """Upper case by Arrow's one-to-one case mapping (``ß`` becomes ``ẞ``, not ``SS``)."""
    if text.isascii():
        return text.upper()
    return pc.utf8_upper(pa.scalar(text, pa.string())).as_py()


def _lower(text: str) -> str:
    """Lower case by Arrow's one-to-one case mapping (``İ`` becomes ``i``)."""
    if text.isascii():
        return text.lower()
    return pc.utf8_lower(pa.scalar(text, pa.string())).as_py()


def _by_value(s: pd.Series, rule: Callable[[Any], str | None]) -> pd.Series:
    """``rule`` applied to each distinct value of ``s`` (cost: one call per distinct value)."""
    values = s.astype(object).where(s.notna(), None)
    uniq = pd.unique(values.to_numpy(dtype=object))
    table = {v: rule(v) for v in uniq}
    return pd.Series([table[v] for v in values.to_numpy(dtype=object)], index=s.index, dtype=object).astype(TEXT)


def looks_like_iban(v: object) -> bool:
    """Whether ``v`` has the shape of a compact IBAN (country, check digits, 10-30 characters).

    >>> looks_like_iban("GB82WEST12345698765432"), looks_like_iban("12345")
    (True, False)
    """
    text = _text(v)
    return text is not None and IBAN_SHAPE.fullmatch(text) is not None


@lru_cache(maxsize=200_000)
def _iban_ok(value: str) -> bool:
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        IBAN(value, validate_bban=False)
        return True
    except (SchwiftyException, ValueError):
        return False


def is_valid_iban(v: object) -> bool:
    """Whether ``v`` is a compact IBAN whose check digits and format hold (schwifty; cached).

    >>> is_valid_iban("GB82WEST12345698765432"), is_valid_iban("GB82WEST12345698765433")
    (True, False)
    """
    return looks_like_iban(v) and _iban_ok(str(v))


def clean_account(v: object) -> str | None:
    """An account id: stripped; upper case with spaces removed when it looks like an IBAN.

    >>> clean_account(" gb82 west 1234 5698 7654 32 "), clean_account(" 0012 34 ")
    ('GB82WEST12345698765432', '0012 34')
    """
    text = _text(v)
    if text is None:
        return None
    raw = text.strip()
    compact = _upper(_SPACES.sub("", raw))
    return compact if IBAN_SHAPE.fullmatch(compact) else raw


def normalise_account(s: pd.Series) -> pd.Series:
    """:func:`clean_account` of each value (missing stays missing)."""
    return _by_value(s, clean_account)


def check_iban(s: pd.Series) -> pd.Series:
    """Boolean mask of values that look like an IBAN but fail its checks (schwifty)."""
    text = s.astype(TEXT).fillna("")
    uniq = text.unique()
    verdict = {v: looks_like_iban(v) and not _iban_ok(v) for v in uniq}
    return text.map(verdict).astype(bool)


def clean_phone(v: object) -> str | None:
    """A phone number: its digits, with a leading ``+`` when international (``00`` becomes
    ``+``); ``None`` with fewer than five digits.

    >>> clean_phone("0044 20 7946 0958"), clean_phone("(020) 7946-0958"), clean_phone("12-34")
    ('+442079460958', '02079460958', None)
    """
    raw = (_text(v) or "").strip()
    digits = _NOT_DIGIT.sub("", raw)
    if raw.startswith("00"):
        digits = digits[2:]
    if len(digits) < 5:
        return None
    return "+" + digits if raw.startswith(("+", "00")) else digits


def normalise_phone(s: pd.Series) -> pd.Series:
    """:func:`clean_phone` of each value."""
    return _by_value(s, clean_phone)


def clean_email(v: object) -> str | None:
    """An e-mail address: stripped, lower case; ``None`` without an ``@``.

    >>> clean_email(" Ann@Example.COM "), clean_email("n/a")
    ('ann@example.com', None)
    """
    raw = _lower((_text(v) or "").strip())
    return raw if "@" in raw else None


def normalise_email(s: pd.Series) -> pd.Series:
    """:func:`clean_email` of each value."""
    return _by_value(s, clean_email)


def _address_key(text: str) -> str:
    return _NOT_WORD.sub(" ", _upper(text)).strip()


def clean_address(v: object, *parts: object) -> str | None:
    """An address for matching: upper case, punctuation dropped, spaces collapsed, with the
    given parts (city, postcode, country) appended; ``None`` without an address.

    >>> clean_address("12, Harbour Rd.", "Mombasa", None, "KE")
    '12 HARBOUR RD MOMBASA KE'
    """
    address = _text(v) or ""
    if not address.strip():
        return None
    return _address_key(" ".join([address, *((_text(p) or "") for p in parts)]))


def normalise_address(address: pd.Series, *parts: pd.Series) -> pd.Series:
    """:func:`clean_address` of each row: ``address`` with its ``parts`` (Series aligned with it)."""
    text = address.astype(TEXT).fillna("")
    for p in parts:
        text = text + " " + p.astype("string").fillna("")
    has = address.astype(TEXT).fillna("").str.strip() != ""
    return _by_value(text, _address_key).where(has)

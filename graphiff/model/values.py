"""Vectorised validation and normalisation of input columns.

Each checker takes a Series of raw strings (``""`` = missing) and returns ``(values, bad)``:
the normalised values (``None`` where missing or bad) and a boolean mask of rows whose
non-empty value is invalid. Reasons are the ``REASONS`` entry of the column type.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

import numpy as np
import pandas as pd
import pycountry

REASONS = {
    "country": "unknown country (expected ISO 3166-1 code or name)",
    "currency": "unknown currency (expected ISO 4217 code)",
    "date": "bad date (expected ISO 8601, YYYY-MM-DD)",
    "month": "bad month (expected YYYY-MM)",
    "hs": "bad HS code (expected 6 to 10 digits)",
    "amount": "bad amount (expected a positive finite number)",
    "number": "bad number (expected a finite number >= 0)",
    "int": "bad integer",
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


def check_date(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    blank = _blank(s)
    raw = s.astype(TEXT).str.strip()
    iso = raw.str.match(r"^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$").fillna(False)
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


def check_int(s: pd.Series) -> tuple[pd.Series, pd.Series]:
    num, blank = _numeric(s)
    ok = num.notna() & (num == num.round())
    return num.where(ok).astype("Int64"), ~ok & ~blank


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


# ---- identifiers -----------------------------------------------------------------------

_IBAN_SHAPE = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$")


def normalise_account(s: pd.Series) -> pd.Series:
    """Account ids: upper case, spaces removed when the id looks like an IBAN."""
    raw = s.astype(TEXT).str.strip()
    compact = raw.str.replace(r"\s+", "", regex=True).str.upper()
    looks = compact.str.match(_IBAN_SHAPE.pattern).fillna(False)
    return compact.where(looks, raw).astype(TEXT)


@lru_cache(maxsize=200_000)
def _iban_ok(value: str) -> bool:
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        IBAN(value, validate_bban=False)
        return True
    except (SchwiftyException, ValueError):
        return False


def check_iban(s: pd.Series) -> pd.Series:
    """Boolean mask of values that look like an IBAN but fail its checks (schwifty)."""
    text = s.astype(TEXT).fillna("")
    looks = text.str.match(_IBAN_SHAPE.pattern).fillna(False)
    bad = pd.Series(False, index=s.index)
    if looks.any():
        uniq = text[looks].unique()
        verdict = {v: _iban_ok(v) for v in uniq}
        bad[looks] = ~text[looks].map(verdict).astype(bool)
    return bad


def normalise_phone(s: pd.Series) -> pd.Series:
    """Phones: digits with a leading ``+`` when international (``00`` becomes ``+``)."""
    raw = s.astype(TEXT).fillna("").str.strip()
    plus = raw.str.startswith("+") | raw.str.startswith("00")
    digits = raw.str.replace(r"\D", "", regex=True)
    digits = digits.where(~raw.str.startswith("00"), digits.str.slice(2))
    out = ("+" + digits).where(plus, digits)
    return out.where(digits.str.len() >= 5).astype(TEXT)


def normalise_email(s: pd.Series) -> pd.Series:
    raw = s.astype(TEXT).fillna("").str.strip().str.lower()
    return raw.where(raw.str.contains("@", regex=False)).astype(TEXT)


def normalise_address(address: pd.Series, *parts: pd.Series) -> pd.Series:
    """Addresses for matching: upper case, punctuation dropped, spaces collapsed; city,
    postcode and country appended when given."""
    text = address.astype(TEXT).fillna("")
    for p in parts:
        text = text + " " + p.astype("string").fillna("")
    norm = text.str.upper().str.replace(r"[^\w]+", " ", regex=True).str.strip()
    has = address.astype(TEXT).fillna("").str.strip() != ""
    return norm.where(has).astype(TEXT)

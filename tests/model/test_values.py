"""Value rules of graphiff.model.values: the scalar identifier rules (phone, e-mail, address,
account/IBAN), the vectorised column checkers of files.yaml types, and the agreement of each
Series normaliser with its scalar rule."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from graphiff.model.values import (
    REASONS,
    check_iban,
    checker,
    clean_account,
    clean_address,
    clean_email,
    clean_phone,
    is_valid_iban,
    looks_like_iban,
    normalise_account,
    normalise_address,
    normalise_email,
    normalise_phone,
)

VALID_IBAN = "GB82WEST12345698765432"          # the textbook example
BAD_CHECK_IBAN = "GB82WEST12345698765433"      # same shape, wrong check digits


def run(type_name: str, values: list) -> tuple[list, list[bool]]:
    """Apply the checker of ``type_name``; normalised values (NA -> None) and the bad mask."""
    check, _reason = checker(type_name)
    out, bad = check(pd.Series(values, dtype=object))
    assert len(out) == len(bad) == len(values)
    norm = [None if (v is pd.NA or (isinstance(v, float) and np.isnan(v))) else v for v in out.tolist()]
    return norm, [bool(b) for b in bad.tolist()]


def missing(v: object) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and v != v)


# ---- phone ------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, want", [
    ("0044 20 7946 0958", "+442079460958"),      # 00 prefix -> +
    (" +44 (20) 7946-0958 ", "+442079460958"),   # punctuation and spaces dropped
    ("(020) 7946-0958", "02079460958"),          # national number keeps its leading 0
    ("12 34 5", "12345"),                        # five digits is enough
    ("12-34", None),                             # four is not
    ("+1234", None),
    ("0044", None),                              # 00 is not counted as digits
    ("n/a", None),
    ("", None), ("   ", None), (None, None), (float("nan"), None), (pd.NA, None),
])
def test_clean_phone(raw, want):
    assert clean_phone(raw) == want


def test_clean_phone_keeps_unicode_digits():
    # the rule uses Unicode digit classes: Arabic-Indic digits are digits (kept as they are)
    assert clean_phone("١٢٣٤٥٦") == "١٢٣٤٥٦"


# ---- e-mail -----------------------------------------------------------------------------

@pytest.mark.parametrize("raw, want", [
    (" Ann@Example.COM ", "ann@example.com"),
    ("a@b", "a@b"),                   # only an @ is required
    ("n/a", None),
    ("ann.example.com", None),
    ("", None), ("  ", None), (None, None), (float("nan"), None),
])
def test_clean_email(raw, want):
    assert clean_email(raw) == want


def test_clean_email_lower_case_is_one_to_one():
    # Arrow's one-to-one mapping: dotted capital I becomes a plain i (Python's str.lower adds U+0307)
    assert clean_email("İSTANBUL@X.TR") == "istanbul@x.tr"
    assert clean_email("Straße@X.DE") == "straße@x.de"


# ---- address ----------------------------------------------------------------------------

def test_clean_address_upper_case_no_punctuation_parts_appended():
    assert clean_address("12, Harbour Rd.", "Mombasa", None, "KE") == "12 HARBOUR RD MOMBASA KE"
    assert clean_address("  1   Main  St ") == "1 MAIN ST"
    assert clean_address("1 Main St", float("nan"), pd.NA, 12345) == "1 MAIN ST 12345"


def test_clean_address_needs_an_address():
    assert clean_address(None, "Nairobi", "KE") is None
    assert clean_address("   ", "Nairobi") is None
    assert clean_address(float("nan")) is None


def test_clean_address_unicode():
    assert clean_address("ß Straße 5") == "ẞ STRAẞE 5"      # one-to-one upper case, not SS
    assert clean_address("\u00a0Ω-Street\u00a04") == "Ω STREET 4"  # no-break spaces are spaces


# ---- account / IBAN ---------------------------------------------------------------------

def test_clean_account_compacts_ibans_only():
    assert clean_account(" gb82 west 1234 5698 7654 32 ") == VALID_IBAN
    assert clean_account("de89370400440532013000") == "DE89370400440532013000"
    assert clean_account(" 0012 34 ") == "0012 34"          # not an IBAN: only stripped
    assert clean_account("acc-7") == "acc-7"                # case kept
    assert clean_account(None) is None and clean_account(float("nan")) is None


def test_clean_account_blank_is_empty_text():
    # unlike the other rules, a blank account id becomes "" rather than None
    assert clean_account("") == ""
    assert clean_account("   ") == ""


def test_looks_like_iban():
    assert looks_like_iban(VALID_IBAN)
    assert looks_like_iban(BAD_CHECK_IBAN)                   # shape only
    assert not looks_like_iban("gb82west12345698765432")     # compact upper case only
    assert not looks_like_iban("GB82 WEST 1234 5698 7654 32")
    assert not looks_like_iban("12345")
    assert not looks_like_iban("GB82WEST123")                # too short
    assert not looks_like_iban(None) and not looks_like_iban(pd.NA)


def test_is_valid_iban():
    assert is_valid_iban(VALID_IBAN)
    assert is_valid_iban("DE89370400440532013000")
    assert not is_valid_iban(BAD_CHECK_IBAN)
    assert not is_valid_iban("DE89370400440532013001")
    assert not is_valid_iban("GB82 WEST 1234 5698 7654 32")  # clean it first
    assert is_valid_iban(clean_account("GB82 WEST 1234 5698 7654 32"))
    assert not is_valid_iban(None)


def test_check_iban_flags_only_iban_shaped_values_that_fail():
    s = pd.Series([VALID_IBAN, BAD_CHECK_IBAN, "12345", None, BAD_CHECK_IBAN.lower()], dtype=object)
    assert check_iban(s).tolist() == [False, True, False, False, False]


# ---- Series normalisers agree with the scalar rules -------------------------------------

TRICKY = [
    None, "", "   ", pd.NA, float("nan"), "\u00a0x\u00a0", " +44 20 7946 0958 ", "00254700000001", "0044",
    "١٢٣٤٥٦", " Ann@Example.COM ", "İSTANBUL@x.tr", "straße@x.de", "Ωmega@ΣIGMA.gr", "n/a", "ß Straße 5",
    "12, Harbour Rd.", "gb82 west 1234 5698 7654 32", " 0012 34 ", "ＡＢ", "  ", "ann@example.com",
]


@pytest.mark.parametrize("series_rule, scalar_rule", [
    (normalise_phone, clean_phone),
    (normalise_email, clean_email),
    (normalise_account, clean_account),
    (normalise_address, clean_address),
], ids=["phone", "email", "account", "address"])
def test_series_normaliser_agrees_with_scalar_rule(series_rule, scalar_rule):
    s = pd.Series(TRICKY, dtype=object, index=range(10, 10 + len(TRICKY)))
    out = series_rule(s)
    assert out.index.equals(s.index)
    got = [None if missing(v) else v for v in out.tolist()]
    assert got == [scalar_rule(v) for v in TRICKY]


def test_normalise_address_with_parts_agrees_with_clean_address():
    address = pd.Series(["1 Main St", "", None, "  ", "Ω-Street 4", "5, Lake Rd."], dtype=object)
    city = pd.Series(["Nairobi", "X", "Y", None, None, "Kampala"], dtype=object)
    country = pd.Series(["KE", None, "KE", "KE", float("nan"), "UG"], dtype=object)
    out = normalise_address(address, city, country)
    got = [None if missing(v) else v for v in out.tolist()]
    assert got == [clean_address(a, c, k) for a, c, k in zip(address, city, country)]
    assert got == ["1 MAIN ST NAIROBI KE", None, None, None, "Ω STREET 4", "5 LAKE RD KAMPALA UG"]


# ---- column checkers --------------------------------------------------------------------

def test_checker_reasons():
    assert checker("country")[1] == REASONS["country"]
    assert checker("amount")[1] == REASONS["amount"]
    assert checker("enum:IMPORT|EXPORT")[1] == "unexpected value (allowed: IMPORT, EXPORT)"
    with pytest.raises(KeyError):
        checker("no-such-type")


def test_country_names_and_codes_become_alpha2():
    raw = ["KE", "ken", " kenya ", "404", "United Kingdom", "uk", "Tanzania, United Republic of", "Viet Nam",
           "Côte d'Ivoire", "XK", "EU"]
    out, bad = run("country", raw)
    assert out == ["KE", "KE", "KE", "KE", "GB", "GB", "TZ", "VN", "CI", "XK", "EU"]
    assert not any(bad)


def test_country_unknown_flagged_blank_not():
    out, bad = run("country", ["Narnia", "ZZ", "", "  ", None, "KE"])
    assert out == [None, None, None, None, None, "KE"]
    assert bad == [True, True, False, False, False, False]


def test_currency():
    out, bad = run("currency", ["usd", " EUR ", "kes", "US$", "XYZ", "", None])
    assert out == ["USD", "EUR", "KES", None, None, None, None]
    assert bad == [False, False, False, True, True, False, False]


def test_date():
    raw = ["2024-01-31", " 2024-02-29 ", "2024-01-31T10:00:00Z", "2024-01-31 10:00", "2024-01-31T10:00:00+03:00",
           "2023-02-29", "2024-13-01", "31/01/2024", "2024-1-5", "20240131", "", None]
    out, bad = run("date", raw)
    assert out == ["2024-01-31", "2024-02-29", "2024-01-31", "2024-01-31", "2024-01-31",
                   None, None, None, None, None, None, None]
    assert bad == [False] * 5 + [True] * 5 + [False, False]


def test_month():
    out, bad = run("month", ["2024-01", " 2024-12 ", "2024-13", "2024-1", "2024-01-05", "", None])
    assert out == ["2024-01", "2024-12", None, None, None, None, None]
    assert bad == [False, False, True, True, True, False, False]


def test_hs_codes():
    out, bad = run("hs", ["851712", "8517.12", "8517 12 00", "0101210000", "85171", "12345678901", "ab1234", "",
                          None])
    assert out == ["851712", "851712", "85171200", "0101210000", None, None, None, None, None]
    assert bad == [False, False, False, False, True, True, True, False, False]


def test_amounts_must_be_positive_and_finite():
    out, bad = run("amount", ["100", " 1e3 ", "0.5", "0", "-5", "abc", "inf", "nan", "1,000", "", None])
    assert out == [100.0, 1000.0, 0.5] + [None] * 8
    assert bad == [False, False, False, True, True, True, True, True, True, False, False]


def test_numbers_may_be_zero():
    out, bad = run("number", ["0", "2.5", "-1", "inf", "x", ""])
    assert out == [0.0, 2.5, None, None, None, None]
    assert bad == [False, False, True, True, True, False]


def test_int():
    check, _ = checker("int")
    out, bad = check(pd.Series(["1", "1.0", "-3", "1.5", "x", ""], dtype=object))
    assert str(out.dtype) == "Int64"
    assert out.tolist()[:3] == [1, 1, -3] and out.isna().tolist() == [False] * 3 + [True] * 3
    assert bad.tolist() == [False, False, False, True, True, False]


def test_list_is_tidied_never_bad():
    out, bad = run("list", ["A;B", " A ; ; B ;", "A", ";;", "", None])
    assert out == ["A;B", "A;B", "A", None, None, None]
    assert not any(bad)


def test_str_is_stripped_never_bad():
    out, bad = run("str", [" x ", "", "  ", None])
    assert out == ["x", None, None, None]
    assert not any(bad)


def test_enum_is_case_insensitive_and_flags_others():
    out, bad = run("enum:IMPORT|EXPORT", ["import", " EXPORT ", "transit", "", None])
    assert out == ["IMPORT", "EXPORT", None, None, None]
    assert bad == [False, False, True, False, False]


@pytest.mark.parametrize("type_name", ["country", "currency", "date", "month", "hs", "amount", "number", "int",
                                       "list", "str", "enum:A|B"])
def test_checkers_keep_the_index_and_never_flag_blanks(type_name):
    check, _ = checker(type_name)
    s = pd.Series(["", "  ", None, np.nan], dtype=object, index=[7, 3, 5, 1])
    out, bad = check(s)
    assert out.index.equals(s.index) and bad.index.equals(s.index)
    assert out.isna().all()
    assert not bad.any()

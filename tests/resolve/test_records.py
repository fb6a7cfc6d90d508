"""The records entity resolution compares (graphiff.resolve.records): name cores, tax ids, and
one row per loaded record with its identifiers, on both stores."""
from __future__ import annotations

import pandas as pd
import pytest

from graphiff.graph.tables import Tables
from graphiff.resolve.blocking import candidate_pairs
from graphiff.resolve.records import clean_tin, name_core, records
from graphiff.resolve.scoring import name_level, score_pairs
from tests.resolve._resolvekit import MARA, MARA_TIN, evidence_of, load_world

# ---- name cores ------------------------------------------------------------------------------

@pytest.mark.parametrize("spellings, core", [
    (["Mara Legacy Metals Ltd", "MARA LEGACY METALS LIMITED", "Mara Legacy Metal Co.", "mara legacy metals, ltd."],
     "legacy mara metal"),
    (["Müller GmbH & Co. KG", "MULLER GMBH", "Muller"], "muller"),
    (["Summit Acacia Pharma F.Z.E.", "SUMMIT ACACIA PHARMA FZE"], "acacia pharma summit"),
    (["Okello, John", "John Okello", "OKELLO JOHN"], "john okello"),
    (["The Mara Group", "Mara"], "mara"),
])
def test_spellings_of_one_name_share_a_core(spellings, core):
    assert {name_core(s) for s in spellings} == {core}


@pytest.mark.parametrize("name", ["", "LTD", "CO LTD", "Co., Ltd.", "Limited", "-", "...", "   "])
def test_a_name_that_is_only_a_legal_form_or_punctuation_has_no_core(name):
    assert name_core(name) == ""


def test_different_companies_keep_different_cores():
    assert name_core("Mara Legacy Minerals Ltd") == "legacy mara mineral"
    assert name_core("Mara Legacy Minerals Ltd") != name_core("Mara Legacy Metals Ltd")
    # the plural fold leaves short words and double-s endings alone
    assert name_core("Acme Glass") == "acme glass" and name_core("Acme Gas") == "acme gas"


def test_other_scripts_are_transliterated():
    assert name_core("Ελληνική Εταιρεία") == "ellenike etaireia"
    assert name_core("Ромашка") == "romaska"


def test_cyrillic_legal_forms_are_removed_like_latin_ones():
    """"ООО" (and its long form) is the Russian "LLC": the Cyrillic spellings of one company
    share a core, as "OOO Romashka" and "Romashka LLC" do in Latin."""
    cyrillic = {name_core(n) for n in ("ООО Ромашка", "ООО «Ромашка»", "АО Ромашка",
                                       "Общество с ограниченной ответственностью Ромашка")}
    assert cyrillic == {"romaska"}
    assert {name_core("OOO Romashka"), name_core("Romashka LLC")} == {"romashka"}


def test_cyrillic_and_latin_spellings_compare_as_a_typo_and_link_on_a_shared_tax_id():
    """Transliteration gives "romaska" (ш -> s), the Latin spelling "romashka": not one core, so
    the name alone does not pair them, but the two compare as a typo, and with a shared tax id
    they block together and score far above the upper threshold."""
    assert name_level(name_core("ООО Ромашка"), name_core("OOO Romashka"))[0] == "typo"
    recs = pd.DataFrame({"key": ["RU-1", "XX-9"], "name": ["ООО Ромашка", "OOO Romashka"],
                         "core": [name_core("ООО Ромашка"), name_core("OOO Romashka")], "country": ["RU", "RU"],
                         "city": [None, None], "tin": ["7701234567", "7701234567"]})
    pairs, _ = candidate_pairs(recs, "Trader")
    assert pairs[["i", "j", "blocks"]].to_dict("records") == [{"i": 0, "j": 1, "blocks": "tin"}]
    scored = score_pairs(recs, pairs, "Trader")
    assert evidence_of(scored.loc[0, "evidence"])["name"]["match"].startswith("typo")
    assert scored.loc[0, "score"] > 0.99


# ---- tax ids ---------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [None, float("nan"), "", "  ", "0", 0, "00", "000000000", "N/A", "n/a", "NONE",
                                   "unknown", "-", "---", "AAAA", "x"])
def test_tax_ids_that_identify_nobody_are_dropped(value):
    assert clean_tin(value) is None


@pytest.mark.parametrize("value, clean", [(" p051-234 567x ", "P051234567X"), ("P051234567X", "P051234567X"),
                                          ("UG 1000 222 333", "UG1000222333"), ("A1", "A1"),
                                          ("123456789", "123456789")])
def test_tax_ids_compare_upper_case_without_separators(value, clean):
    assert clean_tin(value) == clean


# ---- records of a loaded store ---------------------------------------------------------------

PEOPLE_AND_ACCOUNTS = {
    "traders": [{"trader_id": "KE-1", "name": "Kilima Copper Ltd", "country": "KE"}],
    "persons": [
        {"person_id": "P-7", "name": "Dennis S. Garcia", "birth_date": "1971-04-02", "nationality": "US",
         "passport_no": "  e123 456 ", "email": "D.Garcia@Example.org"},
        {"person_id": "P-8", "name": "GARCIA Dennis", "birth_date": "1971-04-02", "nationality": "USA",
         "passport_no": "N/A"},
    ],
    "accounts": [
        {"account_id": "DE89 3704 0044 0532 0130 00", "holder_id": "KE-1", "bic": "COBADEFFXXX"},
        {"account_id": "KE-0001", "holder_id": "KE-1", "bank_country": "KE"},
    ],
}


def test_trader_records_carry_normalised_identifiers(store, tmp_path):
    load_world(store, tmp_path, MARA)
    recs = records(Tables(store, resolved=False), "Trader").set_index("key")
    assert {"partner", "name", "core", "country", "city", "tin", "address", "phone", "email", "accounts",
            "officers"} <= set(recs.columns)
    assert len(recs) == len(MARA["traders"])
    mara = recs.loc[["KE-100", "UG-88231", "TZ-0042"]]
    assert list(mara["core"]) == ["legacy mara metal"] * 3
    assert list(mara["tin"].iloc[:2]) == [MARA_TIN, MARA_TIN]        # "p051100200k" read upper case
    assert pd.isna(mara.loc["TZ-0042", "tin"])
    assert mara.loc["KE-100", "phone"] == mara.loc["TZ-0042", "phone"] == "+254700111222"
    assert mara.loc["KE-100", "city"] == "nairobi"
    assert "moi avenue" in mara.loc["KE-100", "address"].lower()
    assert not recs["partner"].any()
    for junk in ("J-1", "J-2", "J-3", "J-4"):
        assert pd.isna(recs.loc[junk, "tin"]), junk
    for empty in ("LF-1", "LF-2", "EN-1", "EN-2"):
        assert recs.loc[empty, "core"] == "", empty


def test_person_and_account_records(store, tmp_path):
    load_world(store, tmp_path, PEOPLE_AND_ACCOUNTS)
    raw = Tables(store, resolved=False)
    people = records(raw, "Person").set_index("key")
    # initials say nothing about a person: both spellings have one core of two words
    assert people.loc["P-7", "core"] == people.loc["P-8", "core"] and len(people.loc["P-7", "core"].split()) == 2
    assert list(people["birth_date"]) == ["1971-04-02", "1971-04-02"]
    assert list(people["country"]) == ["US", "US"]
    assert people.loc["P-7", "passport"] == "E123456" and pd.isna(people.loc["P-8", "passport"])
    assert people.loc["P-7", "email"] == "d.garcia@example.org"
    accounts = records(raw, "BankAccount").set_index("key")
    iban = accounts.loc["DE89370400440532013000"]
    assert iban["number"] == "370400440532013000"       # the national part of the IBAN
    assert iban["bank_country"] == "DE"                 # read from the IBAN when not given
    assert iban["bic"] == "COBADEFF" and iban["holder"] == "KE-1"
    local = accounts.loc["KE-0001"]
    assert local["number"] == "KE-0001" and local["bank_country"] == "KE"
    traders = records(raw, "Trader").set_index("key")
    assert set(traders.loc["KE-1", "accounts"].split(";")) == {"DE89370400440532013000", "KE-0001"}


def test_records_of_an_empty_store(store):
    for label in ("Trader", "Person", "Carrier", "BankAccount"):
        recs = records(Tables(store, resolved=False), label)
        assert len(recs) == 0 and "key" in recs.columns

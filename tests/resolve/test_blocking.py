"""Candidate pairs (graphiff.resolve.blocking): which records are compared at all. Each table
below is hand-made; the pairs expected are listed by row position."""
from __future__ import annotations

import pandas as pd

from graphiff.resolve.blocking import candidate_pairs, value_counts
from graphiff.resolve.records import name_core


def traders(rows: list[dict]) -> pd.DataFrame:
    """Trader records as :func:`graphiff.resolve.records.records` makes them: every field
    present (None when missing), the core made from the name."""
    fields = ("key", "name", "country", "city", "tin", "address", "phone", "email", "accounts", "officers")
    out = pd.DataFrame([{f: r.get(f) for f in fields} for r in rows])
    out["key"] = [r.get("key", f"R{n}") for n, r in enumerate(rows)]
    out["core"] = [name_core(n) if isinstance(n, str) else "" for n in out["name"]]
    return out


def found(recs: pd.DataFrame, label: str = "Trader", **kw) -> dict[tuple[int, int], str]:
    pairs, _ = candidate_pairs(recs, label, **kw)
    return {(int(i), int(j)): b for i, j, b in zip(pairs["i"], pairs["j"], pairs["blocks"])}


def test_each_shared_identifier_makes_a_pair_naming_what_was_shared():
    recs = traders([
        {"name": "Alpha", "tin": "P1", "phone": "+1", "email": "a@x"},
        {"name": "Beta", "tin": "P1"},
        {"name": "Gamma", "phone": "+1"},
        {"name": "Delta", "email": "a@x", "address": "1 MAIN ST"},
        {"name": "Epsilon", "address": "1 MAIN ST", "accounts": "KE01;KE02"},
        {"name": "Zeta", "accounts": "KE02"},
        {"name": "Eta"},
    ])
    assert found(recs) == {(0, 1): "tin", (0, 2): "phone", (0, 3): "email", (3, 4): "address", (4, 5): "accounts"}


def test_a_shared_officer_makes_a_pair():
    recs = traders([{"name": "Alpha", "officers": "P7;P8"}, {"name": "Beta", "officers": "P8"},
                    {"name": "Gamma", "officers": "P9"}])
    assert found(recs) == {(0, 1): "officers"}


def test_several_shared_values_are_listed_once_per_kind():
    recs = traders([{"name": "Mara Legacy Metals Ltd", "country": "KE", "tin": "P1", "phone": "+1"},
                    {"name": "MARA LEGACY METALS LIMITED", "country": "KE", "tin": "P1", "phone": "+1"}])
    assert found(recs) == {(0, 1): "tin,phone,name"}


def test_a_value_shared_by_more_than_max_block_records_makes_no_pair():
    many = traders([{"name": f"Company {n:02d}", "country": ["KE", "UG", "TZ"][n % 3], "tin": "123456789",
                     "city": f"c{n}"} for n in range(21)])
    pairs, skipped = candidate_pairs(many, "Trader", max_block=20)
    assert len(pairs) == 0 and skipped == {"tin": 1}
    # at max_block it is still a block: every pair of the 20
    pairs, skipped = candidate_pairs(many.iloc[:20].reset_index(drop=True), "Trader", max_block=20)
    assert len(pairs) == 20 * 19 // 2 and set(pairs["blocks"]) == {"tin"} and skipped == {}
    # and max_block moves the line
    assert len(candidate_pairs(many, "Trader", max_block=21)[0]) == 21 * 20 // 2


def test_names_block_on_their_core_and_on_the_core_minus_one_word_in_one_country():
    recs = traders([
        {"name": "Mara Legacy Metals Ltd", "country": "KE"},       # 0
        {"name": "MARA LEGACY METALS LIMITED", "country": "UG"},   # 1: the same core, another country
        {"name": "Mara Legacy Minerals Ltd", "country": "KE"},     # 2: one word off, same country
        {"name": "Mara Legacy Minerals Ltd", "country": "TZ"},     # 3: one word off from 0, other country
        {"name": "Legacy Metals", "country": "KE"},                # 4: one word dropped, same country
        {"name": "Nyota Coffee", "country": "KE"},                 # 5: nothing in common
    ])
    got = found(recs)
    assert got[(0, 1)] == "name"                               # an equal core pairs in any country
    assert got[(0, 2)] == "name" and got[(0, 4)] == "name"     # one word off, one country
    assert got[(2, 3)] == "name"                               # equal cores again
    assert (0, 3) not in got and (1, 2) not in got             # one word off across countries: no pair
    assert not any(5 in p for p in got)


def test_legal_form_only_and_empty_names_make_no_name_block():
    recs = traders([{"name": "LTD", "country": "KE", "city": "nairobi"},
                    {"name": "CO LTD", "country": "KE", "city": "mombasa"},
                    {"name": "-", "country": "KE"}, {"name": "...", "country": "KE"},
                    {"name": None, "country": "KE"}, {"name": "", "country": "KE"}])
    assert set(recs["core"]) == {""}
    assert found(recs) == {}


def test_persons_block_names_with_their_birth_date():
    people = pd.DataFrame({
        "key": ["P1", "P2", "P3", "P4"],
        "core": [name_core(n) for n in ("John Kamau Mwangi", "John Kamau", "John Kamau", "Mary Wanjiru")],
        "country": ["KE"] * 4,
        "birth_date": ["1980-01-01", "1980-01-01", "1975-06-30", "1980-01-01"],
        "tin": [None] * 4,
    })
    got = found(people, "Person")
    assert got == {(0, 1): "name", (1, 2): "name"}     # P1/P3: one word off, but other birth dates


def test_accounts_block_on_their_national_number_only():
    accounts = pd.DataFrame({"key": ["DE89370400440532013000", "370400440532013000", "KE-0001"],
                             "number": ["370400440532013000", "370400440532013000", "KE-0001"],
                             "holder": ["T1", "T2", "T1"], "core": ["", "", ""]})
    assert found(accounts, "BankAccount") == {(0, 1): "number"}


def test_one_record_makes_no_pair():
    pairs, skipped = candidate_pairs(traders([{"name": "Solo", "tin": "P1", "phone": "+1"}]), "Trader")
    assert len(pairs) == 0 and skipped == {}
    assert list(pairs.columns) == ["i", "j", "blocks"]


def test_value_counts_count_records_not_mentions():
    recs = traders([{"name": "A", "phone": "+1;+2"}, {"name": "B", "phone": "+1"}, {"name": "C", "phone": "+1;+1"},
                    {"name": "D", "phone": ""}])
    assert value_counts(recs, "phone") == {"+1": 3, "+2": 1}
    assert value_counts(recs, "email") == {}

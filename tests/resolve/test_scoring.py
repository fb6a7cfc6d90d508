"""Scoring candidate pairs (graphiff.resolve.scoring): name levels, the weights each field
gives, the score as the match probability of the summed log-odds, and the evidence an analyst
reads. The records are hand-made tables in the shape of graphiff.resolve.records.records."""
from __future__ import annotations

import pandas as pd
import pytest

from graphiff.resolve.blocking import candidate_pairs
from graphiff.resolve.records import name_core
from graphiff.resolve.scoring import Weights, name_level, score_pairs
from tests.resolve._resolvekit import evidence_of

W = Weights()
FIELDS = ("key", "name", "country", "city", "tin", "address", "phone", "email", "accounts", "officers")


def recs(rows: list[dict], label: str = "Trader") -> pd.DataFrame:
    fields = FIELDS + (("birth_date",) if label == "Person" else ())
    out = pd.DataFrame([{f: r.get(f) for f in fields} for r in rows])
    out["core"] = [name_core(n) if isinstance(n, str) else "" for n in out["name"]]
    return out


def score_all(r: pd.DataFrame, label: str = "Trader", **kw) -> dict[tuple[str, str], dict]:
    """Every candidate pair's score, total and evidence by ``(a, b)`` keys."""
    pairs, _ = candidate_pairs(r, label, max_block=kw.get("max_block", 20))
    s = score_pairs(r, pairs, label, **kw)
    return {(a, b): {"score": sc, "total": t, "evidence": evidence_of(e)}
            for a, b, sc, t, e in zip(s["a"], s["b"], s["score"], s["total"], s["evidence"])}


# ---- name levels -----------------------------------------------------------------------------

@pytest.mark.parametrize("a, b, level", [
    ("legacy mara metal", "legacy mara metal", "equal"),
    ("legacy mara metla", "legacy mara metal", "typo"),          # one word a letter off
    ("fishereis ziwa", "fisherie ziwa", "typo"),
    ("romaska", "romashka", "typo"),                             # a transliteration's lost letter
    ("coffee exporter nyota", "coffee nyota", "subset"),         # a dropped word
    ("freight mombasa", "freightmombasa", "similar"),            # words run together
    ("legacy mara metal", "legacy mara mineral", "different"),   # another company next door
    ("aaaa bbbb cccc dddd", "aaaa bbbb cccc ddde", "different"),  # a letter in a short word is a new word
    ("kilima copper", "", "missing"),
    ("", "", "missing"),
])
def test_name_levels(a, b, level):
    assert name_level(a, b)[0] == level
    assert name_level(b, a)[0] == level
    assert 0.0 <= name_level(a, b)[1] <= 100.0


def test_a_single_shared_word_is_no_subset():
    assert name_level("mara", "legacy mara metal")[0] != "subset"


# ---- scores and evidence ---------------------------------------------------------------------

def test_score_is_the_probability_of_the_summed_weights_and_the_evidence_shows_each():
    r = recs([{"key": "KE-100", "name": "Mara Legacy Metals Ltd", "country": "KE", "city": "nairobi", "tin": "P1",
               "phone": "+254700111222"},
              {"key": "UG-88231", "name": "MARA LEGACY METALS LIMITED", "country": "KE", "city": "nairobi",
               "tin": "P1"}])
    got = score_all(r)
    assert list(got) == [("KE-100", "UG-88231")]
    p = got[("KE-100", "UG-88231")]
    ev = p["evidence"]
    expected = W.prior + W.name_equal + W.tin_equal + W.country_equal + W.city_equal
    assert p["total"] == pytest.approx(expected)
    assert p["score"] == pytest.approx(1 / (1 + 2 ** -expected), abs=1e-4)
    assert ev["blocked_on"] == "tin,name"
    assert ev["name"] == {"a": "Mara Legacy Metals Ltd", "b": "MARA LEGACY METALS LIMITED", "match": "equal",
                          "weight": W.name_equal}
    assert ev["tin"] == {"a": "P1", "b": "P1", "match": "equal", "weight": W.tin_equal}
    assert ev["country"]["match"] == ev["city"]["match"] == "equal"
    assert "phone" not in ev and "email" not in ev          # one side has none: nothing to say
    assert ev["prior"] == W.prior and ev["total"] == pytest.approx(expected)
    fields = [k for k, v in ev.items() if isinstance(v, dict)]
    assert sum(ev[k]["weight"] for k in fields) + ev["prior"] == pytest.approx(ev["total"])


def test_keys_are_ordered_whatever_the_row_order():
    r = recs([{"key": "Z9", "name": "Tausi Hardware", "country": "KE"}, {"key": "A1", "name": "Tausi Hardware",
                                                                       "country": "KE"}])
    (a, b), = score_all(r)
    assert (a, b) == ("A1", "Z9")


def test_disagreeing_tax_ids_and_names_sink_a_pair_next_door():
    r = recs([{"key": "KE-100", "name": "Mara Legacy Metals Ltd", "country": "KE", "city": "nairobi", "tin": "P1"},
              {"key": "KE-200", "name": "Mara Legacy Minerals Ltd", "country": "KE", "city": "nairobi", "tin": "P2"}])
    p = score_all(r)[("KE-100", "KE-200")]
    assert p["evidence"]["tin"]["match"] == "different" and p["evidence"]["tin"]["weight"] == W.tin_different
    assert p["evidence"]["name"]["match"].startswith("different")
    assert p["score"] < 0.01


def test_a_placeholder_tax_id_is_no_evidence_on_either_side():
    rows = [{"key": f"PH-{n:02d}", "name": f"Company {chr(65 + n)}{chr(70 + n)}", "country": "KE",
             "tin": "123456789", "city": f"c{n}"} for n in range(21)]
    rows[0]["phone"] = rows[1]["phone"] = "+254722000999"
    rows.append({"key": "Q-1", "name": "Quelea Ltd", "country": "KE", "tin": "P777", "phone": "+254722000999"})
    got = score_all(recs(rows))
    both = got[("PH-00", "PH-01")]["evidence"]
    assert both["tin"]["match"] == "a placeholder shared by 21 records: ignored" and both["tin"]["weight"] == 0
    assert both["phone"] == {"a": "+254722000999", "b": "+254722000999", "match": "equal", "weight": W.phone_equal}
    one_side = got[("PH-00", "Q-1")]["evidence"]      # a placeholder against a real tax id: not a disagreement
    assert one_side["tin"]["match"].startswith("a placeholder") and one_side["tin"]["weight"] == 0


def test_an_identifier_shared_by_too_many_records_gives_no_weight():
    rows = [{"key": f"R{n:02d}", "name": f"Client{n} Holdings{n}", "country": "KE", "address": "1 AGENT HOUSE",
             "email": "x@agent.example" if n < 2 else None} for n in range(25)]
    got = score_all(recs(rows))
    assert list(got) == [("R00", "R01")]               # only the shared email makes a pair
    ev = got[("R00", "R01")]["evidence"]
    assert ev["email"]["match"] == "equal" and ev["email"]["weight"] == W.email_equal
    assert ev["address"]["match"] == "shared by 25 records: ignored" and ev["address"]["weight"] == 0


def test_lists_of_identifiers_agree_when_they_share_one():
    r = recs([{"key": "A", "name": "Kilima Copper", "country": "KE", "phone": "+1;+2"},
              {"key": "B", "name": "Kilima Copper", "country": "KE", "phone": "+2;+3"},
              {"key": "C", "name": "Kilima Copper", "country": "KE", "phone": "+4"}])
    got = score_all(r)
    assert got[("A", "B")]["evidence"]["phone"]["match"] == "equal"
    assert got[("A", "C")]["evidence"]["phone"]["match"] == "different"
    assert got[("A", "C")]["evidence"]["phone"]["weight"] == 0        # another phone is no evidence against
    assert got[("A", "B")]["total"] - got[("A", "C")]["total"] == pytest.approx(W.phone_equal)


def test_persons_with_a_common_name_and_other_birth_dates_do_not_match():
    r = recs([{"key": "P-1", "name": "John Kamau", "country": "KE", "birth_date": "1980-01-01"},
              {"key": "P-2", "name": "John Kamau", "country": "KE", "birth_date": "1975-06-30"},
              {"key": "P-3", "name": "KAMAU John", "country": "KE", "birth_date": "1980-01-01"}], "Person")
    got = score_all(r, "Person")
    apart = got[("P-1", "P-2")]
    assert apart["evidence"]["birth_date"] == {"a": "1980-01-01", "b": "1975-06-30", "match": "different",
                                               "weight": W.birth_different}
    assert apart["score"] < 0.5
    same = got[("P-1", "P-3")]
    assert same["evidence"]["birth_date"]["match"] == "equal" and same["score"] > 0.9


def test_accounts_compare_numbers_bank_countries_and_holders():
    r = pd.DataFrame({"key": ["DE89370400440532013000", "370400440532013000"],
                      "number": ["370400440532013000", "370400440532013000"], "bank_country": ["DE", "DE"],
                      "bic": ["COBADEFF", None], "holder": ["T1", "T2"], "core": ["", ""],
                      "name": ["DE89370400440532013000", "370400440532013000"]})
    p = score_all(r, "BankAccount")[("370400440532013000", "DE89370400440532013000")]
    ev = p["evidence"]
    assert ev["number"]["match"] == "equal" and ev["holder"]["match"] == "different"
    assert "bic" not in ev
    expected = W.prior + W.number_equal + W.bank_country_equal + W.holder_different
    assert p["total"] == pytest.approx(expected)


def test_weights_can_be_changed():
    r = recs([{"key": "A", "name": "Tausi Hardware", "country": "KE", "city": "thika"},
              {"key": "B", "name": "Tausi Hardware", "country": "KE", "city": "machakos"}])
    base = score_all(r)[("A", "B")]["total"]
    harsh = score_all(r, weights=Weights(city_different=-12.0))[("A", "B")]
    assert harsh["total"] == pytest.approx(base - 10.0)
    assert harsh["evidence"]["city"]["weight"] == -12.0


def test_no_pairs_no_rows():
    r = recs([{"key": "A", "name": "Solo"}])
    pairs, _ = candidate_pairs(r, "Trader")
    out = score_pairs(r, pairs, "Trader")
    assert len(out) == 0 and {"a", "b", "score", "total", "evidence"} <= set(out.columns)

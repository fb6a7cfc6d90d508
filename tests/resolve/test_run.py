"""``graphiff resolve`` as a library (graphiff.resolve.run) on both stores: what a run links,
what it never links, how the thresholds sort pairs, how analysts' judgements take effect and
survive re-runs, and what a re-run keeps, replaces and deletes. The worlds are in
tests/resolve/_resolvekit.py (MARA, REVIEW)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from graphiff.errors import GraphiffError, NotFound
from graphiff.graph.tables import Tables
from graphiff.resolve.run import current_resolution, judge, pairs, resolve, score_label
from tests.resolve._resolvekit import (
    MARA,
    MARA_CLUSTER,
    MARA_TIN,
    REVIEW,
    REVIEW_PAIRS,
    evidence_of,
    load_world,
    pair,
    same_as,
    trader,
)

KE100_UG = pair("KE-100", "UG-88231")      # the same tax id (and name)
KE100_TZ = pair("KE-100", "TZ-0042")       # the same phone (and name)
TZ_UG = pair("TZ-0042", "UG-88231")        # the name only
DECOYS = {"KE-200", "J-1", "J-2", "J-3", "J-4", "LF-1", "LF-2", "EN-1", "EN-2",
          *(f"PH-{n:02d}" for n in range(1, 31))}


@pytest.fixture
def mara(store, tmp_path):
    return load_world(store, tmp_path, MARA)


@pytest.fixture
def review(store, tmp_path):
    return load_world(store, tmp_path, REVIEW, "review")


def statuses(store) -> dict[tuple[str, str], str]:
    return {k: str(r["status"]) for k, r in same_as(store).items()}


def recent(stamp: object) -> bool:
    """An ISO timestamp of the last minutes."""
    at = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    return abs(datetime.now(timezone.utc) - at) < timedelta(minutes=10)


# ---- 1. one company under three ids ------------------------------------------------------------

def test_one_company_under_three_ids_and_spellings_is_one_cluster(mara):
    summary = resolve(mara)
    assert current_resolution(mara).clusters("Trader") == [MARA_CLUSTER]
    t = summary["labels"]["Trader"]
    assert (t["records"], t["linked"], t["review"], t["clusters"], t["largest_cluster"]) == (
        len(MARA["traders"]), 3, 0, 1, 3)
    rels = same_as(mara)
    # the three pairs all scored above the threshold; the run writes the two strongest, which
    # make the cluster (a spanning forest): the third is implied
    assert set(rels) == {KE100_UG, KE100_TZ} and t["written"] == 2
    for key, r in rels.items():
        assert r["status"] == "linked", key
        assert 0.9 <= float(r["score"]) <= 1.0
        assert (r["method"], r["version"], r["decided_by"]) == ("graphiff-resolve", "1", "graphiff resolve")
        assert recent(r["decided_at"]) and str(r["decided_at"]) == str(r["_loaded_at"])
        assert r["_source"] == "graphiff resolve" and r["_load_id"] == summary["run_id"]
        assert (r["src_label"], r["dst_label"]) == ("Trader", "Trader")
    tin = evidence_of(rels[KE100_UG]["evidence"])
    assert tin["tin"] == {"a": MARA_TIN, "b": MARA_TIN, "match": "equal", "weight": tin["tin"]["weight"]}
    assert tin["tin"]["weight"] > 0 and tin["name"]["match"] == "equal" and "tin" in tin["blocked_on"]
    phone = evidence_of(rels[KE100_TZ]["evidence"])
    assert phone["phone"]["match"] == "equal" and phone["phone"]["a"] == "+254700111222"
    assert "tin" not in phone                                   # TZ-0042 has none: nothing said
    scored, _ = score_label(Tables(mara, resolved=False), "Trader")
    by_pair = {(r["a"], r["b"]): r for r in scored.to_dict("records")}
    name_only = evidence_of(by_pair[TZ_UG]["evidence"])
    assert name_only["name"]["match"] == "equal" and name_only["blocked_on"] == "name"
    assert not {"tin", "phone", "address"} & set(name_only)
    # the strongest evidence scores highest
    assert float(rels[KE100_UG]["score"]) > float(rels[KE100_TZ]["score"]) > float(by_pair[TZ_UG]["score"]) >= 0.9


def test_the_resolved_view_reads_the_cluster_as_one_trader(mara):
    resolve(mara)
    traders = Tables(mara).nodes("Trader").set_index("key")
    assert "UG-88231" not in traders.index and "TZ-0042" not in traders.index
    assert traders.loc["KE-100", "aliases"] == "TZ-0042; UG-88231"
    assert set(traders.loc["KE-100", "alias_names"].split("; ")) == {"MARA LEGACY METALS LIMITED",
                                                                     "Mara Legacy Metal Co."}
    assert len(traders) == len(MARA["traders"]) - 2


# ---- 2. decoys ------------------------------------------------------------------------------

def test_decoys_never_link(mara):
    summary = resolve(mara)
    touched = {k for key in same_as(mara) for k in key}
    assert not touched & DECOYS, sorted(touched & DECOYS)
    assert not touched & {"P-1", "P-2"}
    assert summary["labels"]["Person"]["linked"] == summary["labels"]["Person"]["review"] == 0
    assert summary["labels"]["Trader"]["too_common"] == {"tin": 1}        # the placeholder tax id
    res = current_resolution(mara)
    assert res.clusters("Trader") == [MARA_CLUSTER] and res.clusters("Person") == []


def test_decoy_pairs_are_scored_and_their_evidence_says_why_they_stay_apart(mara):
    scored, info = score_label(Tables(mara, resolved=False), "Trader")
    by = {(a, b): (float(s), evidence_of(e)) for a, b, s, e in zip(scored["a"], scored["b"], scored["score"],
                                                                  scored["evidence"])}
    # the placeholder tax id blocked nothing; the two companies sharing it and a phone were compared
    assert info["too_common"] == {"tin": 1}
    score, ev = by[("PH-01", "PH-02")]
    assert ev["tin"]["match"] == "a placeholder shared by 30 records: ignored" and ev["tin"]["weight"] == 0
    assert ev["phone"]["match"] == "equal" and ev["blocked_on"] == "phone" and score < 0.5
    assert not any(a.startswith("PH-") and b.startswith("PH-") and (a, b) != ("PH-01", "PH-02") for a, b in by)
    # the minerals company next door: another tax id and another name
    score, ev = by[("KE-100", "KE-200")]
    assert ev["tin"]["match"] == "different" and ev["name"]["match"].startswith("different") and score < 0.01
    # junk tax ids, legal-form-only and empty names pair with nothing
    assert not any({a, b} & {"J-1", "J-2", "J-3", "J-4", "LF-1", "LF-2", "EN-1", "EN-2"} for a, b in by)
    people, _ = score_label(Tables(mara, resolved=False), "Person")
    (score,) = people["score"]
    ev = evidence_of(people["evidence"].iloc[0])
    assert ev["name"]["match"] == "equal" and ev["birth_date"]["match"] == "different" and score < 0.5


def test_an_account_held_under_two_ids_of_one_company_links(store, tmp_path):
    """One account, written as an IBAN by one administration and as its national number by
    another, each naming the holder by its own id for the company (KE-100, UG-88231): the run
    that joins the two ids compares the holders as that one entity."""
    load_world(store, tmp_path, {"traders": MARA["traders"][:3], "accounts": [
        {"account_id": "DE89 3704 0044 0532 0130 00", "holder_id": "KE-100", "bank_country": "DE"},
        {"account_id": "370400440532013000", "holder_id": "UG-88231", "bank_country": "DE"},
        {"account_id": "KE-ACC-1", "holder_id": "KE-100", "bank_country": "KE"}]})
    resolve(store)
    rel = same_as(store)[pair("370400440532013000", "DE89370400440532013000")]
    ev = evidence_of(rel["evidence"])
    assert ev["number"]["match"] == "equal" and ev["holder"]["match"] == "equal", ev
    assert rel["status"] == "linked"
    # the same national number in another country's bank, held by another company, stays apart
    load_world(store, tmp_path, {"traders": [MARA["traders"][3]], "accounts": [
        {"account_id": "GB29370400440532013000", "holder_id": "KE-200"}]}, "more")
    resolve(store, labels=["BankAccount"])
    assert current_resolution(store).clusters("BankAccount") == [["370400440532013000", "DE89370400440532013000"]]
    assert same_as(store)[pair("370400440532013000", "DE89370400440532013000")]["status"] == "linked"


def test_an_analysts_confirmation_counts_for_the_holders_of_accounts(store, tmp_path):
    """PH-01 and PH-02 (here without their placeholder tax id) score too low to link, but an
    analyst confirmed them: the account each holds (an IBAN and its national number) is one
    account of one holder."""
    ph = [{k: v for k, v in t.items() if k != "tin"} for t in MARA["traders"] if t["trader_id"] in ("PH-01", "PH-02")]
    load_world(store, tmp_path, {"traders": ph, "accounts": [
        {"account_id": "DE89370400440532013000", "holder_id": "PH-01"},
        {"account_id": "370400440532013000", "holder_id": "PH-02", "bank_country": "DE"}]})
    account_pair = pair("370400440532013000", "DE89370400440532013000")
    resolve(store)
    assert evidence_of(same_as(store)[account_pair]["evidence"])["holder"]["match"] == "different"
    assert same_as(store)[account_pair]["status"] == "review"
    judge(store, "Trader", "PH-01", "PH-02", "confirm", user="bob")
    resolve(store)
    assert evidence_of(same_as(store)[account_pair]["evidence"])["holder"]["match"] == "equal"
    assert same_as(store)[account_pair]["status"] == "linked"


# ---- 3. thresholds and 6. re-runs ------------------------------------------------------------

LOOK_ALIKES = [("Eastern Cargo Ltd", "Western Cargo Ltd"), ("Sunrise Foods Ltd", "Sunset Foods Ltd"),
               ("Austral Mining Ltd", "Australia Mining Ltd"), ("Blue Ocean Shipping Ltd", "Blue Ocean Shopping Ltd"),
               ("Jambo Textiles Ltd", "Jumbo Textiles Ltd"), ("Northern Star Ltd", "Southern Star Ltd")]


def test_look_alike_names_alone_never_link(store, tmp_path):
    # two companies in one city whose names differ by a word or a letter, nothing else known:
    # at most an analyst's question, never one entity
    rows = [trader(f"{side}{n}", name, city="Nairobi") for n, names in enumerate(LOOK_ALIKES)
            for side, name in zip("AB", names)]
    load_world(store, tmp_path, {"traders": rows})
    summary = resolve(store)
    assert summary["labels"]["Trader"]["linked"] == 0
    assert current_resolution(store).clusters("Trader") == []
    assert set(statuses(store).values()) <= {"review"}


def test_a_misspelling_that_the_entitys_other_records_back_up_links(store, tmp_path):
    # two administrations agree (same tax id); a third misspells the name and gives nothing else:
    # its candidate pairs all lead into that one entity, through both records, so it joins it
    rows = [trader("KE-1", "Ziwa Fisheries Ltd", tin="P051111111X", city="Kisumu"),
            trader("UG-1", "ZIWA FISHERIES LIMITED", tin="P051111111X"),
            trader("TZ-1", "Ziwa Fishereis Ltd")]
    load_world(store, tmp_path, {"traders": rows})
    resolve(store)
    assert current_resolution(store).clusters("Trader") == [["KE-1", "TZ-1", "UG-1"]]
    support = [evidence_of(r["evidence"]) for k, r in same_as(store).items() if "TZ-1" in k]
    assert len(support) == 1 and "support" in support[0] and support[0]["name"]["match"].startswith("typo")
    # alone, the misspelt record would only be a question
    load_world(store, tmp_path, {"traders": [trader("KE-2", "Kivu Fisheries Ltd"),
                                             trader("TZ-2", "Kivu Fishereis Ltd")]}, name="alone")
    resolve(store)
    assert current_resolution(store).of("Trader", "TZ-2") == "TZ-2"
    assert statuses(store)[pair("KE-2", "TZ-2")] == "review"


def test_thresholds_move_pairs_between_linked_review_and_dropped(mara):
    s = resolve(mara)
    # all three pairs link; the two strongest make the cluster and are written (the third is implied)
    assert statuses(mara) == {KE100_UG: "linked", KE100_TZ: "linked"}
    assert (s["labels"]["Trader"]["linked"], s["labels"]["Trader"]["written"]) == (3, 2)
    scored, _ = score_label(Tables(mara, resolved=False), "Trader")
    name_only = float(scored.set_index(["a", "b"]).loc[TZ_UG, "score"])
    assert 0.9 < name_only < 0.99 < float(same_as(mara)[KE100_TZ]["score"])
    s = resolve(mara, upper=0.99)
    # the name-only pair now scores for review, but both records already join KE-100: one entity,
    # nothing for an analyst to decide, so it is not queued
    assert statuses(mara) == {KE100_UG: "linked", KE100_TZ: "linked"}
    assert (s["labels"]["Trader"]["linked"], s["labels"]["Trader"]["review"]) == (2, 0)
    assert pairs(mara, status=["review"]).empty
    # still one cluster: both records link to KE-100
    assert current_resolution(mara).clusters("Trader") == [MARA_CLUSTER]
    # a pair no longer kept is deleted
    s = resolve(mara, upper=0.99, lower=0.96)
    assert statuses(mara) == {KE100_UG: "linked", KE100_TZ: "linked"}
    assert s["labels"]["Trader"]["dropped"] >= 1 and s["labels"]["Trader"]["review"] == 0
    resolve(mara)   # back to the defaults: the name-only pair links again, implied by the other two
    assert statuses(mara) == {KE100_UG: "linked", KE100_TZ: "linked"}
    assert current_resolution(mara).clusters("Trader") == [MARA_CLUSTER]


def test_impossible_runs_are_refused_before_writing(mara):
    for kw, message in (({"lower": 0.95, "upper": 0.9}, "lower <= upper"), ({"lower": 0.0}, "0 < lower"),
                        ({"upper": 1.5}, "upper <= 1"), ({"labels": ["Declaration"]}, "cannot resolve 'Declaration'")):
        with pytest.raises(GraphiffError, match=message) as exc:
            resolve(mara, **kw)
        assert "\n" not in str(exc.value), kw
    assert same_as(mara) == {}


def test_a_re_run_is_idempotent(mara, review):
    resolve(mara)
    first = {k: (r["status"], float(r["score"]), evidence_of(r["evidence"])) for k, r in same_as(mara).items()}
    clusters = current_resolution(mara).clusters("Trader")
    for _ in range(2):
        resolve(mara)
        again = {k: (r["status"], float(r["score"]), evidence_of(r["evidence"])) for k, r in same_as(mara).items()}
        assert again == first
        assert current_resolution(mara).clusters("Trader") == clusters
    assert len(Tables(mara, resolved=False).rels("SAME_AS")) == len(first) == 2 + len(REVIEW_PAIRS)


def test_one_label_at_a_time_leaves_the_others_alone(mara):
    resolve(mara)
    before = same_as(mara)
    s = resolve(mara, labels=["Person"], upper=0.99, lower=0.98)
    assert list(s["labels"]) == ["Person"]
    assert same_as(mara).keys() == before.keys()


# ---- 4. judgements ----------------------------------------------------------------------------

def test_reject_separates_at_once_and_stays_apart_though_a_third_record_links_both(mara):
    resolve(mara)
    out = judge(mara, "Trader", "UG-88231", "KE-100", "reject", user="alice", note="two firms, one tax id typo")
    assert (out["a"], out["b"], out["status"], out["decided_by"]) == ("KE-100", "UG-88231", "rejected", "alice")
    assert out["same_entity"] is False and recent(out["decided_at"])
    # TZ-0042 links to both; the rejection keeps KE-100 and UG-88231 in separate entities
    res = current_resolution(mara)
    assert res.of("Trader", "KE-100") != res.of("Trader", "UG-88231")
    assert res.clusters("Trader") == [["KE-100", "TZ-0042"]]
    for _ in range(2):
        s = resolve(mara)
        rel = same_as(mara)[KE100_UG]
        assert (rel["status"], rel["decided_by"], str(rel["decided_at"])) == ("rejected", "alice", out["decided_at"])
        assert rel["note"] == "two firms, one tax id typo"
        assert current_resolution(mara).clusters("Trader") == [["KE-100", "TZ-0042"]]
        assert s["labels"]["Trader"]["judged"] == 1
        assert (s["labels"]["Trader"]["linked"], s["labels"]["Trader"]["clusters"]) == (2, 1)


def test_confirm_links_a_dropped_pair_for_good(mara):
    resolve(mara)
    assert pair("PH-01", "PH-02") not in same_as(mara)              # scored below --lower: dropped
    out = judge(mara, "Trader", "PH-02", "PH-01", "confirm", user="bob")
    assert out["same_entity"] is True and out["status"] == "confirmed" and out["resolved_id"] == "PH-01"
    rel = same_as(mara)[pair("PH-01", "PH-02")]
    assert (rel["status"], rel["decided_by"], rel["method"]) == ("confirmed", "bob", "analyst")
    assert float(rel["score"]) == 1.0                               # no run proposed it
    for kw in ({}, {"upper": 0.99, "lower": 0.98}):
        resolve(mara, **kw)
        assert statuses(mara)[pair("PH-01", "PH-02")] == "confirmed"
        assert ["PH-01", "PH-02"] in current_resolution(mara).clusters("Trader")


def test_unsure_is_not_linked_and_not_asked_again(review):
    resolve(review)
    c = pair(*REVIEW_PAIRS[2])
    assert statuses(review)[c] == "review"
    out = judge(review, "Trader", *REVIEW_PAIRS[2], "unsure", user="carol")
    assert out["status"] == "unsure" and out["same_entity"] is False
    queue = pairs(review, status=["review"])
    assert c not in set(zip(queue["a"], queue["b"])) and len(queue) == len(REVIEW_PAIRS) - 1
    resolve(review)
    rel = same_as(review)[c]
    assert (rel["status"], rel["decided_by"]) == ("unsure", "carol") and recent(rel["decided_at"])
    assert c not in set(zip(pairs(review, status=["review"])["a"], pairs(review, status=["review"])["b"]))
    assert current_resolution(review).clusters("Trader") == []


def test_a_judged_pair_is_kept_when_a_run_no_longer_finds_it(mara):
    resolve(mara)
    judge(mara, "Trader", "TZ-0042", "UG-88231", "unsure", user="dave")
    resolve(mara, upper=0.99, lower=0.96)          # the name-only pair now scores below --lower
    assert statuses(mara) == {KE100_UG: "linked", KE100_TZ: "linked", TZ_UG: "unsure"}
    assert same_as(mara)[TZ_UG]["decided_by"] == "dave"


def test_judgements_before_any_run_are_kept_by_the_first(mara):
    judge(mara, "Trader", "KE-100", "UG-88231", "reject", user="alice")
    judge(mara, "Trader", "PH-01", "PH-02", "confirm", user="bob")
    s = resolve(mara)
    # TZ-0042 / UG-88231 still scores as linked but would join UG-88231 to KE-100, which alice
    # rejected: it makes no cluster, so it is not written
    assert statuses(mara) == {KE100_UG: "rejected", KE100_TZ: "linked", pair("PH-01", "PH-02"): "confirmed"}
    assert s["labels"]["Trader"]["judged"] == 2
    assert current_resolution(mara).clusters("Trader") == [["KE-100", "TZ-0042"], ["PH-01", "PH-02"]]


def test_a_later_judgement_replaces_an_earlier_one(mara):
    resolve(mara)
    judge(mara, "Trader", "KE-100", "UG-88231", "reject", user="alice")
    out = judge(mara, "Trader", "KE-100", "UG-88231", "confirm", user="erin")
    assert out["same_entity"] is True
    rel = same_as(mara)[KE100_UG]
    assert (rel["status"], rel["decided_by"]) == ("confirmed", "erin")
    assert evidence_of(rel["evidence"])["tin"]["match"] == "equal"   # the run's evidence is kept
    assert len(same_as(mara)) == 2


def test_judgements_that_cannot_be_recorded(mara):
    for args, error, message in (
        (("Trader", "KE-100", "NOPE-1", "reject"), NotFound, "no Trader with key 'NOPE-1'"),
        (("Trader", "NOPE-2", "KE-100", "confirm"), NotFound, "no Trader with key 'NOPE-2'"),
        (("Person", "KE-100", "UG-88231", "reject"), NotFound, "no Person with key 'KE-100'"),
        (("Trader", "KE-100", "UG-88231", "maybe"), GraphiffError, "unknown verdict 'maybe'"),
        (("Trader", "KE-100", "KE-100", "reject"), GraphiffError, "two different keys"),
        (("Declaration", "KE-100", "UG-88231", "reject"), GraphiffError, "cannot judge 'Declaration'"),
    ):
        with pytest.raises(error, match=message):
            judge(mara, *args, user="alice")
    assert same_as(mara) == {}

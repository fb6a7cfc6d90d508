"""``graphiff resolve`` (thresholds, --review, --truth, --out) and ``graphiff judge`` as an
analyst runs them, on both stores; then what detect and explore see after a resolution. The
hand-made worlds (MARA, REVIEW, CIRCLE) are described in tests/resolve/_resolvekit.py; they are
loaded with ``graphiff load``."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from _clikit import run_cli, run_cli_streams
from typer.testing import CliRunner

from graphiff.stores import open_store
from tests.resolve._resolvekit import (
    CIRCLE,
    MARA,
    MARA_CLUSTER,
    REVIEW,
    REVIEW_PAIRS,
    pair,
    same_as,
    write_world,
)


def cli(*args: str) -> str:
    """stdout of a command that must succeed (exit 0, nothing on stderr but progress)."""
    code, out, err = run_cli_streams(*args)
    assert code == 0, out + err
    assert "Traceback" not in err, err
    return out


def cli_json(*args: str) -> dict:
    return json.loads(cli(*args, "--json"))


def refused(*args: str) -> str:
    """The one-line message of a command refused with exit code 2."""
    code, out, err = run_cli_streams(*args)
    assert code == 2, out + err
    assert "Traceback" not in out + err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    return lines[0]


def load(store_uri: str, tmp_path: Path, tables: dict, name: str = "world") -> str:
    folder = write_world(tmp_path / name, tables)
    res = cli_json("load", str(folder), "--store", store_uri, "--quarantine-dir", str(tmp_path / "quarantine"))
    assert not list((tmp_path / "quarantine").glob("*.csv")), res
    return store_uri


def statuses(store_uri: str) -> dict[tuple[str, str], tuple[str, str]]:
    """``{(src, dst): (status, decided_by)}`` of the store's SAME_AS."""
    with open_store(store_uri) as st:
        return {k: (str(r["status"]), str(r["decided_by"])) for k, r in same_as(st).items()}


@pytest.fixture
def mara(store_uri, tmp_path) -> str:
    return load(store_uri, tmp_path, MARA)


@pytest.fixture
def review(store_uri, tmp_path) -> str:
    return load(store_uri, tmp_path, REVIEW, "review")


@pytest.fixture
def circle(store_uri, tmp_path) -> str:
    return load(store_uri, tmp_path, CIRCLE, "circle")


KE100_UG = pair("KE-100", "UG-88231")
TZ_UG = pair("TZ-0042", "UG-88231")


# ---- resolve ----------------------------------------------------------------------------------

def test_resolve_links_one_company_and_prints_a_summary(mara):
    out = cli("resolve", "--store", mara)
    row = next(ln for ln in out.splitlines() if "Trader" in ln)
    assert "3 → 1" in row and "tin 1" in row               # 3 records joined into 1; the placeholder ignored
    assert "wait for review" not in out
    assert set(statuses(mara)) == {KE100_UG, pair("KE-100", "TZ-0042")}   # the links that make the cluster
    again = cli_json("resolve", "--store", mara)
    trader = again["labels"]["Trader"]
    assert (trader["linked"], trader["review"], trader["clusters"], trader["largest_cluster"]) == (3, 0, 1, 3)
    assert again["labels"]["Person"]["linked"] == 0
    assert set(statuses(mara).values()) == {("linked", "graphiff resolve")}


def test_thresholds_move_pairs_and_say_what_waits(mara):
    cli("resolve", "--store", mara)
    out = cli("resolve", "--store", mara, "--upper", "0.99")
    # the name-only pair scores for review, but both records already join KE-100: not queued
    assert "wait for review" not in out and TZ_UG not in statuses(mara)
    s = cli_json("resolve", "--store", mara, "--upper", "0.99", "--lower", "0.96")
    assert s["labels"]["Trader"]["review"] == 0 and TZ_UG not in statuses(mara)
    assert (s["upper"], s["lower"]) == (0.99, 0.96)


def test_lower_above_upper_is_one_clear_error(mara):
    msg = refused("resolve", "--store", mara, "--lower", "0.95", "--upper", "0.9")
    assert "lower=0.95" in msg and "upper=0.9" in msg and "lower <= upper" in msg
    assert statuses(mara) == {}


def test_resolve_of_an_unknown_label_is_refused(mara):
    assert "cannot resolve 'Declaration'" in refused("resolve", "--store", mara, "--label", "Declaration")


def test_out_writes_the_clusters(mara, tmp_path):
    out = tmp_path / "clusters.json"
    cli("resolve", "--store", mara, "--out", str(out))
    clusters = json.loads(out.read_text(encoding="utf-8"))
    assert clusters == [{"resolved_id": "KE-100", "label": "Trader", "members": MARA_CLUSTER,
                         "names": ["Mara Legacy Metals Ltd", "Mara Legacy Metal Co.", "MARA LEGACY METALS LIMITED"]}]


def test_truth_prints_pairwise_and_bcubed_figures(mara, tmp_path):
    # the truth: the Mara cluster, and PH-01/PH-02 (one company under two names: a link no score finds)
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({"instances": [], "decoys": [], "resolution": {
        "clusters": {"Trader": [["KE-100", "UG-88231", "TZ-0042"], ["PH-01", "PH-02"]]},
        "decoys": [{"label": "Trader", "ids": ["KE-100", "KE-200"], "kind": "similar_name"}]}}), encoding="utf-8")
    m = cli_json("resolve", "--store", mara, "--truth", str(truth))["evaluation"]
    # pairs: 3 predicted, 4 true, 3 right; B-cubed over 5 records: recall (1+1+1+.5+.5)/5
    assert m["labels"]["Trader"]["pairwise"] == {"precision": 1.0, "recall": 0.75, "f1": 0.857,
                                                 "predicted_pairs": 3, "true_pairs": 4, "correct_pairs": 3}
    assert m["labels"]["Trader"]["bcubed"] == {"precision": 1.0, "recall": 0.8, "f1": 0.889, "records": 5}
    assert (m["decoys"]["total"], m["decoys"]["joined"]) == (1, 0)
    out = cli("resolve", "--store", mara, "--truth", str(truth))
    row = next(ln for ln in out.splitlines() if "Trader" in ln and "0.750" in ln)
    for figure in ("1.000", "0.750", "0.857", "0.800", "0.889"):
        assert figure in row, row
    assert "decoy" not in out
    # graphiff evaluate --resolution: the same figures next to the detectors'
    (tmp_path / "alerts.json").write_text("[]", encoding="utf-8")
    ev = cli_json("evaluate", str(tmp_path / "alerts.json"), str(truth), "--resolution", "--store", mara)
    assert ev["resolution"]["labels"]["Trader"] == m["labels"]["Trader"]
    out = cli("evaluate", str(tmp_path / "alerts.json"), str(truth), "--resolution", "--store", mara)
    assert "entity resolution against the true clusters" in out and "0.857" in out


def test_a_wrong_truth_file_is_refused_before_the_run(mara, tmp_path):
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({"instances": [], "decoys": []}), encoding="utf-8")
    assert "no resolution clusters" in refused("resolve", "--store", mara, "--truth", str(truth))
    assert "cannot read truth file" in refused("resolve", "--store", mara, "--truth", str(tmp_path / "none.json"))
    assert statuses(mara) == {}                     # nothing resolved: the command did not run


def test_out_into_a_missing_folder_is_refused_before_the_run(mara, tmp_path):
    msg = refused("resolve", "--store", mara, "--out", str(tmp_path / "no" / "such" / "clusters.json"))
    assert "cannot write the clusters" in msg and "no folder" in msg
    assert statuses(mara) == {}


# ---- judge --------------------------------------------------------------------------------------

def test_judge_reject_separates_at_once_and_survives_re_runs(mara):
    cli("resolve", "--store", mara)
    out = cli("judge", "KE-100", "UG-88231", "reject", "--user", "alice", "--store", mara)
    assert "rejected by alice" in out and "now separate entities" in out
    # TZ-0042 links to both, but the rejected pair stays apart
    j = cli_json("explore", "UG-88231", "--store", mara)
    assert j["entity"]["key"] == "UG-88231" and not j["entity"]["props"].get("aliases")
    assert cli_json("explore", "TZ-0042", "--store", mara)["entity"]["key"] == "KE-100"
    for _ in range(2):
        cli("resolve", "--store", mara)
        assert statuses(mara)[KE100_UG] == ("rejected", "alice")
        assert cli_json("explore", "UG-88231", "--store", mara)["entity"]["key"] == "UG-88231"


def test_judge_confirm_links_a_dropped_pair_and_survives_re_runs(mara):
    cli("resolve", "--store", mara)
    assert pair("PH-01", "PH-02") not in statuses(mara)
    j = cli_json("judge", "PH-01", "PH-02", "confirm", "--user", "bob", "--store", mara)
    assert (j["status"], j["decided_by"], j["same_entity"], j["resolved_id"]) == ("confirmed", "bob", True, "PH-01")
    assert j["decided_at"]
    for args in ((), ("--upper", "0.99", "--lower", "0.98")):
        cli("resolve", "--store", mara, *args)
        assert statuses(mara)[pair("PH-01", "PH-02")] == ("confirmed", "bob")
        assert cli_json("explore", "PH-02", "--store", mara)["entity"]["key"] == "PH-01"


def test_judge_unsure_is_not_linked_and_leaves_the_review_queue(review):
    cli("resolve", "--store", review)
    a, b = REVIEW_PAIRS[0]
    out = cli("judge", a, b, "unsure", "--user", "carol", "--store", review)
    assert "unsure by carol" in out and "now separate entities" in out
    cli("resolve", "--store", review)
    assert statuses(review)[pair(a, b)] == ("unsure", "carol")
    res = CliRunner().invoke(_app(), ["resolve", "--review", "--store", review, "--user", "carol"], input="q\n")
    assert res.exit_code == 0, res.output
    assert a not in res.output and REVIEW_PAIRS[1][0] in res.output     # the queue starts at the next pair


def test_judge_refuses_unknown_keys_and_verdicts(mara):
    msg = refused("judge", "KE-100", "NO-SUCH-KEY", "reject", "--store", mara)
    assert "NO-SUCH-KEY" in msg
    msg = refused("judge", "KE-100", "UG-88231", "maybe", "--store", mara)
    assert "maybe" in msg and "confirm" in msg
    code, out = run_cli("judge", "KE-100", "UG-88231", "reject", "--label", "Person", "--store", mara)
    assert code == 2 and "no Person with key 'KE-100'" in out
    assert statuses(mara) == {}


# ---- resolve --review ------------------------------------------------------------------------

def _app():
    from graphiff.cli import app

    return app


def test_review_walks_the_queue_in_score_order(review):
    s = cli_json("resolve", "--store", review)
    assert s["labels"]["Trader"]["review"] == len(REVIEW_PAIRS) and s["labels"]["Trader"]["linked"] == 0
    waiting = f"{len(REVIEW_PAIRS)} pair(s) wait for review: graphiff resolve --review"
    assert waiting in cli("resolve", "--store", review)
    res = CliRunner().invoke(_app(), ["resolve", "--review", "--store", review, "--user", "dana"],
                             input="y\nn\nu\nq\n", env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    out = res.output
    seen = [out.index(a) for a, _ in REVIEW_PAIRS]
    assert seen == sorted(seen), "pairs shown highest score first"
    assert "1/4" in out and "4/4" in out
    assert "judged as dana: 1 confirmed, 1 rejected, 1 unsure, 0 skipped" in out
    (a1, b1), (a2, b2), (a3, b3), (a4, b4) = REVIEW_PAIRS
    got = statuses(review)
    assert got[pair(a1, b1)] == ("confirmed", "dana")
    assert got[pair(a2, b2)] == ("rejected", "dana")
    assert got[pair(a3, b3)] == ("unsure", "dana")
    assert got[pair(a4, b4)] == ("review", "graphiff resolve")          # quit before judging it
    # the judgements hold on a re-run, and only the unjudged pair is asked again
    cli("resolve", "--store", review)
    assert statuses(review) == got
    res = CliRunner().invoke(_app(), ["resolve", "--review", "--store", review, "--user", "dana"], input="s\n")
    assert res.exit_code == 0, res.output
    assert a4 in res.output and a1 not in res.output and "1/1" in res.output
    assert "0 confirmed, 0 rejected, 0 unsure, 1 skipped" in res.output


def test_review_with_nothing_queued_says_so(mara):
    cli("resolve", "--store", mara)
    res = CliRunner().invoke(_app(), ["resolve", "--review", "--store", mara], input="y\n")
    assert res.exit_code == 0, res.output
    assert "no pair waits for review" in res.output
    assert set(statuses(mara).values()) == {("linked", "graphiff resolve")}


# ---- downstream: detect and explore ------------------------------------------------------------

def test_detect_finds_a_circular_trade_only_resolution_shows(circle, tmp_path):
    cli("resolve", "--store", circle)
    resolved, unresolved = tmp_path / "resolved.json", tmp_path / "unresolved.json"
    cli("detect", "circular_trade", "--store", circle, "--no-write", "--out", str(resolved))
    alerts = json.loads(resolved.read_text(encoding="utf-8"))
    # the smelter reads as UG-B: its Ugandan record says most (city too), so it represents the entity
    assert [{e["id"] for e in a["entities"] if e["label"] == "Trader"} for a in alerts] == [{"KE-A", "UG-B"}]
    cli("detect", "circular_trade", "--store", circle, "--no-write", "--unresolved", "--out", str(unresolved))
    assert json.loads(unresolved.read_text(encoding="utf-8")) == []


def test_explore_an_alias_key_finds_the_resolved_entity(circle):
    cli("resolve", "--store", circle)
    nb = cli_json("explore", "UG-A", "--store", circle)
    assert nb["entity"]["key"] == "KE-A"
    assert nb["entity"]["props"]["aliases"] == "UG-A"
    assert nb["entity"]["props"]["alias_names"] == "KILIMA COPPER LIMITED"
    partners = {n["key"] for n in nb["neighbours"] if n["label"] == "Trader"}
    assert partners == {"UG-B"}                     # both declarations' partner is one entity
    assert sorted(r["key"] for r in nb["records"]) == ["KE-EX-1/1", "UG-EX-7/1"]
    text = cli("explore", "UG-A", "--store", circle)
    assert "KE-A" in text and "UG-A" in text


def test_unresolved_explore_shows_the_record_and_its_same_as(circle):
    cli("resolve", "--store", circle)
    nb = cli_json("explore", "UG-A", "--store", circle, "--unresolved")
    assert nb["entity"]["key"] == "UG-A" and "aliases" not in nb["entity"]["props"]
    links = {n["key"]: [lk["how"] for lk in n["links"]] for n in nb["neighbours"]}
    assert any("SAME_AS" in how for how in links["KE-A"]), links
    assert "UG-B" in links and "KE-B" not in links
    assert [r["key"] for r in nb["records"]] == ["UG-EX-7/1"]


@pytest.mark.parametrize("evidence", ["[1, 2, 3]", "[" * 3000 + "]" * 3000, '{"tin": {"weight": "heavy"}}',
                                      "not json", None])
def test_review_shows_odd_evidence_without_failing(tmp_path, evidence):
    # evidence written by another tool (or a partner before validation): review still works
    import pandas as pd

    path = str(tmp_path / "odd.duckdb")
    with open_store(path) as st:
        st.upsert_nodes("Trader", pd.DataFrame([{"key": "A1", "name": "Acme"}, {"key": "A2", "name": "ACME"}]))
        st.upsert_rels("SAME_AS", pd.DataFrame([{"src_label": "Trader", "src": "A1", "dst_label": "Trader",
                                                 "dst": "A2", "status": "review", "evidence": evidence}]))
    res = CliRunner().invoke(_app(), ["resolve", "--review", "--store", path, "--user", "eve"], input="s\nq\n",
                             env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output and "A1" in res.output and "score —" in res.output


def test_judge_finds_the_label_and_takes_label_key(mara):
    cli("resolve", "--store", mara)
    out = cli_json("judge", "Trader:KE-100", "Trader:UG-88231", "reject", "--store", mara, "--user", "ann")
    assert (out["label"], out["status"], out["same_entity"]) == ("Trader", "rejected", False)
    out = cli_json("judge", "KE-100", "UG-88231", "confirm", "--store", mara, "--user", "ann")   # label found
    assert (out["label"], out["status"]) == ("Trader", "confirmed")
    assert "no trader, person, carrier or bank account holds both" in refused(
        "judge", "KE-100", "NOPE-1", "confirm", "--store", mara)
    assert "must be of one label" in refused("judge", "Trader:KE-100", "Person:X", "confirm", "--store", mara)
    assert cli_json("resolve", "--store", mara, "--label", "trader")["labels"].keys() == {"Trader"}


def test_why_shows_the_links_that_join_two_records(mara):
    cli("resolve", "--store", mara)
    # TZ-0042 and UG-88231 are one entity through KE-100 (the run writes the links that make it)
    out = cli_json("why", "TZ-0042", "UG-88231", "--store", mara)
    assert out["same_entity"] and out["resolved_id"] == "KE-100"
    assert [(lk["a"], lk["b"], lk["status"]) for lk in out["links"]] == [
        ("KE-100", "TZ-0042", "linked"), ("KE-100", "UG-88231", "linked")]
    text = cli("why", "TZ-0042", "UG-88231", "--store", mara)
    assert "one entity (KE-100)" in text and "phone" in text and "tin" in text and "total" in text
    cli("judge", "KE-100", "UG-88231", "reject", "--store", mara, "--user", "ann")
    out = cli_json("why", "KE-100", "UG-88231", "--store", mara)
    assert not out["same_entity"] and [lk["status"] for lk in out["links"]] == ["rejected"]
    assert out["links"][0]["decided_by"] == "ann"
    assert "no SAME_AS links them" in cli("why", "KE-100", "KE-200", "--store", mara)


def test_review_stops_cleanly_when_the_input_ends(review):
    cli("resolve", "--store", review)
    res = CliRunner().invoke(_app(), ["resolve", "--review", "--store", review, "--user", "dana"], input="y\n",
                             env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "judged as dana: 1 confirmed" in res.output

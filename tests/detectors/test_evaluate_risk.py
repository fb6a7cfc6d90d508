"""evaluate (the ARCHITECTURE.md matching rule), risk scores and run_detectors on in-memory tables."""
from __future__ import annotations

import json

import pytest
from _netkit import decl, make_tables, trader

from graphiff.alerts import Alert
from graphiff.detectors import (
    check_params,
    load_config,
    merge_params,
    parse_overrides,
    run_detectors,
)
from graphiff.detectors.evaluate import evaluate, evaluation_table
from graphiff.detectors.risk import risk_scores
from graphiff.errors import GraphiffError


def T(*ids):
    return [{"label": "Trader", "id": i} for i in ids]


TRUTH = {
    "seed": 7, "scale": 1.0,
    "instances": [
        {"family": "circular_trade", "entities": T("A", "B", "C")},
        {"family": "circular_trade", "entities": T("D", "E")},
        {"family": "shell_intermediary", "entities": T("S")},
    ],
    "decoys": [
        {"family": "circular_trade", "kind": "processing_trade", "entities": T("P", "Q")},
        {"family": "shell_intermediary", "kind": "distributor", "entities": T("DI")},
    ],
}


def test_evaluate_rule():
    alerts = [
        Alert("circular_trade", 0.9, T("A", "B"), "2 of 3 entities: matches"),
        Alert("circular_trade", 0.8, T("D", "X", "Y", "Z"), "1 of 2 entities: matches (half)"),
        Alert("circular_trade", 0.7, T("P", "Z"), "names a decoy entity"),
        Alert("shell_intermediary", 0.9, T("S"), ""),
        Alert("undervaluation", 0.5, [{"label": "Declaration", "id": "X/1"}], "a family without truth"),
    ]
    r = evaluate(alerts, TRUTH)
    ct = r["families"]["circular_trade"]
    assert (ct["alerts"], ct["matching_alerts"], ct["instances"], ct["matched_instances"]) == (3, 2, 2, 2)
    assert ct["precision"] == pytest.approx(2 / 3) and ct["recall"] == 1.0
    assert ct["decoys_flagged"] == 1 and ct["flagged_decoys"][0]["kind"] == "processing_trade"
    sh = r["families"]["shell_intermediary"]
    assert sh["precision"] == 1.0 and sh["recall"] == 1.0 and sh["decoys_flagged"] == 0
    uv = r["families"]["undervaluation"]
    assert uv["recall"] is None and uv["precision"] == 0.0
    assert r["overall"]["alerts"] == 5
    json.dumps(r)  # JSON-ready
    assert evaluation_table(r).row_count == 4


def test_evaluate_misses():
    r = evaluate([Alert("circular_trade", 0.9, T("A"), "1 of 3: no match")], TRUTH)
    ct = r["families"]["circular_trade"]
    assert ct["matched_instances"] == 0 and ct["precision"] == 0.0 and len(ct["missed"]) == 2
    assert r["families"]["shell_intermediary"]["precision"] is None


def test_risk_scores_combine_and_propagate():
    t = make_tables(decls=[decl("D1", "EXP", "IMP", "2024-01-01")], traders=[trader("IMP"), trader("EXP")])
    alerts = [
        Alert("shell_intermediary", 1.0, T("IMP"), ""),
        Alert("circular_trade", 0.5, T("IMP", "X"), ""),
        Alert("undervaluation", 1.0, [{"label": "Declaration", "id": "D1/1"}], ""),
    ]
    df = risk_scores(alerts, t)
    assert list(df.columns[:5]) == ["label", "id", "score", "alerts", "reasons"]
    imp = df[(df["label"] == "Trader") & (df["id"] == "IMP")].iloc[0]
    # 1 - (1 - 0.7)(1 - 0.8*0.5)(1 - 0.5*0.5)
    assert imp["score"] == pytest.approx(1 - 0.3 * 0.6 * 0.75)
    assert {r["pattern"] for r in imp["reasons"]} == {"shell_intermediary", "circular_trade", "undervaluation"}
    assert any(r.get("via") == "Declaration:D1/1" for r in imp["reasons"])
    assert df["score"].between(0, 1).all() and df.iloc[0]["id"] == "IMP"
    assert imp["name"] == "Trader IMP"
    # without tables: no propagation
    df2 = risk_scores(alerts)
    assert "EXP" not in set(df2["id"])
    # custom weights
    df3 = risk_scores(alerts, weights={"shell_intermediary": 0.0, "circular_trade": 0.0, "undervaluation": 0.0})
    assert (df3["score"] == 0).all()


def test_params_and_overrides(tmp_path):
    assert parse_overrides(["circular_trade.window_days=90", "circular_trade.related_roles=[OWNER]"]) == {
        "circular_trade": {"window_days": 90, "related_roles": ["OWNER"]}}
    with pytest.raises(GraphiffError, match="unknown parameter"):
        parse_overrides(["circular_trade.windw=3"])
    with pytest.raises(GraphiffError, match="unknown detector"):
        parse_overrides(["nope.x=1"])
    with pytest.raises(GraphiffError, match="must be a number"):
        check_params({"circular_trade": {"window_days": "soon"}})
    with pytest.raises(GraphiffError):
        parse_overrides(["circular_trade"])
    cfg = tmp_path / "d.yaml"
    cfg.write_text("detectors:\n  circular_trade:\n    window_days: 30\n    max_len: 3\n")
    merged = merge_params(load_config(cfg), parse_overrides(["circular_trade.max_len=4"]))
    assert merged == {"circular_trade": {"window_days": 30, "max_len": 4}}


def test_run_detectors_on_tables():
    t = make_tables(decls=[decl("a", "A", "B", "2024-01-01"), decl("b", "B", "A", "2024-01-20")])
    seen = []
    alerts = run_detectors(t, ["circular_trade", "circular_payment"], progress=lambda p, s, i: seen.append((p, s)))
    assert [a.pattern for a in alerts] == ["circular_trade"]
    assert ("circular_trade", "done") in seen and ("circular_payment", "done") in seen
    assert run_detectors(t, ["circular_trade"], {"circular_trade": {"window_days": 5}}) == []
    with pytest.raises(GraphiffError):
        run_detectors(t, ["no_such_detector"])

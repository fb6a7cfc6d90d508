"""End to end on the synthetic world: generate, load into the embedded store, run the network
detectors, evaluate against truth.json. Each network family: recall >= 0.9, precision >= 0.8,
no decoy flagged. Also the detect / evaluate / risk commands on the same store."""
from __future__ import annotations

import json

import pytest

samples = pytest.importorskip("graphiff.samples")

from typer.testing import CliRunner  # noqa: E402

from graphiff.alerts import read_alerts_json, stored_alerts, write_alerts_json  # noqa: E402
from graphiff.detectors import run_detectors  # noqa: E402
from graphiff.detectors.evaluate import evaluate  # noqa: E402
from graphiff.ingest import load_paths  # noqa: E402
from graphiff.stores import open_store  # noqa: E402

FAMILIES = ["circular_trade", "circular_payment", "shell_intermediary", "linked_carriers", "pass_through_account",
            "scatter_gather", "phoenix_trader"]
SCALE = 0.3


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("networld")
    folder = root / "world"
    samples.generate_world(folder, scale=SCALE, seed=7)
    store_path = root / "store.duckdb"
    with open_store(str(store_path)) as st:
        load_paths(st, [folder], quarantine_dir=root / "quarantine")
        alerts = run_detectors(st, FAMILIES)
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    return {"root": root, "store": store_path, "alerts": alerts, "truth": truth}


@pytest.mark.parametrize("family", FAMILIES)
def test_family_recall_precision_decoys(world, family):
    res = evaluate(world["alerts"], world["truth"])["families"].get(family)
    assert res is not None and res["instances"] > 0, f"the sample world plants no {family}"
    assert res["recall"] >= 0.9, res["missed"]
    assert res["precision"] is not None and res["precision"] >= 0.8, res
    assert res["decoys_flagged"] == 0, res["flagged_decoys"]


def test_alerts_written_back(world):
    with open_store(str(world["store"])) as st:
        back = stored_alerts(st)
    assert {a.id for a in back} == {a.id for a in world["alerts"]}
    a = max(world["alerts"], key=lambda x: x.score)
    b = next(x for x in back if x.id == a.id)
    assert sorted(map(tuple, (e.values() for e in b.entities))) == sorted(map(tuple, (e.values() for e in a.entities)))
    assert b.evidence == json.loads(json.dumps(a.evidence, default=str))


def test_cli_detect_evaluate_risk(world, tmp_path):
    from graphiff.cli import app

    runner = CliRunner()
    out = tmp_path / "alerts.json"
    r = runner.invoke(app, ["detect", *FAMILIES, "--store", str(world["store"]), "--out", str(out),
                            "--set", "circular_trade.window_days=180"])
    assert r.exit_code == 0, r.output
    alerts = read_alerts_json(out)
    assert {a.id for a in alerts} == {a.id for a in world["alerts"]}
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps(world["truth"]), encoding="utf-8")
    r = runner.invoke(app, ["evaluate", str(out), str(truth), "--json"])
    assert r.exit_code == 0, r.output
    assert set(FAMILIES) <= set(json.loads(r.output)["families"])
    r = runner.invoke(app, ["risk", "--store", str(world["store"]), "--top", "5", "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert 0 < len(rows) <= 5 and all(0 <= x["score"] <= 1 for x in rows)
    r = runner.invoke(app, ["detect", "--store", str(world["store"]), "--set", "circular_trade.nope=1"])
    assert r.exit_code != 0


def test_alert_file_roundtrip(world, tmp_path):
    p = tmp_path / "a.json"
    write_alerts_json(world["alerts"], p)
    assert [a.to_dict() for a in read_alerts_json(p)] == [
        a.to_dict() for a in sorted(world["alerts"], key=lambda a: (-a.score, a.id))]

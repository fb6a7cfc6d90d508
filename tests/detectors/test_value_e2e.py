"""End to end: synthetic world -> embedded store -> value and money detectors -> truth.json.

Each of the value/money families must find >= 90 % of its planted instances with >= 80 %
precision, and flag none of its decoys.
"""
from __future__ import annotations

import pytest

samples = pytest.importorskip("graphiff.samples")

from graphiff import load_paths, open_store  # noqa: E402
from graphiff.detectors import run_detectors  # noqa: E402
from graphiff.detectors.evaluate import evaluate, read_truth  # noqa: E402
from graphiff.graph.tables import Tables  # noqa: E402

FAMILIES = ["undervaluation", "overvaluation", "mirror_discrepancy", "cash_structuring", "third_party_payment",
            "split_invoices"]


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    root = tmp_path_factory.mktemp("value_e2e")
    world = root / "world"
    samples.generate_world(world, scale=0.3, seed=11)
    with open_store(str(root / "g.duckdb")) as st:
        load_paths(st, [world], quarantine_dir=root / "quarantine")
        alerts = run_detectors(Tables(st), FAMILIES)
    truth = read_truth(world / "truth.json")
    return evaluate(alerts, truth)


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_family_against_truth(result, family):
    r = result["families"].get(family)
    assert r is not None and r["instances"] > 0, f"no planted {family} instances"
    detail = {k: r[k] for k in ("alerts", "matching_alerts", "instances", "matched_instances", "decoys_flagged")}
    assert r["recall"] >= 0.9, (family, detail, r["missed"][:3])
    assert r["precision"] >= 0.8, (family, detail)
    assert r["decoys_flagged"] == 0, (family, r["flagged_decoys"][:3])

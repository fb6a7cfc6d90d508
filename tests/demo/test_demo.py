"""The demo job: a sample world loaded, resolved, detected, evaluated, charted and packaged."""
from __future__ import annotations

import json
from pathlib import Path

from graphiff.demo import run_demo


def test_the_demo_resolves_an_alias_world_and_finds_the_planted_patterns(tmp_path):
    result = run_demo(tmp_path / "out", scale=0.1, seed=3, top=1, aliases=True)
    res = result["resolution"]
    assert res["labels"]["Trader"]["clusters"] > 10
    ev = res["evaluation"]
    assert ev["pairwise"]["precision"] >= 0.97 and ev["pairwise"]["recall"] >= 0.9
    overall = result["evaluation"]["overall"]
    # patterns through traders that other administrations name by their own ids are found
    assert overall["recall"] >= 0.9
    alerts = json.loads(Path(result["alerts"]["path"]).read_text(encoding="utf-8"))
    assert len(alerts) == result["alerts"]["count"] > 0
    assert all(Path(c).exists() for c in result["charts"])


def test_the_demo_world_without_aliases_joins_nothing(tmp_path):
    result = run_demo(tmp_path / "out", scale=0.05, seed=3, top=1)
    assert all(v["records_in_clusters"] == 0 for v in result["resolution"]["labels"].values())
    assert "evaluation" not in result["resolution"]


def test_the_demo_ends_by_saying_how_to_open_the_workbench_on_its_store(tmp_path):
    from tests._clikit import run_cli_streams

    code, out, err = run_cli_streams("demo", "--out", str(tmp_path / "out"), "--scale", "0.05", "--seed", "3")
    assert code == 0, err
    last = out.strip().splitlines()[-1]
    store = tmp_path / "out" / "graphiff.duckdb"
    assert last.startswith("workbench:") and f"serve --store {store}" in last, last
    assert store.exists() and "http://127.0.0.1:8765/" in last

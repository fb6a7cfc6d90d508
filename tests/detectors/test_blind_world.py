"""The blind world generator (benchmarks/blind): deterministic per seed, and its files load."""
from __future__ import annotations

import json

from benchmarks.blind.blind_world import generate_blind_world
from graphiff.ingest import load_paths
from graphiff.stores import open_store


def _files(path):
    return {p.name: p.read_bytes() for p in sorted(path.iterdir())}


def test_same_seed_same_world_other_seed_other_world(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate_blind_world(a, 5)
    generate_blind_world(b, 5)
    generate_blind_world(c, 6)
    assert _files(a) == _files(b)
    assert _files(a)["declarations.csv"] != _files(c)["declarations.csv"]


def test_world_loads_without_quarantine_and_truth_names_every_family(tmp_path):
    world = tmp_path / "w"
    summary = generate_blind_world(world, 2)
    store = open_store(str(tmp_path / "s.duckdb"))
    try:
        res = load_paths(store, [world], quarantine_dir=tmp_path / "q")
    finally:
        store.close()
    assert sum(res.quarantined.values()) == 0
    assert res.loaded["declarations"] == summary["declarations"]
    assert not res.warnings.get("accounts")
    truth = json.loads((world / "truth.json").read_text(encoding="utf-8"))
    fams = {i["family"] for i in truth["instances"]}
    assert len(fams) == 13
    assert {d["family"] for d in truth["decoys"]} <= fams

"""The synthetic world: canonical files, planted truth, a pattern-free background, determinism
and a clean load."""
from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from graphiff.ingest import load_paths
from graphiff.model import model
from graphiff.samples import generate_world
from graphiff.stores.embedded import EmbeddedStore

FAMILIES = ["circular_trade", "circular_payment", "shell_intermediary", "linked_carriers", "undervaluation",
            "overvaluation", "mirror_discrepancy", "cash_structuring", "third_party_payment"]
KEYS = {"traders": ["trader_id"], "persons": ["person_id"], "carriers": ["carrier_id"],
        "declarations": ["declaration_id", "item_no"], "accounts": ["account_id"], "payments": ["payment_id"],
        "cash_reports": ["report_id"], "officers": ["officer_id", "company_id", "role"], "rates": ["currency", "month"]}
SCALE, SEED = 0.2, 11


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("world")
    return out, generate_world(out, scale=SCALE, seed=SEED)


def read(folder: Path, kind: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{kind}.csv", dtype=str, keep_default_na=False)


def truth(folder: Path) -> dict:
    return json.loads((folder / "truth.json").read_text(encoding="utf-8"))


def test_canonical_columns_and_counts(world):
    folder, summary = world
    for kind, cols in model().canonical_columns.items():
        df = read(folder, kind)
        assert list(df.columns) == cols, kind
        assert len(df) == summary["files"][kind] > 0, kind
    assert 4_500 <= summary["files"]["declarations"] <= 8_000
    assert summary["out"] == str(folder)


def test_every_family_has_instances_and_decoys(world):
    folder, summary = world
    t = truth(folder)
    assert t["seed"] == SEED and t["scale"] == SCALE
    for fam in FAMILIES:
        assert summary["instances"].get(fam, 0) >= 1, fam
        assert summary["decoys"].get(fam, 0) >= 1, fam
    assert all(i["note"] and i["entities"] for i in t["instances"])
    assert all(d["kind"] and d["entities"] for d in t["decoys"])


def test_ids_unique(world):
    folder, _ = world
    for kind, key in KEYS.items():
        df = read(folder, kind)
        assert not df.duplicated(key).any(), kind
    # planted records never reuse a background id across kinds either
    ids = pd.concat([read(folder, "traders")["trader_id"], read(folder, "persons")["person_id"],
                     read(folder, "carriers")["carrier_id"]])
    assert ids.is_unique


def test_truth_entities_exist(world):
    folder, _ = world
    d = read(folder, "declarations")
    known = {
        "Trader": set(read(folder, "traders")["trader_id"]),
        "Person": set(read(folder, "persons")["person_id"]),
        "Carrier": set(read(folder, "carriers")["carrier_id"]),
        "BankAccount": set(read(folder, "accounts")["account_id"]),
        "Declaration": set(d["declaration_id"] + "/" + d["item_no"]),
    }
    t = truth(folder)
    for rec in t["instances"] + t["decoys"]:
        for e in rec["entities"]:
            assert e["id"] in known[e["label"]], (rec["family"], e)


def test_trade_and_money_graphs_acyclic_outside_planted_cycles(world):
    folder, _ = world
    t = truth(folder)

    def planted(family: str) -> set[str]:
        return {e["id"] for r in t["instances"] + t["decoys"] if r["family"] == family for e in r["entities"]}

    d = read(folder, "declarations")
    cyc = planted("circular_trade")
    g = nx.DiGraph()
    g.add_edges_from((a, b) for a, b in zip(d["exporter_id"], d["importer_id"]) if a not in cyc and b not in cyc)
    assert g.number_of_edges() > 1000
    assert nx.is_directed_acyclic_graph(g)
    p = read(folder, "payments")
    cyc = planted("circular_payment")
    g = nx.DiGraph()
    g.add_edges_from((a, b) for a, b in zip(p["from_account"], p["to_account"]) if a not in cyc and b not in cyc)
    assert nx.is_directed_acyclic_graph(g)


def test_background_cash_avoids_the_threshold_band(world):
    folder, _ = world
    c = read(folder, "cash_reports")
    r = read(folder, "rates")
    rate = dict(zip(r["currency"] + "/" + r["month"], r["usd_per_unit"].astype(float)))
    c["usd"] = c["amount"].astype(float) * (c["currency"] + "/" + c["date"].str.slice(0, 7)).map(rate)
    structurers = {e["id"] for i in truth(folder)["instances"] if i["family"] == "cash_structuring"
                   for e in i["entities"]}
    band = c[(c["usd"] >= 8_000) & (c["usd"] < 10_000) & ~c["person_id"].isin(structurers)
             & c["report_type"].isin(["BORDER", "CTR"])]
    dates = pd.to_datetime(band["date"])
    for _, days in dates.groupby(band["person_id"]):
        s = np.sort(days.to_numpy())
        assert len(s) < 2 or (np.diff(s) > np.timedelta64(30, "D")).all()


def test_same_seed_same_files(world, tmp_path):
    folder, _ = world
    again = tmp_path / "again"
    generate_world(again, scale=SCALE, seed=SEED)
    for f in sorted(folder.iterdir()):
        assert (again / f.name).read_bytes() == f.read_bytes(), f.name
    other = tmp_path / "other"
    generate_world(other, scale=SCALE, seed=SEED + 1)
    assert (other / "declarations.csv").read_bytes() != (folder / "declarations.csv").read_bytes()


def test_loads_without_quarantine(world, tmp_path):
    folder, summary = world
    with EmbeddedStore(tmp_path / "s.duckdb") as store:
        result = load_paths(store, [folder], quarantine_dir=tmp_path / "q")
    assert sum(result.quarantined.values()) == 0, result.quarantined
    assert result.quarantine is None
    for kind, n in summary["files"].items():
        assert result.loaded[kind] == n, kind

"""Drawn worlds (``graphiff samples OUT --drawn``): determinism, every family planted with decoys,
truth that names what the files hold, the draws recorded, a load whose quarantine is the drawn
noise, and the CLI."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from _clikit import run_cli_streams

from graphiff.ingest import load_paths
from graphiff.model import model
from graphiff.samples.drawn import generate_drawn_world
from graphiff.stores.embedded import EmbeddedStore

FAMILIES = ["cash_structuring", "circular_payment", "circular_trade", "linked_carriers", "mirror_discrepancy",
            "overvaluation", "pass_through_account", "phoenix_trader", "scatter_gather", "shell_intermediary",
            "split_invoices", "third_party_payment", "undervaluation"]
SEED, SCALE = 2, 0.1


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("drawn")
    return out, generate_drawn_world(out, seed=SEED, scale=SCALE)


def read(folder: Path, kind: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{kind}.csv", dtype=str, keep_default_na=False)


def load_json(folder: Path, name: str) -> dict:
    return json.loads((folder / name).read_text(encoding="utf-8"))


def test_same_seed_same_bytes_other_seed_other_draws(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate_drawn_world(a, seed=5, scale=0.05)
    generate_drawn_world(b, seed=5, scale=0.05)
    generate_drawn_world(c, seed=6, scale=0.05)
    names = sorted(f.name for f in a.iterdir())
    assert names == sorted(f.name for f in b.iterdir())
    assert "assumptions.json" in names and "truth.json" in names
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    da, dc = load_json(a, "assumptions.json"), load_json(c, "assumptions.json")
    assert da["families"]["circular_trade"]["knobs"] != dc["families"]["circular_trade"]["knobs"]
    assert da["world"]["noise"] != dc["world"]["noise"]


def test_canonical_files_and_every_family_planted(world):
    folder, summary = world
    for kind, cols in model().canonical_columns.items():
        assert list(read(folder, kind).columns) == cols, kind
    truth = load_json(folder, "truth.json")
    assert truth["seed"] == SEED and truth["drawn"] is True
    for fam in FAMILIES:
        assert summary["instances"].get(fam, 0) >= 3, fam
        assert summary["decoys"].get(fam, 0) >= 1, fam
    assert all(i["note"] and i["entities"] and i["kind"] for i in truth["instances"])
    assert all(d["kind"] and d["entities"] for d in truth["decoys"])


def test_truth_names_what_the_files_hold(world):
    folder, _ = world
    d = read(folder, "declarations")
    known = {
        "Trader": set(read(folder, "traders")["trader_id"]),
        "BankAccount": set(read(folder, "accounts")["account_id"]),
        "Carrier": set(read(folder, "carriers")["carrier_id"]),
        "Person": set(read(folder, "persons")["person_id"]),
        "Declaration": set(d["declaration_id"] + "/" + d["item_no"]),
    }
    truth = load_json(folder, "truth.json")
    expected = {"circular_trade": "Trader", "circular_payment": "BankAccount", "shell_intermediary": "Trader",
                "linked_carriers": "Carrier", "undervaluation": "Declaration", "overvaluation": "Declaration",
                "mirror_discrepancy": "Declaration", "cash_structuring": "Person",
                "third_party_payment": "BankAccount", "pass_through_account": "BankAccount",
                "scatter_gather": "BankAccount", "split_invoices": "Trader", "phoenix_trader": "Trader"}
    for rec in truth["instances"] + truth["decoys"]:
        for e in rec["entities"]:
            assert e["label"] == expected[rec["family"]], rec
            assert e["id"] in known[e["label"]], (rec["family"], e)


def test_signals_are_planted(world):
    folder, _ = world
    truth = load_json(folder, "truth.json")
    d = read(folder, "declarations")
    # mirror instances name an export and an import; one-sided shells invoice imports dispatched elsewhere
    for i in truth["instances"]:
        if i["family"] == "mirror_discrepancy":
            keys = {e["id"] for e in i["entities"]}
            flows = set(d[(d["declaration_id"] + "/" + d["item_no"]).isin(keys)]["flow"])
            assert flows == {"EXPORT", "IMPORT"}
        if i.get("kind") == "re_invoicing_one_sided":
            x = i["entities"][0]["id"]
            sold = d[d["exporter_id"] == x]
            assert len(sold) and (sold["flow"] == "IMPORT").all()
            assert (sold["dispatch_country"] != sold["exporter_country"]).all()
            assert not (d["importer_id"] == x).any()  # its purchase is declared by nobody we hold
    # payment cycles shrink: every cycle account receives less than it sent on the first turn... at most
    p = read(folder, "payments")
    for i in truth["instances"]:
        if i["family"] == "circular_payment":
            accts = {e["id"] for e in i["entities"]}
            inner = p[p["from_account"].isin(accts) & p["to_account"].isin(accts)]
            assert len(inner) >= len(accts)


def test_assumptions_record_the_draws(world):
    folder, summary = world
    a = load_json(folder, "assumptions.json")
    assert a["world"]["seed"] == SEED and a["world"]["administrations"] == summary["administrations"]
    assert set(a["world"]["noise"]) >= {"missing", "late_filing", "rounded", "reused_invoice", "typo", "quarantine"}
    assert set(a["families"]) == set(FAMILIES)
    for fam, rec in a["families"].items():
        assert rec["knobs"], fam
    assert sum(a["world"]["quarantine_rows"].values()) == summary["quarantine_rows"]


def test_loads_with_the_drawn_noise_quarantined(world, tmp_path):
    folder, summary = world
    with EmbeddedStore(tmp_path / "s.duckdb") as store:
        result = load_paths(store, [folder], quarantine_dir=tmp_path / "q")
    total = sum(result.quarantined.values())
    assert total == summary["quarantine_rows"]
    assert total <= 0.01 * (summary["files"]["declarations"] + summary["files"]["payments"])
    if total:
        reasons = set(pd.read_csv(result.quarantine)["reason"])
        assert all(r.split(" (")[0] in {"bad date", "unknown currency", "bad HS code", "bad amount",
                                        "unexpected value", "missing required value"} for r in reasons), reasons


def test_cli_drawn(tmp_path):
    code, out, err = run_cli_streams("samples", str(tmp_path / "w"), "--drawn", "--seed", "3", "--scale", "0.05",
                                     "--json")
    assert code == 0, err
    assert json.loads(out)["instances"]["circular_trade"] >= 1
    assert (tmp_path / "w" / "assumptions.json").exists()
    code, out, err = run_cli_streams("samples", str(tmp_path / "x"), "--drawn", "--aliases")
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "--aliases" in err
    assert not (tmp_path / "x").exists()

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
            "overvaluation", "mirror_discrepancy", "cash_structuring", "third_party_payment", "pass_through_account",
            "scatter_gather", "split_invoices", "phoenix_trader"]
#: variants of the older families (docs/typologies.md), by the ``kind`` their instances carry
VARIANTS = {"circular_trade": "related_party_round_trip", "shell_intermediary": "one_sided_reinvoicing",
            "linked_carriers": "two_fronts", "circular_payment": "shrinking_repeated_cycle",
            "cash_structuring": "eu_threshold"}
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
    for fam, kind in VARIANTS.items():
        assert sum(i.get("kind") == kind for i in t["instances"] if i["family"] == fam) >= 2, (fam, kind)


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


def instances(folder: Path, family: str, kind: str | None = None) -> list[dict]:
    return [i for i in truth(folder)["instances"] if i["family"] == family and (kind is None or i.get("kind") == kind)]


def decoys(folder: Path, family: str) -> list[dict]:
    return [d for d in truth(folder)["decoys"] if d["family"] == family]


def ids_of(rec: dict) -> list[str]:
    return [e["id"] for e in rec["entities"]]


def test_split_invoices_stay_below_the_importing_countrys_threshold_within_days(world):
    folder, _ = world
    d = read(folder, "declarations")
    d = d[d["flow"] == "IMPORT"].assign(value=lambda x: x["invoice_value"].astype(float),
                                        day=lambda x: pd.to_datetime(x["date"]))
    limits = {"EUR": (150.0, 1000.0), "USD": (800.0, 2500.0)}
    for rec in instances(folder, "split_invoices"):
        imp, exp = ids_of(rec)
        parts = d[(d["importer_id"] == imp) & (d["exporter_id"] == exp)]
        assert len(parts) >= 3 and parts["hs_code"].nunique() == 1 and parts["currency"].nunique() == 1
        assert (parts["day"].max() - parts["day"].min()).days <= 12
        cur = parts["currency"].iat[0]
        limit = min(x for x in limits[cur] if x > parts["value"].max())
        assert parts["value"].min() >= 0.75 * limit and parts["value"].sum() > limit, (rec, limit)
        assert parts["importer_country"].iat[0] in (("US",) if cur == "USD" else ("DE", "NL", "BE", "PL"))
    for rec in decoys(folder, "split_invoices"):
        imp, exp = ids_of(rec)
        days = np.sort(pd.to_datetime(d[(d["importer_id"] == imp) & (d["exporter_id"] == exp)]["date"]).to_numpy())
        assert len(days) == 1 or (np.diff(days) >= np.timedelta64(25, "D")).all(), rec  # months apart


def test_phoenix_traders_take_over_partners_and_goods_at_a_shared_address_phone_or_director(world):
    folder, _ = world
    t = read(folder, "traders").set_index("trader_id")
    o = read(folder, "officers")
    d = read(folder, "declarations")
    for rec in instances(folder, "phoenix_trader"):
        old, new = ids_of(rec)
        od, nd = d[d["importer_id"] == old], d[d["importer_id"] == new]
        assert od["date"].max() < t.at[new, "registration_date"] < nd["date"].min()
        assert set(nd["exporter_id"]) <= set(od["exporter_id"]) and set(nd["hs_code"]) <= set(od["hs_code"])
        directors = [set(o[(o["company_id"] == x) & (o["role"] == "DIRECTOR")]["officer_id"]) for x in (old, new)]
        assert (t.at[old, "address"] == t.at[new, "address"] or t.at[old, "phone"] == t.at[new, "phone"]
                or directors[0] & directors[1]), rec


def test_one_sided_shells_have_no_declared_purchase_and_pay_their_supplier_within_days(world):
    folder, _ = world
    t = read(folder, "traders").set_index("trader_id")
    d = read(folder, "declarations")
    acct = read(folder, "accounts").groupby("holder_id")["account_id"].apply(set)
    p = read(folder, "payments").assign(day=lambda x: pd.to_datetime(x["date"]))
    for rec in instances(folder, "shell_intermediary", "one_sided_reinvoicing"):
        (s,) = ids_of(rec)
        assert not ((d["importer_id"] == s) | ((d["exporter_id"] == s) & (d["flow"] == "EXPORT"))).any()
        sold = d[d["exporter_id"] == s]
        assert len(sold) >= 3 and (sold["dispatch_country"] != t.at[s, "country"]).all()
        ins, outs = p[p["to_account"].isin(acct[s])], p[p["from_account"].isin(acct[s])]
        assert len(ins) == len(outs)
        assert (outs["day"].to_numpy() - ins["day"].to_numpy() <= np.timedelta64(5, "D")).all()


def test_round_trips_come_back_marked_up_and_money_flows_keep_their_shape(world):
    folder, _ = world
    d = read(folder, "declarations")
    d = d[d["flow"] == "EXPORT"].assign(unit=lambda x: x["value_usd"].replace("", np.nan).astype(float).fillna(
        x["invoice_value"].astype(float)) / x["net_mass_kg"].astype(float))
    for rec in instances(folder, "circular_trade", "related_party_round_trip"):
        a, b = ids_of(rec)
        out = d[(d["exporter_id"] == a) & (d["importer_id"] == b)]["unit"].iat[0]
        back = d[(d["exporter_id"] == b) & (d["importer_id"] == a)]["unit"].iat[0]
        assert 1.6 < back / out < 3.6, rec  # 2-3x the value (currencies converted roughly)
    p = read(folder, "payments")
    for rec in instances(folder, "pass_through_account"):
        (f,) = ids_of(rec)
        ins, outs = p[p["to_account"] == f], p[p["from_account"] == f]
        assert ins["from_account"].nunique() >= 5 and outs["to_account"].nunique() >= 5
    for rec in instances(folder, "scatter_gather"):
        src, gather = ids_of(rec)
        mids = set(p[p["from_account"] == src]["to_account"])
        assert len(mids) >= 3 and mids <= set(p[p["to_account"] == gather]["from_account"])
    for rec in instances(folder, "circular_payment", "shrinking_repeated_cycle"):
        cyc = ids_of(rec)
        hops = p[p["from_account"].isin(cyc) & p["to_account"].isin(cyc)]
        assert len(hops) >= 2 * len(cyc)
    c = read(folder, "cash_reports")
    for rec in instances(folder, "cash_structuring", "eu_threshold"):
        mine = c[c["person_id"].isin(ids_of(rec))]
        amounts = mine["amount"].astype(float)
        assert (mine["currency"] == "EUR").all() and (amounts < 10_000).all() and amounts.sum() > 10_000


def test_later_plants_change_no_row_of_earlier_ones(world, tmp_path, monkeypatch):
    """The second phase (variants and newer families) only appends rows: the world without it
    is a prefix of every file."""
    from graphiff.samples import world as world_mod

    folder, _ = world
    monkeypatch.setattr(world_mod, "VARIANTS", [])
    first = tmp_path / "first"
    generate_world(first, scale=SCALE, seed=SEED)
    for f in sorted(first.glob("*.csv")):
        a = f.read_text(encoding="utf-8").splitlines()
        b = (folder / f.name).read_text(encoding="utf-8").splitlines()
        assert b[: len(a)] == a, f.name
    t0, t1 = truth(first), truth(folder)
    assert t1["instances"][: len(t0["instances"])] == t0["instances"]
    assert t1["decoys"][: len(t0["decoys"])] == t0["decoys"]

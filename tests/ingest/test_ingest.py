"""Ingest: every file kind and format, quarantine reasons, fatal errors, idempotency, KCS."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from graphiff.errors import InvalidInput, InvalidMapping
from graphiff.ingest import load_paths
from graphiff.stores import open_store
from tests.conftest import KCS, ROOT
from tests.world import HOSTILE, TABLES, write_world

EXPECTED_LOADED = {k: len(v) for k, v in TABLES.items()}


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "graphiff.cli", *args], capture_output=True, text=True, cwd=cwd)


def _quarantine_rows(path: str | None) -> list[dict]:
    if not path:
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_every_kind_loads_into_the_graph(store, tmp_path):
    folder = write_world(tmp_path / "in")
    res = load_paths(store, [folder], quarantine_dir=tmp_path / "q")
    assert res.loaded == EXPECTED_LOADED
    assert sum(res.quarantined.values()) == 0, _quarantine_rows(res.quarantine)
    c = store.counts()
    # 3 traders from the file + F9, a partner known only from a declaration
    assert c["nodes"]["Trader"] == 4
    assert c["nodes"]["Declaration"] == 3
    assert c["nodes"]["Person"] == 1 and c["nodes"]["Carrier"] == 1
    assert c["nodes"]["Container"] == 2
    assert c["relationships"]["EXPORTED"] == 3 and c["relationships"]["IMPORTED_BY"] == 3
    assert c["relationships"]["OFFICER_OF"] == 2 and c["relationships"]["HOLDS"] == 3
    assert c["relationships"]["SETTLES"] == 3  # INV1 is on three declaration items
    # T1, T2 and C1 share an address; T1 and C1 a phone: one node each, several links
    assert store.rels("HAS_PHONE").groupby("dst")["src"].nunique().max() == 2
    located = store.rels("LOCATED_AT")
    assert located.groupby("dst")["src"].nunique().max() == 3  # T1, T2 (same street, same city) and C1
    traders = store.nodes("Trader").set_index("key")
    assert traders.loc["F9", "origin"] == "declaration" and traders.loc["F9", "country"] == "CN"
    assert traders.loc["T2", "country"] == "KE"  # alpha-3 normalised
    assert traders.loc["T1", "risk_note"] == "kept as property"
    decl = store.nodes("Declaration").set_index("key")
    assert decl.loc["D1/1", "usd_status"] == "converted" and decl.loc["D1/1", "value_usd"] == pytest.approx(1090.0)
    assert decl.loc["D1/2", "value_usd"] == pytest.approx(500.0)
    # no UGX rate: kept and flagged, never treated as USD
    assert decl.loc["D2/1", "usd_status"] == "unconvertible" and pd.isna(decl.loc["D2/1", "value_usd"])
    accounts = set(store.nodes("BankAccount")["key"])
    assert "DE89370400440532013000" in accounts  # IBAN spaces removed
    prov = store.nodes("Payment").iloc[0]
    assert prov["_source"] == "payments.csv" and int(prov["_line"]) == 2 and prov["_load_id"] == res.load_id


@pytest.mark.parametrize("fmt", ["xlsx", "jsonl", "parquet"])
def test_other_formats_give_the_same_graph(fmt, tmp_path):
    with open_store(str(tmp_path / "csv.duckdb")) as a, open_store(str(tmp_path / f"{fmt}.duckdb")) as b:
        load_paths(a, [write_world(tmp_path / "csv")], quarantine_dir=tmp_path / "q")
        res = load_paths(b, [write_world(tmp_path / fmt, fmt)], quarantine_dir=tmp_path / "q")
        assert res.loaded == EXPECTED_LOADED
        assert a.counts() == b.counts()
        assert sorted(a.nodes("Trader")["name"]) == sorted(b.nodes("Trader")["name"])


def test_hostile_names_are_plain_text(store, tmp_path):
    load_paths(store, [write_world(tmp_path / "in")], quarantine_dir=tmp_path / "q")
    names = set(store.nodes("Trader")["name"])
    for h in HOSTILE:
        assert h in names


def test_load_twice_same_status(store_uri, tmp_path):
    folder = write_world(tmp_path / "in")
    first = _cli("load", str(folder), "--store", store_uri, "--json", "--quarantine-dir", str(tmp_path / "q"))
    assert first.returncode == 0, first.stderr
    s1 = json.loads(_cli("status", "--store", store_uri, "--json").stdout)
    second = _cli("load", str(folder), "--store", store_uri, "--json", "--quarantine-dir", str(tmp_path / "q"))
    assert json.loads(second.stdout)["loaded"] == json.loads(first.stdout)["loaded"]
    s2 = json.loads(_cli("status", "--store", store_uri, "--json").stdout)
    assert s1["nodes"] == s2["nodes"] and s1["relationships"] == s2["relationships"]
    assert [d["load_id"] for d in s1["loads"]] == [d["load_id"] for d in s2["loads"]]
    # and the library sees the same graph as the CLI reported
    with open_store(store_uri) as st:
        assert st.counts()["nodes"] == s2["nodes"]


BAD_DECLARATIONS = [
    # (field overrides, column, reason fragment)
    ({"date": "2024-02-30"}, "date", "bad date"),
    ({"invoice_value": "-10"}, "invoice_value", "bad amount"),
    ({"invoice_value": "ten"}, "invoice_value", "bad amount"),
    ({"currency": "XXY"}, "currency", "unknown currency"),
    ({"reporting_country": "Atlantis"}, "reporting_country", "unknown country"),
    ({"hs_code": "85A712"}, "hs_code", "bad HS code"),
    ({"hs_code": "8517"}, "hs_code", "bad HS code"),
    ({"declaration_id": ""}, "declaration_id", "missing required value"),
    ({"flow": "SIDEWAYS"}, "flow", "unexpected value"),
    ({"exporter_id": "", "importer_id": ""}, "exporter_id", "neither exporter_id nor importer_id"),
]


def test_bad_rows_are_quarantined_with_reasons(store, tmp_path):
    tables = {k: list(v) for k, v in TABLES.items()}
    good = dict(TABLES["declarations"][0])
    for i, (override, _, _) in enumerate(BAD_DECLARATIONS):
        tables["declarations"].append({**good, "declaration_id": f"BAD{i}", **override})
    tables["payments"] = tables["payments"] + [
        {**TABLES["payments"][0], "payment_id": "PAYX", "amount": "0"},
        {**TABLES["payments"][0], "payment_id": "PAYI", "from_account": "DE00370400440532013000"},
    ]
    folder = write_world(tmp_path / "in", tables=tables)
    with (folder / "declarations.csv").open("a", encoding="utf-8") as fh:
        fh.write("SHORT,1,EXPORT\n")  # wrong field count
    res = load_paths(store, [folder], quarantine_dir=tmp_path / "q")
    rows = _quarantine_rows(res.quarantine)
    assert res.loaded["declarations"] == 3  # every good row still loads
    assert res.quarantined["declarations"] == len(BAD_DECLARATIONS) + 1
    # an IBAN failing its check is data, not garbage (issue 11): PAYI is kept and marked
    assert res.quarantined["payments"] == 1
    assert res.warnings["payments"] == {"iban_invalid": 1}
    by_value = {(r["column"], r["reason"].split(" (")[0]) for r in rows}
    for override, column, reason in BAD_DECLARATIONS:
        assert any(c == column and reason in r for c, r in by_value), (column, reason)
    wrong = [r for r in rows if "wrong field count" in r["reason"]]
    assert len(wrong) == 1 and wrong[0]["value"].startswith("SHORT") and wrong[0]["file"] == "declarations.csv"
    assert int(wrong[0]["line"]) == len(tables["declarations"]) + 2
    assert not any(r["column"] == "from_account" for r in rows)
    assert store.nodes("Payment").set_index("key").loc["PAYI", "id_check"] == "iban_invalid"
    assert any(r["column"] == "amount" and r["reason"].startswith("bad amount") for r in rows)
    # a bad row's line points at the file line (header = line 1)
    bad0 = next(r for r in rows if r["value"] == "2024-02-30")
    assert int(bad0["line"]) == len(TABLES["declarations"]) + 2
    assert "BAD0/1" not in set(store.nodes("Declaration")["key"])


def test_duplicate_key_in_one_file_is_quarantined(tmp_path):
    tables = {"traders": TABLES["traders"] + [dict(TABLES["traders"][0], name="Again")]}
    folder = write_world(tmp_path / "in", tables=tables)
    with open_store(str(tmp_path / "s.duckdb")) as st:
        res = load_paths(st, [folder], quarantine_dir=tmp_path / "q")
        assert res.loaded["traders"] == 3 and res.quarantined["traders"] == 1
        assert "duplicate key" in _quarantine_rows(res.quarantine)[0]["reason"]
        assert "Again" not in set(st.nodes("Trader")["name"])


def test_missing_required_column_is_fatal_exit_2(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    pd.DataFrame([{"trader_id": "T1", "name": "x"}]).to_csv(folder / "traders.csv", index=False)
    proc = _cli("load", str(folder), "--store", str(tmp_path / "s.duckdb"))
    assert proc.returncode == 2
    assert "traders.csv" in proc.stderr and "'country'" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_binary_file_is_fatal_exit_2(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "declarations.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00binary")
    proc = _cli("load", str(folder), "--store", str(tmp_path / "s.duckdb"))
    assert proc.returncode == 2
    assert "declarations.csv" in proc.stderr and "Traceback" not in proc.stderr
    with pytest.raises(InvalidInput):
        with open_store(str(tmp_path / "s2.duckdb")) as st:
            load_paths(st, [folder], quarantine_dir=tmp_path / "q")


def test_bad_mapping_is_fatal_exit_2(tmp_path):
    m = tmp_path / "m.yaml"
    m.write_text("kind: declarations\nmatch: ['*.csv']\ncolumns:\n  declaration_idx: ID\n", encoding="utf-8")
    data = tmp_path / "x.csv"
    data.write_text("ID\n1\n", encoding="utf-8")
    proc = _cli("load", str(data), "--mapping", str(m), "--store", str(tmp_path / "s.duckdb"))
    assert proc.returncode == 2
    assert "m.yaml" in proc.stderr and "declaration_idx" in proc.stderr and "Traceback" not in proc.stderr
    with pytest.raises(InvalidMapping):
        from graphiff.ingest import load_mapping

        load_mapping(m)


@pytest.mark.skipif(not KCS.exists(), reason="the KCS dataset lives in ../shared/datasets/kcs")
def test_kcs_every_row_loaded_or_quarantined(tmp_path):
    proc = _cli("load", str(KCS), str(ROOT / "samples" / "rates" / "rates_krw_2020.csv"),
                "--mapping", str(ROOT / "samples" / "mappings" / "kcs.yaml"),
                "--store", str(tmp_path / "kcs.duckdb"), "--quarantine-dir", str(tmp_path / "q"), "--json")
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    assert res["loaded"]["declarations"] + res["quarantined"]["declarations"] == 37385
    rows = _quarantine_rows(res["quarantine"])
    assert len({r["line"] for r in rows}) == res["quarantined"]["declarations"]
    assert all(r["reason"] and r["file"] == KCS.name for r in rows)
    with open_store(str(tmp_path / "kcs.duckdb")) as st:
        decl = st.nodes("Declaration", ["usd_status", "importer_country", "hs6"])
        assert len(decl) == res["loaded"]["declarations"]
        assert set(decl["usd_status"]) == {"converted"} and set(decl["importer_country"]) == {"KR"}


def test_read_commands_refuse_a_missing_store(tmp_path):
    missing = tmp_path / "typo" / "graph.duckdb"
    proc = _cli("status", "--store", str(missing))
    assert proc.returncode == 2
    assert "no embedded store" in proc.stderr and "Traceback" not in proc.stderr
    assert not missing.exists() and not missing.parent.exists()


def test_mapping_with_unknown_top_level_key_is_fatal(tmp_path):
    m = tmp_path / "m.yaml"
    m.write_text("kind: declarations\ncolums:\n  declaration_id: ID\n", encoding="utf-8")
    with pytest.raises(InvalidMapping, match="unknown mapping key 'colums'"):
        from graphiff.ingest import load_mapping

        load_mapping(m)

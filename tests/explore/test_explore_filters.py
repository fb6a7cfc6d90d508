"""explore and path with the analyst's filters (--rel, --types, --from/--to) and the hub limit, on a world
where one shipping line (C1, "Fast Lines") carries 251 declarations: two hops from a trader must not reach
every trader of the line through it, and the line is listed as a hub with its counts instead."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from graphiff.errors import GraphiffError
from graphiff.explore import neighbourhood, paths
from graphiff.graph.tables import Tables
from graphiff.ingest import load_paths
from graphiff.stores import open_store
from tests._clikit import run_cli_streams

BULK = 250          # declarations of the 50 bulk traders, all on C1 (with X1: 251)


def build_hub_world(folder: Path) -> Path:
    """A -X1-> B -X2-> C -X3-> A and A -X4-> B (a cycle and a repeat), money AA -> AB twice, P1 directs A;
    T00..T49 trade round in 250 declarations; C1 carries X1 and all 250, C2 the rest."""
    data = folder / "data"
    data.mkdir(parents=True)
    traders = [("A", "Alpha Metals"), ("B", "Beta Trading"), ("C", "Gamma Goods")]
    traders += [(f"T{i:02d}", f"Bulk Trader {i:02d}") for i in range(50)]
    pd.DataFrame([{"trader_id": k, "name": n, "country": "KE"} for k, n in traders]).to_csv(
        data / "traders.csv", index=False)
    pd.DataFrame([{"carrier_id": "C1", "name": "Fast Lines", "country": "SG", "carrier_type": "SEA"},
                  {"carrier_id": "C2", "name": "Slow Boats", "country": "KE", "carrier_type": "ROAD"}]).to_csv(
        data / "carriers.csv", index=False)
    rows = [("X1", "A", "B", "2024-01-10", 1000, "C1", "851712"), ("X2", "B", "C", "2024-02-10", 1100, "C2", "851712"),
            ("X3", "C", "A", "2024-03-10", 1200, "C2", "851712"), ("X4", "A", "B", "2024-04-10", 900, "C2", "620342")]
    rows += [(f"D{i:03d}", f"T{i % 50:02d}", f"T{(i + 1) % 50:02d}", f"2024-0{1 + i % 9}-15", 500, "C1", "100630")
             for i in range(BULK)]
    pd.DataFrame([{"declaration_id": d, "item_no": 1, "flow": "EXPORT", "reporting_country": "KE", "date": day,
                   "exporter_id": a, "importer_id": b, "hs_code": hs, "invoice_value": v, "currency": "USD",
                   "carrier_id": c} for d, a, b, day, v, c, hs in rows]).to_csv(data / "declarations.csv", index=False)
    pd.DataFrame([{"person_id": "P1", "name": "Paula Director", "nationality": "KE"}]).to_csv(
        data / "persons.csv", index=False)
    pd.DataFrame([{"officer_id": "P1", "company_id": "A", "role": "DIRECTOR", "start_date": "2020-01-01"}]).to_csv(
        data / "officers.csv", index=False)
    pd.DataFrame([{"account_id": "AA", "holder_id": "A", "bank_country": "KE"},
                  {"account_id": "AB", "holder_id": "B", "bank_country": "KE"}]).to_csv(data / "accounts.csv",
                                                                                      index=False)
    pd.DataFrame([{"payment_id": "PAY1", "date": "2024-01-20", "from_account": "AA", "to_account": "AB",
                   "amount": 1000, "currency": "USD"},
                  {"payment_id": "PAY2", "date": "2024-02-20", "from_account": "AA", "to_account": "AB",
                   "amount": 500, "currency": "USD"}]).to_csv(data / "payments.csv", index=False)
    db = folder / "hubs.duckdb"
    with open_store(str(db)) as st:
        res = load_paths(st, [data], quarantine_dir=folder / "q")
        assert sum(res.quarantined.values()) == 0
    return db


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    return build_hub_world(tmp_path_factory.mktemp("hubs"))


@pytest.fixture(scope="module")
def tables(db):
    st = open_store(str(db))
    yield Tables(st)
    st.close()


def ids(rows) -> set[str]:
    return {r["id"] for r in rows}


def bulk(rows) -> set[str]:
    return {i for i in ids(rows) if i.startswith("Trader:T")}


# ------------------------------------------------------------------------------------ library

def test_two_hops_do_not_pass_through_a_hub(tables):
    free = neighbourhood(tables, "A", hops=2, limit=None)
    assert len(bulk(free["neighbours"])) == 50                     # through C1: every bulk trader
    assert free["hubs"] == []
    capped = neighbourhood(tables, "A", hops=2, limit=None, hub_limit=200)
    assert bulk(capped["neighbours"]) == set()
    assert {"Trader:B", "Trader:C", "Carrier:C1", "Carrier:C2"} <= ids(capped["neighbours"])
    [hub] = capped["hubs"]
    assert (hub["id"], hub["caption"], hub["hops"]) == ("Carrier:C1", "Fast Lines", 1)
    assert hub["neighbours"]["Declaration"] == BULK + 1            # direct neighbours, as a chart's hubs
    assert hub["reach"]["Declaration"] == BULK + 1 and hub["reach"]["Trader"] == 52   # 50 bulk + A + B
    assert capped["counts"]["records"]["Declaration"] == 4         # X1..X4, none of C1's bulk ones
    json.dumps(capped)


def test_a_hub_under_the_filters_is_no_hub(tables):
    # in January C1 carries 29 declarations: under the limit, it is walked through again
    jan = neighbourhood(tables, "A", hops=2, limit=None, hub_limit=200, date_to="2024-01")
    assert jan["hubs"] == [] and len(bulk(jan["neighbours"])) > 0
    assert "Declaration:X4/1" not in ids(jan["records"])


def test_relationship_and_type_filters(tables):
    trade = neighbourhood(tables, "A", hops=1, rel_types=["EXPORTED", "IMPORTED_BY"])
    assert ids(trade["neighbours"]) == {"Trader:B", "Trader:C"}
    assert {lk["how"] for n in trade["neighbours"] for lk in n["links"]} <= {
        "-[EXPORTED]-> Declaration -[IMPORTED_BY]->", "<-[IMPORTED_BY]- Declaration <-[EXPORTED]-"}
    only = neighbourhood(tables, "A", hops=1, types=["Trader", "Person"], hub_limit=200)
    assert {n["label"] for n in only["neighbours"]} == {"Trader", "Person"}
    assert "Declaration:X1/1" in ids(only["records"])              # records are still passed through
    with pytest.raises(GraphiffError, match="Tradr"):
        neighbourhood(tables, "A", types=["Tradr"])
    with pytest.raises(GraphiffError, match="SHIPPED"):
        neighbourhood(tables, "A", rel_types=["SHIPPED"])


def test_date_filter(tables):
    spring = neighbourhood(tables, "A", hops=1, date_from="2024-03", hub_limit=200)
    assert "Declaration:X1/1" not in ids(spring["records"])
    b = next(n for n in spring["neighbours"] if n["id"] == "Trader:B")
    assert [r for lk in b["links"] for r in lk["record_ids"]] == ["Declaration:X4/1"]
    with pytest.raises(GraphiffError, match="empty"):
        neighbourhood(tables, "A", date_from="2024-05", date_to="2024-01")


def test_paths_do_not_pass_through_a_hub(tables):
    via = paths(tables, "A", "T10", max_len=3)
    assert via and "Carrier:C1" in {n["id"] for n in via[0]["nodes"]}
    assert paths(tables, "A", "T10", max_len=3, hub_limit=200) == []
    direct = paths(tables, "A", "C", k=1, rel_types=["EXPORTED", "IMPORTED_BY"], hub_limit=200)
    assert [n["id"] for n in direct[0]["nodes"]] == ["Trader:A", "Trader:C"]
    assert paths(tables, "A", "C", rel_types=["HOLDS"]) == []
    people = paths(tables, "P1", "B", k=1, types=["Person", "Trader"], hub_limit=200)
    assert [n["id"] for n in people[0]["nodes"]] == ["Person:P1", "Trader:A", "Trader:B"]


# ---------------------------------------------------------------------------------------- CLI

def test_cli_explore_lists_the_hub_instead_of_walking_through_it(db):
    code, out, err = run_cli_streams("explore", "A", "--hops", "2", "--limit", "500", "--store", str(db))
    assert code == 0, err
    assert "Bulk Trader" not in out
    line = next(x for x in out.splitlines() if x.startswith("C1 Fast Lines: hub"))
    assert "251 declarations" in line and "52 traders" in line and "not expanded" in line
    assert "--from/--to or --rel" in line
    code, out, err = run_cli_streams("explore", "A", "--hops", "2", "--limit", "500", "--hub-limit", "0",
                                     "--store", str(db))
    assert code == 0, err
    assert "Bulk Trader 10" in out and "hub," not in out
    code, out, err = run_cli_streams("explore", "A", "--hops", "2", "--json", "--store", str(db))
    assert [h["id"] for h in json.loads(out)["hubs"]] == ["Carrier:C1"]


def test_cli_explore_filters(db):
    code, out, err = run_cli_streams("explore", "A", "--rel", "EXPORTED", "--rel", "IMPORTED_BY", "--types",
                                     "trader", "--from", "2024-02", "--to", "2024-03-31", "--json", "--store", str(db))
    assert code == 0, err
    nb = json.loads(out)
    assert ids(nb["neighbours"]) == {"Trader:C"}                   # X3 only: C -> A in March
    assert ids(nb["records"]) == {"Declaration:X3/1"}


@pytest.mark.parametrize("command", [["explore", "A"], ["path", "A", "B"], ["chart", "--seed", "A", "--out", "c.html"]])
def test_bad_types_is_one_line_exit_2(db, tmp_path, command):
    command = [str(tmp_path / c) if c == "c.html" else c for c in command]
    code, out, err = run_cli_streams(*command, "--types", "Trader,Vessel", "--store", str(db))
    assert code == 2
    assert err.strip().splitlines() == [err.strip()] and "Traceback" not in err
    assert "--types" in err and "'Vessel'" in err and "Trader" in err
    assert not (tmp_path / "c.html").exists()


def test_cli_path_with_filters_and_hub_limit(db):
    code, out, err = run_cli_streams("path", "A", "T10", "--max-len", "3", "--store", str(db))
    assert code == 0, err
    assert "no path" in out and "--hub-limit" in out
    code, out, err = run_cli_streams("path", "A", "T10", "--max-len", "3", "--hub-limit", "0", "--store", str(db))
    assert code == 0 and "path 1" in out and "Fast Lines" in out, out
    code, out, err = run_cli_streams("path", "A", "C", "--rel", "EXPORTED", "--rel", "IMPORTED_BY", "--k", "1",
                                     "--json", "--store", str(db))
    found = json.loads(out)
    assert [n["id"] for n in found[0]["nodes"]] == ["Trader:A", "Trader:C"]
    assert [r["id"] for r in found[0]["hops"][0]["records"]] == ["Declaration:X3/1"]

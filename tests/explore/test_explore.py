"""Exploring (graphiff.explore): neighbourhood, paths, communities, centrality, and the explore / path /
communities / central commands, on a real embedded store loaded from small canonical CSV files (the world
of tests/graph/test_select.py)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from graphiff.errors import GraphiffError, NotFound
from graphiff.explore import (
    centrality,
    communities,
    community_summary,
    neighbourhood,
    paths,
)
from graphiff.graph.tables import Tables
from graphiff.stores import open_store
from tests.graph.test_select import CASH, CT1, build_world


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    return build_world(tmp_path_factory.mktemp("explore"))


@pytest.fixture(scope="module")
def tables(db):
    st = open_store(str(db))
    yield Tables(st)
    st.close()


def by_id(rows) -> dict:
    return {r["id"]: r for r in rows}


# ------------------------------------------------------------------------------ neighbourhood

def test_neighbourhood_who_how_records_alerts(tables):
    nb = neighbourhood(tables, "T1")
    assert nb["entity"]["id"] == "Trader:T1" and nb["entity"]["caption"] == "Alpha Trading"
    assert nb["entity"]["props"]["_source"] == "traders.csv"
    who = by_id(nb["neighbours"])
    assert {"Trader:T2", "Trader:T5", "Carrier:C1", "BankAccount:A1", "Person:P1", "Country:KE"} <= set(who)
    assert "Trader:T3" not in who and "Trader:T6" not in who
    t2 = who["Trader:T2"]
    assert t2["hops"] == 1 and t2["caption"] == "Beta Imports" and t2["alerts"] == 1
    assert t2["links"] == [{"from": "Trader:T1", "how": "-[EXPORTED]-> Declaration -[IMPORTED_BY]->",
                            "records": 1, "record_ids": ["Declaration:D1/1"]}]
    hows = {lk["how"] for lk in who["Person:P1"]["links"]}
    assert hows == {"<-[OFFICER_OF]-", "<-[FOR]- CashReport -[FILED_BY]->"}
    # a payment that settles a declaration links the trader to the accounts on both ends
    assert "-[EXPORTED]-> Declaration <-[SETTLES]- Payment <-[SENT]-" in {
        lk["how"] for lk in who["BankAccount:A2"]["links"]}
    recs = by_id(nb["records"])
    assert set(recs) == {"Declaration:D1/1", "Declaration:D4/1", "Payment:PAY1", "CashReport:CR1"}
    assert recs["Declaration:D1/1"]["date"] == "2024-01-10" and recs["Declaration:D1/1"]["value_usd"] == 10000.0
    assert [r["date"] for r in nb["records"]] == sorted((r["date"] for r in nb["records"]), reverse=True)
    alerts = by_id(nb["alerts"])
    assert set(alerts) == {CT1, CASH}
    assert alerts[CT1]["flags"] == ["Trader:T1", "Trader:T2"] and alerts[CT1]["score"] == 0.9
    assert alerts[CASH]["flags"] == ["Person:P1"]
    assert nb["counts"]["records"] == {"CashReport": 1, "Declaration": 2, "Payment": 1}
    assert nb["counts"]["neighbours"]["Trader"] == 2
    json.dumps(nb)                                                  # plain JSON


def test_neighbourhood_two_hops_and_limit(tables):
    nb = neighbourhood(tables, "T1", hops=2)
    who = by_id(nb["neighbours"])
    assert who["Trader:T3"]["hops"] == 2
    assert {lk["from"] for lk in who["Trader:T3"]["links"]} >= {"Trader:T2"}
    assert who["Trader:T4"]["hops"] == 2                           # shared address / director
    assert [n["hops"] for n in nb["neighbours"]] == sorted(n["hops"] for n in nb["neighbours"])
    small = neighbourhood(tables, "T1", hops=2, limit=3)
    assert len(small["neighbours"]) == 3 and small["truncated"]["neighbours"]
    assert small["counts"] == nb["counts"]


def test_neighbourhood_of_a_record_and_of_an_alert(tables):
    nb = neighbourhood(tables, "D1/1")
    assert {"Trader:T1", "Trader:T2", "Carrier:C1", "Container:CONT1"} <= set(by_id(nb["neighbours"]))
    nb = neighbourhood(tables, CT1)
    assert [n["id"] for n in nb["neighbours"]] == ["Trader:T1", "Trader:T2"]     # T1 is better connected
    assert [a["id"] for a in nb["alerts"]] == [CT1]
    assert nb["neighbours"][0]["links"][0]["how"] == "-[FLAGS]->"


def test_neighbourhood_errors(tables):
    with pytest.raises(NotFound, match="NOPE"):
        neighbourhood(tables, "NOPE")
    with pytest.raises(GraphiffError):
        neighbourhood(tables, "T1", hops=-1)
    same = Tables.from_frames(nodes={"Trader": pd.DataFrame({"key": ["X1"]}),
                                     "Person": pd.DataFrame({"key": ["X1"]})})
    with pytest.raises(GraphiffError, match="Label:key"):
        neighbourhood(same, "X1")
    assert neighbourhood(same, "Person:X1")["entity"]["label"] == "Person"


# ------------------------------------------------------------------------------------- paths

def test_paths_with_records_on_each_hop(tables):
    found = paths(tables, "T1", "T3", max_len=4, k=3)
    assert 1 <= len(found) <= 3
    assert [p["length"] for p in found] == sorted(p["length"] for p in found)
    assert found[0]["length"] == 2
    seqs = [tuple(n["id"] for n in p["nodes"]) for p in found]
    assert len(set(seqs)) == len(seqs)
    assert all(s[0] == "Trader:T1" and s[-1] == "Trader:T3" for s in seqs)
    via_t2 = next(p for p in found if p["nodes"][1]["id"] == "Trader:T2")
    assert [[r["id"] for r in h["records"]] for h in via_t2["hops"]] == [["Declaration:D1/1"], ["Declaration:D2/1"]]
    assert via_t2["hops"][0]["how"] == ["-[EXPORTED]-> Declaration -[IMPORTED_BY]->"]
    assert via_t2["hops"][0]["records_total"] == 1
    for p in found:
        assert len(p["hops"]) == p["length"] and all(h["how"] for h in p["hops"])
    json.dumps(found)


def test_paths_limits(tables):
    assert paths(tables, "T1", "T3", max_len=1) == []
    assert len(paths(tables, "T1", "T3", k=1)) == 1
    assert paths(tables, "T1", "T6") == []                        # only the country in common
    assert paths(tables, "T1", "T1") == []
    to_record = paths(tables, "T1", "D3/1", k=1)
    assert to_record and to_record[0]["nodes"][-1]["id"] == "Declaration:D3/1"
    many = paths(tables, "T1", "T7", max_len=6, k=10)
    assert len(many) >= 3 and all(p["length"] <= 6 for p in many)
    with pytest.raises(NotFound):
        paths(tables, "T1", "NOPE")
    with pytest.raises(GraphiffError):
        paths(tables, "T1", "T3", max_len=0)


# ------------------------------------------------------------------------------ communities

def test_communities_trade(tables):
    df = communities(tables, "trade", "leiden")
    assert list(df.columns) == ["community", "size", "id", "label", "key", "caption", "degree", "strength"]
    assert set(df["id"]) == {f"Trader:T{i}" for i in (1, 2, 3, 5, 7)}      # traders that traded
    assert df["id"].is_unique
    sizes = df.groupby("community")["size"].first()
    assert (df.groupby("community").size() == sizes).all()
    assert list(sizes) == sorted(sizes, reverse=True)
    assert df.loc[df["key"] == "T1", "caption"].item() == "Alpha Trading"
    pd.testing.assert_frame_equal(df, communities(tables, "trade", "leiden"))   # same seed, same result
    lv = communities(tables, "trade", "louvain")
    assert set(lv["id"]) == set(df["id"])
    summary = community_summary(df, top=1, members=2)
    assert len(summary) == 1 and summary[0]["community"] == 0 and len(summary[0]["members"]) <= 2


def test_communities_other_projections(tables):
    allp = communities(tables, "all")
    assert not set(allp["label"]) & {"Declaration", "Payment", "CashReport", "Country", "Alert"}
    assert {"Trader:T1", "Person:P1", "BankAccount:A1"} <= set(allp["id"])
    own = communities(tables, "ownership")
    t1 = own.loc[own["id"] == "Trader:T1", "community"].item()
    assert own.loc[own["id"] == "Trader:T4", "community"].item() == t1      # shared address and director
    assert set(communities(tables, "money")["label"]) == {"BankAccount"}
    assert set(communities(tables, "carrier")["label"]) == {"Trader", "Carrier"}
    with pytest.raises(GraphiffError, match="projection"):
        communities(tables, "gossip")
    with pytest.raises(GraphiffError, match="method"):
        communities(tables, "trade", "astrology")


# -------------------------------------------------------------------------------- centrality

def test_centrality(tables):
    for measure in ("betweenness", "degree", "pagerank"):
        df = centrality(tables, "trade", measure, top=3)
        assert list(df.columns) == ["rank", "id", "label", "key", "caption", "score", "degree"]
        assert list(df["rank"]) == [1, 2, 3]
        assert df["id"].iloc[0] == "Trader:T2", measure               # T2 trades with T1, T3 and T7
        assert list(df["score"]) == sorted(df["score"], reverse=True)
    deg = centrality(tables, "trade", "degree", top=None)
    assert len(deg) == 5 and deg.iloc[0]["score"] == 3
    pr = centrality(tables, "trade", "pagerank", top=None)
    assert abs(pr["score"].sum() - 1.0) < 1e-6
    allp = centrality(tables, "all", "degree", top=None)
    assert not set(allp["label"]) & {"Declaration", "Payment", "CashReport"}
    assert centrality(tables, "trade", "betweenness", cutoff=1)["score"].max() == 0
    with pytest.raises(GraphiffError, match="measure"):
        centrality(tables, "trade", "fame")


# ---------------------------------------------------------------------------------------- CLI

def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "graphiff.cli", *args], capture_output=True, text=True,
                          timeout=300, env=env)


@pytest.fixture
def cli_db(db, tmp_path) -> str:
    copy = tmp_path / "cli.duckdb"
    shutil.copy(db, copy)
    return str(copy)


def test_cli_explore(cli_db, tables):
    p = run_cli("explore", "T1", "--store", cli_db, "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data == json.loads(json.dumps(neighbourhood(tables, "T1")))   # same as the library
    p = run_cli("explore", "P2", "--hops", "2", "--store", cli_db)
    assert p.returncode == 0, p.stderr
    assert "Petra [red]Two[/red]" in p.stdout                     # data is printed, never read as markup
    assert "neighbours within 2 hop(s)" in p.stdout and "Beta Imports" in p.stdout
    p = run_cli("explore", "NOPE", "--store", cli_db)
    assert p.returncode == 2 and "NOPE" in p.stderr and "Traceback" not in p.stderr


def test_cli_path(cli_db):
    p = run_cli("path", "T1", "T3", "--max-len", "3", "--k", "2", "--store", cli_db, "--json")
    assert p.returncode == 0, p.stderr
    found = json.loads(p.stdout)
    assert len(found) == 2 and found[0]["length"] == 2
    p = run_cli("path", "T1", "T3", "--store", cli_db)
    assert p.returncode == 0 and "path 1: 2 hop(s)" in p.stdout and "D1/1" in p.stdout
    p = run_cli("path", "T1", "T6", "--store", cli_db)
    assert p.returncode == 0 and "no path" in p.stdout


def test_cli_communities_and_central(cli_db, tmp_path):
    out = tmp_path / "comm.csv"
    p = run_cli("communities", "--projection", "trade", "--method", "louvain", "--top", "5", "--out", str(out),
                "--store", cli_db, "--json")
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert data["entities"] == 5 and data["communities"] >= 1 and data["top"][0]["community"] == 0
    assert set(pd.read_csv(out)["key"]) == {"T1", "T2", "T3", "T5", "T7"}
    p = run_cli("communities", "--store", cli_db)
    assert p.returncode == 0 and "trade communities (leiden)" in p.stdout
    p = run_cli("central", "--measure", "degree", "--top", "2", "--store", cli_db, "--json")
    assert p.returncode == 0, p.stderr
    rows = json.loads(p.stdout)
    assert [r["rank"] for r in rows] == [1, 2] and rows[0]["key"] == "T2" and rows[0]["score"] == 3.0
    p = run_cli("central", "--projection", "ownership", "--store", cli_db)
    assert p.returncode == 0 and "betweenness centrality in the ownership projection" in p.stdout
    p = run_cli("central", "--measure", "fame", "--store", cli_db)
    assert p.returncode == 2 and "measure" in p.stderr
    # the library reading the same store agrees
    with open_store(cli_db) as st:
        lib = centrality(Tables(st), "trade", "degree", top=2)
    assert [r["id"] for r in rows] == list(lib["id"])

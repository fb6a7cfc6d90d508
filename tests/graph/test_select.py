"""Subgraph selection (graphiff.graph.select.select) and the `graphiff chart` command, on a real
embedded store loaded from small canonical CSV files."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from graphiff.alerts import Alert, replace_alerts
from graphiff.errors import GraphiffError, NotFound
from graphiff.graph.select import Subgraph, select
from graphiff.graph.tables import Tables
from graphiff.ingest import load_paths
from graphiff.stores import open_store

# T1 -D1-> T2 -D2-> T3 -D3-> T5 -D4(2023)-> T1, T2 -D6-> T7; T1 and T4 share an address and a director
# (P1); T6 shares only the country KE with T1; P2 owned T2 until mid-2023; money A2 -> A1 settles D1.
FILES = {
    "traders.csv": """trader_id,name,country,address,city,phone
T1,Alpha Trading,KE,1 Main Street,Nairobi,+254 700 000001
T2,Beta Imports,UG,5 Lake Road,Kampala,+256 700 000002
T3,Gamma Goods,TZ,,,
T4,Delta Holdings,KE,1 Main Street,Nairobi,
T5,Epsilon Export,CN,,,
T6,Zeta Lonely,KE,,,
T7,Eta Retail,UG,,,
""",
    "persons.csv": """person_id,name,nationality
P1,Paul One,KE
P2,Petra [red]Two[/red],UG
""",
    "officers.csv": """officer_id,company_id,role,share_pct,start_date,end_date
P1,T1,DIRECTOR,,2020-01-01,
P1,T4,DIRECTOR,,2020-01-01,
P2,T2,OWNER,100,2019-01-01,2023-06-30
""",
    "carriers.csv": """carrier_id,name,country,carrier_type
C1,Fast Lines,KE,ROAD
C2,Slow Boats,CN,SEA
""",
    "declarations.csv": """declaration_id,item_no,flow,reporting_country,date,exporter_id,importer_id,hs_code,\
invoice_value,currency,net_mass_kg,carrier_id,container_ids,transport_doc_no,invoice_no
D1,1,EXPORT,KE,2024-01-10,T1,T2,851712,10000,USD,100,C1,CONT1,BL1,INV1
D2,1,EXPORT,UG,2024-02-15,T2,T3,851712,11000,USD,100,C1,,BL2,INV2
D3,1,EXPORT,TZ,2024-06-01,T3,T5,851712,12000,USD,100,C2,,BL3,INV3
D4,1,IMPORT,KE,2023-05-01,T5,T1,851712,9000,USD,100,C2,,BL4,INV4
D6,1,EXPORT,UG,2024-03-01,T2,T7,620342,5000,USD,50,,,BL6,INV6
""",
    "accounts.csv": """account_id,holder_id,bank_name,bank_country
A1,T1,Bank K,KE
A2,T2,Bank U,UG
A3,P2,Bank U,UG
""",
    "payments.csv": """payment_id,date,from_account,to_account,amount,currency,invoice_no,declaration_id
PAY1,2024-01-20,A2,A1,10000,USD,,D1
PAY2,2024-03-05,A3,A1,4000,USD,,
""",
    "cash_reports.csv": """report_id,report_type,date,amount,currency,person_id,trader_id,direction
CR1,BORDER,2024-02-01,9500,USD,P1,T1,OUT
""",
}

ALERTS = [
    Alert("circular_trade", 0.9, [{"label": "Trader", "id": "T1"}, {"label": "Trader", "id": "T2"}],
          "T1 and T2 traded the same goods round", {"declarations": ["D1/1"]}),
    Alert("circular_trade", 0.5, [{"label": "Trader", "id": "T3"}], "a weaker one", {}),
    Alert("cash_structuring", 0.7, [{"label": "Person", "id": "P1"}], "cash just below the threshold",
          {"reports": ["CR1"]}),
]
CT1, CT2, CASH = (a.id for a in ALERTS)


def build_world(folder: Path) -> Path:
    """Write the CSV files, load them into a new embedded store, add the alerts; return the store path."""
    data = folder / "data"
    data.mkdir(parents=True)
    for name, text in FILES.items():
        (data / name).write_text(text, encoding="utf-8")
    db = folder / "world.duckdb"
    with open_store(str(db)) as st:
        res = load_paths(st, [data], quarantine_dir=folder / "q")
        assert sum(res.quarantined.values()) == 0
        replace_alerts(st, ALERTS, run_id="R1", loaded_at="2024-07-01T00:00:00Z")
    return db


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    return build_world(tmp_path_factory.mktemp("subgraph"))


@pytest.fixture(scope="module")
def tables(db):
    st = open_store(str(db))
    yield Tables(st)
    st.close()


def ids(sub: Subgraph) -> set[str]:
    return {n.id for n in sub.nodes}


def check_well_formed(sub: Subgraph) -> None:
    node_ids = [n.id for n in sub.nodes]
    assert len(node_ids) == len(set(node_ids))
    assert len({e.id for e in sub.edges}) == len(sub.edges)
    for e in sub.edges:
        assert e.source in node_ids and e.target in node_ids, e
    for n in sub.nodes:
        assert n.id == f"{n.label}:{n.key}"


# ---------------------------------------------------------------------------------------- hops

def test_one_hop_reaches_partners_through_records(tables):
    sub = select(tables, ["T1"], hops=1)
    check_well_formed(sub)
    got = ids(sub)
    for want in ("Trader:T1", "Declaration:D1/1", "Trader:T2", "Declaration:D4/1", "Trader:T5", "Carrier:C1",
                 "Container:CONT1", "BankAccount:A1", "Person:P1", "CashReport:CR1", "Country:KE",
                 "Address:1 MAIN STREET NAIROBI KE"):
        assert want in got
    for not_yet in ("Trader:T3", "Trader:T4", "Trader:T7", "Trader:T6", "Declaration:D2/1"):
        assert not_yet not in got
    assert sub.seeds == ["Trader:T1"] and sub.nodes[0].id == "Trader:T1"
    assert sub.omitted == {}
    # every walkable relationship between chosen nodes is there, e.g. the declaration's ends
    pairs = {(e.source, e.type, e.target) for e in sub.edges}
    assert ("Trader:T1", "EXPORTED", "Declaration:D1/1") in pairs
    assert ("Declaration:D1/1", "IMPORTED_BY", "Trader:T2") in pairs
    assert ("Payment:PAY1", "SETTLES", "Declaration:D1/1") in pairs


def test_two_hops_and_country_is_not_walked_through(tables):
    got = ids(select(tables, ["T1"], hops=2))
    assert {"Trader:T3", "Trader:T4", "Trader:T7", "Declaration:D2/1", "Person:P2"} <= got
    assert "Trader:T6" not in got          # shares only Country KE with T1
    assert ids(select(tables, ["T6"], hops=1)) == {"Trader:T6", "Country:KE"}


def test_zero_hops_is_the_seeds_and_their_alerts(tables):
    sub = select(tables, ["T1"], hops=0)
    assert ids(sub) == {"Trader:T1", f"Alert:{CT1}"}
    assert [(e.source, e.type, e.target) for e in sub.edges] == [(f"Alert:{CT1}", "FLAGS", "Trader:T1")]


# ----------------------------------------------------------------------------------- filters

def test_relationship_filter(tables):
    sub = select(tables, ["T1"], hops=1, rel_types=["EXPORTED", "IMPORTED_BY"])
    check_well_formed(sub)
    assert ids(sub) == {"Trader:T1", "Declaration:D1/1", "Trader:T2", "Declaration:D4/1", "Trader:T5",
                        f"Alert:{CT1}"}
    assert {e.type for e in sub.edges} == {"EXPORTED", "IMPORTED_BY", "FLAGS"}
    with pytest.raises(GraphiffError, match="NOT_A_TYPE"):
        select(tables, ["T1"], rel_types=["NOT_A_TYPE"])


def test_date_range(tables):
    got = ids(select(tables, ["T1"], hops=1, date_from="2024-01-01"))
    assert "Declaration:D4/1" not in got and "Trader:T5" not in got        # only linked by the 2023 import
    assert "Declaration:D1/1" in got
    got = ids(select(tables, ["T1"], hops=2, date_to="2024-01"))          # a month bound keeps all of January
    assert "Declaration:D1/1" in got and "Payment:PAY1" in got
    assert "Declaration:D2/1" not in got and "Trader:T3" not in got
    # an officer period that ended before the range is not walked
    got = ids(select(tables, ["T2"], hops=1, date_from="2024-01-01"))
    assert "Person:P2" not in got
    assert "Person:P2" in ids(select(tables, ["T2"], hops=1))
    # a dated seed outside the range is still shown
    assert "Declaration:D4/1" in ids(select(tables, ["D4/1"], hops=0, date_from="2024-01-01"))
    with pytest.raises(GraphiffError, match="not a date"):
        select(tables, ["T1"], date_from="last week")
    with pytest.raises(GraphiffError, match="empty"):
        select(tables, ["T1"], date_from="2024-05-01", date_to="2024-01-01")
    assert "Declaration:D1/1" in ids(select(tables, ["T1"], date_from="2024-01-10", date_to="2024-01"))


# -------------------------------------------------------------------------------------- cap

def test_cap_keeps_the_most_relevant_and_reports_the_rest(tables):
    full = select(tables, ["T1"], hops=2, max_nodes=10_000)
    assert full.omitted == {}
    capped = select(tables, ["T1"], hops=2, max_nodes=6)
    check_well_formed(capped)
    assert len(capped.nodes) == 6
    assert capped.nodes[0].id == "Trader:T1"
    assert f"Alert:{CT1}" in ids(capped)                      # an alert on a kept node is kept
    # what was left out is exactly the difference, by label
    diff = Counter(n.label for n in full.nodes) - Counter(n.label for n in capped.nodes)
    assert capped.omitted == dict(diff)
    assert sum(capped.omitted.values()) == len(full.nodes) - 6
    # the chart stays connected: every kept entity touches another kept node
    touched = {e.source for e in capped.edges} | {e.target for e in capped.edges}
    assert ids(capped) <= touched
    # nearer nodes first: nothing at two hops is kept while something at one hop is left out
    one_hop = ids(select(tables, ["T1"], hops=1, max_nodes=10_000))
    assert ids(capped) <= one_hop
    with pytest.raises(GraphiffError):
        select(tables, ["T1"], max_nodes=0)


def test_cap_takes_seeds_in_order_first(tables):
    sub = select(tables, ["T3", "T7", "T6"], hops=1, max_nodes=3)
    # T3, the alert on T3 (kept with it), T7; the third seed T6 and every neighbour are left out
    assert [n.id for n in sub.nodes] == ["Trader:T3", f"Alert:{CT2}", "Trader:T7"]
    assert sub.seeds == ["Trader:T3", "Trader:T7"]
    assert sub.omitted["Trader"] >= 3 and sub.omitted["Declaration"] == 3     # T6, T2, T5; D2, D3, D6


# ----------------------------------------------------------------------------------- alerts

def test_alert_seed(tables):
    sub = select(tables, alert=CT1, hops=0)
    check_well_formed(sub)
    assert ids(sub) == {f"Alert:{CT1}", "Trader:T1", "Trader:T2"}
    assert sub.seeds == [f"Alert:{CT1}", "Trader:T1", "Trader:T2"]
    assert {(e.source, e.target) for e in sub.edges if e.type == "FLAGS"} == {
        (f"Alert:{CT1}", "Trader:T1"), (f"Alert:{CT1}", "Trader:T2")}
    alert = next(n for n in sub.nodes if n.label == "Alert")
    assert alert.caption == "circular_trade" and alert.props["score"] == 0.9
    assert json.loads(alert.props["evidence"]) == {"declarations": ["D1/1"]}
    # the same through seeds=[alert id], and with hops the neighbourhood comes too
    assert ids(select(tables, [CT1], hops=0)) == ids(sub)
    assert "Declaration:D1/1" in ids(select(tables, alert=CT1, hops=1))


def test_pattern_seeds_every_alert_of_the_pattern(tables):
    sub = select(tables, pattern="circular_trade", hops=0)
    assert ids(sub) == {f"Alert:{CT1}", f"Alert:{CT2}", "Trader:T1", "Trader:T2", "Trader:T3"}
    assert sub.seeds[0] == f"Alert:{CT1}"                     # highest score first
    assert "circular_trade" in sub.title


def test_alerts_flagging_chosen_nodes_are_shown(tables):
    sub = select(tables, ["P1"], hops=0)
    assert ids(sub) == {"Person:P1", f"Alert:{CASH}"}
    sub = select(tables, ["T2"], hops=1)
    assert f"Alert:{CT1}" in ids(sub) and f"Alert:{CASH}" not in ids(sub)


def test_not_found(tables):
    with pytest.raises(NotFound, match="NOPE"):
        select(tables, ["NOPE"])
    with pytest.raises(NotFound, match="no Person with key 'T1'"):
        select(tables, ["Person:T1"])
    with pytest.raises(NotFound, match="no alert"):
        select(tables, alert="circular_trade:0000")
    with pytest.raises(NotFound, match="patterns in the store: cash_structuring, circular_trade"):
        select(tables, pattern="mirror_discrepancy")
    with pytest.raises(GraphiffError, match="at least one seed"):
        select(tables)
    assert ids(select(tables, ["Trader:T1"], hops=0)) == ids(select(tables, ["T1"], hops=0))


# ------------------------------------------------------------------------- content of nodes

def test_props_captions_and_provenance(tables, db):
    sub = select(tables, ["T1"], hops=1)
    by_id = {n.id: n for n in sub.nodes}
    t1 = by_id["Trader:T1"]
    assert t1.caption == "Alpha Trading"
    assert t1.props["name"] == "Alpha Trading" and t1.props["country"] == "KE"
    assert t1.props["_source"] == "traders.csv" and t1.props["_line"] == 2
    assert t1.props["_load_id"] and t1.props["_loaded_at"]
    assert "key" not in t1.props and all(v is not None for v in t1.props.values())
    d1 = by_id["Declaration:D1/1"]
    assert d1.caption == "D1/1" and d1.props["value_usd"] == 10000.0 and d1.props["_source"] == "declarations.csv"
    off = [e for e in sub.edges if e.type == "OFFICER_OF"]
    assert off and off[0].props["role"] == "DIRECTOR" and off[0].props["_source"] == "officers.csv"
    assert all("_source" in e.props for e in sub.edges)


def test_store_and_tables_give_the_same_subgraph(tables, db, tmp_path):
    copy = tmp_path / "copy.duckdb"
    shutil.copy(db, copy)
    with open_store(str(copy)) as st:
        a = select(st, ["T1"], hops=2)
    b = select(tables, ["T1"], hops=2)
    assert [n.id for n in a.nodes] == [n.id for n in b.nodes]
    assert sorted(e.id for e in a.edges) == sorted(e.id for e in b.edges)


def test_in_memory_tables_and_chart_file(tmp_path):
    """Tables.from_frames (no store) work too, and the result goes through a chart writer."""
    from graphiff.charts.base import write_chart

    decl = pd.DataFrame({"key": ["X/1", "Y/1"], "date": ["2024-01-01", "2024-02-01"]})
    rels = {
        "EXPORTED": pd.DataFrame({"src_label": "Trader", "src": ["A", "B"], "dst_label": "Declaration",
                                  "dst": ["X/1", "Y/1"]}),
        "IMPORTED_BY": pd.DataFrame({"src_label": "Declaration", "src": ["X/1", "Y/1"], "dst_label": "Trader",
                                     "dst": ["B", "C"]}),
    }
    t = Tables.from_frames(nodes={"Declaration": decl, "Trader": pd.DataFrame({"key": ["A", "B"],
                                                                               "name": ["Ay", "Bee"]})}, rels=rels)
    sub = select(t, ["A"], hops=2)
    assert ids(sub) == {"Trader:A", "Declaration:X/1", "Trader:B", "Declaration:Y/1", "Trader:C"}
    assert {n.id: n.caption for n in sub.nodes}["Trader:C"] == "C"    # known only from a relationship
    out = write_chart(sub, "graphml", tmp_path / "c.graphml")
    g = nx.read_graphml(out)
    assert g.number_of_nodes() == 5 and g.number_of_edges() == 4


# ---------------------------------------------------------------------------------------- CLI

def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "graphiff.cli", *args], capture_output=True, text=True,
                          timeout=300, env=env)


@pytest.fixture
def cli_db(db, tmp_path) -> Path:
    """A copy of the store, so the CLI process can open it while the module's tables hold the original."""
    copy = tmp_path / "cli.duckdb"
    shutil.copy(db, copy)
    return copy


def test_cli_chart(cli_db, tmp_path):
    out = tmp_path / "charts" / "t1.graphml"
    p = run_cli("chart", "--seed", "T1", "--hops", "2", "--max-nodes", "6", "--format", "graphml",
                "--out", str(out), "--store", str(cli_db), "--json")
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert res["format"] == "graphml" and res["nodes"] == 6 and Path(res["out"]) == out
    assert res["seeds"] == ["Trader:T1"] and sum(res["omitted"].values()) > 0
    g = nx.read_graphml(out)
    assert g.number_of_nodes() == 6
    # reopen the store with the library: the chart is what select() gives
    with open_store(str(cli_db)) as st:
        sub = select(st, ["T1"], hops=2, max_nodes=6)
    assert res["omitted"] == sub.omitted and res["edges"] == len(sub.edges)

    # format from the file name, an alert, filters; human output names the file and the cap
    out2 = tmp_path / "alert.cyjs"
    p = run_cli("chart", "--alert", CT1, "--rel", "EXPORTED", "--rel", "IMPORTED_BY", "--from", "2024-01-01",
                "--out", str(out2), "--store", str(cli_db))
    assert p.returncode == 0, p.stderr
    assert "wrote cyjs chart" in p.stdout and "nothing was left out" in p.stdout
    data = json.loads(out2.read_text(encoding="utf-8"))
    assert data


def test_cli_chart_errors(cli_db, tmp_path):
    p = run_cli("chart", "--alert", "circular_trade:nope", "--format", "html", "--out", str(tmp_path / "x.html"),
                "--store", str(cli_db))
    assert p.returncode == 2 and "no alert" in p.stderr and "Traceback" not in p.stderr
    p = run_cli("chart", "--out", str(tmp_path / "x.html"), "--store", str(cli_db))
    assert p.returncode == 2 and "--seed" in p.stderr
    p = run_cli("chart", "--seed", "T1", "--out", str(tmp_path / "x.unknown"), "--store", str(cli_db))
    assert p.returncode == 2 and "--format" in p.stderr
    assert not (tmp_path / "x.html").exists()


def test_select_refuses_a_date_that_is_no_calendar_day(tables):
    """Library callers get the same calendar check as the CLI (issue 11: --from 2025-13-01)."""
    with pytest.raises(GraphiffError, match="not a date"):
        select(tables, ["T1"], hops=1, date_from="2025-13-01")
    with pytest.raises(GraphiffError, match="not a date"):
        select(tables, ["T1"], hops=1, date_to="2024-02-30")

"""`graphiff chart --aggregate --types --hub-limit` on the hub world of tests/explore/test_explore_filters.py
(A -> B -> C -> A, A -> B again, money AA -> AB twice, carrier C1 on 251 declarations)."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pytest
from _clikit import run_cli_streams

from graphiff.charts.base import FORMATS
from tests.explore.test_explore_filters import build_hub_world


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    return build_hub_world(tmp_path_factory.mktemp("chartagg"))


def chart(db: Path, out: Path, *args: str) -> dict:
    code, stdout, err = run_cli_streams("chart", "--seed", "A", "--out", str(out), *args, "--store", str(db), "--json")
    assert code == 0, err
    return json.loads(stdout)


def test_aggregate_draws_the_cycle_of_traders(db, tmp_path):
    out = tmp_path / "cycle.cyjs"
    res = chart(db, out, "--hops", "2", "--aggregate", "--types", "Trader")
    assert res["aggregated"] == {"TRADED_WITH": 3} and res["nodes"] == 3
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert {n["data"]["id"] for n in doc["elements"]["nodes"]} == {"Trader:A", "Trader:B", "Trader:C"}
    links = {(e["data"]["source"], e["data"]["target"]): e["data"] for e in doc["elements"]["edges"]}
    assert set(links) == {("Trader:A", "Trader:B"), ("Trader:B", "Trader:C"), ("Trader:C", "Trader:A")}
    ab = links[("Trader:A", "Trader:B")]
    assert (ab["type"], ab["count"], ab["value_usd"], ab["first_date"], ab["last_date"]) == \
        ("TRADED_WITH", 2, 1900.0, "2024-01-10", "2024-04-10")
    assert ab["record_ids"] == ["Declaration:X1/1", "Declaration:X4/1"] and ab["hs6"] == ["620342", "851712"]


def test_hub_limit_keeps_the_shipping_line_out_of_the_walk(db, tmp_path):
    res = chart(db, tmp_path / "hub.cyjs", "--hops", "2")
    assert list(res["hubs"]) == ["Carrier:C1"] and res["hubs"]["Carrier:C1"]["Declaration"] == 251
    assert res["nodes"] < 40                                        # no bulk trader, no bulk declaration
    free = chart(db, tmp_path / "free.cyjs", "--hops", "2", "--hub-limit", "0", "--max-nodes", "2000")
    assert free["hubs"] == {} and free["nodes"] > 250
    code, out, err = run_cli_streams("chart", "--seed", "A", "--hops", "2", "--out", str(tmp_path / "h.html"),
                                     "--store", str(db))
    assert code == 0, err
    assert "Carrier:C1 Fast Lines: hub, 251 declarations" in out and "--hub-limit 200" in out


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_with_aggregated_links(db, tmp_path, fmt):
    out = tmp_path / f"agg{FORMATS[fmt].suffix}"
    res = chart(db, out, "--hops", "2", "--aggregate", "--format", fmt)
    assert res["aggregated"] == {"TRADED_WITH": 3, "PAID": 1}, res           # the cycle; AA -> AB
    if fmt in ("graphml", "gexf"):
        g = nx.read_graphml(out, force_multigraph=True) if fmt == "graphml" else nx.read_gexf(out)
        key = "type" if fmt == "graphml" else "rel_type"
        ab = next(d for u, v, d in g.edges(data=True) if (u, v) == ("Trader:A", "Trader:B") and d[key] == "TRADED_WITH")
        assert ab["count"] == 2 and ab["value_usd"] == 1900.0
        assert ab["record_ids"] == "Declaration:X1/1; Declaration:X4/1"
    elif fmt == "anx":
        items = ET.parse(out).getroot().find("ChartItemCollection").findall("ChartItem")
        paid = next(i for i in items if i.find("Link/LinkStyle") is not None
                    and i.find("Link/LinkStyle").get("Type") == "PAID")
        assert paid.get("Label") == "2 \u00d7 USD 1,500, 2024-01-20 \u2013 2024-02-20"
        assert paid.get("DateTime") == "2024-01-20T00:00:00.000" and paid.get("DateSet") == "true"
    elif fmt == "html":
        assert "TRADED_WITH" in out.read_text(encoding="utf-8")
    elif fmt == "cyjs":
        types = [e["data"]["type"] for e in json.loads(out.read_text(encoding="utf-8"))["elements"]["edges"]]
        assert types.count("TRADED_WITH") == 3 and types.count("PAID") == 1
        assert "EXPORTED" not in types and "SENT" not in types
    elif fmt == "svg":
        assert "2 \u00d7 USD 1,900, 2024-01-10 \u2013 2024-04-10" in out.read_text(encoding="utf-8")
    else:
        assert out.read_bytes()[:4] == b"\x89PNG"


def test_chart_help_names_the_new_options():
    code, out, _ = run_cli_streams("chart", "--help")
    assert code == 0
    for option in ("--aggregate", "--types", "--hub-limit"):
        assert option in out

"""Aggregated links (TRADED_WITH, PAID: graphiff.graph.view.aggregate) and hubs in every chart format: the
links are there with their count, value and dates, ANX gives i2 dates and typed attributes, lists are
readable text, hubs are noted, hostile names stay escaped."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pytest
from synthetic import FORMULA_NAME, QUOTES_NAME, SCRIPT_ADDRESS, XSS_NAME

from graphiff.charts.base import FORMATS, hubs_note, write_chart
from graphiff.charts.html import chart_data
from graphiff.charts.style import EDGE_STYLES, edge_caption, edge_style_name
from graphiff.graph.subgraph import SubEdge, Subgraph, SubNode
from graphiff.graph.view import aggregate

CYCLE = [("Trader:T1", "Trader:T2"), ("Trader:T2", "Trader:T3"), ("Trader:T3", "Trader:T1")]


def aggregated_subgraph() -> Subgraph:
    """T1 -> T2 twice (D1, D4), T2 -> T3 (D2), T3 -> T1 (D3): a cycle of hostile names; money A1 -> A2 twice;
    a carrier on the declarations that is a hub (not walked through)."""
    names = {"T1": XSS_NAME, "T2": FORMULA_NAME, "T3": QUOTES_NAME}
    nodes = [SubNode(f"Trader:{k}", "Trader", k, v, {"name": v, "_source": "traders.csv", "_line": 2})
             for k, v in names.items()]
    decls = [("D1", "T1", "T2", "2024-01-10", 1_000_000.0, "851712"),
             ("D2", "T2", "T3", "2024-02-10", 1_100_000.0, "851712"),
             ("D3", "T3", "T1", "2024-03-10", 1_200_000.0, "851712"),
             ("D4", "T1", "T2", "2024-04-10", 250_000.0, "620342")]
    edges = []
    for d, a, b, day, usd, hs6 in decls:
        nodes.append(SubNode(f"Declaration:{d}/1", "Declaration", f"{d}/1", f"{d}/1",
                             {"date": day, "value_usd": usd, "hs6": hs6, "_source": "declarations.csv"}))
        edges += [SubEdge(f"x{d}", f"Trader:{a}", f"Declaration:{d}/1", "EXPORTED"),
                  SubEdge(f"m{d}", f"Declaration:{d}/1", f"Trader:{b}", "IMPORTED_BY"),
                  SubEdge(f"c{d}", f"Declaration:{d}/1", "Carrier:C9", "CARRIED_BY")]
    nodes.append(SubNode("Carrier:C9", "Carrier", "C9", SCRIPT_ADDRESS, {"name": SCRIPT_ADDRESS}))
    for acc, holder in (("A1", "T1"), ("A2", "T2")):
        nodes.append(SubNode(f"BankAccount:{acc}", "BankAccount", acc, acc, {"holder_id": holder}))
        edges.append(SubEdge(f"h{acc}", f"Trader:{holder}", f"BankAccount:{acc}", "HOLDS"))
    for p, day, usd in (("PAY1", "2024-01-20", 900_000.0), ("PAY2", "2024-02-20", 50_000.0)):
        nodes.append(SubNode(f"Payment:{p}", "Payment", p, p, {"date": day, "amount_usd": usd}))
        edges += [SubEdge(f"s{p}", "BankAccount:A1", f"Payment:{p}", "SENT"),
                  SubEdge(f"r{p}", f"Payment:{p}", "BankAccount:A2", "RECEIVED_BY")]
    sub = Subgraph(nodes=nodes, edges=edges, seeds=["Trader:T1"], omitted={"Declaration": 7},
                   hubs={"Carrier:C9": {"Declaration": 3400, "Country": 1}}, title=f"Cycle of {XSS_NAME}")
    return aggregate(sub)


@pytest.fixture
def agg() -> Subgraph:
    return aggregated_subgraph()


def _write(sub: Subgraph, fmt: str, tmp_path: Path) -> Path:
    return write_chart(sub, fmt, tmp_path / f"agg{FORMATS[fmt].suffix}")


def test_the_fixture_is_aggregated(agg):
    traded = {(e.source, e.target): e.props for e in agg.edges if e.type == "TRADED_WITH"}
    assert set(traded) == set(CYCLE)
    assert traded[("Trader:T1", "Trader:T2")]["count"] == 2
    assert not any(n.label in ("Declaration", "Payment") for n in agg.nodes)
    # the hub seen only on folded records stays, with its summary, to say where the walk stopped
    assert "Carrier:C9" in {n.id for n in agg.nodes} and set(agg.hubs) == {"Carrier:C9"}


@pytest.fixture
def agg_hub(agg) -> Subgraph:
    """The aggregated view with the hub drawn, linked to a trader."""
    assert "Carrier:C9" in {n.id for n in agg.nodes}
    agg.edges.append(SubEdge("ct", "Trader:T1", "Carrier:C9", "OFFICER_OF"))
    agg.hubs = {"Carrier:C9": {"Declaration": 3400, "Country": 1}}
    return agg


def test_style_and_caption():
    assert edge_style_name("TRADED_WITH") == "traded-with" and edge_style_name("PAID") == "paid"
    teal, green = EDGE_STYLES["traded-with"], EDGE_STYLES["paid"]
    assert teal.colour != green.colour and teal.width > 2 and green.width > 2 and teal.arrow and green.arrow
    props = {"count": 3, "value_usd": 1_234_567.0, "first_date": "2024-01-10", "last_date": "2024-03-01"}
    assert edge_caption("TRADED_WITH", props) == "3 \u00d7 USD 1.2M, 2024-01-10 \u2013 2024-03-01"


def test_html(agg_hub, tmp_path):
    page = _write(agg_hub, "html", tmp_path).read_text(encoding="utf-8")
    assert XSS_NAME not in page and SCRIPT_ADDRESS not in page
    block = re.search(r'<script type="application/json" id="graphiff-data">(.*?)</script>', page, re.S).group(1)
    data = json.loads(block)
    edges = {(e["source"], e["target"]): e for e in data["edges"] if e["type"] == "TRADED_WITH"}
    assert set(edges) == set(CYCLE)
    t12 = edges[("Trader:T1", "Trader:T2")]
    assert t12["style"] == "traded-with" and t12["folded"] == "2 declarations"
    assert t12["caption"] == "2 \u00d7 USD 1.2M, 2024-01-10 \u2013 2024-04-10"
    assert t12["props"]["record_ids"] == "Declaration:D1/1; Declaration:D4/1"       # text, not JSON
    assert t12["props"]["hs6"] == "620342; 851712" and t12["props"]["count"] == 2
    paid = next(e for e in data["edges"] if e["type"] == "PAID")
    assert paid["folded"] == "2 payments" and paid["props"]["value_usd"] == 950000.0
    hub = next(n for n in data["nodes"] if n["id"] == "Carrier:C9")
    assert hub["hub"] == "3,400 declarations, 1 country" and hub["caption"] == SCRIPT_ADDRESS
    assert "Hubs not expanded" in data["hubs_note"] and "3,400 declarations" in data["hubs_note"]
    assert "3,400 declarations" in chart_data(aggregated_subgraph())["hubs_note"]   # kept without a link too


def test_anx_dates_and_typed_attributes(agg_hub, tmp_path):
    root = ET.parse(_write(agg_hub, "anx", tmp_path)).getroot()
    classes = {c.get("Name"): c for c in root.find("AttributeClassCollection")}
    assert classes["first_date"].get("Type") == "AttTime" and classes["last_date"].get("Type") == "AttTime"
    assert classes["first_date"].get("Visible") == "false"             # i2 does not draw AttTime on the canvas
    assert classes["count"].get("Type") == "AttNumber" and classes["value_usd"].get("Type") == "AttNumber"
    assert classes["hs6"].get("Type") == "AttText" and classes["record_ids"].get("Type") == "AttText"
    items = root.find("ChartItemCollection").findall("ChartItem")
    ent = {i.find("End/Entity").get("EntityId"): i.find("End/Entity").get("Identity")
           for i in items if i.find("End/Entity") is not None}
    links = {(ent[i.find("Link").get("End1Id")], ent[i.find("Link").get("End2Id")],
              i.find("Link/LinkStyle").get("Type")): i for i in items if i.find("Link") is not None}
    t12 = links[("Trader:T1", "Trader:T2", "TRADED_WITH")]
    assert t12.get("Label") == "2 \u00d7 USD 1.2M, 2024-01-10 \u2013 2024-04-10"
    assert (t12.get("DateTime"), t12.get("DateSet"), t12.get("TimeSet")) == \
        ("2024-01-10T00:00:00.000", "true", "false")
    attrs = {a.get("AttributeClass"): a.get("Value") for a in t12.find("AttributeCollection")}
    assert attrs["first_date"] == "2024-01-10T00:00:00" and attrs["last_date"] == "2024-04-10T00:00:00"
    assert float(attrs["value_usd"]) == 1_250_000.0 and attrs["count"] == "2"
    assert attrs["record_ids"] == "Declaration:D1/1; Declaration:D4/1" and attrs["hs6"] == "620342; 851712"
    assert t12.find("Link/LinkStyle").get("ArrowStyle") == "ArrowOnHead"
    assert t12.find("Link/LinkStyle").get("LineWidth") == "3"
    assert {k for k in links if k[2] == "TRADED_WITH"} == {(a, b, "TRADED_WITH") for a, b in CYCLE}
    paid = links[("BankAccount:A1", "BankAccount:A2", "PAID")]
    assert paid.get("DateTime") == "2024-01-20T00:00:00.000"
    types = {t.get("Name"): t.get("Colour") for t in root.find("LinkTypeCollection")}
    assert types["TRADED_WITH"] != types["PAID"] != types["OFFICER_OF"]
    # hostile names escaped by the serialiser and read back intact; the hub is described
    labels = {i.get("Label") for i in items}
    assert {XSS_NAME, FORMULA_NAME, QUOTES_NAME, SCRIPT_ADDRESS} <= labels
    hub = next(i for i in items if i.get("Label") == SCRIPT_ADDRESS)
    assert "hub, not expanded: 3,400 declarations" in hub.get("Description")
    comments = {f.get("Type"): f.get("Field") for f in root.find("Summary/FieldCollection")}["SummaryFieldComments"]
    assert "Hubs not expanded" in comments and "Declaration 7" in comments


def test_graphml_and_gexf(agg_hub, tmp_path):
    g = nx.read_graphml(_write(agg_hub, "graphml", tmp_path), force_multigraph=True)
    traded = {(u, v): d for u, v, d in g.edges(data=True) if d["type"] == "TRADED_WITH"}
    assert set(traded) == set(CYCLE)
    t12 = traded[("Trader:T1", "Trader:T2")]
    assert t12["count"] == 2 and t12["value_usd"] == 1_250_000.0 and t12["first_date"] == "2024-01-10"
    assert t12["record_ids"] == "Declaration:D1/1; Declaration:D4/1" and t12["hs6"] == "620342; 851712"
    assert t12["caption"].startswith("2 \u00d7 USD 1.2M")
    assert g.nodes["Carrier:C9"]["hub"] == "3,400 declarations, 1 country"
    assert "3,400 declarations" in g.graph["hubs"] and g.nodes["Trader:T1"]["name"] == XSS_NAME
    gx = nx.read_gexf(_write(agg_hub, "gexf", tmp_path))
    e = next(d for u, v, d in gx.edges(data=True)
             if (u, v) == ("Trader:T1", "Trader:T2") and d["rel_type"] == "TRADED_WITH")
    assert e["label"].startswith("2 \u00d7 USD") and e["weight"] == 2.0 and e["count"] == 2
    assert e["record_ids"] == "Declaration:D1/1; Declaration:D4/1"


def test_cyjs(agg_hub, tmp_path):
    doc = json.loads(_write(agg_hub, "cyjs", tmp_path).read_text(encoding="utf-8"))
    edges = [e["data"] for e in doc["elements"]["edges"]]
    t12 = next(e for e in edges if e["type"] == "TRADED_WITH" and e["source"] == "Trader:T1")
    assert t12["count"] == 2 and t12["value_usd"] == 1_250_000.0
    assert t12["record_ids"] == ["Declaration:D1/1", "Declaration:D4/1"]       # JSON keeps the list
    assert t12["caption"].startswith("2 \u00d7") and t12["colour"] == EDGE_STYLES["traded-with"].colour
    hub = next(n["data"] for n in doc["elements"]["nodes"] if n["data"]["id"] == "Carrier:C9")
    assert hub["hub"] == {"Declaration": 3400, "Country": 1} and hub["caption"] == SCRIPT_ADDRESS
    assert doc["data"]["hubs"] == {"Carrier:C9": {"Declaration": 3400, "Country": 1}}
    assert doc["data"]["hubs_note"] == hubs_note(agg_hub)


def test_svg_and_png(agg_hub, tmp_path):
    root = ET.parse(_write(agg_hub, "svg", tmp_path)).getroot()
    assert not [el for el in root.iter() if el.tag.split("}")[-1].lower() in ("script", "foreignobject")]
    texts = ["".join(el.itertext()) for el in root.iter() if el.tag.endswith("}text")]
    joined = "\n".join(texts)
    assert "2 \u00d7 USD 1.2M, 2024-01-10 \u2013 2024-04-10" in joined         # the link's caption
    assert "1 \u00d7 USD 1.2M, 2024-03-10" in joined
    assert any(t.startswith("TRADED_WITH") for t in texts) and any(t.startswith("PAID") for t in texts)
    assert "Hubs not expanded" in joined
    png = _write(agg_hub, "png", tmp_path).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"

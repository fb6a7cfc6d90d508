"""Charts of resolved entities and of SAME_AS: a resolved entity's ``aliases`` and ``alias_names``
reach every format as text; in the records as loaded (``--unresolved``) SAME_AS draws as its own
link ("same as", dashed, no arrow; "not the same" for a rejected pair), on the HTML page, in i2
ANX, in GraphML/GEXF/Cytoscape JSON and in the static pictures.

The world is tests/graph/test_resolution.py's: T2 and T2' are one trader (linked)."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from graphiff.charts.base import write_chart
from graphiff.charts.html import chart_data
from graphiff.charts.style import EDGE_STYLES, edge_caption, edge_style_name
from graphiff.graph.select import select
from graphiff.graph.subgraph import Subgraph
from graphiff.graph.tables import Tables
from graphiff.stores import open_store
from tests._browserkit import BROWSER_SKIP
from tests.graph.test_resolution import T2B, T2B_NAME, build_world, same_as


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    st = open_store(str(tmp_path_factory.mktemp("chart") / "graph.duckdb"))
    build_world(st)
    st.upsert_nodes("Trader", pd.DataFrame([{"key": "T4", "name": "NOT MARA"}]))
    st.upsert_rels("SAME_AS", same_as([("T2", "T4", "rejected", 0.41)]))
    yield st
    st.close()


@pytest.fixture(scope="module")
def resolved(world) -> Subgraph:
    return select(Tables(world), seeds=["T1"], hops=1)


@pytest.fixture(scope="module")
def unresolved(world) -> Subgraph:
    return select(Tables(world, resolved=False), seeds=["T2"], hops=1)


def test_resolved_subgraph_node_carries_aliases(resolved):
    t2 = {n.key: n for n in resolved.nodes}["T2"]
    assert t2.props["aliases"] == T2B and t2.props["alias_names"] == T2B_NAME
    assert not any(e.type == "SAME_AS" for e in resolved.edges)


def _anx_attrs(path: Path) -> dict[str, dict[str, str]]:
    root = ET.parse(path).getroot()
    out = {}
    for item in root.iter("ChartItem"):
        ent = item.find("End/Entity")
        if ent is not None:
            out[ent.get("Identity")] = {a.get("AttributeClass"): a.get("Value") for a in item.iter("Attribute")}
    return out


@pytest.mark.parametrize("fmt", ["html", "anx", "graphml", "gexf", "cyjs"])
def test_aliases_reach_every_format(resolved, tmp_path, fmt):
    path = write_chart(resolved, fmt, tmp_path / f"chart.{fmt}")
    if fmt == "html":
        data = chart_data(resolved)
        [t2] = [n for n in data["nodes"] if n["key"] == "T2"]
        assert t2["props"]["aliases"] == T2B and t2["props"]["alias_names"] == T2B_NAME and t2["aliases"] == [T2B]
        text = path.read_text(encoding="utf-8")
        assert T2B_NAME in text and '"aliases":["T2\'"]' in text
    elif fmt == "anx":
        attrs = _anx_attrs(path)["Trader:T2"]
        assert attrs["aliases"] == T2B and attrs["alias_names"] == T2B_NAME
    elif fmt in ("graphml", "gexf"):
        g = nx.read_graphml(path, force_multigraph=True) if fmt == "graphml" else nx.read_gexf(path)
        d = g.nodes["Trader:T2"]
        assert d["aliases"] == T2B and d["alias_names"] == T2B_NAME
        assert isinstance(d["aliases"], str)
    else:
        doc = json.loads(path.read_text(encoding="utf-8"))
        [t2] = [n["data"] for n in doc["elements"]["nodes"] if n["data"]["key"] == "T2"]
        assert t2["aliases"] == T2B and t2["alias_names"] == T2B_NAME


def test_edge_styles_of_same_as():
    assert edge_style_name("SAME_AS", {"status": "linked"}) == "same-as"
    assert edge_style_name("SAME_AS", {"status": "confirmed"}) == "same-as"
    assert edge_style_name("SAME_AS", {"status": "review"}) == "same-as-open"
    assert edge_style_name("SAME_AS", {}) == "same-as-open"
    assert edge_caption("SAME_AS", {"status": "rejected"}) == "not the same"
    st = EDGE_STYLES["same-as"]
    assert (st.line, st.caption, st.arrow) == ("dashed", "same as", False)


def test_unresolved_chart_draws_same_as(unresolved, tmp_path):
    same = {(e.source, e.target): e for e in unresolved.edges if e.type == "SAME_AS"}
    assert set(same) == {("Trader:T2", f"Trader:{T2B}"), ("Trader:T2", "Trader:T4")}
    # HTML: a style class per status, a caption on the line, the styles in the page's data
    data = chart_data(unresolved)
    styled = {(e["source"], e["target"]): (e["style"], e["caption"]) for e in data["edges"] if e["type"] == "SAME_AS"}
    assert styled == {("Trader:T2", f"Trader:{T2B}"): ("same-as", "same as"),
                      ("Trader:T2", "Trader:T4"): ("not-same", "not the same")}
    assert data["edge_styles"]["same-as"] == {"colour": EDGE_STYLES["same-as"].colour, "line": "dashed",
                                              "width": 2.0, "caption": "same as", "arrow": False}
    assert {"type": "SAME_AS", "count": 2} in data["edge_types"]
    assert not any(n.get("aliases") for n in data["nodes"])
    # i2 ANX: a link type, labelled, dashed through a strength, no arrow head
    root = ET.parse(write_chart(unresolved, "anx", tmp_path / "c.anx")).getroot()
    assert "SAME_AS" in {t.get("Name") for t in root.iter("LinkType")}
    strengths = {s.get("Name"): s.get("DotStyle") for s in root.iter("Strength")}
    assert strengths["Unconfirmed"] == "DotStyleDashed" and strengths["Tentative"] == "DotStyleDotted"
    links = {}
    for item in root.iter("ChartItem"):
        style = item.find("Link/LinkStyle")
        if style is not None and style.get("Type") == "SAME_AS":
            attrs = {a.get("AttributeClass"): a.get("Value") for a in item.iter("Attribute")}
            links[attrs["status"]] = (item.get("Label"), style.get("Strength"), style.get("ArrowStyle"), attrs)
    assert links["linked"][:3] == ("same as", "Unconfirmed", "ArrowNone")
    assert links["rejected"][:3] == ("not the same", "Tentative", "ArrowNone")
    assert links["linked"][3]["evidence"] == '{"tin": "equal", "name": 0.82}' and links["linked"][3]["score"] == "0.97"
    # GraphML / GEXF / Cytoscape JSON: the relationship with its judgement
    g = nx.read_graphml(write_chart(unresolved, "graphml", tmp_path / "c.graphml"), force_multigraph=True)
    [(u, v, d)] = [(u, v, d) for u, v, d in g.edges(data=True) if d["type"] == "SAME_AS" and d["status"] == "linked"]
    assert (u, v, d["score"], d["decided_by"]) == ("Trader:T2", f"Trader:{T2B}", 0.97, "graphiff resolve")
    h = nx.read_gexf(write_chart(unresolved, "gexf", tmp_path / "c.gexf"))
    assert {d["status"] for _, _, d in h.edges(data=True) if d["rel_type"] == "SAME_AS"} == {"linked", "rejected"}
    doc = json.loads(write_chart(unresolved, "cyjs", tmp_path / "c.cyjs").read_text(encoding="utf-8"))
    assert {e["data"]["status"] for e in doc["elements"]["edges"] if e["data"]["type"] == "SAME_AS"} == {
        "linked", "rejected"}


def test_static_picture_legend_names_same_as(unresolved, tmp_path):
    svg = write_chart(unresolved, "svg", tmp_path / "c.svg").read_text(encoding="utf-8")
    assert "SAME_AS: same as" in svg and "SAME_AS: not the same" in svg
    write_chart(unresolved, "png", tmp_path / "c.png")


@pytest.mark.browser
@BROWSER_SKIP
def test_same_as_in_chromium(resolved, unresolved, tmp_path, browser):
    from tests.charts.test_chart_browser import Watched

    w = Watched(browser, write_chart(unresolved, "html", tmp_path / "u.html"))
    look = w.page.evaluate("""() => window.graphiffCy.edges().filter(e => e.data('type') === 'SAME_AS')
        .map(e => [e.target().id(), e.style('line-style'), e.style('label'), e.style('target-arrow-shape')])
        .sort()""")
    assert look == [[f"Trader:{T2B}", "dashed", "same as", "none"],
                    ["Trader:T4", "dotted", "not the same", "none"]]
    w.clean()
    w = Watched(browser, write_chart(resolved, "html", tmp_path / "r.html"))
    w.click_node("Trader:T2")
    w.page.wait_for_function("() => document.getElementById('panel-flags').textContent.length > 0")
    note = w.text("#panel-flags")
    assert "2 records joined by entity resolution" in note and T2B in note and T2B_NAME in note
    w.page.fill("#search", T2B.lower())           # the key of the other record finds the entity
    w.page.keyboard.press("Enter")
    w.page.wait_for_function("() => document.getElementById('search-count').textContent.length > 0")
    assert w.text("#search-count") == "1 match"
    w.clean()


def test_cli_chart_counts_resolved_entities(tmp_path):
    from tests._clikit import run_cli_streams

    db = str(tmp_path / "g.duckdb")
    with open_store(db) as st:
        build_world(st)
    code, out, err = run_cli_streams("chart", "--seed", T2B, "--format", "cyjs", "--out", str(tmp_path / "c.cyjs"),
                                     "--store", db, "--json")
    assert code == 0, err
    assert json.loads(out)["resolved_entities"] == 1
    code, out, err = run_cli_streams("chart", "--seed", T2B, "--format", "cyjs", "--out", str(tmp_path / "c.cyjs"),
                                     "--store", db)
    assert code == 0, err
    assert "1 node(s) stand for several records" in " ".join(out.split())
    code, out, err = run_cli_streams("chart", "--seed", T2B, "--format", "cyjs", "--out", str(tmp_path / "u.cyjs"),
                                     "--store", db, "--unresolved", "--json")
    assert code == 0, err
    assert json.loads(out)["resolved_entities"] == 0
    doc = json.loads((tmp_path / "u.cyjs").read_text(encoding="utf-8"))
    assert {e["data"]["type"] for e in doc["elements"]["edges"]} >= {"SAME_AS"}

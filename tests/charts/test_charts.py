"""Link-chart exports: every format written, parsed back, counted, and hostile names kept as text."""
from __future__ import annotations

import json
import math
import re
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pytest
from synthetic import FORMULA_NAME, MATH_NAME, QUOTES_NAME, SCRIPT_ADDRESS, XSS_NAME

from graphiff.charts.base import FORMATS, chart_formats, write_chart
from graphiff.charts.html import chart_data, json_for_script, render_html
from graphiff.charts.layout import layout_positions
from graphiff.charts.static import LABEL_CAP
from graphiff.charts.style import DEFAULT_STYLE, STYLES, SWATCH_SHAPES, style_for, swatch_path
from graphiff.errors import GraphiffError
from graphiff.model.cells import clean_text, safe_cell

MODEL_LABELS = ["Trader", "Person", "Carrier", "Declaration", "BankAccount", "Payment", "CashReport",
                "Conveyance", "Container", "Address", "Phone", "Email", "Country", "Rate", "Alert"]


def _write(sub, fmt: str, tmp_path: Path) -> Path:
    out = write_chart(sub, fmt, tmp_path / f"chart{FORMATS[fmt].suffix}")
    assert out.exists() and out.stat().st_size > 0
    return out


# ----------------------------------------------------------------------------------- base, style

def test_registry_and_dispatch(small_sub, tmp_path):
    assert chart_formats() == ["html", "anx", "graphml", "gexf", "cyjs", "png", "svg"]
    with pytest.raises(GraphiffError, match="unknown chart format"):
        write_chart(small_sub, "pdf", tmp_path / "x.pdf")
    # a directory as target: the file is named after the format; no temporary file left behind
    out = write_chart(small_sub, "CYJS", tmp_path)
    assert out == tmp_path / "chart.cyjs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chart.cyjs"]


def test_every_model_label_has_a_distinct_style():
    assert set(MODEL_LABELS) == set(STYLES)
    assert len({s.colour for s in STYLES.values()}) == len(STYLES)
    assert len({s.shape for s in STYLES.values()}) == len(STYLES)
    assert style_for("NotALabel").colour == "#999999"


def test_html_legend_swatch_is_the_drawn_shape(small_sub):
    """The legend draws each label with the shape cytoscape draws its nodes with (not a text glyph
    that merely resembles it: a diamond glyph for rectangles, a cross for barrels, ...)."""
    data = chart_data(small_sub)
    looks = set()
    for label, st in [*STYLES.items(), ("(default)", DEFAULT_STYLE)]:
        page = data["styles"].get(label, data["default_style"])
        assert page["shape"] == st.shape and "glyph" not in page
        assert page["swatch"] == swatch_path(st.shape, st.size)
        looks.add((page["colour"], page["swatch"]))
    assert len(looks) == len(STYLES) + 1                   # no two entity types look alike
    assert set(SWATCH_SHAPES) >= {st.shape for st in STYLES.values()}
    # each swatch has the corners of cytoscape's shape (ported from registerNodeShapes)
    corners = {"rectangle": 4, "diamond": 4, "vee": 4, "tag": 5, "hexagon": 6, "concave-hexagon": 6,
               "octagon": 8, "cut-rectangle": 8, "star": 10}
    for shape, n in corners.items():
        path = swatch_path(shape, 22)
        assert path.count("L") == n - 1 and "Q" not in path and "A" not in path, shape
    for shape, n in {"round-rectangle": 4, "round-triangle": 3, "round-diamond": 4, "round-tag": 5}.items():
        assert swatch_path(shape, 20).count("Q") == n, shape
    assert swatch_path("barrel", 28).count("Q") == 4 and swatch_path("barrel", 28).count("L") == 3
    assert swatch_path("ellipse").count("A") == 2
    assert swatch_path("octagon") != swatch_path("cut-rectangle", 22) != swatch_path("rectangle")
    with pytest.raises(KeyError):
        swatch_path("bogus")


@pytest.mark.parametrize("value, expected", [
    ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
    ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
    ("-1+1", "'-1+1"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"),
    ("\uff1d1+1", "'\uff1d1+1"),
    ("-12.5", "-12.5"),
    ("+3e5", "+3e5"),
    ("plain = text", "plain = text"),
    (None, ""),
    (12, "12"),
    (-3.5, "-3.5"),
    (float("nan"), ""),
    (True, "true"),
])
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_clean_text_removes_only_xml_illegal_characters():
    assert clean_text("a\x00b\x07c\td\ne\u2028f\ud800") == "abc\td\ne\u2028f"


def test_layout_is_deterministic_and_spread(small_sub, large_sub):
    for sub in (small_sub, large_sub):
        a, b = layout_positions(sub), layout_positions(sub)
        assert a == b
        assert set(a) == {n.id for n in sub.nodes}
        assert all(math.isfinite(x) and math.isfinite(y) for x, y in a.values())
        assert len(set(a.values())) == len(a)          # no two nodes on the same spot
        _assert_compact(a)


def _assert_compact(pos):
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    bound = 70 * 12 * math.sqrt(len(pos)) + 500
    assert max(xs) - min(xs) < bound and max(ys) - min(ys) < bound


def test_layout_of_chains_pairs_and_isolates():
    from graphiff.graph.subgraph import SubEdge, Subgraph, SubNode

    nodes = [SubNode(f"Trader:{i}", "Trader", str(i), str(i)) for i in range(60)]
    edges = [SubEdge(f"c{i}", f"Trader:{i}", f"Trader:{i + 1}", "OFFICER_OF") for i in range(29)]   # a chain
    edges += [SubEdge(f"p{i}", f"Trader:{i}", f"Trader:{i + 1}", "OFFICER_OF") for i in range(30, 40, 2)]
    edges.append(SubEdge("loop", "Trader:50", "Trader:50", "OFFICER_OF"))                      # self-loop
    edges.append(SubEdge("dangling", "Trader:51", "Trader:missing", "OFFICER_OF"))             # other end cut
    pos = layout_positions(Subgraph(nodes=nodes, edges=edges))
    assert len(pos) == 60 and len(set(pos.values())) == 60
    _assert_compact(pos)
    assert layout_positions(Subgraph()) == {}
    assert layout_positions(Subgraph(nodes=nodes[:1])) == {"Trader:0": (0.0, 0.0)}


# ------------------------------------------------------------------------------------------ html

def test_html_embeds_escaped_json_only(small_sub, tmp_path):
    out = _write(small_sub, "html", tmp_path)
    page = out.read_text(encoding="utf-8")
    # no hostile value appears raw anywhere in the page
    for raw in (XSS_NAME, SCRIPT_ADDRESS, "<script>alert(3)", '<script>alert("t")'):
        assert raw not in page
    # exactly the three script elements of the template: data, library, viewer
    assert page.count("<script") == 3 and page.count("</script>") == 3
    m = re.search(r'<script type="application/json" id="graphiff-data">(.*?)</script>', page, re.S)
    block = m.group(1)
    assert not re.search("[<>&\u2028\u2029]", block)
    data = json.loads(block)
    assert len(data["nodes"]) == len(small_sub.nodes) and len(data["edges"]) == len(small_sub.edges)
    names = {n["caption"] for n in data["nodes"]}
    assert {XSS_NAME, FORMULA_NAME, QUOTES_NAME, SCRIPT_ADDRESS} <= names
    t1 = next(n for n in data["nodes"] if n["id"] == "Trader:T1")
    assert t1["flagged_by"] == ["Alert:circular_trade:abc"] and t1["seed"] is True
    assert t1["props"]["_source"] == "traders.csv" and t1["props"]["_line"] == 2
    assert "tin" not in t1["props"]                       # None dropped
    t2 = next(n for n in data["nodes"] if n["id"] == "Trader:T2")
    assert "employees" not in t2["props"]                 # NaN dropped
    assert data["omitted"] == {"Declaration": 3, "Payment": 1}
    assert "Declaration 3" in data["omitted_note"]
    # the title is HTML-escaped in <title>; offline: no URL the browser would fetch
    assert "<title>Case 7 &lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt; &amp; &quot;friends&quot;</title>" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "default-src 'none'" in page


def test_json_for_script_escapes():
    text = json_for_script({"a": "</script><!-- & \u2028\u2029 >"})
    assert text == '{"a":"\\u003c/script\\u003e\\u003c!-- \\u0026 \\u2028\\u2029 \\u003e"}'
    assert json.loads(text) == {"a": "</script><!-- & \u2028\u2029 >"}


def test_html_is_deterministic(small_sub):
    assert render_html(small_sub) == render_html(small_sub)


def test_html_large(large_sub, tmp_path):
    data = chart_data(large_sub)
    assert len(data["nodes"]) == len(large_sub.nodes)
    assert sum(item["count"] for item in data["labels"]) == len(large_sub.nodes)
    _write(large_sub, "html", tmp_path)


# ------------------------------------------------------------------------------------------ cyjs

def test_cyjs_round_trip(small_sub, tmp_path):
    doc = json.loads(_write(small_sub, "cyjs", tmp_path).read_text(encoding="utf-8"))
    nodes, edges = doc["elements"]["nodes"], doc["elements"]["edges"]
    assert len(nodes) == len(small_sub.nodes) and len(edges) == len(small_sub.edges)
    by_id = {n["data"]["id"]: n for n in nodes}
    t1 = by_id["Trader:T1"]["data"]
    assert (t1["label"], t1["key"], t1["caption"], t1["name"]) == ("Trader", "T1", XSS_NAME, XSS_NAME)
    assert t1["_source"] == "traders.csv" and t1["_load_id"] == "load-42" and "tin" not in t1
    assert t1["flagged_by"] == ["Alert:circular_trade:abc"]
    assert by_id["Trader:T2"]["data"]["caption"] == FORMULA_NAME
    assert by_id["Alert:circular_trade:abc"]["data"]["alert"] is True
    assert all(set(n["position"]) == {"x", "y"} for n in nodes)
    e = next(e["data"] for e in edges if e["data"]["id"] == "r3")
    assert (e["source"], e["target"], e["type"], e["interaction"], e["role"]) == \
        ("Person:P1", "Trader:T1", "OFFICER_OF", "OFFICER_OF", "DIRECTOR")
    assert doc["data"]["omitted"] == {"Declaration": 3, "Payment": 1}


# --------------------------------------------------------------------------------------- graphml

def test_graphml_round_trip(small_sub, tmp_path):
    g = nx.read_graphml(_write(small_sub, "graphml", tmp_path), force_multigraph=True)
    assert g.number_of_nodes() == len(small_sub.nodes)
    assert g.number_of_edges() == len(small_sub.edges)            # parallel OFFICER_OF kept
    t1 = g.nodes["Trader:T1"]
    assert (t1["label"], t1["key"], t1["caption"], t1["name"]) == ("Trader", "T1", XSS_NAME, XSS_NAME)
    assert t1["employees"] == 12 and t1["_line"] == 2 and t1["_source"] == "traders.csv"
    assert t1["flagged"] is True and "tin" not in t1
    assert "employees" not in g.nodes["Trader:T2"]
    assert g.nodes["Trader:T2"]["caption"] == FORMULA_NAME
    assert g.nodes["Person:P1"]["name"] == QUOTES_NAME
    assert g.nodes["Address:" + SCRIPT_ADDRESS]["key"] == SCRIPT_ADDRESS
    assert g.nodes["Container:MSCU1234565"]["caption"] == MATH_NAME.replace("\x07", "")
    assert g.nodes["Declaration:D1/1"]["invoice_value"] == 125000.5
    assert g.nodes["Alert:circular_trade:abc"]["alert"] is True
    roles = sorted(d["role"] for _, _, d in g.edges(data=True) if d["type"] == "OFFICER_OF")
    assert roles == ["DIRECTOR", "UBO"]
    assert {k for _, _, k in g.edges(keys=True)} == {e.id for e in small_sub.edges}


def test_graphml_large(large_sub, tmp_path):
    g = nx.read_graphml(_write(large_sub, "graphml", tmp_path), force_multigraph=True)
    assert (g.number_of_nodes(), g.number_of_edges()) == (len(large_sub.nodes), len(large_sub.edges))


# ------------------------------------------------------------------------------------------ gexf

def test_gexf_round_trip(small_sub, tmp_path):
    g = nx.read_gexf(_write(small_sub, "gexf", tmp_path))
    assert g.number_of_nodes() == len(small_sub.nodes)
    assert g.number_of_edges() == len(small_sub.edges)
    t1 = g.nodes["Trader:T1"]
    assert (t1["label"], t1["entity_label"], t1["entity_key"], t1["caption"]) == (XSS_NAME, "Trader", "T1", XSS_NAME)
    assert t1["_source"] == "traders.csv" and t1["employees"] == 12
    assert t1["viz"]["color"]["r"] == 0x1f and "position" in t1["viz"]
    assert g.nodes["Trader:T2"]["label"] == FORMULA_NAME
    types = sorted(d["label"] for *_, d in g.edges(data=True))
    assert types == sorted(e.type for e in small_sub.edges)
    assert all(d["rel_type"] == d["label"] for *_, d in g.edges(data=True))


def test_gexf_large(large_sub, tmp_path):
    g = nx.read_gexf(_write(large_sub, "gexf", tmp_path))
    assert (g.number_of_nodes(), g.number_of_edges()) == (len(large_sub.nodes), len(large_sub.edges))


# ------------------------------------------------------------------------------------------- anx

def _anx(path: Path):
    root = ET.parse(path).getroot()
    items = root.find("ChartItemCollection").findall("ChartItem")
    entities = [i for i in items if i.find("End/Entity") is not None]
    links = [i for i in items if i.find("Link") is not None]
    return root, entities, links


def test_anx_structure(small_sub, tmp_path):
    root, entities, links = _anx(_write(small_sub, "anx", tmp_path))
    assert root.tag == "Chart" and root.get("IdReferenceLinking") == "false"
    order = [c.tag for c in root]
    assert order == ["StrengthCollection", "AttributeClassCollection", "EntityTypeCollection",
                     "LinkTypeCollection", "Summary", "ChartItemCollection"]
    assert len(entities) == len(small_sub.nodes) and len(links) == len(small_sub.edges)
    type_names = {t.get("Name") for t in root.find("EntityTypeCollection")}
    assert type_names == {n.label for n in small_sub.nodes}
    assert {t.get("Name") for t in root.find("LinkTypeCollection")} == {e.type for e in small_sub.edges}
    classes = {c.get("Name"): c.get("Type") for c in root.find("AttributeClassCollection")}
    assert classes["_source"] == "AttText" and classes["_line"] == "AttNumber" and classes["key"] == "AttText"

    by_identity = {i.find("End/Entity").get("Identity"): i for i in entities}
    ids = {i.find("End/Entity").get("EntityId") for i in entities}
    assert len(ids) == len(entities)
    for link in links:
        assert link.find("Link").get("End1Id") in ids and link.find("Link").get("End2Id") in ids
        assert link.find("Link/LinkStyle").get("Type") == link.get("Label")
        assert link.find("Link/LinkStyle").get("ArrowStyle") == "ArrowOnHead"

    t1 = by_identity["Trader:T1"]
    assert t1.get("Label") == XSS_NAME
    assert t1.find("End/Entity/Icon/IconStyle").get("Type") == "Trader"
    assert t1.find("End/Entity/Icon/IconStyle/FrameStyle") is not None        # flagged by the alert
    assert t1.get("SourceReference") == "traders.csv:2"
    attrs = {a.get("AttributeClass"): a.get("Value") for a in t1.find("AttributeCollection")}
    assert attrs["name"] == XSS_NAME and attrs["_load_id"] == "load-42" and attrs["key"] == "T1"
    assert "tin" not in attrs
    assert t1.get("DateTime") == "2019-05-04T00:00:00.000" and t1.get("DateSet") == "true"
    assert by_identity["Trader:T2"].get("Label") == FORMULA_NAME
    assert by_identity["Person:P1"].get("Label") == QUOTES_NAME
    assert by_identity["Address:" + SCRIPT_ADDRESS].get("Label") == SCRIPT_ADDRESS
    d1 = by_identity["Declaration:D1/1"]
    assert d1.get("DateTime") == "2024-03-01T00:00:00.000"
    alert = by_identity["Alert:circular_trade:abc"]
    assert alert.find("End/Entity/Icon/IconStyle").get("Enlargement") == "ICEnlargeDouble"
    assert "alert(3)" in alert.get("Description")
    officer = next(li for li in links if li.get("Label") == "OFFICER_OF" and li.get("DateSet") == "true")
    assert officer.get("DateTime") == "2020-01-01T00:00:00.000"
    fields = {f.get("Type"): f.get("Field") for f in root.find("Summary/FieldCollection")}
    assert fields["SummaryFieldTitle"] == small_sub.title
    assert "Declaration 3" in fields["SummaryFieldComments"]
    # positions laid out
    xs = {(i.find("End").get("X"), i.find("End").get("Y")) for i in entities}
    assert len(xs) == len(entities)


def test_anx_large(large_sub, tmp_path):
    _, entities, links = _anx(_write(large_sub, "anx", tmp_path))
    assert (len(entities), len(links)) == (len(large_sub.nodes), len(large_sub.edges))


# ------------------------------------------------------------------------------------ png / svg

def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def test_png(small_sub, large_sub, tmp_path):
    w, h = _png_size(_write(small_sub, "png", tmp_path))
    assert w >= 1200 and h >= 900
    big = write_chart(large_sub, "png", tmp_path / "big.png")
    w, h = _png_size(big)
    assert w >= 1800 and h >= 1300
    from PIL import Image
    with Image.open(big) as im:
        colours = im.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50        # a real picture, not a blank page


def _svg_texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    bad = [el.tag for el in root.iter() if el.tag.split("}")[-1].lower() in ("script", "img", "foreignobject")]
    assert not bad
    return ["".join(el.itertext()) for el in root.iter() if el.tag.endswith("}text")]


def test_svg(small_sub, large_sub, tmp_path):
    texts = _svg_texts(_write(small_sub, "svg", tmp_path))
    joined = "\n".join(texts)
    assert small_sub.title in joined
    assert "<img src=x onerror=aler" in joined                 # the name, truncated, as text
    assert FORMULA_NAME in joined
    assert "$x^2$" in joined                                     # not turned into mathtext
    assert any(t.startswith("Trader (2)") for t in texts) and any(t.startswith("Alert (1)") for t in texts)
    assert "Declaration 3" in joined
    big_texts = _svg_texts(write_chart(large_sub, "svg", tmp_path / "big.svg"))
    captions = [t for t in big_texts if not re.match(r".+ \(\d+\)$", t)]
    assert len(captions) <= LABEL_CAP + 5                        # captions capped on big charts


def test_svg_writes_direction_controls_out(tmp_path):
    """A name with a RIGHT-TO-LEFT OVERRIDE is drawn with the control written out, so it cannot
    turn the rest of its label around."""
    from graphiff.graph.subgraph import Subgraph, SubNode

    sub = Subgraph(nodes=[SubNode("Trader:A", "Trader", "A", "Acme \u202eLtd Exports")], title="rtl \u202etitle")
    joined = "\n".join(_svg_texts(write_chart(sub, "svg", tmp_path / "rtl.svg")))
    assert "Acme [U+202E]Ltd Exports" in joined and "rtl [U+202E]title" in joined
    assert "\u202e" not in joined


def test_every_format_survives_odd_input(tmp_path):
    """A relationship whose other end was cut off, a self-loop, an unknown label, odd values."""
    import datetime as dt
    from decimal import Decimal

    from graphiff.graph.subgraph import SubEdge, Subgraph, SubNode

    nodes = [
        SubNode("Trader:A", "Trader", "A", "", {"when": dt.date(2024, 1, 2), "amount": Decimal("1.5"),
                                                "tags": ["x", "y"], "big": 10**20, "flag": True, "inf": float("inf")}),
        SubNode("Mystery:B", "Mystery", "B", "B \x00\x1f nul", {"key": "shadow", "label": "shadow", "start": 1}),
    ]
    edges = [SubEdge("e1", "Trader:A", "Mystery:B", "WEIRD", {"type": "shadow", "id": "x", "weight": "heavy"}),
             SubEdge("e2", "Trader:A", "Trader:A", "SELF"),
             SubEdge("e3", "Trader:A", "Trader:gone", "EXPORTED")]
    sub = Subgraph(nodes=nodes, edges=edges, title="odd \x00 title")
    for fmt in FORMATS:
        write_chart(sub, fmt, tmp_path / f"odd{FORMATS[fmt].suffix}")
    g = nx.read_graphml(tmp_path / "odd.graphml", force_multigraph=True)
    assert g.number_of_edges() == 2                              # the cut-off one is left out
    assert g.nodes["Mystery:B"]["caption"] == "B  nul" and g.nodes["Mystery:B"]["prop_key"] == "shadow"
    assert g.nodes["Trader:A"]["when"] == "2024-01-02" and g.nodes["Trader:A"]["tags"] == "x; y"   # lists: text
    gx = nx.read_gexf(tmp_path / "odd.gexf")
    assert gx.nodes["Mystery:B"]["prop_start"] == 1
    _, entities, links = _anx(tmp_path / "odd.anx")
    assert len(entities) == 2 and len(links) == 2

"""The aggregated chart page in a real headless Chromium (as test_chart_browser.py): TRADED_WITH / PAID drawn
as thick captioned arrows in their style, their panel says what they fold, a hub says it was not expanded,
hostile names stay text, no console error, no request."""
from __future__ import annotations

from synthetic import SCRIPT_ADDRESS, XSS_NAME
from test_chart_aggregate import aggregated_subgraph
from test_chart_browser import Watched

from graphiff.charts.base import write_chart
from graphiff.charts.style import EDGE_STYLES, hex_to_rgb
from graphiff.graph.subgraph import SubEdge, SubNode
from tests._browserkit import BROWSER_MARKS

pytestmark = BROWSER_MARKS


def test_aggregated_links_and_hub_in_chromium(browser, tmp_path):
    sub = aggregated_subgraph()
    sub.nodes.append(SubNode("Carrier:C9", "Carrier", "C9", SCRIPT_ADDRESS, {"name": SCRIPT_ADDRESS}))
    sub.edges.append(SubEdge("ct", "Trader:T1", "Carrier:C9", "OFFICER_OF"))
    sub.hubs = {"Carrier:C9": {"Declaration": 3400, "Country": 1}}
    w = Watched(browser, write_chart(sub, "html", tmp_path / "agg.html"))
    page = w.page
    looks = page.evaluate("""() => window.graphiffCy.edges().map(e => [e.data('type'), e.style('line-color'),
                                     parseFloat(e.style('width')), e.style('label'), e.style('target-arrow-shape')])""")
    traded = [x for x in looks if x[0] == "TRADED_WITH"]
    assert len(traded) == 3 and any(x[0] == "PAID" for x in looks)
    for kind, colour, width, label, arrow in looks:
        if kind in ("TRADED_WITH", "PAID"):
            st = EDGE_STYLES["traded-with" if kind == "TRADED_WITH" else "paid"]
            assert colour == "rgb({},{},{})".format(*hex_to_rgb(st.colour)) and width == st.width, kind
            assert "\u00d7 USD" in label and arrow == "triangle", kind
    # the panel of an aggregated link
    page.evaluate("""() => { window.graphiffCy.edges().filter(e => e.data('type') === 'TRADED_WITH'
                              && e.data('source') === 'Trader:T1')[0].emit('tap'); }""")
    assert w.text("#panel-title") == "TRADED_WITH: 2 \u00d7 USD 1.2M, 2024-01-10 \u2013 2024-04-10"
    assert "2 declarations folded into one link" in w.text("#panel-sub")
    props = w.text("#props")
    assert "Declaration:D1/1; Declaration:D4/1" in props and "620342; 851712" in props and "first_date" in props
    assert XSS_NAME in w.text("#links")                           # the ends, as text
    # the hub: dashed border, panel and side note
    assert page.evaluate("window.graphiffCy.getElementById('Carrier:C9').hasClass('hub')")
    assert page.evaluate("window.graphiffCy.getElementById('Carrier:C9').style('border-style')") == "dashed"
    page.evaluate("() => { window.graphiffCy.getElementById('Carrier:C9').emit('tap'); }")
    assert "Hub, not expanded: 3,400 declarations, 1 country" in w.text("#panel-flags")
    assert w.text("#panel-title") == SCRIPT_ADDRESS
    assert "Hubs not expanded" in w.text("#omitted")
    # a node's connections name the aggregated links with their caption
    page.evaluate("() => { window.graphiffCy.getElementById('Trader:T1').emit('tap'); }")
    assert "TRADED_WITH (2 \u00d7 USD 1.2M" in w.text("#links")
    assert page.locator("img").count() == 0
    page.wait_for_timeout(300)
    w.clean()
    page.close()


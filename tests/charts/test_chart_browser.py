"""The interactive HTML chart in a real headless Chromium: renders, clicks, search, filters,
no console errors, no dialog, no network, hostile names shown as text."""
from __future__ import annotations

from pathlib import Path

from synthetic import FORMULA_NAME, SCRIPT_ADDRESS, XSS_NAME, random_subgraph

from graphiff.charts.base import write_chart
from graphiff.charts.style import hex_to_rgb, style_for, swatch_path
from tests._browserkit import BROWSER_MARKS

pytestmark = BROWSER_MARKS


class Watched:
    """A page with every console error, page error, dialog and non-file request recorded."""

    def __init__(self, browser, path: Path):
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", self._dialog)
        self.page.on("request", lambda r: None if r.url.startswith("file:") else self.requests.append(r.url))
        self.page.goto(path.resolve().as_uri())
        # predicates as functions: a string predicate would need eval(), which the page's CSP forbids
        self.page.wait_for_function("() => window.graphiffReady === true", timeout=60_000)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def clean(self) -> None:
        assert self.dialogs == [], f"a dialog opened: {self.dialogs}"
        assert self.errors == [], f"console errors: {self.errors}"
        assert self.requests == [], f"network requests: {self.requests}"

    def text(self, selector: str) -> str:
        return self.page.locator(selector).inner_text()

    def click_node(self, node_id: str) -> None:
        """A real mouse click at the node's rendered position."""
        xy = self.page.evaluate(
            """(id) => { const n = window.graphiffCy.getElementById(id);
                         const p = n.renderedPosition();
                         const r = window.graphiffCy.container().getBoundingClientRect();
                         return [r.left + p.x, r.top + p.y]; }""", node_id)
        self.page.mouse.click(*xy)


def test_small_chart_in_chromium(browser, small_sub, tmp_path):
    w = Watched(browser, write_chart(small_sub, "html", tmp_path / "chart.html"))
    page = w.page
    assert page.evaluate("window.graphiffNodeCount") == len(small_sub.nodes)
    assert page.evaluate("window.graphiffEdgeCount") == len(small_sub.edges)
    assert page.evaluate("window.graphiffCy.nodes().length") == len(small_sub.nodes)
    assert w.text("#title") == small_sub.title
    assert page.title() == small_sub.title
    legend = w.text("#legend")
    assert "Trader" in legend and "Alert" in legend and "(2)" in legend
    # every legend swatch is drawn with the shape and colour cytoscape draws that label's nodes with
    rows = page.evaluate("""() => Array.from(document.querySelectorAll('#legend .legend-row')).map(r => {
        const label = r.querySelector('input').getAttribute('data-label');
        const node = window.graphiffCy.nodes().filter(n => n.data('id').split(':')[0] === label)[0];
        const path = r.querySelector('svg.swatch path');
        return [label, r.querySelector('svg.swatch').getAttribute('data-shape'), node.style('shape'),
                path.getAttribute('d'), path.getAttribute('fill'), node.style('background-color')]; })""")
    assert len(rows) == len({n.label for n in small_sub.nodes})
    for label, swatch_shape, node_shape, d, fill, node_colour in rows:
        st = style_for(label)
        assert swatch_shape == node_shape == st.shape, label
        assert d == swatch_path(st.shape, st.size), label
        assert fill == st.colour and node_colour == "rgb({},{},{})".format(*hex_to_rgb(st.colour)), label
    assert page.locator("#legend .swatch").evaluate_all("els => els.map(e => e.textContent)") == [""] * len(rows)
    assert "Declaration 3" in w.text("#omitted") and "Payment 1" in w.text("#omitted")

    # click the node named <img src=x onerror=alert(1)>: details panel shows it as text
    w.click_node("Trader:T1")
    page.wait_for_function("() => document.getElementById('panel-title').textContent.length > 0 && "
                           "document.getElementById('props-head').hidden === false")
    assert w.text("#panel-title") == XSS_NAME
    assert "Trader" in w.text("#panel-sub") and "T1" in w.text("#panel-sub")
    props = w.text("#props")
    assert "country" in props and "AE" in props and "employees" in props and "12" in props
    prov = w.text("#prov")
    for value in ("_source", "traders.csv", "_line", "2", "_load_id", "load-42", "_loaded_at", "2024-06-01T10:00:00Z"):
        assert value in prov
    assert "Flagged by 1 alert" in w.text("#panel-flags")
    assert "EXPORTED" in w.text("#links")
    assert page.locator("img").count() == 0                      # nothing was parsed as markup
    assert page.locator("#panel b").count() == 0

    # a relationship, tapped through the cytoscape object
    # (evaluate must not return cytoscape objects: serialising the whole core takes ages)
    page.evaluate("() => { window.graphiffCy.edges().filter(e => e.data('type') === 'OFFICER_OF')[0].emit('tap'); }")
    assert w.text("#panel-title") == "OFFICER_OF"
    assert "role" in w.text("#props") and "officers.csv" in w.text("#prov")

    # search by caption / key; one match + Enter opens it
    page.fill("#search", "main st")
    page.press("#search", "Enter")
    assert w.text("#search-count") == "1 match"
    assert w.text("#panel-title") == SCRIPT_ADDRESS
    page.fill("#search", "hyperlink")
    page.press("#search", "Enter")
    assert w.text("#panel-title") == FORMULA_NAME
    page.fill("#search", "t1")                                   # by key
    page.press("#search", "Enter")
    assert w.text("#search-count") == "1 match"
    assert page.evaluate("window.graphiffCy.nodes('.match').map(n => n.id())") == ["Trader:T1"]
    page.fill("#search", "")
    page.press("#search", "Enter")

    # filter checkboxes hide a type
    # (cytoscape may apply the style change on its next frame: poll)
    def visible_becomes(n: int) -> None:
        page.wait_for_function(f"() => window.graphiffCy.nodes().filter(n => n.visible()).length === {n}",
                               timeout=10_000)

    visible_becomes(len(small_sub.nodes))
    page.locator('#legend input[data-label="Trader"]').uncheck()
    visible_becomes(len(small_sub.nodes) - 2)
    assert page.evaluate("window.graphiffCy.nodes('.hidden').map(n => n.id()).sort()") == ["Trader:T1", "Trader:T2"]
    page.locator('#legend input[data-label="Trader"]').check()
    visible_becomes(len(small_sub.nodes))

    # alert highlighted, flagged nodes bordered
    assert page.evaluate("window.graphiffCy.getElementById('Alert:circular_trade:abc').hasClass('alert')")
    assert page.evaluate("window.graphiffCy.nodes('.flagged').map(n => n.id()).sort()") == \
        ["Declaration:D1/1", "Trader:T1"]
    page.wait_for_timeout(300)
    w.clean()
    page.close()


def test_large_chart_in_chromium(browser, tmp_path):
    sub = random_subgraph(2500, seed=11)
    w = Watched(browser, write_chart(sub, "html", tmp_path / "big.html"))
    assert w.page.evaluate("window.graphiffNodeCount") == len(sub.nodes)
    assert w.page.evaluate("window.graphiffEdgeCount") == len(sub.edges)
    # zoom into a node: captions appear for the nodes in view
    w.page.evaluate("() => { const cy = window.graphiffCy; cy.zoom({level: 2, position: cy.nodes()[0].position()}); }")
    w.page.wait_for_function("() => window.graphiffCy.nodes('.lbl').length > 0", timeout=5_000)
    w.click_node(sub.nodes[0].id)
    w.page.wait_for_function("() => document.getElementById('prov-head').hidden === false", timeout=5_000)
    assert w.text("#panel-title") == sub.nodes[0].caption
    w.clean()
    w.page.close()

"""graph.index: the adjacency index of a store (built once per Tables), how a hop is counted,
and the node descriptions read through it; on the small world of tests/graph/test_select.py."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from graphiff.errors import GraphiffError, NotFound
from graphiff.graph.graphs import projection_graph
from graphiff.graph.index import caption_of, check_date, graph_index, node_props
from graphiff.graph.tables import Tables
from graphiff.stores import open_store
from tests.graph.test_select import CT1, build_world


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    return build_world(tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="module")
def tables(db):
    st = open_store(str(db))
    yield Tables(st)
    st.close()


def test_index_and_projection_graph(tables):
    idx = graph_index(tables)
    assert graph_index(tables) is idx                               # built once per Tables
    t1 = idx.find("Trader", "T1")
    assert idx.node_id(t1) == "Trader:T1" and idx.find("Trader", "NOPE") == -1
    g = projection_graph(tables, "trade")
    assert g.is_directed() and set(g.vs["label"]) == {"Trader"} and sum(g.es["weight"]) == 5


def test_a_hop_passes_through_records_not_countries(tables):
    idx = graph_index(tables)
    t1 = idx.resolve_one("T1")
    dist = idx.expand([t1], 1)
    reached = {idx.node_id(i) for i in np.flatnonzero(dist == 1)}
    assert {"Declaration:D1/1", "Trader:T2", "Country:KE"} <= reached     # partner through the declaration
    assert "Trader:T6" not in reached                                     # only the country in common
    assert "Trader:T3" not in reached and dist[idx.find("Trader", "T3")] == -1
    assert idx.node_id(idx.alerts_of(t1)[0]) == f"Alert:{CT1}"


def test_resolve_and_dates(tables):
    idx = graph_index(tables)
    assert idx.resolve("Person:P1") == [idx.find("Person", "P1")]
    with pytest.raises(NotFound):
        idx.resolve("Trader:NOPE")
    assert check_date(None, "from") is None and check_date(" 2024-03 ", "from") == "2024-03"
    with pytest.raises(GraphiffError, match="not a date"):
        check_date("March", "from")
    d4 = idx.find("Declaration", "D4/1")
    ok = idx.node_date_ok("2024", None)
    assert not ok[d4] and ok[idx.find("Declaration", "D1/1")] and ok[idx.find("Trader", "T1")]


def test_node_props_and_caption(tables):
    idx = graph_index(tables)
    t1 = idx.find("Trader", "T1")
    props = node_props(tables, idx, [t1])[t1]
    assert props["name"] == "Alpha Trading" and props["_source"] == "traders.csv" and "key" not in props
    assert caption_of("Trader", "T1", props) == "Alpha Trading" and caption_of("Trader", "T9", {}) == "T9"

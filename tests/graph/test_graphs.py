"""graph.graphs: the one igraph builder (vertex naming and order, labels, edge attributes) and the
builders and projections made with it."""
from __future__ import annotations

import pytest
from _netkit import decl, make_tables

from graphiff.errors import GraphiffError
from graphiff.graph.graphs import PROJECTIONS, carrier_use, edge_graph, projection_graph, trade_graph


def test_edge_graph_names_by_key_sorted_edges_in_row_order():
    g = edge_graph(["B", "A", "B"], ["C", "B", "C"], edge_attrs={"n": [1, 2, 3]})
    assert g.is_directed() and g.vs["name"] == ["A", "B", "C"]
    assert g.get_edgelist() == [(1, 2), (0, 1), (1, 2)] and g.es["n"] == [1, 2, 3]   # parallel edges kept
    assert "label" not in g.vs.attributes()


def test_edge_graph_labelled_ends_are_label_key():
    g = edge_graph(["K1", "K1"], ["K1", "X"], src_label="Trader", dst_label=["Carrier", "Trader"], directed=False)
    assert g.vs["name"] == ["Carrier:K1", "Trader:K1", "Trader:X"]       # same key, two labels: two vertices
    assert g.vs["label"] == ["Carrier", "Trader", "Trader"] and g.vs["key"] == ["K1", "K1", "X"]
    assert not g.is_directed() and g.ecount() == 2
    with pytest.raises(GraphiffError):
        edge_graph(["a"], ["b"], src_label="Trader")


def test_edge_graph_empty():
    g = edge_graph([], [], src_label="Trader", dst_label="Trader")
    assert g.vcount() == 0 and g.ecount() == 0


def test_builders_share_the_naming():
    t = make_tables(decls=[decl("D1", "T1", "T2", "2024-01-10", carrier="T1"),
                           decl("D2", "T2", "T1", "2024-02-10", carrier="C9")], carriers=["T1", "C9"])
    tg = trade_graph(t)
    assert tg.vs["name"] == ["T1", "T2"] and tg.ecount() == 2
    cu = carrier_use(t)             # a carrier whose key is also a trader's is its own vertex
    assert {"Trader:T1", "Carrier:T1"} <= set(cu.vs["name"]) and cu.is_bipartite()
    assert [v["type"] for v in cu.vs] == [lab == "Carrier" for lab in cu.vs["label"]]
    for p in PROJECTIONS:
        g = projection_graph(t, p)
        assert all(n == f"{lab}:{key}" for n, lab, key in zip(g.vs["name"], g.vs["label"], g.vs["key"])), p
        assert len(g.es["weight"] if g.ecount() else []) == g.ecount()
    pg = projection_graph(t, "trade")
    assert pg.vs["name"] == ["Trader:T1", "Trader:T2"] and pg.es["weight"] == [1.0, 1.0]
    with pytest.raises(GraphiffError, match="projection"):
        projection_graph(t, "gossip")

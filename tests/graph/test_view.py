"""The analyst's view (graphiff.graph.view) and the type filter / hub control of select, on the
small world of test_select (T1 -D1-> T2 -D2-> T3 -D3-> T5 -D4-> T1, T2 -D6-> T7)."""
from __future__ import annotations

import pytest

from graphiff.errors import GraphiffError
from graphiff.graph.select import select
from graphiff.graph.subgraph import SubEdge, Subgraph, SubNode
from graphiff.graph.tables import Tables
from graphiff.graph.view import aggregate, only_types, record_ids_of, view
from graphiff.stores import open_store
from tests.graph.test_select import CT1, build_world


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    st = open_store(str(build_world(tmp_path_factory.mktemp("view"))))
    yield Tables(st)
    st.close()


def edges_of(sub, rtype):
    return {(e.source, e.target): e.props for e in sub.edges if e.type == rtype}


def test_circular_trade_reads_as_a_cycle_of_dated_valued_links(tables):
    # an alert's view: its traders and evidence declarations, folded (seed records fold too)
    sub = aggregate(select(tables, ["T1", "T2", "T3", "T5", "D1/1", "D2/1", "D3/1", "D4/1"], hops=0))
    traded = edges_of(sub, "TRADED_WITH")
    assert set(traded) == {("Trader:T1", "Trader:T2"), ("Trader:T2", "Trader:T3"),
                           ("Trader:T3", "Trader:T5"), ("Trader:T5", "Trader:T1")}
    assert traded[("Trader:T5", "Trader:T1")]["first_date"] == "2023-05-01"
    assert {n.label for n in sub.nodes} == {"Trader", "Alert"}
    # view() keeps the records the analyst named
    named = view(tables, ["T1", "D1/1"], hops=0, aggregated=True)
    assert "Declaration:D1/1" in {n.id for n in named.nodes}


def test_aggregate_folds_declarations_with_both_parties(tables):
    sub = view(tables, ["T2"], hops=1, aggregated=True, hub_limit=0)
    traded = edges_of(sub, "TRADED_WITH")
    assert traded[("Trader:T1", "Trader:T2")] == {
        "count": 1, "value_usd": 10000.0, "first_date": "2024-01-10", "last_date": "2024-01-10",
        "record_ids": ["Declaration:D1/1"], "hs6": ["851712"]}
    assert ("Trader:T2", "Trader:T3") in traded and ("Trader:T2", "Trader:T7") in traded
    assert not any(n.label == "Declaration" for n in sub.nodes)
    paid = edges_of(sub, "PAID")
    assert paid[("BankAccount:A2", "BankAccount:A1")]["record_ids"] == ["Payment:PAY1"]
    assert record_ids_of(sub)[:1] and "Declaration:D1/1" in record_ids_of(sub)
    # the plain view of the same seed holds the records instead
    plain = view(tables, ["T2"], hops=1)
    assert "Declaration:D1/1" in {n.id for n in plain.nodes}
    assert not edges_of(plain, "TRADED_WITH")


def test_aggregate_keeps_records_without_both_parties(tables):
    sub = aggregate(select(tables, ["D1/1", "D3/1"], hops=0))
    assert {n.id for n in sub.nodes} >= {"Declaration:D1/1", "Declaration:D3/1"}
    assert not edges_of(sub, "TRADED_WITH")


def test_aggregate_keep_leaves_records_unfolded(tables):
    sub = aggregate(select(tables, ["T1", "T2", "D1/1"], alert=CT1, hops=0))
    # D1/1 folds into T1 -> T2; the alert still flags T1 and T2
    assert ("Trader:T1", "Trader:T2") in edges_of(sub, "TRADED_WITH")
    kept = aggregate(select(tables, ["T1", "T2", "D1/1"], alert=CT1, hops=0), keep=["Declaration:D1/1"])
    assert "Declaration:D1/1" in {n.id for n in kept.nodes}
    assert {e.target for e in sub.edges if e.type == "FLAGS"} >= {"Trader:T1", "Trader:T2"}


def test_types_filter_keeps_labels_asked_for_and_walks_through_records(tables):
    sub = view(tables, ["T2"], hops=1, types=["Trader"], aggregated=True)
    assert {n.label for n in sub.nodes} <= {"Trader", "Alert"}
    assert ("Trader:T2", "Trader:T3") in edges_of(sub, "TRADED_WITH")
    plain = view(tables, ["T2"], hops=1, types=["Trader"])
    assert {n.label for n in plain.nodes} <= {"Trader", "Alert"}
    with pytest.raises(GraphiffError, match="Tradr"):
        view(tables, ["T2"], types=["Tradr"])
    assert only_types(plain, None) is plain


def test_hub_limit_shows_a_hub_without_walking_through_it(tables):
    # C1 carries D1 and D2 and is in KE: with a limit of 2 it is a hub, reached but not walked through
    free = select(tables, ["C1"], hops=1)
    assert {"Trader:T1", "Trader:T2", "Trader:T3"} <= {n.id for n in free.nodes}
    capped = select(tables, ["C1"], hops=1, hub_limit=2)
    assert [n.id for n in capped.nodes] == ["Carrier:C1"]
    assert capped.hubs == {"Carrier:C1": {"Country": 1, "Declaration": 2}}
    # narrowing the dates leaves one declaration: under the limit, C1 expands again
    narrow = select(tables, ["C1"], hops=1, hub_limit=2, date_to="2024-01-31")
    assert "Declaration:D1/1" in {n.id for n in narrow.nodes} and "Carrier:C1" not in narrow.hubs
    # a hub met on the way is shown, not passed
    via = select(tables, ["T1"], hops=2, hub_limit=1, rel_types=["EXPORTED", "CARRIED_BY"])
    assert "Carrier:C1" in via.hubs and "Declaration:D2/1" not in {n.id for n in via.nodes}


def test_a_hub_stays_in_the_aggregated_view_with_its_summary():
    nodes = [SubNode(i, i.split(":")[0], i.split(":")[1], i) for i in
             ("Trader:A", "Trader:B", "Declaration:D", "Carrier:C", "Container:K")]
    edges = [SubEdge("1", "Trader:A", "Declaration:D", "EXPORTED"),
             SubEdge("2", "Declaration:D", "Trader:B", "IMPORTED_BY"),
             SubEdge("3", "Declaration:D", "Carrier:C", "CARRIED_BY"),
             SubEdge("4", "Declaration:D", "Container:K", "IN_CONTAINER")]
    sub = aggregate(Subgraph(nodes=nodes, edges=edges, seeds=["Trader:A"], hubs={"Carrier:C": {"Declaration": 900}}))
    # the container seen only on the folded declaration leaves; the hub stays with its summary
    assert [n.id for n in sub.nodes] == ["Trader:A", "Trader:B", "Carrier:C"]
    assert sub.hubs == {"Carrier:C": {"Declaration": 900}}

"""Projections: shipment edges (mirror pairs merged), money edges, carrier use, identifiers."""
from __future__ import annotations

import pandas as pd
from _netkit import decl, make_tables, rel_rows

from graphiff.graph.features import (
    carrier_declarations,
    carrier_identifiers,
    carrier_shipments,
    carrier_use_table,
    give_feature,
    identifier_links,
    money_edges,
    officer_table,
    settlements,
    settlements_of,
    trade_edges,
    trader_carried,
)
from graphiff.graph.graphs import ownership_and_identifiers, trade_graph
from graphiff.graph.tables import Tables


def test_mirror_merge_rules():
    t = make_tables(decls=[
        decl("E1", "A", "B", "2024-01-10", doc="BL-1", value=100.0),
        decl("I1", "A", "B", "2024-01-20", flow="IMPORT", rc="UG", doc="bl 1", value=110.0),
        # two items of one export declaration, same goods and document: one shipment, summed
        decl("E2", "A", "B", "2024-02-01", doc="BL-2", value=50.0, mass=5.0, item=1),
        decl("E2", "A", "B", "2024-02-01", doc="BL-2", value=70.0, mass=7.0, item=2),
        # matched on the invoice when there is no transport document
        decl("E3", "A", "C", "2024-03-01", inv="INV-3"),
        decl("I3", "A", "C", "2024-03-09", flow="IMPORT", inv="inv3"),
        # neither: never merged
        decl("E4", "A", "C", "2024-04-01"), decl("E5", "A", "C", "2024-04-01"),
        # an import seen only by the importing administration
        decl("I6", "D", "A", "2024-05-01", flow="IMPORT", doc="BL-6"),
        # no exporter: not a trade edge
        decl("I7", None, "A", "2024-05-01", flow="IMPORT"),
    ])
    e = trade_edges(t)
    by = {r.decl: r for r in e.itertuples()}
    assert set(by) == {"E1/1", "E2/1", "E3/1", "E4/1", "E5/1", "I6/1"}
    assert set(by["E1/1"].decls) == {"E1/1", "I1/1"}
    assert by["E1/1"].date == "2024-01-10" and by["E1/1"].value_usd == 100.0  # the export side
    assert by["E2/1"].value_usd == 120.0 and by["E2/1"].net_mass_kg == 12.0
    assert set(by["E3/1"].decls) == {"E3/1", "I3/1"}
    assert list(e["edge"]) == list(range(len(e))) and e["t"].is_monotonic_increasing
    assert len(trade_edges(t, hs_level=4)["hs"].iloc[0]) == 4


def test_parties_from_relationships_and_cache_isolation():
    d = pd.DataFrame([decl("E1", None, None, "2024-01-10")]).drop(columns=["exporter_id", "importer_id"])
    rels = {"EXPORTED": rel_rows([("Trader", "A", "Declaration", "E1/1")]),
            "IMPORTED_BY": rel_rows([("Declaration", "E1/1", "Trader", "B")])}
    t = Tables.from_frames(nodes={"Declaration": d}, rels=rels)
    e = trade_edges(t)
    assert (e["src"].tolist(), e["dst"].tolist()) == (["A"], ["B"])
    e["scratch"] = 1  # a caller's change does not leak into the next caller's table
    assert "scratch" not in trade_edges(t).columns
    g = trade_graph(t)
    assert g.vs["name"] == ["A", "B"] and g.es["decl"] == ["E1/1"]


def test_empty_tables():
    t = Tables.from_frames()
    assert trade_edges(t).empty and money_edges(t).empty and carrier_use_table(t).empty
    assert identifier_links(t).empty and officer_table(t).empty
    assert ownership_and_identifiers(t).vcount() == 0


def test_identifiers_fall_back_to_columns():
    tr = pd.DataFrame([{"key": "A", "address": "1 Harbour Rd, Mombasa", "phone": "+254 700 1", "email": "X@Y.org"},
                       {"key": "B", "address": "1 harbour rd mombasa", "phone": None, "email": ""}])
    ids = identifier_links(Tables.from_frames(nodes={"Trader": tr}))
    addr = ids[ids["id_label"] == "Address"]
    assert addr["id_key"].nunique() == 1 and set(addr["key"]) == {"A", "B"}
    assert set(ids.loc[ids["id_label"] == "Phone", "id_key"]) == {"+2547001"}
    assert set(ids.loc[ids["id_label"] == "Email", "id_key"]) == {"x@y.org"}


def test_identifiers_shared_with_a_label():
    """Only the identifiers a carrier holds too, with everyone of ``labels`` giving them: from
    relationships, and from the entities' columns when there are none."""
    t = make_tables(located=[("Trader", "A", "ADDR1"), ("Trader", "B", "ADDR1"), ("Carrier", "C", "ADDR2"),
                             ("Trader", "D", "ADDR2")],
                    phones=[("Trader", "A", "PH1"), ("Carrier", "C", "PH1"), ("Person", "P", "PH1")])
    ids = identifier_links(t, ("Trader", "Carrier"), shared_with="Carrier")
    assert sorted(ids.itertuples(index=False, name=None)) == [
        ("Address", "ADDR2", "Carrier", "C"), ("Address", "ADDR2", "Trader", "D"),
        ("Phone", "PH1", "Carrier", "C"), ("Phone", "PH1", "Trader", "A")]
    # the carrier's own rows are not asked for: only who else gives its identifiers
    assert set(identifier_links(t, ("Trader",), shared_with="Carrier")["key"]) == {"A", "D"}
    tr = pd.DataFrame([{"key": "A", "phone": "+254 700 1"}, {"key": "B", "phone": "+254 700 2"}])
    car = pd.DataFrame([{"key": "C", "phone": "+254-700-1"}])
    cols = identifier_links(Tables.from_frames(nodes={"Trader": tr, "Carrier": car}), ("Trader",),
                            shared_with="Carrier")
    assert list(cols.itertuples(index=False, name=None)) == [("Phone", "+2547001", "Trader", "A")]


def test_settlements_by_declaration_id_else_invoice():
    decls = pd.DataFrame([decl("D1", "A", "B", "2024-01-10", inv="INV-1"),
                          decl("D1", "A", "B", "2024-01-10", inv="INV-1", item=2),
                          decl("D2", "C", "B", "2024-01-12", inv="INV-1")])
    pays = pd.DataFrame([
        {"key": "P1", "declaration_id": "D2", "invoice_no": "INV-1"},   # the id wins over the invoice
        {"key": "P2", "declaration_id": None, "invoice_no": "INV-1"},   # every declaration of the invoice
        {"key": "P3", "declaration_id": None, "invoice_no": None},      # settles nothing
    ])
    s = settlements(Tables.from_frames(nodes={"Declaration": decls, "Payment": pays}))
    assert list(s.itertuples(index=False, name=None)) == [
        ("P1", "D2/1", "declaration_id"),
        ("P2", "D1/1", "invoice_no"), ("P2", "D1/2", "invoice_no"), ("P2", "D2/1", "invoice_no")]
    assert settlements(Tables.from_frames()).empty
    t = Tables.from_frames(nodes={"Declaration": decls, "Payment": pays})
    # a few payments: the same pairs as the whole table's, for those payments only
    assert list(settlements_of(t, {"P1"}).itertuples(index=False, name=None)) == [("P1", "D2/1", "declaration_id")]
    assert settlements_of(t, {"P2", "P3"}).equals(s[s["payment"] != "P1"].reset_index(drop=True))
    assert settlements_of(t, set()).empty


def _carried(key, exporter, importer, carrier, conveyance=None, containers=None):
    return {"key": key, "exporter_id": exporter, "importer_id": importer, "carrier_id": carrier,
            "conveyance_id": conveyance, "container_ids": containers}


def test_carrier_features_count_declarations_once_and_list_the_first_keys():
    d = pd.DataFrame([
        _carried("D9", "A", "B", "C1", conveyance="imo 1", containers="MSCU1; mscu2"),
        _carried("D2", "B", "A", "C1", conveyance="IMO 1"),
        _carried("D5", "A", None, "C1"),
        _carried("D1", "C", "C", "C2", containers="mscu1,,TGHU3"),
        _carried("D3", None, None, "C2"),       # no trader: not carried for anyone
        _carried("D4", "A", "B", None),         # no carrier
    ])
    t = Tables.from_frames(nodes={"Declaration": d})
    ships = carrier_shipments(t)
    assert list(ships.itertuples(index=False, name=None)) == [
        ("A", "C1", 3), ("B", "C1", 2), ("C", "C2", 2)]  # a trader on both sides counts twice
    use = carrier_use_table(t)
    assert list(use["shipments"]) == list(ships["shipments"])
    # a trader's shipments with any carrier: what its dependency on a group is measured against
    assert list(trader_carried(t).itertuples(index=False, name=None)) == [("A", 3), ("B", 2), ("C", 2)]
    decls = carrier_declarations(t, 2)
    # each declaration once per carrier, though it names two traders; keys sorted across traders
    assert list(decls.itertuples(index=False, name=None)) == [("C1", 3, ("D2", "D5")), ("C2", 1, ("D1",))]
    ids = carrier_identifiers(t)
    assert sorted(ids.itertuples(index=False, name=None)) == [
        ("container", "MSCU1", "C1"), ("container", "MSCU1", "C2"), ("container", "MSCU2", "C1"),
        ("container", "TGHU3", "C2"), ("conveyance", "IMO 1", "C1")]


def test_a_given_feature_is_returned_instead_of_computed():
    t = Tables.from_frames(nodes={"Declaration": pd.DataFrame([_carried("D1", "A", "B", "C1")])})
    given = pd.DataFrame({"trader_id": ["Z"], "carrier_id": ["C9"], "shipments": [40]})
    give_feature(t, carrier_shipments, given)
    give_feature(t, carrier_declarations, pd.DataFrame({"carrier_id": ["C9"], "declarations": [40],
                                                        "first": [("K1",)]}), 1)
    assert carrier_shipments(t).equals(given)
    assert list(trader_carried(t).itertuples(index=False, name=None)) == [("Z", 40)]  # from the given rows
    assert list(carrier_declarations(t, 1)["carrier_id"]) == ["C9"]
    assert list(carrier_declarations(t, 2)["carrier_id"]) == ["C1"]  # other arguments: computed

"""linked_carriers: two small carriers with one director and one phone serving the same closed
circle of traders alert (with the director's cash reports noted), and so does a pair tied only by
one address nobody else has; a global carrier sharing an address or a vessel with them, two big
carriers sharing vessels, two carriers sharing a forwarding agent's phone that many companies
give, and two carriers sharing a phone but serving disjoint markets do not."""
from __future__ import annotations

from _netkit import decl, entity_ids, make_tables

from graphiff.detectors.linked_carriers import carrier_links, linked_carriers
from graphiff.graph.features import carrier_use_table
from graphiff.graph.graphs import carrier_use, ownership_and_identifiers


def world():
    d = []
    n = 0

    def ship(exp, imp, carrier, **kw):
        nonlocal n
        n += 1
        d.append(decl(f"D{n}", exp, imp, f"2024-{1 + n % 12:02d}-{1 + n % 27:02d}", carrier=carrier, **kw))

    # the circle: six traders using both KA and KB (and nothing else)
    for i in range(6):
        ship(f"C{i}", f"K{i}", "KA")
        ship(f"C{i}", f"K{i}", "KB")
        ship(f"K{i}", f"C{i}", "KA")
    # the global line GL serves 300 traders, a few of the circle too; it shares an address and a vessel with KA
    for i in range(300):
        ship(f"G{i}", f"H{i}", "GL", conveyance="IMO9000001")
    ship("C0", "K0", "GL", conveyance="IMO9000001")
    ship("C1", "K1", "KA", conveyance="IMO9000001")
    # two big carriers sharing vessels (an alliance), 150 traders each, overlapping clientele
    for i in range(150):
        ship(f"A{i}", f"B{i}", "BIG1", conveyance=f"IMO77{i % 3}")
        ship(f"A{i}", f"B{i}", "BIG2", conveyance=f"IMO77{i % 3}")
    # decoy: two small carriers sharing a phone but serving different traders
    for i in range(4):
        ship(f"P{i}", f"Q{i}", "SM1")
        ship(f"R{i}", f"S{i}", "SM2")
    officers = [("Person", "DIR", "Carrier", "KA", "DIRECTOR"), ("Person", "DIR", "Carrier", "KB", "DIRECTOR")]
    phones = [("Carrier", "KA", "+254700111222"), ("Carrier", "KB", "+254700111222"),
              ("Carrier", "SM1", "+254799000000"), ("Carrier", "SM2", "+254799000000"),
              ("Person", "COURIER", "+254700111222")]
    located = [("Carrier", "KA", "PORT HOUSE MOMBASA"), ("Carrier", "GL", "PORT HOUSE MOMBASA")]
    cash = [{"key": f"CR{i}", "report_id": f"CR{i}", "report_type": "BORDER", "date": f"2024-0{i + 1}-15",
             "amount": 9_500.0, "currency": "USD", "amount_usd": 9_500.0, "person_id": "COURIER"} for i in range(3)]
    return make_tables(decls=d, carriers=["KA", "KB", "GL", "BIG1", "BIG2", "SM1", "SM2"],
                       persons=["DIR", "COURIER"], officers=officers, phones=phones, located=located, cash=cash,
                       filed=[(c["key"], "COURIER") for c in cash])


def test_projections():
    t = world()
    use = carrier_use_table(t)
    assert (set(use.loc[use["carrier_id"] == "KA", "trader_id"])
            == {f"C{i}" for i in range(6)} | {f"K{i}" for i in range(6)})
    g = carrier_use(t)
    assert set(g.vs["label"]) == {"Trader", "Carrier"} and g.is_bipartite()
    og = ownership_and_identifiers(t)
    assert "Person:DIR" in og.vs["name"] and "Phone:+254700111222" in og.vs["name"]
    assert {"OFFICER_OF", "HAS_PHONE", "LOCATED_AT"} <= set(og.es["type"])


def test_links():
    links = carrier_links(world())
    kinds = set(zip(links["a"], links["b"], links["kind"]))
    assert ("KA", "KB", "officer") in kinds and ("KA", "KB", "phone") in kinds
    assert ("GL", "KA", "address") in kinds and ("GL", "KA", "conveyance") in kinds
    assert ("BIG1", "BIG2", "conveyance") in kinds


def test_linked_circle_alerts_and_decoys_do_not():
    alerts = linked_carriers(world())
    assert [entity_ids(a) for a in alerts] == [{"KA", "KB"}]
    a = alerts[0]
    assert a.evidence["persons"] == ["COURIER"]
    assert len(a.evidence["cash_reports"]) == 3
    assert set(a.evidence["traders"]) == {f"C{i}" for i in range(6)} | {f"K{i}" for i in range(6)}
    assert {"officer", "phone"} <= {x["kind"] for x in a.evidence["links"]}
    assert "cash report" in a.explanation
    assert a.score > 0.8


def test_big_carriers_need_concentration():
    # the alliance is linked and overlapping, but its clientele is far from concentrated
    alerts = linked_carriers(world(), threshold=0.3)
    assert {"BIG1", "BIG2"} not in [entity_ids(a) for a in alerts]
    assert all("GL" not in entity_ids(a) for a in alerts)


def pair_world(agent_phone_holders: int = 0, overlap: bool = True):
    """Two fronts F1, F2 serving four traders that mostly use them (and a legitimate line L1
    now and then); F1 and F2 share one identifier."""
    d = []
    n = 0

    def ship(exp, imp, carrier):
        nonlocal n
        n += 1
        d.append(decl(f"D{n}", exp, imp, f"2024-{1 + n % 12:02d}-{1 + n % 27:02d}", carrier=carrier))

    for i in range(4):
        ship(f"X{i}", f"Y{i}", "F1")
        ship(f"X{i}", f"Y{i}", "F1")
        ship(f"X{i}" if overlap else f"U{i}", f"Y{i}" if overlap else f"V{i}", "F2")
        ship(f"X{i}", f"Y{i}", "L1")
    for i in range(40):
        ship(f"G{i}", f"H{i}", "L1")
    if agent_phone_holders:
        phones = [("Carrier", "F1", "+4420700000"), ("Carrier", "F2", "+4420700000")]
        phones += [("Trader", f"G{i}", "+4420700000") for i in range(agent_phone_holders)]
        return make_tables(decls=d, carriers=["F1", "F2", "L1"], phones=phones)
    return make_tables(decls=d, carriers=["F1", "F2", "L1"], located=[("Carrier", "F1", "7 QUAY LANE"),
                                                                     ("Carrier", "F2", "7 QUAY LANE")])


def test_pair_tied_by_one_exclusive_address():
    alerts = linked_carriers(pair_world())
    assert [entity_ids(a) for a in alerts] == [{"F1", "F2"}]
    a = alerts[0]
    assert a.evidence["links"] == [{"carriers": ["F1", "F2"], "kind": "address", "value": "7 QUAY LANE", "holders": 2}]
    assert 0.45 <= a.score <= 1


def test_widely_shared_identifier_or_disjoint_markets_link_nothing():
    # a forwarding agent's phone that twenty companies give
    links = carrier_links(pair_world(agent_phone_holders=20))
    assert links["holders"].tolist() == [22.0]
    assert linked_carriers(pair_world(agent_phone_holders=20)) == []
    # an exclusive address, but the two serve disjoint markets
    assert linked_carriers(pair_world(overlap=False)) == []

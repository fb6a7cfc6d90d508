"""circular_payment: money that goes round shrinking by a fee per hop, each turn in time order,
alerts once per ring with all its turns (also when turns overlap, on one day, rounded); one-way
supplier payments, growing or collapsing amounts, out-of-order and too-slow cycles do not."""
from __future__ import annotations

from _netkit import account, decl, entity_ids, make_tables, payment

from graphiff.detectors.circular_payment import (
    circular_payment,
    circular_payment_bruteforce,
    circular_payment_cycles,
)
from graphiff.graph.features import money_edges
from graphiff.graph.graphs import money_graph


def world():
    accounts = [account(a, h) for a, h in (("K1", "H1"), ("K2", "H2"), ("K3", "H3"), ("K4", "H4"), ("K5", "H5"),
                                           ("K6", "H6"), ("K7", "H7"), ("K8", "H8"), ("K9", "H9"), ("Z1", "H10"),
                                           ("Z2", "H10"), ("L1", "J1"), ("L2", "J2"),
                                           *((f"{x}{i}", f"H{x}{i}") for x in "XYG" for i in range(1, 6)))]
    pays = [
        # planted: K1 -> K2 -> K3 -> K1, fees shaved along the way, twice
        payment("c1", "K1", "K2", "2024-01-02", 100_000), payment("c2", "K2", "K3", "2024-01-05", 97_000),
        payment("c3", "K3", "K1", "2024-01-09", 95_000),
        payment("c4", "K1", "K2", "2024-02-02", 95_000), payment("c5", "K2", "K3", "2024-02-04", 93_000),
        payment("c6", "K3", "K1", "2024-02-07", 92_000),
        # planted, by holder: money returns to another account of the sender (H10: Z1 -> ... -> Z2)
        payment("h1", "Z1", "L1", "2024-05-01", 40_000), payment("h2", "L1", "L2", "2024-05-03", 39_000),
        payment("h3", "L2", "Z2", "2024-05-06", 38_000),
        # decoy: one-way supplier payments
        payment("s1", "K4", "K5", "2024-01-10", 50_000), payment("s2", "K4", "K5", "2024-02-10", 52_000),
        payment("s3", "K6", "K5", "2024-01-12", 51_000),
        # decoy: not comparable (a refund of a small part)
        payment("r1", "K6", "K7", "2024-03-01", 300_000), payment("r2", "K7", "K6", "2024-03-05", 3_000),
        # decoy: out of order
        payment("o1", "K7", "K8", "2024-04-10", 20_000), payment("o2", "K8", "K9", "2024-04-30", 20_000),
        payment("o3", "K9", "K7", "2024-04-20", 20_000),
        # decoy: back after 200 days
        payment("w1", "K8", "K4", "2024-01-01", 10_000), payment("w2", "K4", "K8", "2024-07-20", 10_000),
        # planted: X1 -> X2 -> X3 -> X1 loses 10 % per hop, turn 2 starts before turn 1 closes
        payment("x1", "X1", "X2", "2024-06-01", 50_000), payment("x2", "X2", "X3", "2024-06-05", 45_000),
        payment("x3", "X3", "X1", "2024-06-09", 40_500),
        payment("x4", "X1", "X2", "2024-06-07", 52_000), payment("x5", "X2", "X3", "2024-06-11", 46_800),
        payment("x6", "X3", "X1", "2024-06-15", 42_120),
        # planted: all on one day, amounts rounded to thousands (-10 %, -11 %, -12.5 %)
        payment("y1", "Y1", "Y2", "2024-08-01", 10_000), payment("y2", "Y2", "Y3", "2024-08-01", 9_000),
        payment("y3", "Y3", "Y4", "2024-08-01", 8_000), payment("y4", "Y4", "Y1", "2024-08-01", 7_000),
        # decoy: unrelated payments of very different sizes that close a ring (growing, then collapsing)
        payment("g1", "G1", "G2", "2024-02-01", 10_000), payment("g2", "G2", "G3", "2024-02-20", 25_000),
        payment("g3", "G3", "G1", "2024-03-15", 60_000),
        payment("g4", "G4", "G5", "2024-02-01", 80_000), payment("g5", "G5", "G4", "2024-02-25", 20_000),
    ]
    return make_tables(payments=pays, accounts=accounts)


def test_projection():
    e = money_edges(world())
    assert list(e.columns[:3]) == ["edge", "src", "dst"]
    assert e.loc[e["payment"] == "c1", "src_holder"].item() == "H1"
    g = money_graph(world())
    assert g.ecount() == len(e) and {"payment", "date", "amount_usd"} <= set(g.es.attributes())


def test_planted_cycle_alerts_once_and_decoys_do_not():
    alerts = circular_payment(world())
    assert sorted(map(sorted, (entity_ids(a) for a in alerts))) == [
        ["K1", "K2", "K3"], ["X1", "X2", "X3"], ["Y1", "Y2", "Y3", "Y4"]]
    a = next(a for a in alerts if entity_ids(a) == {"K1", "K2", "K3"})
    assert a.evidence["turns"] == 2
    assert set(a.evidence["payments"]) == {"c1", "c2", "c3", "c4", "c5", "c6"}
    assert all(e["label"] == "BankAccount" for e in a.entities)


def test_overlapping_turns_one_alert_with_every_turn():
    a = next(a for a in circular_payment(world()) if "X1" in entity_ids(a))
    assert a.evidence["turns"] == 2
    assert set(a.evidence["payments"]) == {"x1", "x2", "x3", "x4", "x5", "x6"}
    assert ["x1", "x2", "x3"] in a.evidence["cycles"] and ["x4", "x5", "x6"] in a.evidence["cycles"]
    assert 0.09 < a.evidence["decay"] < 0.11 and 0 < a.score <= 1


def test_same_day_and_decay_parameters():
    assert not any("Y1" in entity_ids(a) for a in circular_payment(world(), same_day=False))
    # a 10 % tolerance loses the ring that drops 12.5 % on its closing hop
    assert not any("Y1" in entity_ids(a) for a in circular_payment(world(), max_decay=0.1))
    # turns of X keep a 10 % decay: found with a 10.5 % tolerance
    assert any("X1" in entity_ids(a) for a in circular_payment(world(), max_decay=0.105))


def test_by_holder_closes_cycles_through_another_account():
    alerts = circular_payment(world(), by="holder")
    sets = [entity_ids(a) for a in alerts]
    assert {"Z1", "Z2", "L1", "L2"} in sets
    assert {"K1", "K2", "K3"} in sets


def test_matches_bruteforce():
    for params in ({}, {"by": "holder"}, {"window_days": 5}, {"max_decay": 0.02}, {"same_day": False},
                   {"max_growth": 0.5, "max_decay": 0.9}):
        assert circular_payment_cycles(world(), **params) == circular_payment_bruteforce(world(), **params)


def _two_way_trade(settled: bool, second: float = 42_000):
    """T1 (account A1) buys goods from T2 (A2) and pays; T2 buys other goods from T1 and pays
    back weeks later, an amount within the band; with ``settled`` each payment names its
    declaration (the goods went from the payee to the payer)."""
    accounts = [account("A1", "T1"), account("A2", "T2")]
    decls = [decl("D1", "T2", "T1", "2024-03-01", value=45_000), decl("D2", "T1", "T2", "2024-03-20", value=second)]
    pays = [payment("p1", "A1", "A2", "2024-03-05", 45_000), payment("p2", "A2", "A1", "2024-03-25", second)]
    if settled:
        pays[0]["declaration_id"], pays[1]["declaration_id"] = "D1", "D2"
    return make_tables(payments=pays, accounts=accounts, decls=decls)


def test_two_way_trade_settlements_are_not_a_cycle():
    # each payment settles a shipment from its payee to its payer: trade, not a cycle
    assert circular_payment(_two_way_trade(True)) == []
    assert circular_payment_cycles(_two_way_trade(True)) == circular_payment_bruteforce(_two_way_trade(True)) == set()
    # the same accounts cycling the money with no settled shipment still alert
    assert [entity_ids(a) for a in circular_payment(_two_way_trade(False))] == [{"A1", "A2"}]
    # amounts that track each other tightly (2 %) still alert, settled or not; the rule can be off
    assert len(circular_payment(_two_way_trade(True, second=44_100))) == 1
    assert len(circular_payment(_two_way_trade(True), trade_match=None)) == 1


def test_trade_test_judges_the_cycle_payments_when_earlier_payments_are_left_out():
    # a payment without an amount and one between two accounts of one holder (by holder) come
    # first: the edge ids of the ring's payments are no longer their rows
    accounts = [account("A1", "T1"), account("A2", "T2"), account("A3", "T3"), account("A4", "T3")]
    decls = [decl("D1", "T2", "T1", "2024-03-01", value=45_000), decl("D2", "T1", "T2", "2024-03-20", value=42_000)]
    pays = [{**payment("n0", "A3", "A1", "2024-01-01", 1_000), "amount": None, "amount_usd": None},
            payment("n1", "A3", "A4", "2024-01-02", 5_000),
            {**payment("p1", "A1", "A2", "2024-03-05", 45_000), "declaration_id": "D1"},
            {**payment("p2", "A2", "A1", "2024-03-25", 42_000), "declaration_id": "D2"}]
    for by in ("account", "holder"):
        tables = make_tables(payments=pays, accounts=accounts, decls=decls)
        assert circular_payment(tables, by=by) == []
        assert len(circular_payment(tables, by=by, trade_match=None)) == 1

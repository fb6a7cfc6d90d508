"""circular_payment: money that goes round comparable and in time order alerts; one-way supplier
payments, non-comparable amounts, out-of-order and too-slow cycles do not."""
from __future__ import annotations

from _netkit import account, entity_ids, make_tables, payment

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
                                           ("Z2", "H10"), ("L1", "J1"), ("L2", "J2"))]
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
    assert [entity_ids(a) for a in alerts] == [{"K1", "K2", "K3"}]
    a = alerts[0]
    assert a.evidence["turns"] == 2
    assert set(a.evidence["payments"]) == {"c1", "c2", "c3", "c4", "c5", "c6"}
    assert all(e["label"] == "BankAccount" for e in a.entities)


def test_by_holder_closes_cycles_through_another_account():
    alerts = circular_payment(world(), by="holder")
    sets = [entity_ids(a) for a in alerts]
    assert {"Z1", "Z2", "L1", "L2"} in sets
    assert {"K1", "K2", "K3"} in sets


def test_matches_bruteforce():
    for params in ({}, {"by": "holder"}, {"window_days": 5}, {"ratio_tol": 1.02}):
        assert circular_payment_cycles(world(), **params) == circular_payment_bruteforce(world(), **params)

"""scatter_gather: a source spread over intermediaries that pass it on (less a cut) to one gathering
account within the window alerts, once per pair with every episode; payroll fan-out, a gatherer
of unrelated money, slow or mismatched onward payments do not."""
from __future__ import annotations

import pytest
from _netkit import account, entity_ids, make_tables, payment

from graphiff.detectors.scatter_gather import detect_scatter_gather, scatter_gather_paths
from graphiff.graph.tables import Tables


@pytest.fixture(scope="module")
def world() -> Tables:
    pays = [
        # planted: SRC -> M1, M2, M3 -> GATH, 5-8 % cut, within 10 days; again two months later
        payment("a1", "SRC", "M1", "2024-03-01", 30_000), payment("a2", "SRC", "M2", "2024-03-02", 28_000),
        payment("a3", "SRC", "M3", "2024-03-02", 32_000),
        payment("b1", "M1", "GATH", "2024-03-06", 28_200), payment("b2", "M2", "GATH", "2024-03-09", 25_800),
        payment("b3", "M3", "GATH", "2024-03-11", 29_500),
        payment("a4", "SRC", "M1", "2024-05-03", 20_000), payment("a5", "SRC", "M2", "2024-05-03", 21_000),
        payment("b4", "M1", "GATH", "2024-05-07", 18_800), payment("b5", "M2", "GATH", "2024-05-08", 19_600),
        # planted: two intermediaries, same day, amounts rounded
        payment("c1", "SRC2", "N1", "2024-07-01", 15_000), payment("c2", "SRC2", "N2", "2024-07-01", 15_000),
        payment("d1", "N1", "GATH2", "2024-07-01", 14_000), payment("d2", "N2", "GATH2", "2024-07-02", 14_000),
        # decoy: payroll - the employees spend a small part of their salary at one shop
        payment("e1", "PAYR", "W1", "2024-04-01", 3_000), payment("e2", "PAYR", "W2", "2024-04-01", 3_000),
        payment("e3", "PAYR", "W3", "2024-04-01", 3_000),
        payment("f1", "W1", "SHOP", "2024-04-03", 120), payment("f2", "W2", "SHOP", "2024-04-05", 95),
        payment("f3", "W3", "SHOP", "2024-04-06", 130),
        # decoy: passed on too late (80 days) and to a different gatherer each
        payment("g1", "SRC3", "Q1", "2024-01-01", 10_000), payment("g2", "SRC3", "Q2", "2024-01-01", 10_000),
        payment("h1", "Q1", "G3", "2024-03-21", 9_500), payment("h2", "Q2", "G3", "2024-03-22", 9_500),
        payment("i1", "SRC4", "Q3", "2024-01-01", 10_000), payment("i2", "SRC4", "Q4", "2024-01-01", 10_000),
        payment("j1", "Q3", "G4", "2024-01-03", 9_500), payment("j2", "Q4", "G5", "2024-01-03", 9_500),
        # decoy: onward payments larger than what came in (another business)
        payment("k1", "SRC5", "Q5", "2024-02-01", 5_000), payment("k2", "SRC5", "Q6", "2024-02-01", 5_000),
        payment("l1", "Q5", "G6", "2024-02-03", 40_000), payment("l2", "Q6", "G6", "2024-02-03", 35_000),
    ]
    accounts = [account(a, f"H-{a}") for a in {p["from_account"] for p in pays} | {p["to_account"] for p in pays}]
    return make_tables(payments=pays, accounts=accounts)


def test_planted_and_decoys(world):
    alerts = detect_scatter_gather(world)
    got = {(a.evidence["source"], a.evidence["gatherer"]): a for a in alerts}
    assert set(got) == {("SRC", "GATH"), ("SRC2", "GATH2")}
    a = got[("SRC", "GATH")]
    assert entity_ids(a) == {"SRC", "GATH", "M1", "M2", "M3"}
    assert a.entities[:2] == [{"label": "BankAccount", "id": "SRC"}, {"label": "BankAccount", "id": "GATH"}]
    assert a.evidence["episodes"] == 2 and a.evidence["intermediaries"] == ["M1", "M2", "M3"]
    assert {p["in_payment"] for p in a.evidence["paths"]} == {"a1", "a2", "a3", "a4", "a5"}
    assert all(0.9 < p["passed_on"] < 1.0 for p in a.evidence["paths"])
    assert a.evidence["scattered_usd"] == 131_000 and a.score > got[("SRC2", "GATH2")].score
    for x in alerts:
        assert x.pattern == "scatter_gather" and 0 < x.score <= 1


def test_parameters(world):
    got = {(a.evidence["source"], a.evidence["gatherer"]) for a in detect_scatter_gather(world, min_intermediaries=3)}
    assert got == {("SRC", "GATH")}
    got = {(a.evidence["source"], a.evidence["gatherer"]) for a in detect_scatter_gather(world, window_days=90)}
    assert ("SRC3", "G3") in got
    # the paths under the hood: every two-hop path within the window and the band
    p = scatter_gather_paths(world)
    assert set(zip(p["p1"], p["p2"])) >= {("a1", "b1"), ("c1", "d1")}
    assert not set(p["p2"]) & {"f1", "l1", "h1"}


def test_empty():
    assert detect_scatter_gather(Tables.from_frames()) == []

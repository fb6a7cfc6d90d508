"""pass_through_account: a funnel (many senders in, many receivers out, the money gone within days)
alerts; a payroll account, a merchant whose money stays and a busy trading account that keeps its
money for months do not."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from _netkit import account, entity_ids, make_tables, payment

from graphiff.detectors.pass_through_account import detect_pass_through_account
from graphiff.detectors.registry import REGISTRY
from graphiff.graph.tables import Tables


def day(n: int) -> str:
    return (date(2024, 1, 1) + timedelta(days=n)).isoformat()


@pytest.fixture(scope="module")
def world() -> Tables:
    pays = []
    n = 0

    def pay(src: str, dst: str, d: int, amount: float) -> None:
        nonlocal n
        n += 1
        pays.append(payment(f"p{n}", src, dst, day(d), amount))

    # planted funnel F: eight senders pay in over six weeks, six receivers are paid within 1-3
    # days, 2 % stays as a fee; one payment out is booked the day before the money it passes on
    for i in range(8):
        pay(f"S{i}", "F", 10 + 5 * i, 20_000 + 1_000 * i)
    for i in range(6):
        pay("F", f"R{i}", 12 + 7 * i - (1 if i == 3 else 0), (8 * 23_500 * 0.98) / 6)
    # decoy: payroll - one employer pays twenty employees every month
    for m in range(6):
        pay("EMP", "PAYROLL", 30 * m, 60_000)
        for k in range(20):
            pay("PAYROLL", f"E{k}", 30 * m + 1, 2_950)
    # decoy: merchant - many customers pay in, two suppliers are paid a third of it
    for i in range(30):
        pay(f"C{i}", "SHOP", 5 * i, 1_000)
    for j, s in enumerate(("SUP1", "SUP2", "SUP3")):
        pay("SHOP", s, 60 + 40 * j, 3_300)
    # decoy: a trading account paying suppliers out of sales that come in months apart
    for i in range(10):
        pay(f"B{i}", "TRADER", 70 * i, 50_000)
    for i in range(10):
        pay("TRADER", f"V{i}", 70 * i + 60, 48_000)
    accounts = [account(a, f"H-{a}") for a in {p["from_account"] for p in pays} | {p["to_account"] for p in pays}]
    return make_tables(payments=pays, accounts=accounts)


def test_funnel_alerts_and_decoys_do_not(world):
    alerts = detect_pass_through_account(world)
    assert [entity_ids(a) for a in alerts] == [{"F"}]
    a = alerts[0]
    ev = a.evidence
    assert len(ev["senders"]) == 8 and len(ev["receivers"]) == 6
    assert 0.95 < ev["flow_ratio"] <= 1.0 and ev["mean_dwell_days"] < 15
    assert ev["holder"] == "H-F" and ev["n_in"] == 8 and ev["n_out"] == 6
    assert {f["direction"] for f in ev["flows"]} == {"in", "out"} and len(ev["payments"]) == 14
    assert a.pattern == "pass_through_account" and 0 < a.score <= 1


def test_parameters(world):
    # more senders asked for than the funnel has
    assert detect_pass_through_account(world, min_senders=9) == []
    # a long enough float admits the trading account
    ids = {e["id"] for a in detect_pass_through_account(world, max_dwell_days=400) for e in a.entities}
    assert "TRADER" in ids and "SHOP" not in ids and "PAYROLL" not in ids
    # a cap on counterparties (a bank's clearing account) leaves the funnel out at 10
    assert detect_pass_through_account(world, max_counterparties=10) == []
    assert REGISTRY["pass_through_account"].defaults["max_dwell_days"] == 20.0


def test_empty():
    assert detect_pass_through_account(Tables.from_frames()) == []

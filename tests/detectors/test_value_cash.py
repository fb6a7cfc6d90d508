"""cash_structuring: clusters just below the threshold alert; single reports, travellers who
declare above the threshold and reports far apart do not."""
from __future__ import annotations

import pandas as pd
import pytest

from graphiff.detectors.cash_structuring import detect_cash_structuring
from graphiff.detectors.registry import REGISTRY
from graphiff.graph.tables import Tables

_n = 0


def rep(date: str, usd: float, *, person: str | None = None, trader: str | None = None, account: str | None = None,
        rtype: str = "BORDER", currency: str = "USD", amount: float | None = None, status: str = "given") -> dict:
    global _n
    _n += 1
    rid = f"CR{_n:03d}"
    return {"key": rid, "report_id": rid, "report_type": rtype, "date": date,
            "amount": usd if amount is None else amount, "currency": currency,
            "amount_usd": None if status == "unconvertible" else usd, "usd_status": status,
            "person_id": person, "trader_id": trader, "account_id": account, "direction": "OUT"}


@pytest.fixture(scope="module")
def world() -> Tables:
    rows = [
        # planted: one courier, three trips just under 10,000 in 20 days
        rep("2024-01-02", 9_500, person="P1"), rep("2024-01-12", 9_200, person="P1"),
        rep("2024-01-22", 9_800, person="P1"),
        # planted: two couriers of the same trader, 9,000 and 9,600 within 10 days
        rep("2024-02-01", 9_000, person="P2", trader="T1"), rep("2024-02-10", 9_600, person="P3", trader="T1"),
        # planted: CTR deposits into one account by two persons, in EUR converted to USD
        rep("2024-03-01", 9_300, person="P8", account="ACC1", rtype="CTR", currency="EUR", amount=8_600),
        rep("2024-03-03", 9_700, person="P9", account="ACC1", rtype="CTR", currency="EUR", amount=8_950),
        # planted: a trader's reports with no person named
        rep("2024-04-01", 9_400, trader="T9", rtype="CTR"), rep("2024-04-05", 9_900, trader="T9", rtype="CTR"),
        # decoy: one report just below
        rep("2024-01-05", 9_900, person="P4"),
        # decoy: frequent traveller declaring above the threshold (and once just below)
        rep("2024-01-03", 15_000, person="P5"), rep("2024-01-10", 20_000, person="P5"),
        rep("2024-01-17", 12_000, person="P5"), rep("2024-01-24", 9_100, person="P5"),
        rep("2024-01-28", 14_000, person="P5"),
        # decoy: two just-below reports 90 days apart
        rep("2024-01-01", 9_500, person="P6"), rep("2024-04-01", 9_500, person="P6"),
        # decoy: small amounts, far below the threshold
        rep("2024-01-01", 3_000, person="P7"), rep("2024-01-02", 3_000, person="P7"),
        rep("2024-01-03", 3_000, person="P7"),
        # decoy: unconvertible amounts are left out
        rep("2024-01-01", 9_500, person="P10", currency="XXX", status="unconvertible"),
        rep("2024-01-02", 9_500, person="P10", currency="XXX", status="unconvertible"),
        # decoy: STR reports have no threshold
        rep("2024-01-01", 9_500, person="P11", rtype="STR"), rep("2024-01-02", 9_500, person="P11", rtype="STR"),
    ]
    return Tables.from_frames(nodes={"CashReport": pd.DataFrame(rows)})


def by_entities(alerts) -> dict[frozenset, object]:
    return {frozenset((e["label"], e["id"]) for e in a.entities): a for a in alerts}


def test_planted_clusters_alert(world):
    alerts = detect_cash_structuring(world)
    got = by_entities(alerts)
    assert frozenset({("Person", "P1")}) in got
    assert frozenset({("Person", "P2"), ("Person", "P3")}) in got
    assert frozenset({("Person", "P8"), ("Person", "P9")}) in got
    assert frozenset({("Trader", "T9")}) in got
    a1 = got[frozenset({("Person", "P1")})]
    assert len(a1.evidence["cash_reports"]) == 3
    assert a1.evidence["total_usd"] == pytest.approx(28_500)
    assert {r["date"] for r in a1.evidence["reports"]} == {"2024-01-02", "2024-01-12", "2024-01-22"}
    assert got[frozenset({("Person", "P2"), ("Person", "P3")})].evidence["traders"] == ["T1"]
    for a in alerts:
        assert a.pattern == "cash_structuring" and 0 < a.score <= 1


def test_decoys_do_not_alert(world):
    named = {e["id"] for a in detect_cash_structuring(world) for e in a.entities}
    assert not named & {"P4", "P5", "P6", "P7", "P10", "P11"}
    assert len(detect_cash_structuring(world)) == 4


def test_parameters(world):
    # three reports needed: only the courier P1 remains
    got = by_entities(detect_cash_structuring(world, min_reports=3))
    assert set(got) == {frozenset({("Person", "P1")})}
    # a 100-day window catches P6
    named = {e["id"] for a in detect_cash_structuring(world, window_days=100) for e in a.entities}
    assert "P6" in named
    assert REGISTRY["cash_structuring"].defaults["near"] == 0.8


def test_per_type_threshold(world):
    # with a 5,000 CTR threshold the CTR reports are above it, not just below
    named = {e["id"] for a in detect_cash_structuring(world, thresholds={"BORDER": 10_000, "CTR": 5_000})
             for e in a.entities}
    assert not named & {"P8", "P9", "T9"}
    assert "P1" in named


def test_empty():
    assert detect_cash_structuring(Tables.from_frames()) == []

"""cash_structuring: clusters just below the threshold of the country where the reports are filed
(in its currency) alert; single reports, travellers who declare above the threshold and reports
far apart do not."""
from __future__ import annotations

import pandas as pd
import pytest

from graphiff.detectors.cash_structuring import detect_cash_structuring
from graphiff.detectors.registry import REGISTRY
from graphiff.graph.tables import Tables

_n = 0


def rep(date: str, usd: float, *, person: str | None = None, trader: str | None = None, account: str | None = None,
        rtype: str = "BORDER", currency: str = "USD", amount: float | None = None, status: str = "given",
        location: str | None = None, direction: str = "OUT", origin: str | None = None,
        destination: str | None = None) -> dict:
    global _n
    _n += 1
    rid = f"CR{_n:03d}"
    return {"key": rid, "report_id": rid, "report_type": rtype, "date": date,
            "amount": usd if amount is None else amount, "currency": currency,
            "amount_usd": None if status == "unconvertible" else usd, "usd_status": status,
            "person_id": person, "trader_id": trader, "account_id": account, "direction": direction,
            "location": location, "origin_country": origin, "destination_country": destination}


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
        # planted: 9,500 and 9,800 EUR filed in Germany - below 10,000 EUR, above 10,000 USD
        rep("2024-05-02", 10_260, person="P20", currency="EUR", amount=9_500, location="Airport DE"),
        rep("2024-05-20", 10_584, person="P20", currency="EUR", amount=9_800, location="Frankfurt Airport, DE"),
        # planted: 9,400 / 9,700 CAD entering Canada (place without a country: the destination), ~7,000 USD
        rep("2024-06-01", 6_950, person="P21", currency="CAD", amount=9_400, location="Pearson",
            direction="IN", origin="KE", destination="CA"),
        rep("2024-06-15", 7_170, person="P21", currency="CAD", amount=9_700, location="Pearson",
            direction="IN", origin="KE", destination="CA"),
        # planted: USD deposited at a bank in the Netherlands: 9,900 and 10,100 USD are ~9,150 and ~9,350 EUR;
        # a courier carrying 9,300 USD out of Kenya too, tied by the same account (one group, three persons)
        rep("2024-07-01", 9_900, person="P22", account="NL91ABNA0417164300", rtype="CTR", location="Bank branch, NL"),
        rep("2024-07-03", 10_100, person="P23", account="NL91ABNA0417164300", rtype="CTR", location="Bank branch, NL"),
        rep("2024-07-09", 9_300, person="P24", account="NL91ABNA0417164300", origin="KE", destination="NL"),
        # decoy: a frequent traveller declaring 10,500-12,000 EUR in France (above, though ~9,700 EUR is below)
        rep("2024-05-01", 11_340, person="P25", currency="EUR", amount=10_500, location="FR"),
        rep("2024-05-08", 12_960, person="P25", currency="EUR", amount=12_000, location="FR"),
        rep("2024-05-15", 11_880, person="P25", currency="EUR", amount=11_000, location="FR"),
        rep("2024-05-22", 10_480, person="P25", currency="EUR", amount=9_700, location="FR"),
        # decoy: one report of 9,600 EUR in Germany
        rep("2024-05-03", 10_368, person="P26", currency="EUR", amount=9_600, location="Airport DE"),
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
    assert not named & {"P4", "P5", "P6", "P7", "P10", "P11", "P25", "P26"}
    assert len(detect_cash_structuring(world)) == 7


def test_parameters(world):
    # three reports needed: only the courier P1 and the three persons of one account remain
    got = by_entities(detect_cash_structuring(world, min_reports=3))
    assert set(got) == {frozenset({("Person", "P1")}),
                        frozenset({("Person", "P22"), ("Person", "P23"), ("Person", "P24")})}
    # a 100-day window catches P6
    named = {e["id"] for a in detect_cash_structuring(world, window_days=100) for e in a.entities}
    assert "P6" in named
    assert REGISTRY["cash_structuring"].defaults["near"] == 0.7


def test_threshold_of_the_filing_country(world):
    got = by_entities(detect_cash_structuring(world))
    de = got[frozenset({("Person", "P20")})]
    assert [r["filed_in"] for r in de.evidence["reports"]] == ["DE", "DE"]
    assert de.evidence["thresholds"] == {"EUR": 10_000.0}
    assert "10,000 EUR" in de.explanation
    ca = got[frozenset({("Person", "P21")})]
    assert ca.evidence["thresholds"] == {"CAD": 10_000.0}
    nl = got[frozenset({("Person", "P22"), ("Person", "P23"), ("Person", "P24")})]
    assert nl.evidence["accounts"] == ["NL91ABNA0417164300"] and len(nl.evidence["cash_reports"]) == 3
    # a threshold changed by parameter: 5,000 EUR makes the German reports plainly above it
    named = {e["id"] for a in detect_cash_structuring(world, thresholds={"USD": 10_000, "EUR": 5_000})
             for e in a.entities}
    assert "P20" not in named and "P1" in named
    # without the jurisdictions every report is compared in its own currency (or USD): the CAD
    # reports stay just below 10,000 CAD, the German EUR ones too
    named = {e["id"] for a in detect_cash_structuring(world, jurisdictions={}) for e in a.entities}
    assert {"P20", "P21"} <= named


def test_empty():
    assert detect_cash_structuring(Tables.from_frames()) == []

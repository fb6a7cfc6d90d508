"""split_invoices: one consignment split into declarations just below a threshold (in the
threshold's currency, through the rates; one piece filed late) alerts on the importer and the
seller; regular small shipments over months (even two of them close together), one genuine
low-value shipment, small shipments of different goods or sellers, and an export with its
mirrored import do not."""
from __future__ import annotations

import pandas as pd
import pytest

from graphiff.detectors.registry import REGISTRY
from graphiff.detectors.split_invoices import detect_split_invoices, parse_threshold
from graphiff.graph.tables import Tables


def decl(did: str, date: str, value: float, *, imp: str = "IMP1", seller: str = "SEL1", hs: str = "610910",
         currency: str = "USD", usd: float | None = None, flow: str = "IMPORT", rc: str = "US", item: int = 1,
         imp_name: str | None = None, inv: str | None = None) -> dict:
    return {"key": f"{did}/{item}", "declaration_id": did, "item_no": item, "flow": flow, "reporting_country": rc,
            "date": date, "exporter_id": seller, "importer_id": imp, "exporter_name": f"Seller {seller}",
            "importer_name": imp_name or f"Importer {imp}", "hs_code": hs + "00", "hs6": hs,
            "invoice_value": value, "currency": currency, "value_usd": value if usd is None else usd,
            "usd_status": "given" if currency == "USD" else "converted", "invoice_no": inv}


RATES = pd.DataFrame({"key": ["EUR/2024-03", "EUR/2024-04", "AUD/2024-03"], "currency": ["EUR", "EUR", "AUD"],
                      "month": ["2024-03", "2024-04", "2024-03"], "usd_per_unit": [1.10, 1.08, 0.65]})


def tables(rows: list[dict]) -> Tables:
    return Tables.from_frames(nodes={"Declaration": pd.DataFrame(rows), "Rate": RATES})


@pytest.fixture(scope="module")
def world() -> Tables:
    rows = [
        # planted: a 3,000 USD consignment in four pieces just under the US de minimis (800 USD), three days
        decl("S1", "2024-03-01", 760, inv="A-1"), decl("S2", "2024-03-02", 745, inv="A-2"),
        decl("S3", "2024-03-02", 790, inv="A-3"), decl("S4", "2024-03-04", 705, inv="A-4"),
        # planted: EU low-value relief (150 EUR), invoiced in GBP-free USD values converted through the EUR rate
        decl("E1", "2024-03-10", 160.0, imp="IMP2", seller="SEL2", hs="420221", rc="DE", currency="USD"),
        decl("E2", "2024-03-11", 158.0, imp="IMP2", seller="SEL2", hs="420221", rc="DE", currency="USD"),
        decl("E3", "2024-03-12", 155.0, imp="IMP2", seller="SEL2", hs="420221", rc="DE", currency="USD"),
        # planted: 1,000 AUD limit, invoiced in AUD (compared as is), one importer id missing but its name known
        decl("A1", "2024-03-20", 980, imp="IMP3", seller="SEL3", hs="851830", rc="AU", currency="AUD", usd=637),
        decl("A2", "2024-03-22", 990, imp=None, imp_name="Importer IMP3", seller="SEL3", hs="851830", rc="AU",
             currency="AUD", usd=643.5),
        # planted: two pieces within days, the second declaration filed two weeks late
        decl("L1", "2024-05-02", 2_400, imp="IMP10", seller="SEL10", hs="847130"),
        decl("L2", "2024-05-18", 2_350, imp="IMP10", seller="SEL10", hs="847130"),
        # decoy: regular small shipments of the same goods spread over months
        *[decl(f"R{i}", f"2024-{1 + i:02d}-15", 780, imp="IMP4", seller="SEL4") for i in range(8)],
        # decoy: the same, every six weeks or so, two of them 18 days apart
        *[decl(f"Q{i}", d, 740, imp="IMP11", seller="SEL11") for i, d in enumerate(
            ["2024-01-10", "2024-02-25", "2024-04-08", "2024-04-26", "2024-06-12", "2024-07-30"])],
        # decoy: one genuine low-value shipment
        decl("G1", "2024-03-05", 790, imp="IMP5", seller="SEL5"),
        # decoy: many small shipments within days, each of different goods or from a different seller
        *[decl(f"M{i}", f"2024-03-0{1 + i}", 770, imp="IMP6", seller=f"SELM{i}") for i in range(4)],
        *[decl(f"H{i}", f"2024-03-0{1 + i}", 770, imp="IMP7", seller="SEL7", hs=f"61091{i}") for i in range(4)],
        # decoy: an export and the partner's import of one small shipment (two administrations, one piece)
        decl("X1", "2024-03-03", 700, imp="IMP8", seller="SEL8", flow="EXPORT", rc="CN"),
        decl("X2", "2024-03-09", 700, imp="IMP8", seller="SEL8", flow="IMPORT", rc="US"),
        # decoy: big shipments of one importer and seller within days (nothing to split below)
        decl("B1", "2024-03-01", 50_000, imp="IMP9", seller="SEL9"), decl("B2", "2024-03-02", 40_000, imp="IMP9",
                                                                            seller="SEL9"),
    ]
    return tables(rows)


def pairs(alerts) -> set[frozenset[str]]:
    return {frozenset(e["id"] for e in a.entities) for a in alerts}


def test_registered_with_public_thresholds():
    d = REGISTRY["split_invoices"].defaults
    assert [parse_threshold(t) for t in d["thresholds"]] == [
        (150.0, "EUR"), (800.0, "USD"), (2500.0, "USD"), (1000.0, "EUR"), (1000.0, "AUD")]


def test_planted_splits_alert_and_decoys_do_not(world):
    alerts = detect_split_invoices(world)
    got = pairs(alerts)
    assert got == {frozenset({"IMP1", "SEL1"}), frozenset({"IMP2", "SEL2"}), frozenset({"IMP3", "SEL3"}),
                   frozenset({"IMP10", "SEL10"})}
    for a in alerts:
        assert a.pattern == "split_invoices" and 0.5 <= a.score <= 1
        assert all(e["label"] == "Trader" for e in a.entities)
    a1 = next(a for a in alerts if frozenset(e["id"] for e in a.entities) == {"IMP1", "SEL1"})
    run = a1.evidence["runs"][0]
    assert run["threshold"] == {"amount": 800.0, "currency": "USD"}
    assert [p["declaration"] for p in run["pieces"]] == ["S1", "S2", "S3", "S4"]
    assert run["total"] == pytest.approx(3000) and run["span_days"] == 3
    assert set(a1.evidence["declarations"]) == {"S1/1", "S2/1", "S3/1", "S4/1"}
    a2 = next(a for a in alerts if frozenset(e["id"] for e in a.entities) == {"IMP2", "SEL2"})
    run = a2.evidence["runs"][0]
    assert run["threshold"]["currency"] == "EUR"
    assert run["pieces"][0]["value"] == pytest.approx(160 / 1.10, abs=0.01)
    a3 = next(a for a in alerts if frozenset(e["id"] for e in a.entities) == {"IMP3", "SEL3"})
    assert a3.evidence["runs"][0]["threshold"] == {"amount": 1000.0, "currency": "AUD"}
    assert a3.evidence["runs"][0]["total"] == pytest.approx(1970)


def test_items_are_summed_per_declaration():
    # two items of 500 each: one 1,000 USD declaration, not two pieces below 800
    rows = [decl("D1", "2024-03-01", 500, item=1), decl("D1", "2024-03-01", 500, item=2),
            decl("D2", "2024-03-02", 500)]
    assert detect_split_invoices(tables(rows), thresholds=["800 USD"]) == []


def test_parameters(world):
    # a narrower band ("just below" = 97 % of the threshold) keeps only the closest pieces
    got = pairs(detect_split_invoices(world, near=0.97))
    assert frozenset({"IMP3", "SEL3"}) in got and frozenset({"IMP1", "SEL1"}) not in got
    # without the cadence test two close shipments of a regular flow look like a split
    assert frozenset({"IMP11", "SEL11"}) in pairs(detect_split_invoices(world, burst_ratio=1.0))
    # a strict window loses the late-filed piece
    assert frozenset({"IMP10", "SEL10"}) not in pairs(detect_split_invoices(world, max_gap_days=7))
    # without the EUR thresholds the EU split is not seen
    got = pairs(detect_split_invoices(world, thresholds=["800 USD", "1000 AUD"]))
    assert frozenset({"IMP2", "SEL2"}) not in got
    with pytest.raises(ValueError):
        parse_threshold("about a hundred")


def test_empty():
    assert detect_split_invoices(Tables.from_frames()) == []


def test_threshold_is_the_importing_administrations():
    # pieces just below 800 USD / 2,500 USD / 1,000 AUD entering Ireland or Canada: no US or
    # Australian threshold applies there (Ireland's 150 / 1,000 EUR do, Canada's are in CAD)
    rows = [decl("I1", "2024-03-01", 760, rc="IE"), decl("I2", "2024-03-02", 745, rc="IE"),
            decl("C1", "2024-03-01", 2_400, imp="IMPC", rc="CA"), decl("C2", "2024-03-03", 2_300, imp="IMPC", rc="CA"),
            decl("U1", "2024-03-01", 900, imp="IMPU", rc="IE", currency="AUD", usd=585),
            decl("U2", "2024-03-02", 950, imp="IMPU", rc="IE", currency="AUD", usd=617.5),
            # an export from the US to Turkey: the US thresholds are for what enters the US
            {**decl("T1", "2024-03-01", 2_400, imp="IMPT", flow="EXPORT"), "destination_country": "TR"},
            {**decl("T2", "2024-03-04", 2_300, imp="IMPT", flow="EXPORT"), "destination_country": "TR"},
            # planted: pieces entering Ireland just below its 150 EUR
            decl("E1", "2024-03-01", 160, imp="IMPE", rc="IE"), decl("E2", "2024-03-02", 158, imp="IMPE", rc="IE")]
    thresholds = ["150 EUR", "800 USD", "2500 USD", "1000 AUD"]
    assert pairs(detect_split_invoices(tables(rows), thresholds=thresholds)) == {frozenset({"IMPE", "SEL1"})}
    # every threshold applies where no jurisdiction is given
    got = pairs(detect_split_invoices(tables(rows), thresholds=thresholds, jurisdictions={}))
    assert {frozenset({"IMP1", "SEL1"}), frozenset({"IMPC", "SEL1"}), frozenset({"IMPT", "SEL1"})} <= got


def test_regular_flow_counts_shipments_above_the_threshold():
    # the same goods every six weeks, mostly above 2,500 USD; two of them fall in the band 18 days apart
    rows = [decl(f"F{i}", d, v, imp="IMPF", seller="SELF") for i, (d, v) in enumerate(
        [("2024-01-05", 3_400), ("2024-02-20", 2_300), ("2024-03-09", 1_930), ("2024-04-25", 2_700),
         ("2024-06-10", 3_100)])]
    assert detect_split_invoices(tables(rows)) == []
    # the same two pieces with no other shipment of the pair are a split
    assert pairs(detect_split_invoices(tables(rows[1:3]))) == {frozenset({"IMPF", "SELF"})}

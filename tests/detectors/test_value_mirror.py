"""mirror_discrepancy: export/import pairs of one shipment that disagree alert; normal CIF/FOB
margins, unpaired and wrongly-paired declarations do not. mirror_report summarises per country pair."""
from __future__ import annotations

import pandas as pd
import pytest

from graphiff.detectors.mirror import detect_mirror_discrepancy, mirror_report
from graphiff.detectors.registry import REGISTRY
from graphiff.graph.mirror import pair_declarations
from graphiff.graph.tables import Tables


def decl(did: str, flow: str, rc: str, date: str, value: float | None, *, mass: float = 1000.0, hs: str = "520100",
         exporter: str = "CN1", importer: str = "KE1", doc: str | None = None, inv: str | None = None,
         cont: str | None = None, dest: str | None = None, dispatch: str | None = None, status: str = "given",
         item: int = 1) -> dict:
    return {
        "key": f"{did}/{item}", "declaration_id": did, "item_no": item, "flow": flow, "reporting_country": rc,
        "date": date, "hs_code": hs + "0000", "hs6": hs, "exporter_id": exporter, "importer_id": importer,
        "net_mass_kg": mass, "invoice_value": value, "currency": "USD", "value_usd": value, "usd_status": status,
        "transport_doc_no": doc, "invoice_no": inv, "container_ids": cont,
        "destination_country": dest, "dispatch_country": dispatch,
    }


@pytest.fixture(scope="module")
def world() -> Tables:
    rows = [
        # normal: import 8 % above export (freight + insurance) - a pair, no alert
        decl("E1", "EXPORT", "CN", "2024-01-05", 100_000, doc="BL-1", dest="KE"),
        decl("I1", "IMPORT", "KE", "2024-02-01", 108_000, doc="bl-1 ", dispatch="CN"),
        # planted: import declared at 40 % of the export value, matched on the invoice
        decl("E2", "EXPORT", "CN", "2024-01-10", 250_000, inv="INV-77", dest="KE"),
        decl("I2", "IMPORT", "KE", "2024-01-30", 100_000, inv="INV-77", dispatch="CN"),
        # planted: half the goods vanished, matched on a shared container
        decl("E3", "EXPORT", "CN", "2024-03-01", 50_000, mass=20_000, cont="MSCU1234567;TGHU7654321", dest="KE"),
        decl("I3", "IMPORT", "KE", "2024-03-25", 52_000, mass=10_000, cont="TGHU7654321", dispatch="CN"),
        # planted: over-invoiced import (money out of KE)
        decl("E4", "EXPORT", "CN", "2024-04-01", 20_000, doc="BL-4", dest="KE"),
        decl("I4", "IMPORT", "KE", "2024-04-20", 90_000, doc="BL-4", dispatch="CN"),
        # decoy: same document number but both in KE (not a mirror)
        decl("E5", "EXPORT", "KE", "2024-05-01", 10_000, doc="BL-5", dest="UG", exporter="KE1", importer="UG1"),
        decl("I5", "IMPORT", "KE", "2024-05-10", 1_000, doc="BL-5", dispatch="UG", exporter="KE1", importer="UG1"),
        # decoy: import 120 days after the export - outside the window
        decl("E6", "EXPORT", "CN", "2024-01-01", 10_000, doc="BL-6", dest="KE"),
        decl("I6", "IMPORT", "KE", "2024-05-01", 1_000, doc="BL-6", dispatch="CN"),
        # decoy: same invoice number, different goods and parties - not the same shipment
        decl("E7", "EXPORT", "CN", "2024-06-01", 10_000, inv="1001", dest="KE", exporter="CN7", importer="KE7"),
        decl("I7", "IMPORT", "KE", "2024-06-10", 1_000, inv="1001", hs="870321", dispatch="CN", exporter="CN8",
             importer="KE8"),
        # decoy: small gap outside the ratio but under min_gap_usd
        decl("E8", "EXPORT", "CN", "2024-07-01", 1_000, doc="BL-8", dest="KE"),
        decl("I8", "IMPORT", "KE", "2024-07-15", 500, doc="BL-8", dispatch="CN"),
        # unconvertible import value: judged on mass only (equal here) -> no alert
        decl("E9", "EXPORT", "CN", "2024-08-01", 30_000, doc="BL-9", dest="KE"),
        decl("I9", "IMPORT", "KE", "2024-08-15", None, doc="BL-9", dispatch="CN", status="unconvertible"),
        # an unmatched export
        decl("E10", "EXPORT", "CN", "2024-08-01", 30_000, doc="BL-10", dest="KE"),
    ]
    return Tables.from_frames(nodes={"Declaration": pd.DataFrame(rows)})


def pairs_of(alerts) -> set[tuple[str, ...]]:
    return {tuple(e["id"] for e in a.entities) for a in alerts}


def test_pairing(world):
    p = pair_declarations(world)
    got = {(r.export_key, r.import_key, r.match_on) for r in p.itertuples()}
    assert ("E1/1", "I1/1", "transport_doc_no") in got
    assert ("E2/1", "I2/1", "invoice_no") in got
    assert ("E3/1", "I3/1", "container_ids") in got
    keys = {k for k, _, _ in got} | {k for _, k, _ in got}
    assert not keys & {"E5/1", "I5/1", "E6/1", "I6/1", "E7/1", "I7/1", "E10/1"}
    assert p["export_key"].is_unique and p["import_key"].is_unique
    r1 = p.set_index("export_key").loc["E1/1"]
    assert r1["value_ratio"] == pytest.approx(1.08)


def test_planted_alert_and_decoys_do_not(world):
    alerts = detect_mirror_discrepancy(world)
    got = pairs_of(alerts)
    assert {("E2/1", "I2/1"), ("E3/1", "I3/1"), ("E4/1", "I4/1")} <= got
    assert ("E1/1", "I1/1") not in got and ("E8/1", "I8/1") not in got and ("E9/1", "I9/1") not in got
    assert len(got) == 3
    for a in alerts:
        assert a.pattern == "mirror_discrepancy" and 0.5 <= a.score <= 1
        assert all(e["label"] == "Declaration" for e in a.entities)
    a2 = next(a for a in alerts if a.entities[0]["id"] == "E2/1")
    assert a2.evidence["value_ratio"] == pytest.approx(0.4)
    assert a2.evidence["match_on"] == "invoice_no"
    assert a2.evidence["value_gap_usd"] == pytest.approx(-150_000)
    a3 = next(a for a in alerts if a.entities[0]["id"] == "E3/1")
    assert a3.evidence["mass_diff"] == pytest.approx(0.5)


def test_margin_is_a_parameter(world):
    got = pairs_of(detect_mirror_discrepancy(world, ratio_low=0.95, ratio_high=1.05))
    assert ("E1/1", "I1/1") in got
    assert REGISTRY["mirror_discrepancy"].defaults["ratio_high"] == 1.3


def test_mirror_report(world):
    r = mirror_report(world)
    row = r[(r["export_country"] == "CN") & (r["import_country"] == "KE")].iloc[0]
    assert row["exports"] == 9  # E1-E4, E6-E10 (E6, E7, E10 unmatched)
    assert row["matched"] == 6
    assert row["unmatched_rate"] == pytest.approx(1 - 6 / 9, abs=1e-4)
    assert row["discrepancies"] == 3
    assert row["total_value_gap_usd"] == pytest.approx(8_000 - 150_000 + 2_000 + 70_000 - 500)
    assert 0.4 < row["median_value_ratio"] < 2
    assert {"imports", "imports_unmatched", "median_mass_diff"} <= set(r.columns)


def test_empty():
    t = Tables.from_frames()
    assert detect_mirror_discrepancy(t) == []
    assert len(mirror_report(t)) == 0
    assert len(pair_declarations(t)) == 0


def test_pairing_without_shared_documents():
    """No document, invoice or container on the import: the parties, the goods and the same net
    mass pair it (and its value gap alerts); the same parties' other shipment of other weight,
    or two candidates of the same weight, pair nothing."""
    rows = [
        decl("E1", "EXPORT", "KE", "2024-03-01", 80_000, mass=26_340.57, doc="AWB-1", inv="INV-1"),
        decl("I1", "IMPORT", "JP", "2024-03-12", 40_000, mass=26_340.57),
        # the same trade, a month later: an export whose import was never declared ...
        decl("E2", "EXPORT", "KE", "2024-04-02", 60_000, mass=12_000.0, doc="AWB-2"),
        # ... and an import of another shipment of other weight
        decl("I2", "IMPORT", "JP", "2024-04-20", 20_000, mass=4_000.0),
        # two exports of the same weight within the window: which one is the import's?
        decl("E3", "EXPORT", "KE", "2024-06-01", 50_000, mass=1_000.0, hs="090210"),
        decl("E4", "EXPORT", "KE", "2024-06-05", 50_000, mass=1_000.0, hs="090210"),
        decl("I3", "IMPORT", "JP", "2024-06-20", 10_000, mass=1_000.0, hs="090210"),
    ]
    t = Tables.from_frames(nodes={"Declaration": pd.DataFrame(rows)})
    p = pair_declarations(t)
    assert {(r.export_key, r.import_key, r.match_on) for r in p.itertuples()} == {("E1/1", "I1/1", "parties")}
    assert pairs_of(detect_mirror_discrepancy(t)) == {("E1/1", "I1/1")}
    # only on shared keys, as before
    assert len(pair_declarations(t, match_on=("transport_doc_no", "invoice_no", "container_ids"))) == 0


def test_reused_invoice_number_pairs_only_with_the_parties():
    """One invoice number on many unrelated shipments pairs none of them by itself; where the
    parties agree it still pairs the right two."""
    rows = []
    for k in range(4):
        rows.append(decl(f"E{k}", "EXPORT", "CN", "2024-05-01", 10_000 * (k + 1), inv="INV 0001", dest="KE",
                         exporter=f"CN{k}", importer=None, mass=100.0 * (k + 1)))
        rows.append(decl(f"I{k}", "IMPORT", "KE", "2024-05-10", 3_000 * (k + 1), inv="inv-0001", dispatch="CN",
                         exporter=None, importer=f"KE{k}", mass=50.0 * (k + 1)))
    rows.append(decl("E9", "EXPORT", "CN", "2024-05-02", 70_000, inv="INV0001", exporter="CN9", importer="KE9"))
    rows.append(decl("I9", "IMPORT", "KE", "2024-05-11", 20_000, inv="INV0001", exporter="CN9", importer="KE9"))
    t = Tables.from_frames(nodes={"Declaration": pd.DataFrame(rows)})
    p = pair_declarations(t)
    assert {(r.export_key, r.import_key) for r in p.itertuples()} == {("E9/1", "I9/1")}
    assert pairs_of(detect_mirror_discrepancy(t)) == {("E9/1", "I9/1")}


def test_late_filing_pairs_on_document_invoice_and_parties():
    rows = [
        # planted: the import filed 80 days after the export, one document, invoice and parties: export overstated
        decl("EL", "EXPORT", "CA", "2024-01-05", 168_000, doc="AWB5338", inv="19", dest="IE", exporter="CA1",
             importer="IE1"),
        decl("IL", "IMPORT", "IE", "2024-03-25", 64_000, doc="AWB5338", inv="19", dispatch="CA", exporter="CA1",
             importer="IE1"),
        # decoy: the same delay on the document number alone - not paired
        decl("ED", "EXPORT", "CA", "2024-01-05", 100_000, doc="AWB9999", dest="IE", exporter="CA2", importer="IE2"),
        decl("ID", "IMPORT", "IE", "2024-03-25", 10_000, doc="AWB9999", dispatch="CA", exporter="CA2",
             importer="IE2"),
    ]
    t = Tables.from_frames(nodes={"Declaration": pd.DataFrame(rows)})
    assert {(r.export_key, r.import_key) for r in pair_declarations(t).itertuples()} == {("EL/1", "IL/1")}
    assert pairs_of(detect_mirror_discrepancy(t)) == {("EL/1", "IL/1")}
    assert len(pair_declarations(t, late_days=60)) == 0

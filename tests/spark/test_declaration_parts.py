"""The part keys of ``mirror_discrepancy`` and the valuation detectors keep every relation of
their definitions in one part, on declarations made to cross goods codes (which the sample
worlds rarely do): a declaration without a code sharing a transport document with two of
different codes, an invoice number reused across codes, a round trip's legs of two HS6 codes
of one heading, a code written with a separator. The embedded detector run per part gives the
alerts of the embedded detector run on the whole table; a plain goods-code key does not."""
from __future__ import annotations

import pandas as pd
import pytest

from graphiff.alerts import Alert
from graphiff.detectors import run_detectors
from graphiff.detectors.runner import finish_alerts
from graphiff.graph.tables import Tables
from graphiff.spark.declaration_parts import components, mirror_parts, valuation_parts

COLUMNS = ["key", "declaration_id", "item_no", "flow", "reporting_country", "date", "exporter_id",
           "importer_id", "hs6", "hs_code", "origin_country", "value_usd", "usd_status", "net_mass_kg",
           "quantity", "quantity_unit", "transport_doc_no", "invoice_no", "container_ids"]


def _decl(key: str, flow: str, date: str, hs: str | None, value: float, mass: float, *, rc: str | None = None,
          exp: str | None = None, imp: str | None = None, doc: str | None = None, inv: str | None = None) -> dict:
    return {"key": key, "declaration_id": key, "item_no": 1, "flow": flow,
            "reporting_country": rc or ("AA" if flow == "EXPORT" else "BB"), "date": date,
            "exporter_id": exp, "importer_id": imp, "hs6": hs, "hs_code": hs, "origin_country": "AA",
            "value_usd": value, "usd_status": "given", "net_mass_kg": mass, "quantity": None,
            "quantity_unit": None, "transport_doc_no": doc, "invoice_no": inv, "container_ids": None}


def _world() -> pd.DataFrame:
    rows = []
    # peers: 14 declarations of HS 555555 at about 10 USD/kg, and of 666666 at about 20 USD/kg
    for i in range(14):
        rows.append(_decl(f"P{i:02d}", "IMPORT", f"2025-03-{i + 1:02d}", "555555", 1000 + 10 * i, 100,
                          exp=f"X{i}", imp=f"Y{i}"))
        rows.append(_decl(f"Q{i:02d}", "IMPORT", f"2025-03-{i + 1:02d}", "666666", 2000 + 20 * i, 100,
                          exp=f"X{i}", imp=f"Y{i}"))
    # a flagged export and a flagged import of 555555 on one bill of lading, but the export's
    # mirror is the import without a goods code (two days later, not ten): two alerts, not one
    rows.append(_decl("E1", "EXPORT", "2025-04-01", "555555", 50, 100, doc="BL1"))
    rows.append(_decl("I1", "IMPORT", "2025-04-11", "555555", 40, 100, doc="BL1"))
    rows.append(_decl("I2", "IMPORT", "2025-04-03", None, 30, 100, doc="BL1"))
    # an export without a code and its import of 666666 disagreeing on the value
    rows.append(_decl("E3", "EXPORT", "2025-05-01", None, 10000, 100, doc="BL3"))
    rows.append(_decl("I3", "IMPORT", "2025-05-05", "666666", 30000, 100, doc="BL3"))
    # an invoice number found on two exports of two codes: reused, so E4 and I4 (no parties)
    # do not pair on it
    rows.append(_decl("E4", "EXPORT", "2025-06-01", "555555", 10000, 100, inv="INV4"))
    rows.append(_decl("I4", "IMPORT", "2025-06-02", "555555", 30000, 100, inv="INV4"))
    rows.append(_decl("E5", "EXPORT", "2025-06-01", "666666", 20000, 100, inv="INV4"))
    # a round trip: T (flagged, 555555, from Z to W) brings back goods W sent to Z as 555599;
    # the goods code written with a separator on one more declaration
    rows.append(_decl("R0", "EXPORT", "2025-07-01", "555599", 20000, 100, rc="CC", exp="W", imp="Z"))
    rows.append(_decl("T1", "IMPORT", "2025-08-01", "555555", 90000, 100, exp="Z", imp="W"))
    rows.append(_decl("S1", "IMPORT", "2025-08-01", "5555.5", 90000, 100, exp="Z", imp="V"))
    # goods no relation crosses
    rows += [_decl(f"U{i}", "IMPORT", "2025-09-01", "777777", 500, 100) for i in range(3)]
    return pd.DataFrame(rows, columns=COLUMNS)


def _alerts(decl: pd.DataFrame, pattern: str) -> list[dict]:
    return [a.to_dict() for a in run_detectors(Tables.from_frames(nodes={"Declaration": decl}), [pattern],
                                               write_back=False)]


def _by_parts(decl: pd.DataFrame, part: pd.Series, pattern: str) -> list[dict]:
    found = []
    for p in part.dropna().unique():
        found += _alerts(decl[(part == p).to_numpy()], pattern)
    return [a.to_dict() for a in finish_alerts([Alert.from_dict(a) for a in found])]


def _parts(spark, decl: pd.DataFrame, key_fn, params: dict) -> pd.Series:
    rows = decl.astype(object).where(decl.notna(), None).astype(str).where(decl.notna(), None)
    frame = spark.createDataFrame(rows, ", ".join(f"{c} string" for c in decl.columns))
    got = key_fn(frame, params).select("key", "__part").toPandas()
    return decl["key"].map(dict(zip(got["key"], got["__part"])))


@pytest.fixture(scope="module")
def parts(spark) -> dict[str, pd.Series]:
    """The part of each declaration of the test world, by key function (one Spark pass each)."""
    decl = _world()
    return {"mirror": _parts(spark, decl, mirror_parts, {}),
            "mirror_hs4": _parts(spark, decl, mirror_parts, {"match_hs": "hs4"}),
            "valuation": _parts(spark, decl, valuation_parts, {})}


@pytest.mark.parametrize("pattern", ["mirror_discrepancy", "undervaluation", "overvaluation"])
def test_parts_give_the_whole_tables_alerts(parts, pattern):
    decl = _world()
    whole = _alerts(decl, pattern)
    assert whole, f"{pattern} finds nothing in the test world"
    if pattern == "mirror_discrepancy":
        part = parts["mirror"]
        plain = decl["hs6"].fillna("")
    else:
        part = parts["valuation"]
        plain = decl["hs6"].fillna("").str.slice(0, 4)
    assert part.notna().all()
    assert _by_parts(decl, part, pattern) == whole
    assert part.nunique() > 1  # the codes the relations do not cross stay apart
    assert _by_parts(decl, plain, pattern) != whole  # the world crosses codes where it looks


def test_mirror_parts_merge_only_what_pairing_crosses(parts):
    keys = _world()["key"]
    part, hs4 = parts["mirror"].set_axis(keys), parts["mirror_hs4"].set_axis(keys)
    assert part["I2"] == part["E1"] == part["I3"] == part["E5"]  # BL1, BL3 (no code), INV4 (reused)
    assert part["R0"] != part["E1"]  # no document crosses 555599: pairing never leaves it
    assert hs4["R0"] == hs4["E1"]  # ... at 4 digits it is 555555's heading
    valuation = parts["valuation"].set_axis(keys)
    assert valuation["R0"] == valuation["T1"] == valuation["S1"]  # a round trip's heading
    assert valuation["U0"] != valuation["T1"]


def test_components():
    assert components([]) == {}
    assert components([("h:1", "k:a"), ("h:2", "h:3")]) == {"h:1": "h:1", "k:a": "h:1", "h:2": "h:2", "h:3": "h:2"}

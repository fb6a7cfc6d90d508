"""Part keys that follow links (graphiff.spark.link_parts): connected components on Spark, and
cash_structuring's one statistic over every report (its rates), which a part must be given."""
from __future__ import annotations

import pandas as pd

from graphiff.detectors.cash_structuring import detect_cash_structuring, report_rates
from graphiff.graph.tables import Tables


def test_connected_components_label_each_node_with_its_components_smallest_node(spark):
    from graphiff.spark.link_parts import connected_components

    edges = spark.createDataFrame([("e", "d"), ("d", "c"), ("c", "b"), ("b", "a"), ("x", "y"), ("z", "z")],
                                  "a string, b string")
    got = {r["node"]: r["comp"] for r in connected_components(edges).collect()}
    assert got == {"a": "a", "b": "a", "c": "a", "d": "a", "e": "a", "x": "x", "y": "x", "z": "z"}


def _reports() -> pd.DataFrame:
    """Person P carries 9,600 USD twice into Germany (EUR threshold, no EUR Rate loaded: the
    reports' own EUR rate converts); ten unrelated EUR reports set that rate."""
    rows = [{"key": f"E{i}", "report_id": f"E{i}", "report_type": "BORDER", "date": "2024-02-01",
             "amount": 1000.0, "currency": "EUR", "amount_usd": 1100.0 + i, "usd_status": "converted",
             "person_id": f"X{i}", "location": "DE"} for i in range(10)]
    rows += [{"key": f"P{i}", "report_id": f"P{i}", "report_type": "BORDER", "date": f"2024-03-0{i + 1}",
              "amount": 9600.0, "currency": "USD", "amount_usd": 9600.0, "usd_status": "converted",
              "person_id": "P", "location": "Frankfurt Airport, DE"} for i in range(2)]
    return pd.DataFrame(rows)


def test_a_part_needs_the_rates_of_every_report():
    every = _reports()
    part = every[every["person_id"] == "P"]  # P's component
    whole = detect_cash_structuring(Tables.from_frames(nodes={"CashReport": every}))
    alone = detect_cash_structuring(Tables.from_frames(nodes={"CashReport": part}))
    given = detect_cash_structuring(Tables.from_frames(nodes={"CashReport": part}), rates=report_rates(every))
    assert [a.to_dict() for a in given] == [a.to_dict() for a in whole]
    assert whole[0].evidence["thresholds"] == {"EUR": 10000.0}
    assert alone[0].evidence["thresholds"] == {"USD": 10000.0}  # the part alone has no EUR rate


def test_cash_rates_on_spark_are_the_detectors(spark):
    from graphiff.spark.link_parts import cash_rates

    every = _reports()
    got = cash_rates(spark.createDataFrame(every), {"rates": None})["rates"]
    assert got == report_rates(every)
    assert cash_rates(spark.createDataFrame(every), {"rates": {"EUR": 1.0}}) == {}


def test_lookup_values_match_a_payment_on_its_first_property_and_a_declaration_on_each():
    from graphiff.spark.link_parts import _NS, _lookup_values

    pays = pd.DataFrame({"key": ["P1", "P2", None, "P4"], "declaration_id": ["D1", None, "D9", None],
                         "invoice_no": ["I1", "I2", "I9", None]})
    got = _lookup_values(pays, "Payment", ["declaration_id", "invoice_no"], first_only=True)
    assert got.values.tolist() == [[f"Payment{_NS}P1", "declaration_id", "D1"],
                                   [f"Payment{_NS}P2", "invoice_no", "I2"]]
    decs = pays.assign(key=["D1/1", "D2/1", None, "D4/1"])
    got = _lookup_values(decs, "Declaration", ["declaration_id", "invoice_no"], first_only=False)
    assert sorted(got.values.tolist()) == sorted([[f"Declaration{_NS}D1/1", "declaration_id", "D1"],
                                                  [f"Declaration{_NS}D1/1", "invoice_no", "I1"],
                                                  [f"Declaration{_NS}D2/1", "invoice_no", "I2"]])
    assert _lookup_values(pays[["key"]], "Payment", ["declaration_id"], first_only=True).empty

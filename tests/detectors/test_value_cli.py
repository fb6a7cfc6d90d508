"""`graphiff mirror-report` on a real embedded store file."""
from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from graphiff import load_paths, open_store


def _declarations() -> pd.DataFrame:
    base = {"hs_code": "520100", "currency": "USD", "exporter_id": "CN1", "importer_id": "KE1", "net_mass_kg": "1000"}
    rows = [
        {"declaration_id": "E1", "flow": "EXPORT", "reporting_country": "CN", "date": "2024-01-05",
         "invoice_value": "100000", "transport_doc_no": "BL-1", "destination_country": "KE"},
        {"declaration_id": "I1", "flow": "IMPORT", "reporting_country": "KE", "date": "2024-02-01",
         "invoice_value": "108000", "transport_doc_no": "BL-1", "dispatch_country": "CN"},
        {"declaration_id": "E2", "flow": "EXPORT", "reporting_country": "CN", "date": "2024-01-10",
         "invoice_value": "250000", "invoice_no": "INV-77", "destination_country": "KE"},
        {"declaration_id": "I2", "flow": "IMPORT", "reporting_country": "KE", "date": "2024-01-30",
         "invoice_value": "100000", "invoice_no": "INV-77", "dispatch_country": "CN"},
        {"declaration_id": "E3", "flow": "EXPORT", "reporting_country": "CN", "date": "2024-03-01",
         "invoice_value": "5000", "transport_doc_no": "BL-3", "destination_country": "KE"},
    ]
    return pd.DataFrame([{**base, **r} for r in rows]).fillna("")


def test_mirror_report_command(tmp_path):
    from graphiff.cli import app

    data = tmp_path / "in"
    data.mkdir()
    _declarations().to_csv(data / "declarations.csv", index=False)
    db = tmp_path / "g.duckdb"
    with open_store(str(db)) as st:
        load_paths(st, [data], quarantine_dir=tmp_path / "q")

    runner = CliRunner()
    res = runner.invoke(app, ["mirror-report", "--store", str(db), "--json", "--out", str(tmp_path / "m.csv")])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    row = next(r for r in rows if r["export_country"] == "CN" and r["import_country"] == "KE")
    assert row["exports"] == 3 and row["matched"] == 2 and row["discrepancies"] == 1
    assert abs(row["unmatched_rate"] - 1 / 3) < 1e-3
    assert row["total_value_gap_usd"] == 8000 - 150000
    csv = pd.read_csv(tmp_path / "m.csv")
    assert {"export_country", "import_country", "exports", "matched", "unmatched_rate",
            "median_value_ratio", "total_value_gap_usd"} <= set(csv.columns)

    res = runner.invoke(app, ["mirror-report", "--store", str(db)])
    assert res.exit_code == 0, res.output
    assert "CN" in res.output and "KE" in res.output

"""``graphiff status`` lists the loads as a table (it used to print only "N load(s)"): each load's
id, time, whether it loaded files or a sharing package, what from, the rows loaded and quarantined
and, for a package, its purpose, marking, partner alerts and collisions -- data printed literally."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
from _clikit import run_cli
from typer.testing import CliRunner

from graphiff.ingest import load_paths
from graphiff.stores import open_store

#: what graphiff.share.importer records for an imported package (its fields used by status)
PACKAGE_LOAD = {
    "load_id": "P0123456789ab", "kind": "package", "producer": "[bold]KRA[/]", "package": "op[/].zip",
    "source": "package:[bold]KRA[/]:op[/].zip", "purpose": "joint op [red]Nile[/red]", "marking": "TLP:AMBER",
    "redaction": "none",
    "loaded": {"nodes": {"Trader": 3, "Declaration": 2}, "relationships": {"EXPORTED": 2}},
    "collisions": {"count": 4, "listed": []},
    "partner_alerts": {"count": 3, "patterns": {"circular_trade": 2, "[/]": 1}},
    "files": [{"file": "nodes.csv"}], "loaded_at": "2024-06-02T10:00:00Z", "first_loaded_at": "2024-06-02T10:00:00Z",
}




def _store(tmp_path: Path) -> Path:
    data = tmp_path / "in"
    data.mkdir()
    pd.DataFrame([{"trader_id": "T1", "name": "Acme", "country": "KE"},
                  {"trader_id": "", "name": "Nobody", "country": "KE"}]).to_csv(data / "traders_[b]x.csv", index=False)
    db = tmp_path / "s.duckdb"
    with open_store(str(db)) as st:
        res = load_paths(st, [data], quarantine_dir=tmp_path / "q")
        assert res.loaded == {"traders": 1} and res.quarantined == {"traders": 1}
        with st.atomic(PACKAGE_LOAD["load_id"]):
            st.record_load(PACKAGE_LOAD)
    return db


def test_status_shows_a_table_of_the_loads(tmp_path):
    db = _store(tmp_path)
    code, out = run_cli("status", "--store", str(db))
    assert code == 0, out
    assert "2 load(s)" in out
    rows = {ln.split("│")[1].strip(): [c.strip() for c in ln.split("│")[1:-1]]
            for ln in out.splitlines() if ln.count("│") > 3 and ln.split("│")[1].strip()[:1] in ("L", "P")}
    assert len(rows) == 2, out
    (file_load,) = [r for k, r in rows.items() if k.startswith("L")]
    package = rows["P0123456789ab"]
    assert "files" in file_load and "traders_[b]x.csv" in file_load
    assert "1" in file_load  # rows loaded and quarantined
    assert "package" in package and "[bold]KRA[/]: op[/].zip" in package
    assert "TLP:AMBER" in package and "4" in package
    text = " ".join(out.split())
    assert "joint op [red]Nile[/red]" in text     # printed literally, not read as markup
    assert "3 ([/] 1, circular_trade 2)" in text  # partner alerts by pattern
    assert "5 nodes, 2 relationships" in text
    assert "2024-06-02T10:00:00Z" in text


def test_status_json_still_lists_the_load_records(tmp_path):
    db = _store(tmp_path)
    code, out = run_cli("status", "--store", str(db), "--json")
    assert code == 0, out
    loads = {d["load_id"]: d for d in json.loads(out)["loads"]}
    assert loads.pop("P0123456789ab")["purpose"] == "joint op [red]Nile[/red]"
    (files,) = loads.values()
    assert files["skipped"] == [] and files["files"] == [{"file": "traders_[b]x.csv", "kind": "traders",
                                                          "loaded": 1, "warnings": {}}]


def test_load_shows_rows_and_rows_per_second_per_file_kind(tmp_path):
    """While loading, the progress display shows each file kind's rows and rows/s (stderr; its final
    state stays on screen); --json prints no progress."""
    from graphiff.cli import app

    data = tmp_path / "in"
    data.mkdir()
    pd.DataFrame([{"trader_id": f"T{i}", "name": f"Trader {i}", "country": "KE"} for i in range(1, 1201)]
                 ).to_csv(data / "traders.csv", index=False)
    pd.DataFrame([{"person_id": "P1", "name": "Ann Lee", "nationality": "KE"}]).to_csv(data / "persons.csv",
                                                                                         index=False)
    store = str(tmp_path / "s.duckdb")
    res = CliRunner().invoke(app, ["load", str(data), "--store", store], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    shown = {m.group(1): m for m in re.finditer(r"loading (\w+) .*? ([\d,]+) rows\s+([\d,]+) rows/s", res.output)}
    assert set(shown) == {"traders", "persons"}, res.output
    assert shown["traders"].group(2) == "1,200" and int(shown["traders"].group(3).replace(",", "")) > 0
    # --json stays one JSON object: no progress display
    res = CliRunner().invoke(app, ["load", str(data), "--store", store, "--json"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "rows/s" not in res.output and json.loads(res.output)["loaded"]["traders"] == 1200

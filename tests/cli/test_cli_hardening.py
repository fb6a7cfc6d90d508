"""The command line's own defects from the hardening issue: names printed as Rich markup, options
that accepted impossible values (scale 0, negative limits, inverted ratios, 2025-13-01), a repeated
``--alert`` that kept only the last one, and errors printed on several lines.

Commands run through the console script's entry point (``graphiff.cli.main``) in-process, so an
error prints exactly as a user sees it: one line and exit 2, or a traceback and exit 1.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from _clikit import run_cli

from graphiff.alerts import Alert, replace_alerts
from graphiff.errors import GraphiffError
from graphiff.ingest import load_paths
from graphiff.stores import open_store

HOSTILE_NAMES = {"T1": "[/]", "T2": "[bold]Bold[/bold] Co", "T3": "Moo :cow: Ltd"}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Path:
    """An embedded store whose traders are named like Rich markup, trading in a circle, with two alerts."""
    tmp = tmp_path_factory.mktemp("hostile")
    data = tmp / "in"
    data.mkdir()
    pd.DataFrame([{"trader_id": k, "name": v, "country": "KE"} for k, v in HOSTILE_NAMES.items()]).to_csv(
        data / "traders.csv", index=False)
    rows = [("D1", "T1", "T2", "2024-01-10"), ("D2", "T2", "T3", "2024-02-10"), ("D3", "T3", "T1", "2024-03-10")]
    pd.DataFrame([{"declaration_id": d, "item_no": "1", "flow": "EXPORT", "reporting_country": "KE", "date": day,
                   "exporter_id": a, "importer_id": b, "hs_code": "851712", "invoice_value": "1000",
                   "currency": "USD"} for d, a, b, day in rows]).to_csv(data / "declarations.csv", index=False)
    db = tmp / "hostile.duckdb"
    with open_store(str(db)) as st:
        load_paths(st, [data], quarantine_dir=tmp / "q")
        replace_alerts(st, [
            Alert(pattern="circular_trade", score=0.9, entities=[{"label": "Trader", "id": "T1"}],
                  explanation="[/] trades with [bold]Bold[/bold] Co", evidence={}, id="A-ONE"),
            Alert(pattern="circular_trade", score=0.8, entities=[{"label": "Trader", "id": "T3"}],
                  explanation="Moo :cow: Ltd", evidence={}, id="A-TWO"),
        ], run_id="R1", loaded_at="2024-06-01T00:00:00Z")
    return db


# ----------------------------------------------------------------------------- names as markup
def test_risk_prints_names_literally(hostile):
    """`graphiff risk` treated entity names as Rich markup: `[/]` crashed, `[bold]` was silently eaten."""
    code, out = run_cli("risk", "--store", str(hostile))
    assert code == 0, out
    assert "Traceback" not in out
    for name in ("[/]", "Moo :cow: Ltd"):
        assert name in out, out
    assert "[/]" in out and "A-ONE" not in out  # the table, not an error


@pytest.mark.parametrize("args, shown", [
    (["explore", "T1", "--hops", "2"], ["[/]", "[bold]Bold[/bold] Co", "Moo :cow: Ltd"]),
    (["explore", "T2"], ["[bold]Bold[/bold] Co"]),
    (["path", "T1", "T3"], ["[/]", "[bold]Bold[/bold] Co"]),
    (["central", "--measure", "degree"], ["[/]", "[bold]Bold[/bold] Co", "Moo :cow: Ltd"]),
    (["communities", "--top", "3"], []),
    (["detect", "--no-write"], []),
    (["mirror-report"], []),
    (["status"], []),
])
def test_every_command_prints_data_literally(hostile, args, shown):
    code, out = run_cli(*args, "--store", str(hostile))
    assert code == 0, out
    assert "Traceback" not in out
    for text in shown:
        assert text in out, (text, out)
    assert "🐄" not in out


def test_evaluate_prints_family_names_literally(tmp_path):
    (tmp_path / "alerts.json").write_text(json.dumps([{"pattern": "[/]", "score": 1.0, "entities": [
        {"label": "Trader", "id": "T1"}], "explanation": "x", "evidence": {}, "id": "A1"}]), encoding="utf-8")
    (tmp_path / "truth.json").write_text(json.dumps({"instances": [{"family": "[bold]fam", "entities": [
        {"label": "Trader", "id": "T1"}]}], "decoys": []}), encoding="utf-8")
    code, out = run_cli("evaluate", str(tmp_path / "alerts.json"), str(tmp_path / "truth.json"))
    assert code in (0, 2), out
    assert "Traceback" not in out and "MarkupError" not in out


# ----------------------------------------------------------------------------- option values
@pytest.mark.parametrize("args", [
    ["samples", "OUT", "--scale", "0"],
    ["samples", "OUT", "--scale", "-1"],
    ["samples", "OUT", "--scale", "nan"],
    ["demo", "--out", "OUT", "--scale", "0"],
    ["demo", "--out", "OUT", "--scale", "-0.5"],
])
def test_scale_must_be_above_zero(tmp_path, args):
    """`graphiff samples w --scale 0` and `demo --scale 0` printed a traceback."""
    args = [str(tmp_path / "w") if a == "OUT" else a for a in args]
    code, out = run_cli(*args)
    assert code == 2, out
    assert "Traceback" not in out
    assert "--scale" in out and "above 0" in out
    assert not (tmp_path / "w").exists()


@pytest.mark.parametrize("args, option", [
    (["explore", "T1", "--limit", "-1"], "--limit"),
    (["explore", "T1", "--limit", "0"], "--limit"),
    (["explore", "T1", "--hops", "-1"], "--hops"),
    (["path", "T1", "T2", "--max-len", "0"], "--max-len"),
    (["path", "T1", "T2", "--k", "-3"], "--k"),
    (["communities", "--resolution", "-1"], "--resolution"),
    (["communities", "--resolution", "0"], "--resolution"),
    (["communities", "--resolution", "nan"], "--resolution"),
    (["communities", "--top", "-5"], "--top"),
    (["central", "--top", "-1"], "--top"),
    (["central", "--cutoff", "0"], "--cutoff"),
    (["chart", "--seed", "T1", "--out", "c.html", "--hops", "-1"], "--hops"),
    (["chart", "--seed", "T1", "--out", "c.html", "--max-nodes", "0"], "--max-nodes"),
    (["mirror-report", "--ratio-low", "1.5", "--ratio-high", "1.0"], "--ratio-low"),
    (["mirror-report", "--ratio-low", "1.0", "--ratio-high", "1.0"], "--ratio-low"),
    (["mirror-report", "--ratio-low", "-1"], "--ratio-low"),
    (["mirror-report", "--window-days", "-1"], "--window-days"),
    (["risk", "--top", "-1"], "--top"),
])
def test_impossible_numbers_are_refused(hostile, tmp_path, args, option):
    """Negative --limit, --resolution and inverted --ratio-low/--ratio-high ran."""
    args = [str(tmp_path / a) if a == "c.html" else a for a in args]
    code, out = run_cli(*args, "--store", str(hostile))
    assert code == 2, out
    assert "Traceback" not in out
    assert option in out, out
    assert not (tmp_path / "c.html").exists()


@pytest.mark.parametrize("option, value", [("--from", "2025-13-01"), ("--to", "2024-02-30"), ("--from", "2024-00"),
                                           ("--to", "24-01-01"), ("--from", "2024-1-5")])
def test_dates_must_be_calendar_dates(hostile, tmp_path, option, value):
    """`--from 2025-13-01` was accepted."""
    code, out = run_cli("chart", "--seed", "T1", "--out", str(tmp_path / "c.cyjs"), option, value,
                        "--store", str(hostile))
    assert code == 2, out
    assert "Traceback" not in out
    assert option in out and "calendar date" in out, out
    assert not (tmp_path / "c.cyjs").exists()


@pytest.mark.parametrize("value", ["2024", "2024-03", "2024-02-29"])
def test_partial_dates_stay_accepted(hostile, tmp_path, value):
    code, out = run_cli("chart", "--seed", "T1", "--out", str(tmp_path / "c.cyjs"), "--from", value, "--to", "2024",
                        "--store", str(hostile), "--json")
    assert code == 0, out


# ----------------------------------------------------------------------------- several alerts
def test_chart_uses_every_alert(hostile, tmp_path):
    """A repeated `--alert` in `chart` silently kept only the last."""
    out_file = tmp_path / "c.cyjs"
    code, out = run_cli("chart", "--alert", "A-ONE", "--alert", "A-TWO", "--hops", "0", "--out", str(out_file),
                        "--store", str(hostile), "--json")
    assert code == 0, out
    result = json.loads(out)
    assert {"Alert:A-ONE", "Alert:A-TWO", "Trader:T1", "Trader:T3"} <= set(result["seeds"])
    assert "A-ONE" in result["title"] and "A-TWO" in result["title"]
    ids = {el["data"]["id"] for el in json.loads(out_file.read_text(encoding="utf-8"))["elements"]["nodes"]}
    assert {"Alert:A-ONE", "Alert:A-TWO", "Trader:T1", "Trader:T3"} <= ids


def test_chart_with_an_unknown_alert_among_several_is_refused(hostile, tmp_path):
    code, out = run_cli("chart", "--alert", "A-ONE", "--alert", "NOPE", "--out", str(tmp_path / "c.cyjs"),
                        "--store", str(hostile))
    assert code == 2 and "NOPE" in out and "Traceback" not in out, out


def test_select_takes_one_alert_or_several(hostile):
    from graphiff.graph.select import select

    with open_store(str(hostile)) as st:
        one = select(st, alert="A-ONE", hops=0)
        both = select(st, alert=["A-ONE", "A-TWO"], hops=0)
    assert one.seeds == ["Alert:A-ONE", "Trader:T1"]
    assert both.seeds == ["Alert:A-ONE", "Trader:T1", "Alert:A-TWO", "Trader:T3"]


# ----------------------------------------------------------------------------- one-line errors
def test_a_multi_line_error_prints_on_one_line(hostile, monkeypatch):
    import graphiff.detectors.mirror as mirror

    def broken(*args, **kwargs):
        raise GraphiffError("write failed: Parser Error: bad\n\nLINE 1: ALTER TABLE [/]\n   ^")

    monkeypatch.setattr(mirror, "mirror_report", broken)
    code, out = run_cli("mirror-report", "--store", str(hostile))
    assert code == 2
    assert out.strip().splitlines() == ["error: write failed: Parser Error: bad | LINE 1: ALTER TABLE [/] | ^"]


def test_detect_out_into_a_new_folder_is_written_and_an_unwritable_one_is_one_line(hostile, tmp_path):
    out = tmp_path / "no" / "such" / "alerts.json"
    code, text = run_cli("detect", "--store", str(hostile), "--no-write", "--out", str(out))
    assert code == 0, text
    assert isinstance(json.loads(out.read_text(encoding="utf-8")), list)
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    code, text = run_cli("detect", "--store", str(hostile), "--no-write", "--out", str(blocker / "alerts.json"))
    assert code == 2
    assert "cannot write the alerts to" in text and "Traceback" not in text

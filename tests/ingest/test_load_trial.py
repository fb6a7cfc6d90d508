"""Problems a user trial of ``graphiff load`` found: data files of a folder skipped without a word,
a semicolon-separated CSV reported as missing columns, empty files and sheets reported as missing
columns, and load warnings keyed by English sentences instead of stable codes."""
from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from _clikit import run_cli

from graphiff.errors import InvalidInput
from graphiff.ingest import load_paths
from graphiff.ingest.validate import WARNINGS
from graphiff.stores import open_store

TRADERS = [{"trader_id": "T1", "name": "Acme", "country": "KE"}]




def load(tmp_path: Path, *paths: Path):
    with open_store(str(tmp_path / "s.duckdb")) as st:
        return load_paths(st, list(paths), quarantine_dir=tmp_path / "q")


def cli_load(tmp_path: Path, *paths: Path, as_json: bool = False) -> str:
    args = ["load", *map(str, paths), "--store", str(tmp_path / "cli.duckdb"), "--quarantine-dir",
            str(tmp_path / "cq")]
    code, out = run_cli(*args, *(["--json"] if as_json else []))
    assert code == 0, out
    return out


# ---- 1. data files of a folder that are no known kind are named, not skipped silently ------

def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    pd.DataFrame(TRADERS).to_csv(folder / "Traders.CSV", index=False)   # the traders file, upper case
    pd.DataFrame(TRADERS).to_csv(folder / "suppliers_2024.csv", index=False)
    pd.DataFrame(TRADERS).to_csv(folder / "trader.csv", index=False)
    (folder / "README.md").write_text("notes\n", encoding="utf-8")
    (folder / "truth.json").write_text("{}\n", encoding="utf-8")
    (folder / "settings.yaml").write_text("a: 1\n", encoding="utf-8")
    return folder


def test_a_folder_names_the_data_files_it_skips(tmp_path):
    res = load(tmp_path, _folder(tmp_path))
    assert res.loaded == {"traders": 1}
    assert [f["file"] for f in res.files] == ["Traders.CSV"]
    assert [s["file"] for s in res.skipped] == ["suppliers_2024.csv", "trader.csv"]
    assert all("not a known file kind (rates, traders, persons" in s["reason"] for s in res.skipped)
    assert all("--kind/--mapping" in s["reason"] for s in res.skipped)


def test_load_json_and_summary_list_the_skipped_files(tmp_path):
    folder = _folder(tmp_path)
    out = json.loads(cli_load(tmp_path, folder, as_json=True))
    assert [s["file"] for s in out["skipped"]] == ["suppliers_2024.csv", "trader.csv"]
    assert out["loaded"] == {"traders": 1}
    human = cli_load(tmp_path, folder)
    line = next(ln for ln in human.splitlines() if "suppliers_2024.csv" in ln)
    assert line.startswith("warning: skipped suppliers_2024.csv: not a known file kind (rates, traders, persons")
    assert line.endswith("name it after its kind or use --kind/--mapping")  # one line, not wrapped
    assert "trader.csv: not a known file kind" in human
    assert "README" not in human and "truth.json" not in human and "settings.yaml" not in human


def test_a_folder_of_only_unknown_data_files_names_them_in_the_error(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    pd.DataFrame(TRADERS).to_csv(folder / "suppliers.csv", index=False)
    with pytest.raises(InvalidInput) as exc:
        load(tmp_path, folder)
    assert "suppliers.csv" in str(exc.value)


# ---- 2. a CSV separated by semicolons or tabs --------------------------------------------------

@pytest.mark.parametrize("sep,said", [(";", "';'-separated"), ("\t", "tab-separated")])
def test_a_semicolon_or_tab_separated_csv_says_so(tmp_path, sep, said):
    folder = tmp_path / "in"
    folder.mkdir()
    path = folder / "traders.csv"
    path.write_text(sep.join(["trader_id", "name", "country"]) + "\n" + sep.join(["T1", "Acme", "KE"]) + "\n",
                    encoding="utf-8")
    with pytest.raises(InvalidInput) as exc:
        load(tmp_path, path)
    msg = str(exc.value)
    assert exc.value.file == "traders.csv"
    assert f"the header looks {said}" in msg and "re-save the file with commas" in msg
    assert "missing required column" not in msg


def test_a_single_column_header_without_separators_is_still_a_missing_column(tmp_path):
    path = tmp_path / "traders.csv"
    path.write_text("trader_id\nT1\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="missing required column"):
        load(tmp_path, path)


# ---- 3. empty files and sheets ---------------------------------------------------------------

def test_an_empty_csv_says_it_is_empty(tmp_path):
    path = tmp_path / "traders.csv"
    path.write_bytes(b"")
    with pytest.raises(InvalidInput) as exc:
        load(tmp_path, path)
    assert exc.value.file == "traders.csv"
    assert "empty file or no header row" in str(exc.value)


def test_an_empty_xlsx_says_it_is_empty(tmp_path):
    path = tmp_path / "traders.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(InvalidInput) as exc:
        load(tmp_path, path)
    assert exc.value.file == "traders.xlsx"
    assert "empty file or no header row" in str(exc.value) and "first sheet 'Sheet'" in str(exc.value)


def test_an_xlsx_whose_first_sheet_has_no_header_row_names_the_sheet(tmp_path):
    path = tmp_path / "traders.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    data = wb.create_sheet("Traders")
    data.append(["trader_id", "name", "country"])
    data.append(["T1", "Acme", "KE"])
    wb.save(path)
    with pytest.raises(InvalidInput) as exc:
        load(tmp_path, path)
    assert exc.value.file == "traders.xlsx"
    assert "first sheet 'Notes' has no header row" in str(exc.value)
    assert "missing required column" not in str(exc.value)


def test_an_xlsx_whose_first_row_is_blank_has_no_header_row(tmp_path):
    path = tmp_path / "traders.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Data"
    wb.active["A2"] = "trader_id"
    wb.save(path)
    with pytest.raises(InvalidInput, match="first sheet 'Data' has no header row"):
        load(tmp_path, path)


# ---- 4. warnings keyed by stable codes, naming the file --------------------------------------

def _warned_world(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "traders.csv").write_text("trader_id,name,country,\nT1,Acme,KE,\n", encoding="utf-8")
    pd.DataFrame([{"currency": "EUR", "month": "2024-01", "usd_per_unit": "1.1"}]).to_csv(folder / "rates.csv",
                                                                                          index=False)
    decl = {"declaration_id": "D1", "flow": "EXPORT", "reporting_country": "KE", "date": "2024-01-10",
            "exporter_id": "T1", "hs_code": "851712", "invoice_value": "100", "currency": "EUR"}
    pd.DataFrame([decl, {**decl, "declaration_id": "D2", "currency": "GBP"},
                  {**decl, "declaration_id": "D3", "date": "2024-02-10"}]).to_csv(
        folder / "declarations_2024.csv", index=False)
    pd.DataFrame([{"account_id": "GB82WEST12345698765433", "holder_id": "T1"}]).to_csv(folder / "accounts.csv",
                                                                                       index=False)
    return [folder]


def test_load_warnings_are_keyed_by_codes(tmp_path):
    res = load(tmp_path, *_warned_world(tmp_path / "in"))
    assert res.warnings == {"traders": {"unnamed_trailing_column": 1},
                            "declarations": {"usd_unconvertible": 2},
                            "accounts": {"iban_invalid": 1}}
    by_file = {f["file"]: f["warnings"] for f in res.files}
    assert by_file["declarations_2024.csv"] == {"usd_unconvertible": 2}
    assert by_file["rates.csv"] == {}
    assert set(WARNINGS) >= {"unnamed_trailing_column", "usd_unconvertible", "iban_invalid"}


def test_load_json_warnings_are_codes_and_the_summary_names_the_file(tmp_path):
    world = _warned_world(tmp_path / "in")
    out = json.loads(cli_load(tmp_path, *world, as_json=True))
    assert out["warnings"]["declarations"] == {"usd_unconvertible": 2}
    assert out["warnings"]["accounts"] == {"iban_invalid": 1}
    human = cli_load(tmp_path, *world)
    assert f"warning: declarations_2024.csv (declarations): 2 × {WARNINGS['usd_unconvertible']}" in human
    assert f"warning: accounts.csv (accounts): 1 × {WARNINGS['iban_invalid']}" in human
    assert f"warning: traders.csv (traders): 1 × {WARNINGS['unnamed_trailing_column']}" in human
    assert "unconvertible" in WARNINGS["usd_unconvertible"] and "usd_status" in WARNINGS["usd_unconvertible"]

"""Malformed input files (issue 11): every one is a clear error (exit 2, one line naming the file
and the column) or loads with its bad rows quarantined with a reason -- never a traceback, and
every data row is loaded or quarantined."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _clikit import run_cli

from graphiff.errors import InvalidInput
from graphiff.ingest import load_paths
from graphiff.ingest.readers import read_chunks
from graphiff.ingest.validate import WARNINGS
from graphiff.stores import open_store

TRADER = {"trader_id": "T1", "name": "Acme", "country": "KE"}


def write(folder: Path, name: str, rows: list[dict] | str | bytes) -> Path:
    """``rows`` as the file ``name`` (csv, jsonl, xlsx or parquet by suffix), or raw text/bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(rows, bytes):
        path.write_bytes(rows)
    elif isinstance(rows, str):
        path.write_text(rows, encoding="utf-8", newline="")
    elif name.endswith(".csv"):
        pd.DataFrame(rows).to_csv(path, index=False)
    elif name.endswith(".jsonl"):
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    elif name.endswith(".xlsx"):
        pd.DataFrame(rows).to_excel(path, index=False)
    else:
        pd.DataFrame(rows).astype(str).to_parquet(path, index=False)
    return path


def load(tmp_path: Path, *paths: Path, **kw):
    with open_store(str(tmp_path / "s.duckdb")) as st:
        res = load_paths(st, list(paths), quarantine_dir=tmp_path / "q", **kw)
        return res, st.nodes("Trader") if st.counts()["nodes"].get("Trader") else pd.DataFrame()


def quarantine(res) -> list[dict]:
    if not res.quarantine:
        return []
    with open(res.quarantine, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def refused(tmp_path: Path, path: Path, *args: str) -> str:
    """Load ``path`` through the CLI: exit 2, one line without a traceback, the store unchanged."""
    store = tmp_path / "cli.duckdb"
    code, out = run_cli("load", str(path), "--store", str(store), "--quarantine-dir", str(tmp_path / "q"), *args)
    assert code == 2, out
    assert "Traceback" not in out
    lines = [ln for ln in out.splitlines() if ln.strip().startswith("error:")]
    assert len(lines) == 1, out
    assert not (tmp_path / "q").exists() or not any((tmp_path / "q").iterdir())
    return " ".join(out.split())


# ---- numbers out of range: bad values, not crashes -----------------------------------------

@pytest.mark.parametrize("fmt,value", [("csv", "99999999999999999999"), ("xlsx", "99999999999999999999"),
                                       ("parquet", "99999999999999999999"), ("jsonl", 1.5e300),
                                       ("jsonl", 99999999999999999999), ("csv", "9223372036854775808")])
def test_integer_out_of_range_is_a_quarantined_bad_value(tmp_path, fmt, value):
    rows = [{**TRADER, "employees": value}, {**TRADER, "trader_id": "T2", "employees": "9223372036854775807"}]
    res, traders = load(tmp_path, write(tmp_path / "in", f"traders.{fmt}", rows))
    assert res.loaded["traders"] == 1 and res.quarantined["traders"] == 1
    (q,) = quarantine(res)
    assert q["column"] == "employees" and q["reason"].startswith("bad integer")
    assert q["line"] == ("1" if fmt == "jsonl" else "2")   # JSON Lines have no header line
    assert int(traders.set_index("key").loc["T2", "employees"]) == 2 ** 63 - 1


def test_number_out_of_range_is_a_quarantined_bad_value(tmp_path):
    rows = [{"currency": "EUR", "month": "2024-01", "usd_per_unit": "1e999"},
            {"currency": "GBP", "month": "2024-01", "usd_per_unit": "1.27"}]
    res, _ = load(tmp_path, write(tmp_path / "in", "rates.csv", rows))
    assert (res.loaded["rates"], res.quarantined["rates"]) == (1, 1)
    assert quarantine(res)[0]["column"] == "usd_per_unit"


# ---- header problems: fatal, naming the file and the column ---------------------------------

@pytest.mark.parametrize("header,column", [
    ("trader_id,name,country,key", "key"),                       # the row's key
    ("trader_id,name,country,name", "name"),                     # a repeated name
    ("trader_id,name,country,Name", "Name"),                     # repeated ignoring case (raw catalog error)
    ("trader_id,name,country,_line", "_line"),                   # provenance
    ("trader_id,name,country,_source", "_source"),
    ("trader_id,name,country,_Load_ID", "_Load_ID"),
    ("trader_id,name,country,origin", "origin"),                 # derived by the load for traders
    ("trader_id,name,country,id_check", "id_check"),
    ("trader_id,name,country,aliases", "aliases"),               # the resolved view's names of an entity
    ("trader_id,name,country,Alias_Names", "Alias_Names"),
])
def test_bad_header_name_is_fatal_naming_file_and_column(tmp_path, header, column):
    path = write(tmp_path / "in", "traders.csv", f"{header}\nT1,Acme,KE,x\n")
    msg = refused(tmp_path, path)
    assert "traders.csv" in msg and f"column '{column}'" in msg


@pytest.mark.parametrize("name,header,column", [
    ("declarations.csv", "declaration_id,flow,reporting_country,date,hs_code,invoice_value,currency,importer_id,"
                         "hs6", "hs6"),
    ("declarations.csv", "declaration_id,flow,reporting_country,date,hs_code,invoice_value,currency,importer_id,"
                         "decl_key", "decl_key"),
    ("payments.csv", "payment_id,date,from_account,to_account,amount,currency,amount_usd", "amount_usd"),
    ("cash_reports.csv", "report_id,report_type,date,amount,currency,usd_status", "usd_status"),
    ("officers.csv", "officer_id,company_id,role,src", "src"),    # every other column is a relationship property
])
def test_derived_property_as_input_column_is_fatal(tmp_path, name, header, column):
    path = write(tmp_path / "in", name, header + "\n")
    msg = refused(tmp_path, path)
    assert name in msg and f"column '{column}'" in msg


def test_unnamed_columns_inside_the_header_are_fatal(tmp_path):
    path = write(tmp_path / "in", "traders.csv", "trader_id,,name,,country\nT1,a,Acme,b,KE\n")
    msg = refused(tmp_path, path)
    assert "traders.csv" in msg and "column 2 of the header has no name" in msg


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_reserved_names_are_fatal_in_other_formats(tmp_path, fmt):
    path = write(tmp_path / "in", f"traders.{fmt}", [{**TRADER, "_line": "99"}])
    with pytest.raises(InvalidInput) as exc:
        load(tmp_path, path)
    assert exc.value.file == f"traders.{fmt}" and exc.value.column == "_line"


def test_repeated_names_in_xlsx_are_fatal(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["trader_id", "name", "country", "NAME"])
    wb.active.append(["T1", "Acme", "KE", "x"])
    (tmp_path / "in").mkdir()
    wb.save(tmp_path / "in" / "traders.xlsx")
    msg = refused(tmp_path, tmp_path / "in" / "traders.xlsx")
    assert "traders.xlsx" in msg and "column 'NAME'" in msg


def test_jsonl_keys_repeating_ignoring_case_across_rows_are_fatal(tmp_path):
    path = write(tmp_path / "in", "traders.jsonl", [TRADER, {**TRADER, "trader_id": "T2", "Name": "x"}])
    with pytest.raises(InvalidInput) as exc:
        load(tmp_path, path)
    assert exc.value.column == "Name"


def test_a_trailing_comma_in_the_header_is_ignored_with_a_warning(tmp_path):
    # spreadsheet exports: "a,b,c," -- the unnamed last column is dropped; a value under it is
    # a row that cannot be placed (quarantined)
    path = write(tmp_path / "in", "traders.csv", "trader_id,name,country,\nT1,Acme,KE,\nT2,Beta,KE,stray\n")
    res, traders = load(tmp_path, path)
    assert res.loaded["traders"] == 1 and res.quarantined["traders"] == 1
    assert res.warnings["traders"] == {"unnamed_trailing_column": 1}   # a stable code, not a sentence
    (q,) = quarantine(res)
    assert q["line"] == "3" and "column without a name" in q["reason"]
    assert "" not in traders.columns and list(traders["key"]) == ["T1"]
    code, out = run_cli("load", str(path), "--store", str(tmp_path / "c.duckdb"), "--quarantine-dir",
                        str(tmp_path / "q2"))
    assert code == 0 and f"warning: traders.csv (traders): 1 × {WARNINGS['unnamed_trailing_column']}" in out


def test_two_trailing_empty_names_are_ignored(tmp_path):
    path = write(tmp_path / "in", "traders.csv", "trader_id,name,country,,\nT1,Acme,KE,,\n")
    res, _ = load(tmp_path, path)
    assert res.loaded["traders"] == 1 and res.quarantined["traders"] == 0


# ---- values: NUL, NaN, nested JSON, Parquet binary, times, lines ---------------------------

@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_nul_byte_after_64_kib_is_fatal_like_in_the_first(tmp_path, fmt):
    good = ("trader_id,name,country\n" + "".join(f"T{i},Name {i},KE\n" for i in range(5000))) if fmt == "csv" \
        else "".join(json.dumps({**TRADER, "trader_id": f"T{i}"}) + "\n" for i in range(2000))
    assert len(good) > 65536
    bad = good.encode() + (b"T9,Ac\x00me,KE\n" if fmt == "csv" else b'{"trader_id": "T9", "name": "A\x00"}\n')
    path = write(tmp_path / "in", f"traders.{fmt}", bad)
    msg = refused(tmp_path, path)
    assert f"traders.{fmt}" in msg and "NUL byte" in msg


def test_json_nan_and_infinity_are_bad_numbers_not_dropped(tmp_path):
    path = write(tmp_path / "in", "rates.jsonl",
                 '{"currency": "EUR", "month": "2024-01", "usd_per_unit": NaN}\n'
                 '{"currency": "GBP", "month": "2024-01", "usd_per_unit": Infinity}\n'
                 '{"currency": "CHF", "month": "2024-01", "usd_per_unit": 1.1}\n')
    res, _ = load(tmp_path, path)
    assert (res.loaded["rates"], res.quarantined["rates"]) == (1, 2)
    assert sorted(q["value"] for q in quarantine(res)) == ["Infinity", "NaN"]


def test_nested_json_is_kept_as_json_text(tmp_path):
    path = write(tmp_path / "in", "traders.jsonl", [{**TRADER, "tags": {"a": [1, "x"]}, "list": [1, 2]}])
    res, traders = load(tmp_path, path)
    t = traders.iloc[0]
    assert json.loads(t["tags"]) == {"a": [1, "x"]} and json.loads(t["list"]) == [1, 2]


def test_jsonl_with_repeated_key_or_deep_nesting_is_a_bad_row(tmp_path):
    deep = '{"trader_id": "T3", "name": "x", "country": "KE", "n": ' + "[" * 20_000 + "]" * 20_000 + "}"
    repeated = '{"trader_id": "T2", "name": "a", "name": "b", "country": "KE"}'
    path = write(tmp_path / "in", "traders.jsonl", "\n".join([json.dumps(TRADER), repeated, deep]) + "\n")
    res, _ = load(tmp_path, path)
    assert (res.loaded["traders"], res.quarantined["traders"]) == (1, 2)
    assert {q["line"] for q in quarantine(res)} == {"2", "3"}


def test_parquet_binary_is_decoded_and_undecodable_is_quarantined(tmp_path):
    (tmp_path / "in").mkdir()
    pq.write_table(pa.table({"trader_id": ["T1", "T2"], "name": pa.array([b"Acme", b"\xff\xfeX"], pa.binary()),
                             "country": ["KE", "KE"]}), tmp_path / "in" / "traders.parquet")
    res, traders = load(tmp_path, tmp_path / "in" / "traders.parquet")
    assert list(traders["name"]) == ["Acme"]
    (q,) = quarantine(res)
    assert q["line"] == "3" and q["column"] == "name" and "not UTF-8" in q["reason"]


@pytest.mark.parametrize("value,ok", [("2024-01-10T25:00:00", False), ("2024-01-10T99:99", False),
                                      ("2024-01-10T12:60", False), ("2024-01-10T23:59:59.5+02:00", True),
                                      ("2024-01-10 08:00:00", True), ("2024-01-10T08", True)])
def test_a_time_part_must_be_a_valid_time(tmp_path, value, ok):
    res, traders = load(tmp_path, write(tmp_path / "in", "traders.csv", [{**TRADER, "registration_date": value}]))
    assert res.loaded["traders"] == int(ok)
    if ok:
        assert traders.iloc[0]["registration_date"] == "2024-01-10"
    else:
        assert quarantine(res)[0]["reason"].startswith("bad date")


def test_line_counts_physical_lines_after_quoted_multiline_fields_and_blank_lines(tmp_path):
    text = ('trader_id,name,country\n'
            'T1,"Acme\nLtd",KE\n'                 # lines 2-3
            'T2,"Bad\r\nrow",KE,extra\n'          # lines 4-5: wrong field count
            'T3,Gamma,XX\n'                       # line 6: unknown country
            '\n'                                  # line 7: blank
            'T4,Delta,KE\n')                      # line 8
    res, traders = load(tmp_path, write(tmp_path / "in", "traders.csv", text))
    assert (res.loaded["traders"], res.quarantined["traders"]) == (2, 2)
    assert {q["line"]: q["reason"].split(":")[0].split(" (")[0] for q in quarantine(res)} == {
        "4": "wrong field count", "6": "unknown country"}
    lines = traders.set_index("key")["_line"].astype(int).to_dict()
    assert lines == {"T1": 2, "T4": 8}


def test_line_counts_without_blank_lines_use_the_parsed_values(tmp_path):
    text = 'trader_id,name,country\nT1,"A\n\nB",KE\nT2,B,XX\n'   # a blank line inside quotes only
    res, _ = load(tmp_path, write(tmp_path / "in", "traders.csv", text))
    assert quarantine(res)[0]["line"] == "5"


def test_header_only_csv_without_final_newline_loads_zero_rows(tmp_path):
    res, _ = load(tmp_path, write(tmp_path / "in", "traders.csv", "trader_id,name,country"))
    assert res.loaded == {"traders": 0} and res.quarantined == {"traders": 0}


def test_reader_chunks_keep_every_row(tmp_path):
    rows = [{**TRADER, "trader_id": f"T{i}"} for i in range(7)]
    path = write(tmp_path / "in", "traders.jsonl", rows)
    chunks = list(read_chunks(path, chunk_rows=3))
    assert [len(c.frame) for c in chunks] == [3, 3, 1]
    assert [int(x) for c in chunks for x in c.lines] == list(range(1, 8))


# ---- mappings and --kind ---------------------------------------------------------------------

def _mapping(tmp_path: Path) -> Path:
    m = tmp_path / "m.yaml"
    m.write_text("kind: traders\nmatch: ['tr_*.csv']\ncolumns:\n  trader_id: ID\n  name: Name\n  country: Land\n",
                 encoding="utf-8")
    return m


def test_a_file_no_mapping_matches_says_so(tmp_path):
    path = write(tmp_path / "in", "other-name.csv", "ID,Name,Land\nT1,Acme,KE\n")
    msg = refused(tmp_path, path, "--mapping", str(_mapping(tmp_path)))
    assert "other-name.csv" in msg and "matches none of the --mapping patterns" in msg and "tr_*.csv" in msg
    assert "give a --mapping" not in msg


def test_kind_forces_the_mapping_and_the_kind(tmp_path):
    path = write(tmp_path / "in", "other-name.csv", "ID,Name,Land\nT1,Acme,KE\n")
    code, out = run_cli("load", str(path), "--mapping", str(_mapping(tmp_path)), "--kind", "traders",
                        "--store", str(tmp_path / "s.duckdb"), "--quarantine-dir", str(tmp_path / "q"), "--json")
    assert code == 0, out
    assert json.loads(out[out.index("{"):])["loaded"] == {"traders": 1}
    plain = write(tmp_path / "in2", "export.csv", [TRADER])
    res, _ = load(tmp_path, plain, kind="traders")
    assert res.loaded == {"traders": 1}
    msg = refused(tmp_path, plain, "--kind", "nonsense")
    assert "unknown file kind 'nonsense'" in msg


def test_mapped_column_with_a_reserved_name_is_fatal(tmp_path):
    path = write(tmp_path / "in", "tr_1.csv", "ID,Name,Land,Key\nT1,Acme,KE,x\n")
    msg = refused(tmp_path, path, "--mapping", str(_mapping(tmp_path)))
    assert "tr_1.csv" in msg and "column 'Key'" in msg


# ---- an IBAN failing its check is data, not garbage ----------------------------------------

BAD_IBAN = "GB82WEST12345698765433"        # the textbook IBAN with a wrong check digit


def _bank_world(folder: Path) -> list[Path]:
    return [write(folder, "traders.csv", [TRADER]),
            write(folder, "accounts.csv", [{"account_id": "GB82 WEST 1234 5698 7654 33", "holder_id": "T1"},
                                           {"account_id": "GB82WEST12345698765432", "holder_id": "T1"}]),
            write(folder, "payments.csv", [{"payment_id": "P1", "date": "2024-01-02", "from_account": BAD_IBAN,
                                            "to_account": "GB82WEST12345698765432", "amount": "900",
                                            "currency": "USD"}])]


def test_an_invalid_iban_is_kept_marked_and_counted(tmp_path):
    files = _bank_world(tmp_path / "in")
    code, out = run_cli("load", *map(str, files), "--store", str(tmp_path / "s.duckdb"), "--quarantine-dir",
                        str(tmp_path / "q"), "--json")
    assert code == 0, out
    res = json.loads(out[out.index("{"):])
    assert res["loaded"] == {"traders": 1, "accounts": 2, "payments": 1}
    assert sum(res["quarantined"].values()) == 0
    assert res["warnings"] == {"accounts": {"iban_invalid": 1}, "payments": {"iban_invalid": 1}}
    with open_store(str(tmp_path / "s.duckdb")) as st:
        acc = st.nodes("BankAccount").set_index("key")
        assert acc.loc[BAD_IBAN, "id_check"] == "iban_invalid"
        assert pd.isna(acc.loc["GB82WEST12345698765432", "id_check"])
        assert st.nodes("Payment").set_index("key").loc["P1", "id_check"] == "iban_invalid"
        assert len(st.rels("SENT")) == 1 and len(st.rels("HOLDS")) == 2
    code, human = run_cli("load", *map(str, files), "--store", str(tmp_path / "s2.duckdb"), "--quarantine-dir",
                          str(tmp_path / "q"))
    assert code == 0 and "warning: accounts.csv (accounts): 1 × account id fails the IBAN check" in human


def test_the_iban_mark_shows_in_explore_and_charts(tmp_path):
    from graphiff.charts.html import chart_data
    from graphiff.explore import neighbourhood
    from graphiff.graph.select import select
    from graphiff.graph.tables import Tables

    files = _bank_world(tmp_path / "in")
    store = str(tmp_path / "s.duckdb")
    with open_store(store) as st:
        load_paths(st, files, quarantine_dir=tmp_path / "q")
        nb = neighbourhood(Tables(st), "T1")
        marked = {n["key"]: n.get("id_check") for n in nb["neighbours"]}
        assert marked[BAD_IBAN] == "iban_invalid" and marked["GB82WEST12345698765432"] is None
        sub = select(Tables(st), seeds=["T1"], hops=1)
        nodes = {n["key"]: n for n in chart_data(sub)["nodes"]}
        assert nodes[BAD_IBAN]["props"]["id_check"] == "iban_invalid"
        assert nodes[BAD_IBAN]["caption"].endswith("[iban_invalid]")
    code, out = run_cli("explore", "T1", "--store", store)
    assert code == 0 and "id_check: iban_invalid" in out
    code, out = run_cli("explore", BAD_IBAN, "--store", store)
    assert code == 0 and "id_check=iban_invalid" in out

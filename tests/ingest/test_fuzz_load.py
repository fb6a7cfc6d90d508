"""Fuzzing the load as a habit: malformed CSV, JSONL and XLSX files of the canonical kinds go
through ``graphiff load`` (the real entry point, in-process) into a fresh embedded store, and the
load either completes with every data row accounted for or is refused leaving the store as it was.

For every generated file:

- the exit code is 0 or 2, and nothing prints a traceback;
- exit 0: for every file kind, input data rows = loaded + quarantined (``load --json``);
- exit 2: ``status --json`` is identical to before (no node, relationship or load entry added)
  and no quarantine file is left behind.

The runs are reproducible (``derandomize=True``, no example database) and short: each test
below stays within a few seconds. Raise ``GRAPHIFF_FUZZ_EXAMPLES`` to search longer locally.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from _clikit import run_cli
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from graphiff.ingest import load_paths
from graphiff.stores import open_store

EXAMPLES = int(os.environ.get("GRAPHIFF_FUZZ_EXAMPLES", "15"))
# no shrinking unless asked (GRAPHIFF_FUZZ_SHRINK=1): a failure in CI reports the example as found in
# seconds instead of spending minutes minimising it
PHASES = tuple(Phase) if os.environ.get("GRAPHIFF_FUZZ_SHRINK") else (Phase.explicit, Phase.generate)
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=False,
                phases=PHASES, suppress_health_check=list(HealthCheck))


# ------------------------------------------------------------------------------ the kinds
#: one valid row per kind (all canonical columns that matter); the generators corrupt them
VALID: dict[str, dict[str, str]] = {
    "traders": {"trader_id": "T1", "name": "Acme Ltd", "country": "KE", "tin": "P051", "registration_date":
                "2015-03-01", "address": "1 Harbour Rd", "city": "Mombasa", "phone": "+254 700 000 001",
                "email": "info@acme.example", "employees": "40"},
    "persons": {"person_id": "P1", "name": "Jane Doe", "birth_date": "1980-05-05", "nationality": "KE",
                "passport_no": "AK123456", "phone": "+254 711 222 333"},
    "accounts": {"account_id": "GB29NWBK60161331926819", "holder_id": "T1", "bank_country": "GB"},
    "declarations": {"declaration_id": "D1", "item_no": "1", "flow": "EXPORT", "reporting_country": "KE",
                     "date": "2024-01-10", "exporter_id": "T1", "importer_id": "T2", "hs_code": "851712",
                     "invoice_value": "1000", "currency": "EUR", "net_mass_kg": "10", "container_ids":
                     "MSCU1234567;MSCU7654321", "transport_doc_no": "BL1", "invoice_no": "INV1"},
    "payments": {"payment_id": "PAY1", "date": "2024-01-25", "from_account": "KE-0001", "to_account":
                 "GB29NWBK60161331926819", "amount": "1100", "currency": "USD", "invoice_no": "INV1"},
    "rates": {"currency": "EUR", "month": "2024-01", "usd_per_unit": "1.09"},
}

HOSTILE_TEXT = ["", " ", "99999999999999999999", "-99999999999999999999", "1.5e300", "-1e-320", "NaN", "nan",
                "inf", "-inf", "1e999", "0x1F", "١٢٣", "[/]", "[bold]x", "=1+1", "\x00", "\ufeff", '"', '""', ",",
                ";", "\t", "\n", "\r\n", "\r", "\\", "'", "null", "None", "2025-13-01", "2024-02-30", "T25:00:00",
                "é" * 300, "x" * 5000, "\u202e", "\ud7ff", "a\x00b"]
HOSTILE_HEADERS = ["", " ", "key", "_line", "_source", "_load_id", "origin", "Name", "NAME", "name ", "\ufeffname",
                   "a,b", 'q"t', "[/]", "é", "x" * 300, "label", "id", "src", "dst"]

cells = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=20),
                  st.integers(min_value=-(10 ** 30), max_value=10 ** 30).map(str),
                  st.floats(allow_nan=True, allow_infinity=True).map(repr))


@st.composite
def tables(draw) -> tuple[str, list[str], list[list[str]]]:
    """A kind, a header (maybe with odd names) and rows of cells (maybe ragged, maybe hostile)."""
    kind = draw(st.sampled_from(sorted(VALID)))
    base = VALID[kind]
    header = list(base)
    if draw(st.booleans()):
        extra = draw(st.lists(st.one_of(st.sampled_from(HOSTILE_HEADERS), st.sampled_from(header),
                                        st.text(max_size=8)), max_size=3))
        header += extra
    if draw(st.booleans()):
        header = draw(st.permutations(header))
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        row = [base.get(c, "") for c in header]
        for i in draw(st.lists(st.integers(0, len(header) - 1), max_size=4)):
            row[i] = draw(cells)
        ragged = draw(st.sampled_from(["same", "same", "same", "short", "long"]))
        if ragged == "short" and len(row) > 1:
            row = row[:draw(st.integers(1, len(row) - 1))]
        elif ragged == "long":
            row += draw(st.lists(cells, min_size=1, max_size=3))
        rows.append(row)
    return kind, header, rows


def _csv_bytes(header: list[str], rows: list[list[str]], bom: bool, crlf: bool) -> bytes:
    buf = io.StringIO()
    # LF files quote every cell: the csv module leaves a bare "\r" unquoted when lines end in "\n",
    # which any reader rightly takes for a line break
    csv.writer(buf, lineterminator="\r\n" if crlf else "\n",
               quoting=csv.QUOTE_MINIMAL if crlf else csv.QUOTE_ALL).writerows([header, *rows])
    return (b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8", "surrogatepass")


def _data_rows(rows: list[list[str]]) -> int:
    """Rows a reader must account for: every written row but the ones with no cell at all."""
    return sum(1 for r in rows if r)


# ------------------------------------------------------------------------------ the harness
@pytest.fixture(scope="module")
def template(tmp_path_factory) -> tuple[Path, str]:
    """An embedded store holding one earlier load (so "unchanged" is not just "empty"), and its status."""
    tmp = tmp_path_factory.mktemp("fuzz-template")
    (tmp / "in").mkdir()
    (tmp / "in" / "rates.csv").write_text("currency,month,usd_per_unit\nKES,2024-01,0.0065\n", encoding="utf-8")
    db = tmp / "template.duckdb"
    with open_store(str(db)) as s:
        load_paths(s, [tmp / "in"], quarantine_dir=tmp / "q")
    code, status = run_cli("status", "--store", str(db), "--json")
    assert code == 0, status
    return db, status


def check_load(template: tuple[Path, str], files: dict[str, bytes], expected: dict[str, int] | None) -> None:
    """Load ``files`` (name -> bytes) into a copy of the template store and check the promises.

    ``expected``: data rows per kind (None when the file's row structure is not known, e.g. after
    random bytes were spliced in: then only the exit code, tracebacks and the refusal are checked).
    """
    db0, status0 = template
    with tempfile.TemporaryDirectory(prefix="graphiff-fuzz-") as tmp:
        work = Path(tmp)
        db = work / "store.duckdb"
        shutil.copyfile(db0, db)
        folder = work / "in"
        folder.mkdir()
        for name, data in files.items():
            (folder / name).write_bytes(data)
        qdir = work / "quarantine"
        code, out = run_cli("load", str(folder), "--store", str(db), "--quarantine-dir", str(qdir), "--json")
        assert code in (0, 2), f"exit {code}:\n{out}"
        assert "Traceback" not in out, out
        if code == 2:
            assert len(out.strip().splitlines()) == 1, f"a refusal is one line:\n{out}"
            status_code, status = run_cli("status", "--store", str(db), "--json")
            assert status_code == 0, status
            assert json.loads(status) == json.loads(status0), "a refused load changed the store"
            assert not qdir.exists() or not any(qdir.iterdir()), "a refused load left a quarantine file"
            return
        result = json.loads(out)
        if expected is not None:
            for kind, n in expected.items():
                got = result["loaded"].get(kind, 0) + result["quarantined"].get(kind, 0)
                assert got == n, f"{kind}: {n} data rows in, {result['loaded'].get(kind, 0)} loaded + " \
                                 f"{result['quarantined'].get(kind, 0)} quarantined"


# ------------------------------------------------------------------------------ CSV
@FUZZ
@given(tables(), st.booleans(), st.booleans())
def test_fuzz_csv_rows(template, table, bom, crlf):
    """Well-quoted CSV with hostile cells, odd headers and ragged rows: every row accounted for."""
    kind, header, rows = table
    check_load(template, {f"{kind}.csv": _csv_bytes(header, rows, bom, crlf)}, {kind: _data_rows(rows)})


@FUZZ
@given(tables(), st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=6)), min_size=1, max_size=4),
       st.booleans())
def test_fuzz_csv_bytes(template, table, splices, truncate):
    """CSV with random bytes spliced in (broken quotes, NUL, bad UTF-8, stray delimiters) or cut short."""
    kind, header, rows = table
    data = _csv_bytes(header, rows, False, False)
    for where, junk in splices:
        at = int(where * len(data))
        data = data[:at] + junk + data[at:]
    if truncate:
        data = data[:len(data) * 2 // 3]
    check_load(template, {f"{kind}.csv": data}, None)


@FUZZ
@given(tables(), tables())
def test_fuzz_two_files_all_or_nothing(template, first, second):
    """Two files of different kinds in one load: both complete, or the store is as it was."""
    if first[0] == second[0]:
        second = ("rates", list(VALID["rates"]), [list(VALID["rates"].values())])
        if first[0] == "rates":
            first = ("traders", list(VALID["traders"]), [list(VALID["traders"].values())])
    files = {f"{k}.csv": _csv_bytes(h, r, False, False) for k, h, r in (first, second)}
    check_load(template, files, {k: _data_rows(r) for k, _, r in (first, second)})


# ------------------------------------------------------------------------------ JSONL
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10 ** 30), max_value=10 ** 30),
              st.floats(allow_nan=True, allow_infinity=True), st.sampled_from(HOSTILE_TEXT), st.text(max_size=10)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=8)


@st.composite
def jsonl_lines(draw) -> tuple[str, list[bytes]]:
    kind = draw(st.sampled_from(sorted(VALID)))
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        shape = draw(st.sampled_from(["object", "object", "object", "non-object", "bad-utf8", "broken"]))
        obj: dict = dict(VALID[kind])
        for key in draw(st.lists(st.sampled_from(sorted(obj) + HOSTILE_HEADERS), max_size=3)):
            obj[key] = draw(json_values)
        if shape == "object":
            lines.append(json.dumps(obj, allow_nan=True, ensure_ascii=draw(st.booleans())).encode("utf-8",
                                                                                                   "surrogatepass"))
        elif shape == "non-object":
            value = draw(json_values.filter(lambda v: not isinstance(v, dict)))
            lines.append(json.dumps(value, allow_nan=True).encode("utf-8", "surrogatepass"))
        elif shape == "bad-utf8":
            lines.append(json.dumps(obj).encode()[:-2] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80"]))
                         + b'"}')
        else:
            lines.append(json.dumps(obj).encode()[:draw(st.integers(1, 20))])
    return kind, lines


@FUZZ
@given(jsonl_lines(), st.booleans())
def test_fuzz_jsonl(template, generated, bom):
    """JSON Lines with non-objects, nested values, NaN/Infinity, huge numbers, bad UTF-8, broken lines."""
    kind, lines = generated
    data = (b"\xef\xbb\xbf" if bom else b"") + b"\n".join(lines) + (b"\n" if lines else b"")
    check_load(template, {f"{kind}.jsonl": data}, {kind: sum(1 for ln in lines if ln.strip())})


# ------------------------------------------------------------------------------ XLSX
xlsx_cells = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10 ** 20), max_value=10 ** 20),
    st.floats(allow_nan=False, allow_infinity=False), st.dates().filter(lambda d: d.year >= 1900),
    st.sampled_from([t for t in HOSTILE_TEXT if t.isprintable() or t in ("", "\n", "\t")]),
    st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=20))


@st.composite
def xlsx_tables(draw) -> tuple[str, list[object], list[list[object]]]:
    kind, header, _ = draw(tables())
    base = VALID[kind]
    rows: list[list[object]] = []
    for _ in range(draw(st.integers(0, 5))):
        row: list[object] = [base.get(str(c), "") for c in header]
        for i in draw(st.lists(st.integers(0, len(header) - 1), max_size=4)):
            row[i] = draw(xlsx_cells)
        if draw(st.booleans()):
            row += draw(st.lists(xlsx_cells, max_size=2))
        if _non_empty(row):  # a spreadsheet row without any value is no row
            rows.append(row)
    return kind, [h for h in header if h.isprintable()] or ["x"], rows


def _non_empty(row: list[object]) -> bool:
    return any(v is not None and v != "" and not (isinstance(v, float) and math.isnan(v)) for v in row)


@FUZZ
@given(xlsx_tables())
def test_fuzz_xlsx(template, table):
    """XLSX sheets (written with openpyxl) with numbers, dates, booleans, huge integers and odd text in any cell."""
    from openpyxl import Workbook

    kind, header, rows = table
    wb = Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    check_load(template, {f"{kind}.xlsx": buf.getvalue()}, {kind: len(rows)})

"""Cases on both stores: the round trip (create, add, note, layout, close, reopen, list, show; a
closed case refuses changes) through the library and the command line, every change audited with
the case and its purpose, a case exported to every chart format, and a case exported as a sharing
package whose manifest carries its purpose, legal basis, marking, id and recipient and which a
fresh store imports."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
import zipfile

import pytest

from graphiff.casework import cases
from graphiff.charts.base import FORMATS
from graphiff.cli.common import acting_user
from graphiff.errors import GraphiffError, NotFound
from graphiff.stores import open_book
from tests.casework._casekit import ok, ok_json, refused

TEXTS = {"name": "Op Lake", "purpose": "JIT Lake: cash couriers", "legal_basis": "Reg. (EU) 515/97 art. 4",
         "marking": "TLP:AMBER"}


def test_case_round_trip_in_the_library(store):
    book = store.book()
    with pytest.raises(GraphiffError, match="legal basis"):
        cases.create_case(book, **{**TEXTS, "legal_basis": " "}, user="ann")
    c = cases.create_case(book, **TEXTS, user="ann", entities=["Trader:T1", "Trader:T1"])
    assert (c["id"], c["status"], c["entities"]) == ("C-0001", "open", ["Trader:T1"])
    assert cases.create_case(book, **{**TEXTS, "name": "Op Two"}, user="bob")["id"] == "C-0002"
    cases.add_to_case(book, "C-0001", user="ann", entities=["Person:P1", "Trader:T1"], alerts=["cash_structuring:ab"])
    cases.add_case_note(book, "C-0001", user="ann", text="  courier seen twice  ")
    cases.set_layout(book, "C-0001", {"Trader:T1": [10, 20.5], "Person:P1": {"x": -3, "y": 4}}, user="ann")
    with pytest.raises(GraphiffError, match="bad position"):
        cases.set_layout(book, "C-0001", {"Trader:T1": "left"}, user="ann")
    cases.remove_from_case(book, "C-0001", user="ann", entities=["Person:P1"])
    got = cases.get_case(book, "C-0001")
    assert got["entities"] == ["Trader:T1"] and got["alerts"] == ["cash_structuring:ab"]
    assert got["layout"] == {"Trader:T1": [10.0, 20.5]}          # a removed entity leaves the layout too
    assert [(n["user"], n["text"]) for n in got["notes"]] == [("ann", "courier seen twice")]

    closed = cases.close_case(book, "C-0001", user="sue")
    assert (closed["status"], closed["closed_by"]) == ("closed", "sue")
    for change in (lambda: cases.add_to_case(book, "C-0001", user="ann", entities=["Trader:T9"]),
                   lambda: cases.add_case_note(book, "C-0001", user="ann", text="late"),
                   lambda: cases.set_layout(book, "C-0001", {}, user="ann"),
                   lambda: cases.remove_from_case(book, "C-0001", user="ann", alerts=["cash_structuring:ab"]),
                   lambda: cases.close_case(book, "C-0001", user="sue")):
        with pytest.raises(GraphiffError, match="closed; reopen it first"):
            change()
    assert cases.get_case(book, "C-0001")["entities"] == ["Trader:T1"]
    assert [c["id"] for c in cases.list_cases(book, status="closed")] == ["C-0001"]
    assert [c["id"] for c in cases.list_cases(book)] == ["C-0002", "C-0001"]      # newest first
    with pytest.raises(GraphiffError, match="open already"):
        cases.reopen_case(book, "C-0002", user="sue")
    again = cases.reopen_case(book, "C-0001", user="sue")
    assert again["status"] == "open" and again["closed_by"] is None
    assert [h["action"] for h in again["history"]][-2:] == ["closed", "reopened"]
    listed = cases.list_cases(book, status="open")
    assert [(c["id"], c["n_entities"], c["n_alerts"], c["n_notes"]) for c in listed] == [
        ("C-0002", 0, 0, 0), ("C-0001", 1, 1, 1)]
    assert "layout" not in listed[0]
    with pytest.raises(NotFound):
        cases.get_case(book, "C-0099")


def test_case_commands_and_their_audit(store_uri, world):
    ok("load", str(world), "--store", store_uri)
    c = ok_json("case", "create", "--name", TEXTS["name"], "--purpose", TEXTS["purpose"], "--legal-basis",
                TEXTS["legal_basis"], "--marking", TEXTS["marking"], "--entity", "Person:P0000001", "--store",
                store_uri, "--user", "ann")
    cid = c["id"]
    assert (cid, c["created_by"], c["entities"]) == ("C-0001", "ann", ["Person:P0000001"])
    ok("case", "add", cid, "--entity", "Person:P0000002", "--alert", "cash_structuring:x", "--store", store_uri,
       "--user", "ann")
    ok("case", "note", cid, "a note on the case", "--store", store_uri, "--user", "ann")
    ok("case", "remove", cid, "--alert", "cash_structuring:x", "--store", store_uri, "--user", "ann")
    shown = ok_json("case", "show", cid, "--store", store_uri, "--user", "bob")
    assert shown["entities"] == ["Person:P0000001", "Person:P0000002"] and shown["alerts"] == []
    assert [n["text"] for n in shown["notes"]] == ["a note on the case"]
    out = ok("case", "close", cid, "--store", store_uri, "--user", "sue")
    assert "closed by sue" in out
    assert "is closed; reopen it first" in refused("case", "add", cid, "--entity", "Person:P9", "--store", store_uri)
    assert "is closed" in refused("case", "note", cid, "late", "--store", store_uri)
    assert [c["id"] for c in ok_json("case", "list", "--status", "closed", "--store", store_uri)] == [cid]
    assert ok_json("case", "list", "--status", "open", "--store", store_uri) == []
    ok("case", "reopen", cid, "--store", store_uri, "--user", "sue")
    text = ok("case", "show", cid, "--store", store_uri)
    assert "Op Lake" in text and "TLP:AMBER" in text and "Person:P0000002" in text and "reopened" in text

    with open_book(store_uri) as book:
        log = book.entries("audit")
    assert [(e["action"], e["user"]) for e in log] == [
        ("case_create", "ann"), ("case_change", "ann"), ("case_change", "ann"), ("case_change", "ann"),
        ("case_view", "bob"), ("case_close", "sue"), ("case_reopen", "sue"), ("case_view", acting_user())]
    assert all(e["case"] == cid and e["purpose"] == TEXTS["purpose"] for e in log)
    assert log[1]["ids"] == [cid, "Person:P0000002", "cash_structuring:x"]
    assert log[2]["detail"] == {"note": True} and "a note on the case" not in json.dumps(log)


def _parse(fmt: str, path) -> None:
    data = path.read_bytes()
    if fmt in ("anx", "graphml", "gexf", "svg"):
        ET.fromstring(data)                                   # well-formed XML
    elif fmt == "cyjs":
        assert json.loads(data)["elements"]["nodes"]
    elif fmt == "png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
    else:
        assert b"<html" in data[:2000].lower()


@pytest.fixture
def detected_case(store_uri, world) -> tuple[str, dict]:
    """A store with the world and its cash-structuring alerts, and a case holding one alert and a person."""
    ok("load", str(world), "--store", store_uri)
    ok("detect", "cash_structuring", "--store", store_uri)
    alerts = ok_json("alerts", "--store", store_uri, "--limit", "1")["alerts"]
    person = alerts[0]["evidence"]["persons"][0]
    ok("case", "create", "--name", TEXTS["name"], "--purpose", TEXTS["purpose"], "--legal-basis",
       TEXTS["legal_basis"], "--marking", TEXTS["marking"], "--alert", alerts[0]["id"], "--entity", f"Person:{person}",
       "--store", store_uri)
    return store_uri, {"alert": alerts[0]["id"], "person": person}


def test_case_exported_to_every_chart_format(detected_case, tmp_path):
    uri, info = detected_case
    for fmt in FORMATS:
        out = tmp_path / f"case{FORMATS[fmt].suffix}"
        res = ok_json("case", "export", "C-0001", "--format", fmt, "--out", str(out), "--store", uri, "--user", "ann")
        assert res == {"out": str(out), "format": fmt, "case": "C-0001"}
        _parse(fmt, out)
        if fmt in ("anx", "graphml", "gexf", "cyjs", "html"):
            assert info["person"] in out.read_text(encoding="utf-8")
    assert "does not fit the name" in refused("case", "export", "C-0001", "--format", "html", "--out",
                                              str(tmp_path / "z.png"), "--store", uri)
    with open_book(uri) as book:
        exports = [e for e in book.entries("audit") if e["action"] == "export"]
    assert [e["detail"] for e in exports] == [{"format": f} for f in FORMATS]
    assert all(e["case"] == "C-0001" and e["purpose"] == TEXTS["purpose"] and e["user"] == "ann" for e in exports)
    assert exports[0]["ids"] == ["C-0001", f"Person:{info['person']}", info["alert"]]


def test_case_exported_as_a_package_a_fresh_store_imports(detected_case, tmp_path):
    uri, info = detected_case
    key = tmp_path / "team.key"
    ok("keygen", "--out", str(key))
    out = tmp_path / "op-lake.zip"
    assert "needs --recipient" in refused("case", "export", "C-0001", "--package", "--out", str(out), "--store", uri)
    assert "needs the team key" in refused("case", "export", "C-0001", "--package", "--recipient", "LV customs",
                                           "--out", str(out), "--store", uri)
    manifest = ok_json("case", "export", "C-0001", "--package", "--recipient", "LV customs", "--key-file", str(key),
                       "--producer", "KRA intelligence", "--out", str(out), "--store", uri, "--user", "sue")
    with zipfile.ZipFile(out) as z:
        written = json.loads(z.read("manifest.json"))
    assert written == {k: v for k, v in manifest.items() if k != "package"}
    assert {k: written[k] for k in ("purpose", "legal_basis", "marking", "case", "recipient", "producer")} == {
        "purpose": TEXTS["purpose"], "legal_basis": TEXTS["legal_basis"], "marking": TEXTS["marking"],
        "case": "C-0001", "recipient": "LV customs", "producer": "KRA intelligence"}
    assert written["redaction"]["policy"] == "pseudonymise"

    fresh = tmp_path / "partner.duckdb"
    imported = ok_json("import-package", str(out), "--store", str(fresh))
    assert imported["purpose"] == TEXTS["purpose"] and not imported["already_imported"]
    assert sum(imported["written"]["nodes"].values()) > 0

    with open_book(uri) as book:
        (entry,) = [e for e in book.entries("audit") if e["action"] == "package"]
    assert entry["detail"] == {"recipient": "LV customs", "redaction": "pseudonymise"}
    assert (entry["case"], entry["purpose"], entry["user"]) == ("C-0001", TEXTS["purpose"], "sue")

"""Issue 11, package import: a hostile or careless partner package never crashes, never
half-loads, never plants data. Every test builds a package with *correct* hashes (the manifest
is recomputed after each change), so the defect reaches the parsers, and checks the import is
refused with one PackageError naming the problem while the store stays exactly as it was.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import struct
import time
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import pytest
from _clikit import run_cli_streams

from graphiff.alerts import Alert, stored_alerts
from graphiff.errors import PackageError
from graphiff.explore.neighbourhood import neighbourhood
from graphiff.graph.subgraph import SubEdge, Subgraph, SubNode
from graphiff.graph.tables import Tables
from graphiff.ingest import load_paths
from graphiff.share import verify
from graphiff.share.importer import import_package
from graphiff.share.package import make_package
from graphiff.stores import Store, open_store

PRODUCER = "Partner Customs"
P = f"{PRODUCER}:"          # the prefix of every partner key


# ---------------------------------------------------------- building packages

def _sub() -> Subgraph:
    """The partner's case: its trader T100 (same id as our local T100, another name and TIN)
    exports declaration D1/1 to T200, in containers MSKU1 and MSKU2."""
    nodes = [
        SubNode("Trader:T100", "Trader", "T100", "Other Co",
                {"trader_id": "T100", "name": "Other Co", "country": "TR", "tin": "TR999", "employees": 12}),
        SubNode("Trader:T200", "Trader", "T200", "Buyer BV",
                {"trader_id": "T200", "name": "Buyer BV", "country": "NL"}),
        SubNode("Declaration:D1/1", "Declaration", "D1/1", "D1/1",
                {"decl_key": "D1/1", "declaration_id": "D1", "item_no": 1, "flow": "EXPORT", "date": "2024-03-01",
                 "reporting_country": "TR", "exporter_id": "T100", "importer_id": "T200", "hs_code": "620342",
                 "hs6": "620342", "invoice_value": 1000.0, "currency": "USD", "value_usd": 1000.0,
                 "usd_status": "given", "container_ids": "MSKU1;MSKU2", "invoice_no": "INV-1"}),
        SubNode("Country:TR", "Country", "TR", "TR", {"country": "TR"}),
        SubNode("Container:MSKU1", "Container", "MSKU1", "MSKU1", {"container_id": "MSKU1"}),
    ]
    edges = [
        SubEdge("e1", "Trader:T100", "Declaration:D1/1", "EXPORTED", {}),
        SubEdge("e2", "Declaration:D1/1", "Trader:T200", "IMPORTED_BY", {}),
        SubEdge("e3", "Trader:T100", "Country:TR", "IN_COUNTRY", {}),
        SubEdge("e4", "Declaration:D1/1", "Container:MSKU1", "IN_CONTAINER", {}),
    ]
    return Subgraph(nodes=nodes, edges=edges, seeds=["Trader:T100"], title="Partner case")


def _partner_alert() -> Alert:
    return Alert(pattern="circular_trade", score=0.9, entities=[{"label": "Trader", "id": "T100"}],
                 explanation="T100 trades in a circle", evidence={"declarations": ["D1/1"]})


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("pkg") / "good.zip"
    make_package(_sub(), out, purpose="Operation Test", marking="TLP:AMBER", producer=PRODUCER, redact="none",
                 alerts=[_partner_alert()])
    return out


def members(zpath: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(zpath) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def repack(src: Path, out: Path, *, change: dict[str, bytes | None] | None = None,
           manifest: Callable[[dict[str, Any]], None] | None = None,
           manifest_text: Callable[[str], str] | None = None) -> Path:
    """``src`` with members replaced (``None`` drops one) and the manifest's sizes and SHA-256
    recomputed (so every change passes the integrity check), then ``manifest`` applied."""
    files = {k: v for k, v in members(src).items() if k != "manifest.json"}
    for name, data in (change or {}).items():
        if data is None:
            files.pop(name, None)
        else:
            files[name] = data
    m = json.loads(members(src)["manifest.json"])
    m["files"] = {n: {"sha256": hashlib.sha256(d).hexdigest(), "size": len(d)} for n, d in files.items()}
    if manifest:
        manifest(m)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, d in files.items():
            zf.writestr(n, d)
        text = json.dumps(m)
        zf.writestr("manifest.json", manifest_text(text) if manifest_text else text)
    return out


def edit_csv(data: bytes, fn: Callable[[list[str], list[list[str]]], tuple[list[str], list[list[str]]]]) -> bytes:
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    header, body = fn(rows[0], rows[1:])
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *body])
    return buf.getvalue().encode("utf-8")


def set_cell(label: str, column: str, value: str):
    """A CSV edit setting ``column`` of the nodes.csv rows of ``label`` (adding the column)."""
    def fn(header, rows):
        if column not in header:
            header = [*header, column]
            rows = [[*r, ""] for r in rows]
        i, li = header.index(column), header.index("label")
        return header, [[*r[:i], value, *r[i + 1:]] if r[li] == label else r for r in rows]
    return fn


# ---------------------------------------------------------- the local store

LOCAL = {
    "traders": [{"trader_id": "T100", "name": "Acme Ltd", "country": "GB", "tin": "GB123"},
                {"trader_id": "T300", "name": "Local Three", "country": "GB", "tin": "GB300"}],
    "declarations": [{"declaration_id": "D9", "item_no": "1", "flow": "EXPORT", "reporting_country": "GB",
                      "date": "2024-02-01", "exporter_id": "T100", "importer_id": "T300", "hs_code": "620342",
                      "invoice_value": "500", "currency": "USD", "invoice_no": "INV-1"}],
}


def load_local(store: Store, tmp: Path) -> None:
    folder = tmp / "local"
    folder.mkdir(parents=True, exist_ok=True)
    for kind, rows in LOCAL.items():
        pd.DataFrame(rows).to_csv(folder / f"{kind}.csv", index=False)
    load_paths(store, [folder], quarantine_dir=tmp / "q")


@pytest.fixture
def local(tmp_path) -> Store:
    st = open_store(str(tmp_path / "local.duckdb"))
    load_local(st, tmp_path)
    yield st
    st.close()


def snapshot(store: Store) -> dict[str, Any]:
    """Everything ``status --json`` shows plus every node table's keys."""
    return {"status": store.status(),
            "keys": {label: sorted(store.nodes(label)["key"]) for label in store.counts()["nodes"]}}


def refused(store: Store, pkg: Path, *match: str) -> str:
    """Import ``pkg``: it must raise PackageError naming the package and every ``match``, and
    leave the store exactly as it was."""
    before = snapshot(store)
    with pytest.raises(PackageError) as err:
        import_package(store, pkg)
    msg = str(err.value)
    assert pkg.name in msg and "\n" not in msg
    for m in match:
        assert m in msg, (m, msg)
    assert snapshot(store) == before
    return msg


# ---------------------------------------------------------- package import writes part of a package, then fails

def test_good_package_imports(local, good):
    result = import_package(local, good)
    assert result["written"]["nodes"]["Trader"] == 2 and not result["already_imported"]
    assert import_package(local, good)["already_imported"]


def test_edges_csv_extra_rid_column_refused(local, good, tmp_path):
    data = edit_csv(members(good)["edges.csv"], lambda h, rows: ([*h, "rid"], [[*r, "x"] for r in rows]))
    refused(local, repack(good, tmp_path / "rid.zip", change={"edges.csv": data}), "edges.csv", "'rid'", "reserved")


def test_declaration_value_usd_not_a_number_refused(local, good, tmp_path):
    data = edit_csv(members(good)["nodes.csv"], set_cell("Declaration", "value_usd", "not-a-number"))
    msg = refused(local, repack(good, tmp_path / "nan.zip", change={"nodes.csv": data}), "nodes.csv", "line",
                  "'value_usd'", "not a number")
    assert "not-a-number" in msg


def test_declaration_value_usd_manifest_cannot_retype(local, good, tmp_path):
    """The manifest saying value_usd is text does not make text acceptable: types come from the model."""
    data = edit_csv(members(good)["nodes.csv"], set_cell("Declaration", "value_usd", "lots"))

    def retype(m):
        m["columns"]["nodes"]["Declaration"]["value_usd"] = "str"
    refused(local, repack(good, tmp_path / "retype.zip", change={"nodes.csv": data}, manifest=retype),
            "'value_usd'")


def test_header_case_collision_refused(local, good, tmp_path):
    data = edit_csv(members(good)["nodes.csv"], set_cell("Trader", "NAME", "Shadow"))
    refused(local, repack(good, tmp_path / "case.zip", change={"nodes.csv": data}), "nodes.csv", "'NAME'",
            "letter case")


def test_column_case_collision_with_store_refused(local, good, tmp_path):
    """``Tin`` alone in the package, ``tin`` in the store: refused before any write."""
    def rename(h, rows):
        return [("Tin" if c == "tin" else c) for c in h], rows
    data = edit_csv(members(good)["nodes.csv"], rename)
    refused(local, repack(good, tmp_path / "case2.zip", change={"nodes.csv": data}), "'Tin'", "letter case")


@pytest.mark.parametrize("column", ["_line2", "source", "source_key", "", "KEY"])
def test_reserved_or_empty_columns_refused(local, good, tmp_path, column):
    data = edit_csv(members(good)["nodes.csv"], set_cell("Trader", column, "x"))
    refused(local, repack(good, tmp_path / "reserved.zip", change={"nodes.csv": data}), "nodes.csv")


def test_redaction_not_a_mapping_refused(local, good, tmp_path):
    def m(man):
        man["redaction"] = "str"
    refused(local, repack(good, tmp_path / "red.zip", manifest=m), "redaction", "mapping")


@pytest.mark.parametrize("policy", ["secret", None, ["none"]])
def test_redaction_policy_enumerated(local, good, tmp_path, policy):
    def m(man):
        man["redaction"]["policy"] = policy
    refused(local, repack(good, tmp_path / "policy.zip", manifest=m), "redaction policy")


def test_deeply_nested_alerts_json_refused(local, good, tmp_path):
    deep = b"[" * 100_000 + b"]" * 100_000
    refused(local, repack(good, tmp_path / "deep.zip", change={"alerts.json": deep}), "alerts.json", "nests deeper")
    evidence = json.loads("[" * (verify.MAX_JSON_DEPTH + 1) + "]" * (verify.MAX_JSON_DEPTH + 1))
    deep = json.dumps([{"pattern": "p", "score": 0.5, "entities": [], "evidence": evidence}]).encode()
    refused(local, repack(good, tmp_path / "deep2.zip", change={"alerts.json": deep}), "alerts.json", "nests deeper")


@pytest.mark.parametrize("alerts", [b'{"not": "a list"}', b'[{"pattern": "p", "score": "high", "entities": []}]',
                                    b'[{"pattern": "p", "score": 0.5, "entities": [{"label": "Nope", "id": "x"}]}]',
                                    b'[{"score": 0.5}]', b"[NaN]"])
def test_malformed_alerts_json_refused(local, good, tmp_path, alerts):
    refused(local, repack(good, tmp_path / "alerts.zip", change={"alerts.json": alerts}), "alerts.json")


def test_deeply_nested_manifest_refused(local, good, tmp_path):
    def m(text):
        return text.replace('"omitted": {}', '"omitted": ' + "[" * 100_000 + "]" * 100_000)
    refused(local, repack(good, tmp_path / "deepm.zip", manifest_text=m), "manifest.json", "nests deeper")


@pytest.mark.parametrize("version", ["abc", 0, 2, True, 1.5, None])
def test_format_version_checked(local, good, tmp_path, version):
    def m(man):
        man["format_version"] = version
    refused(local, repack(good, tmp_path / "ver.zip", manifest=m), "format")


@pytest.mark.parametrize("field,value", [("columns", "not a mapping"), ("columns", {"nodes": []}),
                                         ("columns", {"nodes": {"Trader": {"name": "blob"}}}),
                                         ("producer", 7), ("producer", ""), ("purpose", None),
                                         ("marking", "TLP\x1b[31m"), ("seeds", "T100"), ("omitted", {"Trader": -1}),
                                         ("counts", [1]), ("files", [])])
def test_manifest_schema(local, good, tmp_path, field, value):
    def m(man):
        man[field] = value
    refused(local, repack(good, tmp_path / "schema.zip", manifest=m), field)


def test_manifest_file_entries_checked(local, good, tmp_path):
    def m(man):
        man["files"]["nodes.csv"]["size"] = "12"
    refused(local, repack(good, tmp_path / "size.zip", manifest=m), "nodes.csv", "size")

    def m2(man):
        man["files"]["nodes.csv"]["sha256"] = "abc"
    refused(local, repack(good, tmp_path / "sha.zip", manifest=m2), "nodes.csv", "sha256")


def test_edges_row_shorter_than_header_refused(local, good, tmp_path):
    data = edit_csv(members(good)["edges.csv"], lambda h, rows: (h, [rows[0][:3], *rows[1:]]))
    refused(local, repack(good, tmp_path / "short.zip", change={"edges.csv": data}), "edges.csv", "line 2",
            "3 fields")
    data = edit_csv(members(good)["nodes.csv"], lambda h, rows: (h, [[*rows[0], "extra"], *rows[1:]]))
    refused(local, repack(good, tmp_path / "long.zip", change={"nodes.csv": data}), "nodes.csv", "line 2")


@pytest.mark.parametrize("edit,match", [
    (lambda h, rows: (h, [[("Starship" if c == "Trader" else c) for c in r] for r in rows]), "unknown label"),
    (lambda h, rows: (h, [[("" if i == h.index("key") else c) for i, c in enumerate(r)] for r in rows]), "empty key"),
])
def test_nodes_rows_checked(local, good, tmp_path, edit, match):
    data = edit_csv(members(good)["nodes.csv"], edit)
    refused(local, repack(good, tmp_path / "rows.zip", change={"nodes.csv": data}), "nodes.csv", match)


def test_edges_end_labels_checked(local, good, tmp_path):
    def edit(h, rows):
        i = h.index("dst_label")
        return h, [[*r[:i], "Person", *r[i + 1:]] if r[h.index("type")] == "IMPORTED_BY" else r for r in rows]
    data = edit_csv(members(good)["edges.csv"], edit)
    refused(local, repack(good, tmp_path / "ends.zip", change={"edges.csv": data}), "edges.csv", "IMPORTED_BY",
            "cannot join")


def test_bad_bytes_refused(local, good, tmp_path):
    refused(local, repack(good, tmp_path / "nul.zip", change={"nodes.csv": members(good)["nodes.csv"] + b"x\x00y\n"}),
            "nodes.csv", "NUL")
    refused(local, repack(good, tmp_path / "latin.zip", change={"nodes.csv": b"id,label,key\n\xff,Trader,T1\n"}),
            "nodes.csv", "UTF-8")


def _ftm_only(good: Path, out: Path, lines: bytes) -> Path:
    return repack(good, out, change={"nodes.csv": None, "edges.csv": None, "entities.ftm.json": lines})


def test_ftm_only_unknown_schema_refused(local, good, tmp_path):
    lines = members(good)["entities.ftm.json"] + b'{"schema": "Starship", "id": "x1", "properties": {}}\n'
    refused(local, _ftm_only(good, tmp_path / "ftm.zip", lines), "entities.ftm.json", "unknown FtM schema",
            "Starship")


def test_ftm_only_deeply_nested_refused(local, good, tmp_path):
    lines = members(good)["entities.ftm.json"] + b'{"schema": "Company", "id": "x", "context": ' + b"[" * 100_000
    lines += b"]" * 100_000 + b"}\n"
    refused(local, _ftm_only(good, tmp_path / "ftm.zip", lines), "entities.ftm.json", "nests deeper")


@pytest.mark.parametrize("entity", [
    b'{"schema": "Company", "id": "x", "properties": {"name": "not a list"}}',
    b'{"schema": "Company", "id": "", "properties": {}}',
    b'{"schema": "Company", "id": "x", "graphiff": {"label": "Alert", "key": "a1"}}',
    b'{"schema": "Company", "id": "x", "graphiff": {"label": "Spaceship"}}',
    b'{"schema": "Thing", "id": "x"}',
    b'[1, 2]',
    b'{"schema": "EconomicActivity", "id": "x", "properties": {"customsAmount": ["12 USD"]}, '
    b'"graphiff": {"label": "Declaration", "key": "D2/1"}}',
])
def test_ftm_only_bad_entities_refused(local, good, tmp_path, entity):
    lines = members(good)["entities.ftm.json"] + entity + b"\n"
    if b"customsAmount" in entity:     # a good one: imported
        import_package(local, _ftm_only(good, tmp_path / "ok.zip", lines))
        return
    refused(local, _ftm_only(good, tmp_path / "ftm.zip", lines), "entities.ftm.json")


def test_ftm_only_non_numeric_amount_refused(local, good, tmp_path):
    entity = (b'{"schema": "Payment", "id": "pay1", "properties": {"amount": ["lots"]}, '
              b'"graphiff": {"label": "Payment", "key": "PAY1"}}')
    lines = members(good)["entities.ftm.json"] + entity + b"\n"
    refused(local, _ftm_only(good, tmp_path / "ftm.zip", lines), "entities.ftm.json", "'amount'", "not a number")


def test_failure_during_writes_leaves_store_unchanged(local, good, monkeypatch):
    """All-or-nothing: a failure after some nodes were written rolls the whole import back."""
    before = snapshot(local)

    def boom(*a, **k):
        raise RuntimeError("disk full")
    monkeypatch.setattr(local, "upsert_rels", boom)
    with pytest.raises(RuntimeError):
        import_package(local, good)
    monkeypatch.undo()
    assert snapshot(local) == before
    import_package(local, good)     # a re-run completes
    assert len(local.loads()) == len(before["status"]["loads"]) + 1


# ---------------------------------------------------------- a partner package can plant alerts

def _planted(good: Path, out: Path, *, node: bool = True, edge: bool = True) -> Path:
    files = members(good)
    change = {}
    if node:
        def add_alert(h, rows):
            row = dict.fromkeys(h, "")
            row.update({"id": "Alert:planted", "label": "Alert", "key": "planted", "caption": "x"})
            extra = {"pattern": "circular_trade", "score": "0.99", "explanation": "planted"}
            h2 = [*h, *[c for c in extra if c not in h]]
            row.update(extra)
            return h2, [[*r, *[""] * (len(h2) - len(h))] for r in rows] + [[row.get(c, "") for c in h2]]
        change["nodes.csv"] = edit_csv(files["nodes.csv"], add_alert)
    if edge:
        def add_flags(h, rows):
            row = dict.fromkeys(h, "")
            row.update({"id": "f1", "type": "FLAGS", "src_label": "Alert", "src": "planted", "dst_label": "Trader",
                        "dst": "T100"})
            return h, [*rows, [row[c] for c in h]]
        change["edges.csv"] = edit_csv(files["edges.csv"], add_flags)
    return repack(good, out, change=change)


@pytest.mark.parametrize("node,edge", [(True, True), (True, False), (False, True)])
def test_planted_alert_refused(local, good, tmp_path, node, edge):
    refused(local, _planted(good, tmp_path / "planted.zip", node=node, edge=edge),
            "Alert rows are refused" if node else "FLAGS relationships are refused")
    assert stored_alerts(local) == []


def test_planted_alert_refused_through_ftm(local, good, tmp_path):
    entity = b'{"schema": "Company", "id": "a", "graphiff": {"label": "Alert", "key": "planted"}}'
    refused(local, _ftm_only(good, tmp_path / "ftm.zip", members(good)["entities.ftm.json"] + entity + b"\n"),
            "Alert")


def test_partner_alerts_counted_never_written(store, good, tmp_path):
    """On both stores: the partner's alerts.json is counted, shown and recorded with the load,
    never written as Alert nodes, so `risk` (which ranks stored alerts) never sees it."""
    load_local(store, tmp_path)
    result = import_package(store, good)
    assert result["alerts"] == 1
    assert result["partner_alerts"] == {"count": 1, "patterns": {"circular_trade": 1}}
    assert "Alert" not in store.counts()["nodes"] and "FLAGS" not in store.counts()["relationships"]
    assert stored_alerts(store) == []
    rec = next(d for d in store.status()["loads"] if d["load_id"] == result["load_id"])
    assert rec["partner_alerts"]["patterns"] == {"circular_trade": 1}


def test_planted_alert_refused_both_stores(store, good, tmp_path):
    load_local(store, tmp_path)
    refused(store, _planted(good, tmp_path / "planted.zip"), "Alert rows are refused")


def test_explore_tolerates_non_numeric_alert_score(local):
    """`explore` on a trader flagged by an Alert node whose score is text no longer crashes."""
    prov = {"_source": "x", "_line": 1, "_load_id": "L", "_loaded_at": "2024-01-01T00:00:00Z"}
    local.upsert_nodes("Alert", pd.DataFrame([{"key": "a1", "alert_id": "a1", "pattern": "p", "score": "high",
                                               "explanation": "e", "evidence": "{}", **prov}]))
    local.upsert_rels("FLAGS", pd.DataFrame([{"src_label": "Alert", "src": "a1", "dst_label": "Trader",
                                              "dst": "T100", **prov}]))
    result = neighbourhood(Tables(local), "Trader:T100")
    assert [a["score"] for a in result["alerts"]] == [None]


# ---------------------------------------------------------- a partner package can silently merge into a local entity

def test_partner_record_kept_apart_from_local(store, good, tmp_path):
    """On both stores: partner T100 ('Other Co', TR999) beside local T100 ('Acme Ltd', GB123),
    never merged; the summary names the collision; the partner's declaration, its ids and its
    relationships stay with the partner's record."""
    load_local(store, tmp_path)
    result = import_package(store, good)
    traders = store.nodes("Trader").set_index("key")
    assert traders.loc["T100", "name"] == "Acme Ltd" and traders.loc["T100", "tin"] == "GB123"
    assert pd.isna(traders.loc["T100"].get("source"))
    assert traders.loc[P + "T100", "name"] == "Other Co" and traders.loc[P + "T100", "tin"] == "TR999"
    assert traders.loc[P + "T100", "source"] == "partner:" + PRODUCER
    assert traders.loc[P + "T100", "source_key"] == "T100"
    assert result["collisions"] == {"count": 1, "listed": [{"label": "Trader", "id": "T100", "local": "Acme Ltd",
                                                            "partner": "Other Co"}]}
    decl = store.nodes("Declaration").set_index("key")
    assert decl.loc[P + "D1/1", "exporter_id"] == P + "T100"          # ids the detectors join on are the partner's
    assert decl.loc[P + "D1/1", "declaration_id"] == P + "D1"
    assert decl.loc[P + "D1/1", "invoice_no"] == P + "INV-1"
    assert decl.loc[P + "D1/1", "container_ids"] == f"{P}MSKU1;{P}MSKU2"
    assert decl.loc["D9/1", "exporter_id"] == "T100"
    exported = store.rels("EXPORTED")
    assert set(exported.loc[exported["dst"] == P + "D1/1", "src"]) == {P + "T100"}
    assert set(exported.loc[exported["src"] == "T100", "dst"]) == {"D9/1"}
    assert set(exported["source"].dropna()) == {"partner:" + PRODUCER}
    # countries are shared reference data: linked, never duplicated or changed
    assert set(store.rels("IN_COUNTRY").query("src == @P + 'T100'")["dst"]) == {"TR"}
    # explore on the local trader shows only local records
    nb = json.dumps(neighbourhood(Tables(store), "Trader:T100", hops=1), default=str)
    assert PRODUCER not in nb and "D9/1" in nb
    # importing again changes nothing
    before = snapshot(store)
    assert import_package(store, good)["already_imported"]
    assert snapshot(store) == before


def test_partner_key_held_by_another_source_refused(local, good, tmp_path):
    """A local record that happens to hold the partner's qualified key: refused, never merged."""
    local.upsert_nodes("Trader", pd.DataFrame([{"key": P + "T200", "trader_id": P + "T200", "name": "Mine",
                                                "_source": "x", "_line": 1, "_load_id": "L",
                                                "_loaded_at": "2024-01-01T00:00:00Z"}]))
    refused(local, good, "already held by a record of another source")


def test_collisions_listed_with_cap(local, good, tmp_path):
    """Many collisions: the first ones named, all counted."""
    rows = [{"trader_id": f"T{i}", "name": f"Local {i}", "country": "GB"} for i in range(1000, 1030)]
    folder = tmp_path / "more"
    folder.mkdir()
    pd.DataFrame(rows).to_csv(folder / "traders.csv", index=False)
    load_paths(local, [folder], quarantine_dir=tmp_path / "q2")

    def add(h, body):
        li, ki = h.index("label"), h.index("key")
        extra = []
        for i in range(1000, 1030):
            r = [""] * len(h)
            r[li], r[ki] = "Trader", f"T{i}"
            extra.append(r)
        return h, [*body, *extra]
    data = edit_csv(members(good)["nodes.csv"], add)
    result = import_package(local, repack(good, tmp_path / "many.zip", change={"nodes.csv": data}))
    assert result["collisions"]["count"] == 31 and len(result["collisions"]["listed"]) == 20


# ---------------------------------------------------------- zip bomb and limits

@pytest.fixture(scope="module")
def bomb(good, tmp_path_factory) -> Path:
    """The issue's bomb: nodes.csv of 512 MiB of zeros (about 0.5 to 2 MB compressed), the
    manifest declaring its true size and SHA-256 (computed streaming)."""
    out = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    size, chunk = 512 << 20, bytes(1 << 20)
    h = hashlib.sha256()
    files = members(good)
    m = json.loads(files["manifest.json"])
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("nodes.csv", "w", force_zip64=True) as fh:
            for _ in range(size // len(chunk)):
                fh.write(chunk)
                h.update(chunk)
        for n in ("edges.csv", "alerts.json", "entities.ftm.json"):
            zf.writestr(n, files[n])
        m["files"]["nodes.csv"] = {"sha256": h.hexdigest(), "size": size}
        zf.writestr("manifest.json", json.dumps(m))
    return out


def test_zip_bomb_refused_fast_without_inflating(local, bomb):
    assert bomb.stat().st_size < 4 << 20
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        msg = refused(local, bomb, "nodes.csv")
        took = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "expands" in msg
    assert took < 5 and peak < 64 << 20, (took, peak)


def _patch_declared_size(zpath: Path, name: str, size: int) -> None:
    """Overwrite the uncompressed size the zip's local header and central directory declare."""
    data = bytearray(zpath.read_bytes())
    with zipfile.ZipFile(zpath) as zf:
        info = zf.getinfo(name)
    struct.pack_into("<I", data, info.header_offset + 22, size)
    cd = 0
    while True:
        cd = data.index(b"PK\x01\x02", cd)
        n = struct.unpack_from("<H", data, cd + 28)[0]
        if data[cd + 46: cd + 46 + n] == name.encode():
            struct.pack_into("<I", data, cd + 24, size)
            break
        cd += 4
    zpath.write_bytes(bytes(data))


def test_lying_zip_directory_never_inflated_past_declared_size(local, good, tmp_path):
    """A member declaring 100 bytes but inflating to 64 MiB: reading stops at 100 bytes and the
    member is refused as damaged (its CRC does not match)."""
    big = bytes(64 << 20)
    small = big[:100]
    files = members(good)
    m = json.loads(files["manifest.json"])
    m["files"]["nodes.csv"] = {"sha256": hashlib.sha256(small).hexdigest(), "size": 100}
    out = tmp_path / "liar.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("nodes.csv", big)
        for n in ("edges.csv", "alerts.json", "entities.ftm.json"):
            zf.writestr(n, files[n])
        zf.writestr("manifest.json", json.dumps(m))
    del big
    _patch_declared_size(out, "nodes.csv", 100)
    tracemalloc.start()
    try:
        refused(local, out, "nodes.csv")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, peak


def test_manifest_size_differs_from_zip_directory_refused(local, good, tmp_path):
    def m(man):
        man["files"]["nodes.csv"]["size"] += 1
    refused(local, repack(good, tmp_path / "size.zip", manifest=m), "nodes.csv", "manifest says")


def test_too_many_members_refused(local, good, tmp_path):
    out = tmp_path / "many.zip"
    with zipfile.ZipFile(out, "w") as zf:
        for n, d in members(good).items():
            zf.writestr(n, d)
        for i in range(verify.MAX_MEMBERS):
            zf.writestr(f"x{i}.txt", b"x")
    refused(local, out, "at most")


def test_member_and_total_limits(local, good, tmp_path, monkeypatch):
    monkeypatch.setattr(verify, "MAX_MEMBER_BYTES", 100)
    refused(local, good, "the limit is 100")
    monkeypatch.setattr(verify, "MAX_MEMBER_BYTES", 1 << 20)
    monkeypatch.setattr(verify, "MAX_TOTAL_BYTES", 1000)
    refused(local, good, "more than 1,000 bytes")


def test_compression_ratio_limit(local, good, tmp_path):
    """A member over 1 MiB compressing more than 100 times is refused from the directory."""
    text = members(good)["alerts.json"][:-1] + b" " * (2 << 20) + b"]"
    refused(local, repack(good, tmp_path / "ratio.zip", change={"alerts.json": text}), "alerts.json", "times")


# ---------------------------------------------------------- the command line

def test_cli_refusal_is_one_line_exit_2_store_unchanged(tmp_path, good):
    db = str(tmp_path / "cli.duckdb")
    with open_store(db) as st:
        load_local(st, tmp_path)
    code, before, _ = run_cli_streams("status", "--store", db, "--json")
    assert code == 0
    data = edit_csv(members(good)["edges.csv"], lambda h, rows: ([*h, "rid"], [[*r, "x"] for r in rows]))
    bad = repack(good, tmp_path / "bad.zip", change={"edges.csv": data})
    code, out, err = run_cli_streams("import-package", str(bad), "--store", db)
    assert code == 2 and "Traceback" not in err + out and "rid" in err
    assert len(err.strip().splitlines()) == 1
    assert run_cli_streams("status", "--store", db, "--json")[1] == before
    planted = _planted(good, tmp_path / "planted.zip")
    code, out, err = run_cli_streams("import-package", str(planted), "--store", db)
    assert code == 2 and "Alert" in err and "Traceback" not in err + out
    assert run_cli_streams("status", "--store", db, "--json")[1] == before


def test_cli_prints_partner_strings_literally(tmp_path, good):
    """Manifest fields such as "[/]" or "[bold]" are printed as written, never as Rich markup;
    the summary names collisions and partner alerts."""
    def m(man):
        man["purpose"] = "[/] op [bold]x"
        man["producer"] = "[red]Partner[/red]"
        man["marking"] = "[/]"
    pkg = repack(good, tmp_path / "markup.zip", manifest=m)
    db = str(tmp_path / "cli.duckdb")
    with open_store(db) as st:
        load_local(st, tmp_path)
    code, out, err = run_cli_streams("import-package", str(pkg), "--store", db)
    assert code == 0, err
    text = " ".join(out.split())
    assert "[/] op [bold]x" in text and "[red]Partner[/red]" in text and "([/];" in text
    assert "kept apart: Trader 'T100' (local 'Acme Ltd', partner 'Other Co')" in text
    assert "1 partner alert(s) in alerts.json (circular_trade 1)" in text
    code, out, _ = run_cli_streams("import-package", str(pkg), "--store", db, "--json")
    assert code == 0 and json.loads(out)["already_imported"]

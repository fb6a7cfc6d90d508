"""Sharing packages: FtM validity, redaction, integrity checks, idempotent import, CLI."""
from __future__ import annotations

import csv
import importlib
import io
import json
import math
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from followthemoney import model as ftm_model

from graphiff.alerts import Alert, replace_alerts
from graphiff.errors import PackageError
from graphiff.graph.subgraph import SubEdge, Subgraph, SubNode
from graphiff.ingest import load_paths
from graphiff.model import model
from graphiff.model.identity import PROVENANCE, REL_ENDS, rel_id
from graphiff.share.ftm import ftm_id, to_ftm
from graphiff.share.ftm_read import from_ftm
from graphiff.share.importer import import_package
from graphiff.share.package import make_package
from graphiff.share.verify import read_package
from graphiff.stores import open_store

KEY = b"team-key-for-tests-0123456789abcdef"
OTHER_KEY = b"another-team-key-9876543210zyxwvu"

TABLES: dict[str, list[dict]] = {
    "rates": [{"currency": "EUR", "month": "2024-03", "usd_per_unit": "1.09"}],
    "traders": [
        {"trader_id": "T100", "name": "Acme Trading Ltd", "country": "GB", "tin": "GB123456789",
         "registration_date": "2012-06-01", "address": "5 Dock Street", "city": "Felixstowe",
         "phone": "+44 1394 600100", "email": "sales@acme-trading.example", "employees": "25"},
        {"trader_id": "T200", "name": "Bosphorus Export AS", "country": "TR", "tin": "TR9988776655",
         "registration_date": "2016-02-11", "address": "Liman Cad. 7", "city": "Mersin",
         "phone": "+90 324 555 0101", "email": "info@bosphorus.example", "employees": "80"},
        {"trader_id": "T300", "name": '=HYPERLINK("http://evil.example","x")', "country": "NL",
         "registration_date": "2020-09-09", "address": "", "city": "", "phone": "", "email": "", "employees": ""},
    ],
    "persons": [
        {"person_id": "PER-7781", "name": "Ivanka Petrovska", "birth_date": "1971-03-14", "nationality": "MK",
         "passport_no": "MK4471902", "phone": "+389 70 555 123", "email": "Ivanka.Petrovska@mail.example",
         "address": "12 Ilindenska Blvd"},
        {"person_id": "PER-9902", "name": "Marco Bellini", "birth_date": "1980-11-02", "nationality": "IT",
         "passport_no": "YA1234567", "phone": "+39 333 765 4321", "email": "m.bellini@posta.example",
         "address": "Via Roma 44"},
    ],
    "officers": [
        {"officer_id": "PER-7781", "company_id": "T100", "role": "DIRECTOR", "share_pct": "",
         "start_date": "2018-01-01"},
        {"officer_id": "PER-9902", "company_id": "T200", "role": "UBO", "share_pct": "75", "start_date": "2016-02-11"},
        {"officer_id": "T100", "company_id": "T200", "role": "SHAREHOLDER", "share_pct": "25",
         "start_date": "2019-05-05"},
    ],
    "carriers": [{"carrier_id": "C10", "name": "Blue Sea Lines", "country": "MT", "carrier_type": "SEA"}],
    "accounts": [
        {"account_id": "GB33BUKB20201555555555", "holder_id": "T100", "bank_country": "GB"},
        {"account_id": "TR330006100519786457841326", "holder_id": "T200", "bank_country": "TR"},
        {"account_id": "MK07 2501 2000 0058 984", "holder_id": "PER-7781", "bank_country": "MK"},
    ],
    "declarations": [
        {"declaration_id": "DEC-1", "item_no": "1", "flow": "IMPORT", "reporting_country": "GB", "date": "2024-03-01",
         "exporter_id": "T200", "importer_id": "T100", "hs_code": "620342", "invoice_value": "52000",
         "currency": "EUR", "net_mass_kg": "800", "carrier_id": "C10", "conveyance_id": "IMO9321483",
         "container_ids": "MSKU1234565", "invoice_no": "INV-77", "goods_description": "cotton trousers"},
        {"declaration_id": "DEC-2", "item_no": "1", "flow": "EXPORT", "reporting_country": "GB", "date": "2024-03-03",
         "exporter_id": "T100", "importer_id": "T300", "hs_code": "620343", "invoice_value": "-",
         "currency": "EUR", "net_mass_kg": "100", "carrier_id": "", "conveyance_id": "", "container_ids": "",
         "invoice_no": "INV-78", "goods_description": "synthetic trousers"},
    ],
    "payments": [
        {"payment_id": "PAY-1", "date": "2024-03-05", "from_account": "GB33BUKB20201555555555",
         "to_account": "TR330006100519786457841326", "amount": "50000", "currency": "EUR", "invoice_no": "INV-77",
         "reference": "INV-77 settlement"},
        {"payment_id": "PAY-2", "date": "2024-03-10", "from_account": "GB33BUKB20201555555555",
         "to_account": "MK07250120000058984", "amount": "9000", "currency": "EUR", "invoice_no": "",
         "reference": "consulting Ivanka Petrovska"},
    ],
    "cash_reports": [
        {"report_id": "CR-1", "report_type": "BORDER", "date": "2024-03-12", "amount": "15000", "currency": "EUR",
         "person_id": "PER-7781", "person_name": "Ivanka Petrovska", "trader_id": "T100", "direction": "OUT",
         "account_id": "MK07250120000058984", "origin_country": "GB", "destination_country": "MK"},
    ],
}

#: every personal identifier of the world above, as written in the input files and as normalised
PERSONAL = [
    "PER-7781", "PER-9902", "Ivanka Petrovska", "Ivanka", "Petrovska", "Marco Bellini", "Bellini",
    "1971-03-14", "1980-11-02", "MK4471902", "YA1234567",
    "+389 70 555 123", "+38970555123", "38970555123", "+39 333 765 4321", "+393337654321", "393337654321",
    "Ivanka.Petrovska@mail.example", "m.bellini@posta.example", "mail.example", "posta.example",
    "12 Ilindenska Blvd", "Ilindenska", "Via Roma 44", "MK07 2501 2000 0058 984", "MK07250120000058984",
]


def _write_world(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for kind, rows in TABLES.items():
        pd.DataFrame(rows).to_csv(folder / f"{kind}.csv", index=False)
    return folder


def _alert() -> Alert:
    return Alert(pattern="third_party_payment", score=0.8,
                 entities=[{"label": "Person", "id": "PER-7781"}, {"label": "Trader", "id": "T100"},
                           {"label": "BankAccount", "id": "MK07250120000058984"}],
                 explanation="Ivanka Petrovska (PER-7781) received 9000 EUR from Acme Trading Ltd on "
                             "MK07250120000058984; phone +389 70 555 123",
                 evidence={"payments": ["PAY-2"], "account": "MK07250120000058984", "person": "PER-7781"})


def _plain(v):
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if type(v).__name__ in ("NAType", "NaTType"):
        return None
    item = getattr(v, "item", None)
    return item() if callable(item) else v


def subgraph_of(store, *, only: set[str] | None = None) -> Subgraph:
    """A Subgraph of the whole store (or of the node ids in ``only``), as select() would give."""
    nodes, ids = [], set()
    for label, nt in model().nodes.items():
        df = store.nodes(label)
        for row in df.to_dict("records"):
            nid = f"{label}:{row['key']}"
            if only is not None and nid not in only:
                continue
            props = {k: _plain(v) for k, v in row.items() if k != "key" and _plain(v) is not None}
            nodes.append(SubNode(nid, label, str(row["key"]), str(props.get(nt.caption) or row["key"]), props))
            ids.add(nid)
    edges = []
    for t, rt in model().relationships.items():
        df = store.rels(t)
        for row in df.to_dict("records"):
            s, d = f"{row['src_label']}:{row['src']}", f"{row['dst_label']}:{row['dst']}"
            if s not in ids or d not in ids:
                continue
            props = {k: _plain(v) for k, v in row.items() if k not in REL_ENDS and _plain(v) is not None}
            ident = "|".join(str(props.get(c)) for c in rt.identity)
            edges.append(SubEdge(rel_id(t, row["src_label"], row["src"], row["dst_label"], row["dst"], ident),
                                 s, d, t, props))
    return Subgraph(nodes=nodes, edges=edges, seeds=["Person:PER-7781"], title="Case of Ivanka Petrovska")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A loaded embedded store (with one alert written back) and its whole-store subgraph
    (read-only for the tests: they import into stores of their own)."""
    tmp = tmp_path_factory.mktemp("world")
    folder = _write_world(tmp / "in")
    store = open_store(str(tmp / "source.duckdb"))
    load_paths(store, [folder], quarantine_dir=tmp / "q")
    replace_alerts(store, [_alert()], run_id="R1", loaded_at="2024-06-01T00:00:00Z")
    yield store, subgraph_of(store)
    store.close()


def _files(zpath: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(zpath) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _make(sub, out, **kw):
    kw.setdefault("purpose", "Operation Cotton Thread")
    kw.setdefault("marking", "TLP:AMBER")
    kw.setdefault("producer", "HMRC Team A")
    return make_package(sub, out, **kw)


# --------------------------------------------------------------------------------- FtM

def _assert_valid_ftm(entities: list[dict]) -> None:
    ids = set()
    for d in entities:
        schema = ftm_model.get(d["schema"])
        assert schema is not None and not schema.abstract, d["schema"]
        proxy = ftm_model.get_proxy(d, cleaned=False)          # re-validates every value
        assert proxy.schema.name == d["schema"]
        for prop, values in d["properties"].items():
            assert prop in schema.properties, (d["schema"], prop)
            assert sorted(proxy.get(prop)) == sorted(values), (d["schema"], prop, values, proxy.get(prop))
        for req in schema.required:
            assert d["properties"].get(req), (d["schema"], d["id"], "missing", req)
        schema.validate(d)
        assert d["id"].startswith("gf-") and d["id"] not in ids
        ids.add(d["id"])


def test_ftm_entities_valid_and_schema_choices(world):
    store, sub = world
    entities = to_ftm(sub, publisher="HMRC Team A")
    _assert_valid_ftm(entities)
    by_id = {e["id"]: e for e in entities}
    schemas = {e["schema"] for e in entities}
    assert {"Company", "Person", "BankAccount", "Payment", "EconomicActivity", "Event", "Address", "Vehicle",
            "Ownership", "Directorship", "Contract", "UnknownLink"} <= schemas
    # deterministic ids from label + key
    assert by_id[ftm_id("Trader", "T100")]["schema"] == "Company"
    assert by_id[ftm_id("Trader", "T100")]["properties"]["taxNumber"] == ["GB123456789"]
    person = by_id[ftm_id("Person", "PER-7781")]
    assert person["properties"]["passportNumber"] == ["MK4471902"]
    assert person["properties"]["birthDate"] == ["1971-03-14"]
    # the payment runs between the account holders, and names the accounts
    pay2 = by_id[ftm_id("Payment", "PAY-2")]["properties"]
    assert pay2["payer"] == [ftm_id("Trader", "T100")]
    assert pay2["beneficiary"] == [ftm_id("Person", "PER-7781")]
    assert pay2["payerAccount"] == [ftm_id("BankAccount", "GB33BUKB20201555555555")]
    assert pay2["beneficiaryAccount"] == [ftm_id("BankAccount", "MK07250120000058984")]
    assert by_id[ftm_id("BankAccount", "MK07250120000058984")]["properties"]["iban"] == ["MK07250120000058984"]
    # customs declaration = EconomicActivity linked to exporter/importer, transport, and the paying contract
    dec = by_id[ftm_id("Declaration", "DEC-1/1")]["properties"]
    assert dec["sender"] == [ftm_id("Trader", "T200")] and dec["receiver"] == [ftm_id("Trader", "T100")]
    assert set(dec["transport"]) == {ftm_id("Conveyance", "IMO9321483"), ftm_id("Container", "MSKU1234565")}
    assert dec["contract"] == by_id[ftm_id("Payment", "PAY-1")]["properties"]["contract"]
    # officers by role
    roles = {(e["schema"], e["properties"]["role"][0]) for e in entities
             if e["schema"] in ("Ownership", "Directorship")}
    assert {("Directorship", "DIRECTOR"), ("Ownership", "UBO"), ("Ownership", "SHAREHOLDER"),
            ("Ownership", "account holder")} <= roles
    # cash report as an Event involving the filer and the trader
    cr = next(e for e in entities if e["schema"] == "Event")["properties"]
    assert set(cr["involved"]) == {ftm_id("Person", "PER-7781"), ftm_id("Trader", "T100")}
    assert all(e["properties"].get("publisher") == ["HMRC Team A"] for e in entities
               if "publisher" in ftm_model.get(e["schema"]).properties)


def test_ftm_reverse_mapping(world):
    store, sub = world
    back = from_ftm(to_ftm(sub))
    graph_labels = set(model().nodes) - {"Rate", "Alert"}
    want = {n.id for n in sub.nodes if n.label in graph_labels}
    assert {n.id for n in back.nodes} == want
    lossless = {"EXPORTED", "IMPORTED_BY", "ON_CONVEYANCE", "IN_CONTAINER", "OFFICER_OF", "HOLDS", "SENT",
                "RECEIVED_BY", "SETTLES", "FILED_BY", "FOR", "INVOLVES", "LOCATED_AT", "HAS_EMAIL", "IN_COUNTRY",
                "CARRIED_BY", "HAS_PHONE"}
    orig = {(e.type, e.source, e.target) for e in sub.edges if e.type in lossless}
    got = {(e.type, e.source, e.target) for e in back.edges}
    assert orig == got
    t100 = next(n for n in back.nodes if n.id == "Trader:T100")
    assert t100.props["name"] == "Acme Trading Ltd" and t100.props["country"] == "GB"
    pay = next(n for n in back.nodes if n.id == "Payment:PAY-1")
    assert pay.props["amount"] == 50000.0 and pay.props["currency"] == "EUR"


# --------------------------------------------------------------------------------- package content

def test_package_layout_and_manifest(world, tmp_path):
    store, sub = world
    out = tmp_path / "pkg" / "case.zip"
    manifest = _make(sub, out, redact="none", alerts=[])
    files = _files(out)
    assert set(files) == {"entities.ftm.json", "nodes.csv", "edges.csv", "alerts.json", "manifest.json"}
    m = json.loads(files["manifest.json"])
    assert m == manifest
    for k in ("producer", "created", "purpose", "marking", "redaction", "counts", "graphiff_version"):
        assert m[k]
    assert m["redaction"]["policy"] == "none"
    import hashlib

    for name, meta in m["files"].items():
        assert meta == {"sha256": hashlib.sha256(files[name]).hexdigest(), "size": len(files[name])}
    assert set(m["files"]) == set(files) - {"manifest.json"}
    assert m["counts"]["nodes"]["Person"] == 2 and "Alert" not in m["counts"]["nodes"]
    # the Alert node of the subgraph travels in alerts.json, not as a node
    alerts = json.loads(files["alerts.json"])
    assert [a["pattern"] for a in alerts] == ["third_party_payment"]
    _assert_valid_ftm([json.loads(x) for x in files["entities.ftm.json"].decode().splitlines()])
    # CSV cells are formula-safe
    text = files["nodes.csv"].decode()
    assert "'=HYPERLINK" in text
    for row in csv.reader(io.StringIO(text)):
        for cell in row:      # only plain numbers (a phone such as +4413...) may start with + or -
            assert not cell.startswith(("=", "+", "-", "@")) or re.fullmatch(r"[+-]?[\d.]+", cell), cell


def _all_text(files: dict[str, bytes]) -> str:
    return "\n".join(b.decode("utf-8") for b in files.values())


def test_pseudonymised_package_has_no_personal_identifier(world, tmp_path):
    store, sub = world
    out = tmp_path / "psn.zip"
    manifest = _make(sub, out, redact="pseudonymise", key=KEY)
    files = _files(out)
    raw = b"\n".join(files.values())
    text = _all_text(files)
    for value in PERSONAL:
        for variant in {value, value.lower(), value.upper(), value.replace(" ", "")}:
            assert variant.encode() not in raw, variant
            assert variant.lower() not in text.lower(), variant
    assert manifest["redaction"]["policy"] == "pseudonymise" and manifest["redaction"]["key_id"]
    # company data stays
    assert "Acme Trading Ltd" in text and "GB123456789" in text and "GB33BUKB20201555555555" in text
    # links survive: the pseudonymised person still directs T100 and still holds its account
    edges = list(csv.DictReader(io.StringIO(files["edges.csv"].decode())))
    nodes = list(csv.DictReader(io.StringIO(files["nodes.csv"].decode())))
    persons = {r["key"] for r in nodes if r["label"] == "Person"}
    assert len(persons) == 2 and all(k.startswith("psn-") for k in persons)
    director = [e for e in edges if e["type"] == "OFFICER_OF" and e["dst"] == "T100"]
    assert len(director) == 1 and director[0]["src"] in persons
    holds = [e for e in edges if e["type"] == "HOLDS" and e["src"] == director[0]["src"]]
    assert len(holds) == 1 and holds[0]["dst"].startswith("psn-")
    received = [e for e in edges if e["type"] == "RECEIVED_BY" and e["dst"] == holds[0]["dst"]]
    assert [e["src"] for e in received] == ["PAY-2"]
    filed = [e for e in edges if e["type"] == "FILED_BY"]
    assert filed[0]["dst"] == director[0]["src"]
    pay2 = next(r for r in nodes if r["key"] == "PAY-2")
    assert pay2["to_account"] == holds[0]["dst"]          # the payment names the pseudonymous account
    ents = [json.loads(x) for x in files["entities.ftm.json"].decode().splitlines()]
    _assert_valid_ftm(ents)
    pid = ftm_id("Person", director[0]["src"])
    assert any(e["schema"] == "Directorship" and e["properties"]["director"] == [pid] for e in ents)
    # the alert names the pseudonym
    alert = json.loads(files["alerts.json"])[0]
    assert {"label": "Person", "id": director[0]["src"]} in alert["entities"]
    # same key, same pseudonyms (packages of one team link); another key, other pseudonyms
    out2 = tmp_path / "psn2.zip"
    _make(sub, out2, redact="pseudonymise", key=KEY)
    persons2 = {r["key"] for r in csv.DictReader(io.StringIO(_files(out2)["nodes.csv"].decode()))
                if r["label"] == "Person"}
    assert persons2 == persons
    out3 = tmp_path / "psn3.zip"
    _make(sub, out3, redact="pseudonymise", key=OTHER_KEY)
    persons3 = {r["key"] for r in csv.DictReader(io.StringIO(_files(out3)["nodes.csv"].decode()))
                if r["label"] == "Person"}
    assert not persons3 & persons


def test_unknown_holder_counts_as_personal(world, tmp_path):
    """An account whose holder is not in the subgraph is pseudonymised (it may be a person's)."""
    store, sub = world
    only = {"Payment:PAY-2", "BankAccount:MK07250120000058984", "BankAccount:GB33BUKB20201555555555"}
    part = subgraph_of(store, only=only)
    out = tmp_path / "part.zip"
    _make(part, out, redact="pseudonymise", key=KEY)
    text = _all_text(_files(out))
    assert "MK07250120000058984" not in text and "GB33BUKB20201555555555" not in text
    assert "PER-7781" not in text and "T100" not in text        # holder ids of unknown holders


def test_remove_policy(world, tmp_path):
    store, sub = world
    out = tmp_path / "rm.zip"
    m = _make(sub, out, redact="remove")
    files = _files(out)
    text = _all_text(files)
    for value in PERSONAL:
        assert value.lower() not in text.lower(), value
    nodes = list(csv.DictReader(io.StringIO(files["nodes.csv"].decode())))
    persons = [r for r in nodes if r["label"] == "Person"]
    assert len(persons) == 2
    for p in persons:
        assert p["key"].startswith("anon-") and p["name"] == p["key"]     # opaque id, nothing else personal
        assert all(p.get(c, "") == "" for c in ("birth_date", "passport_no", "phone", "email", "address"))
        assert p["nationality"] in ("MK", "IT")
    # the persons' phone/email/address nodes are gone; the companies' stay
    phones = {r["key"] for r in nodes if r["label"] == "Phone"}
    assert phones == {"+441394600100", "+903245550101"}
    assert not any(r["label"] == "Address" and "ILINDENSKA" in r["key"] for r in nodes)
    edges = list(csv.DictReader(io.StringIO(files["edges.csv"].decode())))
    pkeys = {p["key"] for p in persons}
    assert any(e["type"] == "OFFICER_OF" and e["src"] in pkeys and e["dst"] == "T100" for e in edges)
    assert not any(e["type"] in ("HAS_PHONE", "HAS_EMAIL", "LOCATED_AT") and e["src"] in pkeys for e in edges)
    assert m["redaction"]["policy"] == "remove" and m["redaction"]["key_id"] is None
    _assert_valid_ftm([json.loads(x) for x in files["entities.ftm.json"].decode().splitlines()])
    # "[removed]" stands where a name was in free text
    pay2 = next(r for r in nodes if r["key"] == "PAY-2")
    assert pay2["reference"] == "consulting [removed]"


def test_pseudonymise_needs_a_key(world, tmp_path):
    store, sub = world
    with pytest.raises(PackageError, match="key"):
        _make(sub, tmp_path / "x.zip", redact="pseudonymise")
    with pytest.raises(PackageError, match="too short"):
        _make(sub, tmp_path / "x.zip", redact="pseudonymise", key=b"short")
    with pytest.raises(PackageError, match="policy"):
        _make(sub, tmp_path / "x.zip", redact="blur", key=KEY)
    with pytest.raises(PackageError, match="marking"):
        _make(sub, tmp_path / "x.zip", redact="none", marking=" ")
    assert not (tmp_path / "x.zip").exists()


# --------------------------------------------------------------------------------- import

def _unqualified(df, partner):
    """An imported partner table as the partner held it: the source columns dropped and the
    partner's key prefix taken off keys and ids (docs/sharing.md: partner records are kept apart)."""
    if partner is None:
        return df
    df = df.drop(columns=[c for c in ("source", "source_key") if c in df.columns])
    return df.map(lambda v: v.replace(f"{partner}:", "") if isinstance(v, str) else v)


def _table(store, label, partner=None):
    df = _unqualified(store.nodes(label), partner)
    cols = sorted(c for c in df.columns if c not in PROVENANCE)
    return {r["key"]: {c: (_plain(r[c]), type(_plain(r[c])).__name__) for c in cols if _plain(r[c]) is not None}
            for r in df.to_dict("records")}


def test_round_trip_none_into_empty_store(world, tmp_path):
    store, sub = world
    out = tmp_path / "case.zip"
    m = _make(sub, out, redact="none")
    with open_store(str(tmp_path / "partner.duckdb")) as dst:
        result = import_package(dst, out)
        status = dst.status()
        want_nodes = {k: v for k, v in store.counts()["nodes"].items() if k != "Alert"}
        want_rels = {k: v for k, v in store.counts()["relationships"].items() if k != "FLAGS"}
        assert status["nodes"] == want_nodes == m["counts"]["nodes"]
        assert status["relationships"] == want_rels == m["counts"]["relationships"]
        for label in want_nodes:   # keys, values and types (partner keys and ids carry the producer's prefix)
            assert _table(dst, label, "HMRC Team A") == _table(store, label), label
        for t in want_rels:
            a = _unqualified(dst.rels(t), "HMRC Team A").drop(columns=list(PROVENANCE)).sort_values(
                list(REL_ENDS)).reset_index(drop=True)
            b = store.rels(t).drop(columns=list(PROVENANCE)).sort_values(list(REL_ENDS)).reset_index(drop=True)
            assert sorted(a.columns) == sorted(b.columns), t
            assert a[sorted(a.columns)].map(_plain).equals(b[sorted(a.columns)].map(_plain)), t
        # provenance names the partner
        src = f"package:HMRC Team A:{out.name}"
        for label in want_nodes:
            prov = dst.nodes(label)
            assert set(prov["_source"]) == {src}, label
            assert set(prov["_load_id"]) == {result["load_id"]}
        assert set(dst.rels("OFFICER_OF")["_source"]) == {src}
        assert result["load_id"].startswith("P") and len(result["load_id"]) == 13
        loads = status["loads"]
        assert len(loads) == 1 and loads[0]["producer"] == "HMRC Team A" and loads[0]["kind"] == "package"
        assert result["alerts"] == 1 and not result["already_imported"]
        # importing twice changes nothing
        nodes_before = {label: dst.nodes(label) for label in want_nodes}
        again = import_package(dst, out)
        assert again["already_imported"] and again["load_id"] == result["load_id"]
        assert sum(again["written"]["nodes"].values()) == 0 and sum(again["written"]["relationships"].values()) == 0
        assert dst.status() == status
        for label, before in nodes_before.items():
            assert dst.nodes(label).equals(before), label


def test_import_keeps_local_data_and_fills_gaps(world, tmp_path):
    store, sub = world
    out = tmp_path / "case.zip"
    _make(sub, out, redact="none")
    # the partner already knows T100 under another name and has no employees figure for it
    with open_store(str(tmp_path / "partner.duckdb")) as dst:
        dst.upsert_nodes("Trader", pd.DataFrame([{"key": "T100", "trader_id": "T100", "name": "ACME (local)",
                                                   "_source": "local.csv", "_line": 2, "_load_id": "L1",
                                                   "_loaded_at": "2024-01-01T00:00:00Z"}]))
        result = import_package(dst, out)
        t = dst.nodes("Trader").set_index("key")
        assert t.loc["T100", "name"] == "ACME (local)" and t.loc["T100", "_source"] == "local.csv"
        # issue 11: a partner record never merges into a local one by id; it is kept apart and named
        assert pd.isna(t.loc["T100", "tin"])
        assert t.loc["HMRC Team A:T100", "tin"] == "GB123456789"
        assert t.loc["HMRC Team A:T100", "source_key"] == "T100"
        assert result["collisions"]["listed"] == [{"label": "Trader", "id": "T100", "local": "ACME (local)",
                                                   "partner": "Acme Trading Ltd"}]
        assert t.loc["HMRC Team A:T200", "_source"].startswith("package:")


def test_import_pseudonymised_package(world, tmp_path):
    store, sub = world
    out = tmp_path / "psn.zip"
    _make(sub, out, redact="pseudonymise", key=KEY)
    with open_store(str(tmp_path / "partner.duckdb")) as dst:
        import_package(dst, out)
        persons = dst.nodes("Person")
        assert len(persons) == 2 and all(k.startswith("psn-") for k in persons["source_key"])
        officers = dst.rels("OFFICER_OF")
        assert set(officers.loc[officers["dst"] == "HMRC Team A:T100", "src"]) <= set(persons["key"])


def _tamper(src: Path, dst: Path, *, change: str | None = None, drop: str | None = None,
            add: str | None = None) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == drop:
                continue
            if name == change:
                data = bytearray(data)
                data[len(data) // 2] ^= 0x01
                data = bytes(data)
            zout.writestr(name, data)
        if add:
            zout.writestr(add, b"surprise")


@pytest.mark.parametrize("how", ["change_nodes", "change_edges", "flip_zip_byte", "truncate", "drop_file",
                                 "extra_file", "no_manifest", "not_a_zip"])
def test_tampered_package_refused_nothing_loaded(world, tmp_path, how):
    store, sub = world
    good = tmp_path / "good.zip"
    _make(sub, good, redact="none")
    bad = tmp_path / "bad.zip"
    if how == "change_nodes":
        _tamper(good, bad, change="nodes.csv")
    elif how == "change_edges":
        _tamper(good, bad, change="edges.csv")
    elif how == "flip_zip_byte":
        data = bytearray(good.read_bytes())
        with zipfile.ZipFile(good) as zf:
            info = zf.getinfo("nodes.csv")
        data[info.header_offset + 30 + len(info.filename) + info.compress_size // 2] ^= 0xFF
        bad.write_bytes(bytes(data))
    elif how == "truncate":
        bad.write_bytes(good.read_bytes()[: good.stat().st_size * 2 // 3])
    elif how == "drop_file":
        _tamper(good, bad, drop="edges.csv")
    elif how == "extra_file":
        _tamper(good, bad, add="payload.exe")
    elif how == "no_manifest":
        _tamper(good, bad, drop="manifest.json")
    else:
        bad.write_bytes(b"this is not a zip file")
    with open_store(str(tmp_path / "partner.duckdb")) as dst:
        with pytest.raises(PackageError) as err:
            import_package(dst, bad)
        assert "bad.zip" in str(err.value)
        assert dst.counts() == {"nodes": {}, "relationships": {}}
        assert dst.loads() == []


def test_read_package_messages(world, tmp_path):
    store, sub = world
    good = tmp_path / "good.zip"
    _make(sub, good, redact="none")
    bad = tmp_path / "bad.zip"
    _tamper(good, bad, change="nodes.csv")
    with pytest.raises(PackageError, match="nodes.csv.*SHA-256|nodes.csv.*damaged"):
        read_package(bad)
    _tamper(good, bad, drop="alerts.json")
    with pytest.raises(PackageError, match="missing.*alerts.json"):
        read_package(bad)
    _tamper(good, bad, add="x.txt")
    with pytest.raises(PackageError, match="does not list: x.txt"):
        read_package(bad)


def test_import_from_ftm_only(world, tmp_path):
    """A package with only FtM entities (e.g. from another tool) is read through the reverse mapping."""
    store, sub = world
    good = tmp_path / "good.zip"
    _make(sub, good, redact="none")
    files = _files(good)
    manifest = json.loads(files["manifest.json"])
    manifest["files"] = {k: v for k, v in manifest["files"].items() if k in ("entities.ftm.json", "alerts.json")}
    ftm_only = tmp_path / "ftm.zip"
    with zipfile.ZipFile(ftm_only, "w") as zf:
        for name in ("entities.ftm.json", "alerts.json"):
            zf.writestr(name, files[name])
        zf.writestr("manifest.json", json.dumps(manifest))
    with open_store(str(tmp_path / "partner.duckdb")) as dst:
        result = import_package(dst, ftm_only)
        assert result["read_from"] == "ftm"
        assert set(dst.nodes("Trader")["source_key"]) == {"T100", "T200", "T300"}   # kept apart (issue 11)
        assert set(dst.nodes("Person")["source_key"]) == {"PER-7781", "PER-9902"}
        assert len(dst.rels("OFFICER_OF")) == 3
        assert set(dst.nodes("Payment")["amount"]) == {50000.0, 9000.0}


# --------------------------------------------------------------------------------- CLI

def _cli(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if k not in ("GRAPHIFF_PACKAGE_KEY", "GRAPHIFF_STORE")}
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "graphiff.cli", *args], capture_output=True, text=True, env=e,
                          cwd=cwd)


def test_cli_import_package(world, tmp_path):
    store, sub = world
    out = tmp_path / "case.zip"
    _make(sub, out, redact="pseudonymise", key=KEY)
    db = str(tmp_path / "partner.duckdb")
    r = _cli("import-package", str(out), "--store", db, "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["producer"] == "HMRC Team A" and data["redaction"] == "pseudonymise"
    r2 = _cli("import-package", str(out), "--store", db)
    assert r2.returncode == 0, r2.stderr
    assert "already imported" in r2.stdout
    bad = tmp_path / "bad.zip"
    _tamper(out, bad, change="nodes.csv")
    db2 = str(tmp_path / "other.duckdb")
    r3 = _cli("import-package", str(bad), "--store", db2)
    assert r3.returncode == 2
    assert "nodes.csv" in r3.stderr and "Traceback" not in r3.stderr
    with open_store(db2) as st:
        assert st.counts() == {"nodes": {}, "relationships": {}}


def test_cli_package_errors(tmp_path):
    db = str(tmp_path / "s.duckdb")
    r = _cli("package", "--seed", "Trader:T100", "--purpose", "op", "--marking", "TLP:RED", "--out",
             str(tmp_path / "p.zip"), "--store", db)
    assert r.returncode == 2 and "key" in r.stderr and "Traceback" not in r.stderr
    r = _cli("package", "--seed", "Trader:T100", "--purpose", "op", "--marking", "TLP:RED", "--out",
             str(tmp_path / "p.zip"), "--store", db, "--key-file", str(tmp_path / "nope.key"))
    assert r.returncode == 2 and "nope.key" in r.stderr
    r = _cli("package", "--purpose", "op", "--marking", "TLP:RED", "--out", str(tmp_path / "p.zip"), "--store", db,
             "--redact", "none")
    assert r.returncode == 2 and "--seed" in r.stderr
    assert not (tmp_path / "p.zip").exists()


def _has_select() -> bool:
    try:
        return hasattr(importlib.import_module("graphiff.graph.select"), "select")
    except ImportError:
        return False


@pytest.mark.skipif(not _has_select(), reason="graphiff.graph.select.select not written yet")
def test_cli_package_end_to_end(tmp_path):
    folder = _write_world(tmp_path / "in")
    db = str(tmp_path / "s.duckdb")
    assert _cli("load", str(folder), "--store", db).returncode == 0
    keyfile = tmp_path / "team.key"
    keyfile.write_text(KEY.decode() + "\n")
    out = tmp_path / "case.zip"
    r = _cli("package", "--seed", "Trader:T100", "--hops", "2", "--purpose", "Operation Cotton Thread",
             "--marking", "TLP:AMBER", "--producer", "HMRC Team A", "--key-file", str(keyfile), "--out", str(out),
             "--store", db, "--json")
    assert r.returncode == 0, r.stderr
    manifest = json.loads(r.stdout)
    assert manifest["redaction"]["policy"] == "pseudonymise" and manifest["counts"]["nodes"]
    text = _all_text(_files(out))
    for value in ("Ivanka Petrovska", "PER-7781", "MK4471902", "1971-03-14"):
        assert value.lower() not in text.lower()
    # the key may also come from the environment
    out2 = tmp_path / "case2.zip"
    r = _cli("package", "--seed", "Trader:T100", "--purpose", "op", "--marking", "TLP:AMBER", "--out", str(out2),
             "--store", db, env={"GRAPHIFF_PACKAGE_KEY": KEY.decode(), "GRAPHIFF_PRODUCER": "Team B"})
    assert r.returncode == 0, r.stderr
    assert json.loads(_files(out2)["manifest.json"])["producer"] == "Team B"
    r = _cli("import-package", str(out), "--store", str(tmp_path / "partner.duckdb"), "--json")
    assert r.returncode == 0, r.stderr

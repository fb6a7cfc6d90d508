"""The workbench API (docs/api.md) on BOTH stores: the same requests, the same answers.

The world (conftest.py): a small alias world with planted patterns, loaded, resolved and
detected. Every test that uses ``wb_client`` runs once per store.
"""
from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import networkx as nx
import pytest
from fastapi.testclient import TestClient

from graphiff.stores import open_store
from graphiff.workbench import create_app
from graphiff.workbench.security import CSP
from tests._apikit import error as _error
from tests._apikit import ok as _ok

ROOT = Path(__file__).resolve().parents[2]
RECORDS = ("Declaration", "Payment", "CashReport")


def _check_subgraph(sub: dict) -> None:
    ids = {n["id"] for n in sub["nodes"]}
    assert len(ids) == len(sub["nodes"])
    for n in sub["nodes"]:
        assert {"id", "label", "caption", "properties", "seed", "flagged_by"} <= set(n)
        assert n["id"].startswith(n["label"] + ":")
    for e in sub["edges"]:
        assert {"id", "source", "target", "type", "properties"} <= set(e)
        assert e["source"] in ids and e["target"] in ids
    assert sub["left_out"] == sum(sub["left_out_by_label"].values())
    assert set(sub["seeds"]) <= ids


# ------------------------------------------------------------------------------------- health
def test_health_and_headers(wb_client, wb_store):
    r = wb_client.get("/api/health")
    h = _ok(r)
    assert h["status"] == "ok" and h["resolved"] is True
    assert h["store"] == ("neo4j" if wb_store.startswith("bolt") else "embedded")
    assert h["nodes"] > 1000 and h["relationships"] > h["nodes"] and h["alerts"] > 10 and h["loads"] >= 1
    assert h["last_load"] and h["refreshed_at"]
    assert r.headers["content-security-policy"] == CSP
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cache-control"] == "no-store"


def test_styles(wb_client):
    s = _ok(wb_client.get("/api/styles"))
    assert {"Trader", "Declaration", "Alert"} <= set(s["styles"])
    assert {"colour", "shape", "size", "swatch"} <= set(s["styles"]["Trader"])
    assert "same-as" in s["edge_styles"]
    assert {"colour", "line", "width", "caption", "arrow"} <= set(s["default_edge_style"])
    assert "Trader" in s["labels"] and {"EXPORTED", "TRADED_WITH", "PAID"} <= set(s["rel_types"])


# ------------------------------------------------------------------------------------- search
def test_search_finds_a_misspelt_name_first(wb_client, wb_facts):
    body = _ok(wb_client.get("/api/search", params={"q": wb_facts["misspelt"]}))
    assert body["query"] == wb_facts["misspelt"]
    first = body["results"][0]
    assert first["id"] == wb_facts["trader"], (wb_facts, body["results"][:3])
    assert first["label"] == "Trader" and first["caption"] == wb_facts["name"]
    assert 0 <= first["score"] <= 1 and first["matched"]
    only = _ok(wb_client.get("/api/search", params={"q": wb_facts["misspelt"], "types": "Person", "limit": 5}))
    assert all(x["label"] == "Person" for x in only["results"]) and len(only["results"]) <= 5


def test_search_errors(wb_client):
    _error(wb_client.get("/api/search", params={"q": "  "}), 400)
    _error(wb_client.get("/api/search", params={"q": "x", "types": "Spaceship"}), 400)
    _error(wb_client.get("/api/search", params={"q": "x", "limit": 201}), 400)
    _error(wb_client.get("/api/search"), 400)


# ------------------------------------------------------------------------------ neighbourhood
def test_neighbourhood_shape(wb_client, wb_facts):
    t = wb_facts["trader"]
    sub = _ok(wb_client.get("/api/neighbourhood", params={"id": t}))
    _check_subgraph(sub)
    assert sub["seeds"] == [t]
    seed = next(n for n in sub["nodes"] if n["id"] == t)
    assert seed["seed"] is True and seed["caption"] == wb_facts["name"]
    assert {"_source", "_line", "_load_id", "_loaded_at"} <= set(seed["properties"])
    assert wb_facts["cycle_alert"] in seed["flagged_by"]
    assert {"Declaration", "Trader"} <= {n["label"] for n in sub["nodes"]}
    # a bare key and an alias key name the same entity
    bare = _ok(wb_client.get("/api/neighbourhood", params={"id": t.split(":", 1)[1], "hops": 0}))
    assert bare["seeds"] == [t]
    if wb_facts["aliases"]:
        alias = _ok(wb_client.get("/api/neighbourhood", params={"id": wb_facts["aliases"][0], "hops": 0}))
        assert alias["seeds"] == [t]
    # several seeds: comma-separated or repeated
    two = wb_facts["traders"][:2]
    a = _ok(wb_client.get("/api/neighbourhood", params={"id": ",".join(two), "hops": 0}))
    b = _ok(wb_client.get("/api/neighbourhood", params=[("id", two[0]), ("id", two[1]), ("hops", "0")]))
    assert set(a["seeds"]) == set(b["seeds"]) == set(two)


def test_neighbourhood_filters(wb_client, wb_facts):
    t = wb_facts["trader"]
    rel = _ok(wb_client.get("/api/neighbourhood", params={"id": t, "rel": "EXPORTED,IMPORTED_BY"}))
    _check_subgraph(rel)
    assert {e["type"] for e in rel["edges"]} <= {"EXPORTED", "IMPORTED_BY", "FLAGS"}
    assert "EXPORTED" in {e["type"] for e in rel["edges"]}

    typed = _ok(wb_client.get("/api/neighbourhood", params={"id": t, "types": "Trader"}))
    assert {n["label"] for n in typed["nodes"]} <= {"Trader", "Alert"}

    full = _ok(wb_client.get("/api/neighbourhood", params={"id": t}))
    dates = sorted(n["properties"]["date"] for n in full["nodes"] if n["label"] in RECORDS)
    mid = dates[len(dates) // 2]
    ranged = _ok(wb_client.get("/api/neighbourhood", params={"id": t, "from": mid, "to": dates[-1]}))
    rdates = [n["properties"]["date"] for n in ranged["nodes"] if n["label"] in RECORDS]
    assert rdates and all(mid <= d <= dates[-1] for d in rdates)
    assert len(rdates) < len(dates)
    month = _ok(wb_client.get("/api/neighbourhood", params={"id": t, "from": mid[:7], "to": mid[:7]}))
    assert all(n["properties"]["date"][:7] == mid[:7] for n in month["nodes"] if n["label"] in RECORDS)
    _error(wb_client.get("/api/neighbourhood", params={"id": t, "from": "2024-13-01"}), 400)
    _error(wb_client.get("/api/neighbourhood", params={"id": t, "rel": "NOT_A_TYPE"}), 400)


def test_neighbourhood_limit_and_hubs(wb_client, wb_facts):
    t = wb_facts["trader"]
    capped = _ok(wb_client.get("/api/neighbourhood", params={"id": t, "hops": 2, "limit": 20}))
    _check_subgraph(capped)
    assert len(capped["nodes"]) <= 20 and capped["left_out"] > 0 and capped["left_out_by_label"]
    hub = _ok(wb_client.get("/api/neighbourhood", params={"id": t, "hops": 2, "hub_limit": 3}))
    assert hub["hubs"], "a seed with more relationships than the hub limit is a hub"
    h = next(x for x in hub["hubs"] if x["id"] == t)
    assert sum(h["counts"].values()) > 3
    nohub = _ok(wb_client.get("/api/neighbourhood", params={"id": t, "hops": 1, "hub_limit": 0}))
    assert nohub["hubs"] == []
    _error(wb_client.get("/api/neighbourhood", params={"id": t, "limit": 0}), 400)
    _error(wb_client.get("/api/neighbourhood", params={"id": t, "limit": 5001}), 400)


def test_neighbourhood_aggregated(wb_client, wb_facts):
    t = wb_facts["trader"]
    sub = _ok(wb_client.get("/api/neighbourhood", params={"id": t, "aggregate": "true"}))
    _check_subgraph(sub)
    traded = [e for e in sub["edges"] if e["type"] == "TRADED_WITH"]
    assert traded
    shown = {n["id"] for n in sub["nodes"]}
    for e in traded:
        p = e["properties"]
        assert {"count", "value_usd", "first_date", "last_date", "record_ids", "hs6"} <= set(p)
        assert p["count"] == len(p["record_ids"]) >= 1
        assert p["first_date"] <= p["last_date"]
        assert all(r.startswith("Declaration:") and r not in shown for r in p["record_ids"])
    assert not any(n["label"] == "Declaration" and n["id"] in {r for e in traded for r in e["properties"]["record_ids"]}
                   for n in sub["nodes"])


def test_unknown_ids(wb_client):
    _error(wb_client.get("/api/neighbourhood", params={"id": "Trader:NO-SUCH-TRADER"}), 404)
    _error(wb_client.get("/api/entity", params={"id": "NO-SUCH-KEY"}), 404)
    _error(wb_client.get("/api/alerts/circular_trade:0000000000000000"), 404)
    _error(wb_client.get("/api/no-such-request"), 404)
    _error(wb_client.get("/api/neighbourhood"), 400)


# ------------------------------------------------------------------------------------- entity
def test_entity_detail(wb_client, wb_facts):
    t = wb_facts["trader"]
    e = _ok(wb_client.get("/api/entity", params={"id": t}))
    assert e["node"]["id"] == t and e["node"]["label"] == "Trader" and e["node"]["caption"] == wb_facts["name"]
    assert e["provenance"] and all(p["source"] and p["line"] for p in e["provenance"])
    assert any(a["id"] == wb_facts["cycle_alert"] for a in e["alerts"])
    scores = [a["score"] for a in e["alerts"]]
    assert scores == sorted(scores, reverse=True)
    assert e["degree"].get("Declaration", 0) > 0
    if wb_facts["aliases"]:
        assert {a["id"] for a in e["aliases"]} == {f"Trader:{k}" for k in wb_facts["aliases"]}
        assert all(a["status"] in ("linked", "confirmed") for a in e["aliases"])
        assert len(e["provenance"]) == 1 + len(wb_facts["aliases"])


# ------------------------------------------------------------------------------------- alerts
def test_alert_list_filters_and_sorts(wb_client, wb_facts):
    every = _ok(wb_client.get("/api/alerts", params={"limit": 10000}))
    total = every["total"]
    assert total == len(every["alerts"]) == sum(every["patterns"].values()) > 0
    scores = [a["score"] for a in every["alerts"]]
    assert scores == sorted(scores, reverse=True)
    a0 = every["alerts"][0]
    assert {"id", "pattern", "score", "entities", "explanation", "evidence", "status", "first_date",
            "last_date"} <= set(a0)
    assert all(a["status"] == "new" for a in every["alerts"])
    assert all(a["first_date"] <= a["last_date"] for a in every["alerts"] if a["first_date"])

    cyc = _ok(wb_client.get("/api/alerts", params={"pattern": "circular_trade"}))
    assert cyc["total"] == every["patterns"]["circular_trade"] and {a["pattern"] for a in cyc["alerts"]} == {
        "circular_trade"}
    two = _ok(wb_client.get("/api/alerts", params={"pattern": "circular_trade,undervaluation", "limit": 10000}))
    assert two["total"] == every["patterns"]["circular_trade"] + every["patterns"].get("undervaluation", 0)
    hi = _ok(wb_client.get("/api/alerts", params={"min_score": 0.9, "limit": 10000}))
    assert hi["total"] == sum(1 for s in scores if s >= 0.9) and all(a["score"] >= 0.9 for a in hi["alerts"])
    assert _ok(wb_client.get("/api/alerts", params={"status": "new"}))["total"] == total
    assert _ok(wb_client.get("/api/alerts", params={"status": "dismissed"}))["total"] == 0
    limited = _ok(wb_client.get("/api/alerts", params={"limit": 3}))
    assert len(limited["alerts"]) == 3 and limited["total"] == total

    by_date = _ok(wb_client.get("/api/alerts", params={"sort": "date", "limit": 10000}))["alerts"]
    lasts = [a["last_date"] or "" for a in by_date]
    assert lasts == sorted(lasts, reverse=True)
    by_pattern = [a["pattern"] for a in _ok(wb_client.get("/api/alerts", params={"sort": "pattern",
                                                                                  "limit": 10000}))["alerts"]]
    assert by_pattern == sorted(by_pattern)
    by_entity = _ok(wb_client.get("/api/alerts", params={"sort": "entity", "limit": 10000}))["alerts"]
    firsts = [f"{a['entities'][0]['label']}:{a['entities'][0]['id']}" if a["entities"] else "" for a in by_entity]
    assert firsts == sorted(firsts)

    mine = _ok(wb_client.get("/api/alerts", params={"entity": wb_facts["trader"]}))
    assert wb_facts["cycle_alert"] in {a["id"] for a in mine["alerts"]}
    assert all(any(f"{e['label']}:{e['id']}" == wb_facts["trader"] for e in a["entities"]) or a["pattern"]
               for a in mine["alerts"])
    if wb_facts["aliases"]:    # the key of another record of the entity finds the entity's alerts
        via_alias = _ok(wb_client.get("/api/alerts", params={"entity": wb_facts["aliases"][0]}))
        assert {a["id"] for a in via_alias["alerts"]} == {a["id"] for a in mine["alerts"]}

    dated = [a for a in every["alerts"] if a["first_date"]]
    pivot = sorted(a["last_date"] for a in dated)[len(dated) // 2]
    late = _ok(wb_client.get("/api/alerts", params={"from": pivot, "limit": 10000}))
    assert late["total"] == sum(1 for a in dated if a["last_date"] >= pivot) < total
    early = _ok(wb_client.get("/api/alerts", params={"to": pivot[:4], "limit": 10000}))
    assert all(a["first_date"][:4] <= pivot[:4] for a in early["alerts"])
    _error(wb_client.get("/api/alerts", params={"sort": "colour"}), 400)
    _error(wb_client.get("/api/alerts", params={"min_score": 2}), 400)
    _error(wb_client.get("/api/alerts", params={"entity": "NO-SUCH-KEY"}), 404)


def test_alert_view_of_a_circular_trade_is_a_cycle(wb_client, wb_facts):
    aid = wb_facts["cycle_alert"]
    body = _ok(wb_client.get(f"/api/alerts/{aid}"))
    assert body["alert"]["id"] == aid and body["alert"]["pattern"] == "circular_trade"
    sub = body["subgraph"]
    _check_subgraph(sub)
    traders = set(wb_facts["traders"])
    assert traders <= {n["id"] for n in sub["nodes"]}
    g = nx.DiGraph([(e["source"], e["target"]) for e in sub["edges"]
                    if e["type"] == "TRADED_WITH" and e["source"] in traders and e["target"] in traders])
    cycles = [c for c in nx.simple_cycles(g) if set(c) == traders]
    assert cycles, f"no cycle through {traders}: {list(g.edges)}"
    for e in sub["edges"]:
        if e["type"] == "TRADED_WITH":
            assert e["properties"]["value_usd"] > 0 and e["properties"]["first_date"]
    # the evidence in words
    text = body["evidence_text"]
    assert text[0] == body["alert"]["explanation"]
    assert len(text) > 3 and all(isinstance(x, str) and "{" not in x and "[" not in x[:1] for x in text)
    assert any("USD" in x and "HS " in x and wb_facts["name"] in x for x in text)
    # the records unfolded
    raw = _ok(wb_client.get(f"/api/alerts/{aid}", params={"aggregate": "false"}))["subgraph"]
    assert not any(e["type"] == "TRADED_WITH" for e in raw["edges"])
    assert {n["label"] for n in raw["nodes"]} >= {"Trader", "Declaration", "Alert"}
    assert _ok(wb_client.get(f"/api/alerts/Alert:{aid}"))["alert"]["id"] == aid


def test_every_alert_opens_in_words(wb_client):
    alerts = _ok(wb_client.get("/api/alerts", params={"limit": 10000}))["alerts"]
    seen = set()
    for a in alerts:
        if a["pattern"] in seen:
            continue
        seen.add(a["pattern"])
        body = _ok(wb_client.get(f"/api/alerts/{a['id']}"))
        assert body["evidence_text"] and all("{" not in x for x in body["evidence_text"])
        assert body["subgraph"]["nodes"]
    assert len(seen) >= 5


def _one_of(client, pattern: str) -> dict:
    alerts = _ok(client.get("/api/alerts", params={"pattern": pattern, "limit": 1}))["alerts"]
    if not alerts:
        pytest.skip(f"no {pattern} alert in the world")
    return _ok(client.get(f"/api/alerts/{alerts[0]['id']}"))


def test_alert_views_show_what_the_explanation_says(wb_client):
    """Regression: an alert's subgraph held only its flagged entities and evidence records, so a
    third-party payment showed neither the payer's holder nor the importer it paid for, a shell
    intermediary's declarations hung loose without its suppliers and buyers, and linked carriers
    lacked the officer and phone linking them. Every node must now hang together with the rest."""
    for pattern in ("third_party_payment", "shell_intermediary", "linked_carriers", "cash_structuring",
                    "circular_payment", "undervaluation", "mirror_discrepancy"):
        body = _one_of(wb_client, pattern)
        sub = body["subgraph"]
        _check_subgraph(sub)
        linked = {x for e in sub["edges"] for x in (e["source"], e["target"])}
        loose = [n["id"] for n in sub["nodes"] if n["id"] not in linked]
        assert not loose, f"{pattern}: nodes joined to nothing: {loose}"
        ev = body["alert"]["evidence"]
        ids = {n["id"] for n in sub["nodes"]}
        if pattern == "third_party_payment":
            importer = _ok(wb_client.get("/api/entity", params={"id": f"Trader:{ev['importers'][0]}"}))["node"]["id"]
            assert importer in ids
            payer = f"BankAccount:{ev['payer_account']}"
            assert any(e["type"] == "HOLDS" and e["target"] == payer for e in sub["edges"])
            assert {"PAID", "TRADED_WITH"} <= {e["type"] for e in sub["edges"]}
        if pattern == "shell_intermediary":
            flagged = body["alert"]["entities"][0]
            shell = f"{flagged['label']}:{flagged['id']}"
            traded = [e for e in sub["edges"] if e["type"] == "TRADED_WITH"]
            assert any(e["target"] == shell for e in traded) and any(e["source"] == shell for e in traded)
        if pattern == "linked_carriers":
            kinds = {link["kind"] for link in ev["links"]}
            rels = {e["type"] for e in sub["edges"]}
            assert ("officer" not in kinds or "OFFICER_OF" in rels) and ("phone" not in kinds or "HAS_PHONE" in rels)
            assert "CARRIED_BY" in rels                          # the carriers keep their declarations
            # the evidence names the carriers, not only their ids
            shares = [t for t in body["evidence_text"] if t.startswith("carriers ")]
            captions = {n["id"]: n["caption"] for n in sub["nodes"]}
            first = str(ev["links"][0]["carriers"][0])
            assert shares and f"{captions[f'Carrier:{first}']} ({first})" in shares[0]
        if pattern == "cash_structuring":
            assert "FOR" in {e["type"] for e in sub["edges"]} or not any(
                r.get("trader_id") for r in ev.get("reports", []))
        if pattern in ("undervaluation", "mirror_discrepancy"):
            assert {"EXPORTED", "IMPORTED_BY"} <= {e["type"] for e in sub["edges"]}


# ----------------------------------------------------------------------------------- timeline
def test_timeline_buckets(wb_client, wb_facts):
    sub = _ok(wb_client.get("/api/neighbourhood", params={"id": wb_facts["trader"], "hops": 2, "limit": 400}))
    ids = [n["id"] for n in sub["nodes"]]
    records = [n for n in sub["nodes"] if n["label"] in RECORDS]
    assert len(records) > 5
    for bucket in ("day", "week", "month"):
        got = _ok(wb_client.post("/api/timeline", json={"ids": ids, "bucket": bucket}))
        assert got["bucket"] == bucket
        assert sum(b["count"] for b in got["buckets"]) == len(records)
        starts = [b["start"] for b in got["buckets"]]
        assert starts == sorted(set(starts))
        if bucket == "week":
            assert all(dt.date.fromisoformat(s).weekday() == 0 for s in starts)
        if bucket == "month":
            assert all(s.endswith("-01") for s in starts)
    month = _ok(wb_client.post("/api/timeline", json={"ids": ids}))
    value = sum(float(n["properties"].get("value_usd") or n["properties"].get("amount_usd") or 0) for n in records)
    assert sum(b["value_usd"] for b in month["buckets"]) == pytest.approx(value, rel=1e-6, abs=0.05)
    short = [r["id"] for r in records[:5]]
    got = _ok(wb_client.get("/api/timeline", params={"ids": ",".join(short), "bucket": "day"}))
    assert sum(b["count"] for b in got["buckets"]) == 5
    assert _ok(wb_client.get("/api/timeline", params={"ids": wb_facts["trader"]}))["buckets"] == []
    _error(wb_client.get("/api/timeline", params={"ids": short[0], "bucket": "year"}), 400)
    _error(wb_client.post("/api/timeline", json={"ids": short, "bucket": "decade"}), 400)


# ------------------------------------------------------------------------------ export, package
def _view(client, facts) -> dict:
    return _ok(client.get("/api/neighbourhood", params={"id": facts["trader"], "aggregate": "true"}))


def _view_body(view: dict) -> dict:
    nodes = [n["id"] for n in view["nodes"]]
    records = [r for e in view["edges"] for r in e["properties"].get("record_ids", [])]
    return {"nodes": nodes, "records": records}


@pytest.mark.parametrize("fmt,ctype", [("anx", "application/xml"), ("html", "text/html"),
                                       ("graphml", "application/xml"), ("gexf", "application/xml"),
                                       ("cyjs", "application/json"), ("png", "image/png"),
                                       ("svg", "image/svg+xml")])
def test_export_every_format(wb_client, wb_facts, fmt, ctype):
    view = _view(wb_client, wb_facts)
    r = wb_client.post("/api/export", json={"format": fmt, **_view_body(view), "aggregate": True, "title": "case 7"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(ctype)
    assert r.headers["content-disposition"].startswith("attachment;")
    assert len(r.content) > 100
    if fmt == "anx":
        root = ET.fromstring(r.content)
        text = ET.tostring(root, encoding="unicode")
        traders = [n for n in view["nodes"] if n["label"] == "Trader"]
        assert traders and all(t["key"] if "key" in t else t["id"].split(":", 1)[1] in text for t in traders)
        assert wb_facts["name"] in text
    if fmt == "cyjs":
        data = r.json()
        types = {e["data"].get("type") for e in data["elements"]["edges"]}
        assert "TRADED_WITH" in types


def test_export_errors(wb_client, wb_facts):
    _error(wb_client.post("/api/export", json={"format": "docx", "nodes": [wb_facts["trader"]]}), 400)
    _error(wb_client.post("/api/export", json={"format": "anx", "nodes": []}), 400)
    _error(wb_client.post("/api/export", json={"format": "anx", "nodes": ["Trader:NOPE"]}), 404)
    _error(wb_client.post("/api/export", json={"format": "anx", "nodes": "Trader:X"}), 400)
    _error(wb_client.post("/api/export", content=b"{not json", headers={"content-type": "application/json"}), 400)
    big = b'{"format": "anx", "nodes": ["' + b"x" * (17 * 1024 * 1024) + b'"]}'
    _error(wb_client.post("/api/export", content=big, headers={"content-type": "application/json"}), 413)


def test_a_chunked_body_above_the_limit_is_a_413(wb_client):
    """Regression: a body sent without Content-Length (chunked) that grew past the limit was
    answered 400 "There was an error parsing the body" (FastAPI swallowed the middleware's
    signal); it is a 413 saying what the limit is, as docs/api.md promises."""
    def chunks():
        piece = b"x" * (1024 * 1024)
        yield b'{"ids": ["'
        for _ in range(17):
            yield piece
        yield b'"]}'
    r = wb_client.post("/api/timeline", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in {k.lower() for k in r.request.headers}
    assert "too large" in _error(r, 413)


def test_package_of_the_view(wb_client, wb_facts, wb_store, tmp_path):
    from graphiff.share.importer import import_package
    from graphiff.share.keys import write_key_file
    from graphiff.share.verify import read_package

    body = {**_view_body(_view(wb_client, wb_facts)), "purpose": "Operation Test", "marking": "TLP:AMBER",
            "recipient": "LV customs"}
    msg = _error(wb_client.post("/api/package", json=body), 400)        # pseudonymise, and no key
    assert "key" in msg
    r = wb_client.post("/api/package", json={**body, "redact": "none"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip" and "attachment" in r.headers["content-disposition"]
    path = tmp_path / "view.zip"
    path.write_bytes(r.content)
    manifest, _, files = read_package(path)
    assert manifest["purpose"] == "Operation Test" and manifest["marking"] == "TLP:AMBER"
    assert manifest["recipient"] == "LV customs"
    assert manifest["counts"]["nodes"].get("Trader", 0) >= 2 and manifest["counts"]["alerts"] >= 1
    with open_store(str(tmp_path / "partner.duckdb")) as st:     # the importer accepts it
        assert import_package(st, path)["already_imported"] is False
    assert zipfile.ZipFile(io.BytesIO(r.content)).testzip() is None
    _error(wb_client.post("/api/package", json={**body, "purpose": ""}), 400)
    _error(wb_client.post("/api/package", json={k: v for k, v in body.items() if k != "recipient"}), 400)

    key_file = tmp_path / "team.key"
    write_key_file(key_file)
    keyed = create_app(wb_store, refresh_seconds=0, key_file=key_file, producer="Team A")
    with TestClient(keyed, base_url="http://127.0.0.1") as c:
        c.headers["X-CSRF-Token"] = c.get("/api/session").json()["csrf"]
        r = c.post("/api/package", json=body)
        assert r.status_code == 200, r.text
        (tmp_path / "psn.zip").write_bytes(r.content)
        manifest, _, _ = read_package(tmp_path / "psn.zip")
        assert manifest["redaction"]["policy"] == "pseudonymise" and manifest["producer"] == "Team A"
    keyed.state.close()


# ---------------------------------------------------------------------------- page and safety
def test_page_docs_and_static(wb_client):
    page = wb_client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CSP
    docs = wb_client.get("/docs")
    assert docs.status_code == 200
    html = docs.text
    assert "/static/vendor/swagger-ui-bundle.js" in html and "/static/vendor/swagger-ui.css" in html
    assert "cdn" not in html.lower() and "http://" not in html and "https://" not in html
    csp = docs.headers["content-security-policy"]
    assert "'sha256-" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
    for path in ("/static/vendor/swagger-ui-bundle.js", "/static/vendor/swagger-ui.css",
                 "/static/vendor/cytoscape.min.js"):
        r = wb_client.get(path)
        assert r.status_code == 200 and len(r.content) > 10_000, path
        assert r.headers["x-content-type-options"] == "nosniff"
    spec = _ok(wb_client.get("/openapi.json"))
    assert {"/api/health", "/api/search", "/api/neighbourhood", "/api/entity", "/api/alerts", "/api/alerts/{alert_id}",
            "/api/timeline", "/api/export", "/api/package", "/api/styles"} <= set(spec["paths"])
    assert wb_client.get("/redoc").status_code == 404


def test_host_header_is_checked(wb_client):
    _error(wb_client.get("/api/health", headers={"host": "evil.example"}), 400)
    _error(wb_client.get("/", headers={"host": "evil.example:8765"}), 400)
    assert wb_client.get("/api/health", headers={"host": "localhost:8765"}).status_code == 200
    assert wb_client.get("/api/health", headers={"host": "[::1]:8765"}).status_code == 200


def test_serve_refuses_a_non_loopback_host(tmp_path):
    for host in ("0.0.0.0", "192.168.1.10", "example.org", "::"):
        proc = subprocess.run([sys.executable, "-m", "graphiff.cli", "serve", "--store", str(tmp_path / "x.duckdb"),
                               "--host", host], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, (host, proc.stdout, proc.stderr)
        err = " ".join(proc.stderr.split())
        assert "serving beyond this machine needs users who sign in" in err and "graphiff users add" in err
        assert proc.stderr.strip().count("\n") == 0 and not proc.stdout.strip()
    assert not (tmp_path / "x.duckdb").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_subprocess_answers(wb_store, tmp_path):
    uri = wb_store
    if not uri.startswith("bolt"):
        shutil.copy(uri, tmp_path / "served.duckdb")
        uri = str(tmp_path / "served.duckdb")
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "graphiff.cli", "serve", "--store", uri, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line == f"graphiff workbench at http://127.0.0.1:{port}/", (line, proc.stderr.read() if proc.poll()
                                                                            is not None else "")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=30) as r:
            assert r.status == 200 and r.headers["Cache-Control"] == "no-store"
            assert b'"status":"ok"' in r.read()
        # a second server on the same port: one clear message, exit 2
        again = subprocess.run([sys.executable, "-m", "graphiff.cli", "serve", "--store", uri, "--port", str(port)],
                               capture_output=True, text=True, timeout=120)
        assert again.returncode == 2 and f"port {port}" in again.stderr and "in use" in again.stderr
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# ------------------------------------------------------------------------- the store changes
def _extra_world(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "traders.csv").write_text("trader_id,name,country\nZZWB0001,Quokka Refresh Traders Ltd,KE\n")
    return folder


def _wait_for(client, check, seconds: float = 90.0):
    end = time.monotonic() + seconds
    while True:
        body = _ok(client.get("/api/health"))
        if check(body):
            return body
        if time.monotonic() > end:
            raise AssertionError(f"the server did not pick up the change: {body}")
        time.sleep(0.3)


def test_store_changes_are_picked_up(wb_store, tmp_path):
    from graphiff.alerts import replace_alerts
    from graphiff.detectors import run_detectors
    from graphiff.ingest import load_paths

    uri = wb_store
    if not uri.startswith("bolt"):
        shutil.copy(uri, tmp_path / "live.duckdb")
        uri = str(tmp_path / "live.duckdb")
    app = create_app(uri, refresh_seconds=0.2)
    try:
        with TestClient(app, base_url="http://127.0.0.1") as c:
            before = _ok(c.get("/api/health"))
            assert not _ok(c.get("/api/search", params={"q": "quokka refresh"}))["results"]
            with open_store(uri) as st:      # graphiff load while the server serves
                load_paths(st, [_extra_world(tmp_path / "extra")], quarantine_dir=tmp_path / "q")
            after = _wait_for(c, lambda h: h["loads"] == before["loads"] + 1)
            assert after["nodes"] == before["nodes"] + 1 and after["refreshed_at"] >= before["refreshed_at"]
            hits = _ok(c.get("/api/search", params={"q": "quokka refresh"}))["results"]
            assert hits and hits[0]["id"] == "Trader:ZZWB0001"
            n_linked = _ok(c.get("/api/alerts", params={"pattern": "linked_carriers"}))["total"]
            assert n_linked > 0
            with open_store(uri) as st:      # detect (here: a pattern's alerts replaced by none)
                replace_alerts(st, [], patterns=["linked_carriers"])
            _wait_for(c, lambda h: h["alerts"] == after["alerts"] - n_linked)
            left = _ok(c.get("/api/alerts", params={"pattern": "linked_carriers"}))["alerts"]   # what the case
            assert all(a["status"] == "no_longer_detected" for a in left)                  # book remembers
    finally:
        app.state.close()
        if uri.startswith("bolt"):          # the shared Neo4j world as it was
            with open_store(uri) as st:
                st.delete_nodes("Trader", ["ZZWB0001"])
                run_detectors(st, patterns=["linked_carriers"])


def test_a_locked_embedded_store_keeps_the_snapshot(wb_store, tmp_path):
    if wb_store.startswith("bolt"):
        pytest.skip("the embedded store's file lock")
    path = tmp_path / "locked.duckdb"
    shutil.copy(wb_store, path)
    app = create_app(str(path), refresh_seconds=0)
    holder = app.state.holder
    old = holder.snapshot
    code = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "c.execute('CREATE TABLE IF NOT EXISTS wb_touch (x INT)'); c.execute('INSERT INTO wb_touch VALUES (1)'); "
            "c.execute('CHECKPOINT'); print('locked', flush=True); time.sleep(60)")
    locker = subprocess.Popen([sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert locker.stdout is not None and locker.stdout.readline().strip() == "locked"
        assert holder.check() is False                 # the file moved but is locked: keep the old snapshot
        assert holder.snapshot is old and holder.last_error and "lock" in holder.last_error.lower()
    finally:
        locker.kill()
        locker.wait()
    assert holder.check() is False                     # readable again: same fingerprint, no rebuild
    assert holder.snapshot is old and holder.last_error is None
    app.state.close()


def test_the_listening_socket_sends_answers_at_once():
    """TCP_NODELAY on the server's socket (inherited by its connections): without it an answer's
    body waited for the client's delayed ACK on every kept-alive request (40 ms each)."""
    from graphiff.cli.serve import _bind

    sock = _bind("127.0.0.1", 0)
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        client = socket.create_connection(sock.getsockname()[:2])
        conn, _ = sock.accept()
        assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        conn.close()
        client.close()
    finally:
        sock.close()

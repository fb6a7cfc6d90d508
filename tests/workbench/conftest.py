"""Fixtures of the workbench tests: one small alias world with planted patterns (circular trade
among them), loaded, resolved and detected once per session on BOTH stores, and a TestClient
of the workbench over it.

- ``wb_world``: the generated world (folder, truth);
- ``wb_store``: the URI of a store holding it, once per backend (the Neo4j one is filled
  again when another test wiped the server meanwhile);
- ``wb_facts``: what the tests look for in it (a circular trade alert, its traders, a
  misspelt name of one of them, an alias key of a resolved trader...);
- ``wb_client``: a ``TestClient`` of ``create_app(wb_store)`` (one app per store and filling), as
  the single local user (no users in the case book) with its session's CSRF token set.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from graphiff.stores import open_store

SCALE = 0.05
SEED = 7

_FILLED: dict[str, dict[str, Any]] = {}     # uri -> {"load_ids": [...], "generation": n}
_APPS: dict[tuple[str, int], Any] = {}


@pytest.fixture(scope="session")
def wb_world(tmp_path_factory) -> dict[str, Any]:
    """A small alias world (``graphiff samples --aliases``): folder and truth."""
    from graphiff.samples import generate_world

    folder = tmp_path_factory.mktemp("wb-world") / "world"
    summary = generate_world(folder, scale=SCALE, seed=SEED, aliases=True)
    return {"folder": folder, "truth": json.loads((folder / "truth.json").read_text()), "summary": summary}


def fill(uri: str, world: Path, quarantine: Path) -> list[str]:
    """Load ``world`` into the (empty) store ``uri``, resolve, detect; the load ids."""
    from graphiff.detectors import run_detectors
    from graphiff.ingest import load_paths
    from graphiff.resolve.run import resolve

    with open_store(uri) as st:
        load_paths(st, [world], quarantine_dir=quarantine)
        resolve(st)
        run_detectors(st)
        return [str(x["load_id"]) for x in st.loads()]


def _still_there(uri: str) -> bool:
    want = _FILLED.get(uri)
    if not want:
        return False
    with open_store(uri) as st:
        have = {str(x["load_id"]) for x in st.loads()}
        return set(want["load_ids"]) <= have and st.counts()["nodes"].get("Alert", 0) > 0


@pytest.fixture(scope="session", params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def _wb_backend(request, tmp_path_factory) -> str:
    if request.param == "embedded":
        return str(tmp_path_factory.mktemp("wb-store") / "graph.duckdb")
    return request.getfixturevalue("neo4j_uri")


@pytest.fixture
def wb_store(_wb_backend, wb_world, tmp_path_factory) -> str:
    """The URI of a store holding ``wb_world`` (loaded, resolved, detected), per backend."""
    uri = _wb_backend
    if not _still_there(uri):
        with open_store(uri) as st:
            st.wipe()
        ids = fill(uri, wb_world["folder"], tmp_path_factory.mktemp("wb-quarantine"))
        gen = _FILLED.get(uri, {}).get("generation", 0) + 1
        _FILLED[uri] = {"load_ids": ids, "generation": gen}
    return uri


def generation(uri: str) -> int:
    """How many times ``uri`` was filled this session (an app is built per filling)."""
    return int(_FILLED.get(uri, {}).get("generation", 0))


@pytest.fixture(scope="session", autouse=True)
def _wb_close_apps():
    """Close the apps (their audit writers, case books and stores: a Neo4j driver stays open
    while its app lives)."""
    yield
    for app in _APPS.values():
        app.state.close()
    _APPS.clear()


@pytest.fixture
def wb_app(wb_store):
    """The workbench app over ``wb_store`` (built once per store and filling; no refresh, so
    tests that change a store use their own app)."""
    from graphiff.workbench import create_app

    key = (wb_store, generation(wb_store))
    if key not in _APPS:
        _APPS[key] = create_app(wb_store, refresh_seconds=0)
    return _APPS[key]


@pytest.fixture
def wb_client(wb_app):
    """A TestClient of ``wb_app`` (host 127.0.0.1: the host check refuses other names) as the
    local user, with the session cookie and its CSRF token (every POST needs them)."""
    from fastapi.testclient import TestClient

    with TestClient(wb_app, base_url="http://127.0.0.1") as client:
        client.headers["X-CSRF-Token"] = client.get("/api/session").json()["csrf"]
        yield client


def misspell(name: str) -> str:
    """A typo in each of the first two words of ``name`` (a letter dropped), lower case.

    >>> misspell("Pearl Zebra Fisheries Pvt Ltd")
    'parl zbra fisheries'
    """
    words = re.findall(r"[A-Za-z]+", name)[:3]
    out = []
    for n, w in enumerate(words):
        w = w.lower()
        out.append(w[:1] + w[2:] if n < 2 and len(w) > 4 else w)
    return " ".join(out)


@pytest.fixture
def wb_facts(wb_app) -> dict[str, Any]:
    """Things to look for in the world: ``cycle_alert`` (the best circular trade alert),
    ``traders`` (its trader node ids), ``trader`` (one of them, the one with aliases when
    there is one), ``name`` and ``misspelt`` (its name), ``aliases`` (its other record keys)."""
    snap = wb_app.state.holder.snapshot
    cyc = next(a for a in snap.alerts.items if a["pattern"] == "circular_trade")
    traders = [f"Trader:{e['id']}" for e in cyc["entities"] if e["label"] == "Trader"]
    idx = snap.index
    best = traders[0]
    aliases: list[str] = []
    for t in traders:
        key = t.split(":", 1)[1]
        members = snap.tables.resolution.members.get("Trader", {}).get(key) or []
        if len(members) > 1:
            best, aliases = t, members[1:]
            break
    i = idx.resolve_one(best)
    from graphiff.graph.index import caption_of, node_props

    name = caption_of("Trader", idx.key(i), node_props(snap.tables, idx, [i])[i])
    return {"cycle_alert": cyc["id"], "traders": traders, "trader": best, "name": name, "misspelt": misspell(name),
            "aliases": aliases}

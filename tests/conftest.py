"""Shared fixtures. The ``store`` fixture runs a test on BOTH stores: the embedded one and a
real Neo4j server (started by ``scripts/neo4j-local`` unless GRAPHIFF_TEST_NEO4J names one)."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from graphiff.stores import Store, open_store

ROOT = Path(__file__).resolve().parents[1]
# pytest collects doctests (--doctest-modules): fixture modules are not doctest modules, and two
# conftest.py files would clash as one module name.
collect_ignore_glob = ["conftest.py", "*/conftest.py"]

KCS = ROOT.parent / "shared" / "datasets" / "kcs" / "df_syn_train_eng.csv"


@pytest.fixture(scope="session")
def neo4j_uri() -> str:
    """The bolt URI of a real Neo4j for tests (started here when not given)."""
    uri = os.environ.get("GRAPHIFF_TEST_NEO4J")
    if uri:
        yield uri
        return
    if not (shutil.which("java") and shutil.which("mvn")):
        pytest.skip("Neo4j tests need Java and Maven to start a local Neo4j (scripts/neo4j-local)")
    proc = subprocess.run([str(ROOT / "scripts" / "neo4j-local"), "start"], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"scripts/neo4j-local start failed:\n{proc.stdout}\n{proc.stderr}")
    uri = proc.stdout.strip().splitlines()[-1]
    yield uri
    subprocess.run([str(ROOT / "scripts" / "neo4j-local"), "stop"], capture_output=True, text=True)


def _wipe_neo4j(store: Store) -> None:
    """An empty graph and an empty case book (``wipe`` spares the case book on purpose)."""
    store.wipe()
    with store.driver.session(database=store.database) as s:  # type: ignore[attr-defined]
        s.run("MATCH (n) WHERE n:_CaseDoc OR n:_CaseChain OR n:_CaseChainHead DETACH DELETE n").consume()


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store_uri(request, tmp_path) -> str:
    """A URI of an empty store, once per backend."""
    if request.param == "embedded":
        return str(tmp_path / "store" / "graph.duckdb")
    uri = request.getfixturevalue("neo4j_uri")
    with open_store(uri) as st:
        _wipe_neo4j(st)
    return uri


@pytest.fixture
def store(store_uri) -> Store:
    """An open, empty store, once per backend."""
    st = open_store(store_uri)
    yield st
    st.close()


@pytest.fixture(scope="module")
def browser():
    """A headless Debian Chromium driven by Playwright, shared by a module's tests."""
    from tests._browserkit import ARGS, CHROMIUM

    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()

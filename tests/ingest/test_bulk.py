"""``graphiff load --bulk`` against a real Neo4j of its own (a bulk import stops, replaces and
restarts the database, so these tests never touch the shared test server): the same graph,
``status --json`` and alerts as a transactional load; the operator's steps for a remote server
and ``--bulk-finish``; a database holding anything is refused.

The server is started with ``scripts/neo4j-local start --fresh`` in a state folder of the
module; the tests are skipped only when Java or Maven is missing (the launcher cannot be built).
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from graphiff.ingest import load_paths
from graphiff.model import model
from graphiff.stores import open_store
from tests._clikit import run_cli_streams
from tests.conftest import ROOT
from tests.world import TABLES, write_world

pytestmark = pytest.mark.neo4j

SCRIPT = ROOT / "scripts" / "neo4j-local"
#: what legitimately differs between two loads of the same files: when they ran
LOAD_TIMES = ("loaded_at", "first_loaded_at", "recorded_at")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(state folder, bolt URI) of a local Neo4j these tests may stop, import into and restart."""
    if not (shutil.which("java") and shutil.which("mvn")):
        pytest.skip("bulk-load tests need Java and Maven to run a local Neo4j (scripts/neo4j-local)")
    state = tmp_path_factory.mktemp("neo4j-bulk")
    shared = Path(os.environ.get("NEO4J_LOCAL_DIR") or ROOT / ".neo4j-local") / "build"
    if shared.exists():  # reuse the launcher already built for the test server
        (state / "build").symlink_to(shared, target_is_directory=True)
    env = {**os.environ, "NEO4J_LOCAL_DIR": str(state), "NEO4J_LOCAL_PORT": "0"}
    proc = subprocess.run([str(SCRIPT), "start", "--fresh"], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        pytest.fail(f"scripts/neo4j-local start failed:\n{proc.stdout}\n{proc.stderr}")
    yield state, proc.stdout.strip().splitlines()[-1]
    subprocess.run([str(SCRIPT), "stop"], capture_output=True, text=True, env=env)


def _uri(state: Path) -> str:
    """Where the module's server answers now (an import restarts it)."""
    return (state / "bolt.uri").read_text().strip()


def _wipe(uri: str) -> None:
    """An empty database: graph, bookkeeping and case book."""
    with open_store(uri) as st:
        st.wipe()
        with st.driver.session(database=st.database) as s:  # type: ignore[attr-defined]
            s.run("MATCH (n) DETACH DELETE n").consume()


def _raw(uri: str) -> dict:
    """Everything a load leaves in the database, as Neo4j holds it (values with their own types,
    not cast back as the store's tables cast them), but the load times."""
    m = model()
    with open_store(uri) as st, st.driver.session(database=st.database) as s:  # type: ignore[attr-defined]
        def rows(q: str) -> list:
            return [r.values() for r in s.run(q)]

        def strip(props: dict) -> dict:
            return {k: v for k, v in props.items() if k != "_loaded_at"}

        nodes = {label: [(k, strip(p)) for k, p in
                         rows(f"MATCH (n:{label}) RETURN n.key, properties(n) ORDER BY n.key")] for label in m.nodes}
        rels = {t: [(rid, strip(p), a, b) for rid, p, a, b in
                    rows(f"MATCH (a)-[r:{t}]->(b) RETURN r.rid, properties(r), labels(a) + [a.key], "
                         "labels(b) + [b.key] ORDER BY r.rid")] for t in m.relationships}
        columns = sorted(rows("MATCH (c:_Columns) RETURN c.id, c.names, c.types"))
        # the case book's constraints are made by the first `detect` and outlive a wipe: not the load's
        schema = sorted(r for r in rows("SHOW INDEXES YIELD name, type, labelsOrTypes, properties, state, "
                                        "owningConstraint WHERE type <> 'LOOKUP' RETURN name, type, labelsOrTypes, "
                                        "properties, state, owningConstraint") if not r[0].startswith("graphiff__Case"))
        other = rows("MATCH (n) WHERE n:_Unit OR n:_Stage RETURN count(n)")[0][0]
    return {"nodes": nodes, "rels": rels, "columns": columns, "schema": schema, "staging": other}


def _status(uri: str) -> dict:
    code, out, err = run_cli_streams("status", "--json", "--store", uri)
    assert code == 0, err
    data = json.loads(out)
    for d in data["loads"]:
        for k in LOAD_TIMES:
            d.pop(k)
    return data


def _alerts(uri: str, out: Path) -> list:
    code, _, err = run_cli_streams("detect", "--store", uri, "--out", str(out), "--json")
    assert code == 0, err
    return json.loads(out.read_text())


def _odd_traders(world: Path) -> None:
    """Values a CSV export must carry whole: a column whose name has a comma, quotes, a colon
    and a backtick, a value spanning lines with quotes and a comma, hostile names."""
    import pandas as pd

    path = world / "traders.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df[ODD] = "a,b"
    df["risk_note"] = ""
    df.loc[0, "risk_note"] = NOTE
    df.loc[1, "name"] = TABLES["traders"][1]["name"]
    df.to_csv(path, index=False)


ODD = 'we`ird, "col":x'
NOTE = 'line one\nline "two", with a comma'


def test_bulk_load_is_the_transactional_load(server, tmp_path, monkeypatch):
    """The same world bulk-loaded (through `scripts/neo4j-local import`) and loaded with
    transactions: the same nodes, relationships, property types, column registry, constraints
    and indexes, `status --json` and alerts; odd column names and multi-line values included."""
    from graphiff.samples import generate_world

    state, uri = server
    monkeypatch.setenv("NEO4J_LOCAL_DIR", str(state))
    world = tmp_path / "world"
    generate_world(world, scale=0.05, seed=11)
    _odd_traders(world)
    _wipe(uri)
    folder = tmp_path / "bulk"
    code, out, err = run_cli_streams("load", str(world), "--bulk", "--store", uri, "--bulk-dir", str(folder),
                                     "--import-command", f"{shlex.quote(str(SCRIPT))} import",
                                     "--quarantine-dir", str(tmp_path / "q"), "--json")
    assert code == 0, err
    res = json.loads(out)
    assert res["bulk"]["imported"] is True and res["bulk"]["uri"] == _uri(state) == uri  # the same port
    assert set(res["bulk"]["seconds"]) == {"load", "export", "import", "constraints and indexes", "bookkeeping"}
    assert not folder.exists()  # the import files are removed once the load is finished
    bulk = _raw(uri), _status(uri), _alerts(uri, tmp_path / "bulk-alerts.json")
    records = res["bulk"]["records"]
    assert records["nodes"] == sum(bulk[1]["nodes"].values())
    assert records["relationships"] == sum(bulk[1]["relationships"].values())
    with open_store(uri) as st:
        traders = st.nodes("Trader").set_index("key")
    first = traders.loc[traders["risk_note"] == NOTE]
    assert len(first) == 1 and first[ODD].iloc[0] == "a,b"

    _wipe(uri)
    code, out, err = run_cli_streams("load", str(world), "--store", uri, "--quarantine-dir", str(tmp_path / "q2"),
                                     "--json")
    assert code == 0, err
    assert json.loads(out)["load_id"] == res["load_id"]
    tx = _raw(uri), _status(uri), _alerts(uri, tmp_path / "tx-alerts.json")
    assert bulk[0]["staging"] == tx[0]["staging"] == 0
    for part in ("columns", "schema", "nodes", "rels"):
        assert bulk[0][part] == tx[0][part], part
    assert bulk[1] == tx[1]
    assert bulk[2] and bulk[2] == tx[2]


def test_remote_steps_then_bulk_finish(server, tmp_path, monkeypatch):
    """Without --import-command the folder keeps the files and the exact steps, and nothing is
    written to the database; --bulk-finish before the import is refused; after the operator's
    import (here: the local script on the folder) it finishes the load (twice: harmless)."""
    state, uri = server
    monkeypatch.setenv("NEO4J_LOCAL_DIR", str(state))
    world = write_world(tmp_path / "world")
    _wipe(uri)
    folder = tmp_path / "bulk"
    code, out, err = run_cli_streams("load", str(world), "--bulk", "--store", uri, "--bulk-dir", str(folder),
                                     "--quarantine-dir", str(tmp_path / "q"))
    assert code == 0, err
    assert "neo4j-admin database import full --overwrite-destination=true neo4j --id-type=actual --nodes=" in out
    assert f"graphiff load --bulk-finish {folder} --store {uri}" in out
    assert {p.name for p in folder.iterdir()} == {"bulk.json", "import.args", "import.sh", "nodes", "relationships"}
    assert not json.loads((folder / "bulk.json").read_text())["multiline"]
    with open_store(uri) as st:
        assert st.counts() == {"nodes": {}, "relationships": {}}
    code, _, err = run_cli_streams("load", "--bulk-finish", str(folder), "--store", uri)
    assert code == 2 and "does not hold what" in err

    proc = subprocess.run([str(SCRIPT), "import", str(folder)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == uri  # started again on the same port
    for _ in range(2):
        code, out, err = run_cli_streams("load", "--bulk-finish", str(folder), "--store", uri)
        assert code == 0, err
    with open_store(str(tmp_path / "e.duckdb")) as emb:
        res = load_paths(emb, [world], quarantine_dir=tmp_path / "q2")
        want = emb.status()
    got = _status(uri)
    assert got["nodes"] == want["nodes"] and got["relationships"] == want["relationships"]
    assert [d["load_id"] for d in got["loads"]] == [res.load_id]


def test_bulk_into_a_database_with_data_is_refused(server, tmp_path):
    """--bulk replaces the whole database, so one holding any node is refused before anything
    is written: exit 2, one line, no traceback, no folder."""
    uri = _uri(server[0])
    with open_store(uri) as st:
        if not sum(st.counts()["nodes"].values()):
            load_paths(st, [write_world(tmp_path / "tiny")], quarantine_dir=tmp_path / "q0")
        before = st.counts()
    folder = tmp_path / "bulk"
    code, out, err = run_cli_streams("load", str(write_world(tmp_path / "world")), "--bulk", "--store", uri,
                                     "--bulk-dir", str(folder), "--quarantine-dir", str(tmp_path / "q"))
    assert code == 2
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --bulk needs an empty Neo4j database")
    assert not folder.exists()
    with open_store(uri) as st:
        assert st.counts() == before
    # and --bulk on the embedded store is a usage error of its own
    code, _, err = run_cli_streams("load", str(tmp_path / "world"), "--bulk", "--store", str(tmp_path / "g.duckdb"))
    assert code == 2 and "Neo4j store" in err

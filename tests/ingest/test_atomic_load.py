"""All-or-nothing loads (issue 11): a load either completes and is recorded, or leaves the store
exactly as it was (same ``status``), with no quarantine file and no load entry. Damaged store
files and refused commands give one clear error and leave no empty store behind.

Tests taking the ``store`` fixture run on both stores (embedded and Neo4j).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import graphiff.ingest.loader as loader
from graphiff.errors import GraphiffError, InvalidInput, StoreError
from graphiff.ingest import load_paths
from graphiff.stores import open_store
from tests.conftest import ROOT
from tests.world import TABLES, write_world


def _status(store) -> dict:
    s = store.status()
    return {"nodes": s["nodes"], "relationships": s["relationships"], "loads": s["loads"]}


def _rates_and_bad_traders(folder: Path) -> Path:
    """A good rates.csv and a traders.csv with an undecodable byte after 64 KiB of good rows."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rates.csv").write_text("currency,month,usd_per_unit\nEUR,2024-01,1.09\nGBP,2024-01,1.27\n")
    rows = [f"T{i:06d},Trader number {i} with a long enough name,KE" for i in range(3000)]
    body = ("trader_id,name,country\n" + "\n".join(rows) + "\n").encode()
    assert len(body) > 70_000
    (folder / "traders.csv").write_bytes(body + b"T999999,Bad \xff\xfe byte,KE\n")
    return folder


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "graphiff.cli", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=600)


# ---- the defect as the issue reports it -------------------------------------------------------

def test_fatal_error_in_a_later_file_leaves_nothing(store, tmp_path):
    """rates.csv good, traders.csv with a bad byte after 64 KiB: exit 2 and the store as before
    (no rates, no load entry), no quarantine file."""
    write_world(tmp_path / "w1", tables={"traders": TABLES["traders"]})
    load_paths(store, [tmp_path / "w1"], quarantine_dir=tmp_path / "q0")
    before = _status(store)
    folder = _rates_and_bad_traders(tmp_path / "bad")
    q = tmp_path / "q"
    with pytest.raises(GraphiffError):
        load_paths(store, [folder], quarantine_dir=q)
    assert _status(store) == before
    assert store.nodes("Rate").empty
    assert not q.exists() or not any(q.iterdir())


def test_cli_fatal_error_exit_2_and_status_unchanged(tmp_path):
    db = tmp_path / "g.duckdb"
    write_world(tmp_path / "w1", tables={"traders": TABLES["traders"]})
    res = _cli("load", str(tmp_path / "w1"), "--store", str(db), "--quarantine-dir", str(tmp_path / "q0"))
    assert res.returncode == 0, res.stderr
    before = _cli("status", "--store", str(db), "--json")
    assert before.returncode == 0
    folder = _rates_and_bad_traders(tmp_path / "bad")
    q = tmp_path / "q"
    res = _cli("load", str(folder), "--store", str(db), "--quarantine-dir", str(q))
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    after = _cli("status", "--store", str(db), "--json")
    assert json.loads(after.stdout) == json.loads(before.stdout)
    assert not q.exists() or not any(q.iterdir())


# ---- any failure mid-load, an interrupt included -------------------------------------------

@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_failure_mid_load_rolls_back_and_rerun_completes(store, tmp_path, monkeypatch, error):
    tables = {k: list(v) for k, v in TABLES.items()}
    tables["declarations"] = tables["declarations"] + [{**TABLES["declarations"][0], "declaration_id": "BAD",
                                                        "date": "2024-02-30"}]
    folder = write_world(tmp_path / "w", tables=tables)  # one quarantined row
    write_world(tmp_path / "w0", tables={"rates": [{"currency": "GBP", "month": "2024-02", "usd_per_unit": "1.3"}]})
    load_paths(store, [tmp_path / "w0"], quarantine_dir=tmp_path / "q0")
    before = _status(store)
    real = loader.write_rows
    calls = {"n": 0}

    def failing(ctx, kind, rows, prov):
        calls["n"] += 1
        if kind.name == "payments":  # late in the load: nodes and relationships of six files written
            raise error("boom")
        return real(ctx, kind, rows, prov)

    monkeypatch.setattr(loader, "write_rows", failing)
    q = tmp_path / "q"
    with pytest.raises(error):
        load_paths(store, [folder], quarantine_dir=q)
    assert calls["n"] > 3
    assert _status(store) == before
    assert not q.exists() or not any(q.iterdir()), "a failed load leaves no quarantine file"
    monkeypatch.setattr(loader, "write_rows", real)
    result = load_paths(store, [folder], quarantine_dir=q)
    after = _status(store)
    assert [d["load_id"] for d in after["loads"]][-1] == result.load_id
    assert after["nodes"]["Payment"] == 1 and after["nodes"]["Rate"] == 2
    assert result.quarantine and Path(result.quarantine).exists()
    assert [p.name for p in q.iterdir()] == [f"{result.load_id}.csv"]


def test_lookups_see_the_loads_own_writes(store, tmp_path):
    """Inside the unit, reads see what the load wrote: rates convert declarations, SETTLES
    finds declarations of the same load."""
    folder = write_world(tmp_path / "w")
    load_paths(store, [folder], quarantine_dir=tmp_path / "q")
    decl = store.nodes("Declaration").set_index("key")
    assert decl.loc["D1/1", "usd_status"] == "converted"
    assert abs(decl.loc["D1/1", "value_usd"] - 1090.0) < 1e-6
    assert len(store.rels("SETTLES")) > 0


def test_nested_units(store):
    import pandas as pd
    with store.atomic("L1"):
        with store.atomic("L1"):
            store.upsert_nodes("Country", pd.DataFrame({"key": ["KE"]}))
        with pytest.raises(StoreError):
            with store.atomic("L2"):
                pass
    assert list(store.nodes("Country")["key"]) == ["KE"]
    with pytest.raises(ValueError):
        with store.atomic("L3"):
            store.upsert_nodes("Country", pd.DataFrame({"key": ["UG"]}))
            assert sorted(store.nodes("Country")["key"]) == ["KE", "UG"]
            raise ValueError("x")
    assert list(store.nodes("Country")["key"]) == ["KE"]


# ---- a killed load (embedded; the Neo4j one is in tests/stores/test_neo4j_store.py) -----------

KILLED_LOAD = """
import os, signal, sys
import graphiff.ingest.loader as loader
from graphiff.stores import open_store
real = loader.write_rows
def dying(ctx, kind, rows, prov):
    if kind.name == "payments":
        os.kill(os.getpid(), signal.SIGKILL)
    return real(ctx, kind, rows, prov)
loader.write_rows = dying
with open_store(sys.argv[2]) as st:
    loader.load_paths(st, [sys.argv[1]], quarantine_dir=sys.argv[3])
"""


def test_sigkill_mid_load_leaves_the_embedded_store_as_before(tmp_path):
    from graphiff.samples import generate_world
    folder = tmp_path / "world"
    generate_world(folder, scale=0.3, seed=5)
    (folder / "truth.json").unlink(missing_ok=True)
    with (folder / "declarations.csv").open("a", encoding="utf-8") as fh:
        fh.write("SHORT,1,EXPORT\n")  # one quarantined row, before the payments
    db = tmp_path / "g.duckdb"
    write_world(tmp_path / "w0", tables={"traders": TABLES["traders"]})
    res = _cli("load", str(tmp_path / "w0"), "--store", str(db), "--quarantine-dir", str(tmp_path / "q"))
    assert res.returncode == 0, res.stderr
    before = json.loads(_cli("status", "--store", str(db), "--json").stdout)
    # a load that kills itself (SIGKILL: no cleanup runs) once six files are written
    proc = subprocess.run([sys.executable, "-c", KILLED_LOAD, str(folder), str(db), str(tmp_path / "q")],
                          capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert json.loads(_cli("status", "--store", str(db), "--json").stdout) == before
    assert not list((tmp_path / "q").glob("L*.csv")), "a killed load leaves no quarantine file"
    assert list((tmp_path / "q").glob("*.partial"))  # only its hidden partial file, removed below
    res = _cli("load", str(folder), "--store", str(db), "--quarantine-dir", str(tmp_path / "q"), "--json")
    assert res.returncode == 0, res.stderr
    with open_store(str(tmp_path / "fresh.duckdb")) as fresh:
        load_paths(fresh, [tmp_path / "w0"], quarantine_dir=tmp_path / "q2")
        load_paths(fresh, [folder], quarantine_dir=tmp_path / "q2")
        expected = fresh.counts()
    with open_store(str(db)) as st:
        assert st.counts() == expected
    assert not list((tmp_path / "q").glob("*.partial")), "the re-run removes the killed load's partial file"
    assert list((tmp_path / "q").glob("L*.csv")), "the completed load has its quarantine file"


# ---- damaged store files and refused commands ----------------------------------------------------

def _real_store(tmp_path: Path) -> Path:
    db = tmp_path / "real.duckdb"
    with open_store(str(db)) as st:
        load_paths(st, [write_world(tmp_path / "w")], quarantine_dir=tmp_path / "q")
    return db


@pytest.mark.parametrize("damage", ["half", "header", "overwrite"])
def test_damaged_store_is_one_clear_error(tmp_path, damage):
    db = _real_store(tmp_path)
    size = db.stat().st_size
    if damage == "half":
        os.truncate(db, size // 2)
    elif damage == "header":
        os.truncate(db, 100)
    else:
        with db.open("r+b") as fh:  # every data block overwritten, the file headers kept
            fh.seek(3 * 4096)
            fh.write(b"\xde\xad\xbe\xef" * ((size - 3 * 4096) // 4))
    for args in (["status"], ["status", "--json"], ["load", str(tmp_path / "w")], ["explore", "T1"],
                 ["detect"]):
        res = _cli(*args, "--store", str(db))
        assert res.returncode == 2, (args, res.stderr)
        assert "Traceback" not in res.stderr, (args, res.stderr)
        assert "is not a graphiff store or is damaged" in res.stderr, (args, res.stderr)
    assert db.exists() and db.stat().st_size > 0  # never removed


def test_damaged_store_library_raises_store_error(tmp_path):
    db = _real_store(tmp_path)
    os.truncate(db, db.stat().st_size // 2)
    with pytest.raises(StoreError, match="is not a graphiff store or is damaged"):
        with open_store(str(db)) as st:
            st.status()
            st.nodes("Trader")


def test_not_a_store_file(tmp_path):
    f = tmp_path / "notes.duckdb"
    f.write_text("hello")
    res = _cli("status", "--store", str(f))
    assert res.returncode == 2 and "is not a graphiff store or is damaged" in res.stderr
    assert f.read_text() == "hello"


def test_failed_or_refused_command_leaves_no_empty_store(tmp_path):
    db = tmp_path / "new.duckdb"
    bad = _rates_and_bad_traders(tmp_path / "bad")
    assert _cli("load", str(bad), "--store", str(db)).returncode == 2
    assert not db.exists() and not db.with_name(db.name + ".wal").exists()
    (tmp_path / "odd.txt").write_text("x")
    assert _cli("load", str(tmp_path / "odd.txt"), "--store", str(db)).returncode == 2
    assert not db.exists()
    assert _cli("status", "--store", str(db)).returncode == 2
    assert not db.exists()
    (tmp_path / "nope.zip").write_bytes(b"not a zip")
    res = _cli("import-package", str(tmp_path / "nope.zip"), "--store", str(db))
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert not db.exists()
    # an existing store stays, whatever fails
    write_world(tmp_path / "w", tables={"traders": TABLES["traders"]})
    res = _cli("load", str(tmp_path / "w"), "--store", str(db), "--quarantine-dir", str(tmp_path / "q"))
    assert res.returncode == 0, res.stderr
    assert _cli("load", str(bad), "--store", str(db)).returncode == 2
    assert db.exists()
    with open_store(str(db), create=False) as st:
        assert st.counts()["nodes"]["Trader"] == 3


def test_invalid_input_is_still_invalid_input(store, tmp_path):
    with pytest.raises(InvalidInput):
        load_paths(store, [_rates_and_bad_traders(tmp_path / "bad")], quarantine_dir=tmp_path / "q")

"""A file read in many chunks loads as in one: repeated keys across chunks are quarantined with
the line of their first row, and each chunk's lookups of stored nodes (end labels, SETTLES) see
what earlier chunks and files wrote. The loader keeps no per-row state in Python for this (the
keys of a file live in :class:`graphiff.ingest.first_lines.FirstLines`, the lookups are store
queries), so these are the paths a long file takes."""
from __future__ import annotations

import csv
import functools
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from graphiff.ingest import load_paths
from graphiff.ingest import loader as loader_module
from graphiff.ingest.first_lines import FirstLines
from graphiff.ingest.readers import read_chunks
from graphiff.model.lookup import match_by_lookup
from graphiff.samples import generate_world
from graphiff.stores import open_store

SMALL = 150  # rows per chunk: the larger files of the world are read in several chunks


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> Path:
    """A small generated world whose traders, declarations and payments files end with
    repeats of earlier rows (another name, amount...): repeated keys many chunks apart."""
    root = tmp_path_factory.mktemp("chunked")
    generate_world(root / "csv", scale=0.05, seed=3)
    folder = root / "world"
    folder.mkdir()
    repeat = {"traders": "name", "declarations": "invoice_value", "payments": "amount"}
    for path in sorted((root / "csv").glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        if path.stem in repeat:
            again = frame.iloc[[0, 3, len(frame) // 2]].copy()
            again[repeat[path.stem]] = "7"
            frame = pd.concat([frame, again], ignore_index=True)
        # JSON Lines: read in chunks of rows (CSV is read in blocks of bytes)
        frame.to_json(folder / f"{path.stem}.jsonl", orient="records", lines=True)
    return folder


def _load(store_uri: str, world: Path, quarantine: Path, monkeypatch, chunk_rows: int | None) -> dict:
    if chunk_rows is not None:
        monkeypatch.setattr(loader_module, "read_chunks", functools.partial(read_chunks, chunk_rows=chunk_rows))
    with open_store(store_uri) as st:
        res = load_paths(st, [world], quarantine_dir=quarantine)
        status = st.status()
    monkeypatch.undo()
    return {"result": res, "counts": {k: status[k] for k in ("nodes", "relationships")}}


def _quarantine(path: str | None) -> list[dict]:
    assert path, "the world's repeated rows must be quarantined"
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _tables(path: Path) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(path), read_only=True)
    names = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
             if r[0].startswith(("n_", "r_"))]
    out = {}
    for n in names:
        key = "rid" if n.startswith("r_") else "key"
        out[n] = con.execute(f'SELECT * EXCLUDE (_loaded_at) FROM "{n}" ORDER BY {key}').df()
    con.close()
    return out


def test_many_chunks_give_the_same_graph_and_quarantine(world, tmp_path, monkeypatch):
    whole = _load(str(tmp_path / "whole.duckdb"), world, tmp_path / "q1", monkeypatch, None)
    small = _load(str(tmp_path / "small.duckdb"), world, tmp_path / "q2", monkeypatch, SMALL)
    assert small["counts"] == whole["counts"]
    assert small["result"].loaded == whole["result"].loaded
    assert small["result"].quarantined == whole["result"].quarantined
    rows = _quarantine(small["result"].quarantine)
    assert rows == _quarantine(whole["result"].quarantine)
    repeated = [r for r in rows if r["reason"].startswith("duplicate key")]
    assert {r["file"] for r in repeated} == {"traders.jsonl", "declarations.jsonl", "payments.jsonl"}
    # a repeat names the line of its first row (JSON Lines: the first row is line 1)
    for r in repeated:
        first = int(r["reason"].split("line ")[1].rstrip(")"))
        assert 1 <= first < int(r["line"])
    a, b = _tables(tmp_path / "whole.duckdb"), _tables(tmp_path / "small.duckdb")
    assert a.keys() == b.keys()
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)


def test_chunked_load_on_both_stores(store_uri, world, tmp_path, monkeypatch):
    whole = _load(str(tmp_path / "whole.duckdb"), world, tmp_path / "q1", monkeypatch, None)
    small = _load(store_uri, world, tmp_path / "q2", monkeypatch, SMALL)
    assert small["counts"] == whole["counts"]
    assert _quarantine(small["result"].quarantine) == _quarantine(whole["result"].quarantine)


def test_first_lines_across_batches():
    with FirstLines() as seen:
        assert seen.first(np.array([], dtype=object), np.array([], dtype=np.int64)).tolist() == []
        assert seen.first(np.array(["A", "B", "A"], dtype=object), np.array([2, 3, 5])).tolist() == [2, 3, 2]
        assert seen.first(np.array(["C", "A", "C"], dtype=object), np.array([6, 7, 9])).tolist() == [6, 2, 6]
        assert seen.first(np.array(["C", "D"], dtype=object), np.array([10, 11])).tolist() == [6, 11]


def test_store_lookups_answer_as_the_rule(store):
    """known_keys and lookup_nodes give what the rule gives on the stored nodes, on both stores
    (the embedded one answers with queries, Neo4j reads the label)."""
    store.upsert_nodes("Declaration", pd.DataFrame({
        "key": ["D1/1", "D1/2", "D2/1", "D3/1"], "declaration_id": ["D1", "D1", "D2", None],
        "invoice_no": ["I1", None, "I9", "I9"], "_source": "d.csv", "_line": [2, 3, 4, 5], "_load_id": "L",
        "_loaded_at": "2024-01-01T00:00:00Z"}))
    rows = pd.DataFrame({"key": ["P1", "P2", "P3", "P4", "P5"], "declaration_id": ["D1", None, "D9", None, "D2"],
                         "invoice_no": ["I9", "I9", "I1", None, None]})
    props = ("declaration_id", "invoice_no")
    got = store.lookup_nodes("Declaration", rows, props)
    want = match_by_lookup(rows, store.nodes("Declaration", list(props)), props)
    assert got.values.tolist() == want.values.tolist()
    assert got.values.tolist() == [[0, "D1/1", "declaration_id"], [0, "D1/2", "declaration_id"],
                                   [4, "D2/1", "declaration_id"], [1, "D2/1", "invoice_no"], [1, "D3/1", "invoice_no"]]
    assert store.lookup_nodes("Declaration", rows[["key"]], props).empty
    assert store.lookup_nodes("Payment", rows, props).empty
    assert store.known_keys("Declaration", ["D1/2", "X", "D3/1"]).tolist() == [True, False, True]
    assert store.known_keys("Trader", ["D1/2"]).tolist() == [False]
    assert store.known_keys("Declaration", []).tolist() == []

"""The Parquet snapshot of a store (``graphiff snapshot``): every kind read back as the store
gives it, partitioned by kind and month, on both stores."""
from __future__ import annotations

import json

import pytest

from graphiff.errors import InvalidInput
from graphiff.graph.snapshot import MONTH, read_kind, read_manifest, write_snapshot
from graphiff.ingest import load_paths
from graphiff.samples import generate_world
from tests._clikit import run_cli_streams


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("snapshot-world")
    generate_world(folder, scale=0.03, seed=5)
    return folder


def test_snapshot_reads_back_as_the_store(store, world, tmp_path):
    load_paths(store, [world])
    manifest = write_snapshot(store, tmp_path / "snap")
    counts = store.counts()
    assert set(manifest["nodes"]) == set(counts["nodes"])
    assert set(manifest["rels"]) == set(counts["relationships"])
    for kind, read in (("nodes", store.nodes), ("rels", store.rels)):
        for name in manifest[kind]:
            back = read_kind(tmp_path / "snap", manifest, kind, name)
            assert back.equals(read(name)), f"{kind} {name} differs"
            assert back.dtypes.equals(read(name).dtypes), f"{kind} {name} has other types"
    # dated kinds are partitioned by month, a relationship by its dated end's month
    months = sorted(p.name for p in (tmp_path / "snap" / "nodes" / "Declaration").iterdir())
    assert len(months) > 1 and all(m.startswith(f"{MONTH}=20") for m in months)
    assert sorted(p.name for p in (tmp_path / "snap" / "rels" / "EXPORTED").iterdir()) == months
    assert [p.name for p in (tmp_path / "snap" / "nodes" / "Trader").iterdir()] == [f"{MONTH}=none"]
    assert manifest["rels"]["EXPORTED"]["ends"] == [["Trader", "Declaration"]]
    assert read_manifest(tmp_path / "snap") == manifest


def test_snapshot_refuses_to_overwrite(tmp_path):
    from graphiff.stores import open_store

    with open_store(str(tmp_path / "g.duckdb")) as st:
        write_snapshot(st, tmp_path / "snap")
        (tmp_path / "other").mkdir()
        (tmp_path / "other" / "keep.txt").write_text("mine")
        with pytest.raises(InvalidInput, match="not empty"):
            write_snapshot(st, tmp_path / "snap")
        with pytest.raises(InvalidInput, match="not a graphiff snapshot"):
            write_snapshot(st, tmp_path / "other", overwrite=True)
        assert (tmp_path / "other" / "keep.txt").read_text() == "mine"
        write_snapshot(st, tmp_path / "snap", overwrite=True)
    with pytest.raises(InvalidInput, match="not a graphiff snapshot"):
        read_manifest(tmp_path / "other")


def test_snapshot_command(world, tmp_path):
    db = str(tmp_path / "g.duckdb")
    code, _, err = run_cli_streams("load", str(world), "--store", db, "--json")
    assert code == 0, err
    code, out, err = run_cli_streams("snapshot", "--out", str(tmp_path / "snap"), "--store", db, "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["nodes"]["Declaration"] > 0 and summary["rels"]["EXPORTED"] == summary["nodes"]["Declaration"]
    code, out, err = run_cli_streams("snapshot", "--out", str(tmp_path / "snap"), "--store", db)
    assert code == 2 and "not empty" in err and "Traceback" not in err


def test_snapshot_in_pieces_keeps_the_store_types(tmp_path):
    """A table read in pieces (the embedded store pages by 2,048-row vectors) is the table read
    whole: a column null in the first piece and valued later keeps the whole table's dtype, in
    the store's pieces and in the snapshot."""
    import pandas as pd

    from graphiff.stores import open_store

    n = 5000
    late = [None] * 3000 + [f"v{i}" for i in range(n - 3000)]
    rows = pd.DataFrame({
        "key": [f"D{i:05d}" for i in range(n)],
        "date": [f"2024-{1 + i % 12:02d}-01" for i in range(n)],
        "late_text": late,
        "late_int": [None] * 3000 + list(range(n - 3000)),
        "never": [None] * n,
    })
    with open_store(str(tmp_path / "g.duckdb")) as st:
        st.upsert_nodes("Declaration", rows)
        st.upsert_rels("EXPORTED", pd.DataFrame({"src_label": "Trader", "src": [f"T{i % 7}" for i in range(n)],
                                                 "dst_label": "Declaration", "dst": rows["key"]}))
        whole = st.nodes("Declaration")
        pieces = list(st.iter_nodes("Declaration", rows=2048))
        assert len(pieces) == 3
        joined = pd.concat(pieces, ignore_index=True)
        assert joined.equals(whole) and joined.dtypes.equals(whole.dtypes)
        assert all(p.dtypes.equals(whole.dtypes) for p in pieces)
        manifest = write_snapshot(st, tmp_path / "snap", rows=2048)
        for kind, read in (("nodes", st.nodes), ("rels", st.rels)):
            for name in manifest[kind]:
                back = read_kind(tmp_path / "snap", manifest, kind, name)
                assert back.equals(read(name)) and back.dtypes.equals(read(name).dtypes), f"{kind} {name} differs"
    assert manifest["nodes"]["Declaration"]["rows"] == n
    assert len(list((tmp_path / "snap" / "rels" / "EXPORTED").iterdir())) == 12  # by the declarations' months

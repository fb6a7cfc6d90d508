"""Families split by whose records they are (``Partitioning.owners``): a record in several
parts, each part keeping the alerts of the entities it owns; and linked carriers' values too
common to link, removed from the records the parts get."""
from __future__ import annotations

import pytest

from graphiff.detectors import run_detectors
from graphiff.graph.snapshot import write_snapshot
from graphiff.ingest import load_paths
from graphiff.samples import generate_world
from graphiff.spark.engine import run_spark_detectors
from graphiff.stores import open_store


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """(store file, snapshot folder) of a small planted world."""
    root = tmp_path_factory.mktemp("entity-parts")
    generate_world(root / "world", scale=0.1, seed=11)
    with open_store(str(root / "g.duckdb")) as st:
        load_paths(st, [root / "world"])
        write_snapshot(st, root / "snap")
    return root / "g.duckdb", root / "snap"


@pytest.mark.parametrize("family, params, buckets", [
    # one bucket: every trader's part in it, each declaration there twice (exporter, importer)
    ("shell_intermediary", {}, 1),
    # a value shared by more than two carriers links nothing: it is removed from the parts
    ("linked_carriers", {"max_identifier_carriers": 2, "threshold": 0.3}, 5),
])
def test_owned_parts_give_the_embedded_alerts(family, params, buckets, world, spark):
    store, snap = world
    with open_store(str(store)) as st:
        embedded = run_detectors(st, [family], params={family: params}, write_back=False)
    on_spark = run_spark_detectors(snap, [family], params={family: params}, spark=spark, write_back=False,
                                   buckets=buckets)
    assert [a.to_dict() for a in on_spark] == [a.to_dict() for a in embedded]
    assert embedded

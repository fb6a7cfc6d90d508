"""Families split by whose records they are (``Partitioning.owners``): a record in several
parts, each part keeping the alerts of the entities it owns; and linked carriers, whose parts
are given features instead of declarations."""
from __future__ import annotations

import json

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
    # a value shared by more than two carriers links nothing: the parts must agree
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


def test_linked_carrier_parts_hold_features_not_declarations(world, spark):
    """A component of linked carriers can carry a third of all declarations (two shipping
    lines of the 3M world): its part is given the carriers' features, never the declarations."""
    from graphiff.detectors.linked_carriers import DEFAULTS
    from graphiff.graph.snapshot import read_manifest
    from graphiff.spark.engine import _packed
    from graphiff.spark.parts import partitioning

    _, snap = world
    kept: list = []
    packed = _packed(spark, str(snap), read_manifest(str(snap)), partitioning("linked_carriers"), dict(DEFAULTS),
                     4, 2, True, kept)
    kinds = {(r["kind"], r["name"]) for r in packed.select("kind", "name").distinct().collect()}
    rows = packed.where("kind = 'feature'").select("__part", "name", "payload").collect()
    carriers = {name: {(r["__part"], json.loads(r["payload"])["carrier_id"]) for r in rows if r["name"] == name}
                for name in ("carrier_shipments", "carrier_declarations")}
    clients = {(r["__part"], json.loads(r["payload"])["trader_id"]) for r in rows if r["name"] == "carrier_shipments"}
    totals = {(r["__part"], json.loads(r["payload"])["trader_id"]) for r in rows if r["name"] == "trader_carried"}
    # a task per bucket: a shuffle this small would otherwise be merged into one task
    assert packed.rdd.getNumPartitions() == 4
    for frame in kept:
        frame.unpersist()
    # a bucket holds the shipments of its components' carriers only (not every carrier of
    # their clients: a component of carriers that carry for everyone would hold everything),
    # and one total per client
    assert carriers["carrier_shipments"] and carriers["carrier_shipments"] == carriers["carrier_declarations"]
    assert totals == clients
    assert kinds == {("feature", "carrier_shipments"), ("feature", "trader_carried"),
                     ("feature", "carrier_declarations"), ("feature", "carrier_identifiers"), ("owner", "Carrier")}

"""``detect --engine spark``: every family on Spark gives the embedded engine's alerts, on the
planted sample world and on a world drawn with other assumptions, and writes them back the same."""
from __future__ import annotations

import json

import pytest

from graphiff.alerts import Alert, read_alerts_json
from graphiff.detectors import run_detectors
from graphiff.errors import GraphiffError
from graphiff.graph.snapshot import write_snapshot
from graphiff.ingest import load_paths
from graphiff.samples import generate_world
from graphiff.spark.engine import run_spark_detectors, spark_detectors, spark_patterns
from graphiff.stores import open_store
from tests._clikit import run_cli_streams
from tests._drawnkit import drawn_store

SPARK_FAMILIES = spark_patterns()


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """(store file, snapshot folder) of the planted sample world."""
    root = tmp_path_factory.mktemp("spark-planted")
    generate_world(root / "world", scale=0.1, seed=7)
    with open_store(str(root / "g.duckdb")) as st:
        load_paths(st, [root / "world"])
        write_snapshot(st, root / "snap")
    return root / "g.duckdb", root / "snap"


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    """(store file, snapshot folder) of a drawn world (tuning seed 4)."""
    _, store = drawn_store(4)
    snap = tmp_path_factory.mktemp("spark-drawn") / "snap"
    with open_store(str(store)) as st:
        write_snapshot(st, snap)
    return store, snap


def _as_dicts(alerts: list[Alert]) -> list[dict]:
    return [a.to_dict() for a in alerts]


@pytest.fixture(scope="module")
def spark_alerts(spark, planted, drawn):
    """Every Spark family's alerts on both worlds, from one run per world."""
    return {name: run_spark_detectors(snap, SPARK_FAMILIES, spark=spark, write_back=False, buckets=3)
            for name, (_, snap) in (("planted", planted), ("drawn", drawn))}


@pytest.mark.parametrize("world", ["planted", "drawn"])
@pytest.mark.parametrize("family", SPARK_FAMILIES)
def test_spark_gives_the_embedded_alerts(family, world, planted, drawn, spark_alerts):
    store, _ = planted if world == "planted" else drawn
    det = spark_detectors([family])[0]
    with open_store(str(store)) as st:
        embedded = run_detectors(st, [family], write_back=False)
    on_spark = [a for a in spark_alerts[world] if a.pattern in det.patterns]
    assert _as_dicts(on_spark) == _as_dicts(embedded)
    if world == "planted":  # the planted world has every family: the comparison is not vacuous
        assert embedded, f"{family} finds nothing on the planted world"


def test_detect_command_on_spark_writes_back_like_embedded(planted, tmp_path, spark):
    """The CLI end to end (local[2], a snapshot of the store made by the command, three buckets):
    the alerts file and the alerts written back equal the embedded engine's."""
    import shutil

    store, _ = planted
    for name in ("emb", "spk"):
        shutil.copy(store, tmp_path / f"{name}.duckdb")
    code, out, err = run_cli_streams("detect", "circular_trade", "--store", str(tmp_path / "emb.duckdb"),
                                     "--out", str(tmp_path / "emb.json"), "--json")
    assert code == 0, err
    code, out, err = run_cli_streams("detect", "circular_trade", "--engine", "spark", "--master", "local[2]",
                                     "--store", str(tmp_path / "spk.duckdb"), "--out", str(tmp_path / "spk.json"),
                                     "--buckets", "3", "--json")
    assert code == 0, err
    assert json.loads(out)["patterns"]["circular_trade"]["alerts"] > 0
    assert _as_dicts(read_alerts_json(tmp_path / "spk.json")) == _as_dicts(read_alerts_json(tmp_path / "emb.json"))
    stored = {}
    for name in ("emb", "spk"):
        with open_store(str(tmp_path / f"{name}.duckdb")) as st:
            a = st.nodes("Alert")
            stored[name] = sorted(a["key"].astype(str))
            assert len(st.rels("FLAGS")) > 0
    assert stored["spk"] == stored["emb"] and stored["emb"]


def test_families_not_on_spark_are_refused_before_spark_starts(planted):
    store, snap = planted
    on_spark = set(SPARK_FAMILIES)
    off = sorted(n for n in ("split_invoices", "phoenix_trader", "scatter_gather") if n not in on_spark)
    assert off
    with pytest.raises(GraphiffError, match="does not run on Spark"):
        spark_detectors(off)
    code, _, err = run_cli_streams("detect", off[0], "--engine", "spark", "--store", str(store))
    assert code == 2 and "does not run on Spark" in err and "Traceback" not in err
    code, _, err = run_cli_streams("detect", "--master", "local[2]", "--store", str(store))
    assert code == 2 and "--engine spark" in err
    code, _, err = run_cli_streams("detect", "--buckets", "4", "--store", str(store))
    assert code == 2 and "--engine spark" in err

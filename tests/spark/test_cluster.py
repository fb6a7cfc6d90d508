"""The detectors on a real standalone Spark cluster, started as docs/scale.md says (a master and
one worker from the pyspark package's ``spark-class``), give the alerts of ``local[2]``."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(path: Path, text: str, proc: subprocess.Popen, seconds: float = 120) -> None:
    end = time.time() + seconds
    while time.time() < end:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    raise AssertionError(f"{text!r} not in {path.name}:\n{path.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def cluster(tmp_path):
    """spark://127.0.0.1:PORT of a master with one worker (2 cores, 2 GB)."""
    pyspark = pytest.importorskip("pyspark")
    home = Path(pyspark.__file__).parent
    env = {**os.environ, "SPARK_HOME": str(home), "PYSPARK_PYTHON": sys.executable}
    port = _free_port()
    url = f"spark://127.0.0.1:{port}"
    logs = {n: tmp_path / f"{n}.log" for n in ("master", "worker")}
    cls = home / "bin" / "spark-class"
    master = subprocess.Popen([str(cls), "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                               "--port", str(port), "--webui-port", str(_free_port())],
                              stdout=logs["master"].open("w"), stderr=subprocess.STDOUT, env=env)
    procs = [master]
    try:
        _wait_for(logs["master"], "ALIVE", master)
        worker = subprocess.Popen([str(cls), "org.apache.spark.deploy.worker.Worker", url, "--cores", "2",
                                   "--memory", "2g", "--webui-port", str(_free_port()),
                                   "--work-dir", str(tmp_path / "work")],
                                  stdout=logs["worker"].open("w"), stderr=subprocess.STDOUT, env=env)
        procs.append(worker)
        _wait_for(logs["worker"], "Successfully registered with master", worker)
        yield url
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()


def test_detect_on_a_standalone_cluster(cluster, tmp_path):
    from graphiff.alerts import read_alerts_json
    from graphiff.detectors import run_detectors
    from graphiff.graph.snapshot import write_snapshot
    from graphiff.ingest import load_paths
    from graphiff.samples import generate_world
    from graphiff.stores import open_store

    generate_world(tmp_path / "world", scale=0.05, seed=3)
    store = str(tmp_path / "g.duckdb")
    with open_store(store) as st:
        load_paths(st, [tmp_path / "world"])
        write_snapshot(st, tmp_path / "snap")
        embedded = run_detectors(st, ["circular_trade"], write_back=False)
    assert embedded
    proc = subprocess.run([sys.executable, "-m", "graphiff.cli", "detect", "circular_trade", "--engine", "spark",
                           "--master", cluster, "--snapshot", str(tmp_path / "snap"), "--store", store,
                           "--out", str(tmp_path / "alerts.json"), "--spark-conf", "spark.executor.memory=1g",
                           "--json"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout)["patterns"]["circular_trade"]["alerts"] == len(embedded)
    got = [a.to_dict() for a in read_alerts_json(tmp_path / "alerts.json")]
    assert got == [a.to_dict() for a in embedded]
    # the executor ran on the worker: its application folder is there
    assert any((tmp_path / "work").glob("app-*")), "no application ran on the worker"

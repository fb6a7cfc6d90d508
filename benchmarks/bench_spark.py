"""Benchmark the Spark engine against the embedded one (results: BENCHMARKS.md, "Detectors on
Spark (issue 16)").

Each run is a child process; the parent samples the resident memory of the child's whole
process tree (the Python driver, Spark's JVM and its Python workers) and keeps the peaks of its
RSS sum (``peak_mb``, every 0.2 s: a page shared by forked workers counts in each) and of its
PSS sum (``peak_pss_mb``, every 2 s: shared pages divided among their sharers). The families
are the ones that run on Spark (``graphiff.spark.engine.spark_patterns``).

Usage::

    graphiff samples W/world --scale 35 --seed 7          # ~1M declaration rows
    graphiff load W/world --store W/g.duckdb
    graphiff snapshot --out W/snap --store W/g.duckdb
    python benchmarks/bench_spark.py --store W/g.duckdb --snapshot W/snap --embedded --json W/spark.json

``--embedded`` runs the embedded engine on the same families first, side by side, and checks
that both engines' alerts are equal. ``--master`` (default ``local[2]``) and ``--spark-conf``
go to the Spark session (default ``spark.driver.memory=8g``: in local mode the executors run in
the driver's JVM).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

CHILD = r"""
import json, sys, time
mode, store, snap, master, conf, out = sys.argv[1:7]
families = json.loads(sys.argv[7])
buckets = int(sys.argv[8]) or None
seconds = {}
def progress(name, status, info):
    if status == "done" and name != "triage":
        seconds[name] = round(info["seconds"], 2)
        print(json.dumps({"mode": mode, "family": name, "seconds": seconds[name], "alerts": info["alerts"],
                          "at": round(time.perf_counter() - t0, 1)}), file=sys.stderr, flush=True)
t0 = time.perf_counter()
if mode == "embedded":
    from graphiff.detectors import run_detectors
    from graphiff.stores import open_store
    with open_store(store) as st:
        alerts = run_detectors(st, families, write_back=False, progress=progress)
else:
    from graphiff.spark.engine import run_spark_detectors
    alerts = run_spark_detectors(snap, families, master=master, conf=json.loads(conf), write_back=False,
                                 progress=progress, buckets=buckets)
secs = time.perf_counter() - t0
json.dump([a.to_dict() for a in alerts], open(out, "w"))
print(json.dumps({"seconds": round(secs, 1), "families": seconds, "alerts": len(alerts)}))
"""


def _tree_mb(proc: psutil.Process, pss: bool) -> tuple[float, float]:
    """The resident memory of ``proc`` and its descendants: the sum of their RSS (pages shared
    between processes, such as a forked Python worker's, counted in each) and, with ``pss``, of
    their PSS (a shared page divided among its sharers: what the tree really holds; reading it
    costs the kernel a walk of every mapping, so it is sampled less often)."""
    rss_sum = pss_sum = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            if pss:
                full = p.memory_full_info()
                rss_sum += full.rss
                pss_sum += getattr(full, "pss", full.rss)
            else:
                rss_sum += p.memory_info().rss
        except psutil.Error:
            pass
    return rss_sum / 2**20, pss_sum / 2**20


def run_child(mode: str, args: argparse.Namespace, families: list[str], out: Path) -> dict[str, Any]:
    """Run one engine in a child process; its result with ``peak_mb`` (the process tree's peak)."""
    cmd = [sys.executable, "-c", CHILD, mode, str(args.store), str(args.snapshot), args.master,
           json.dumps(dict(c.split("=", 1) for c in args.spark_conf)), str(out), json.dumps(families),
           str(args.buckets or 0)]
    log = open(out.with_suffix(".log"), "w")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, text=True)
    ps = psutil.Process(proc.pid)
    peak = peak_pss = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, peak_pss
        n = 0
        while not done.is_set():
            try:
                rss, pss = _tree_mb(ps, pss=n % 10 == 0)
                peak, peak_pss = max(peak, rss), max(peak_pss, pss)
            except psutil.Error:
                pass
            n += 1
            done.wait(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    stdout, _ = proc.communicate()
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    log.close()
    families_done = [json.loads(x) for x in out.with_suffix(".log").read_text().splitlines() if x.startswith('{"mode"')]
    print(json.dumps({"peak_mb_so_far": round(peak), "peak_pss_mb_so_far": round(peak_pss),
                      "families_done": families_done}), file=sys.stderr, flush=True)
    if proc.returncode != 0:
        sys.stderr.write(out.with_suffix(".log").read_text()[-4000:])
        raise SystemExit(f"{mode} run failed (exit {proc.returncode})")
    # the child's result is its last {"seconds" line: a library may print too, even on that
    # line without a newline (DuckDB's progress bar on a long query)
    result = json.loads([x[x.index('{"seconds"'):] for x in stdout.splitlines() if '{"seconds"' in x][-1])
    return {**result, "wall_seconds": round(wall, 1), "peak_mb": round(peak), "peak_pss_mb": round(peak_pss)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, required=True, help="embedded store of the world")
    ap.add_argument("--snapshot", type=Path, required=True, help="its snapshot (graphiff snapshot --out)")
    ap.add_argument("--embedded", action="store_true", help="also run the embedded engine and compare alerts")
    ap.add_argument("--master", default="local[2]")
    ap.add_argument("--spark-conf", action="append", default=None, help="key=value (repeatable)")
    ap.add_argument("--buckets", type=int, default=None,
                    help="parts hashed into this many detector runs per family (default: 4 per core)")
    ap.add_argument("--families", default=None, help="comma-separated (default: every family on Spark)")
    ap.add_argument("--json", type=Path, default=None, help="write the results here too")
    ap.add_argument("--work", type=Path, default=None, help="folder for the runs' alerts and per-family logs")
    args = ap.parse_args()
    args.spark_conf = args.spark_conf or ["spark.driver.memory=8g"]
    from graphiff.spark.engine import spark_patterns

    families = args.families.split(",") if args.families else spark_patterns()
    manifest = json.loads((args.snapshot / "snapshot.json").read_text())
    result: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                   f"{psutil.virtual_memory().total / 2**30:.0f} GB, Python {platform.python_version()}",
        "declarations": manifest["nodes"].get("Declaration", {}).get("rows"),
        "payments": manifest["nodes"].get("Payment", {}).get("rows"),
        "graph_rows": sum(v["rows"] for k in ("nodes", "rels") for v in manifest[k].values()),
        "families": families, "master": args.master, "spark_conf": args.spark_conf, "buckets": args.buckets,
    }
    if args.work is not None:
        args.work.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.work) as tmp:
        if args.embedded:
            result["embedded"] = run_child("embedded", args, families, Path(tmp) / "embedded.json")
            print(json.dumps({"embedded": result["embedded"]}), flush=True)
        result["spark"] = run_child("spark", args, families, Path(tmp) / "spark.json")
        print(json.dumps({"spark": result["spark"]}), flush=True)
        if args.embedded:
            a = json.loads((Path(tmp) / "embedded.json").read_text())
            b = json.loads((Path(tmp) / "spark.json").read_text())
            result["same_alerts"] = a == b
            result["alerts_differing"] = len({json.dumps(x, sort_keys=True) for x in a}
                                             ^ {json.dumps(x, sort_keys=True) for x in b})
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()

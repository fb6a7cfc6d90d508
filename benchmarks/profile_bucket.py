"""Profile one Spark bucket of a detector family: where a detector run on an executor spends
its time (parsing the bucket's rows, context-wide features, the detector's own work).

    python benchmarks/profile_bucket.py W/snap shell_intermediary [--which median|largest] [--top 25]

Packs the family's parts on Spark (``local[2]``) as ``graphiff detect --engine spark`` does,
collects one bucket's rows (the median or the largest by row count), then runs the part runner
on them in this process under cProfile, after reading the family's context once as a Python
worker does. Prints the buckets' row counts, the bucket's rows by kind, its run time as a
worker's first bucket, then as a later one (what the buckets share computed: the profile is of
this run) and the profile sorted by cumulative time. A cost that grows with the context (not
with the bucket's records) and is paid by every bucket grows with the square of the data: 10x
the context times 10x the buckets (BENCHMARKS.md, "shell intermediaries at 10M"); what the
detector computes from the context alone is paid by a worker's first bucket only.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from pathlib import Path

from graphiff.detectors.registry import REGISTRY
from graphiff.graph.snapshot import read_manifest
from graphiff.spark.engine import _packed, _part_runner
from graphiff.spark.parts import partitioning
from graphiff.spark.session import spark_session


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("snapshot", type=Path)
    ap.add_argument("family")
    ap.add_argument("--which", choices=("median", "largest"), default="median")
    ap.add_argument("--top", type=int, default=25, help="profile lines to print")
    args = ap.parse_args()
    snap = str(args.snapshot.resolve())
    manifest, plan, det = read_manifest(snap), partitioning(args.family), REGISTRY[args.family]
    params = dict(det.defaults)
    spark = spark_session("local[2]", {"spark.driver.memory": "4g"})
    kept: list = []
    t0 = time.perf_counter()
    packed = _packed(spark, snap, manifest, plan, params, None, 2, True, kept)
    if packed is None:
        raise SystemExit(f"{args.family}: nothing to pack in {snap}")
    counts = packed.groupBy("__part").count().orderBy("count").collect()
    print(f"{len(counts)} buckets, rows min / median / max: {counts[0]['count']} / "
          f"{counts[len(counts) // 2]['count']} / {counts[-1]['count']} ({time.perf_counter() - t0:.1f} s)")
    bucket = (counts[-1] if args.which == "largest" else counts[len(counts) // 2])["__part"]
    rows = packed.where(packed["__part"] == bucket).select("kind", "name", "payload").toPandas()
    print(f"bucket {bucket}: {len(rows)} rows {rows.groupby(['kind', 'name']).size().to_dict()}")
    for frame in kept:
        frame.unpersist()
    spark.stop()
    run = _part_runner(args.family, params, snap, manifest, plan, True)
    run(rows.head(0))  # read the context once, as a Python worker does before its first bucket
    t0 = time.perf_counter()
    run(rows)  # a worker's first bucket: computes what the buckets share (engine._shared_memo)
    print(f"first bucket run {time.perf_counter() - t0:.1f} s (what the buckets share computed)")
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    out = run(rows)
    prof.disable()
    print(f"next bucket run {time.perf_counter() - t0:.1f} s, {len(out)} alerts (same rows, the shared memo "
          "filled: a worker's every later bucket)")
    pstats.Stats(prof).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()

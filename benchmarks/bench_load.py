"""Embedded load benchmark: rows/s and peak memory for a sample world (results: BENCHMARKS.md).

    python benchmarks/bench_load.py --scale 35        # ~1M declaration rows

Generates the world once into --world (reused when it exists), then loads it into a fresh
embedded store in a child process and reports input rows, seconds, rows/s and the child's peak
RSS (budget: >= 50k rows/s overall, <= 4 GB peak).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, sys, time, resource
from graphiff.ingest import load_paths
from graphiff.stores.embedded import EmbeddedStore
world, store, q = sys.argv[1:4]
t0 = time.perf_counter()
with EmbeddedStore(store) as st:
    res = load_paths(st, [world], quarantine_dir=q)
    counts = st.counts()
secs = time.perf_counter() - t0
print(json.dumps({"seconds": secs, "loaded": res.loaded, "quarantined": res.quarantined, "counts": counts,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=35.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--world", type=Path, default=None, help="world folder (default: a temp folder per scale)")
    args = ap.parse_args()
    world = args.world or Path(tempfile.gettempdir()) / f"graphiff-bench-world-{args.scale:g}-{args.seed}"
    if not (world / "truth.json").exists():
        from graphiff.samples import generate_world

        t0 = time.perf_counter()
        generate_world(world, scale=args.scale, seed=args.seed)
        print(f"generated world in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    tmp = Path(tempfile.mkdtemp(prefix="graphiff-bench-"))
    try:
        proc = subprocess.run([sys.executable, "-c", CHILD, str(world), str(tmp / "g.duckdb"), str(tmp / "q")],
                              capture_output=True, text=True, check=True)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows = sum(r["loaded"].values()) + sum(r["quarantined"].values())
    print(f"| machine | {platform.machine()}, {os.cpu_count()} cores, "
          f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GB |")
    print(f"| scale | {args.scale:g} |")
    print(f"| declaration rows | {r['loaded'].get('declarations', 0):,} |")
    print(f"| input rows (all files) | {rows:,} |")
    print(f"| seconds | {r['seconds']:.1f} |")
    print(f"| rows/s | {rows / r['seconds']:,.0f} (budget >= 50,000) |")
    print(f"| peak RSS | {r['peak_rss_mb']:,.0f} MB (budget <= 4,096 MB) |")
    print(json.dumps(r["loaded"]), file=sys.stderr)


if __name__ == "__main__":
    main()

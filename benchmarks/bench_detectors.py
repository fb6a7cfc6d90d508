"""Benchmark the detectors (results: BENCHMARKS.md): time and peak memory of each detector on a
synthetic world loaded into the embedded store, and the circular-trade search against the
networkx brute force (``simple_cycles(G, length_bound=k)`` + filter) on the same projection.

Usage::

    python benchmarks/bench_detectors.py --scale 1            # ~30k declaration rows
    python benchmarks/bench_detectors.py --scale 35 --brute-scale 1 --json bench.json

Budgets: all detectors <= 120 s together and <= 6 GB peak memory at ~1M declaration rows
(scale 35); circular trade >= 10x faster than the brute force, with identical cycles.
Figures go into BENCHMARKS.md by hand.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import tempfile
import time
from pathlib import Path


def _rss_peak_mb() -> float:
    """Peak resident memory of this process since the last reset (Linux VmHWM), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_now_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _reset_peak() -> bool:
    """Reset the peak-RSS counter (Linux >= 4.0); False when not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class _Timeout(Exception):
    pass


def _with_timeout(seconds: float, fn, *args, **kwargs):
    """Run fn with an alarm; returns (result, elapsed) or (None, None) on timeout."""
    def handler(signum, frame):  # noqa: ARG001
        raise _Timeout()

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    t0 = time.perf_counter()
    try:
        res = fn(*args, **kwargs)
        return res, time.perf_counter() - t0
    except _Timeout:
        return None, None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def build_store(workdir: Path, scale: float, seed: int) -> tuple[Path, dict]:
    """Generate a world at ``scale`` and load it into an embedded store (reused when present)."""
    from graphiff.ingest import load_paths
    from graphiff.samples import generate_world
    from graphiff.stores import open_store

    world = workdir / f"world-{scale:g}-{seed}"
    store_path = workdir / f"store-{scale:g}-{seed}.duckdb"
    info: dict = {}
    if not (world / "truth.json").exists():
        t0 = time.perf_counter()
        summary = generate_world(world, scale=scale, seed=seed)
        info["generate_s"] = round(time.perf_counter() - t0, 2)
        info["files"] = summary.get("files") if isinstance(summary, dict) else None
    if not store_path.exists():
        t0 = time.perf_counter()
        with open_store(str(store_path)) as st:
            load_paths(st, [world], quarantine_dir=workdir / "quarantine")
        info["load_s"] = round(time.perf_counter() - t0, 2)
    return store_path, info


def bench_detectors(store_path: Path, patterns: list[str] | None = None) -> dict:
    from graphiff.detectors import REGISTRY, detector_names
    from graphiff.graph.tables import Tables
    from graphiff.stores import open_store

    out: dict = {"detectors": {}}
    with open_store(str(store_path)) as st:
        tables = Tables(st)
        _reset_peak()
        t0 = time.perf_counter()
        for label in ("Declaration", "Trader", "Person", "Carrier", "BankAccount", "Payment", "CashReport"):
            tables.nodes(label)
        for rel in ("OFFICER_OF", "LOCATED_AT", "HAS_PHONE", "HAS_EMAIL", "FILED_BY", "HOLDS", "CARRIED_BY",
                    "SETTLES", "FOR", "INVOLVES"):
            tables.rels(rel)
        out["read_tables_s"] = round(time.perf_counter() - t0, 2)
        out["declarations"] = len(tables.nodes("Declaration"))
        out["payments"] = len(tables.nodes("Payment"))
        out["read_tables_peak_mb"] = round(_rss_peak_mb())
        total = 0.0
        overall_peak = _rss_peak_mb()
        for name in patterns or detector_names():
            det = REGISTRY[name]
            can_reset = _reset_peak()
            t0 = time.perf_counter()
            alerts = det.fn(tables, **det.defaults)
            dt = time.perf_counter() - t0
            peak = _rss_peak_mb()
            overall_peak = max(overall_peak, peak)
            total += dt
            out["detectors"][name] = {"seconds": round(dt, 3), "alerts": len(alerts),
                                      "peak_rss_mb": round(peak) if can_reset else None}
            print(f"  {name:22s} {dt:8.2f} s  {len(alerts):6d} alerts  peak {peak:8.0f} MB", file=sys.stderr)
        out["all_detectors_s"] = round(total, 2)
        out["peak_rss_mb"] = round(overall_peak)
    return out


def bench_cycles(store_path: Path, timeout: float) -> dict:
    """circular trade search vs the networkx brute force on the same shipment projection."""
    from graphiff.detectors.circular_trade import (
        DEFAULTS,
        circular_trade_edges,
        edge_params,
        search_params,
    )
    from graphiff.graph.algorithms import temporal_cycles, temporal_cycles_bruteforce
    from graphiff.graph.tables import Tables
    from graphiff.stores import open_store

    with open_store(str(store_path)) as st:
        tables = Tables(st)
        t0 = time.perf_counter()
        e = circular_trade_edges(tables, **edge_params(DEFAULTS))
        proj = time.perf_counter() - t0
    sp = search_params(DEFAULTS)
    import igraph  # noqa: F401  (imports out of the timings, for both sides)
    import networkx  # noqa: F401

    fast_s = float("inf")
    for _ in range(3):  # best of three
        t0 = time.perf_counter()
        fast = temporal_cycles(e, **sp)
        fast_s = min(fast_s, time.perf_counter() - t0)
    res = {"shipment_edges": len(e), "projection_s": round(proj, 3), "search_s": round(fast_s, 4),
           "cycles": len(fast)}
    brute, brute_s = _with_timeout(timeout, temporal_cycles_bruteforce, e, **sp)
    if brute is None:
        res.update({"bruteforce_s": f"> {timeout:g}", "speedup": f"> {timeout / max(fast_s, 1e-9):.0f}x",
                    "identical": None})
    else:
        res.update({"bruteforce_s": round(brute_s, 3), "speedup": round(brute_s / max(fast_s, 1e-9), 1),
                    "identical": set(brute) == set(fast)})
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="world scale for the detector timings (35 ~ 1M rows)")
    ap.add_argument("--brute-scale", type=float, default=None,
                    help="world scale for the brute-force comparison (default: --scale)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--workdir", type=Path, default=None, help="where worlds and stores go (kept for reuse)")
    ap.add_argument("--timeout", type=float, default=1800, help="give the brute force at most this many seconds")
    ap.add_argument("--patterns", nargs="*", default=None)
    ap.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = ap.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="graphiff-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    report: dict = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                "platform": platform.platform()},
                    "scale": args.scale, "seed": args.seed}
    print(f"world scale {args.scale:g} in {workdir}", file=sys.stderr)
    store_path, info = build_store(workdir, args.scale, args.seed)
    report["world"] = info
    report.update(bench_detectors(store_path, args.patterns))
    bscale = args.brute_scale if args.brute_scale is not None else args.scale
    bstore = store_path if bscale == args.scale else build_store(workdir, bscale, args.seed)[0]
    print(f"circular trade vs brute force at scale {bscale:g}", file=sys.stderr)
    report["circular_vs_bruteforce"] = {"scale": bscale, **bench_cycles(bstore, args.timeout)}
    text = json.dumps(report, indent=2, default=str)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

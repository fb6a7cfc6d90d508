"""Detection over many drawn worlds (issue 15): the spread of recall and precision per family.

For each seed, generate the drawn world (``graphiff samples OUT --drawn --seed N``), load it
into a temporary embedded store, run the detectors, evaluate against its ``truth.json`` and
report per family: draws, instances, median and worst recall, median and worst precision
(with the worst seed), decoys flagged.

Usage::

    python benchmarks/bench_detection_spread.py                 # tuning draws, seeds 1-20
    python benchmarks/bench_detection_spread.py --heldout       # held-out draws, seeds 101-120
    python benchmarks/bench_detection_spread.py --seeds 1-5 --families circular_trade --json spread.json
    python benchmarks/bench_detection_spread.py --jobs 2

Seeds 1-20 are the tuning draws; 101-120 are held out (docs/typologies.md): nobody tunes a
detector on them. Importable: :func:`run_seed` and :func:`summarise` are what the tests use.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

TUNING = list(range(1, 21))
HELDOUT = list(range(101, 121))


def parse_seeds(text: str) -> list[int]:
    """``"1-5"``, ``"1,3,7"`` or ``"1-3,101-102"`` -> the seeds."""
    out: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        lo, sep, hi = part.partition("-")
        out.extend(range(int(lo), int(hi) + 1) if sep else [int(lo)])
    return out


def run_seed(seed: int, scale: float = 0.3, families: list[str] | None = None,
             workdir: str | Path | None = None) -> dict[str, Any]:
    """Generate, load, detect and evaluate one drawn world; returns ``{"seed", "scale",
    "seconds": {generate, load, detect}, "quarantined", "evaluation", "alerts"}`` (alerts
    counted per pattern)."""
    from graphiff.detectors import run_detectors
    from graphiff.detectors.evaluate import evaluate
    from graphiff.ingest import load_paths
    from graphiff.samples.drawn import generate_drawn_world
    from graphiff.stores import open_store

    with tempfile.TemporaryDirectory(prefix=f"graphiff-drawn-{seed}-", dir=workdir) as tmp:
        base = Path(tmp)
        t0 = time.perf_counter()
        generate_drawn_world(base / "world", seed=seed, scale=scale)
        t1 = time.perf_counter()
        truth = json.loads((base / "world" / "truth.json").read_text(encoding="utf-8"))
        with open_store(str(base / "store.duckdb")) as st:
            res = load_paths(st, [base / "world"], quarantine_dir=base / "quarantine")
            t2 = time.perf_counter()
            alerts = run_detectors(st, families or None, write_back=False)
            t3 = time.perf_counter()
    if families:
        wanted = set(families)
        truth = {**truth, "instances": [i for i in truth["instances"] if i["family"] in wanted],
                 "decoys": [d for d in truth["decoys"] if d["family"] in wanted]}
        alerts = [a for a in alerts if a.pattern in wanted]
    ev = evaluate(alerts, truth)
    per: dict[str, int] = {}
    for a in alerts:
        per[a.pattern] = per.get(a.pattern, 0) + 1
    return {"seed": seed, "scale": scale, "seconds": {"generate": round(t1 - t0, 2), "load": round(t2 - t1, 2),
                                                      "detect": round(t3 - t2, 2)},
            "quarantined": sum(res.quarantined.values()), "evaluation": ev, "alerts": per}


def summarise(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per family over the draws: ``draws``, ``instances``, ``recall_median``, ``recall_worst``
    (+ ``recall_worst_seed``), ``precision_median``, ``precision_worst`` (+ seed; None when no
    draw had alerts), ``decoys``, ``decoys_flagged``, ``missed_kinds`` (kind -> instances
    missed over all draws)."""
    fams = sorted({f for r in results for f in r["evaluation"]["families"]})
    out: dict[str, dict[str, Any]] = {}
    for fam in fams:
        rows = [(r["seed"], r["evaluation"]["families"][fam]) for r in results if fam in r["evaluation"]["families"]]
        rec = [(row["recall"], s) for s, row in rows if row["recall"] is not None]
        pre = [(row["precision"], s) for s, row in rows if row["precision"] is not None]
        missed: dict[str, int] = {}
        for _s, row in rows:
            for m in row.get("missed", []):
                k = str(m.get("kind", "-"))
                missed[k] = missed.get(k, 0) + 1
        out[fam] = {
            "draws": len(rows), "instances": sum(row["instances"] for _s, row in rows),
            "recall_median": statistics.median(v for v, _ in rec) if rec else None,
            "recall_worst": min(rec)[0] if rec else None, "recall_worst_seed": min(rec)[1] if rec else None,
            "precision_median": statistics.median(v for v, _ in pre) if pre else None,
            "precision_worst": min(pre)[0] if pre else None, "precision_worst_seed": min(pre)[1] if pre else None,
            "decoys": sum(row["decoys"] for _s, row in rows),
            "decoys_flagged": sum(row["decoys_flagged"] for _s, row in rows),
            "missed_kinds": dict(sorted(missed.items())),
        }
    return out


def table(summary: dict[str, dict[str, Any]]) -> str:
    """The summary as a markdown table."""
    def f(v: float | None) -> str:
        return "—" if v is None else f"{v:.2f}"

    lines = ["| family | draws | instances | recall median | recall worst (seed) | precision median | "
             "precision worst (seed) | decoys flagged |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for fam, s in summary.items():
        lines.append(f"| {fam} | {s['draws']} | {s['instances']} | {f(s['recall_median'])} | "
                     f"{f(s['recall_worst'])} ({s['recall_worst_seed'] if s['recall_worst'] is not None else '—'}) | "
                     f"{f(s['precision_median'])} | {f(s['precision_worst'])} "
                     f"({s['precision_worst_seed'] if s['precision_worst'] is not None else '—'}) | "
                     f"{s['decoys_flagged']}/{s['decoys']} |")
    return "\n".join(lines)


def _one(args: tuple[int, float, list[str] | None]) -> dict[str, Any]:
    return run_seed(*args)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--seeds", default=None, help="seeds, e.g. 1-5 or 1,3,7 (default: the tuning draws 1-20)")
    ap.add_argument("--heldout", action="store_true", help="run the held-out draws 101-120")
    ap.add_argument("--scale", type=float, default=0.3)
    ap.add_argument("--families", nargs="*", default=None, help="detectors / families to run (default: all)")
    ap.add_argument("--jobs", type=int, default=1, help="draws run in parallel processes")
    ap.add_argument("--json", type=Path, default=None, help="write every draw's results and the summary here")
    args = ap.parse_args(argv)
    seeds = parse_seeds(args.seeds) if args.seeds else (HELDOUT if args.heldout else TUNING)
    jobs = [(s, args.scale, args.families) for s in seeds]
    results: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(max_workers=args.jobs) as ex:
            for r in ex.map(_one, jobs):
                results.append(r)
                _report(r, len(results), len(seeds))
    else:
        for job in jobs:
            r = _one(job)
            results.append(r)
            _report(r, len(results), len(seeds))
    summary = summarise(results)
    print(f"drawn worlds: seeds {args.seeds or ('101-120' if args.heldout else '1-20')}, scale {args.scale:g}, "
          f"{time.perf_counter() - t0:.0f} s\n")
    print(table(summary))
    if args.json:
        args.json.write_text(json.dumps({"seeds": seeds, "scale": args.scale, "summary": summary,
                                         "draws": results}, indent=1, default=str) + "\n", encoding="utf-8")
    return 0


def _report(r: dict[str, Any], done: int, total: int) -> None:
    ov = r["evaluation"]["overall"]
    s = r["seconds"]
    print(f"[{done}/{total}] seed {r['seed']}: generate {s['generate']} s, load {s['load']} s, detect {s['detect']} s, "
          f"{ov['matched_instances']}/{ov['instances']} instances, {ov['matching_alerts']}/{ov['alerts']} alerts match",
          file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())

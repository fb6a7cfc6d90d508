"""Run every detector over blind worlds and report the spread per family.

    python -m benchmarks.blind.bench_blind [--seeds 1-10] [--json FILE]

For each seed: draw a blind world (benchmarks.blind.blind_world), load it into a temporary
embedded store, run all detectors, score them against the world's truth. Prints a markdown
table per family (draws with instances, instances, median and worst recall and precision,
decoys flagged); ``--json`` keeps per-seed results with the missed instances and the alerts
that matched nothing (entities and explanation), so a reader can see why.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.blind.blind_world import generate_blind_world
from graphiff.detectors import run_detectors
from graphiff.detectors.evaluate import _ents, evaluate, matches
from graphiff.ingest import load_paths
from graphiff.stores import open_store


def parse_seeds(text: str) -> list[int]:
    """``1-10`` or ``1,3,5`` or a mix."""
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def run_seed(seed: int) -> dict[str, Any]:
    """Draw, load, detect and evaluate one world."""
    with tempfile.TemporaryDirectory(prefix="blind-") as tmp:
        t0 = time.perf_counter()
        world = Path(tmp) / "world"
        summary = generate_blind_world(world, seed)
        t1 = time.perf_counter()
        store = open_store(str(Path(tmp) / "w.duckdb"))
        try:
            res = load_paths(store, [world], quarantine_dir=Path(tmp) / "q")
            t2 = time.perf_counter()
            alerts = run_detectors(store, write_back=False)
            t3 = time.perf_counter()
        finally:
            store.close()
        truth = json.loads((world / "truth.json").read_text(encoding="utf-8"))
    ev = evaluate(alerts, truth)
    inst_by_fam: dict[str, list[set]] = {}
    for i in truth["instances"]:
        inst_by_fam.setdefault(i["family"], []).append(_ents(i["entities"]))
    decoy_ents = {d["family"]: set() for d in truth["decoys"]}
    for d in truth["decoys"]:
        decoy_ents[d["family"]] |= _ents(d["entities"])
    stray: dict[str, list[dict]] = {}
    for a in alerts:
        ae = _ents(a.entities)
        if not any(matches(ae, ie) for ie in inst_by_fam.get(a.pattern, [])):
            stray.setdefault(a.pattern, []).append({
                "entities": a.entities, "score": round(a.score, 3), "explanation": a.explanation,
                "on_decoy": bool(ae & decoy_ents.get(a.pattern, set()))})
    for fam, row in ev["families"].items():
        row["non_matching_alerts"] = stray.get(fam, [])
        row["missed"] = [next((dict(i, note=i.get("note", "")) for i in truth["instances"]
                               if i["family"] == fam and i["entities"] == m["entities"]), m) for m in row["missed"]]
    return {"seed": seed, "admins": summary["admins"], "rows": {k: v for k, v in summary.items()
                                                                  if k not in ("seed", "admins")},
            "loaded": res.loaded, "quarantined": res.quarantined, "warnings": res.warnings,
            "seconds": {"generate": round(t1 - t0, 2), "load": round(t2 - t1, 2), "detect": round(t3 - t2, 2)},
            "families": ev["families"], "overall": ev["overall"]}


def table(results: list[dict[str, Any]]) -> str:
    """The markdown table: per family, over the seeds."""
    fams = sorted({f for r in results for f in r["families"]})
    lines = ["| family | draws | instances | recall median | recall worst | precision median | precision worst "
             "| alerts | decoys flagged |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]

    def f(v: float | None) -> str:
        return "—" if v is None else f"{v:.2f}"

    for fam in fams:
        rows = [r["families"][fam] for r in results if fam in r["families"]]
        rec = [x["recall"] for x in rows if x["recall"] is not None]
        prec = [x["precision"] for x in rows if x["precision"] is not None]
        lines.append(f"| {fam} | {sum(1 for x in rows if x['instances'])} | {sum(x['instances'] for x in rows)} "
                     f"| {f(statistics.median(rec) if rec else None)} | {f(min(rec) if rec else None)} "
                     f"| {f(statistics.median(prec) if prec else None)} | {f(min(prec) if prec else None)} "
                     f"| {sum(x['alerts'] for x in rows)} "
                     f"| {sum(x['decoys_flagged'] for x in rows)} / {sum(x['decoys'] for x in rows)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", default="1-10", help="seeds: 1-10, or 1,4,7")
    ap.add_argument("--json", type=Path, help="write per-seed results here")
    args = ap.parse_args(argv)
    results = []
    t0 = time.perf_counter()
    for seed in parse_seeds(args.seeds):
        res = run_seed(seed)
        results.append(res)
        print(f"seed {seed}: admins {','.join(res['admins'])}, {res['rows']['declarations']} declarations, "
              f"{res['rows']['payments']} payments, quarantined {sum(res['quarantined'].values())}; "
              f"{res['seconds']}", file=sys.stderr)
    print(table(results))
    print(f"\n{len(results)} worlds in {time.perf_counter() - t0:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

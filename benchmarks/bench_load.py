"""Embedded load benchmark: rows/s per file kind, where the time goes, peak memory, and how far the
loader is from DuckDB's own CSV read speed on the same files (results: BENCHMARKS.md).

    python benchmarks/bench_load.py --scale 35        # ~1M declaration rows
    python benchmarks/bench_load.py --world DIR --json load.json

Generates the world once into --world (reused when it exists), then loads it into a fresh
embedded store in a child process and reports:

* input rows, seconds, rows/s and the child's peak RSS (targets: >= 200,000 rows/s overall,
  <= 3 GB peak);
* per file kind: rows, seconds and rows/s, timed with the loader's progress callback (the time
  between two consecutive callbacks goes to the kind of the later one; rows are summed per kind),
  split into reading (inside ``read_chunks``: parsing the file) and validating + writing;
* the resident memory after each chunk (a file's memory should not grow with its length);
* where the rest of the time goes: opening the store, the set-up before the first chunk is read
  (discovering files, header checks, hashing the files for the load id), the finish after the
  last chunk (the load record and the commit), counts and close.

Then, unless --skip-baseline, a second child process times DuckDB reading each CSV file of the
world on its own (``CREATE TEMP TABLE t AS SELECT * FROM read_csv(?, all_varchar=true,
header=true)``, a fresh in-memory connection per file) and the ratio loader rows/s / DuckDB rows/s
is printed, overall and per kind; and a third times DuckDB writing the node and relationship
rows the load wrote (read from the loaded store into memory first, then written into a fresh
file in one transaction): a bound on any loader that writes this graph through DuckDB here; then
the same with narrower rows (no relationship ids, no provenance strings, neither nor end labels),
what the stored columns cost.
--json FILE writes every figure as JSON.
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
from typing import Any

TARGET_ROWS_PER_S = 200_000
BUDGET_PEAK_MB = 3 * 1024

CHILD = r"""
import json, os, sys, threading, time, resource
from graphiff.ingest import load_paths
from graphiff.ingest import loader as _loader
from graphiff.stores.embedded import EmbeddedStore

world, store, q = sys.argv[1:4]
clock = time.perf_counter
state = {"first_read": None, "last": None, "pending_read": 0.0}
kinds = {}
# the highest resident memory seen by a sampler thread (every 0.2 s) while each stage runs:
# a file (from its first read to the next file's), then the commit, then counts and close
stage = {"name": "set-up", "peaks": {}}

# time spent inside the file reader (parsing), given to the kind of the next progress callback;
# the loader module itself is not changed: its reader is wrapped for this process only
_read_chunks = getattr(_loader, "read_chunks", None)
if _read_chunks is not None:
    def _timed_read_chunks(*a, **kw):
        t = clock()
        stage["name"] = str(a[0]).replace("\\", "/").rsplit("/", 1)[-1]  # the file being loaded
        if state["first_read"] is None:
            state["first_read"] = t
        it = iter(_read_chunks(*a, **kw))
        state["pending_read"] += clock() - t
        while True:
            t = clock()
            try:
                chunk = next(it)
            except StopIteration:
                state["pending_read"] += clock() - t
                return
            state["pending_read"] += clock() - t
            yield chunk
    _loader.read_chunks = _timed_read_chunks

_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20
curve = []  # [input rows so far, kind, resident MB] after each chunk: does memory grow with the file?

def resident_mb():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * _PAGE_MB

def _sample():
    while True:
        mb = resident_mb()
        peaks = stage["peaks"]
        peaks[stage["name"]] = max(peaks.get(stage["name"], 0), round(mb))
        time.sleep(0.2)

threading.Thread(target=_sample, daemon=True).start()

def progress(kind, n):
    now = clock()
    curve.append([(curve[-1][0] if curve else 0) + n, kind, round(resident_mb())])
    start = state["last"] or state["first_read"] or state["load_start"]
    k = kinds.setdefault(kind, {"rows": 0, "seconds": 0.0, "read_seconds": 0.0, "chunks": 0})
    k["rows"] += n
    k["seconds"] += now - start
    k["read_seconds"] += state["pending_read"]
    k["chunks"] += 1
    state["pending_read"] = 0.0
    state["last"] = now

t0 = clock()
with EmbeddedStore(store) as st:
    t_open = clock()
    state["load_start"] = t_open
    _commit = st._commit_unit
    def _timed_commit(*a, **kw):
        stage["name"] = "load record and commit"
        return _commit(*a, **kw)
    st._commit_unit = _timed_commit
    res = load_paths(st, [world], quarantine_dir=q, progress=progress)
    t_loaded = clock()
    stage["name"] = "counts and close"
    counts = st.counts()
t_end = clock()
first = state["first_read"]
phases = {
    "open store": t_open - t0,
    "set-up before the first chunk": (first - t_open) if first is not None else None,
    "reading (read_chunks)": sum(k["read_seconds"] for k in kinds.values()),
    "validating + writing": sum(k["seconds"] - k["read_seconds"] for k in kinds.values()),
    "finish after the last chunk (load record, commit)": t_loaded - (state["last"] or t_loaded),
    "counts + close": t_end - t_loaded,
}
print(json.dumps({"seconds": t_end - t0, "load_seconds": t_loaded - t_open, "loaded": res.loaded,
                  "quarantined": res.quarantined, "counts": counts, "kinds": kinds, "phases": phases,
                  "reader_timed": _read_chunks is not None, "rss_curve": curve, "rss_peaks": stage["peaks"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

BASELINE = r"""
import json, sys, time, resource
import duckdb

clock = time.perf_counter
files = []
threads = None
for path in sys.argv[1:]:
    con = duckdb.connect()  # fresh in-memory database per file
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    t = clock()
    con.execute("CREATE TEMP TABLE t AS SELECT * FROM read_csv(?, all_varchar=true, header=true)", [path])
    secs = clock() - t
    rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
    con.close()
    files.append({"path": path, "rows": rows, "seconds": secs})
print(json.dumps({"files": files, "threads": threads, "duckdb": duckdb.__version__,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

#: DuckDB writing the rows the load wrote: every node and relationship table of the loaded store
#: read into memory as Arrow (not timed), then written into a fresh database file in one
#: transaction (timed, with the commit): what the writes cost with no Python in between. Then the
#: same with narrower rows, to show what the stored columns cost: without the relationship ids
#: (``rid``), without the provenance strings (``_source``, ``_load_id``, ``_loaded_at``), and
#: without both and the relationship end labels.
WRITE_FLOOR = r"""
import json, os, sys, time
import duckdb

store, out = sys.argv[1:3]
VARIANTS = {"as stored": (), "without rid": ("rid",),
            "without provenance strings": ("_source", "_load_id", "_loaded_at"),
            "without rid, provenance strings and end labels":
                ("rid", "_source", "_load_id", "_loaded_at", "src_label", "dst_label")}
src = duckdb.connect(store, read_only=True)
names = [r[0] for r in src.execute("SELECT table_name FROM information_schema.tables").fetchall()
         if r[0].startswith(("n_", "r_"))]
result = {}
for variant, dropped in VARIANTS.items():
    tables = {}
    for n in names:
        cols = [r[0] for r in src.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                                          [n]).fetchall() if r[0] not in dropped]
        tables[n] = src.sql("SELECT " + ", ".join(f'"{c}"' for c in cols) + f' FROM "{n}"').to_arrow_table()
    for p in (out, out + ".wal"):
        if os.path.exists(p):
            os.remove(p)
    con = duckdb.connect(out)
    t0 = time.perf_counter()
    con.execute("BEGIN TRANSACTION")
    for n, _batch in tables.items():
        con.execute(f'CREATE TABLE "{n}" AS SELECT * FROM _batch')
    con.execute("COMMIT")
    result[variant] = time.perf_counter() - t0
    con.close()
    rows = sum(t.num_rows for t in tables.values())
    del tables
src.close()
print(json.dumps({"tables": len(names), "rows": rows, "seconds": result["as stored"], "variants": result}))
"""


def _child(code: str, *args: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"benchmark child failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _rate(rows: float, secs: float | None) -> float | None:
    return rows / secs if secs else None


def _n(value: float | None, fmt: str = ",.0f") -> str:
    return "-" if value is None else format(value, fmt)


def run_loader(world: Path, write_floor: bool = True) -> dict[str, Any]:
    """The load in a child process; with ``write_floor``, also :data:`WRITE_FLOOR` on its store
    (``r["write_floor"]``)."""
    tmp = Path(tempfile.mkdtemp(prefix="graphiff-bench-"))
    try:
        r = _child(CHILD, str(world), str(tmp / "g.duckdb"), str(tmp / "q"))
        if write_floor:
            r["write_floor"] = _child(WRITE_FLOOR, str(tmp / "g.duckdb"), str(tmp / "floor.duckdb"))
        return r
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_baseline(world: Path) -> dict[str, Any]:
    csvs = sorted(world.rglob("*.csv"))
    b = _child(BASELINE, *map(str, csvs))
    for f, path in zip(b["files"], csvs):  # relative names only in the report
        f["file"] = path.relative_to(world).as_posix()
        f["kind"] = path.stem
        f["rows_per_s"] = _rate(f["rows"], f["seconds"])
        del f["path"]
    rows = sum(f["rows"] for f in b["files"])
    secs = sum(f["seconds"] for f in b["files"])
    b.update(rows=rows, seconds=secs, rows_per_s=_rate(rows, secs))
    return b


def report(args: argparse.Namespace, world: Path, r: dict[str, Any], b: dict[str, Any] | None) -> dict[str, Any]:
    rows = sum(r["loaded"].values()) + sum(r["quarantined"].values())
    rate = rows / r["seconds"]
    drawn = json.loads((world / "truth.json").read_text()) if (world / "truth.json").exists() else {}
    scale, seed = drawn.get("scale", args.scale), drawn.get("seed", args.seed)  # a given world says its own
    out: dict[str, Any] = {
        "machine": {"arch": platform.machine(), "cores": os.cpu_count(),
                    "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)},
        "scale": scale, "seed": seed, "world": world.name,
        "input_rows": rows, "seconds": r["seconds"], "rows_per_s": rate, "peak_rss_mb": r["peak_rss_mb"],
        "targets": {"rows_per_s": TARGET_ROWS_PER_S, "peak_rss_mb": BUDGET_PEAK_MB},
        "loader": r,
    }
    m = out["machine"]
    print(f"| machine | {m['arch']}, {m['cores']} cores, {m['memory_gb']} GB |")
    print("|---|---|")
    print(f"| scale, seed | {scale:g}, {seed} |")
    print(f"| declaration rows | {r['loaded'].get('declarations', 0):,} |")
    print(f"| input rows (all files) | {rows:,} |")
    print(f"| seconds | {r['seconds']:.1f} |")
    met = "met" if rate >= TARGET_ROWS_PER_S else "NOT met"
    print(f"| rows/s | {rate:,.0f} (target >= {TARGET_ROWS_PER_S:,}: {met}) |")
    met = "met" if r["peak_rss_mb"] <= BUDGET_PEAK_MB else "NOT met"
    print(f"| peak RSS | {r['peak_rss_mb']:,.0f} MB (budget <= {BUDGET_PEAK_MB:,} MB: {met}) |")

    print("\nwhere the time goes (loader child)\n")
    print("| phase | seconds | share |")
    print("|---|---:|---:|")
    for phase, secs in r["phases"].items():
        share = None if secs is None else 100 * secs / r["seconds"]
        print(f"| {phase} | {_n(secs, '.2f')} | {_n(share, '.1f')}% |")
    if not r.get("reader_timed"):
        print("\n(the loader has no read_chunks to time: the first kind's seconds include the set-up)")

    curve = r.get("rss_curve") or []
    if curve:
        print("\nresident memory along the load (after a chunk; ten samples, evenly spaced by chunk)\n")
        print("| input rows so far | file kind | resident MB |")
        print("|---:|---|---:|")
        step = max(1, len(curve) // 10)
        for rows_done, kind, mb in curve[::step] + ([curve[-1]] if (len(curve) - 1) % step else []):
            print(f"| {rows_done:,} | {kind} | {mb:,} |")

    peaks = r.get("rss_peaks") or {}
    if peaks:
        print("\nhighest resident memory per stage (sampled every 0.2 s)\n")
        print("| stage | peak resident MB |")
        print("|---|---:|")
        for name, mb in peaks.items():
            print(f"| {name} | {mb:,} |")

    duck_kind: dict[str, dict[str, float]] = {}
    if b:
        for f in b["files"]:
            d = duck_kind.setdefault(f["kind"], {"rows": 0, "seconds": 0.0})
            d["rows"] += f["rows"]
            d["seconds"] += f["seconds"]
    print("\nper file kind (loader; seconds = time between progress callbacks)\n")
    head = "| file kind | rows | seconds | rows/s | reading s | validating + writing s |"
    print(head + (" DuckDB rows/s | loader / DuckDB |" if b else ""))
    print("|---|---:|---:|---:|---:|---:|" + ("---:|---:|" if b else ""))
    kinds_out = {}
    for kind, k in sorted(r["kinds"].items(), key=lambda kv: -kv[1]["seconds"]):
        kr = _rate(k["rows"], k["seconds"])
        line = (f"| {kind} | {k['rows']:,} | {k['seconds']:.2f} | {_n(kr)} | {k['read_seconds']:.2f} | "
                f"{k['seconds'] - k['read_seconds']:.2f} |")
        kinds_out[kind] = dict(k, rows_per_s=kr)
        if b:
            d = duck_kind.get(kind)
            dr = _rate(d["rows"], d["seconds"]) if d else None
            ratio = kr / dr if kr and dr else None
            kinds_out[kind].update(duckdb_rows_per_s=dr, vs_duckdb=ratio)
            line += f" {_n(dr)} | {_n(ratio, '.3f')} |"
        print(line)
    out["kinds"] = kinds_out

    if b:
        print(f"\nDuckDB {b['duckdb']} read baseline: read_csv(all_varchar, header) into a temp table, "
              f"fresh in-memory connection per file, {b['threads']} threads\n")
        print("| file | rows | seconds | rows/s |")
        print("|---|---:|---:|---:|")
        for f in b["files"]:
            print(f"| {f['file']} | {f['rows']:,} | {f['seconds']:.3f} | {_n(f['rows_per_s'])} |")
        print(f"| all CSV files | {b['rows']:,} | {b['seconds']:.3f} | {_n(b['rows_per_s'])} |")
        ratio = rate / b["rows_per_s"] if b["rows_per_s"] else None
        load_ratio = (rows / r["load_seconds"]) / b["rows_per_s"] if b["rows_per_s"] else None
        print(f"\nloader rows/s / DuckDB rows/s: {_n(ratio, '.3f')} "
              f"(load_paths alone, without opening, counts and close: {_n(load_ratio, '.3f')})")
        out["baseline"] = b
        out["loader_vs_duckdb"] = ratio
        out["load_paths_vs_duckdb"] = load_ratio
    w = r.get("write_floor")
    if w:
        floor = _rate(rows, w["seconds"])
        print(f"\nDuckDB writing the graph the load wrote ({w['tables']} tables, {w['rows']:,} node and relationship "
              f"rows, from memory, one transaction): {w['seconds']:.1f} s, i.e. at most {_n(floor)} input rows/s "
              "for any loader that writes these rows through DuckDB on this machine")
        out["write_floor"] = w | {"input_rows_per_s": floor}
        print("\n| DuckDB writing the loaded graph | seconds | input rows/s bound |")
        print("|---|---:|---:|")
        for variant, secs in w.get("variants", {}).items():
            print(f"| {variant} | {secs:.1f} | {_n(_rate(rows, secs))} |")
    print(json.dumps(r["loaded"]), file=sys.stderr)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=35.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--world", type=Path, default=None, help="world folder (default: a temp folder per scale)")
    ap.add_argument("--json", type=Path, default=None, metavar="FILE", help="also write every figure as JSON")
    ap.add_argument("--skip-baseline", action="store_true",
                    help="do not time DuckDB's read_csv on the files nor its write of the loaded graph")
    args = ap.parse_args()
    world = args.world or Path(tempfile.gettempdir()) / f"graphiff-bench-world-{args.scale:g}-{args.seed}"
    if not (world / "truth.json").exists():
        from graphiff.samples import generate_world

        t0 = time.perf_counter()
        generate_world(world, scale=args.scale, seed=args.seed)
        print(f"generated world in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    r = run_loader(world, write_floor=not args.skip_baseline)
    b = None if args.skip_baseline else run_baseline(world)
    out = report(args, world, r, b)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()

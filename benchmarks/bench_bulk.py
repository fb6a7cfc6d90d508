"""`graphiff load --bulk` into an empty local Neo4j, stage by stage (results: BENCHMARKS.md,
"Neo4j bulk load (issue 16)").

Runs the stages of ``graphiff load --bulk --import-command "scripts/neo4j-local import"`` one
by one on a server of its own (``scripts/neo4j-local`` with its own state folder), timing each:

1. embedded load: the loader into a temporary embedded store (validation, quarantine, rids);
2. CSV export: the store's tables as neo4j-admin files;
3. neo4j-admin import: ``scripts/neo4j-local import --no-start`` (stopping the server, then the
   importer's JVM; the importer's own phases are read from its log);
4. start: ``scripts/neo4j-local start`` on the imported database;
5. constraints + indexes, and 6. bookkeeping: :func:`graphiff.stores.neo4j_bulk.finish_bulk`.

Records are nodes + relationships as neo4j-admin counts them; input rows are the rows read
(loaded + quarantined). Budget: >= 100,000 records/s end to end. The machine's load average
before and after is printed: on a shared machine the rates say what the others left.

    python benchmarks/bench_bulk.py WORLD                   # e.g. a world of graphiff samples --scale 35
    python benchmarks/bench_bulk.py WORLD --state DIR --json out.json
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphiff.ingest.bulk import bulk_load  # noqa: E402
from graphiff.stores.neo4j_bulk import finish_bulk, read_manifest  # noqa: E402

SCRIPT = ROOT / "scripts" / "neo4j-local"
BUDGET = 100_000  # records/s end to end


def local(env: dict[str, str], *args: str) -> str:
    """Run scripts/neo4j-local; its last stdout line."""
    proc = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"scripts/neo4j-local {' '.join(args)} failed:\n{proc.stderr}")
    lines = proc.stdout.strip().splitlines()
    return lines[-1] if lines else ""


class Cpu:
    """CPU seconds of one stage: this process (DuckDB's threads included), the child processes
    waited for (scripts/neo4j-local and its JVMs: the importer) and the Neo4j server (read from
    /proc by its pid). On a machine shared with other work, CPU seconds say what a stage costs
    when wall-clock time says what the others left."""

    def __init__(self, state: Path):
        self.state = state

    def server(self) -> float:
        try:
            pid = int((self.state / "neo4j.pid").read_text().strip())
            f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return 0.0

    def now(self, server: bool = True) -> float:
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + kids.ru_utime + kids.ru_stime + (self.server() if server else 0.0)


def importer_phases(log: Path) -> dict[str, str]:
    """The importer's own phase times from its log ("Node import COMPLETED in 36s 37ms")."""
    text = log.read_text(errors="replace") if log.exists() else ""
    out = {m.group(1): m.group(2).strip() for m in re.finditer(r"^(.+?) COMPLETED in (.+)$", text, re.M)}
    done = re.search(r"IMPORT DONE in (.+?)\.", text)
    if done:
        out["IMPORT DONE"] = done.group(1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("world", type=Path, help="input folder (graphiff samples OUT --scale 35 --seed 7 for the 1M world)")
    ap.add_argument("--state", type=Path, help="scripts/neo4j-local state folder (default: a new temporary one); "
                                               "its database is REPLACED")
    ap.add_argument("--work", type=Path, help="folder for the bulk files and quarantine (default: temporary)")
    ap.add_argument("--json", type=Path, help="also write the results as JSON here")
    args = ap.parse_args()

    state = args.state or Path(tempfile.mkdtemp(prefix="graphiff-bench-bulk-"))
    work = args.work or Path(tempfile.mkdtemp(prefix="graphiff-bench-bulk-work-"))
    shared = Path(os.environ.get("NEO4J_LOCAL_DIR") or ROOT / ".neo4j-local") / "build"
    if shared.exists() and not (state / "build").exists():  # reuse the launcher already built
        state.mkdir(parents=True, exist_ok=True)
        (state / "build").symlink_to(shared, target_is_directory=True)
    env = {**os.environ, "NEO4J_LOCAL_DIR": str(state)}
    uri = local(env, "start", "--fresh")
    folder = work / "bulk"
    load_before = os.getloadavg()
    seconds: dict[str, float] = {}
    cpu: dict[str, float] = {}
    meter = Cpu(state)
    stage_cpu = {"load": "embedded load", "export": "CSV export", "constraints and indexes": "constraints + indexes",
                 "bookkeeping": "bookkeeping"}
    mark = {"name": "", "cpu": meter.now()}

    def stage(name: str) -> None:  # CPU seconds per stage of bulk_load / finish_bulk
        c = meter.now()
        if mark["name"]:
            cpu[stage_cpu.get(mark["name"], mark["name"])] = c - mark["cpu"]
        mark.update(name=name, cpu=c)

    try:
        t0 = time.perf_counter()
        res = bulk_load(uri, [args.world], folder, quarantine_dir=work / "quarantine", stage=stage)
        stage("")
        bulk_seconds = dict(res.seconds)
        seconds["embedded load"] = bulk_seconds["load"]
        seconds["CSV export"] = bulk_seconds["export"]
        seconds["check + set-up"] = time.perf_counter() - t0 - sum(bulk_seconds.values())
        t0, c0 = time.perf_counter(), meter.now(server=False)  # the server stops here: its CPU is not the import's
        local(env, "import", "--no-start", str(folder))
        seconds["neo4j-admin import (incl. server stop)"] = time.perf_counter() - t0
        cpu["neo4j-admin import (incl. server stop)"] = meter.now(server=False) - c0
        t0, c0 = time.perf_counter(), meter.now()
        uri = local(env, "start")
        seconds["server start"] = time.perf_counter() - t0
        cpu["server start"] = meter.now() - c0
        mark.update(name="", cpu=meter.now())
        finish = finish_bulk(uri, folder, stage=stage)
        stage("")
        seconds["constraints + indexes"] = finish["constraints and indexes"]
        seconds["bookkeeping"] = finish["bookkeeping"]
    finally:
        local(env, "stop")
    manifest = read_manifest(folder)
    total = sum(seconds.values())
    records = manifest["records"]["nodes"] + manifest["records"]["relationships"]
    rows = sum(res.load.loaded.values()) + sum(res.load.quarantined.values())
    result = {
        "world": args.world.name, "seconds": {k: round(v, 1) for k, v in seconds.items()},
        "total_seconds": round(total, 1), "records": manifest["records"], "input_rows": rows,
        "records_per_s": round(records / total), "input_rows_per_s": round(rows / total),
        "budget_records_per_s": BUDGET, "importer": importer_phases(state / "import.log"),
        "bulk_files_bytes": sum(p.stat().st_size for p in folder.rglob("*.csv")),
        "load_average_before": [round(x, 1) for x in load_before],
        "load_average_after": [round(x, 1) for x in os.getloadavg()], "cpus": os.cpu_count(),
    }
    result["cpu_seconds"] = {k: round(v, 1) for k, v in cpu.items()}
    print("| stage | seconds | CPU seconds |\n|---|---:|---:|")
    for k, v in seconds.items():
        print(f"| {k} | {v:,.1f} | {cpu[k]:,.1f} |" if k in cpu else f"| {k} | {v:,.1f} | |")
    print(f"| **total** | **{total:,.1f}** | {sum(cpu.values()):,.1f} |\n")
    print(f"{manifest['records']['nodes']:,} nodes + {manifest['records']['relationships']:,} relationships = "
          f"{records:,} records: **{records / total:,.0f} records/s** end to end (budget {BUDGET:,}); "
          f"{rows:,} input rows: {rows / total:,.0f} input rows/s")
    print(f"importer phases: {result['importer']}")
    print(f"load average before {result['load_average_before']}, after {result['load_average_after']} "
          f"on {result['cpus']} CPUs")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

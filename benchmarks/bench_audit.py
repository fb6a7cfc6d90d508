"""Audit-log benchmark (target: 10,000 entries verified in <= 1 s; results: BENCHMARKS.md).

    python benchmarks/bench_audit.py                                   # the embedded store's case book
    python benchmarks/bench_audit.py --neo4j bolt://127.0.0.1:7687     # and a Neo4j store's (or $GRAPHIFF_TEST_NEO4J)
    python benchmarks/bench_audit.py --entries 100000 --json out.json

For each store: fills the audit log with ``--entries`` entries (batches of 1,000, as
:func:`graphiff.casework.audit.record_many` writes them), then times
:func:`graphiff.casework.audit.verify` of the whole log ``--repeat`` times (best and median wall
time; the read of the chain and the hashing reported apart) and the cost of one append
(:func:`graphiff.casework.audit.record`, one transaction each: what every audited request of the
workbench pays) ``--appends`` times (median and p95). The embedded store is a new temporary one.
The Neo4j server must hold no audit log yet (a scratch server, e.g. ``scripts/neo4j-local start
--fresh``): the benchmark writes into it and removes what it wrote afterwards.
Figures go into BENCHMARKS.md by hand.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphiff.casework import audit  # noqa: E402
from graphiff.stores import Store, open_store  # noqa: E402

VERIFY_BUDGET_S = 1.0
BATCH = 1000


def fill(store: Store, n: int) -> float:
    """Append ``n`` search entries in batches; returns the seconds it took."""
    book = store.book()
    t = time.perf_counter()
    for start in range(0, n, BATCH):
        audit.record_many(book, [audit.entry(user=f"analyst{i % 12}", action="search",
                                             ids=[f"Trader:T{i:06d}", f"Person:P{i:06d}"],
                                             detail={"q": f"name {i}", "hits": 2})
                                 for i in range(start, min(n, start + BATCH))])
    return time.perf_counter() - t


def time_verify(store: Store, n: int, repeat: int) -> dict[str, Any]:
    book = store.book()
    walls, reads = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        result = audit.verify(book)
        walls.append(time.perf_counter() - t)
        assert result.ok and result.entries == n, result.problems[:3]
        t = time.perf_counter()
        book.entries(audit.CHAIN)
        reads.append(time.perf_counter() - t)
    entries = book.entries(audit.CHAIN)
    t = time.perf_counter()
    for e in entries:
        audit.entry_hash(e)
    hashing = time.perf_counter() - t
    return {"entries": n, "best_s": min(walls), "median_s": statistics.median(walls),
            "read_median_s": statistics.median(reads), "hash_s": hashing,
            "within_budget": statistics.median(walls) <= VERIFY_BUDGET_S}


def time_appends(store: Store, count: int) -> dict[str, Any]:
    book = store.book()
    times = []
    for i in range(count):
        t = time.perf_counter()
        audit.record(book, user="bench", action="view_entity", ids=[f"Trader:T{i:06d}"])
        times.append(time.perf_counter() - t)
    times.sort()
    return {"appends": count, "median_ms": 1000 * statistics.median(times),
            "p95_ms": 1000 * times[int(0.95 * (len(times) - 1))], "max_ms": 1000 * times[-1]}


def bench(store: Store, name: str, args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"store": name}
    out["fill_s"] = fill(store, args.entries)
    out["verify"] = time_verify(store, args.entries, args.repeat)
    out["append"] = time_appends(store, args.appends)
    return out


def _neo4j_clear(store: Any) -> None:
    with store.driver.session(database=store.database) as s:
        s.run("MATCH (e:_CaseChain {name: $c}) CALL (e) { DELETE e } IN TRANSACTIONS OF 5000 ROWS",
              c=audit.CHAIN).consume()
        s.run("MATCH (h:_CaseChainHead {name: $c}) DELETE h", c=audit.CHAIN).consume()


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(), "sqlite": sqlite3.sqlite_version}


def report(r: dict[str, Any]) -> None:
    v, a = r["verify"], r["append"]
    print(f"{r['store']}: {v['entries']:,} entries written in {r['fill_s']:.2f} s; verify best {v['best_s']:.3f} s, "
          f"median {v['median_s']:.3f} s (read {v['read_median_s']:.3f} s, hashing {v['hash_s']:.3f} s) -> "
          f"{'within' if v['within_budget'] else 'OVER'} the {VERIFY_BUDGET_S:.0f} s budget; one append: median "
          f"{a['median_ms']:.2f} ms, p95 {a['p95_ms']:.2f} ms, max {a['max_ms']:.2f} ms ({a['appends']} appends)")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--entries", type=int, default=10_000, help="entries in the log to verify")
    p.add_argument("--repeat", type=int, default=5, help="verifications timed")
    p.add_argument("--appends", type=int, default=200, help="single appends timed")
    p.add_argument("--neo4j", default=os.environ.get("GRAPHIFF_TEST_NEO4J"),
                   help="bolt URI of a scratch Neo4j (default $GRAPHIFF_TEST_NEO4J; none: embedded only)")
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args()

    results: dict[str, Any] = {"machine": machine(), "runs": []}
    print(", ".join(f"{k} {v}" for k, v in results["machine"].items()))
    with tempfile.TemporaryDirectory() as tmp, open_store(str(Path(tmp) / "bench.duckdb")) as st:
        results["runs"].append(bench(st, "embedded (SQLite case book)", args))
        report(results["runs"][-1])
    if args.neo4j:
        with open_store(args.neo4j) as st:
            if st.book().entries(audit.CHAIN, since=0)[:1]:
                print(f"{args.neo4j} holds an audit log already: give a scratch server", file=sys.stderr)
                return 2
            version = st.driver.get_server_info().agent  # type: ignore[attr-defined]
            try:
                results["runs"].append({**bench(st, f"Neo4j ({version})", args), "server": version})
            finally:
                _neo4j_clear(st)
            report(results["runs"][-1])
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

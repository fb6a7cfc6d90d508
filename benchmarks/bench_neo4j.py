"""Neo4j load throughput through the store, from Python (results: BENCHMARKS.md).

Measures, on a real Neo4j server:

* node rows/s: ``Neo4jStore.upsert_nodes("Declaration", ...)`` of N declaration rows with the
  columns a load gives them (about 30 properties incl. provenance);
* relationship rows/s: ``upsert_rels("EXPORTED", ...)`` of N Trader->Declaration rows;
* the same kind of rows written with one MERGE statement per row (the naive way, on a smaller
  sample, extrapolated to a rate) and the ratio batched / per-row;
* reading the tables back (``nodes()``/``rels()``) in rows/s.

Budgets: >= 20,000 node rows/s, >= 10,000 relationship rows/s, >= 50x faster than one MERGE per
row. Prints a markdown table (and JSON with --json).

    python benchmarks/bench_neo4j.py                      # starts scripts/neo4j-local
    python benchmarks/bench_neo4j.py --uri bolt://127.0.0.1:7687 --rows 200000 --per-row 2000

The database is WIPED first: never point it at a database you care about.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphiff.stores.cypher import cypher  # noqa: E402
from graphiff.stores.neo4j import Neo4jStore  # noqa: E402

BUDGET = {"nodes": 20_000, "rels": 10_000, "ratio": 50}


class Meter:
    """Wall time, this process's CPU time and (when its pid is known, i.e. a local server) the
    Neo4j server's CPU time of one phase. CPU seconds say what a phase costs even on a machine
    shared with other work, where wall-clock rates understate what a dedicated one does."""

    def __init__(self, server_pid: int | None):
        self.server_pid = server_pid

    def server_cpu(self) -> float | None:
        if not self.server_pid:
            return None
        try:
            f = Path(f"/proc/{self.server_pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    def measure(self, fn) -> dict:
        s0, c0, t0 = self.server_cpu(), time.process_time(), time.perf_counter()
        fn()
        t, c, s1 = time.perf_counter() - t0, time.process_time() - c0, self.server_cpu()
        return {"wall": t, "client_cpu": c, "server_cpu": (s1 - s0) if s0 is not None and s1 is not None else None}


def local_server_pid() -> int | None:
    """The pid of the server scripts/neo4j-local runs (its state dir: $NEO4J_LOCAL_DIR or .neo4j-local)."""
    state = Path(os.environ.get("NEO4J_LOCAL_DIR") or ROOT / ".neo4j-local")
    try:
        return int((state / "neo4j.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def declarations(n: int, start: int = 0, traders: int = 5_000, seed: int = 1) -> pd.DataFrame:
    """n declaration rows shaped as the loader writes them (32 properties incl. provenance)."""
    rng = np.random.default_rng(seed + start)
    i = np.arange(start, start + n)
    ids = np.char.add("D", i.astype(str))
    hs = rng.choice(["851712", "620342", "090111", "271019", "300490", "870323"], n)
    value = np.round(rng.lognormal(9, 1.5, n), 2)
    return pd.DataFrame({
        "key": np.char.add(ids, "/1"), "declaration_id": ids, "item_no": np.ones(n, dtype="int64"),
        "flow": rng.choice(["EXPORT", "IMPORT"], n), "reporting_country": rng.choice(["KE", "UG", "TZ", "RW"], n),
        "date": pd.to_datetime("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
        "exporter_id": np.char.add("T", rng.integers(0, traders, n).astype(str)),
        "importer_id": np.char.add("T", rng.integers(0, traders, n).astype(str)),
        "hs_code": hs, "description": rng.choice(["phones", "shirts", "coffee", "fuel oil", "medicine", "cars"], n),
        "origin_country": rng.choice(["CN", "IN", "AE", "KE"], n), "dispatch_country": rng.choice(["CN", "AE"], n),
        "destination_country": rng.choice(["KE", "UG"], n), "quantity": rng.integers(1, 1000, n).astype(float),
        "quantity_unit": "PCE", "net_mass_kg": np.round(rng.lognormal(5, 1, n), 1), "invoice_value": value,
        "currency": "USD", "transport_mode": rng.choice(["SEA", "ROAD", "AIR"], n),
        "carrier_id": np.char.add("C", rng.integers(0, 200, n).astype(str)),
        "container_ids": np.char.add("MSCU", rng.integers(1_000_000, 9_999_999, n).astype(str)),
        "transport_doc_no": np.char.add("BL", i.astype(str)), "invoice_no": np.char.add("INV", i.astype(str)),
        "office": rng.choice(["MSA", "NBO", "KLA"], n), "decl_key": np.char.add(ids, "/1"), "hs6": hs,
        "value_usd": value, "usd_status": "given", "_source": "declarations.csv", "_line": i + 2,
        "_load_id": "Lbench", "_loaded_at": "2024-06-01T00:00:00Z",
    }).assign(date=lambda d: d["date"].dt.strftime("%Y-%m-%d"))


def exported(decl: pd.DataFrame) -> pd.DataFrame:
    """Trader -[:EXPORTED]-> Declaration rows for the declarations (with provenance)."""
    return pd.DataFrame({"src_label": "Trader", "src": decl["exporter_id"].to_numpy(), "dst_label": "Declaration",
                         "dst": decl["key"].to_numpy(), "_source": "declarations.csv",
                         "_line": decl["_line"].to_numpy(), "_load_id": "Lbench", "_loaded_at": "2024-06-01T00:00:00Z"})


def _plain(v):
    return v.item() if hasattr(v, "item") else v


def per_row_nodes(store: Neo4jStore, frame: pd.DataFrame) -> None:
    """One MERGE per row, each its own (auto-commit) transaction: the naive client."""
    q = cypher("merge_one_node", label="Declaration")
    with store.driver.session(database=store.database) as s:
        for r in frame.to_dict("records"):
            key = r.pop("key")
            s.run(q, key=key, props={k: _plain(v) for k, v in r.items()}).consume()


def per_row_rels(store: Neo4jStore, frame: pd.DataFrame) -> None:
    """One relationship MERGE per row, each its own transaction."""
    q = cypher("merge_one_rel", src="Trader", dst="Declaration", type="EXPORTED")
    with store.driver.session(database=store.database) as s:
        for r in frame.to_dict("records"):
            rid = f"Trader:{r['src']}|EXPORTED|Declaration:{r['dst']}|"
            props = {k: _plain(v) for k, v in r.items() if k not in ("src_label", "src", "dst_label", "dst")}
            s.run(q, src=r["src"], dst=r["dst"], rid=rid, props=props).consume()


def run(uri: str, rows: int, per_row: int, batch: int | None, workers: int | None, rel_workers: int | None,
        server_pid: int | None) -> dict:
    """Every phase on a wiped database; wall time and CPU time of each."""
    store = Neo4jStore(uri, batch_size=batch, workers=workers, rel_workers=rel_workers)
    m = Meter(server_pid)
    try:
        store.wipe()
        decl = declarations(rows)
        rel = exported(decl)
        warm = declarations(2_000, start=10_000_000)  # plan caches and JIT warm-up, not timed
        store.upsert_nodes("Declaration", warm)
        store.upsert_rels("EXPORTED", exported(warm))
        per_row_nodes(store, declarations(100, start=30_000_000))
        per_row_rels(store, exported(declarations(100, start=30_000_000)))

        phases = {
            "nodes": m.measure(lambda: store.upsert_nodes("Declaration", decl)),
            "rels": m.measure(lambda: store.upsert_rels("EXPORTED", rel)),
            "nodes_again": m.measure(lambda: store.upsert_nodes("Declaration", decl)),
            "read_nodes": m.measure(lambda: store.nodes("Declaration")),
            "read_rels": m.measure(lambda: store.rels("EXPORTED")),
        }
        one = declarations(per_row, start=20_000_000)
        one_rels = exported(one)
        phases["per_row_nodes"] = m.measure(lambda: per_row_nodes(store, one))
        phases["per_row_rels"] = m.measure(lambda: per_row_rels(store, one_rels))
        counts = store.counts()
    finally:
        store.close()
    for name, ph in phases.items():
        n = per_row if name.startswith("per_row") else rows
        ph["rows_per_s"] = n / ph["wall"]
        cpu = ph["client_cpu"] + (ph["server_cpu"] or 0.0)
        ph["rows_per_cpu_s"] = n / cpu if ph["server_cpu"] is not None and cpu > 0 else None
    r = {"rows": rows, "per_row_sample": per_row, "batch": batch or "default",
         "workers": f"{store.workers}/{store.rel_workers}", "load_average": os.getloadavg(), "phases": phases,
         "counts": counts}
    r["node_ratio"] = phases["nodes"]["rows_per_s"] / phases["per_row_nodes"]["rows_per_s"]
    r["rel_ratio"] = phases["rels"]["rows_per_s"] / phases["per_row_rels"]["rows_per_s"]
    if phases["nodes"]["rows_per_cpu_s"]:
        r["node_ratio_cpu"] = phases["nodes"]["rows_per_cpu_s"] / phases["per_row_nodes"]["rows_per_cpu_s"]
        r["rel_ratio_cpu"] = phases["rels"]["rows_per_cpu_s"] / phases["per_row_rels"]["rows_per_cpu_s"]
    return r


def table(r: dict) -> str:
    ph = r["phases"]
    ok = lambda good: "ok" if good else "**below**"  # noqa: E731
    cpu = lambda name: f"{ph[name]['rows_per_cpu_s']:,.0f}" if ph[name]["rows_per_cpu_s"] else "n/a"  # noqa: E731
    la = ", ".join(f"{x:.1f}" for x in r["load_average"])
    lines = [
        f"Neo4j store: {r['rows']:,} rows per phase, batch {r['batch']}, node/rel workers {r['workers']}, "
        f"per-row sample {r['per_row_sample']:,} rows; load average at the end {la} on {os.cpu_count()} CPUs.",
        "rows/CPU-s counts this process and the Neo4j server (when local).", "",
        "| phase | rows/s | rows/CPU-s | budget | |", "|---|---:|---:|---:|---|",
        f"| Declaration nodes, batched UNWIND MERGE (32 properties) | {ph['nodes']['rows_per_s']:,.0f} "
        f"| {cpu('nodes')} | {BUDGET['nodes']:,} | {ok(ph['nodes']['rows_per_s'] >= BUDGET['nodes'])} |",
        f"| EXPORTED relationships, batched | {ph['rels']['rows_per_s']:,.0f} | {cpu('rels')} | {BUDGET['rels']:,} "
        f"| {ok(ph['rels']['rows_per_s'] >= BUDGET['rels'])} |",
        f"| Declaration nodes again (all exist) | {ph['nodes_again']['rows_per_s']:,.0f} | {cpu('nodes_again')} | | |",
        f"| Declaration nodes, one MERGE per row | {ph['per_row_nodes']['rows_per_s']:,.0f} "
        f"| {cpu('per_row_nodes')} | | |",
        f"| EXPORTED relationships, one MERGE per row | {ph['per_row_rels']['rows_per_s']:,.0f} "
        f"| {cpu('per_row_rels')} | | |",
        f"| nodes: batched / per row | {r['node_ratio']:,.1f}x | "
        f"{(format(r['node_ratio_cpu'], ',.1f') + 'x') if r.get('node_ratio_cpu') else 'n/a'} | {BUDGET['ratio']}x "
        f"| {ok(r['node_ratio'] >= BUDGET['ratio'])} |",
        f"| relationships: batched / per row | {r['rel_ratio']:,.1f}x | "
        f"{(format(r['rel_ratio_cpu'], ',.1f') + 'x') if r.get('rel_ratio_cpu') else 'n/a'} | {BUDGET['ratio']}x "
        f"| {ok(r['rel_ratio'] >= BUDGET['ratio'])} |",
        f"| read back: nodes('Declaration') | {ph['read_nodes']['rows_per_s']:,.0f} | {cpu('read_nodes')} | | |",
        f"| read back: rels('EXPORTED') | {ph['read_rels']['rows_per_s']:,.0f} | {cpu('read_rels')} | | |",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--uri", help="bolt URI (default: start scripts/neo4j-local); the database is wiped")
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--per-row", type=int, default=2_000)
    ap.add_argument("--batch", type=int, default=None, help="rows per transaction (default: the store's)")
    ap.add_argument("--workers", type=int, default=None, help="parallel node write transactions")
    ap.add_argument("--rel-workers", type=int, default=None, help="parallel relationship write transactions")
    ap.add_argument("--server-pid", type=int, default=None,
                    help="pid of a local Neo4j server, to count its CPU time (default: scripts/neo4j-local's)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    uri = a.uri
    if not uri:
        out = subprocess.run([str(ROOT / "scripts" / "neo4j-local"), "start"], capture_output=True, text=True,
                             check=True)
        uri = out.stdout.strip().splitlines()[-1]
    pid = a.server_pid or (local_server_pid() if uri.startswith(("bolt://127.0.0.1", "bolt://localhost")) else None)
    r = run(uri, a.rows, a.per_row, a.batch, a.workers, a.rel_workers, pid)
    print(json.dumps(r, indent=2) if a.json else table(r))


if __name__ == "__main__":
    main()

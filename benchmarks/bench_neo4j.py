"""Neo4j load throughput through the store, from Python (design.md section 10).

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
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphiff.cypher_loader import cypher  # noqa: E402
from graphiff.stores.neo4j import Neo4jStore  # noqa: E402

BUDGET = {"nodes": 20_000, "rels": 10_000, "ratio": 50}


def declarations(n: int, start: int = 0, traders: int = 5_000, seed: int = 1) -> pd.DataFrame:
    """n declaration rows shaped as the loader writes them."""
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
    return pd.DataFrame({"src_label": "Trader", "src": decl["exporter_id"].to_numpy(), "dst_label": "Declaration",
                         "dst": decl["key"].to_numpy(), "_source": "declarations.csv",
                         "_line": decl["_line"].to_numpy(), "_load_id": "Lbench", "_loaded_at": "2024-06-01T00:00:00Z"})


def per_row_nodes(store: Neo4jStore, frame: pd.DataFrame) -> float:
    """One MERGE per row, each its own (auto-commit) transaction: the naive client."""
    q = cypher("merge_one_node", label="Declaration")
    records = frame.to_dict("records")
    t0 = time.perf_counter()
    with store.driver.session(database=store.database) as s:
        for r in records:
            key = r.pop("key")
            s.run(q, key=key, props={k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()}).consume()
    return time.perf_counter() - t0


def per_row_rels(store: Neo4jStore, frame: pd.DataFrame) -> float:
    q = cypher("merge_one_rel", src="Trader", dst="Declaration", type="EXPORTED")
    records = frame.to_dict("records")
    t0 = time.perf_counter()
    with store.driver.session(database=store.database) as s:
        for r in records:
            rid = f"Trader:{r['src']}|EXPORTED|Declaration:{r['dst']}|"
            props = {k: (v.item() if hasattr(v, "item") else v) for k, v in r.items() if k not in
                     ("src_label", "src", "dst_label", "dst")}
            s.run(q, src=r["src"], dst=r["dst"], rid=rid, props=props).consume()
    return time.perf_counter() - t0


def run(uri: str, rows: int, per_row: int, batch: int | None) -> dict:
    store = Neo4jStore(uri, batch_size=batch)
    try:
        store.wipe()
        decl = declarations(rows)
        rel = exported(decl)
        warm = declarations(2_000, start=10_000_000)  # plan caches and JIT warm-up, not timed
        store.upsert_nodes("Declaration", warm)
        store.upsert_rels("EXPORTED", exported(warm))

        t0 = time.perf_counter()
        store.upsert_nodes("Declaration", decl)
        t_nodes = time.perf_counter() - t0
        t0 = time.perf_counter()
        store.upsert_rels("EXPORTED", rel)
        t_rels = time.perf_counter() - t0

        t0 = time.perf_counter()
        back = store.nodes("Declaration")
        t_read_nodes = time.perf_counter() - t0
        t0 = time.perf_counter()
        back_rels = store.rels("EXPORTED")
        t_read_rels = time.perf_counter() - t0

        # again: the same rows, now all MERGE matches (an idempotent re-load)
        t0 = time.perf_counter()
        store.upsert_nodes("Declaration", decl)
        t_nodes_again = time.perf_counter() - t0

        one = declarations(per_row, start=20_000_000)
        t_one_nodes = per_row_nodes(store, one)
        t_one_rels = per_row_rels(store, exported(one))
        counts = store.counts()
    finally:
        store.close()
    r = {
        "rows": rows, "per_row_sample": per_row, "batch": batch or "default",
        "node_rows_per_s": rows / t_nodes, "rel_rows_per_s": rows / t_rels,
        "node_reload_rows_per_s": rows / t_nodes_again,
        "per_row_node_rows_per_s": per_row / t_one_nodes, "per_row_rel_rows_per_s": per_row / t_one_rels,
        "read_node_rows_per_s": len(back) / t_read_nodes, "read_rel_rows_per_s": len(back_rels) / t_read_rels,
        "counts": counts,
    }
    r["node_ratio"] = r["node_rows_per_s"] / r["per_row_node_rows_per_s"]
    r["rel_ratio"] = r["rel_rows_per_s"] / r["per_row_rel_rows_per_s"]
    return r


def table(r: dict) -> str:
    ok = lambda good: "ok" if good else "**below budget**"  # noqa: E731
    lines = [
        f"Neo4j store, {r['rows']:,} rows, batch {r['batch']} (per-row sample {r['per_row_sample']:,} rows)", "",
        "| measure | rows/s | budget | |", "|---|---:|---:|---|",
        f"| Declaration nodes, batched UNWIND MERGE | {r['node_rows_per_s']:,.0f} | {BUDGET['nodes']:,} | "
        f"{ok(r['node_rows_per_s'] >= BUDGET['nodes'])} |",
        f"| EXPORTED relationships, batched | {r['rel_rows_per_s']:,.0f} | {BUDGET['rels']:,} | "
        f"{ok(r['rel_rows_per_s'] >= BUDGET['rels'])} |",
        f"| Declaration nodes again (all exist) | {r['node_reload_rows_per_s']:,.0f} | | |",
        f"| Declaration nodes, one MERGE per row | {r['per_row_node_rows_per_s']:,.0f} | | |",
        f"| EXPORTED relationships, one MERGE per row | {r['per_row_rel_rows_per_s']:,.0f} | | |",
        f"| nodes batched / per row | {r['node_ratio']:,.0f}x | {BUDGET['ratio']}x | {ok(r['node_ratio'] >= BUDGET['ratio'])} |",
        f"| relationships batched / per row | {r['rel_ratio']:,.0f}x | {BUDGET['ratio']}x | "
        f"{ok(r['rel_ratio'] >= BUDGET['ratio'])} |",
        f"| read back: nodes('Declaration') | {r['read_node_rows_per_s']:,.0f} | | |",
        f"| read back: rels('EXPORTED') | {r['read_rel_rows_per_s']:,.0f} | | |",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--uri", help="bolt URI (default: start scripts/neo4j-local); the database is wiped")
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--per-row", type=int, default=2_000)
    ap.add_argument("--batch", type=int, default=None, help="rows per transaction (default: the store's)")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    uri = a.uri
    if not uri:
        out = subprocess.run([str(ROOT / "scripts" / "neo4j-local"), "start"], capture_output=True, text=True,
                             check=True)
        uri = out.stdout.strip().splitlines()[-1]
    r = run(uri, a.rows, a.per_row, a.batch)
    print(json.dumps(r, indent=2) if a.json else table(r))


if __name__ == "__main__":
    main()

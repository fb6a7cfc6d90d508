"""Search benchmark (graphiff.search, what ``GET /api/search`` answers): index build time and
query latency p50/p95 on a sample world, and how often a misspelt name finds its entity.

    python benchmarks/bench_search.py --declarations 100000
    python benchmarks/bench_search.py --declarations 30000 --neo4j-uri bolt://127.0.0.1:7687 --json out.json

Generates an alias world (``graphiff samples --aliases``: every administration spells foreign
parties its own way) of about ``--declarations`` rows once into the work folder, loads it into
an embedded store (reused on later runs), then measures:

* build: reading the tables and making the documents (``build_documents``), and indexing their
  text in tantivy (``open_search``);
* queries: ``--queries`` realistic queries drawn from the world -- names of traders, persons
  and carriers with one or two typos, in lower case, words shuffled, the last word unfinished or
  the legal form dropped; and identifiers as an analyst types them (IBANs in groups of four,
  phones with spaces, tax ids, e-mails, containers, declaration and payment ids) -- each timed
  alone after a warm-up; latency p50/p95/p99/max by kind;
* quality: for names, whether the first hit (found@1; hits tied with it count too: the alias
  spellings of one company score alike until entity resolution joins them) or one of the first
  10 (found@10) bears the name the query was made from; for identifiers, whether a hit scored 1.

With ``--neo4j-uri`` the same world is loaded into that (wiped!) Neo4j and measured there too.
Figures go into BENCHMARKS.md by hand.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graphiff import load_paths, open_store  # noqa: E402
from graphiff.graph.tables import Tables  # noqa: E402
from graphiff.search import SearchIndex, open_search  # noqa: E402
from graphiff.search.documents import build_documents  # noqa: E402
from graphiff.search.normalise import fold  # noqa: E402

#: declaration rows of a world of scale 1 (graphiff.samples)
ROWS_PER_SCALE = 30_000
LEGAL = ("ltd", "limited", "llc", "gmbh", "pte", "pvt", "sa", "inc", "co", "ag", "fze", "sarl", "bv", "nv", "plc")


def _say(msg: str) -> None:
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def world_dir(workdir: Path, scale: float, seed: int) -> Path:
    from graphiff.samples import generate_world

    w = workdir / f"world-{scale:g}-{seed}-aliases"
    if not (w / "truth.json").exists():
        t0 = time.perf_counter()
        generate_world(w, scale=scale, seed=seed, aliases=True)
        _say(f"generated {w.name} in {time.perf_counter() - t0:.1f} s")
    return w


def loaded_store(uri: str, world: Path, workdir: Path, *, fresh: bool) -> dict[str, Any]:
    """Load ``world`` into ``uri`` (when ``fresh`` or not yet loaded); the load figures."""
    marker = workdir / (Path(uri).name + ".loaded.json") if "://" not in uri else None
    if marker is not None and marker.exists() and not fresh:
        return json.loads(marker.read_text())
    with open_store(uri) as st:
        if fresh:
            st.wipe()
        t0 = time.perf_counter()
        res = load_paths(st, [world], quarantine_dir=workdir / "quarantine")
        info = {"seconds": round(time.perf_counter() - t0, 1), "loaded": res.loaded}
    _say(f"loaded {uri} in {info['seconds']} s")
    if marker is not None:
        marker.write_text(json.dumps(info))
    return info


# ---- queries --------------------------------------------------------------------------------------

def typo(word: str, rng: random.Random) -> str:
    """One edit of a word of 4+ letters: a deletion, a transposition, a substitution or an insertion."""
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("delete", "swap", "replace", "insert"))
    letters = "abcdefghijklmnopqrstuvwxyz"
    if kind == "delete":
        return word[:i] + word[i + 1:]
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "replace":
        return word[:i] + rng.choice(letters) + word[i + 1:]
    return word[:i] + rng.choice(letters) + word[i:]


def misspell(name: str, rng: random.Random) -> str:
    """A name as an analyst might type it: lower case, legal form often dropped, one or two
    typos, words sometimes shuffled, the last word sometimes unfinished."""
    words = fold(name).split()
    if len(words) > 1 and rng.random() < 0.6:
        words = [w for w in words if w not in LEGAL] or words
    long_words = [n for n, w in enumerate(words) if len(w) >= 4]
    for n in rng.sample(long_words, min(len(long_words), rng.choice((1, 1, 2)))):
        words[n] = typo(words[n], rng)
    if len(words) > 1 and rng.random() < 0.3:
        rng.shuffle(words)
    elif len(words) > 1 and len(words[-1]) >= 6 and rng.random() < 0.3:
        words[-1] = words[-1][: rng.randrange(3, len(words[-1]) - 1)]
    return " ".join(words)


def spaced(value: str, every: int = 4) -> str:
    return " ".join(value[i:i + every] for i in range(0, len(value), every))


def make_queries(tables: Tables, n: int, seed: int) -> list[tuple[str, str, str]]:
    """``(kind, query, expected)``: ``expected`` is the folded name (names) or the identifier."""
    rng = random.Random(seed)
    raw = tables.raw
    out: list[tuple[str, str, str]] = []
    names = []
    for label in ("Trader", "Person", "Carrier"):
        nodes = raw.nodes(label)
        if "name" in nodes.columns:
            names += [str(x) for x in nodes["name"].dropna().tolist() if str(x).strip()]
    for name in rng.sample(names, min(len(names), n // 2)):
        out.append(("name", misspell(name, rng), fold(name)))
    ids: list[tuple[str, str, str]] = []
    traders = raw.nodes("Trader")
    accounts = [str(k) for k in raw.nodes("BankAccount")["key"].tolist()]
    ibans = [k for k in accounts if k[:2].isalpha()]
    for k in rng.sample(ibans, min(len(ibans), n // 12)):
        ids.append(("iban", spaced(k), k))
    for col, kind in (("tin", "tin"), ("phone", "phone"), ("email", "email")):
        vals = [str(v) for v in traders[col].dropna().tolist() if sum(c.isalnum() for c in str(v)) >= 4] \
            if col in traders.columns else []
        for v in rng.sample(vals, min(len(vals), n // 12)):
            q = v.upper() if kind == "email" else v
            ids.append((kind, q, v))
    for label, kind in (("Container", "container"), ("Declaration", "declaration"), ("Payment", "payment"),
                        ("Trader", "trader_id")):
        keys = [str(k) for k in raw.nodes(label)["key"].tolist()]
        for k in rng.sample(keys, min(len(keys), n // 12)):
            ids.append((kind, k.split("/")[0] if kind == "declaration" else k, k))
    rng.shuffle(ids)
    out += ids[: n - len(out)]
    return out


# ---- measuring -------------------------------------------------------------------------------------

def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def measure(index: SearchIndex, queries: list[tuple[str, str, str]]) -> dict[str, Any]:
    for _, q, _ in queries[:20]:                                   # warm-up
        index.search(q)
    by_kind: dict[str, list[float]] = {}
    quality: dict[str, list[int]] = {}
    for kind, q, expected in queries:
        t = time.perf_counter()
        hits = index.search(q)
        ms = (time.perf_counter() - t) * 1000
        by_kind.setdefault(kind, []).append(ms)
        by_kind.setdefault("all", []).append(ms)
        if kind == "name":
            names = [fold(m["value"]) for h in hits[:10] for m in h.matched if m["field"] in ("name", "alias_names")]
            # found first: the name is among the hits that share the top score (alias spellings of
            # one company in an unresolved world score alike)
            top = [fold(m["value"]) for h in hits if h.score == hits[0].score for m in h.matched]
            quality.setdefault("found@1", []).append(int(expected in top))
            quality.setdefault("found@10", []).append(int(expected in names or expected in top))
        else:
            quality.setdefault("id exact", []).append(int(any(h.score == 1.0 for h in hits)))
    lat = {k: {"n": len(v), "p50_ms": round(statistics.median(v), 2), "p95_ms": round(pct(v, 95), 2),
               "p99_ms": round(pct(v, 99), 2), "max_ms": round(max(v), 2)} for k, v in sorted(by_kind.items())}
    return {"latency": lat, "quality": {k: round(sum(v) / len(v), 3) for k, v in quality.items()}}


def bench(uri: str, queries_n: int, seed: int) -> dict[str, Any]:
    with open_store(uri) as st:
        t0 = time.perf_counter()
        tables = Tables(st)
        docs = build_documents(tables)
        t1 = time.perf_counter()
        index = open_search(st, tables)
        t2 = time.perf_counter()
        queries = make_queries(tables, queries_n, seed)
        result = {"store": type(st).__name__, "documents": len(docs), "text_documents": len(docs.text_docs()),
                  "identifiers": docs.n_identifiers, "build_documents_s": round(t1 - t0, 2),
                  "build_index_s": round(t2 - t1, 2), "build_total_s": round(t2 - t0, 2),
                  **measure(index, queries), "examples": [q for _, q, _ in queries[:8]]}
    return result


def report(r: dict[str, Any]) -> None:
    print(f"\n### {r['store']}: {r['documents']:,} documents ({r['text_documents']:,} with text), "
          f"{r['identifiers']:,} identifiers")
    print(f"build: documents {r['build_documents_s']} s (incl. reading the tables), index {r['build_index_s']} s, "
          f"total {r['build_total_s']} s")
    print("\n| queries | n | p50 ms | p95 ms | p99 ms | max ms |\n|---|---|---|---|---|---|")
    for k, v in r["latency"].items():
        print(f"| {k} | {v['n']} | {v['p50_ms']} | {v['p95_ms']} | {v['p99_ms']} | {v['max_ms']} |")
    print("\nquality: " + ", ".join(f"{k} {v:.1%}" for k, v in r["quality"].items()))
    print("example queries: " + "; ".join(repr(q) for q in r["examples"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--declarations", type=int, default=100_000, help="declaration rows of the world (about)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--queries", type=int, default=400)
    ap.add_argument("--workdir", type=Path, default=None,
                    help="worlds and stores, kept for reuse (default: a folder in the temp directory)")
    ap.add_argument("--neo4j-uri", default=None, help="also load into this Neo4j (its data is WIPED) and measure")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    scale = args.declarations / ROWS_PER_SCALE
    workdir = args.workdir or Path(tempfile.gettempdir()) / "graphiff-bench-search"
    workdir.mkdir(parents=True, exist_ok=True)
    world = world_dir(workdir, scale, args.seed)
    store = str(workdir / f"search-{scale:g}-{args.seed}.duckdb")
    load = loaded_store(store, world, workdir, fresh=False)
    out: dict[str, Any] = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                                       "platform": platform.platform()},
                           "scale": round(scale, 3), "loaded": load["loaded"], "runs": []}
    print(f"world: scale {scale:.3g}, {load['loaded'].get('declarations', 0):,} declaration rows, "
          f"{load['loaded'].get('traders', 0):,} trader rows (alias world)")
    run = bench(store, args.queries, args.seed)
    report(run)
    out["runs"].append(run)
    if args.neo4j_uri:
        out["neo4j_load"] = loaded_store(args.neo4j_uri, world, workdir, fresh=True)
        run = bench(args.neo4j_uri, args.queries, args.seed)
        report(run)
        out["runs"].append(run)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

"""Entity resolution benchmark (results: BENCHMARKS.md, "Entity resolution"): quality against
the truth of alias worlds, detector recall with aliases, splink side by side, and speed and
memory at ~1M declaration rows on both stores.

Usage::

    python benchmarks/bench_resolve.py --workdir W quality --seeds 1 2 3 4 5 --scale 1 --extra 0.3:7
    python benchmarks/bench_resolve.py --workdir W detectors --seeds 1 2 3 --scale 1
    python benchmarks/bench_resolve.py --workdir W splink --seeds 1 2 3 --scale 1 --labels Trader Person
    python benchmarks/bench_resolve.py --workdir W speed --scale 35 [--neo4j-uri bolt://127.0.0.1:PORT]

Worlds (``graphiff samples --aliases`` and plain ones) and their embedded stores are made once
in --workdir (default: a fresh temporary folder) and reused by later runs with the same
--workdir. Each part prints markdown tables (stdout) and writes its figures as JSON
(``--json``, default ``WORKDIR/resolve-PART-SCALE.json``).

Targets: pairwise precision >= 0.97 at recall >= 0.90 overall; detector recall on resolved
alias worlds >= 0.90 x the plain world's for every family; resolve of the 1M-declaration
world <= 3 min and <= 4 GB on the embedded store, within 2x of that on Neo4j. splink
(``pip install -e '.[bench]'``) is given the same records graphiff compares.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

LABELS = ("Trader", "Person", "Carrier", "BankAccount")


# ---- worlds and stores ---------------------------------------------------------------------------

def world_dir(workdir: Path, scale: float, seed: int, aliases: bool = True) -> Path:
    """Generate (once) the world of ``scale``/``seed`` in ``workdir``; its folder."""
    from graphiff.samples import generate_world

    w = workdir / f"world-{scale:g}-{seed}-{'aliases' if aliases else 'plain'}"
    if not (w / "truth.json").exists():
        t0 = time.perf_counter()
        generate_world(w, scale=scale, seed=seed, aliases=aliases)
        _say(f"generated {w.name} in {time.perf_counter() - t0:.1f} s")
    return w


LOAD_CHILD = r"""
import json, sys, time, resource
from graphiff import load_paths, open_store
world, store, q = sys.argv[1:4]
t0, c0 = time.perf_counter(), time.process_time()
with open_store(store) as st:
    res = load_paths(st, [world], quarantine_dir=q)
print(json.dumps({"seconds": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
                  "rows": sum(res.loaded.values()) + sum(res.quarantined.values()), "loaded": res.loaded,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def store_path(workdir: Path, scale: float, seed: int, aliases: bool = True) -> tuple[str, dict[str, Any]]:
    """The embedded store of that world, loaded once in a child process (load figures cached
    next to it as ``.load.json``)."""
    world = world_dir(workdir, scale, seed, aliases)
    name = f"store-{scale:g}-{seed}-{'aliases' if aliases else 'plain'}"
    path, info = workdir / f"{name}.duckdb", workdir / f"{name}.load.json"
    if not path.exists() or not info.exists():
        path.unlink(missing_ok=True)
        r = _child(LOAD_CHILD, str(world), str(path), str(workdir / f"quarantine-{name}"))
        info.write_text(json.dumps(r) + "\n", encoding="utf-8")
        _say(f"loaded {name}: {r['rows']:,} rows in {r['seconds']:.1f} s")
    return str(path), json.loads(info.read_text(encoding="utf-8"))


def truth_of(workdir: Path, scale: float, seed: int, aliases: bool = True) -> dict[str, Any]:
    return json.loads((world_dir(workdir, scale, seed, aliases) / "truth.json").read_text(encoding="utf-8"))


def _child(code: str, *args: str) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter; its last stdout line is JSON. ``-P``: the current
    folder is not put on the child's path, so it imports the graphiff the parent imports."""
    proc = subprocess.run([sys.executable, "-P", "-c", code, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"child failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    for line in reversed(proc.stdout.strip().splitlines()):   # DuckDB may draw a progress bar on stdout
        if "{" in line:
            try:
                return json.loads(line[line.index("{"):])
            except json.JSONDecodeError:
                continue
    raise SystemExit(f"child printed no JSON:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _clusters(store: Any) -> dict[str, list[list[str]]]:
    from graphiff.graph.tables import Tables

    res = Tables(store).resolution
    return {lab: res.clusters(lab) for lab in LABELS}


def _spread(values: list[float | None]) -> str:
    v = [x for x in values if x is not None]
    if not v:
        return "—"
    return f"{min(v):.3f} / {statistics.median(v):.3f} / {max(v):.3f}"


# ---- 1. quality over seeds and scales ------------------------------------------------------------

def part_quality(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from graphiff import open_store
    from graphiff.resolve.evaluate import evaluate_resolution
    from graphiff.resolve.run import resolve

    runs = [(args.scale, s) for s in args.seeds] + [(float(sc), int(sd)) for sc, sd in
                                                     (x.split(":") for x in args.extra)]
    out: dict[str, Any] = {"runs": []}
    for scale, seed in runs:
        path, _ = store_path(workdir, scale, seed)
        truth = truth_of(workdir, scale, seed)
        with open_store(path) as st:
            t0, c0 = time.perf_counter(), time.process_time()
            summary = resolve(st)
            secs, cpu = time.perf_counter() - t0, time.process_time() - c0
            pred = _clusters(st)
        ev = evaluate_resolution(pred, truth)
        run = {"scale": scale, "seed": seed, "seconds": round(secs, 1), "cpu_s": round(cpu, 1),
               "records": {lab: summary["labels"][lab]["records"] for lab in LABELS},
               "candidates": {lab: summary["labels"][lab]["candidates"] for lab in LABELS},
               "review": {lab: summary["labels"][lab]["review"] for lab in LABELS},
               "labels": ev["labels"], "overall": ev["overall"],
               "decoys": {"total": ev["decoys"]["total"], "joined": ev["decoys"]["joined"],
                          "kinds": dict(Counter(d.get("kind") for d in ev["decoys"]["joined_decoys"]))}}
        o = ev["overall"]["pairwise"]
        _say(f"scale {scale:g} seed {seed}: P {o['precision']} R {o['recall']} F1 {o['f1']} "
             f"decoys joined {run['decoys']['joined']}/{run['decoys']['total']} ({secs:.1f} s)")
        out["runs"].append(run)
    main = [r for r in out["runs"] if r["scale"] == args.scale]
    print(f"\nResolution quality, alias worlds at scale {args.scale:g}, seeds {', '.join(map(str, args.seeds))}: "
          "min / median / max over seeds\n")
    print("| label | records | pairwise precision | pairwise recall | pairwise F1 | B-cubed precision "
          "| B-cubed recall | B-cubed F1 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for lab in (*LABELS, "overall"):
        def get(r: dict, kind: str, m: str, lab: str = lab) -> float | None:
            block = r["overall"] if lab == "overall" else r["labels"].get(lab, {})
            return block.get(kind, {}).get(m)
        recs = [sum(r["records"].values()) if lab == "overall" else r["records"][lab] for r in main]
        print(f"| {lab} | {min(recs):,}–{max(recs):,} | " + " | ".join(
            _spread([get(r, k, m) for r in main]) for k in ("pairwise", "bcubed")
            for m in ("precision", "recall", "f1")) + " |")
    print("\nPer run (overall pairwise; decoys joined / decoys)\n")
    print("| scale | seed | records | true pairs | precision | recall | F1 | B-cubed F1 | decoys joined "
          "| pairs for review | resolve wall (CPU) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in out["runs"]:
        o, b = r["overall"]["pairwise"], r["overall"]["bcubed"]
        print(f"| {r['scale']:g} | {r['seed']} | {sum(r['records'].values()):,} | {o['true_pairs']:,} | "
              f"{o['precision']:.3f} | {o['recall']:.3f} | {o['f1']:.3f} | {b['f1']:.3f} | "
              f"{r['decoys']['joined']} / {r['decoys']['total']} | {sum(r['review'].values()):,} | "
              f"{r['seconds']:.1f} s ({r['cpu_s']:.1f} s) |")
    return out


# ---- 2. detector recall with aliases -------------------------------------------------------------

def part_detectors(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from graphiff import open_store
    from graphiff.detectors import run_detectors
    from graphiff.detectors.evaluate import evaluate
    from graphiff.resolve.run import resolve

    out: dict[str, Any] = {"seeds": {}}
    for seed in args.seeds:
        res: dict[str, Any] = {}
        plain, _ = store_path(workdir, args.scale, seed, aliases=False)
        with open_store(plain) as st:
            res["plain"] = evaluate(run_detectors(st, write_back=False), truth_of(workdir, args.scale, seed, False))
        alias, _ = store_path(workdir, args.scale, seed)
        truth = truth_of(workdir, args.scale, seed)
        with open_store(alias) as st:
            res["alias_unresolved"] = evaluate(run_detectors(st, write_back=False, resolved=False), truth)
            resolve(st)
            res["alias_resolved"] = evaluate(run_detectors(st, write_back=False, resolved=True), truth)
        out["seeds"][seed] = {k: {"families": {f: {m: v[m] for m in ("alerts", "matching_alerts", "instances",
                                                                     "matched_instances", "decoys_flagged")}
                                               for f, v in e["families"].items()},
                                  "overall": {m: e["overall"][m] for m in ("alerts", "matching_alerts", "instances",
                                                                           "matched_instances", "decoys_flagged")}}
                              for k, e in res.items()}
        rec = {k: e["overall"]["recall"] for k, e in res.items()}
        _say(f"seed {seed}: recall plain {rec['plain']:.3f}, alias unresolved {rec['alias_unresolved']:.3f}, "
             f"resolved {rec['alias_resolved']:.3f}")
    settings = ("plain", "alias_unresolved", "alias_resolved")
    fams = sorted({f for s in out["seeds"].values() for k in settings for f in s[k]["families"]})
    print(f"\nDetector quality with aliases, scale {args.scale:g}, seeds {', '.join(map(str, args.seeds))} "
          "(instances and alerts pooled over seeds; recall = matched instances / instances, precision = matching "
          "alerts / alerts)\n")
    print("| family | instances | plain R | plain P | alias unresolved R | alias unresolved P | alias resolved R "
          "| alias resolved P | resolved R ÷ plain R (min over seeds) | decoys flagged (plain / unres. / res.) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    table: dict[str, Any] = {}
    for fam in [*fams, "overall"]:
        def pooled(k: str, num: str, den: str, fam: str = fam) -> float | None:
            n = sum((s[k]["overall"] if fam == "overall" else s[k]["families"].get(fam, {})).get(num, 0)
                    for s in out["seeds"].values())
            d = sum((s[k]["overall"] if fam == "overall" else s[k]["families"].get(fam, {})).get(den, 0)
                    for s in out["seeds"].values())
            return n / d if d else None

        ratios = []
        for s in out["seeds"].values():
            p = s["plain"]["overall"] if fam == "overall" else s["plain"]["families"].get(fam, {})
            r = s["alias_resolved"]["overall"] if fam == "overall" else s["alias_resolved"]["families"].get(fam, {})
            if p.get("instances") and p.get("matched_instances"):
                rr_seed = r.get("matched_instances", 0) / r["instances"]
                ratios.append(rr_seed / (p["matched_instances"] / p["instances"]))
        inst = sum((s["plain"]["overall"] if fam == "overall" else s["plain"]["families"].get(fam, {})).get(
            "instances", 0) for s in out["seeds"].values())
        row = {k: {"recall": pooled(k, "matched_instances", "instances"),
                   "precision": pooled(k, "matching_alerts", "alerts"),
                   "decoys_flagged": sum((s[k]["overall"] if fam == "overall" else s[k]["families"].get(fam, {})).get(
                       "decoys_flagged", 0) for s in out["seeds"].values())} for k in settings}
        pr, rr = row["plain"]["recall"], row["alias_resolved"]["recall"]
        row["ratio"] = rr / pr if pr and rr is not None else None
        row["ratio_min_seed"] = min(ratios) if ratios else None
        table[fam] = row

        def f(v: float | None) -> str:
            return "—" if v is None else f"{v:.2f}"
        print(f"| {fam} | {inst} | " + " | ".join(f"{f(row[k]['recall'])} | {f(row[k]['precision'])}"
                                                  for k in settings)
              + f" | {f(row['ratio'])} ({f(row['ratio_min_seed'])}) | "
              + " / ".join(str(row[k]["decoys_flagged"]) for k in settings) + " |")
    out["table"] = table
    return out


# ---- 3. splink side by side ----------------------------------------------------------------------

def _records(store: Any, label: str):
    from graphiff.graph.tables import Tables
    from graphiff.resolve.records import records

    return records(Tables(store, resolved=False), label)


def graphiff_side(store: Any, recs, label: str) -> dict[str, Any]:
    """graphiff's resolver on one label, end to end as ``graphiff resolve --label`` runs it
    (reading the records, blocking, scoring, thresholds and the promotion of supported review
    pairs, writing SAME_AS, clustering): its clusters, timings, and its candidate pairs
    (computed again, untimed, for the blocking recall)."""
    from graphiff.graph.tables import Tables
    from graphiff.resolve.blocking import candidate_pairs
    from graphiff.resolve.run import resolve

    t0, c0 = time.perf_counter(), time.process_time()
    summary = resolve(store, labels=[label])
    clusters = Tables(store).resolution.clusters(label)
    t1, c1 = time.perf_counter(), time.process_time()
    pairs, _ = candidate_pairs(recs, label)
    keys = recs["key"].astype(str).to_numpy()
    cand = set(zip(keys[pairs["i"].to_numpy()], keys[pairs["j"].to_numpy()]))
    info = summary["labels"][label]
    return {"clusters": clusters, "candidates": {tuple(sorted(p)) for p in cand},
            "time": {"scoring_s": info["seconds"], "writing_clustering_s": t1 - t0 - info["seconds"],
                     "total_s": t1 - t0, "cpu_s": c1 - c0},
            "candidate_pairs": len(pairs), "linked_pairs": info["linked"], "review_pairs": info["review"]}


def _splink_settings(label: str, name_col: str):
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    if label == "Person":
        blocking = [block_on("tin"), block_on("phone"), block_on("email"), block_on("address"),
                    block_on(name_col, "birth_date")]
        comparisons = [cl.NameComparison(name_col).configure(term_frequency_adjustments=True),
                       cl.ExactMatch("birth_date"), cl.ExactMatch("tin"), cl.ExactMatch("country"),
                       cl.ExactMatch("phone"), cl.ExactMatch("email"), cl.ExactMatch("address")]
    else:
        blocking = [block_on("tin"), block_on("phone"), block_on("email"), block_on("address"),
                    block_on(name_col, "country")]
        comparisons = [cl.NameComparison(name_col).configure(term_frequency_adjustments=True),
                       cl.ExactMatch("tin").configure(term_frequency_adjustments=True),
                       cl.ExactMatch("country"), cl.ExactMatch("city"),
                       cl.ExactMatch("phone"), cl.ExactMatch("email"), cl.ExactMatch("address")]
    return SettingsCreator(link_type="dedupe_only", unique_id_column_name="key", comparisons=comparisons,
                           blocking_rules_to_generate_predictions=blocking,
                           retain_intermediate_calculation_columns=False)


def splink_input(recs, label: str, name_col: str):
    """The records as splink reads them: the same columns, empty text as null; ``plain`` is
    the name lower-cased with punctuation removed (legal forms kept, words in order)."""
    import pandas as pd

    cols = ["key", "core", "country", "city", "tin", "address", "phone", "email"]
    if label == "Person":
        cols = [c for c in cols if c != "city"] + ["birth_date"]
    df = pd.DataFrame({c: recs[c].astype(object) for c in cols if c in recs.columns})
    if name_col == "plain":
        df["plain"] = (recs["name"].astype("string").str.lower().str.replace(r"[^a-z0-9 ]+", " ", regex=True)
                       .str.split().str.join(" ").astype(object))
    for c in df.columns:
        df[c] = df[c].where(df[c].notna() & (df[c].astype(str) != ""), None)
    return df


def splink_side(recs, label: str, *, name_col: str = "core", threshold: float = 0.9, u_pairs: float = 1e7,
                seed: int = 1, also_at: tuple[float, ...] = ()) -> dict[str, Any]:
    """splink 4/5 with a default setup (see BENCHMARKS.md) on the same records: train (random
    sampling for u, EM for m), predict at ``threshold``, cluster at ``threshold``."""
    import duckdb
    from splink import DuckDBAPI, Linker, block_on

    df = splink_input(recs, label, name_col)
    t0, c0 = time.perf_counter(), time.process_time()
    con = duckdb.connect()
    db = DuckDBAPI(con)
    linker = Linker(db.register(df, dataset_display_name=f"records_{label}"), _splink_settings(label, name_col),
                    log_level=logging.WARNING)
    if label == "Person":
        deterministic = [block_on(name_col, "birth_date", "country"), block_on("email")]
        em_rules = [block_on("birth_date"), block_on(name_col)]
    else:
        deterministic = [block_on(name_col, "country", "city"), block_on("email")]
        em_rules = [block_on(name_col, "country"), block_on("tin")]
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=u_pairs, seed=seed)
    for rule in em_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    t1 = time.perf_counter()
    pred = linker.inference.predict(threshold_match_probability=threshold)
    t2 = time.perf_counter()
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, threshold_match_probability=threshold)
    cdf = clustered.as_pandas_dataframe()
    groups = cdf.groupby("cluster_id")["key"].agg(list)
    clusters = [sorted(map(str, g)) for g in groups if len(g) >= 2]
    t3, c3 = time.perf_counter(), time.process_time()
    n_pred = int(con.execute(f"select count(*) from {pred.physical_name}").fetchall()[0][0])
    other: dict[float, list[list[str]]] = {}
    if also_at:   # the same model at other thresholds (not timed)
        low = linker.inference.predict(threshold_match_probability=min(also_at))
        for th in also_at:
            c = linker.clustering.cluster_pairwise_predictions_at_threshold(low, threshold_match_probability=th)
            g2 = c.as_pandas_dataframe().groupby("cluster_id")["key"].agg(list)
            other[th] = [sorted(map(str, g)) for g in g2 if len(g) >= 2]
    model = linker.misc.save_model_to_json()
    return {"clusters": clusters, "time": {"training_s": t1 - t0, "predict_s": t2 - t1, "clustering_s": t3 - t2,
                                           "total_s": t3 - t0, "cpu_s": c3 - c0},
            "predicted_pairs": n_pred, "also_at": other,
            "model": {"probability_two_random_records_match": model.get("probability_two_random_records_match"),
                      "levels": [[c["output_column_name"], lv.get("label_for_charts"), lv.get("m_probability"),
                                  lv.get("u_probability")] for c in model["comparisons"]
                                 for lv in c["comparison_levels"] if not lv.get("is_null_level")]}}


def _blocked_by_splink(ra: tuple, rb: tuple, fields: tuple[str, ...], name_ctx: tuple[str, str]) -> bool:
    for f in fields:
        if ra[f] is not None and ra[f] == rb[f]:
            return True
    a, b = name_ctx
    return ra[a] is not None and ra[a] == rb[a] and ra[b] is not None and ra[b] == rb[b]


_LEVEL_ORDER = ("equal", "typo", "subset", "similar", "different", "missing")


def miss_analysis(recs, predicted: list[list[str]], true: list[list[str]], label: str, *,
                  decoys: list[dict] | None = None, max_block: int = 20) -> dict[str, Any]:
    """Why records were missed or wrongly joined.

    Missed: for each true entity, the records outside the predicted cluster holding most of
    it; per such record, the best name comparison with the records it should have joined
    (graphiff's :func:`name_level` on name cores, ``raw-name-equal`` / ``core-only`` telling
    whether the legal-form removal was needed) and the identifiers it shares with them.
    Wrong: for each predicted cluster, the records outside its majority true entity, the same
    way, plus whether they form a decoy."""
    from graphiff.resolve.blocking import value_counts
    from graphiff.resolve.scoring import name_level

    ids = ("tin", "phone", "email", "address")
    rows = {str(k): r for k, r in zip(recs["key"].astype(str), recs.to_dict("records"))}
    common = {f: {v for v, n in value_counts(recs, f).items() if n > max_block} for f in ids if f in recs.columns}

    def val(r: dict, f: str) -> str | None:
        v = r.get(f)
        return None if v is None or (isinstance(v, float) and v != v) or str(v) in ("", "<NA>") else str(v)

    diffs: Counter[str] = Counter()

    closest: dict[str, Any] = {}

    def why(k: str, others: list[str], count_diff: bool = False) -> str:
        r = rows[k]
        best, shared, placeholder, raw_eq, best_other = "missing", set(), False, False, None
        for o in others:
            s = rows[o]
            lv = name_level(val(r, "core") or "", val(s, "core") or "")[0]
            if _LEVEL_ORDER.index(lv) < _LEVEL_ORDER.index(best):
                best, best_other = lv, s
            raw_eq |= lv == "equal" and (val(r, "name") or "").strip().lower() == (val(s, "name") or "").strip().lower()
            for f in ids:
                x = val(r, f)
                if x is not None and x == val(s, f):
                    if x in common.get(f, set()):
                        placeholder = True
                    else:
                        shared.add(f)
        if count_diff and best not in ("equal", "missing") and best_other is not None:
            wa, wb = (val(r, "core") or "").split(), (val(best_other, "core") or "").split()
            diffs[f"{' '.join(w for w in wa if w not in wb)} <> {' '.join(w for w in wb if w not in wa)}"] += 1
        closest[k] = (best_other or rows[others[0]]).get("name")
        name = best if best != "equal" else ("equal (raw name equal)" if raw_eq else "equal (core only)")
        core = "empty core" if not val(r, "core") else name
        return (f"name {core}; shares {'+'.join(sorted(shared)) or 'no identifier'}"
                + ("; placeholder tin" if placeholder else ""))

    pred_of = {k: n for n, c in enumerate(predicted) for k in c}
    missed: Counter[str] = Counter()
    examples: dict[str, list] = {}
    for t in true:
        cid = Counter(pred_of.get(k, f"single:{k}") for k in t).most_common(1)[0][0]
        main = [k for k in t if pred_of.get(k, f"single:{k}") == cid]
        for k in t:
            if k not in main and k in rows:
                c = why(k, main, count_diff=True)
                missed[c] += 1
                examples.setdefault(c, [])
                if len(examples[c]) < 2:
                    examples[c].append([rows[k].get("name"), closest[k]])
    true_of = {k: n for n, c in enumerate(true) for k in c}
    decoy_pairs = {frozenset(map(str, d.get("ids", []))): d.get("kind") for d in (decoys or [])
                   if d.get("label") == label}
    wrong: Counter[str] = Counter()
    wrong_examples: dict[str, list] = {}
    for c in predicted:
        tid = Counter(true_of.get(k, f"single:{k}") for k in c).most_common(1)[0][0]
        main = [k for k in c if true_of.get(k, f"single:{k}") == tid]
        for k in c:
            if k not in main and k in rows:
                kind = next((v for p, v in decoy_pairs.items() if k in p and p & set(main)), None)
                reason = why(k, main) + (f"; decoy {kind}" if kind else "")
                wrong[reason] += 1
                wrong_examples.setdefault(reason, [])
                if len(wrong_examples[reason]) < 2:
                    wrong_examples[reason].append([rows[k].get("name"), closest[k]])
    return {"missed_records": sum(missed.values()), "missed": dict(missed.most_common(12)),
            "missed_word_differences": dict(diffs.most_common(15)),
            "missed_examples": {k: examples[k] for k, _ in missed.most_common(6)},
            "wrong_records": sum(wrong.values()), "wrong": dict(wrong.most_common(12)),
            "wrong_examples": {k: wrong_examples[k] for k, _ in wrong.most_common(6)}}


def part_splink(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from graphiff import open_store
    from graphiff.resolve.evaluate import compare_clusters, true_clusters

    runs = [(args.scale, s) for s in args.seeds] + [(float(sc), int(sd)) for sc, sd in
                                                     (x.split(":") for x in args.extra)]
    out: dict[str, Any] = {"runs": [], "name_column": args.name_column, "u_pairs": args.u_pairs}
    for scale, seed in runs:
        path, _ = store_path(workdir, scale, seed)
        truth = truth_of(workdir, scale, seed)
        true = true_clusters(truth)
        decoys = (truth.get("resolution") or {}).get("decoys", [])
        for label in args.labels:
            with open_store(path) as st:
                t0 = time.perf_counter()
                recs = _records(st, label)
                rec_s = time.perf_counter() - t0
                row: dict[str, Any] = {"scale": scale, "seed": seed, "label": label, "records": len(recs),
                                       "records_s": round(rec_s, 2), "true_pairs": None}
                g = graphiff_side(st, recs, label)
            _say(f"scale {scale:g} seed {seed} {label}: graphiff {g['time']['total_s']:.1f} s; splink...")
            s = splink_side(recs, label, name_col=args.name_column, u_pairs=args.u_pairs, seed=seed,
                            also_at=tuple(args.also_at))
            _say(f"  splink {s['time']['total_s']:.1f} s")
            tc = true.get(label, [])
            sp_rows = splink_input(recs, label, args.name_column).to_dict("records")
            recs_by_key = {str(k): r for k, r in zip(recs["key"].astype(str), sp_rows)}
            name_ctx = (args.name_column, "birth_date" if label == "Person" else "country")
            tp = [(a, b) for c in tc for i, a in enumerate(sorted(c)) for b in sorted(c)[i + 1:]]
            blocked_g = sum(1 for p in tp if p in g["candidates"]) / len(tp) if tp else None
            blocked_s = sum(1 for a, b in tp if a in recs_by_key and b in recs_by_key and _blocked_by_splink(
                recs_by_key[a], recs_by_key[b], ("tin", "phone", "email", "address"), name_ctx))
            blocked_s = blocked_s / len(tp) if tp else None
            for side, res in (("graphiff", g), ("splink", s)):
                m = compare_clusters(res["clusters"], tc)
                member = {k: n for n, c in enumerate(res["clusters"]) for k in c}
                joined = sum(1 for d in decoys if d.get("label") == label and len(d.get("ids", [])) >= 2
                             and all(str(x) in member for x in d["ids"])
                             and len({member[str(x)] for x in d["ids"]}) == 1)
                row[side] = {"pairwise": m["pairwise"], "bcubed": m["bcubed"], "decoys_joined": joined,
                             "time": {k: round(v, 2) for k, v in res["time"].items()},
                             "blocking_recall": round(blocked_g if side == "graphiff" else blocked_s, 4)
                             if tp else None,
                             "why": miss_analysis(recs, res["clusters"], tc, label, decoys=decoys)}
                for k in ("candidate_pairs", "linked_pairs", "predicted_pairs"):
                    if k in res:
                        row[side][k] = res[k]
            row["splink"]["model"] = s["model"]
            row["splink_also_at"] = {str(th): {k: v for k, v in compare_clusters(c, tc).items()}
                                     for th, c in s["also_at"].items()}
            row["true_pairs"] = row["graphiff"]["pairwise"]["true_pairs"]
            row["decoys"] = sum(1 for d in decoys if d.get("label") == label)
            out["runs"].append(row)
            for side in ("graphiff", "splink"):
                p = row[side]["pairwise"]
                _say(f"  {side}: P {p['precision']} R {p['recall']} F1 {p['f1']} decoys {row[side]['decoys_joined']}")
    print(f"\ngraphiff vs splink ({args.name_column!r} as the name splink compares; u from {args.u_pairs:g} random "
          "pairs; both at 0.9), same records\n")
    print("| scale | seed | label | records | true pairs | system | pairwise P | pairwise R | pairwise F1 | B-cubed F1 "
          "| blocking recall | decoys joined | time |")
    print("|---:|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---|")
    for r in out["runs"]:
        for side in ("graphiff", "splink"):
            x = r[side]
            p, b, t = x["pairwise"], x["bcubed"], x["time"]
            parts = ((("reading records + blocking + scoring", "scoring_s"),
                      ("writing SAME_AS + clustering", "writing_clustering_s"))
                     if side == "graphiff" else
                     (("training", "training_s"), ("predict", "predict_s"), ("cluster", "clustering_s")))
            tt = (f"{t['total_s']:.1f} s, CPU {t['cpu_s']:.1f} s ("
                  + " + ".join(f"{n} {t[k]:.1f}" for n, k in parts) + ")")
            print(f"| {r['scale']:g} | {r['seed']} | {r['label']} | {r['records']:,} | {r['true_pairs']:,} | {side} | "
                  f"{p['precision']} | {p['recall']} | {p['f1']} | {b['f1']} | {x['blocking_recall']} | "
                  f"{x['decoys_joined']} / {r['decoys']} | {tt} |")
    if args.also_at:
        print("\nsplink, the same model clustered at other thresholds (pairwise P / R / F1)\n")
        print("| scale | seed | label | " + " | ".join(f"at {th:g}" for th in args.also_at) + " |")
        print("|---:|---:|---|" + "---:|" * len(args.also_at))
        for r in out["runs"]:
            cells = [r["splink_also_at"][str(th)]["pairwise"] for th in args.also_at]
            print(f"| {r['scale']:g} | {r['seed']} | {r['label']} | "
                  + " | ".join(f"{c['precision']} / {c['recall']} / {c['f1']}" for c in cells) + " |")
    print("\nRecords building (in graphiff's time, not in splink's): "
          + ", ".join(f"{r['label']} {r['scale']:g}/{r['seed']} {r['records_s']:.1f} s" for r in out["runs"]))
    for r in out["runs"]:
        for side in ("graphiff", "splink"):
            w = r[side]["why"]
            print(f"\n{side}, {r['label']} scale {r['scale']:g} seed {r['seed']}: {w['missed_records']} records "
                  f"missed, {w['wrong_records']} wrongly joined")
            for k, v in w["missed"].items():
                print(f"  missed {v:6d}  {k}  e.g. {w['missed_examples'].get(k, [''])[0]}")
            print("  words that differ in the missed records' name cores (closest record of their entity): "
                  + "; ".join(f"{k!r} {v}" for k, v in list(w["missed_word_differences"].items())[:10]))
            for k, v in w["wrong"].items():
                print(f"  wrong  {v:6d}  {k}  e.g. {w['wrong_examples'].get(k, [''])[0]}")
    return out


# ---- 4. speed and memory -------------------------------------------------------------------------

RESOLVE_CHILD = r"""
import json, sys, time, resource
from graphiff import open_store
from graphiff.resolve.run import resolve
store = sys.argv[1]
t0, c0 = time.perf_counter(), time.process_time()
with open_store(store) as st:
    s = resolve(st)
print(json.dumps({"seconds": time.perf_counter() - t0, "cpu_s": time.process_time() - c0, "summary": s,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

PROFILE_CHILD = r"""
import cProfile, pstats, sys, io
from graphiff import open_store
from graphiff.resolve.run import resolve
store, out = sys.argv[1:3]
with open_store(store) as st:
    pr = cProfile.Profile()
    pr.enable()
    resolve(st)
    pr.disable()
pr.dump_stats(out)
buf = io.StringIO()
pstats.Stats(pr, stream=buf).sort_stats("cumulative").print_stats(40)
buf2 = io.StringIO()
pstats.Stats(pr, stream=buf2).sort_stats("tottime").print_stats(25)
print(buf.getvalue() + buf2.getvalue(), file=sys.stderr)
print("{}")
"""

PHASES_CHILD = r"""
import json, sys, time, resource
from pathlib import Path
import graphiff.resolve.run as run
from graphiff import open_store

def rss(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")

phases = []
def wrap(name, fn):
    def inner(*a, **k):
        try:
            Path("/proc/self/clear_refs").write_text("5")   # reset the peak (VmHWM)
        except OSError:
            pass
        before, t0, c0 = rss("VmRSS"), time.perf_counter(), time.process_time()
        out = fn(*a, **k)
        label = a[0] if isinstance(a[0], str) else next((x for x in a if isinstance(x, str)), "") if a else ""
        phases.append({"phase": name, "label": label, "seconds": round(time.perf_counter() - t0, 2),
                       "cpu_s": round(time.process_time() - c0, 2), "rss_before_mb": round(before),
                       "peak_mb": round(rss("VmHWM")), "rss_after_mb": round(rss("VmRSS"))})
        return out
    return inner

for name in ("records", "candidate_pairs", "score_pairs", "current_resolution"):
    setattr(run, name, wrap(name, getattr(run, name)))
store = sys.argv[1]
with open_store(store) as st:
    st.upsert_rels = wrap("upsert_rels SAME_AS", st.upsert_rels)
    t0 = time.perf_counter()
    run.resolve(st)
print(json.dumps({"seconds": time.perf_counter() - t0, "phases": phases,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _server_cpu() -> float | None:
    """CPU seconds of the local Neo4j server (scripts/neo4j-local's pid file), if any."""
    state = Path(os.environ.get("NEO4J_LOCAL_DIR") or Path(__file__).resolve().parent.parent / ".neo4j-local")
    try:
        pid = int((state / "neo4j.pid").read_text().strip())
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def part_speed(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from graphiff import open_store
    from graphiff.resolve.evaluate import evaluate_resolution

    out: dict[str, Any] = {"scale": args.scale, "seed": args.seed}
    path, load = store_path(workdir, args.scale, args.seed)
    out["embedded_load"] = load
    cached = workdir / f"resolve-{args.scale:g}-{args.seed}.embedded.json"
    if cached.exists() and not args.again:
        r = json.loads(cached.read_text(encoding="utf-8"))
        _say(f"embedded resolve figures from an earlier run ({cached.name}; --again to measure anew)")
    else:
        _say(f"resolving {Path(path).name} (embedded) in a child process")
        r = _child(RESOLVE_CHILD, path)
        cached.write_text(json.dumps(r) + "\n", encoding="utf-8")
    out["embedded_resolve"] = r
    with open_store(path) as st:
        ev = evaluate_resolution(_clusters(st), truth_of(workdir, args.scale, args.seed))
    out["quality"] = {"overall": ev["overall"], "labels": {k: {"pairwise": v["pairwise"]} for k, v in
                                                            ev["labels"].items()},
                      "decoys": {"total": ev["decoys"]["total"], "joined": ev["decoys"]["joined"]}}
    o = ev["overall"]["pairwise"]
    _say(f"embedded: resolve {r['seconds']:.0f} s, CPU {r['cpu_s']:.0f} s, peak {r['peak_rss_mb']:,.0f} MB; "
         f"P {o['precision']} R {o['recall']}")
    if args.profile:
        prof = workdir / f"resolve-{args.scale:g}-{args.seed}.prof"
        proc = subprocess.run([sys.executable, "-P", "-c", PROFILE_CHILD, path, str(prof)], capture_output=True,
                              text=True)
        (workdir / f"resolve-{args.scale:g}-{args.seed}.profile.txt").write_text(proc.stderr, encoding="utf-8")
        _say(f"profile written next to the store ({prof.name}, .profile.txt)")
        ph = _child(PHASES_CHILD, path)
        out["phases"] = ph
        print("\nresolve by phase (a separate run without the profiler; peak = the phase's own high-water mark)\n")
        print("| phase | label | wall | CPU | RSS before | peak | RSS after |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for x in ph["phases"]:
            print(f"| {x['phase']} | {x['label']} | {x['seconds']:.1f} s | {x['cpu_s']:.1f} s | "
                  f"{x['rss_before_mb']:,} MB | {x['peak_mb']:,} MB | {x['rss_after_mb']:,} MB |")
    if args.neo4j_uri:
        world = world_dir(workdir, args.scale, args.seed)
        loaded = workdir / f"neo4j-load-{args.scale:g}-{args.seed}.json"
        if args.neo4j_loaded and loaded.exists():
            nl = json.loads(loaded.read_text(encoding="utf-8"))
            _say(f"Neo4j already holds the world; load figures from {loaded.name}")
        else:
            s0 = _server_cpu()
            nl = _child(LOAD_CHILD, str(world), args.neo4j_uri, str(workdir / "quarantine-neo4j"))
            s1 = _server_cpu()
            nl["server_cpu_s"] = None if s0 is None or s1 is None else s1 - s0
            loaded.write_text(json.dumps(nl) + "\n", encoding="utf-8")
            _say(f"neo4j load: {nl['rows']:,} rows in {nl['seconds']:.1f} s")
        out["neo4j_load"] = nl
        s1 = _server_cpu()
        nr = _child(RESOLVE_CHILD, args.neo4j_uri)
        s2 = _server_cpu()
        nr["server_cpu_s"] = None if s1 is None or s2 is None else s2 - s1
        out["neo4j_resolve"] = nr
        with open_store(args.neo4j_uri) as st:
            nev = evaluate_resolution(_clusters(st), truth_of(workdir, args.scale, args.seed))
        out["neo4j_quality"] = {"overall": nev["overall"]}
    reruns: dict[str, list[dict[str, Any]]] = {}
    for i in range(args.repeat):   # re-runs, alternating stores (the earlier run's SAME_AS are replaced)
        for name, target in (("embedded", path), ("Neo4j", args.neo4j_uri)):
            if target:
                s0 = _server_cpu() if name == "Neo4j" else None
                x = _child(RESOLVE_CHILD, target)
                s1 = _server_cpu() if name == "Neo4j" else None
                x["server_cpu_s"] = None if s0 is None or s1 is None else s1 - s0
                reruns.setdefault(name, []).append({k: v for k, v in x.items() if k != "summary"})
                _say(f"re-run {i + 1} {name}: {x['seconds']:.0f} s, CPU {x['cpu_s']:.0f} s")
    out["reruns"] = reruns
    recs = {lab: v["records"] for lab, v in r["summary"]["labels"].items()}
    cands = {lab: v["candidates"] for lab, v in r["summary"]["labels"].items()}
    print(f"\nResolve speed and memory, alias world scale {args.scale:g} seed {args.seed} "
          f"({load['loaded'].get('declarations', 0):,} declarations; records {recs}; candidate pairs {cands})\n")
    print("| store | load wall (CPU) | load rows/s | load peak RSS | resolve wall | resolve CPU (client) "
          "| resolve peak RSS (client) | per label |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    rows = [("embedded", load, r)]
    if args.neo4j_uri:
        rows.append(("Neo4j", out["neo4j_load"], out["neo4j_resolve"]))
    for name, ld, rs in rows:
        per = ", ".join(f"{lab} {v['seconds']:.0f} s" for lab, v in rs["summary"]["labels"].items())
        srv = f" + server {rs['server_cpu_s']:.0f} s" if rs.get("server_cpu_s") is not None else ""
        print(f"| {name} | {ld['seconds']:.0f} s ({ld['cpu_s']:.0f} s) | {ld['rows'] / ld['seconds']:,.0f} | "
              f"{ld['peak_rss_mb'] / 1024:.1f} GB | {rs['seconds']:.0f} s | {rs['cpu_s']:.0f} s{srv} | "
              f"{rs['peak_rss_mb'] / 1024:.2f} GB | {per} |")
    if reruns:
        print(f"\nRe-runs of resolve over the same store ({args.repeat} each, alternating): min / median / max\n")
        print("| store | wall | CPU (client) | server CPU | peak RSS (client) |")
        print("|---|---:|---:|---:|---:|")
        for name, xs in reruns.items():
            def mm(key: str, scale: float = 1.0, xs: list = xs) -> str:
                v = [x[key] / scale for x in xs if x.get(key) is not None]
                return f"{min(v):.1f} / {statistics.median(v):.1f} / {max(v):.1f}" if v else "—"
            print(f"| {name} | {mm('seconds')} s | {mm('cpu_s')} s | {mm('server_cpu_s')} s | "
                  f"{mm('peak_rss_mb', 1024)} GB |")
    o = out["quality"]["overall"]["pairwise"]
    print(f"\nQuality at this scale (embedded): pairwise P {o['precision']} R {o['recall']} F1 {o['f1']}, "
          f"decoys joined {out['quality']['decoys']['joined']} / {out['quality']['decoys']['total']}")
    return out


def _code_version() -> dict[str, Any]:
    """The commit of the graphiff imported, and its files changed since (work in progress); for
    an exported snapshot (``git archive``) run through PYTHONPATH, the ``COMMIT`` file beside it."""
    import graphiff

    root = Path(graphiff.__file__).resolve().parent.parent
    if (root / "COMMIT").exists():
        return {"commit": (root / "COMMIT").read_text(encoding="utf-8").strip(), "uncommitted": [],
                "snapshot": True}
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "graphiff"], cwd=root, capture_output=True,
                               text=True, check=True).stdout.split("\n")
        return {"commit": head, "uncommitted": [x[3:] for x in dirty if x.strip()]}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "uncommitted": None}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", type=Path, default=None, help="worlds and stores (kept for reuse; default: a "
                                                                "fresh temporary folder)")
    ap.add_argument("--json", type=Path, default=None,
                    help="where the figures go (default WORKDIR/resolve-PART-SCALE.json)")
    sub = ap.add_subparsers(dest="part", required=True)
    q = sub.add_parser("quality", help="precision/recall/F1 and B-cubed over seeds")
    q.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    q.add_argument("--scale", type=float, default=1.0)
    q.add_argument("--extra", nargs="*", default=["0.3:7"], help="more SCALE:SEED runs")
    d = sub.add_parser("detectors", help="detector recall: plain, alias unresolved, alias resolved")
    d.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    d.add_argument("--scale", type=float, default=1.0)
    s = sub.add_parser("splink", help="graphiff's resolver and splink on the same records")
    s.add_argument("--seeds", type=int, nargs="*", default=[1, 2, 3])
    s.add_argument("--scale", type=float, default=1.0)
    s.add_argument("--extra", nargs="*", default=[], help="more SCALE:SEED runs")
    s.add_argument("--labels", nargs="+", default=["Trader", "Person"])
    s.add_argument("--name-column", choices=["core", "plain"], default="core",
                   help="splink compares graphiff's name core, or the plain lower-cased name")
    s.add_argument("--u-pairs", type=float, default=1e7, help="splink's max_pairs for u by random sampling")
    s.add_argument("--also-at", type=float, nargs="*", default=[0.5, 0.99],
                   help="also cluster splink's predictions at these thresholds (untimed)")
    p = sub.add_parser("speed", help="resolve wall time and peak memory, embedded and Neo4j")
    p.add_argument("--scale", type=float, default=35.0)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--neo4j-uri", default=None, help="also load into and resolve on this (fresh) Neo4j")
    p.add_argument("--profile", action="store_true", help="also cProfile resolve (written to the workdir)")
    p.add_argument("--again", action="store_true", help="measure the embedded resolve even when figures exist")
    p.add_argument("--neo4j-loaded", action="store_true",
                   help="Neo4j already holds this world (loaded by an earlier run with this workdir): skip the load")
    p.add_argument("--repeat", type=int, default=0, help="then re-run resolve N times on each store, alternating")
    args = ap.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="graphiff-bench-resolve-"))
    workdir.mkdir(parents=True, exist_ok=True)
    _say(f"workdir {workdir}; code {_code_version()}")
    t0 = time.perf_counter()
    report: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
                    "ram_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)},
        "part": args.part, "code": _code_version()}
    report.update({"quality": part_quality, "detectors": part_detectors, "splink": part_splink,
                   "speed": part_speed}[args.part](args, workdir))
    report["seconds"] = round(time.perf_counter() - t0, 1)
    target = args.json or workdir / f"resolve-{args.part}-{args.scale:g}.json"
    target.write_text(json.dumps(report, indent=1, default=str) + "\n", encoding="utf-8")
    _say(f"figures written to {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

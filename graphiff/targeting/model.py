"""Training, measuring, keeping and applying the targeting model (LightGBM, gradient-boosted trees).

:func:`train` measures the model on a **time split** (trained on the labelled declarations
before ``test_from``, measured on those from ``test_from`` on, whose labels no history feature
sees), then trains the final model on every label and keeps it in the store's case book
(document kind :data:`KIND`, id ``current``): the same on the embedded store and Neo4j.
Hyperparameters are chosen by an inner time split of the training months only (the last
quarter of them validates), never on the held-out months. :func:`score` applies the kept
model to every declaration and writes ``target_score`` and ``target_reasons`` onto it.
"""
from __future__ import annotations

import base64
import zlib
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from graphiff.errors import GraphiffError, NotFound
from graphiff.graph.tables import Tables
from graphiff.stores.base import Store
from graphiff.targeting.features import Features, alert_events, build_features, day_numbers
from graphiff.targeting.labels import TRIAGE, column_labels, triage_labels
from graphiff.targeting.reasons import SEPARATOR, top_reasons

__all__ = ["KIND", "MODEL_ID", "MIN_LABELS", "MIN_CLASS", "FRACTIONS", "GRID", "BASE_PARAMS", "roc_auc",
           "precision_at", "metrics", "labels_of", "features_of", "choose_params", "choose_features", "own_only",
           "fit", "train",
           "kept_model", "read_model_file", "reasons_count", "score"]

#: The case-book document kind of the model, and its id.
KIND = "targeting_model"
MODEL_ID = "current"
#: The fewest labelled declarations on each side of the time split, and of each class.
MIN_LABELS = 30
MIN_CLASS = 5
#: The top fractions precision is reported at.
FRACTIONS = (0.01, 0.05, 0.10)
#: LightGBM parameters shared by every fit.
BASE_PARAMS: dict[str, Any] = {
    "objective": "binary", "learning_rate": 0.1, "feature_fraction": 0.7, "bagging_fraction": 0.8,
    "bagging_freq": 1, "cat_smooth": 20.0, "min_data_per_group": 50, "max_cat_to_onehot": 8,
    "lambda_l2": 1.0, "verbose": -1, "seed": 7, "deterministic": True, "force_col_wise": True,
}
#: The hyperparameters the inner time split chooses among.
GRID: tuple[dict[str, Any], ...] = (
    {"num_leaves": 31, "min_data_in_leaf": 50},
    {"num_leaves": 63, "min_data_in_leaf": 30},
)
#: Boosting rounds at most (early stopping on the inner split picks fewer).
MAX_ROUNDS = 800
#: The share of declarations, highest scores first, whose reasons :func:`score` computes, and the fewest.
REASONS_SHARE = 0.10
REASONS_MIN = 1000


def roc_auc(score: np.ndarray, label: np.ndarray) -> float:
    """The ROC AUC (Mann-Whitney, ties counted half); NaN with one class only.

    >>> roc_auc(np.array([0.9, 0.1, 0.5]), np.array([1, 0, 0]))
    1.0
    """
    ranks = pd.Series(score).rank(method="average").to_numpy()
    pos = np.asarray(label) == 1
    n1, n0 = int(pos.sum()), int((~pos).sum())
    if not n1 or not n0:
        return float("nan")
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def precision_at(score: np.ndarray, label: np.ndarray, fraction: float) -> float:
    """The share of positives among the top ``fraction`` by score (at least one row; ties in
    the order given, so callers pass rows in a fixed order).

    >>> precision_at(np.array([0.9, 0.8, 0.1, 0.2]), np.array([1, 0, 0, 1]), 0.5)
    0.5
    """
    k = max(1, int(round(len(score) * fraction)))
    order = np.argsort(-np.asarray(score), kind="stable")
    return float(np.asarray(label)[order[:k]].mean())


def metrics(score: np.ndarray, label: np.ndarray) -> dict[str, float]:
    """``auc``, ``p_at_1``, ``p_at_5``, ``p_at_10`` (precision at the top 1/5/10 %), ``base_rate``, ``n``."""
    out = {"n": int(len(label)), "base_rate": float(np.mean(label)) if len(label) else float("nan"),
           "auc": roc_auc(score, label)}
    for f in FRACTIONS:
        out[f"p_at_{int(round(f * 100))}"] = precision_at(score, label, f)
    return out


def labels_of(tables: Tables, decl: pd.DataFrame, labels: str) -> pd.Series:
    """The 0/1/NaN labels ``labels`` names: a declaration property, or ``triage``."""
    if labels == TRIAGE:
        if tables.store is None:
            raise GraphiffError("--labels triage needs a store with a case book")
        return triage_labels(decl, tables.store.book())
    return column_labels(decl, labels)


def features_of(tables: Tables, decl: pd.DataFrame, y: pd.Series | None, *, known_before: float | None,
                graph: bool) -> Features:
    """:func:`build_features` of a store's declarations with its alerts and shared identifiers."""
    events = links = None
    if graph:
        from graphiff.alerts import stored_alerts
        from graphiff.graph.features import identifier_links

        events = alert_events(stored_alerts(tables))
        links = identifier_links(tables, ("Trader",))
    return build_features(decl, y, known_before=known_before, events=events, links=links, graph=graph)


def _dataset(lgb: Any, feats: Features, rows: np.ndarray, y: np.ndarray, reference: Any = None) -> Any:
    return lgb.Dataset(feats.frame.iloc[rows], label=y[rows], categorical_feature=feats.categorical,
                       reference=reference, free_raw_data=False, params={"feature_pre_filter": False, "verbose": -1})


def choose_params(feats: Features, y: np.ndarray, rows: np.ndarray, *, grid: Sequence[dict[str, Any]] = GRID,
                  inner: Features | None = None) -> tuple[dict[str, Any], int, float]:
    """The hyperparameters and number of rounds for training on ``rows``, chosen by an inner
    time split of those rows (the last quarter of their period validates; early stopping there
    picks the rounds, the best validation AUC the parameters). ``inner``: the features built
    with the labels of the validation quarter hidden (default ``feats``).

    Returns ``(params, rounds, validation_auc)``. Cost: one LightGBM fit per grid entry.
    """
    import lightgbm as lgb

    inner = inner or feats
    days = feats.days[rows]
    lo, hi = np.nanmin(days), np.nanmax(days)
    cut = lo + 0.75 * (hi - lo)
    fit_rows, val_rows = rows[days < cut], rows[days >= cut]
    if len(val_rows) < MIN_CLASS or len(np.unique(y[val_rows])) < 2 or len(np.unique(y[fit_rows])) < 2:
        return {**BASE_PARAMS, **grid[0]}, 200, float("nan")
    best: tuple[float, dict[str, Any], int] = (-1.0, {}, 0)
    dtrain = _dataset(lgb, inner, fit_rows, y)
    dval = _dataset(lgb, inner, val_rows, y, reference=dtrain)
    for g in grid:
        params = {**BASE_PARAMS, **g, "metric": "auc"}
        booster = lgb.train(params, dtrain, num_boost_round=MAX_ROUNDS, valid_sets=[dval],
                            callbacks=[lgb.early_stopping(50, verbose=False)])
        auc = float(booster.best_score["valid_0"]["auc"])
        if auc > best[0]:
            best = (auc, {**BASE_PARAMS, **g}, max(20, int(booster.best_iteration)))
    auc, params, rounds = best
    # the final fit sees all the rows (a third more than the inner fit): a few more rounds
    return params, int(rounds * len(rows) / max(1, len(fit_rows))), auc


def own_only(feats: Features) -> Features:
    """The same features without the graph's: the declaration's own columns only."""
    cols = [c for c in feats.frame.columns if c in feats.categorical or not _is_graph(c)]
    return replace(feats, frame=feats.frame[cols], categorical=[c for c in feats.categorical if c in cols])


def _is_graph(column: str) -> bool:
    from graphiff.targeting.features import PAIRS, ROLES, VALUE_RATES

    return column.startswith(tuple(f"{p}_" for p in (*ROLES, *PAIRS, *VALUE_RATES)))


def choose_features(held: Features, inner: Features, y: np.ndarray, rows: np.ndarray, graph: bool | None
                    ) -> tuple[bool, dict[str, Any], int, dict[str, float]]:
    """Whether to use the graph features, and the hyperparameters: both feature sets (the
    declaration's own, and own + graph) are fitted on the inner time split of ``rows`` (the
    training months; :func:`choose_params`), and the one with the higher validation AUC is
    kept (the own features on a tie: fewer columns). ``graph`` True / False forces the choice
    (both are still measured and reported). Returns ``(graph, params, rounds, inner_auc)``,
    ``inner_auc`` by feature set (``own``, ``own+graph``)."""
    found: dict[str, tuple[dict[str, Any], int, float]] = {}
    found["own"] = choose_params(own_only(held), y, rows, inner=own_only(inner))
    found["own+graph"] = choose_params(held, y, rows, inner=inner)
    scores = {k: v[2] for k, v in found.items()}
    if graph is None:
        g, o = scores["own+graph"], scores["own"]
        graph = bool(np.isfinite(g) and (not np.isfinite(o) or g > o))
    params, rounds, _ = found["own+graph" if graph else "own"]
    return graph, params, rounds, scores


def fit(feats: Features, y: np.ndarray, rows: np.ndarray, params: dict[str, Any], rounds: int) -> Any:
    """A LightGBM booster trained on ``rows``. Cost: ``rounds`` boosting rounds."""
    import lightgbm as lgb

    return lgb.train({k: v for k, v in params.items() if k != "metric"}, _dataset(lgb, feats, rows, y),
                     num_boost_round=rounds)


def _iso(day: float) -> str:
    return (pd.Timestamp("1970-01-01") + pd.Timedelta(days=float(day))).strftime("%Y-%m-%d")


def _check_counts(y: np.ndarray, rows: np.ndarray, what: str, labels: str) -> None:
    n = len(rows)
    pos = int(np.nansum(y[rows]))
    if n < MIN_LABELS or pos < MIN_CLASS or n - pos < MIN_CLASS:
        raise GraphiffError(f"too few labels to {what}: {n:,} labelled declaration(s) ({pos:,} positive, "
                            f"{n - pos:,} negative) from --labels {labels}; at least {MIN_LABELS} with "
                            f"{MIN_CLASS} of each class are needed")


def _pack(booster: Any) -> str:
    return base64.b64encode(zlib.compress(booster.model_to_string().encode("utf-8"), 6)).decode("ascii")


def _unpack(text: str) -> Any:
    import lightgbm as lgb

    try:
        return lgb.Booster(model_str=zlib.decompress(base64.b64decode(text)).decode("utf-8"))
    except Exception as exc:  # noqa: BLE001 - a damaged document is one error line
        raise GraphiffError(f"the kept targeting model cannot be read ({exc}); train it again") from None


def train(store: Store | Tables, labels: str, *, test_from: str | None = None, graph: bool | None = None,
          keep: bool = True, progress: Callable[[str], None] | None = None, user: str | None = None
          ) -> dict[str, Any]:
    """Measure on a time split, train the final model and keep it with the store.

    Parameters
    ----------
    store : Store or Tables
        The store (its resolved view is read), or its tables.
    labels : str
        A 0/1 declaration property (e.g. ``fraud``) or ``triage`` (:mod:`graphiff.targeting.labels`).
    test_from : str, optional
        ``YYYY-MM-DD``: the labelled declarations from this day on are held out to measure.
        Default: the last quarter of the labelled period.
    graph : bool, optional
        None (default): the inner time split of the training months chooses between the
        declaration's own features and own + graph features (:func:`choose_features`); True /
        False forces the choice.
    keep : bool
        Write the model into the store's case book (kind :data:`KIND`, id :data:`MODEL_ID`).
    progress : callable, optional
        Called with a short message at each step.
    user : str, optional
        Who trained it (kept with the model).

    Returns
    -------
    dict
        The model document: ``labels``, ``graph``, ``features``, ``categorical``, ``params``,
        ``rounds``, ``train`` / ``test`` windows and counts, ``metrics`` (held-out ``auc``,
        ``p_at_1/5/10``, ``base_rate``), ``validation_auc`` (inner split, the set kept),
        ``choice`` (``graph``, ``by``: ``inner split`` or ``--graph`` / ``--no-graph``,
        ``inner_auc`` of both feature sets), ``seconds``, ``trained_at``, ``model`` (the
        booster, compressed). Cost: three feature builds, four parameter fits on the inner
        split (two feature sets over :data:`GRID`), two fits; about 30 s for 37k declarations.

    Raises
    ------
    GraphiffError
        The labels name no property, or too few labels on either side of the split.
    """
    import time

    import lightgbm as lgb

    t0 = time.perf_counter()
    say = progress or (lambda _m: None)
    tables = store if isinstance(store, Tables) else Tables(store)
    decl = tables.nodes("Declaration").reset_index(drop=True)
    if not len(decl):
        raise GraphiffError("no declarations in the store: load some first (graphiff load)")
    yser = labels_of(tables, decl, labels)
    y = yser.to_numpy(dtype="float64")
    days = day_numbers(decl["date"]) if "date" in decl.columns else np.full(len(decl), np.nan)
    labelled = np.flatnonzero(~np.isnan(y) & ~np.isnan(days))
    _check_counts(y, labelled, "train", labels)
    lo, hi = float(np.min(days[labelled])), float(np.max(days[labelled]))
    if test_from is not None:
        cut_arr = day_numbers(pd.Series([test_from]))
        if np.isnan(cut_arr[0]):
            raise GraphiffError(f"--test-from {test_from!r} is not a date (YYYY-MM-DD)")
        cut = float(cut_arr[0])
    else:
        cut = float(np.floor(lo + 0.75 * (hi - lo) + 0.5))
    tr, te = labelled[days[labelled] < cut], labelled[days[labelled] >= cut]
    _check_counts(y, tr, f"train before {_iso(cut)}", labels)
    _check_counts(y, te, f"measure from {_iso(cut)} on", labels)

    # 1. measure: features blind to the held-out labels; parameters from the training months only
    say(f"features (labels known before {_iso(cut)})")
    held = features_of(tables, decl, yser, known_before=cut, graph=True)
    tr_days = days[tr]
    inner_cut = float(np.nanmin(tr_days) + 0.75 * (np.nanmax(tr_days) - np.nanmin(tr_days)))
    inner = features_of(tables, decl, yser, known_before=inner_cut, graph=True)
    say("choosing the features and parameters on an inner time split of the training months")
    chosen, params, rounds, inner_auc = choose_features(held, inner, y, tr, graph)
    by = "inner split" if graph is None else ("--graph" if graph else "--no-graph")
    val_auc = inner_auc["own+graph" if chosen else "own"]
    say(f"{'own + graph' if chosen else 'own'} features ({by}; inner AUC own {inner_auc['own']:.3f}, "
        f"own + graph {inner_auc['own+graph']:.3f})")
    if not chosen:
        held = own_only(held)
    say(f"training on {len(tr):,} declarations, measuring on {len(te):,}")
    booster = fit(held, y, tr, params, rounds)
    order = te[np.lexsort((decl["key"].astype(str).to_numpy()[te],))]
    held_score = booster.predict(held.frame.iloc[order])
    measured = metrics(held_score, y[order])

    # 2. the final model: every label, the same parameters, rounds scaled to the rows
    say(f"final model on all {len(labelled):,} labelled declarations")
    final_feats = features_of(tables, decl, yser, known_before=None, graph=chosen)
    final_rounds = int(rounds * len(labelled) / max(1, len(tr)))
    final = fit(final_feats, y, labelled, params, final_rounds)
    doc: dict[str, Any] = {
        "id": MODEL_ID, "labels": labels, "graph": chosen, "features": final_feats.columns,
        "categorical": final_feats.categorical, "params": params, "rounds": final_rounds,
        "train": {"from": _iso(lo), "to": _iso(cut - 1), "n": len(tr), "positives": int(np.sum(y[tr]))},
        "test": {"from": _iso(cut), "to": _iso(hi), "n": len(te), "positives": int(np.sum(y[te]))},
        "final": {"from": _iso(lo), "to": _iso(hi), "n": len(labelled), "positives": int(np.sum(y[labelled]))},
        "metrics": measured, "validation_auc": val_auc,
        "choice": {"graph": chosen, "by": by, "inner_auc": inner_auc,
                   "inner_split": {"fit_to": _iso(inner_cut - 1), "validate_from": _iso(inner_cut)}},
        "lightgbm": lgb.__version__,
        "trained_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "trained_by": user,
        "seconds": round(time.perf_counter() - t0, 2), "model": _pack(final),
    }
    if keep:
        if tables.store is None:
            raise GraphiffError("no store to keep the model in")
        tables.store.book().put(KIND, [doc])
    return doc


def kept_model(store: Store) -> dict[str, Any]:
    """The model document :func:`train` kept with the store; :class:`NotFound` when none."""
    doc = store.book().get(KIND, MODEL_ID)
    if doc is None:
        raise NotFound("no targeting model kept with this store: run `graphiff targeting train --labels COLUMN` first")
    return doc


def read_model_file(path: str) -> dict[str, Any]:
    """A model document written by ``graphiff targeting train --out FILE``."""
    import json
    from pathlib import Path

    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GraphiffError(f"cannot read the model file {path}: {exc}") from None
    if not isinstance(doc, dict) or "model" not in doc or "features" not in doc:
        raise GraphiffError(f"{path} is not a targeting model (written by graphiff targeting train --out)")
    return doc


def reasons_count(n: int, all_reasons: bool = False) -> int:
    """How many of ``n`` declarations get their reasons computed: all with ``all_reasons``, else
    the :data:`REASONS_SHARE` highest-scoring ones, at least :data:`REASONS_MIN` (the per-feature
    contributions cost about 2 ms a declaration, the score itself a few microseconds).

    >>> reasons_count(500), reasons_count(37_000), reasons_count(37_000, True)
    (500, 3700, 37000)
    """
    return n if all_reasons else min(n, max(REASONS_MIN, int(np.ceil(n * REASONS_SHARE))))


def score(store: Store, *, doc: dict[str, Any] | None = None, write: bool = True, reasons: int = 3,
          all_reasons: bool = False, progress: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Score every declaration with the kept model (or ``doc``) and write ``target_score`` (the
    model's probability of a positive, 0..1) and ``target_reasons`` (the ``reasons`` groups of
    features that raised it most, in words, joined by ``" | "``) onto each declaration.

    The history features use every label known now (a declaration's own label never: only
    earlier days). The reasons are computed for the highest scores (:func:`reasons_count`; all
    with ``all_reasons``); the other declarations' ``target_reasons`` says they were not.
    Returns ``key, date, importer_id, target_score, reasons`` (a list, empty when not
    computed), highest score first. Cost: one feature build, one prediction, the per-feature
    contributions of the rows explained (about 2 ms each), one upsert of two properties per
    declaration; about 15 s for 37k declarations on 2 cores.
    """
    say = progress or (lambda _m: None)
    doc = doc or kept_model(store)
    booster = _unpack(str(doc["model"]))
    tables = Tables(store)
    decl = tables.nodes("Declaration").reset_index(drop=True)
    if not len(decl):
        raise GraphiffError("no declarations in the store to score")
    graph = bool(doc.get("graph", True))
    y = labels_of(tables, decl, str(doc["labels"])) if graph else None
    say("features")
    feats = features_of(tables, decl, y, known_before=None, graph=graph)
    cols = list(doc["features"])
    frame = feats.frame.reindex(columns=cols)
    for c in doc.get("categorical") or []:
        if c in frame.columns and not isinstance(frame[c].dtype, pd.CategoricalDtype):
            frame[c] = frame[c].astype("category")
    feats.frame = frame
    say("scoring")
    prob = np.asarray(booster.predict(frame), dtype="float64")
    k = reasons_count(len(frame), all_reasons)
    explain = np.lexsort((feats.keys.to_numpy(), -prob))[:k]
    say(f"reasons of the {k:,} highest scores")
    contrib = np.zeros((len(frame), len(cols) + 1))
    if k:
        contrib[explain] = np.asarray(booster.predict(frame.iloc[explain], pred_contrib=True))
    why: list[list[str]] = [[] for _ in range(len(frame))]
    for i, r in zip(explain.tolist(), top_reasons(frame, feats.context, contrib, top=reasons, rows=explain,
                                                             display=feats.display)):
        why[i] = r
    done = np.zeros(len(frame), dtype=bool)
    done[explain] = True
    skipped = (f"not computed: below the {k:,} highest scores (graphiff targeting score --all-reasons)")
    out = pd.DataFrame({"key": feats.keys, "date": decl["date"].astype("string") if "date" in decl else None,
                        "importer_id": decl.get("importer_id"), "target_score": np.round(prob, 6),
                        "reasons": why})
    if write:
        say("writing scores onto the declarations")
        store.upsert_nodes("Declaration", pd.DataFrame({
            "key": out["key"], "target_score": out["target_score"].astype("float64"),
            "target_reasons": [SEPARATOR.join(r) if r else ("no feature raised the score" if d else skipped)
                               for r, d in zip(why, done)]}))
        store.book().put(KIND, [{**doc, "scored_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                 "scored": int(len(out))}])
    return out.sort_values(["target_score", "key"], ascending=[False, True], ignore_index=True)

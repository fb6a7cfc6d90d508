"""Targeting commands: targeting train, targeting score, targeting show."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from graphiff.cli.app import app
from graphiff.cli.common import (
    DatabaseOpt,
    JsonOpt,
    StoreOpt,
    acting_user,
    console,
    date_bound,
    esc,
    print_json,
    store_from,
)

err_console = Console(stderr=True, emoji=False)

targeting_app = typer.Typer(name="targeting", no_args_is_help=True, add_completion=False,
                            help="Learned risk targeting from inspection outcomes: train a model on past results "
                                 "(a 0/1 declaration property, or the analysts' triage decisions), score every "
                                 "declaration with its reasons (docs/targeting.md).")
app.add_typer(targeting_app, name="targeting")


def _summary(doc: dict[str, Any]) -> dict[str, Any]:
    """The model document without the model itself (what is printed)."""
    return {k: v for k, v in doc.items() if k != "model"}


def _print_choice(doc: dict[str, Any]) -> None:
    c = doc.get("choice")
    if not c:
        return
    auc = c.get("inner_auc", {})

    def f(v: Any) -> str:
        return "n/a" if v is None or v != v else f"{v:.3f}"

    console.print(f"features: {'own + graph' if c['graph'] else 'own only (no graph features)'}, chosen by "
                  f"{esc(c['by'])}; inner split AUC (fit on the training months before "
                  f"{esc(c.get('inner_split', {}).get('validate_from', '?'))}, validated on the rest): own "
                  f"{f(auc.get('own'))}, own + graph {f(auc.get('own+graph'))}", highlight=False)


def _print_metrics(doc: dict[str, Any]) -> None:
    m, tr, te = doc["metrics"], doc["train"], doc["test"]
    t = Table(title=f"held-out later period: {te['from']} .. {te['to']} (trained on {tr['from']} .. {tr['to']})")
    for c in ("declarations", "base rate", "ROC AUC", "precision top 1%", "top 5%", "top 10%"):
        t.add_column(c, justify="right")
    t.add_row(f"{m['n']:,}", f"{m['base_rate']:.1%}", f"{m['auc']:.3f}", f"{m['p_at_1']:.1%}", f"{m['p_at_5']:.1%}",
              f"{m['p_at_10']:.1%}")
    console.print(t)


@targeting_app.command("train")
def train_cmd(
    labels: str = typer.Option(..., "--labels", help="What to learn from: a 0/1 declaration property holding past "
                                                     "inspection results (e.g. fraud), or 'triage' for the analysts' "
                                                     "decisions (escalated alerts: 1; dismissed, false positive: 0)."),
    test_from: Optional[str] = typer.Option(None, "--test-from", callback=date_bound,
                                            help="Hold out the labelled declarations from this day on to measure "
                                                 "the model (YYYY-MM-DD; default: the last quarter of the labelled "
                                                 "period)."),
    graph: Optional[bool] = typer.Option(None, "--graph/--no-graph", show_default=False,
                                         help="With / without the graph features (the parties' history and "
                                              "network). Default: chosen on an inner time split of the training "
                                              "months (the feature set with the higher validation AUC)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Also write the model (JSON) to this file."),
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Train the targeting model: measured on a time split (AUC, precision in the top 1/5/10 % of the later
    period), then trained on every label and kept with the store (its case book), with its features, parameters,
    training window and figures."""
    from graphiff.targeting import train

    if test_from is not None and len(test_from) != 10:
        raise typer.BadParameter("--test-from needs a day, YYYY-MM-DD")

    def step(msg: str) -> None:
        if not as_json:
            err_console.print(f"[dim]{esc(msg)}...[/]", highlight=False)

    with store_from(store, database) as st:
        doc = train(st, labels, test_from=test_from, graph=graph, progress=step, user=acting_user())
    if out is not None:
        out.write_text(json.dumps(doc, ensure_ascii=False, default=str), encoding="utf-8")
    if as_json:
        print_json({**_summary(doc), "out": str(out) if out else None})
        return
    _print_choice(doc)
    _print_metrics(doc)
    console.print(f"final model: {doc['final']['n']:,} labelled declarations ({doc['final']['positives']:,} positive) "
                  f"from {doc['final']['from']} to {doc['final']['to']}, {len(doc['features'])} features"
                  f"{'' if doc['graph'] else ' (no graph features)'}, {doc['rounds']} rounds, "
                  f"{doc['seconds']:.1f} s; kept with the store"
                  + (f" and written to {esc(out)}" if out else "")
                  + "; next: graphiff targeting score", highlight=False)


@targeting_app.command("score")
def score_cmd(
    top: int = typer.Option(20, "--top", "-n", min=0, help="How many of the highest scores to print."),
    all_reasons: bool = typer.Option(False, "--all-reasons", help="Compute the reasons of every declaration "
                                                                  "(default: the 10 % highest scores, at least 1,000; "
                                                                  "about 2 ms a declaration)."),
    model: Optional[Path] = typer.Option(None, "--model", help="Use this model file (written by train --out) "
                                                               "instead of the one kept with the store."),
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Score every declaration with the kept model and store its score (target_score, 0..1) and top reasons
    (target_reasons) on it; print the highest scores. explore and the workbench show both."""
    from graphiff.targeting import read_model_file, score

    def step(msg: str) -> None:
        if not as_json:
            err_console.print(f"[dim]{esc(msg)}...[/]", highlight=False)

    doc = read_model_file(str(model)) if model is not None else None
    with store_from(store, database) as st:
        df = score(st, doc=doc, all_reasons=all_reasons, progress=step)
    head = df.head(top)
    if as_json:
        print_json({"scored": len(df), "top": [
            {"key": r.key, "date": None if r.date is None else str(r.date), "importer_id": r.importer_id,
             "target_score": float(r.target_score), "reasons": list(r.reasons)}
            for r in head.itertuples(index=False)]})
        return
    t = Table(title=f"{len(df):,} declarations scored; the {len(head)} highest")
    for c in ("score", "declaration", "date", "reasons"):
        t.add_column(c, justify="right" if c == "score" else "left", overflow="fold")
    for r in head.itertuples(index=False):
        t.add_row(f"{r.target_score:.3f}", esc(r.key), esc(r.date), esc("\n".join(r.reasons)))
    console.print(t)


@targeting_app.command("show")
def show_cmd(
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """The model kept with the store: labels, training window, parameters, features and held-out figures."""
    from graphiff.targeting import kept_model

    with store_from(store, database) as st:
        doc = _summary(kept_model(st))
    if as_json:
        print_json(doc)
        return
    console.print(f"labels: {esc(doc['labels'])}; trained {esc(doc.get('trained_at'))} by {esc(doc.get('trained_by'))}"
                  f"; scored {esc(doc.get('scored_at') or 'never')}", highlight=False)
    _print_choice(doc)
    _print_metrics(doc)
    console.print("features: " + esc(", ".join(doc["features"])), highlight=False)

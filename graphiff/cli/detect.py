"""Detection commands: detect, evaluate, risk."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperArgument, TyperCommand

from graphiff.cli.app import app
from graphiff.cli.common import (
    DatabaseOpt,
    JsonOpt,
    StoreOpt,
    UnresolvedOpt,
    acting_user,
    console,
    esc,
    print_json,
    store_from,
)

err_console = Console(stderr=True, emoji=False)


class DetectCommand(TyperCommand):
    """The ``detect`` command, whose PATTERNS help lists the detectors in the registry.

    The list is read when the help is shown, not when the command line starts: importing every
    detector family would slow down every other command.
    """

    def format_help(self, ctx: Any, formatter: Any) -> None:  # typer's (vendored) click Context and HelpFormatter
        from graphiff.detectors import detector_names

        for param in self.params:
            if param.name == "patterns" and isinstance(param, TyperArgument):
                param.help = f"Detectors to run (default: all): {', '.join(detector_names())}."
        super().format_help(ctx, formatter)


@app.command("detect", cls=DetectCommand)
def detect_cmd(
    patterns: Optional[list[str]] = typer.Argument(
        None, help="Detectors to run (default: all): the registered detector names (see `graphiff detect --help`)."),
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write the alerts as a JSON array to this file."),
    config: Optional[Path] = typer.Option(None, "--config", "-c",
                                          help="YAML file of detector parameters: {detector: {param: value}}."),
    sets: list[str] = typer.Option([], "--set", help="Override one parameter: detector.param=value (repeatable), "
                                                     "e.g. --set circular_trade.window_days=90."),
    no_write: bool = typer.Option(False, "--no-write", help="Do not write the alerts back into the store."),
    unresolved: bool = UnresolvedOpt,
    engine: str = typer.Option("embedded", "--engine", help="embedded (this process: DuckDB + igraph) or spark "
                                                            "(Apache Spark: the families that scale with data, run "
                                                            "on parts of the graph in parallel; docs/scale.md)."),
    master: Optional[str] = typer.Option(None, "--master", help="Spark master (with --engine spark): local[*] "
                                                                "(default), local[2], spark://HOST:7077, yarn."),
    snapshot: Optional[Path] = typer.Option(None, "--snapshot", help="With --engine spark: the Parquet snapshot to "
                                                                     "read (`graphiff snapshot`; on a cluster, a "
                                                                     "path every executor reads). Default: a fresh "
                                                                     "snapshot of the store in a temporary folder."),
    spark_conf: list[str] = typer.Option([], "--spark-conf", help="With --engine spark: a Spark setting key=value "
                                                                  "(repeatable), e.g. spark.executor.memory=8g."),
    buckets: Optional[int] = typer.Option(None, "--buckets", min=1,
                                          help="With --engine spark: each family's parts are hashed into this many "
                                               "detector runs (default: 4 per core of the session, or one per "
                                               "150,000 of the family's records, counted once per part they are "
                                               "in, if that is more). Raise it when a Python worker runs out of "
                                               "memory (docs/scale.md)."),
    as_json: bool = JsonOpt,
) -> None:
    """Run pattern detectors over the store, write the alerts back into it (replacing earlier alerts of the
    same patterns) and optionally to a JSON file. Prints a summary per pattern.

    With --engine spark the families that scale with data (circular_trade, circular_payment, mirror_discrepancy,
    undervaluation, overvaluation, cash_structuring, third_party_payment, shell_intermediary, linked_carriers) run
    over a Parquet snapshot of the store on a Spark master, each on parts of the graph its definition keeps apart
    (docs/scale.md); the alerts are the same as the embedded engine's and are written back the same way."""
    from graphiff.alerts import write_alerts_json
    from graphiff.detectors import (
        load_config,
        merge_params,
        parse_overrides,
        run_detectors,
    )
    from graphiff.errors import GraphiffError

    if engine not in ("embedded", "spark"):
        raise GraphiffError(f"--engine must be embedded or spark, not {engine!r}")
    if engine == "embedded" and (master or snapshot or spark_conf or buckets):
        raise GraphiffError("--master, --snapshot, --spark-conf and --buckets go with --engine spark")

    params = merge_params(load_config(config) if config else None, parse_overrides(sets))
    stats: dict[str, dict] = {}
    triage: dict[str, Any] = {}

    def on_progress(pattern: str, status: str, info: dict) -> None:
        if pattern == "triage":
            triage.update(info)
        elif status == "done":
            stats[pattern] = info
        elif not as_json:
            err_console.print(f"[dim]running {esc(pattern)}...[/]", highlight=False)

    with store_from(store, database) as st:
        if engine == "spark":
            alerts = _run_spark(st, patterns or None, params, master, snapshot, spark_conf, on_progress,
                                write_back=not no_write, resolved=not unresolved, buckets=buckets)
        else:
            alerts = run_detectors(st, patterns or None, params, progress=on_progress, write_back=not no_write,
                                   resolved=not unresolved)
        counts = _triage_counts(st, triage.get("report"))
    if out is not None:
        write_alerts_json(alerts, out)
    by_pattern: dict[str, list] = {}
    for a in alerts:
        by_pattern.setdefault(a.pattern, []).append(a)
    if as_json:
        print_json({
            "alerts": len(alerts),
            "out": str(out) if out else None,
            "patterns": {p: {"alerts": len(v), "max_score": max((a.score for a in v), default=None)}
                         for p, v in sorted(by_pattern.items())},
            "detectors": {k: {"alerts": v["alerts"], "seconds": round(v["seconds"], 3)} for k, v in stats.items()},
            "triage": counts,
        })
        return
    t = Table(title=f"{len(alerts)} alert(s)")
    t.add_column("pattern")
    t.add_column("alerts", justify="right")
    t.add_column("max score", justify="right")
    t.add_column("top alert")
    from graphiff.detectors import REGISTRY

    seen = set()
    for name, info in stats.items():
        for pat in REGISTRY[name].patterns:
            if pat in seen:
                continue
            seen.add(pat)
            v = by_pattern.get(pat, [])
            top = v[0].explanation if v else ""
            t.add_row(esc(pat), str(len(v)), f"{v[0].score:.2f}" if v else "—",
                      esc((top[:90] + "…") if len(top) > 90 else top))
    console.print(t)
    if counts is not None:
        console.print(f"triage: {counts['new']:,} new, {counts['updated']:,} updated, {counts['found_again']:,} found "
                      f"again, {counts['no_longer_detected']:,} no longer detected", highlight=False)
    if out is not None:
        console.print(f"alerts written to {esc(out)}", highlight=False)


def _run_spark(store: Any, patterns: list[str] | None, params: dict, master: str | None, snapshot: Path | None,
               conf: list[str], progress: Any, *, write_back: bool, resolved: bool,
               buckets: int | None = None) -> list:
    """``detect --engine spark``: over ``snapshot``, or over a fresh snapshot of ``store`` in a
    temporary folder (removed after)."""
    import tempfile

    from graphiff.graph.snapshot import write_snapshot
    from graphiff.spark.engine import run_spark_detectors, spark_detectors
    from graphiff.spark.session import parse_conf

    spark_conf = parse_conf(conf)
    spark_detectors(patterns)  # a family not on Spark fails before anything starts
    with tempfile.TemporaryDirectory(prefix="graphiff-snapshot-") as tmp:
        if snapshot is None:
            err_console.print("[dim]writing a snapshot of the store...[/]", highlight=False)
            snapshot = Path(tmp) / "snapshot"
            write_snapshot(store, snapshot)
        err_console.print(f"[dim]starting Spark on {esc(master or 'local[*]')}...[/]", highlight=False)
        return run_spark_detectors(snapshot, patterns, params, master=master, conf=spark_conf, store=store,
                                   write_back=write_back, resolved=resolved, progress=progress, buckets=buckets)


def _triage_counts(store: Any, report: Any) -> dict[str, int] | None:
    """What a run changed in the alerts' triage (None without a write-back), written to the audit log."""
    if report is None:
        return None
    from graphiff.casework import audit

    counts = {"new": len(report.new), "updated": len(report.updated), "found_again": len(report.back),
              "no_longer_detected": len(report.gone)}
    audit.record(store.book(), user=acting_user(), action="detect", detail=counts,
                 ids=[*report.new, *report.updated, *report.back, *report.gone])
    return counts


@app.command("evaluate")
def evaluate_cmd(
    alerts: Path = typer.Argument(..., metavar="ALERTS", help="Alerts JSON written by `graphiff detect --out`."),
    truth: Path = typer.Argument(..., metavar="TRUTH", help="truth.json written by `graphiff samples`."),
    resolution: bool = typer.Option(False, "--resolution", help="Also measure the store's entity resolution "
                                                                "against the truth's clusters (an alias world: "
                                                                "`graphiff samples --aliases`): pairwise and B-cubed "
                                                                "precision, recall, F1."),
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Precision, recall and decoys flagged per pattern family against a truth file. An alert matches a planted
    instance when it names at least half of the instance's entities; in an alias world every id of one true entity
    counts as that entity. With --resolution, also the store's entity resolution against the true clusters."""
    from graphiff.alerts import read_alerts_json
    from graphiff.cli.resolve import print_resolution_metrics, store_clusters
    from graphiff.detectors.evaluate import evaluate, evaluation_table, read_truth
    from graphiff.resolve.evaluate import evaluate_resolution

    truth_data = read_truth(truth)
    result = evaluate(read_alerts_json(alerts), truth_data)
    if resolution:
        with store_from(store, database) as st:
            result["resolution"] = evaluate_resolution(store_clusters(st), truth_data)
    if as_json:
        print_json(result)
        return
    # family names come from the truth file and the alerts: shown literally, not as markup
    console.print(evaluation_table({**result, "families": {esc(k): v for k, v in result["families"].items()}}))
    for fam, r in result["families"].items():
        for d in r["flagged_decoys"]:
            ids = ", ".join(f"{e['label']}:{e['id']}" for e in d["entities"])
            console.print(f"[red]decoy flagged[/] {esc(fam)} ({esc(d.get('kind'))}): {esc(ids)}", highlight=False)
    if resolution:
        print_resolution_metrics(result["resolution"], "entity resolution against the true clusters")


@app.command("risk")
def risk_cmd(
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    top: int = typer.Option(20, "--top", "-n", min=1, help="How many entities to show."),
    label: Optional[str] = typer.Option(None, "--label", help="Only entities of this label (Trader, Person, "
                                                                "BankAccount, Carrier...)."),
    unresolved: bool = UnresolvedOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Entity risk scores from the alerts in the store (run `graphiff detect` first): each alert adds its
    pattern's weight times its score; records (declarations, accounts, cash reports) pass part of it on to the
    parties behind them."""
    from graphiff.alerts import stored_alerts
    from graphiff.detectors.risk import risk_scores
    from graphiff.graph.tables import Tables

    with store_from(store, database) as st:
        tables = Tables(st, resolved=not unresolved)
        df = risk_scores(stored_alerts(tables), tables)
    if label:
        df = df[df["label"] == label]
    df = df.head(max(0, top))
    if as_json:
        rows = []
        for r in df.to_dict("records"):
            r = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            rows.append(r)
        print_json(rows)
        return
    if df.empty:
        console.print("no risk scores: the store holds no alerts" + (f" touching a {label}" if label else "")
                      + " (run `graphiff detect` first)", highlight=False, markup=False)
        return
    t = Table(title=f"top {len(df)} entities by risk")
    t.add_column("label")
    t.add_column("id")
    t.add_column("name")
    t.add_column("score", justify="right")
    t.add_column("alerts", justify="right")
    t.add_column("reasons")
    for r in df.to_dict("records"):
        reasons = ", ".join(
            f"{x['pattern']} {x['contribution']:.2f}" + (f" via {x['via']}" if x.get("via") else "")
            for x in r["reasons"][:3]) + (" …" if len(r["reasons"]) > 3 else "")
        name = r.get("name")
        t.add_row(esc(r["label"]), esc(r["id"]), esc(name) if isinstance(name, str) else "", f"{r['score']:.2f}",
                  str(r["alerts"]), esc(reasons))
    console.print(t)

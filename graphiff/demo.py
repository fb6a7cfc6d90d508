"""The demo: the main job end to end on the embedded default store.

Generates a synthetic world, loads it, runs every detector, scores entities, evaluates the
alerts against the planted truth, and writes alerts, link charts for the top alerts and a
sharing package, all under one output folder.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

from graphiff.alerts import Alert, write_alerts_json
from graphiff.ingest import load_paths
from graphiff.stores.embedded import EmbeddedStore

Step = Callable[[str], None]


def run_demo(out: str | Path = "demo-out", *, scale: float = 0.5, seed: int = 7, top: int = 3,
             step: Step | None = None, aliases: bool = False) -> dict:
    """Run the demo into ``out`` and return what was written where (paths and figures): a
    sample world (an alias world with ``aliases``: every administration naming foreign parties
    its own way), loaded, resolved (``graphiff resolve``; with ``aliases`` measured against the
    true clusters), detected on the resolved entities, evaluated, charted and packaged."""
    from graphiff.charts.base import write_chart
    from graphiff.detectors import run_detectors
    from graphiff.detectors.evaluate import evaluate
    from graphiff.detectors.risk import risk_scores
    from graphiff.graph.select import select
    from graphiff.graph.tables import Tables
    from graphiff.resolve.evaluate import evaluate_resolution
    from graphiff.resolve.run import resolve
    from graphiff.samples import generate_world

    say = step or (lambda _msg: None)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    world = out / "world"
    store_path = out / "graphiff.duckdb"
    for p in (store_path, Path(str(store_path) + ".wal")):
        if p.exists():
            os.remove(p)
    say(f"generating a sample world (scale {scale}) in {world}")
    summary = generate_world(world, scale=scale, seed=seed, aliases=aliases)
    result: dict = {"world": str(world), "store": str(store_path), "files": summary["files"]}
    with EmbeddedStore(store_path) as store:
        say("loading it into the embedded store")
        load = load_paths(store, [world], quarantine_dir=out / "quarantine")
        result["load"] = load.to_dict()
        say("resolving entities (the same trader under other ids and spellings)")
        res = resolve(store)
        truth = json.loads((world / "truth.json").read_text(encoding="utf-8"))
        result["resolution"] = {"labels": {k: {f: v[f] for f in ("records", "linked", "review", "clusters",
                                                                  "records_in_clusters")}
                                           for k, v in res["labels"].items()}}
        if aliases:
            clusters = Tables(store).resolution
            result["resolution"]["evaluation"] = evaluate_resolution(
                {lab: clusters.clusters(lab) for lab in clusters.members}, truth)["overall"]
        say("running the detectors")
        alerts = run_detectors(store)
        alerts_path = out / "alerts.json"
        write_alerts_json(alerts, alerts_path)
        result["alerts"] = {"path": str(alerts_path), "count": len(alerts)}
        result["evaluation"] = evaluate(alerts, truth)
        risk = risk_scores(alerts)
        risk_path = out / "risk.csv"
        risk.to_csv(risk_path, index=False)
        result["risk"] = str(risk_path)
        say("writing link charts for the top alerts")
        charts_dir = out / "charts"
        charts_dir.mkdir(exist_ok=True)
        charts = []
        best: dict[str, Alert] = {}
        for a in sorted(alerts, key=lambda a: -a.score):
            best.setdefault(a.pattern, a)
        for a in list(best.values())[: max(top, len(best))]:
            sub = select(store, alert=a.id, hops=1, max_nodes=300)
            stem = a.id.replace(":", "_")
            for fmt in ("html", "anx"):
                path = write_chart(sub, fmt, charts_dir / f"{stem}.{fmt}")
                charts.append(str(path))
        result["charts"] = charts
        package = _demo_package(store, alerts, out)
        if package:
            result["package"] = package
    return result


def _demo_package(store, alerts, out: Path) -> str | None:
    """A pseudonymised sharing package of the top alert, with a demo key written beside it."""
    try:
        from graphiff.graph.select import select
        from graphiff.share.package import make_package
    except ImportError:
        return None
    if not alerts:
        return None
    top = max(alerts, key=lambda a: a.score)
    key_file = out / "demo-package.key"
    if not key_file.exists():
        key_file.write_bytes(os.urandom(32).hex().encode())
    sub = select(store, alert=top.id, hops=1, max_nodes=300)
    path = out / "package-top-alert.zip"
    make_package(sub, path, purpose="graphiff demo: joint operation example", marking="TLP:AMBER",
                 producer="graphiff-demo", redact="pseudonymise", key=key_file.read_bytes(),
                 alerts=[top], store=store)
    return str(path)

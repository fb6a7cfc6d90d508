"""Drawn worlds for the detector tests: ``drawn_run(seed)`` generates a drawn world
(``graphiff samples OUT --drawn``), loads it into a temporary embedded store, runs the detectors
and evaluates them against its truth, once per (seed, scale) per test session, so several test
modules can assert their family on the same tuning draws cheaply.

Use only the tuning seeds 1-20 here; 101-120 are held out (docs/typologies.md).

    from _drawnkit import drawn_run
    alerts, truth, evaluation = drawn_run(3, families=["circular_trade"])
    assert evaluation["families"]["circular_trade"]["recall"] >= 0.8
"""
from __future__ import annotations

import atexit
import json
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from graphiff.alerts import Alert

HELDOUT = range(101, 121)
_ROOT = Path(tempfile.mkdtemp(prefix="graphiff-drawnkit-"))
atexit.register(shutil.rmtree, _ROOT, True)


@lru_cache(maxsize=None)
def drawn_store(seed: int, scale: float = 0.2) -> tuple[Path, Path]:
    """(world folder, embedded store file) of the drawn world of ``seed``, made once per session."""
    from graphiff.ingest import load_paths
    from graphiff.samples.drawn import generate_drawn_world
    from graphiff.stores import open_store

    if seed in HELDOUT:
        raise ValueError(f"seed {seed} is a held-out draw: only the benchmark runs it")
    base = _ROOT / f"{seed}-{scale:g}"
    world, store = base / "world", base / "store.duckdb"
    generate_drawn_world(world, seed=seed, scale=scale)
    with open_store(str(store)) as st:
        load_paths(st, [world], quarantine_dir=base / "quarantine")
    return world, store


@lru_cache(maxsize=None)
def _run(seed: int, scale: float, families: tuple[str, ...] | None) -> tuple[list[Alert], dict[str, Any], dict]:
    from graphiff.detectors import run_detectors
    from graphiff.detectors.evaluate import evaluate
    from graphiff.stores import open_store

    world, store = drawn_store(seed, scale)
    truth = json.loads((world / "truth.json").read_text(encoding="utf-8"))
    with open_store(str(store)) as st:
        alerts = run_detectors(st, list(families) if families else None, write_back=False)
    if families:
        wanted = set(families)
        truth = {**truth, "instances": [i for i in truth["instances"] if i["family"] in wanted],
                 "decoys": [d for d in truth["decoys"] if d["family"] in wanted]}
        alerts = [a for a in alerts if a.pattern in wanted]
    return alerts, truth, evaluate(alerts, truth)


def drawn_run(seed: int, scale: float = 0.2, families: list[str] | tuple[str, ...] | None = None
              ) -> tuple[list[Alert], dict[str, Any], dict]:
    """(alerts, truth, evaluation) of the detectors (all, or the ``families`` named: detector
    names or the patterns they emit) on the drawn world of ``seed``; truth and evaluation are
    restricted to those families. Cached per (seed, scale, families); the world and its store
    per (seed, scale)."""
    return _run(int(seed), float(scale), tuple(sorted(families)) if families else None)


def holds_on_drawn_world(seed: int, family: str, families: tuple[str, ...]) -> dict:
    """The evaluation of ``family`` on the drawn world of ``seed`` (detectors of ``families``
    run), asserted planted there and found with recall and precision >= 0.8; returns it."""
    _, _, evaluation = drawn_run(seed, families=families)
    r = evaluation["families"].get(family)
    assert r is not None and r["instances"] > 0, f"seed {seed} plants no {family}"
    assert r["recall"] >= 0.8, (seed, family, r["missed"])
    assert r["precision"] is not None and r["precision"] >= 0.8, (seed, family, r)
    return r

"""Running detectors: choose them, check their parameters, run them over a store's tables.

:func:`run_detectors` runs every registered detector (or the ones named) with parameters from
a config file or ``--set pattern.param=value`` overrides, and writes the alerts back into the
store.
"""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

from graphiff.alerts import Alert, replace_alerts, unique_ids
from graphiff.casework.triage import reconcile
from graphiff.detectors.registry import REGISTRY, Detector, get
from graphiff.errors import GraphiffError, InvalidInput
from graphiff.graph.tables import Tables

Progress = Callable[[str, str, dict], None]


def detector_names() -> list[str]:
    """The registered detector names, in run order."""
    return sorted(REGISTRY)


def resolve_detectors(patterns: Iterable[str] | None) -> list[Detector]:
    if not patterns:
        return [REGISTRY[k] for k in detector_names()]
    out: list[Detector] = []
    for name in patterns:
        det = REGISTRY.get(name) or next((d for d in REGISTRY.values() if name in d.patterns), None)
        if det is None:
            det = get(name)  # raises with the list of known names
        if det not in out:
            out.append(det)
    return out


def check_params(params: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """Validate ``{pattern: {param: value}}`` against the registry: unknown detectors or
    parameters raise :class:`GraphiffError` naming the known ones; numbers given as text are
    converted."""
    out: dict[str, dict[str, Any]] = {}
    for pattern, values in (params or {}).items():
        det = get(pattern)
        if not isinstance(values, dict):
            raise GraphiffError(f"parameters of {pattern} must be a mapping, not {values!r}")
        for name, value in values.items():
            if name not in det.defaults:
                raise GraphiffError(f"unknown parameter {pattern}.{name}; known: {', '.join(sorted(det.defaults))}")
            default = det.defaults[name]
            if isinstance(default, bool):
                if not isinstance(value, bool):
                    raise GraphiffError(f"{pattern}.{name} must be true or false, not {value!r}")
            elif isinstance(default, (int, float)) and default is not None:
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    try:
                        value = type(default)(value)
                    except (TypeError, ValueError):
                        raise GraphiffError(f"{pattern}.{name} must be a number, not {value!r}") from None
            elif isinstance(default, (list, tuple)) and isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            out.setdefault(pattern, {})[name] = value
    return out


def parse_overrides(items: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``["circular_trade.window_days=90", ...]`` -> ``{"circular_trade": {"window_days": 90}}``.
    Values are read as YAML scalars/lists (``90``, ``0.5``, ``true``, ``[OWNER, UBO]``)."""
    import yaml

    out: dict[str, dict[str, Any]] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        pattern, dot, param = name.strip().partition(".")
        if not sep or not dot or not pattern or not param:
            raise GraphiffError(f"--set expects pattern.param=value, not {item!r}")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        out.setdefault(pattern, {})[param] = value
    return check_params(out)


def load_config(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read detector parameters from YAML: ``{pattern: {param: value}}``, optionally under a
    top-level ``detectors:`` key."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput(f"cannot read detector config: {exc}", file=str(path)) from None
    if isinstance(data, dict) and isinstance(data.get("detectors"), dict):
        data = data["detectors"]
    if not isinstance(data, dict):
        raise InvalidInput("a detector config maps detector names to parameters", file=str(path))
    return check_params(data)


def merge_params(*layers: dict[str, dict[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """Later layers override earlier ones, parameter by parameter."""
    out: dict[str, dict[str, Any]] = {}
    for layer in layers:
        for pattern, values in (layer or {}).items():
            out.setdefault(pattern, {}).update(values)
    return out


def run_detectors(store: Any, patterns: Iterable[str] | None = None, params: dict[str, dict[str, Any]] | None = None,
                  progress: Progress | None = None, *, write_back: bool = True, resolved: bool = True) -> list[Alert]:
    """Run detectors over a store (or a :class:`Tables`) and return their alerts.

    Parameters
    ----------
    store : Store or Tables
        Where the records are. With a store and ``write_back``, the alerts replace the
        store's earlier alerts of the patterns run (:func:`graphiff.alerts.replace_alerts`;
        patterns that found nothing this time lose their old alerts too), and the run is
        recorded in the store's case book (:func:`graphiff.casework.triage.reconcile`: alerts
        found again keep their status and notes, alerts no longer found are marked so).
    patterns : list of str, optional
        Detector names (or patterns they emit); all registered detectors by default.
    params : dict, optional
        ``{detector: {param: value}}`` overriding the registered defaults.
    progress : callable, optional
        Called as ``progress(detector, "start", {})`` and
        ``progress(detector, "done", {"alerts": n, "seconds": s})``; after a write-back, once
        more as ``progress("triage", "done", {"report": RunReport})``.
    write_back : bool, default True
        Write the alerts back into the store (not for a ``Tables``).
    resolved : bool, default True
        Run on resolved entities (records joined by ``SAME_AS`` read as one: see
        :mod:`graphiff.graph.resolution`); False runs on the records as loaded. Ignored for a
        ``Tables`` (it says itself).

    Returns
    -------
    list of Alert
        All alerts, highest score first.
    """
    dets = resolve_detectors(patterns)
    params = check_params(params)
    tables = store if isinstance(store, Tables) else Tables(store, resolved=resolved)
    alerts: list[Alert] = []
    ran: list[str] = []
    for det in dets:
        if progress:
            progress(det.pattern, "start", {})
        t0 = time.perf_counter()
        found = det.fn(tables, **{**det.defaults, **params.get(det.pattern, {})})
        secs = time.perf_counter() - t0
        alerts.extend(found)
        ran.extend(det.patterns)
        if progress:
            progress(det.pattern, "done", {"alerts": len(found), "seconds": secs})
    alerts = finish_alerts(alerts)
    if write_back and not isinstance(store, Tables) and store is not None:
        write_back_alerts(store, alerts, ran, progress)
    return alerts


def finish_alerts(alerts: Iterable[Alert]) -> list[Alert]:
    """The alerts of a run as every engine returns them: ids made unique
    (:func:`graphiff.alerts.unique_ids`), highest score first."""
    out = unique_ids(list(alerts))
    out.sort(key=lambda a: (-a.score, a.id))
    return out


def write_back_alerts(store: Any, alerts: list[Alert], ran: list[str], progress: Progress | None = None) -> None:
    """Write a run's alerts back into ``store``: they replace its earlier alerts of the
    patterns ``ran`` (:func:`graphiff.alerts.replace_alerts`), and the run is recorded in the
    case book (:func:`graphiff.casework.triage.reconcile`); ``progress("triage", "done",
    {"report": RunReport})`` after. Every engine's write-back."""
    run_id = f"detect-{uuid.uuid4().hex[:12]}"
    at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    replace_alerts(store, alerts, ran, run_id=run_id, loaded_at=at)
    report = reconcile(store.book(), alerts, ran, run_id=run_id, at=at)
    if progress:
        progress("triage", "done", {"report": report})


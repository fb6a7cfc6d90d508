"""The alert in all its shapes: the :class:`Alert` record (docs/ARCHITECTURE.md, "Alerts"), alert files
(JSON), and the graph codec (Alert nodes + FLAGS relationships in a store).

Every other module converts alerts through here: detectors make :class:`Alert` records, the
detect run writes them back with :func:`replace_alerts`, and risk scores, link charts and
sharing packages read them back with :func:`stored_alerts` / :func:`alert_from_row`.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping

import pandas as pd

from graphiff.errors import GraphiffError, InvalidInput
from graphiff.model.cells import plain_value

if TYPE_CHECKING:
    from graphiff.graph.tables import Tables
    from graphiff.stores.base import Store


@dataclass
class Alert:
    """One detected pattern instance.

    ``entities`` are the core members, each ``{"label": ..., "id": ...}`` with the source id
    (the node key). ``score`` is in [0, 1]. ``evidence`` holds the record ids, dates and values
    an analyst needs to check every claim of ``explanation``.
    """

    pattern: str
    score: float
    entities: list[dict[str, str]]
    explanation: str
    evidence: dict[str, Any] = field(default_factory=dict)
    id: str = ""

    def __post_init__(self) -> None:
        self.score = float(min(1.0, max(0.0, self.score)))
        if not self.id:
            self.id = make_alert_id(self.pattern, self.entities)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: d[k] for k in ("id", "pattern", "score", "entities", "explanation", "evidence")}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Alert":
        return cls(
            pattern=d["pattern"], score=d["score"], entities=list(d["entities"]),
            explanation=d.get("explanation", ""), evidence=dict(d.get("evidence", {})), id=d.get("id", ""),
        )


def evidence_strings(value: Any, depth: int = 6) -> Iterator[str]:
    """Every text in an alert's evidence (nested mappings and lists, at most ``depth`` levels
    deep): the ids, keys and dates it names.

    >>> sorted(evidence_strings({"decls": ["D1", {"date": "2024-01-02"}], "n": 3}))
    ['2024-01-02', 'D1']
    """
    if isinstance(value, str):
        yield value
    elif depth > 0 and isinstance(value, Mapping):
        for v in value.values():
            yield from evidence_strings(v, depth - 1)
    elif depth > 0 and isinstance(value, (list, tuple)):
        for v in value:
            yield from evidence_strings(v, depth - 1)


def make_alert_id(pattern: str, entities: list[dict[str, str]], evidence: dict[str, Any] | None = None) -> str:
    """A stable id: the pattern plus a short hash of the entities (sorted), so the same finding
    keeps its id when detection runs again, even with new evidence (its triage and notes stay
    with it: :mod:`graphiff.casework.triage`). ``evidence``, when given, is hashed too (a
    package's redacted alerts, whose entities may be removed, stay distinct); two alerts of one
    run with the same pattern and entities are told apart by :func:`unique_ids`.

    >>> make_alert_id("p", [{"label": "Trader", "id": "T2"}, {"label": "Trader", "id": "T1"}])
    'p:073e8e388a203c79'
    """
    ents = sorted((e["label"], str(e["id"])) for e in entities)
    payload = json.dumps(ents if evidence is None else [ents, evidence], sort_keys=True, default=str)
    return f"{pattern}:{hashlib.sha256(payload.encode()).hexdigest()[:16]}"


def unique_ids(alerts: list[Alert]) -> list[Alert]:
    """``alerts`` with ids made unique: when several share an id (one pattern, the same
    entities, different evidence), the first by evidence keeps it and the others get
    ``~`` and a short hash of their evidence appended (stable across runs on the same data)."""
    seen: dict[str, list[Alert]] = {}
    for a in alerts:
        seen.setdefault(a.id, []).append(a)
    for group in seen.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda a: json.dumps(a.evidence, sort_keys=True, default=str))
        for a in group[1:]:
            ev = json.dumps(a.evidence, sort_keys=True, default=str)
            a.id = f"{a.id}~{hashlib.sha256(ev.encode()).hexdigest()[:6]}"
    return alerts


def write_alerts_json(alerts: list[Alert], path: str | Path) -> None:
    """Write alerts as a JSON array (highest score first), creating missing folders; a file
    that cannot be written raises :class:`GraphiffError` naming it."""
    data = [a.to_dict() for a in sorted(alerts, key=lambda a: (-a.score, a.id))]
    out = Path(path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    except OSError as exc:
        raise GraphiffError(f"cannot write the alerts to {out}: {exc.strerror or exc}") from None


def read_alerts_json(path: str | Path) -> list[Alert]:
    """Read an alerts file written by ``graphiff detect --out``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read alerts: {exc}", file=str(path)) from None
    if not isinstance(data, list):
        raise InvalidInput("an alerts file is a JSON array", file=str(path))
    return [Alert.from_dict(d) for d in data]


# =========================================================================== the graph codec
#
# In a store an alert is one ``Alert`` node (key = alert id; ``alert_id``, ``pattern``, ``score``,
# ``explanation``, ``evidence`` as JSON text) with one ``FLAGS`` relationship to each entity it
# names. Everything that writes or reads that shape goes through the functions below.

#: ``_source`` of the Alert nodes and FLAGS relationships a detect run writes.
DETECT_SOURCE = "graphiff detect"


def alert_rows(alerts: Iterable[Alert], prov: Mapping[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The store rows of ``alerts``: ``(Alert node rows, FLAGS relationship rows)``.

    Parameters
    ----------
    alerts : iterable of Alert
        The alerts to encode.
    prov : mapping
        Provenance columns (``_source``, ``_line``, ``_load_id``, ``_loaded_at``) added to every row.

    Returns
    -------
    (DataFrame, DataFrame)
        One node row per alert (``key`` = alert id, evidence as sorted-key JSON text) and one
        FLAGS row per named entity (``src_label, src, dst_label, dst``). Cost: linear in the
        alerts and their entities.

    >>> nodes, flags = alert_rows([Alert("p", 0.5, [{"label": "Trader", "id": "T1"}], "x", id="p:1")], {})
    >>> nodes.loc[0, ["key", "pattern", "evidence"]].tolist(), flags.loc[0, "dst"]
    (['p:1', 'p', '{}'], 'T1')
    """
    alerts = list(alerts)
    prov = dict(prov)
    nodes = pd.DataFrame([{"key": a.id, "alert_id": a.id, "pattern": a.pattern, "score": float(a.score),
                           "explanation": a.explanation,
                           "evidence": json.dumps(a.evidence, sort_keys=True, default=str), **prov}
                          for a in alerts])
    flags = pd.DataFrame([{"src_label": "Alert", "src": a.id, "dst_label": e["label"], "dst": str(e["id"]), **prov}
                          for a in alerts for e in a.entities])
    return nodes, flags


def alert_from_row(row: Mapping[str, Any], entities: list[dict[str, str]]) -> Alert:
    """Decode one Alert node (its ``key`` and properties) and the entities its FLAGS point to.

    Missing values become defaults (pattern and explanation ``""``, score 0); evidence that is
    not JSON text is kept as ``{"text": ...}``. ``entities`` are used in the order given.

    >>> alert_from_row({"key": "p:1", "pattern": "p", "score": 0.5, "evidence": '{"n": 2}'}, []).to_dict()
    {'id': 'p:1', 'pattern': 'p', 'score': 0.5, 'entities': [], 'explanation': '', 'evidence': {'n': 2}}
    """
    ev = plain_value(row.get("evidence"))
    try:
        evidence = json.loads(ev) if isinstance(ev, str) else {}
    except ValueError:
        evidence = {"text": ev}
    score = plain_value(row.get("score"))
    try:
        score = float(score) if score is not None else 0.0
    except ValueError:
        score = 0.0
    return Alert(pattern=str(plain_value(row.get("pattern")) or ""), score=score, entities=list(entities),
                 explanation=str(plain_value(row.get("explanation")) or ""),
                 evidence=evidence if isinstance(evidence, dict) else {"text": ev}, id=str(row["key"]))


def stored_alerts(source: Store | Tables) -> list[Alert]:
    """The alerts written back into a store (``Alert`` nodes and their ``FLAGS``).

    Parameters
    ----------
    source : Store or Tables
        Anything with ``nodes(label)`` and ``rels(rel_type)`` (a :class:`Tables` reuses its
        cached tables).

    Returns
    -------
    list of Alert
        Highest score first (then by id); each alert's entities sorted by label and id. Cost:
        one read of the Alert nodes and the FLAGS relationships.
    """
    nodes = source.nodes("Alert")
    if not len(nodes):
        return []
    flags = source.rels("FLAGS")
    entities: dict[str, list[dict[str, str]]] = {}
    if len(flags):
        for src, label, key in zip(flags["src"].astype(str), flags["dst_label"].astype(str),
                                   flags["dst"].astype(str)):
            entities.setdefault(src, []).append({"label": label, "id": key})
    out = [alert_from_row(row, sorted(entities.get(str(row["key"]), []), key=lambda e: (e["label"], e["id"])))
           for row in nodes.to_dict("records")]
    out.sort(key=lambda a: (-a.score, a.id))
    return out


def replace_alerts(store: Store, alerts: Iterable[Alert], patterns: Iterable[str] = (), *,
                   run_id: str | None = None, loaded_at: str | None = None) -> int:
    """Replace a store's alerts of some patterns by new ones (the write-back of a detect run).

    The stored alerts of every pattern in ``patterns`` or in ``alerts`` are deleted (with their
    FLAGS), so a pattern that found nothing this time loses its old alerts; then ``alerts`` are
    written as Alert nodes linked by FLAGS to each entity they name, with provenance
    ``_source = "graphiff detect"``, ``_load_id = run_id``, ``_loaded_at = loaded_at``.

    Parameters
    ----------
    store : Store
        Where to write.
    alerts : iterable of Alert
        The new alerts.
    patterns : iterable of str, optional
        The patterns that ran (their old alerts go even when none is in ``alerts``).
    run_id : str, optional
        The run's load id; default ``"detect-"`` + 12 random hex digits.
    loaded_at : str, optional
        The run's time (ISO 8601); default now (UTC, seconds).

    Returns
    -------
    int
        The number of alerts written. Cost: one read of the Alert keys and patterns, one delete,
        two upserts.
    """
    alerts = list(alerts)
    stale = set(patterns) | {a.pattern for a in alerts}
    if stale:
        existing = store.nodes("Alert", ["pattern"])
        if len(existing):
            old = existing.loc[existing["pattern"].isin(sorted(stale)), "key"].astype(str).tolist()
            if old:
                store.delete_nodes("Alert", old)
    if not alerts:
        return 0
    prov = {"_source": DETECT_SOURCE, "_line": None,
            "_load_id": run_id or f"detect-{uuid.uuid4().hex[:12]}",
            "_loaded_at": loaded_at or datetime.now(timezone.utc).isoformat(timespec="seconds")}
    nodes, flags = alert_rows(alerts, prov)
    store.upsert_nodes("Alert", nodes)
    if len(flags):
        store.upsert_rels("FLAGS", flags)
    return len(alerts)

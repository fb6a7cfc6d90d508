"""The Alert record (design.md section 7), alert files, and entity risk scores."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from graphiff.errors import InvalidInput


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
            self.id = make_alert_id(self.pattern, self.entities, self.evidence)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: d[k] for k in ("id", "pattern", "score", "entities", "explanation", "evidence")}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Alert":
        return cls(
            pattern=d["pattern"], score=d["score"], entities=list(d["entities"]),
            explanation=d.get("explanation", ""), evidence=dict(d.get("evidence", {})), id=d.get("id", ""),
        )


def make_alert_id(pattern: str, entities: list[dict[str, str]], evidence: dict[str, Any]) -> str:
    """A stable id: the pattern plus a short hash of the entities and evidence, so the same
    finding on the same data always gets the same id (write-back stays idempotent)."""
    payload = json.dumps([sorted((e["label"], str(e["id"])) for e in entities), evidence], sort_keys=True, default=str)
    return f"{pattern}:{hashlib.sha256(payload.encode()).hexdigest()[:16]}"


def write_alerts_json(alerts: list[Alert], path: str | Path) -> None:
    """Write alerts as a JSON array (highest score first)."""
    data = [a.to_dict() for a in sorted(alerts, key=lambda a: (-a.score, a.id))]
    Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")


def read_alerts_json(path: str | Path) -> list[Alert]:
    """Read an alerts file written by ``graphiff detect --out``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read alerts: {exc}", file=str(path)) from None
    if not isinstance(data, list):
        raise InvalidInput("an alerts file is a JSON array", file=str(path))
    return [Alert.from_dict(d) for d in data]

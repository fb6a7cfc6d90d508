"""Score alerts against a truth file (``truth.json`` written by ``graphiff samples``).

The rule (docs/ARCHITECTURE.md): an alert matches a planted instance of the same family when
at least half of the instance's entities are among the alert's entities. Precision =
matching alerts / alerts; recall = matched instances / instances. A decoy is flagged when an
alert of its family names any of its entities. In an alias world (``graphiff samples
--aliases``) every id of one true entity counts as that entity (:func:`true_entities`), so an
alert naming a trader by an administration's own id for it matches.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Literal

from graphiff.alerts import Alert
from graphiff.errors import InvalidInput


def _ents(items: Iterable[dict], same: dict[tuple[str, str], str] | None = None) -> set[tuple[str, str]]:
    """``(label, id)`` of entities; with ``same`` (an alias world's clusters) every id of one
    true entity reads as the cluster's first id."""
    out = {(str(e["label"]), str(e["id"])) for e in items}
    if same:
        out = {(lab, same.get((lab, k), k)) for lab, k in out}
    return out


def true_entities(truth: dict[str, Any]) -> dict[tuple[str, str], str]:
    """``(label, id) -> the first id of its true cluster`` for an alias world's truth
    (``resolution.clusters`` of ``graphiff samples --aliases``); empty for other worlds.

    >>> true_entities({"resolution": {"clusters": {"Trader": [["T1", "KE-X1"]]}}})
    {('Trader', 'T1'): 'T1', ('Trader', 'KE-X1'): 'T1'}
    """
    res = truth.get("resolution") if isinstance(truth, dict) else None
    clusters = res.get("clusters") if isinstance(res, dict) else None
    out: dict[tuple[str, str], str] = {}
    for label, cs in (clusters or {}).items():
        for c in cs or []:
            for k in c:
                out[(str(label), str(k))] = str(c[0])
    return out


def read_truth(path: str | Path) -> dict[str, Any]:
    """Read a truth file; raises :class:`InvalidInput` when it is not one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read truth file: {exc}", file=str(path)) from None
    if not isinstance(data, dict) or not isinstance(data.get("instances", []), list):
        raise InvalidInput("a truth file is an object with 'instances' and 'decoys' lists", file=str(path))
    return data


def matches(alert_entities: set[tuple[str, str]], instance_entities: set[tuple[str, str]]) -> bool:
    """At least half of the instance's entities are among the alert's."""
    if not instance_entities:
        return False
    return 2 * len(alert_entities & instance_entities) >= len(instance_entities)


def evaluate(alerts: list[Alert], truth: dict[str, Any]) -> dict[str, Any]:
    """Precision, recall and decoys flagged per family.

    Parameters
    ----------
    alerts : list of Alert
    truth : dict
        ``{"instances": [{"family", "entities"}...], "decoys": [{"family", "kind", "entities"}...]}``.

    Returns
    -------
    dict
        ``{"families": {family: {"alerts", "matching_alerts", "instances", "matched_instances",
        "precision", "recall", "decoys", "decoys_flagged", "flagged_decoys", "missed"}},
        "overall": {...same counts, micro-averaged}}``. ``precision`` is None for a family
        without alerts and ``recall`` None for one without instances.

    Examples
    --------
    >>> a = Alert("circular_trade", 0.9, [{"label": "Trader", "id": "A"}, {"label": "Trader", "id": "B"}], "")
    >>> t = {"instances": [{"family": "circular_trade", "entities": [{"label": "Trader", "id": "A"},
    ...       {"label": "Trader", "id": "B"}, {"label": "Trader", "id": "C"}]}], "decoys": []}
    >>> evaluate([a], t)["families"]["circular_trade"]["recall"]
    1.0
    """
    instances = truth.get("instances", []) or []
    decoys = truth.get("decoys", []) or []
    same = true_entities(truth)
    fams = sorted({a.pattern for a in alerts} | {i["family"] for i in instances} | {d["family"] for d in decoys})
    out: dict[str, Any] = {"families": {}}
    tot: dict[str, Any] = {"alerts": 0, "matching_alerts": 0, "instances": 0, "matched_instances": 0, "decoys": 0,
                           "decoys_flagged": 0}
    for fam in fams:
        fa = [(a, _ents(a.entities, same)) for a in alerts if a.pattern == fam]
        fi = [(i, _ents(i.get("entities", []), same)) for i in instances if i["family"] == fam]
        fd = [d for d in decoys if d["family"] == fam]
        matching = sum(1 for _, ae in fa if any(matches(ae, ie) for _, ie in fi))
        matched_flags = [any(matches(ae, ie) for _, ae in fa) for _, ie in fi]
        flagged = []
        all_alert_ents = set().union(*(ae for _, ae in fa)) if fa else set()
        for d in fd:
            hit = _ents(d.get("entities", []), same) & all_alert_ents
            if hit:
                flagged.append({"kind": d.get("kind"), "entities": [{"label": lab, "id": k} for lab, k in sorted(hit)]})
        missed = [{"entities": i.get("entities", []), **({"kind": i["kind"]} if "kind" in i else {})}
                  for (i, _), ok in zip(fi, matched_flags) if not ok]
        row: dict[str, Any] = {
            "alerts": len(fa), "matching_alerts": matching,
            "instances": len(fi), "matched_instances": sum(matched_flags),
            "precision": (matching / len(fa)) if fa else None,
            "recall": (sum(matched_flags) / len(fi)) if fi else None,
            "decoys": len(fd), "decoys_flagged": len(flagged), "flagged_decoys": flagged, "missed": missed,
        }
        out["families"][fam] = row
        for k in tot:
            tot[k] += row[k]
    tot["precision"] = tot["matching_alerts"] / tot["alerts"] if tot["alerts"] else None
    tot["recall"] = tot["matched_instances"] / tot["instances"] if tot["instances"] else None
    out["overall"] = tot
    return out


def evaluation_table(result: dict[str, Any], title: str = "evaluation against truth"):
    """The result of :func:`evaluate` as a rich Table (one row per family plus a total)."""
    from rich.table import Table

    def pct(v: float | None) -> str:
        return "—" if v is None else f"{v:.0%}"

    t = Table(title=title)
    columns: tuple[tuple[str, Literal["left", "right"]], ...] = (
        ("family", "left"), ("alerts", "right"), ("matching", "right"), ("instances", "right"),
        ("matched", "right"), ("precision", "right"), ("recall", "right"), ("decoys", "right"),
        ("decoys flagged", "right"))
    for name, just in columns:
        t.add_column(name, justify=just)
    rows = list(result["families"].items()) + [("total", result["overall"])]
    for fam, r in rows:
        flagged = str(r["decoys_flagged"])
        if r["decoys_flagged"]:
            flagged = f"[bold red]{flagged}[/]"
        t.add_row(fam if fam != "total" else "[bold]total[/]", str(r["alerts"]), str(r["matching_alerts"]),
                  str(r["instances"]), str(r["matched_instances"]), pct(r["precision"]), pct(r["recall"]),
                  str(r["decoys"]), flagged, end_section=(fam == rows[-2][0]) if len(rows) > 1 else False)
    return t

"""Entity risk scores: one number per trader, person, account or carrier from every alert that
touches it, with its reasons (`graphiff risk`; README, "Detectors").

One mechanism for all families: each alert contributes ``w = weight[pattern] * alert.score``
(times a propagation factor when it reaches the entity through a record, see below) and an
entity's score is ``1 - prod(1 - w)`` over its alerts - more independent indicators, higher
risk, never above 1.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

import pandas as pd

from graphiff.alerts import Alert
from graphiff.graph.columns import col, text_objects
from graphiff.graph.features import account_holders

#: How much one alert of each family says about the entities it names (0..1).
WEIGHTS: dict[str, float] = {
    "circular_trade": 0.8,
    "circular_payment": 0.8,
    "shell_intermediary": 0.7,
    "phoenix_trader": 0.7,
    "linked_carriers": 0.6,
    "cash_structuring": 0.7,
    "third_party_payment": 0.6,
    "pass_through_account": 0.6,
    "scatter_gather": 0.7,
    "mirror_discrepancy": 0.5,
    "undervaluation": 0.5,
    "overvaluation": 0.5,
    "split_invoices": 0.6,
}
DEFAULT_WEIGHT = 0.5

#: With tables: an alert naming a record also reaches the parties behind it, damped.
PROPAGATION: dict[str, float] = {
    "Declaration": 0.5,   # -> its exporter and importer (Trader)
    "BankAccount": 0.8,   # -> its holder (Trader or Person)
    "CashReport": 0.8,    # -> its person and trader
    "Payment": 0.5,       # -> sending and receiving accounts' holders
}


def _parties(tables: Any) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(label, key) of a record -> the (label, key) of the parties behind it."""
    out: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    d = tables.nodes("Declaration")
    if len(d):
        keys = text_objects(col(d, "key"))
        for role in ("exporter_id", "importer_id"):
            for k, t in zip(keys, text_objects(col(d, role))):
                if k is not None and t is not None:
                    out[("Declaration", k)].append(("Trader", t))
    holders = account_holders(tables)
    persons = set(tables.nodes("Person")["key"].astype(str)) if len(tables.nodes("Person")) else set()
    for acct, h in holders.items():
        out[("BankAccount", acct)].append(("Person" if h in persons else "Trader", h))
    c = tables.nodes("CashReport")
    if len(c):
        keys = text_objects(col(c, "key"))
        for k, p in zip(keys, text_objects(col(c, "person_id"))):
            if k is not None and p is not None:
                out[("CashReport", k)].append(("Person", p))
        for k, t in zip(keys, text_objects(col(c, "trader_id"))):
            if k is not None and t is not None:
                out[("CashReport", k)].append(("Trader", t))
    p = tables.nodes("Payment")
    if len(p):
        keys = text_objects(col(p, "key"))
        for end in ("from_account", "to_account"):
            for k, a in zip(keys, text_objects(col(p, end))):
                if k is not None and a is not None and a in holders:
                    h = holders[a]
                    out[("Payment", k)].append(("Person" if h in persons else "Trader", h))
    return out


def risk_scores(alerts: list[Alert], tables: Any = None, *, weights: dict[str, float] | None = None,
                propagation: dict[str, float] | None = None) -> pd.DataFrame:
    """Risk score per entity from the alerts that touch it.

    Parameters
    ----------
    alerts : list of Alert
    tables : Tables, optional
        When given, an alert naming a declaration, account, cash report or payment also
        reaches the parties behind it (exporter/importer, holder, person/trader), damped by
        ``propagation[label]``, and a ``name`` column is added where the entity has one.
    weights : dict, optional
        Pattern -> weight, overriding :data:`WEIGHTS` (unknown patterns: 0.5).
    propagation : dict, optional
        Record label -> damping factor, overriding :data:`PROPAGATION`.

    Returns
    -------
    DataFrame
        Columns ``label, id, score, alerts, reasons`` (``reasons``: list of ``{"pattern",
        "weight", "alert_id", "alert_score", "contribution"}`` plus ``"via"`` for propagated
        ones), highest score first. An alert counts once per entity (its strongest path).

    Examples
    --------
    >>> a = Alert("shell_intermediary", 1.0, [{"label": "Trader", "id": "T1"}], "")
    >>> b = Alert("circular_trade", 0.5, [{"label": "Trader", "id": "T1"}], "")
    >>> round(float(risk_scores([a, b])["score"][0]), 2)  # 1 - (1 - 0.7)(1 - 0.4)
    0.82
    """
    w = {**WEIGHTS, **(weights or {})}
    prop = {**PROPAGATION, **(propagation or {})}
    parties = _parties(tables) if tables is not None else {}
    best: dict[tuple[str, str], dict[str, dict]] = defaultdict(dict)

    def add(ent: tuple[str, str], alert: Alert, factor: float, via: str | None) -> None:
        weight = float(w.get(alert.pattern, DEFAULT_WEIGHT))
        contrib = max(0.0, min(1.0, weight * float(alert.score) * factor))
        cur = best[ent].get(alert.id)
        if cur is None or contrib > cur["contribution"]:
            r = {"pattern": alert.pattern, "weight": round(weight * factor, 4), "alert_id": alert.id,
                 "alert_score": round(float(alert.score), 4), "contribution": round(contrib, 4)}
            if via:
                r["via"] = via
            best[ent][alert.id] = r

    for a in alerts:
        for e in a.entities:
            ent = (str(e["label"]), str(e["id"]))
            add(ent, a, 1.0, None)
            f = prop.get(ent[0])
            if f:
                for party in parties.get(ent, ()):
                    if party != ent:
                        add(party, a, f, f"{ent[0]}:{ent[1]}")
    rows = []
    for (label, key), reasons in best.items():
        rs = sorted(reasons.values(), key=lambda r: (-r["contribution"], r["alert_id"]))
        keep = 1.0
        for r in rs:
            keep *= 1.0 - r["contribution"]
        rows.append({"label": label, "id": key, "score": 1.0 - keep, "alerts": len(rs), "reasons": rs})
    df = pd.DataFrame(rows, columns=["label", "id", "score", "alerts", "reasons"])
    if tables is not None and len(df):
        names = {}
        for label in sorted(set(df["label"])):
            n = tables.nodes(label)
            if len(n) and "name" in n.columns:
                names.update({(label, str(k)): v for k, v in zip(n["key"], n["name"]) if isinstance(v, str)})
        df["name"] = [names.get((lab, k)) for lab, k in zip(df["label"], df["id"])]
    df = df.sort_values(["score", "label", "id"], ascending=[False, True, True], kind="stable").reset_index(drop=True)
    return df

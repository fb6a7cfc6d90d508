"""A score's reasons in words an analyst can check: LightGBM's per-feature contributions
(``pred_contrib=True``, SHAP values in log-odds) summed per group of features (the importer's
history, the goods, the declared value...), the groups that raised the score most, each
written from the declaration's own values ("importer QLRUBN9: 3 of its 5 earlier inspected
declarations were frauds").
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd

from graphiff.targeting.features import PAIRS, ROLES, VALUE_RATES

__all__ = ["feature_group", "group_matrix", "top_reasons", "SEPARATOR"]

#: How the reasons are joined in the ``target_reasons`` property.
SEPARATOR = " | "

_VALUE = {"value_usd", "invoice_value", "net_mass_kg", "unit_value_usd", "quantity", "log_value_usd",
          "log_invoice_value", "log_net_mass_kg", "log_unit_value_usd"}
_NAMES = {"office": "office", "flow": "flow", "reporting_country": "reporting country", "process_type": "process type",
          "import_type": "import type", "import_use": "import use", "payment_type": "payment type",
          "transport_mode": "transport mode", "origin_country": "origin", "dispatch_country": "departure country",
          "exporter_country": "seller's country", "country_of_origin_indicator": "origin indicator",
          "currency": "currency", "quantity_unit": "quantity unit"}
_ROLE_COL = {role: col for role, (col, _) in ROLES.items()}


def feature_group(name: str) -> str:
    """The group a feature's contribution is counted in (one reason per group).

    >>> [feature_group(x) for x in ("importer_seller_first", "importer_fraud_rate", "seller_nb_fraud_rate",
    ...                             "hs4", "hs6_fraud_rate", "log_value_usd", "office")]
    ['pair:importer_seller', 'history:importer', 'nb:seller', 'goods', 'rate:hs6', 'value', 'cat:office']
    """
    for pair in PAIRS:
        if name.startswith(pair + "_"):
            return f"pair:{pair}"
    for rate in VALUE_RATES:
        if name in (f"{rate}_fraud_rate", f"{rate}_labelled_prev"):
            return f"rate:{rate}"
    for role in ROLES:
        if name.startswith(f"{role}_nb_"):
            return f"nb:{role}"
        if name.startswith(f"{role}_alert"):
            return f"alerts:{role}"
        if name in (f"{role}_shared_ids", f"{role}_group_fraud_rate"):
            return f"shared:{role}"
        if name.startswith(role + "_"):
            return f"history:{role}"
    if name in ("hs6", "hs4", "hs2"):
        return "goods"
    if name in _VALUE:
        return "value"
    if name in ("tax_rate", "tax_type"):
        return "tax"
    return f"cat:{name}"


def group_matrix(columns: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """The groups of ``columns`` and the 0/1 matrix (features x groups) that sums contributions."""
    groups = list(dict.fromkeys(feature_group(c) for c in columns))
    m = np.zeros((len(columns), len(groups)))
    for i, c in enumerate(columns):
        m[i, groups.index(feature_group(c))] = 1.0
    return groups, m


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _int(v: Any) -> int:
    f = _num(v)
    return int(round(f)) if f is not None else 0


def _pct(v: Any) -> str:
    f = _num(v)
    return "?" if f is None else f"{f:.0%}"


def _say(group: str, row: dict[str, Any], ctx: dict[str, Any]) -> str:
    """One group's reason for one declaration, from its feature values ``row`` and ``ctx``."""
    kind, _, what = group.partition(":")
    if kind == "history":
        who = f"{what} {ctx.get(_ROLE_COL[what]) or '(none)'}"
        n, lab, fr = _int(row.get(f"{what}_n_prev")), _int(row.get(f"{what}_labelled_prev")), \
            _int(row.get(f"{what}_fraud_prev"))
        if n == 0:
            return f"{who}: first declaration (never seen before)"
        if lab:
            return (f"{who}: {fr} of its {lab} earlier inspected declarations were frauds "
                    f"({n} earlier declarations, {_int(row.get(f'{what}_partners_prev'))} partners so far)")
        first = _num(row.get(f"{what}_days_first"))
        return (f"{who}: {n} earlier declarations, none inspected"
                + (f", first seen {int(first)} days before" if first is not None else ""))
    if kind == "nb":
        who = f"{what} {ctx.get(_ROLE_COL[what]) or '(none)'}"
        partners = "sellers it bought from" if what == "importer" else "importers it served"
        lab = _int(row.get(f"{what}_nb_labelled_prev"))
        if not lab:
            return f"{who}: the {partners} before had no inspected declarations"
        return (f"{who}: the {partners} before had {_int(row.get(f'{what}_nb_fraud_prev'))} frauds in {lab} "
                f"inspected declarations")
    if kind == "pair":
        a, b = PAIRS[what]
        an, bn = a.removesuffix("_id").replace("exporter", "seller"), b.removesuffix("_id").replace("exporter",
                                                                                                      "seller")
        pair = f"{an} {ctx.get(a) or '?'} with {bn.upper() if bn == 'hs6' else bn} {ctx.get(b) or '?'}"
        if _num(row.get(f"{what}_first")) == 1.0:
            return f"first time: {pair} never seen before"
        return (f"{pair}: {_int(row.get(f'{what}_n_prev'))} earlier declarations together, earlier fraud rate "
                f"{_pct(row.get(f'{what}_fraud_rate'))}")
    if kind == "rate":
        col = VALUE_RATES[what]
        name = "HS6" if what == "hs6" else what
        return (f"{name} {ctx.get(col) or '?'}: earlier fraud rate {_pct(row.get(f'{what}_fraud_rate'))} "
                f"over {_int(row.get(f'{what}_labelled_prev'))} inspected declarations")
    if kind == "alerts":
        who = f"{what} {ctx.get(_ROLE_COL[what]) or '(none)'}"
        k = _int(row.get(f"{what}_alerts_prev"))
        if not k:
            return f"{who}: no earlier detector alert"
        best = _num(row.get(f"{what}_alert_score_prev")) or 0.0
        return f"{who}: {k} earlier detector alert(s), highest score {best:.2f}"
    if kind == "shared":
        who = f"{what} {ctx.get(_ROLE_COL[what]) or '(none)'}"
        k = _int(row.get(f"{what}_shared_ids"))
        if not k:
            return f"{who}: shares no address, phone or email with another trader"
        return (f"{who}: shares an address, phone or email with {k} other trader(s), whose earlier fraud rate is "
                f"{_pct(row.get(f'{what}_group_fraud_rate'))}")
    if kind == "goods":
        return f"goods HS {ctx.get('hs6') or row.get('hs6') or '?'}"
    if kind == "value":
        bits = []
        v, m, u = _num(row.get("value_usd")), _num(row.get("net_mass_kg")), _num(row.get("unit_value_usd"))
        if v is not None:
            bits.append(f"{v:,.0f} USD")
        if m is not None:
            bits.append(f"{m:,.1f} kg")
        if u is not None:
            bits.append(f"{u:,.2f} USD/kg")
        return "declared value " + (", ".join(bits) if bits else "unknown")
    if kind == "tax":
        return f"tax rate {row.get('tax_rate')}, tax type {row.get('tax_type')}"
    return f"{_NAMES.get(what, what)} {row.get(what)}"


def top_reasons(frame: pd.DataFrame, context: pd.DataFrame, contrib: np.ndarray, *, top: int = 3,
                rows: Sequence[int] | np.ndarray | None = None, display: pd.DataFrame | None = None
                ) -> list[list[str]]:
    """The reasons of the rows ``rows`` (default all): the ``top`` groups of features whose
    summed contributions raised the score most (only those that raised it), each in words.

    ``contrib``: LightGBM's ``pred_contrib`` (rows x (features + 1), the last column the
    expected value). ``display``: the counts the reasons quote that the model does not read
    (:attr:`graphiff.targeting.features.Features.display`). Cost: one matrix product, then a few string formats per row.
    """
    columns = list(frame.columns)
    groups, m = group_matrix(columns)
    sel = np.arange(len(frame)) if rows is None else np.asarray(rows, dtype=np.int64)
    g = contrib[sel, : len(columns)] @ m
    order = np.argsort(-g, axis=1, kind="stable")[:, :top]
    out: list[list[str]] = []
    records = frame.iloc[sel].to_dict("records")
    if display is not None and len(display.columns):
        for rec, extra in zip(records, display.iloc[sel].to_dict("records")):
            for k, v in extra.items():
                rec.setdefault(k, v)
    ctxs = context.iloc[sel].to_dict("records") if len(context.columns) else [{}] * len(sel)
    for j, (row, ctx) in enumerate(zip(records, ctxs)):
        out.append([_say(groups[k], row, ctx) for k in order[j] if g[j, k] > 0])
    return out

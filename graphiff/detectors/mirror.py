"""Mirror discrepancies: the export and import declarations of one shipment disagree.

The export declaration of a shipment in one administration and the import declaration of the
same shipment in another should tell the same story: the import value (CIF, in USD) a little
above the export value (FOB), the same net mass and quantity.
:func:`graphiff.graph.mirror.pair_declarations` pairs them (the one definition of mirror
pairs); :func:`detect_mirror_discrepancy` alerts on pairs whose values or quantities differ
beyond the normal CIF/FOB margin; :func:`mirror_report` summarises the pairing per
(export country, import country) for discrepancy analysis between partner administrations.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from graphiff.alerts import Alert
from graphiff.detectors.registry import register
from graphiff.graph.columns import col, upper_text
from graphiff.graph.mirror import (
    PAIR_COLUMNS,
    PAIR_DEFAULTS,
    mirror_declarations,
    pair_declarations,
)
from graphiff.graph.tables import Tables

DEFAULTS: dict[str, Any] = {
    **PAIR_DEFAULTS,
    "ratio_low": 0.9,
    "ratio_high": 1.3,
    "min_gap_usd": 1000.0,
    "max_mass_diff": 0.2,
}


def _pair_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: params[k] for k in PAIR_DEFAULTS if k in params}


@register("mirror_discrepancy", defaults=dict(DEFAULTS))
def detect_mirror_discrepancy(tables: Tables, **params: Any) -> list[Alert]:
    """Export and import declarations of one shipment whose values or quantities disagree.

    Typology: mirror analysis of the two administrations' records of one movement of goods
    (WCO, *Illicit Financial Flows via Trade Mis-invoicing*, 2018; FATF, *Trade Based Money
    Laundering*, 2006).

    Meaning: the exporting administration saw one value (FOB) or quantity and the importing one
    another. An import value well below the export value hides value from the importing
    country's duty and tax (under-invoicing); one far above it moves money out of the
    importing country (over-invoicing); different masses mean goods appeared or vanished.

    Parameters
    ----------
    tables : Tables
        Reads ``Declaration``.
    window_days, early_days, late_days, match_on, match_hs, match_parties
        Pairing, as in :func:`graphiff.graph.mirror.pair_declarations` (defaults 60, 3, 120,
        transport document -> invoice -> containers -> parties and goods of the same net mass,
        ``"hs6"``, True). A pair is made on whichever keys the two declarations share - none is
        assumed always present - and an invoice number reused across shipments pairs only where
        the parties agree; an import filed up to ``late_days`` after the export pairs when the
        transport document, invoice number, exporter and importer all agree (a late filing).
    ratio_low : float, default 0.9
    ratio_high : float, default 1.3
        The normal CIF/FOB margin: import value / export value in ``[0.9, 1.3]`` is freight,
        insurance and exchange-rate noise (CIF/FOB ratios average about 1.05-1.10 and rarely
        exceed 1.3). A pair outside it alerts when the absolute gap is at least
        ``min_gap_usd``.
    min_gap_usd : float, default 1000
        Smallest |import - export| value (USD) worth an alert.
    max_mass_diff : float, default 0.2
        A pair also alerts when net masses (or quantities in the same unit) differ by more
        than this share of the larger one.

    Returns
    -------
    list of Alert
        One per discrepant pair; entities are both Declarations (export first). The score is
        0.5 at the edge of the margin and rises towards 1 with ``|log ratio|`` beyond it (and
        with the mass difference beyond ``max_mass_diff``). Evidence: both keys, countries,
        dates, values, ratio, gap, masses, quantities and what the pair was matched on.
        Pairs where either value is unconvertible to USD are judged on quantities only.

    Notes
    -----
    Cost: one :func:`pair_declarations` pass, O(n log n).
    """
    p = {**DEFAULTS, **params}
    pairs = pair_declarations(tables, **_pair_params(p))
    if len(pairs) == 0:
        return []
    lo, hi = float(p["ratio_low"]), float(p["ratio_high"])
    r = pairs["value_ratio"].astype("float64")
    gap = pairs["value_gap_usd"].astype("float64").abs()
    with np.errstate(divide="ignore", invalid="ignore"):
        excess = np.where(r < lo, np.log(lo / r), np.where(r > hi, np.log(r / hi), 0.0))
    excess = np.nan_to_num(excess, nan=0.0, posinf=10.0)
    value_bad = (excess > 0) & (gap >= float(p["min_gap_usd"])).fillna(False).to_numpy()
    mdiff = pairs["mass_diff"].astype("float64").fillna(0.0)
    qdiff = pairs["quantity_diff"].astype("float64").fillna(0.0)
    qty = np.maximum(mdiff.to_numpy(), qdiff.to_numpy())
    mlim = float(p["max_mass_diff"])
    qty_bad = qty > mlim
    alerts: list[Alert] = []
    for idx in np.flatnonzero(value_bad | qty_bad):
        row = pairs.iloc[idx]
        sv = 0.5 + 0.5 * (1 - math.exp(-excess[idx] / 0.3)) if value_bad[idx] else 0.0
        sq = 0.5 + 0.5 * (1 - math.exp(-(qty[idx] - mlim) / 0.2)) if qty_bad[idx] else 0.0
        score = max(sv, sq) + (0.1 if (value_bad[idx] and qty_bad[idx]) else 0.0)
        parts = []
        if value_bad[idx]:
            parts.append(
                f"import value {row['import_value_usd']:,.0f} USD is {row['value_ratio']:.2f}x the export value "
                f"{row['export_value_usd']:,.0f} USD (normal margin {lo:g}-{hi:g}, "
                f"gap {row['value_gap_usd']:+,.0f} USD)")
        if qty_bad[idx]:
            if mdiff.iloc[idx] > mlim:
                parts.append(f"net mass {row['export_mass_kg']:,.0f} kg exported vs "
                             f"{row['import_mass_kg']:,.0f} kg imported")
            else:
                parts.append(f"quantity {row['export_quantity']:,.0f} vs {row['import_quantity']:,.0f} "
                             f"{row['quantity_unit']}")
        explanation = (
            f"Shipment {row['export_key']} ({row['export_country']}, {row['export_date']}) -> {row['import_key']} "
            f"({row['import_country']}, {row['import_date']}), HS {row['hs6']}, matched on {row['match_on']}: "
            + "; ".join(parts)
        )

        def val(x: Any) -> Any:
            if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)):
                return None
            return x.item() if hasattr(x, "item") else x

        evidence = {k: val(row[k]) for k in PAIR_COLUMNS}
        evidence["declarations"] = [row["export_key"], row["import_key"]]
        evidence["margin"] = [lo, hi]
        alerts.append(Alert(
            pattern="mirror_discrepancy", score=score,
            entities=[{"label": "Declaration", "id": row["export_key"]},
                      {"label": "Declaration", "id": row["import_key"]}],
            explanation=explanation, evidence=evidence,
        ))
    return alerts


def mirror_report(tables: Tables, **params: Any) -> pd.DataFrame:
    """Mirror statistics per (export country, import country), for discrepancy analysis.

    Parameters
    ----------
    tables : Tables
        Reads ``Declaration``.
    **params
        Pairing and margin parameters of :func:`detect_mirror_discrepancy`.

    Returns
    -------
    pandas.DataFrame
        One row per country pair, most exports first: ``export_country, import_country,
        exports`` (export declarations of the first country bound for the second: the
        partner's country when paired, else the destination or importer country), ``matched``,
        ``unmatched_rate``, ``imports`` (import declarations of the second country from the
        first: paired, else by dispatch / exporter / origin country), ``imports_unmatched``,
        ``export_value_usd``/``import_value_usd`` (of matched pairs with both values in USD;
        null when there are none), ``median_value_ratio`` (import/export),
        ``total_value_gap_usd`` (sum of import - export over those pairs), ``discrepancies``
        (matched pairs outside the margin), ``median_mass_diff``. A table, not alerts.

    Notes
    -----
    Cost: one :func:`pair_declarations` pass plus group-bys.
    """
    p = {**DEFAULTS, **params}
    cols = ["export_country", "import_country", "exports", "matched", "unmatched_rate", "imports",
            "imports_unmatched", "export_value_usd", "import_value_usd", "median_value_ratio",
            "total_value_gap_usd", "discrepancies", "median_mass_diff"]
    d = mirror_declarations(tables)
    if len(d) == 0:
        return pd.DataFrame(columns=cols)
    pairs = pair_declarations(tables, **_pair_params(p))
    decl = tables.nodes("Declaration")
    d = d.assign(importer_country=upper_text(col(decl, "importer_country")).to_numpy(),
                 exporter_country=upper_text(col(decl, "exporter_country")).to_numpy())
    exp = d[(d["flow"] == "EXPORT").fillna(False).to_numpy()]
    imp = d[(d["flow"] == "IMPORT").fillna(False).to_numpy()]
    # object dtype: hash-table lookups (arrow-backed string isin is slow on large value sets)
    ek, ik = exp["key"].astype(object), imp["key"].astype(object)
    partner_e = pd.Series(pairs["import_country"].to_numpy(), index=pairs["export_key"].astype(object).to_numpy())
    partner_i = pd.Series(pairs["export_country"].to_numpy(), index=pairs["import_key"].astype(object).to_numpy())
    exp = exp.assign(export_country=exp["rc"],
                     import_country=ek.map(partner_e).astype(object).fillna(exp["destination_country"])
                     .fillna(exp["importer_country"]).fillna("??"),
                     matched=ek.isin(partner_e.index))
    imp = imp.assign(import_country=imp["rc"],
                     export_country=ik.map(partner_i).astype(object).fillna(imp["dispatch_country"])
                     .fillna(imp["exporter_country"]).fillna(imp["origin_country"]).fillna("??"),
                     matched=ik.isin(partner_i.index))
    keys = ["export_country", "import_country"]
    e = exp.groupby(keys).agg(exports=("key", "size"), matched=("matched", "sum"))
    i = imp.groupby(keys).agg(imports=("key", "size"), imports_matched=("matched", "sum"))
    lo, hi = float(p["ratio_low"]), float(p["ratio_high"])
    both = pairs["export_value_usd"].notna() & pairs["import_value_usd"].notna()
    pr = pairs.assign(
        export_value_usd=pairs["export_value_usd"].where(both),
        import_value_usd=pairs["import_value_usd"].where(both),
        disc=(((pairs["value_ratio"] < lo) | (pairs["value_ratio"] > hi))
              & (pairs["value_gap_usd"].abs() >= float(p["min_gap_usd"]))).fillna(False)
        | (pairs["mass_diff"] > float(p["max_mass_diff"])).fillna(False))
    g = pr.groupby(keys)
    m = pd.DataFrame({
        "export_value_usd": g["export_value_usd"].sum(min_count=1),
        "import_value_usd": g["import_value_usd"].sum(min_count=1),
        "median_value_ratio": g["value_ratio"].median(),
        "total_value_gap_usd": g["value_gap_usd"].sum(min_count=1),
        "discrepancies": g["disc"].sum(),
        "median_mass_diff": g["mass_diff"].median(),
    })
    out = e.join(i, how="outer").join(m, how="left").reset_index()
    for c in ("exports", "matched", "imports", "imports_matched", "discrepancies"):
        out[c] = out[c].fillna(0).astype("int64")
    out["unmatched_rate"] = (1 - out["matched"] / out["exports"].where(out["exports"] > 0)).round(4)
    out["imports_unmatched"] = out["imports"] - out["imports_matched"]
    for c in ("export_value_usd", "import_value_usd", "total_value_gap_usd"):
        out[c] = out[c].astype("float64").round(2)
    out = out.sort_values(["exports", "imports", "export_country", "import_country"],
                          ascending=[False, False, True, True], ignore_index=True)
    return out[cols]

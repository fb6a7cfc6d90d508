"""Mirror discrepancies: the export and import declarations of one shipment disagree.

The export declaration of a shipment in one administration and the import declaration of the
same shipment in another should tell the same story: the import value (CIF, in USD) a little
above the export value (FOB), the same net mass and quantity. :func:`pair_declarations`
pairs them; :func:`detect_mirror_discrepancy` alerts on pairs whose values or quantities
differ beyond the normal CIF/FOB margin; :func:`mirror_report` summarises the pairing per
(export country, import country) for discrepancy analysis between partner administrations.
"""
from __future__ import annotations

import math
import weakref
from typing import Any, Sequence

import numpy as np
import pandas as pd

from graphiff.alerts import Alert
from graphiff.detectors.columns import col as _col
from graphiff.detectors.columns import num as _num
from graphiff.detectors.columns import upper_text as _text
from graphiff.detectors.registry import register
from graphiff.graph.tables import Tables

PAIR_DEFAULTS: dict[str, Any] = {
    "window_days": 60,
    "early_days": 3,
    "match_on": ("transport_doc_no", "invoice_no", "container_ids"),
    "match_hs": "hs6",
    "match_parties": True,
}

DEFAULTS: dict[str, Any] = {
    **PAIR_DEFAULTS,
    "ratio_low": 0.9,
    "ratio_high": 1.3,
    "min_gap_usd": 1000.0,
    "max_mass_diff": 0.2,
}

PAIR_COLUMNS = [
    "export_key", "import_key", "match_on", "export_country", "import_country",
    "export_date", "import_date", "days", "hs6", "exporter_id", "importer_id",
    "export_value_usd", "import_value_usd", "value_ratio", "value_gap_usd",
    "export_mass_kg", "import_mass_kg", "mass_diff", "export_quantity", "import_quantity",
    "quantity_unit", "quantity_diff",
]


def _dates(s: pd.Series) -> pd.Series:
    return pd.to_datetime(s.astype("string").str.slice(0, 10), format="%Y-%m-%d", errors="coerce")


def _explode_containers(rid: np.ndarray, raw: pd.Series) -> pd.DataFrame:
    """``(rid, container)`` rows: the store keeps container ids ``;``-joined (lists tolerated)."""
    if raw.dtype == object and raw.map(lambda v: isinstance(v, (list, tuple, np.ndarray))).any():
        raw = raw.map(lambda v: ";".join(map(str, v)) if isinstance(v, (list, tuple, np.ndarray)) else v)
    parts = _text(raw).str.replace(",", ";", regex=False).str.split(";")
    e = pd.DataFrame({"rid": rid, "c": parts.to_numpy()}).explode("c")
    e["c"] = _text(e["c"].astype("string"))
    return e.dropna(subset=["c"])


_PREP_CACHE: "weakref.WeakKeyDictionary[Tables, pd.DataFrame]" = weakref.WeakKeyDictionary()


def _prepare(tables: Tables) -> pd.DataFrame:
    try:
        if tables in _PREP_CACHE:
            return _PREP_CACHE[tables]
        _PREP_CACHE[tables] = out = _prepare_uncached(tables)
    except TypeError:  # not weak-referenceable
        out = _prepare_uncached(tables)
    return out


def _prepare_uncached(tables: Tables) -> pd.DataFrame:
    decl = tables.nodes("Declaration")
    if decl is None or len(decl) == 0:
        return pd.DataFrame()
    hs6 = _text(_col(decl, "hs6"))
    if hs6.isna().all():
        hs6 = _text(_col(decl, "hs_code"))
    hs6 = hs6.str.replace(r"\D", "", regex=True).str.slice(0, 6)
    value = _num(_col(decl, "value_usd")).mask(
        _text(_col(decl, "usd_status"), upper=False).str.lower() == "unconvertible")
    item = pd.to_numeric(_col(decl, "item_no"), errors="coerce")
    out = pd.DataFrame({
        "key": _col(decl, "key").astype("string"),
        "item_no": item.fillna(1).astype("int64"),
        "flow": _text(_col(decl, "flow")),
        "rc": _text(_col(decl, "reporting_country")),
        "date": _dates(_col(decl, "date")),
        "hs6": hs6.mask(hs6 == ""),
        "exporter_id": _text(_col(decl, "exporter_id"), upper=False),
        "importer_id": _text(_col(decl, "importer_id"), upper=False),
        "destination_country": _text(_col(decl, "destination_country")),
        "dispatch_country": _text(_col(decl, "dispatch_country")),
        "origin_country": _text(_col(decl, "origin_country")),
        "value_usd": value,
        "mass": _num(_col(decl, "net_mass_kg")),
        "qty": _num(_col(decl, "quantity")),
        "qunit": _text(_col(decl, "quantity_unit")),
        "transport_doc_no": _text(_col(decl, "transport_doc_no")),
        "invoice_no": _text(_col(decl, "invoice_no")),
        "container_ids": _col(decl, "container_ids"),
    }).reset_index(drop=True)
    out.insert(0, "rid", np.arange(len(out), dtype="int64"))
    return out


def _candidates(d: pd.DataFrame, exp: pd.DataFrame, imp: pd.DataFrame, field: str, *, window_days: int,
                early_days: int, match_hs: str | None, match_parties: bool) -> pd.DataFrame:
    if field == "container_ids":
        e = _explode_containers(exp["rid"].to_numpy(), exp["container_ids"])
        i = _explode_containers(imp["rid"].to_numpy(), imp["container_ids"])
        if len(e) == 0 or len(i) == 0:
            return pd.DataFrame()
        m = e.merge(i, on="c", suffixes=("_e", "_i"))[["rid_e", "rid_i"]].drop_duplicates()
    else:
        e = exp.loc[exp[field].notna(), ["rid", field]]
        i = imp.loc[imp[field].notna(), ["rid", field]]
        if len(e) == 0 or len(i) == 0:
            return pd.DataFrame()
        m = e.merge(i, on=field, suffixes=("_e", "_i"))[["rid_e", "rid_i"]]
    if len(m) == 0:
        return pd.DataFrame()
    re_, ri = m["rid_e"].to_numpy(), m["rid_i"].to_numpy()

    def at(col: str, rows: np.ndarray) -> pd.Series:
        return d[col].iloc[rows].reset_index(drop=True)

    keep = (at("rc", re_) != at("rc", ri)).fillna(False).to_numpy()
    days = (at("date", ri) - at("date", re_)).dt.days
    keep = keep & ((days >= -early_days) & (days <= window_days)).fillna(False).to_numpy()
    if match_hs:
        n = 4 if match_hs == "hs4" else 6
        a, b = at("hs6", re_).str.slice(0, n), at("hs6", ri).str.slice(0, n)
        keep = keep & ((a == b) | a.isna() | b.isna()).fillna(True).to_numpy()
    if match_parties:
        for p in ("exporter_id", "importer_id"):
            a, b = at(p, re_), at(p, ri)
            keep = keep & ((a == b) | a.isna() | b.isna()).fillna(True).to_numpy()
    re_, ri = re_[keep], ri[keep]
    days = days.to_numpy()[keep]
    # ranking among candidates: same item number, then closest dates, then closest masses
    # (never the closest value: that would hide the discrepancies being looked for)
    item = d["item_no"].to_numpy()
    mass = d["mass"].to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        mratio = np.abs(np.log(mass[ri] / mass[re_]))
    return pd.DataFrame({
        "rid_e": re_, "rid_i": ri, "days": days.astype("int64"), "match_on": field,
        "_same_item": (item[re_] != item[ri]).astype(int), "_gap": np.abs(days),
        "_mass": np.nan_to_num(mratio, nan=10.0, posinf=10.0),
    })


def _one_to_one(c: pd.DataFrame) -> pd.DataFrame:
    """Greedy one-to-one matching of ranked candidates (each export and import used once)."""
    c = c.sort_values(["_same_item", "_gap", "_mass", "rid_e", "rid_i"], kind="mergesort")
    taken: list[pd.DataFrame] = []
    while len(c):
        best = c.drop_duplicates("rid_e").drop_duplicates("rid_i")
        taken.append(best)
        c = c[~c["rid_e"].isin(best["rid_e"].to_numpy()) & ~c["rid_i"].isin(best["rid_i"].to_numpy())]
    return pd.concat(taken) if taken else c


_PAIR_CACHE: "weakref.WeakKeyDictionary[Tables, dict]" = weakref.WeakKeyDictionary()


def pair_declarations(
    tables: Tables,
    *,
    window_days: int = 60,
    early_days: int = 3,
    match_on: Sequence[str] = ("transport_doc_no", "invoice_no", "container_ids"),
    match_hs: str | None = "hs6",
    match_parties: bool = True,
) -> pd.DataFrame:
    """Pair export declarations with the import declarations of the same shipment.

    Parameters
    ----------
    tables : Tables
        Reads ``Declaration``.
    window_days : int, default 60
        The import may be declared up to this many days after the export.
    early_days : int, default 3
        ... or up to this many days before it (declarations filed ahead of arrival, clocks).
    match_on : sequence of str, default ("transport_doc_no", "invoice_no", "container_ids")
        Shared identifiers tried in order; an export paired on one is not tried on the next.
        ``container_ids`` pairs declarations sharing any container.
    match_hs : {"hs6", "hs4", None}, default "hs6"
        Goods must agree on this code where both declarations have one.
    match_parties : bool, default True
        Exporter ids and importer ids must be equal where both declarations give them.

    Returns
    -------
    pandas.DataFrame
        One row per pair (each declaration in at most one pair): ``export_key, import_key,
        match_on, export_country, import_country`` (the reporting countries), dates, ``days``,
        ``hs6``, parties, ``export_value_usd, import_value_usd, value_ratio`` (import/export),
        ``value_gap_usd`` (import - export), net masses and ``mass_diff`` (``|a-b|/max(a,b)``),
        quantities and ``quantity_diff`` (when both give the same unit). The result is cached
        per ``Tables`` and parameters (treat it as read-only).

    Notes
    -----
    Only pairs in different reporting countries are made. Among several candidates an export
    prefers the same item number, then the closest dates, then the closest net mass. Cost:
    hash joins on each identifier plus a greedy matching, O(n log n) for unique identifiers;
    a few seconds per million declarations.
    """
    for field in match_on:
        if field not in ("transport_doc_no", "invoice_no", "container_ids"):
            raise ValueError(f"cannot match on {field!r}")
    ckey = (int(window_days), int(early_days), tuple(match_on), match_hs, bool(match_parties))
    try:
        cache = _PAIR_CACHE.setdefault(tables, {})
    except TypeError:
        cache = {}
    if ckey not in cache:
        cache[ckey] = _pair(tables, window_days=window_days, early_days=early_days, match_on=match_on,
                            match_hs=match_hs, match_parties=match_parties)
    return cache[ckey]


def _pair(tables: Tables, *, window_days: int, early_days: int, match_on: Sequence[str],
          match_hs: str | None, match_parties: bool) -> pd.DataFrame:
    d = _prepare(tables)
    if len(d) == 0:
        return pd.DataFrame(columns=PAIR_COLUMNS)
    flow = d["flow"]
    is_exp = (flow == "EXPORT").fillna(False).to_numpy()
    is_imp = (flow == "IMPORT").fillna(False).to_numpy()
    done = np.zeros(len(d), dtype=bool)
    chosen: list[pd.DataFrame] = []
    for field in match_on:
        exp = d[is_exp & ~done]
        imp = d[is_imp & ~done]
        c = _candidates(d, exp, imp, field, window_days=window_days, early_days=early_days,
                        match_hs=match_hs, match_parties=match_parties)
        if len(c) == 0:
            continue
        best = _one_to_one(c)
        chosen.append(best)
        done[best["rid_e"].to_numpy()] = True
        done[best["rid_i"].to_numpy()] = True
    if not chosen:
        return pd.DataFrame(columns=PAIR_COLUMNS)
    p = pd.concat(chosen, ignore_index=True)
    full_e = d.iloc[p["rid_e"].to_numpy()].reset_index(drop=True)
    full_i = d.iloc[p["rid_i"].to_numpy()].reset_index(drop=True)
    ve, vi = full_e["value_usd"], full_i["value_usd"]
    me, mi = full_e["mass"], full_i["mass"]
    same_unit = (full_e["qunit"] == full_i["qunit"]).fillna(False)
    qe, qi = full_e["qty"].where(same_unit), full_i["qty"].where(same_unit)
    mmax, qmax = np.maximum(me, mi), np.maximum(qe, qi)
    out = pd.DataFrame({
        "export_key": full_e["key"].to_numpy(),
        "import_key": full_i["key"].to_numpy(),
        "match_on": p["match_on"].to_numpy(),
        "export_country": full_e["rc"].to_numpy(),
        "import_country": full_i["rc"].to_numpy(),
        "export_date": full_e["date"].dt.strftime("%Y-%m-%d").to_numpy(),
        "import_date": full_i["date"].dt.strftime("%Y-%m-%d").to_numpy(),
        "days": p["days"].astype("int64").to_numpy(),
        "hs6": full_e["hs6"].fillna(full_i["hs6"]).to_numpy(),
        "exporter_id": full_e["exporter_id"].fillna(full_i["exporter_id"]).to_numpy(),
        "importer_id": full_i["importer_id"].fillna(full_e["importer_id"]).to_numpy(),
        "export_value_usd": ve.to_numpy(),
        "import_value_usd": vi.to_numpy(),
        "value_ratio": (vi / ve.where(ve > 0)).to_numpy(),
        "value_gap_usd": (vi - ve).to_numpy(),
        "export_mass_kg": me.to_numpy(),
        "import_mass_kg": mi.to_numpy(),
        "mass_diff": ((me - mi).abs() / mmax.where(mmax > 0)).to_numpy(),
        "export_quantity": qe.to_numpy(),
        "import_quantity": qi.to_numpy(),
        "quantity_unit": full_e["qunit"].where(same_unit).to_numpy(),
        "quantity_diff": ((qe - qi).abs() / qmax.where(qmax > 0)).to_numpy(),
    })
    return out.sort_values(["export_key", "import_key"], ignore_index=True)


def _pair_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: params[k] for k in PAIR_DEFAULTS if k in params}


@register("mirror_discrepancy", defaults=dict(DEFAULTS))
def detect_mirror_discrepancy(tables: Tables, **params: Any) -> list[Alert]:
    """Export and import declarations of one shipment whose values or quantities disagree.

    Meaning: the exporting administration saw one value (FOB) or quantity and the importing one
    another. An import value well below the export value hides value from the importing
    country's duty and tax (under-invoicing); one far above it moves money out of the
    importing country (over-invoicing); different masses mean goods appeared or vanished.

    Parameters
    ----------
    tables : Tables
        Reads ``Declaration``.
    window_days, early_days, match_on, match_hs, match_parties
        Pairing, as in :func:`pair_declarations` (defaults 60, 3, transport document ->
        invoice -> containers, ``"hs6"``, True).
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
                f"{row['export_value_usd']:,.0f} USD (normal margin {lo:g}-{hi:g}, gap {row['value_gap_usd']:+,.0f} USD)")
        if qty_bad[idx]:
            if mdiff.iloc[idx] > mlim:
                parts.append(f"net mass {row['export_mass_kg']:,.0f} kg exported vs {row['import_mass_kg']:,.0f} kg imported")
            else:
                parts.append(f"quantity {row['export_quantity']:,.0f} vs {row['import_quantity']:,.0f} {row['quantity_unit']}")
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
    d = _prepare(tables)
    if len(d) == 0:
        return pd.DataFrame(columns=cols)
    pairs = pair_declarations(tables, **_pair_params(p))
    decl = tables.nodes("Declaration")
    d = d.assign(importer_country=_text(_col(decl, "importer_country")).to_numpy(),
                 exporter_country=_text(_col(decl, "exporter_country")).to_numpy())
    exp = d[(d["flow"] == "EXPORT").fillna(False).to_numpy()]
    imp = d[(d["flow"] == "IMPORT").fillna(False).to_numpy()]
    # object dtype: hash-table lookups (arrow-backed string isin is slow on large value sets)
    ek, ik = exp["key"].astype(object), imp["key"].astype(object)
    partner_e = pd.Series(pairs["import_country"].to_numpy(), index=pairs["export_key"].astype(object).to_numpy())
    partner_i = pd.Series(pairs["export_country"].to_numpy(), index=pairs["import_key"].astype(object).to_numpy())
    exp = exp.assign(export_country=exp["rc"],
                     import_country=ek.map(partner_e).fillna(exp["destination_country"])
                     .fillna(exp["importer_country"]).fillna("??"),
                     matched=ek.isin(partner_e.index))
    imp = imp.assign(import_country=imp["rc"],
                     export_country=ik.map(partner_i).fillna(imp["dispatch_country"])
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

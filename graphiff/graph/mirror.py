"""Mirror pairs: the export declaration of a shipment in one administration and the import
declaration of the same shipment in the partner administration.

:func:`pair_declarations` is the one definition of mirror pairs, used by the mirror
discrepancy detector, the mirror report and the valuation detectors (which report a flagged
pair once). It is not the shipment grouping of :func:`graphiff.graph.features.trade_edges`,
which merges declarations on exact ``(exporter, importer, HS6, document)`` keys without a date
window (see there).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from graphiff.graph.columns import col, iso_dates, num, text, upper_text
from graphiff.graph.tables import Tables

PAIR_DEFAULTS: dict[str, Any] = {
    "window_days": 60,
    "early_days": 3,
    "late_days": 120,
    "match_on": ("transport_doc_no", "invoice_no", "container_ids", "parties"),
    "match_hs": "hs6",
    "match_parties": True,
}

PAIR_COLUMNS = [
    "export_key", "import_key", "match_on", "export_country", "import_country",
    "export_date", "import_date", "days", "hs6", "exporter_id", "importer_id",
    "export_value_usd", "import_value_usd", "value_ratio", "value_gap_usd",
    "export_mass_kg", "import_mass_kg", "mass_diff", "export_quantity", "import_quantity",
    "quantity_unit", "quantity_diff",
]


def fold_document_no(s: pd.Series) -> pd.Series:
    """Document numbers compared loosely: upper case, letters and digits only."""
    v = upper_text(s).str.replace(r"[^0-9A-Z]", "", regex=True)
    return v.mask(v == "")


def explode_containers(rid: np.ndarray, raw: pd.Series) -> pd.DataFrame:
    """``(rid, container)`` rows: the store keeps container ids ``;``-joined (lists tolerated)."""
    if raw.dtype == object and raw.map(lambda v: isinstance(v, (list, tuple, np.ndarray))).any():
        raw = raw.map(lambda v: ";".join(map(str, v)) if isinstance(v, (list, tuple, np.ndarray)) else v)
    parts = upper_text(raw).str.replace(",", ";", regex=False).str.split(";")
    e = pd.DataFrame({"rid": rid, "c": parts.to_numpy()}).explode("c")
    e["c"] = upper_text(e["c"].astype("string"))
    return e.dropna(subset=["c"])


def mirror_declarations(tables: Tables) -> pd.DataFrame:
    """The declaration columns mirror pairing reads, cleaned: one row per ``Declaration`` in
    table order, ``rid`` (row number), ``key``, ``did`` (declaration id), ``item_no`` (1 when missing), ``flow``, ``rc``
    (reporting country), ``date`` (datetime), ``hs6``, parties, destination/dispatch/origin
    countries, ``value_usd`` (missing when unconvertible), ``mass``, ``qty``, ``qunit``,
    ``transport_doc_no``, ``invoice_no``, ``container_ids``. Computed once per ``Tables``
    (treat it as read-only). Cost: O(n).
    """
    return tables.memo(("graph.mirror", "declarations"), lambda: _mirror_declarations(tables))


def _mirror_declarations(tables: Tables) -> pd.DataFrame:
    decl = tables.nodes("Declaration")
    if decl is None or len(decl) == 0:
        return pd.DataFrame()
    hs6 = upper_text(col(decl, "hs6"))
    if hs6.isna().all():
        hs6 = upper_text(col(decl, "hs_code"))
    hs6 = hs6.str.replace(r"\D", "", regex=True).str.slice(0, 6)
    value = num(col(decl, "value_usd")).mask(
        text(col(decl, "usd_status")).str.lower() == "unconvertible")
    item = pd.to_numeric(col(decl, "item_no"), errors="coerce")
    key = col(decl, "key").astype("string")
    out = pd.DataFrame({
        "key": key,
        "did": text(col(decl, "declaration_id")).fillna(key.str.replace(r"/[^/]*$", "", regex=True)),
        "item_no": item.fillna(1).astype("int64"),
        "flow": upper_text(col(decl, "flow")),
        "rc": upper_text(col(decl, "reporting_country")),
        "date": iso_dates(col(decl, "date")),
        "hs6": hs6.mask(hs6 == ""),
        "exporter_id": text(col(decl, "exporter_id")),
        "importer_id": text(col(decl, "importer_id")),
        "destination_country": upper_text(col(decl, "destination_country")),
        "dispatch_country": upper_text(col(decl, "dispatch_country")),
        "origin_country": upper_text(col(decl, "origin_country")),
        "value_usd": value,
        "mass": num(col(decl, "net_mass_kg")),
        "qty": num(col(decl, "quantity")),
        "qunit": upper_text(col(decl, "quantity_unit")),
        "transport_doc_no": fold_document_no(col(decl, "transport_doc_no")),
        "invoice_no": fold_document_no(col(decl, "invoice_no")),
        "container_ids": col(decl, "container_ids"),
    }).reset_index(drop=True)
    out.insert(0, "rid", np.arange(len(out), dtype="int64"))
    return out


def _candidates(d: pd.DataFrame, exp: pd.DataFrame, imp: pd.DataFrame, field: str, *, window_days: int,
                early_days: int, match_hs: str | None, match_parties: bool, late_days: int = 0) -> pd.DataFrame:
    reused = None
    if field == "container_ids":
        e = explode_containers(exp["rid"].to_numpy(), exp["container_ids"])
        i = explode_containers(imp["rid"].to_numpy(), imp["container_ids"])
        if len(e) == 0 or len(i) == 0:
            return pd.DataFrame()
        m = e.merge(i, on="c", suffixes=("_e", "_i"))[["rid_e", "rid_i"]].drop_duplicates()
    elif field == "parties":
        cols = ["rid", "exporter_id", "importer_id"]
        e = exp.loc[exp["exporter_id"].notna() & exp["importer_id"].notna(), cols]
        i = imp.loc[imp["exporter_id"].notna() & imp["importer_id"].notna(), cols]
        if len(e) == 0 or len(i) == 0:
            return pd.DataFrame()
        m = e.merge(i, on=["exporter_id", "importer_id"], suffixes=("_e", "_i"))[["rid_e", "rid_i"]]
    else:
        e = exp.loc[exp[field].notna(), ["rid", "did", field]]
        i = imp.loc[imp[field].notna(), ["rid", "did", field]]
        if len(e) == 0 or len(i) == 0:
            return pd.DataFrame()
        m = e.merge(i, on=field, suffixes=("_e", "_i"))
        if field == "invoice_no" and len(m):
            # an invoice number on several shipments (reused numbering, or one number for
            # unrelated invoices) pairs nothing by itself: the parties must say the same
            n_e = m.groupby(field)["did_e"].transform("nunique")
            n_i = m.groupby(field)["did_i"].transform("nunique")
            reused = ((n_e > 1) | (n_i > 1)).to_numpy()
        m = m[["rid_e", "rid_i"]]
    if len(m) == 0:
        return pd.DataFrame()
    re_, ri = m["rid_e"].to_numpy(), m["rid_i"].to_numpy()

    def at(col: str, rows: np.ndarray) -> pd.Series:
        return d[col].iloc[rows].reset_index(drop=True)

    keep = (at("rc", re_) != at("rc", ri)).fillna(False).to_numpy()
    days = (at("date", ri) - at("date", re_)).dt.days
    window = days <= window_days
    if late_days > window_days and field != "parties":
        # a late filing: one transport document and one invoice number for the same exporter
        # and importer identify the shipment however late the import is declared
        same = np.ones(len(re_), dtype=bool)
        for k in ("transport_doc_no", "invoice_no", "exporter_id", "importer_id"):
            same &= (at(k, re_) == at(k, ri)).fillna(False).to_numpy()
        window = window | (same & (days <= late_days))
    keep = keep & ((days >= -early_days) & window).fillna(False).to_numpy()
    if match_hs:
        n = 4 if match_hs == "hs4" else 6
        a, b = at("hs6", re_).str.slice(0, n), at("hs6", ri).str.slice(0, n)
        # on the parties alone, the goods must be named on both sides and agree
        keep = keep & ((a == b) | ((a.isna() | b.isna()) & (field != "parties"))).fillna(False).to_numpy()
    if match_parties:
        agree = np.zeros(len(keep), dtype=bool)
        for p in ("exporter_id", "importer_id"):
            a, b = at(p, re_), at(p, ri)
            keep = keep & ((a == b) | a.isna() | b.isna()).fillna(True).to_numpy()
            agree |= (a == b).fillna(False).to_numpy()
        if reused is not None:
            keep = keep & (~reused | agree)
    elif reused is not None:
        keep = keep & ~reused
    re_, ri = re_[keep], ri[keep]
    days = days.to_numpy()[keep]
    # ranking among candidates: same item number, then closest dates, then closest masses
    # (never the closest value: that would hide the discrepancies being looked for)
    item = d["item_no"].to_numpy()
    mass = d["mass"].to_numpy(dtype="float64")
    qty = d["qty"].to_numpy(dtype="float64")
    qunit = d["qunit"].to_numpy(dtype=object, na_value=None)
    with np.errstate(divide="ignore", invalid="ignore"):
        mratio = np.abs(np.log(mass[ri] / mass[re_]))
        # where a net mass is missing, the quantities in one unit tell the same
        qratio = np.abs(np.log(qty[ri] / qty[re_]))
    same_unit = np.array([a is not None and a == b for a, b in zip(qunit[re_], qunit[ri])], dtype=bool)
    mratio = np.where(np.isfinite(mratio), mratio, np.where(same_unit, qratio, np.nan))
    return pd.DataFrame({
        "rid_e": re_, "rid_i": ri, "days": days.astype("int64"), "match_on": field,
        "_same_item": (item[re_] != item[ri]).astype(int), "_gap": np.abs(days),
        "_mass": np.nan_to_num(mratio, nan=10.0, posinf=10.0),
    })


def _unambiguous(c: pd.DataFrame, mass_tol: float = 0.02) -> pd.DataFrame:
    """Candidates paired on the parties and goods alone: with no shared document, only the
    goods themselves say it is one shipment - the net masses (else the quantities in one
    unit) agree within ``mass_tol`` (log ratio) - and only when no other candidate of the
    export or of the import does so too."""
    cc = c[c["_mass"] < mass_tol]
    k_e = cc.groupby("rid_e")["rid_i"].transform("size")
    k_i = cc.groupby("rid_i")["rid_e"].transform("size")
    return cc[((k_e == 1) & (k_i == 1)).to_numpy()]


def _one_to_one(c: pd.DataFrame) -> pd.DataFrame:
    """Greedy one-to-one matching of ranked candidates (each export and import used once)."""
    c = c.sort_values(["_same_item", "_gap", "_mass", "rid_e", "rid_i"], kind="mergesort")
    taken: list[pd.DataFrame] = []
    while len(c):
        best = c.drop_duplicates("rid_e").drop_duplicates("rid_i")
        taken.append(best)
        c = c[~c["rid_e"].isin(best["rid_e"].to_numpy()) & ~c["rid_i"].isin(best["rid_i"].to_numpy())]
    return pd.concat(taken) if taken else c


def pair_declarations(
    tables: Tables,
    *,
    window_days: int = 60,
    early_days: int = 3,
    late_days: int = 120,
    match_on: Sequence[str] = ("transport_doc_no", "invoice_no", "container_ids", "parties"),
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
    late_days : int, default 120
        ... and up to this many days after it when the two declarations name the same
        transport document and the same invoice number, and the same exporter and importer
        ids: a declaration filed weeks late is still the partner's of the same shipment when
        all four agree (one key alone keeps to ``window_days``).
    match_on : sequence of str, default ("transport_doc_no", "invoice_no", "container_ids", "parties")
        Shared keys tried in order; an export paired on one is not tried on the next. Document
        and invoice numbers are compared in upper case, letters and digits only;
        ``container_ids`` pairs declarations sharing any container. An invoice number found
        on several declarations of one side (reused numbering) pairs only where an exporter
        or importer id is given on both declarations and equal. ``parties`` pairs what is
        left on the exporter and importer ids (both given on both sides) and the goods (named
        on both sides and equal) when the net masses (else the quantities in one unit) agree
        within 2 % and no other candidate of either declaration's does: with no shared
        document, the goods themselves identify the shipment (so such a pair can only show
        a value discrepancy).
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
        if field not in ("transport_doc_no", "invoice_no", "container_ids", "parties"):
            raise ValueError(f"cannot match on {field!r}")
    ckey = ("graph.mirror", "pairs", int(window_days), int(early_days), int(late_days), tuple(match_on), match_hs,
            bool(match_parties))
    return tables.memo(ckey, lambda: _pair(tables, window_days=window_days, early_days=early_days,
                                           late_days=late_days, match_on=match_on, match_hs=match_hs,
                                           match_parties=match_parties))


def _pair(tables: Tables, *, window_days: int, early_days: int, match_on: Sequence[str],
          match_hs: str | None, match_parties: bool, late_days: int = 0) -> pd.DataFrame:
    d = mirror_declarations(tables)
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
                        match_hs=match_hs, match_parties=match_parties, late_days=late_days)
        if len(c) and field == "parties":
            c = _unambiguous(c)
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

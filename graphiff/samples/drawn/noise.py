"""Noise over a drawn world: missing optional fields, late filings, rounded values, reused
invoice numbers, typos and case changes in names, and a few rows the loader quarantines.

The rates are drawn per world (:func:`draw`). Planted records get only the noise that leaves
their typology's signal intact (names, descriptions, rounding small against the value);
records whose values are the signal (``protected``) keep their values and quantities.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

#: how a quarantined row is broken (column, bad value) per file kind
BREAKS = {
    "declarations": [("date", "2024-02-30"), ("currency", "US$"), ("hs_code", "84A1"), ("invoice_value", "n/a"),
                     ("flow", "TRANSIT")],
    "payments": [("date", "31/13/2024"), ("amount", "-"), ("currency", "XXX1")],
}


def draw(rng: np.random.Generator) -> dict[str, Any]:
    """The noise rates of one world."""
    return {
        "missing": round(float(rng.uniform(0.0, 0.08)), 4),
        "late_filing": round(float(rng.uniform(0.0, 0.1)), 4),
        "late_days": [20, int(rng.integers(40, 150))],
        "rounded": round(float(rng.uniform(0.0, 0.3)), 4),
        "reused_invoice": round(float(rng.uniform(0.0, 0.02)), 4),
        "typo": round(float(rng.uniform(0.0, 0.05)), 4),
        "case": round(float(rng.uniform(0.0, 0.1)), 4),
        "quarantine": round(float(rng.uniform(0.0005, 0.003)), 5),
    }


def typo(rng: np.random.Generator, name: str) -> str:
    """One slip of the keyboard: two letters swapped, one dropped or doubled."""
    if len(name) < 4:
        return name
    i = int(rng.integers(1, len(name) - 2))
    how = int(rng.integers(0, 3))
    if how == 0:
        return name[:i] + name[i + 1] + name[i] + name[i + 2:]
    if how == 1:
        return name[:i] + name[i + 1:]
    return name[:i] + name[i] + name[i:]


def recase(rng: np.random.Generator, name: str) -> str:
    how = int(rng.integers(0, 3))
    return name.upper() if how == 0 else name.lower() if how == 1 else name.title()


def _names(df: pd.DataFrame, rng: np.random.Generator, kn: dict, columns: list[str]) -> None:
    for col in columns:
        if col not in df.columns or not len(df):
            continue
        vals = df[col].to_numpy(dtype=object).copy()
        u = rng.random(len(df))
        for i in np.flatnonzero(u < kn["typo"] + kn["case"]):
            if isinstance(vals[i], str):
                vals[i] = typo(rng, vals[i]) if u[i] < kn["typo"] else recase(rng, vals[i])
        df[col] = vals


def _blank(df: pd.DataFrame, rng: np.random.Generator, share: float, columns: list[str],
           mask: np.ndarray | None = None) -> None:
    for col in columns:
        m = rng.random(len(df)) < share
        if mask is not None:
            m &= mask
        if m.any():
            df[col] = df[col].astype(object)
            df.loc[m, col] = ""


def _round_values(df: pd.DataFrame, rng: np.random.Generator, share: float, column: str,
                  mask: np.ndarray | None = None) -> None:
    v = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
    unit = np.array([10.0, 100.0, 1000.0])[rng.integers(0, 3, len(df))]
    m = (rng.random(len(df)) < share) & np.isfinite(v) & (v >= 100 * unit)  # off by at most 0.5 %
    if mask is not None:
        m &= mask
    if m.any():
        out = df[column].astype(object).to_numpy().copy()
        out[m] = np.round(v[m] / unit[m]) * unit[m]
        df[column] = out


def _quarantine(df: pd.DataFrame, rng: np.random.Generator, share: float, kind: str, counts: dict) -> None:
    m = np.flatnonzero(rng.random(len(df)) < share)
    for i in m:
        col, bad = BREAKS[kind][int(rng.integers(0, len(BREAKS[kind])))]
        df[col] = df[col].astype(object)
        df.iat[i, df.columns.get_loc(col)] = bad
        counts[f"{kind}.{col}"] = counts.get(f"{kind}.{col}", 0) + 1


def declarations(df: pd.DataFrame, rng: np.random.Generator, kn: dict, *, planted: bool, protected: set[str],
                 counts: dict) -> pd.DataFrame:
    """Noise over declaration rows (background chunk or the planted rows); ``counts`` gathers
    the rows broken for the quarantine (``kind.column -> n``)."""
    if not len(df):
        return df
    df = df.copy()
    free = ~df["declaration_id"].isin(protected).to_numpy()
    _names(df, rng, kn, ["exporter_name", "importer_name", "carrier_name"])
    _blank(df, rng, kn["missing"], ["description", "office", "value_usd"])
    _round_values(df, rng, kn["rounded"], "invoice_value", free)
    if planted:
        return df
    _blank(df, rng, kn["missing"], ["quantity", "net_mass_kg", "conveyance_id", "transport_doc_no", "declarant_id"])
    late = (df["flow"].to_numpy() == "IMPORT") & (rng.random(len(df)) < kn["late_filing"])
    if late.any():
        lo, hi = kn["late_days"]
        d = pd.to_datetime(df.loc[late, "date"]) + pd.to_timedelta(rng.integers(lo, hi, int(late.sum())), unit="D")
        df.loc[late, "date"] = d.dt.strftime("%Y-%m-%d").to_numpy()
    reuse = np.flatnonzero(rng.random(len(df)) < kn["reused_invoice"])
    if len(reuse):
        inv = df["invoice_no"].to_numpy(dtype=object).copy()
        inv[reuse] = inv[rng.integers(0, len(df), len(reuse))]
        df["invoice_no"] = inv
    _quarantine(df, rng, kn["quarantine"], "declarations", counts)
    return df


def payments(df: pd.DataFrame, rng: np.random.Generator, kn: dict, *, planted: bool, counts: dict) -> pd.DataFrame:
    """Noise over payment rows: missing references, rounded background amounts, broken rows."""
    if not len(df):
        return df
    df = df.copy()
    _blank(df, rng, kn["missing"], ["reference"])
    if planted:
        return df
    _round_values(df, rng, kn["rounded"], "amount")
    _blank(df, rng, kn["missing"], ["invoice_no", "declaration_id"])
    _quarantine(df, rng, kn["quarantine"], "payments", counts)
    return df


def traders(df: pd.DataFrame, rng: np.random.Generator, kn: dict) -> pd.DataFrame:
    """Missing contact details and tax ids, typos in names: background traders only (a planted
    trader's address, phone, staff and registration are its typology's evidence)."""
    df = df.copy()
    bg = (df["_tier"].to_numpy() >= 0) if "_tier" in df.columns else np.ones(len(df), dtype=bool)
    _blank(df, rng, kn["missing"], ["tin", "phone", "email", "postcode", "activity_code"], bg)
    sub = df[bg].copy()
    _names(sub, rng, kn, ["name"])
    df.loc[bg, "name"] = sub["name"].to_numpy()
    return df

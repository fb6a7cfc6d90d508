"""Validation of input rows against the file contract (files.yaml): required values, value
kinds (graphiff.model.values), account ids and the checks across columns of one kind."""
from __future__ import annotations

import numpy as np
import pandas as pd

from graphiff.model import FileKind
from graphiff.model import values as nz

ERROR_COLUMNS = ["row", "column", "value", "reason"]


def validate(kind: FileKind, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Normalise ``frame`` (rows of one file kind) and find its errors.

    Returns the normalised frame (same rows) and the errors, one row per problem: ``row``
    (position in ``frame``), ``column``, ``value`` (as read) and ``reason`` (the quarantine
    reason). Cost: a few vectorised passes per column.
    """
    errors: list[pd.DataFrame] = []
    out = frame.copy()

    def err(mask: pd.Series, column: str, reason: str) -> None:
        if mask.any():
            idx = np.flatnonzero(mask.to_numpy())
            errors.append(pd.DataFrame({"row": idx, "column": column,
                                        "value": frame[column].iloc[idx].to_numpy() if column in frame else "",
                                        "reason": reason}))

    for c in kind.required:
        blank = out[c].isna() | (out[c].astype("string").str.strip() == "")
        err(blank, c, "missing required value")
    for c, t in kind.types.items():
        if c in out.columns:
            check, reason = nz.checker(t)
            values, bad = check(out[c])
            err(bad, c, reason)
            out[c] = values
    for c in out.columns:
        if c not in kind.types and not pd.api.types.is_numeric_dtype(out[c]):
            text = out[c].astype(nz.TEXT).str.strip()
            out[c] = text.where(text != "")
    for c in ("account_id", "from_account", "to_account"):
        if c in out.columns and (kind.name in ("accounts", "payments") or c == "account_id"):
            acc = nz.normalise_account(out[c].fillna(""))
            out[c] = acc.where(acc != "")
            err(nz.check_iban(out[c]), c, nz.REASONS["iban"])
    if kind.name == "declarations":
        ex = out.get("exporter_id", pd.Series(None, index=out.index))
        im = out.get("importer_id", pd.Series(None, index=out.index))
        err(ex.isna() & im.isna(), "exporter_id", "declaration names neither exporter_id nor importer_id")
    if kind.name == "rates":
        month = out.get("month", pd.Series(None, index=out.index, dtype=object))
        if "date" in out.columns:
            month = month.where(month.notna(), out["date"].astype("string").str.slice(0, 7))
        err(month.isna() & (out.get("date", pd.Series(None, index=out.index)).isna()), "month",
            "missing required value")
        out["month"] = month
    errs = pd.concat(errors, ignore_index=True) if errors else pd.DataFrame(columns=ERROR_COLUMNS)
    return out, errs

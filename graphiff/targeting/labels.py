"""What targeting learns from: a 0/1 label per declaration, NaN where nobody knows.

Two sources:

- a **declaration property** holding the results of past inspections (``fraud`` in the KCS
  data): 1 / 0 (also ``true`` / ``false``, ``yes`` / ``no``), empty where the declaration was
  not inspected (:func:`column_labels`);
- the **analysts' triage decisions** in the case book (:func:`triage_labels`): an alert
  ``escalated`` (passed on for action) makes the declarations it names positives, one
  ``dismissed`` or ``false_positive`` makes them negatives; a declaration named by both is a
  positive.
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pandas as pd

from graphiff.alerts import evidence_strings
from graphiff.casework.triage import DECISIONS
from graphiff.errors import GraphiffError
from graphiff.stores.book import Book

__all__ = ["TRIAGE", "POSITIVE", "column_labels", "triage_labels"]

#: The ``--labels`` value that takes the labels from the analysts' triage decisions.
TRIAGE = "triage"
#: The triage status that marks an alert's declarations as positives.
POSITIVE = "escalated"

_TRUE = {"1", "1.0", "true", "yes", "y", "t"}
_FALSE = {"0", "0.0", "false", "no", "n", "f"}
#: the columns ingest and targeting set themselves: never labels
_NOT_LABELS = {"key", "target_score", "target_reasons"}


def column_labels(decl: pd.DataFrame, column: str) -> pd.Series:
    """The 0/1 labels of declaration property ``column`` (float: 1.0, 0.0, NaN when empty).

    Raises :class:`GraphiffError` when no declaration has the property (naming the properties
    there are) or when a value is not a 0/1 answer (naming it).

    >>> column_labels(pd.DataFrame({"key": ["a", "b", "c"], "fraud": ["1", "0", None]}), "fraud").tolist()
    [1.0, 0.0, nan]
    """
    if column not in decl.columns or column in _NOT_LABELS or column.startswith("_"):
        props = sorted(c for c in decl.columns if not c.startswith("_") and c not in _NOT_LABELS)
        raise GraphiffError(f"--labels {column}: no declaration has a property {column!r}; the declarations' "
                            f"properties are: {', '.join(props) or 'none (no declarations loaded)'}; or use "
                            f"--labels {TRIAGE} for the analysts' triage decisions")
    text = decl[column].astype("string").str.strip().str.lower()
    text = text.mask(text == "")
    y = pd.Series(np.nan, index=decl.index, dtype="float64")
    y[text.isin(_TRUE).fillna(False).to_numpy()] = 1.0
    y[text.isin(_FALSE).fillna(False).to_numpy()] = 0.0
    bad = text.notna() & y.isna()
    if bad.any():
        examples = ", ".join(repr(v) for v in pd.unique(text[bad])[:3])
        raise GraphiffError(f"--labels {column}: {int(bad.sum()):,} declaration(s) hold a value that is not a 0/1 "
                            f"answer ({examples}); a label is 1 / 0 (true / false, yes / no) or empty")
    return y


def _decided(book: Book) -> Iterable[tuple[dict[str, Any], float]]:
    """(alert as last found, label) of every alert an analyst escalated or dismissed."""
    docs = {d["id"]: d for d in book.docs("alert")}
    for t in book.docs("triage"):
        status = t.get("status")
        if status == POSITIVE:
            label = 1.0
        elif status in DECISIONS:
            label = 0.0
        else:
            continue
        alert = (docs.get(t["id"]) or {}).get("alert")
        if isinstance(alert, dict):
            yield alert, label


def triage_labels(decl: pd.DataFrame, book: Book) -> pd.Series:
    """Labels from the analysts' decisions (see the module's docstring), per row of ``decl``.

    An alert names declarations directly (an entity ``Declaration``, or a declaration key or
    id anywhere in its evidence); an alert that names none labels the declarations of the
    traders and carriers it names (as importer, seller, declarant or carrier) dated within
    its evidence's dates. Declarations no decided alert names stay NaN. Cost: two reads of the
    book, one pass over the declarations per decided alert that names no declaration.
    """
    y = pd.Series(np.nan, index=decl.index, dtype="float64")
    keys = decl["key"].astype(str)
    ids = decl["declaration_id"].astype(str) if "declaration_id" in decl.columns else keys
    parties = [c for c in ("importer_id", "exporter_id", "declarant_id", "carrier_id") if c in decl.columns]
    dates = decl["date"].astype("string").str.slice(0, 10) if "date" in decl.columns else None
    for alert, label in _decided(book):
        named = set(evidence_strings(alert.get("evidence")))
        named |= {str(e.get("id")) for e in alert.get("entities") or [] if e.get("label") == "Declaration"}
        rows = np.flatnonzero((keys.isin(named) | ids.isin(named)).to_numpy())
        if not len(rows):
            who = {str(e.get("id")) for e in alert.get("entities") or [] if e.get("label") in ("Trader", "Carrier")}
            if not who or not parties:
                continue
            mask = decl[parties].astype("string").isin(who).any(axis=1).to_numpy(dtype=bool, copy=True)
            found = sorted(v[:10] for v in named if len(v) >= 10 and v[:4].isdigit() and v[4:5] == "-")
            if found and dates is not None:
                mask &= ((dates >= found[0]) & (dates <= found[-1])).fillna(False).to_numpy(dtype=bool)
            rows = np.flatnonzero(mask)
        current = y.iloc[rows].to_numpy()
        y.iloc[rows] = np.where(np.isnan(current), label, np.fmax(current, label))
    return y

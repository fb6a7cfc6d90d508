"""Small column helpers shared by the detectors (tables may lack optional columns)."""
from __future__ import annotations

import pandas as pd


def col(df: pd.DataFrame, name: str) -> pd.Series:
    """``df[name]``, or an all-missing column when the table has no such column."""
    if name in df.columns:
        return df[name]
    return pd.Series(pd.NA, index=df.index, dtype="object")


def text(s: pd.Series, upper: bool = False) -> pd.Series:
    """Stripped text (upper-cased when asked); empty strings become missing."""
    t = s.astype("string").str.strip()
    if upper:
        t = t.str.upper()
    return t.mask(t == "")


def upper_text(s: pd.Series, upper: bool = True) -> pd.Series:
    """:func:`text`, upper-cased by default (codes, ids, document numbers)."""
    return text(s, upper)


def num(s: pd.Series) -> pd.Series:
    """Numbers as float64; anything else missing."""
    return pd.to_numeric(s, errors="coerce").astype("float64")

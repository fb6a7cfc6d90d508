"""Column helpers: reading the store's tables, whose optional columns may be absent.

Every feature and detector reads table columns through these functions, so a missing column,
a blank string or a non-numeric cell means the same everywhere. Two kinds of text column
exist, for two kinds of caller:

* :func:`text` (and :func:`upper_text`) give a pandas ``string`` column, missing = ``<NA>``:
  what vectorised joins and comparisons want;
* :func:`text_objects` gives an ``object`` column of Python ``str`` or ``None``: what code that
  builds dicts, tuples and JSON evidence from the values wants.

All functions are vectorised, O(n) in the column length.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def col(df: pd.DataFrame, name: str, default: Any = None) -> pd.Series:
    """``df[name]``, or a column of ``default`` (missing by default) when there is no such column.

    >>> col(pd.DataFrame({"a": [1, 2]}), "b").tolist()
    [None, None]
    """
    if name in df.columns:
        return df[name]
    return pd.Series([default] * len(df), index=df.index, dtype="object" if default is None else None)


def text(s: pd.Series, upper: bool = False) -> pd.Series:
    """Stripped text as a pandas ``string`` column (upper-cased when asked); blanks are ``<NA>``.

    >>> text(pd.Series([" ab ", "", None]), upper=True).tolist()
    ['AB', <NA>, <NA>]
    """
    t = s.astype("string").str.strip()
    if upper:
        t = t.str.upper()
    return t.mask(t == "")


def upper_text(s: pd.Series, upper: bool = True) -> pd.Series:
    """:func:`text`, upper-cased by default (codes, ids, document numbers)."""
    return text(s, upper)


def text_objects(s: pd.Series) -> pd.Series:
    """Stripped text as an ``object`` column of Python strings; missing values and blanks are
    ``None``.

    >>> text_objects(pd.Series([" ab ", "  ", None, 7])).tolist()
    ['ab', None, None, '7']
    """
    if isinstance(s.dtype, pd.StringDtype):
        st = s.str.strip()
        bad = (st.isna() | (st.str.len() == 0)).to_numpy(dtype=bool, na_value=True)
        arr = st.to_numpy(dtype=object, na_value=None)
    else:
        m = s.notna().to_numpy()
        arr = np.full(len(s), None, dtype=object)
        if m.any():
            arr[m] = s[m].astype(str).str.strip().to_numpy(dtype=object)
        bad = ~m
        bad[m] = np.array([len(x) == 0 for x in arr[m]], dtype=bool)
    arr[bad] = None
    return pd.Series(arr, index=s.index, dtype="object")


def num(s: pd.Series) -> pd.Series:
    """Numbers as float64; anything else (text, blanks, missing) is NaN.

    >>> num(pd.Series(["1.5", "x", None])).tolist()
    [1.5, nan, nan]
    """
    return pd.to_numeric(s, errors="coerce").astype("float64")


def day_numbers(dates: pd.Series) -> np.ndarray:
    """ISO date strings -> int64 day numbers since 1970-01-01 (missing dates -> ``INT64_MIN``).

    >>> day_numbers(pd.Series(["1970-01-02", "2024-02-01"])).tolist()
    [1, 19754]
    """
    dt = pd.to_datetime(dates, errors="coerce", format="mixed") if len(dates) else pd.to_datetime(dates)
    return dt.values.astype("datetime64[D]").astype("int64")


def iso_dates(s: pd.Series) -> pd.Series:
    """The first ten characters of each value read as ``YYYY-MM-DD`` (``NaT`` when not a date)."""
    return pd.to_datetime(s.astype("string").str.slice(0, 10), format="%Y-%m-%d", errors="coerce")


def hs_prefix(code: pd.Series, level: int) -> pd.Series:
    """The first ``level`` digits of HS codes (non-digits dropped), an ``object`` column;
    missing (``None`` or NaN) when there are none.

    >>> hs_prefix(pd.Series(["8517.12.00", None]), 4).tolist()
    ['8517', None]
    """
    s = text_objects(code)
    m = s.notna()
    if m.any():
        v = s[m].astype(str).str.replace(r"\D", "", regex=True).str[:level]
        v = v.astype(object)
        v[v == ""] = None
        s[m] = v
    return s


def fold_document(s: pd.Series) -> pd.Series:
    """Document numbers compared loosely: upper case, letters and digits only (``None`` when
    nothing is left).

    >>> fold_document(pd.Series(["bl-123 a", "--", None])).tolist()
    ['BL123A', None, None]
    """
    v = text_objects(s)
    m = v.notna()
    if m.any():
        v[m] = v[m].astype(str).str.upper().str.replace(r"[^0-9A-Z]", "", regex=True)
        v[m & (v.astype(str) == "")] = None
    return v


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``df`` as dicts (``to_dict("records")``), through Arrow: several times faster on
    the stores' Arrow-backed string columns. Missing values come back as None (or NaN), which
    :func:`graphiff.model.cells.plain_value` treats alike.

    >>> records(pd.DataFrame({"key": ["A", None], "n": [1.5, float("nan")]}))
    [{'key': 'A', 'n': 1.5}, {'key': None, 'n': None}]

    Cost: O(rows x columns), in C++ but for the Python objects made.
    """
    if not len(df) or not len(df.columns) or not df.columns.is_unique:
        return df.to_dict("records")
    import pyarrow as pa

    try:
        table = pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return df.to_dict("records")       # mixed objects Arrow cannot type: the pandas way
    return table.to_pylist()

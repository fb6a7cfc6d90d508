"""Values between pandas/Arrow and the Neo4j driver, typed as the embedded store types its
columns (so both stores hand back the same tables)."""
from __future__ import annotations

import math
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd
import pyarrow as pa

from graphiff.errors import StoreError

# ---- values: pandas -> Python (typed as the embedded store types its columns) -------------

def _is_null(v: Any) -> bool:
    return v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v))


def column_values(table: Any, column: str, incoming: str, target: str) -> list[Any]:
    """One column of the frame (as ``embedded.to_arrow`` types it) as plain Python values of the
    stored column's type (None for null), cast as DuckDB's ``CAST`` would cast them."""
    raw = table.column(column).to_pylist()
    if incoming == target:
        return raw
    try:
        conv = _CASTS[target]
        return [None if v is None else conv(v) for v in raw]
    except (ValueError, TypeError, OverflowError, KeyError):
        raise StoreError(f"column {column!r}: values do not fit the column's type {target}") from None


def props_of(names: list[str], values: Iterable[Any]) -> dict[str, Any]:
    """One row's property map without nulls (so a null never erases a stored value)."""
    return {c: v for c, v in zip(names, values) if v is not None}


def _to_str(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return str(v)


def _to_int(v: Any) -> int:
    if isinstance(v, str):
        v = v.strip()
        try:
            return int(v)
        except ValueError:
            v = float(v)
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return int(math.floor(abs(f) + 0.5)) * (1 if f >= 0 else -1)
    return int(v)


def _to_bool(v: Any) -> bool:
    if isinstance(v, str):
        t = v.strip().lower()
        if t in ("true", "t", "1", "yes", "y"):
            return True
        if t in ("false", "f", "0", "no", "n"):
            return False
        raise ValueError(v)
    return bool(v)


_CASTS: dict[str, Callable[[Any], Any]] = {"VARCHAR": _to_str, "DOUBLE": float, "BIGINT": _to_int, "BOOLEAN": _to_bool}


# ---- values: Neo4j -> pandas (the dtypes DuckDB gives for the same column type) ----------

def key_order(keys: list[Any]) -> list[int] | None:
    """Row order by key (code point order = DuckDB's binary VARCHAR order), or None when the
    keys already come in that order (as pages read in index order do)."""
    text = ["" if k is None else str(k) for k in keys]
    if all(a < b for a, b in zip(text, text[1:])):
        return None
    return sorted(range(len(text)), key=text.__getitem__)


_ARROW = {"DOUBLE": "float64", "BIGINT": "int64", "BOOLEAN": "bool_", "VARCHAR": "string"}


def arrow_column(values: list[Any], t: str) -> Any:
    """A column read from Neo4j with the dtype DuckDB gives a column of type ``t``: float64,
    int64 (Int64 with nulls), bool (boolean with nulls), str (object when all null)."""

    atype = getattr(pa, _ARROW[t])() if t in _ARROW else None
    if atype is None:
        out = np.empty(len(values), dtype=object)
        out[:] = [None] * len(values)
        return out
    try:
        arr = pa.array(values, type=atype, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):  # a value written by someone else
        conv = _CASTS[t]
        arr = pa.array([None if _is_null(v) else conv(v) for v in values], type=atype)
    if t == "DOUBLE":
        return arr.to_numpy(zero_copy_only=False).astype("float64", copy=False)
    if t == "BIGINT":
        return arr.to_numpy(zero_copy_only=False) if not arr.null_count else pd.Int64Dtype().__from_arrow__(arr)
    if t == "BOOLEAN":
        return arr.to_numpy(zero_copy_only=False) if not arr.null_count else pd.BooleanDtype().__from_arrow__(arr)
    if len(arr) and arr.null_count < len(arr):
        return pd.array(arr.to_pylist(), dtype="str")
    out = np.empty(len(values), dtype=object)
    out[:] = [None] * len(values)
    return out

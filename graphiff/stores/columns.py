"""Column typing shared by both stores: every property column gets one SQL-like type
(VARCHAR, DOUBLE, BIGINT, BOOLEAN) the same way, so both stores hand back identical tables."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa


def sql_type(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(s):
        return "BIGINT"
    if pd.api.types.is_float_dtype(s):
        return "DOUBLE"
    if pd.api.types.is_string_dtype(s) and s.dtype != object:
        return "VARCHAR"
    sample = s.dropna().iloc[:1000]
    if len(sample):
        kinds = {type(x) for x in sample}
        if kinds <= {bool, np.bool_}:
            return "BOOLEAN"
        if kinds <= {int, np.int64, np.int32}:
            return "BIGINT"
        if kinds <= {int, float, np.int64, np.int32, np.float64, np.float32}:
            return "DOUBLE"
    return "VARCHAR"


def to_arrow(df: pd.DataFrame, types: dict[str, str]) -> pa.Table:
    """The frame as an Arrow table with one plain type per column (what DuckDB scans fastest)."""
    arrays, names = [], []
    for c in df.columns:
        s = df[c]
        t = types[c]
        if t == "DOUBLE":
            arr = pa.array(pd.to_numeric(s, errors="coerce").astype("float64"), from_pandas=True)
        elif t == "BIGINT":
            arr = pa.array(pd.to_numeric(s, errors="coerce").astype("Int64"), type=pa.int64(), from_pandas=True)
        elif t == "BOOLEAN":
            arr = pa.array(s.astype("boolean"), type=pa.bool_(), from_pandas=True)
        else:
            try:
                arr = pa.array(s, type=pa.string(), from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                arr = pa.array(s.astype("string"), type=pa.string(), from_pandas=True)
        arrays.append(arr)
        names.append(str(c))
    return pa.Table.from_arrays(arrays, names=names)

"""The first input line of each key of one file: what tells a repeated key from its first row.

The keys live in a DuckDB table in a temporary file, not in Python: its memory is capped
(:data:`MEMORY_LIMIT`; the rest spills to disk), so a file of any length is checked in the same
memory.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

#: DuckDB's memory cap for the key table of one file.
MEMORY_LIMIT = "256MB"


class FirstLines:
    """The keys of one file seen so far, each with the line it was first seen at.

    Use as a context manager (or call :meth:`close`); the temporary file goes with it.

    >>> with FirstLines() as seen:
    ...     seen.first(np.array(["A", "B", "A"], dtype=object), np.array([2, 3, 4])).tolist()
    ...     seen.first(np.array(["B", "C"], dtype=object), np.array([5, 6])).tolist()
    [2, 3, 2]
    [3, 6]
    """

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="graphiff-keys-")
        folder = Path(self._dir.name)
        self._con = duckdb.connect(str(folder / "keys.duckdb"),
                                   config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(folder / "spill")})
        self._con.execute("SET enable_progress_bar = false")  # DuckDB's own bar goes to stdout
        self._con.execute("CREATE TABLE seen (key VARCHAR, line BIGINT)")

    def first(self, keys: np.ndarray, lines: np.ndarray) -> np.ndarray:
        """The line each key was first seen at, for rows ``keys`` read at ``lines`` (in file
        order, after every earlier call's rows): a row's own line when its key is new. Every
        key is remembered. Cost: one join of the batch's distinct keys against the keys seen so
        far (O(batch + seen), on disk beyond the memory cap) and one insert."""
        frame = pd.DataFrame({"key": keys, "line": np.asarray(lines, dtype=np.int64)})
        first = frame.groupby("key", sort=False)["line"].transform("first").to_numpy(dtype=np.int64, copy=True)
        new = ~frame["key"].duplicated().to_numpy()
        _batch = pa.table({"key": pa.array(frame["key"].to_numpy()[new], type=pa.string()),  # noqa: F841
                           "line": pa.array(frame["line"].to_numpy()[new])})
        earlier = self._con.execute("SELECT b.key, s.line FROM _batch b JOIN seen s ON s.key = b.key").df()
        if len(earlier):
            at = pd.Series(earlier["line"].to_numpy(dtype=np.int64), index=earlier["key"].to_numpy())
            hit = frame["key"].map(at)
            known = hit.notna().to_numpy()
            first[known] = hit.to_numpy()[known].astype(np.int64)
        self._con.execute("INSERT INTO seen SELECT b.key, b.line FROM _batch b "
                          "WHERE NOT EXISTS (SELECT 1 FROM seen s WHERE s.key = b.key)")
        return first

    def close(self) -> None:
        """Drop the keys and their temporary file."""
        self._con.close()
        self._dir.cleanup()

    def __enter__(self) -> FirstLines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""The quarantine: every rejected row with file, line, column, value and reason."""
from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import numpy as np
import pandas as pd

from graphiff.model.cells import safe_cell

if TYPE_CHECKING:
    from _csv import Writer

QUARANTINE_COLUMNS = ["file", "kind", "line", "column", "value", "reason"]


class Quarantine:
    """Collects rejected rows and writes them to one CSV file (created on first reject)."""

    def __init__(self, path: Path):
        self.path = path
        self.rows_by_kind: Counter[str] = Counter()
        self._fh: TextIO | None = None
        self._writer: Writer | None = None

    def _open(self) -> Writer:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("w", newline="", encoding="utf-8")
            self._writer = csv.writer(self._fh)
            self._writer.writerow(QUARANTINE_COLUMNS)
        return self._writer

    def add(self, file: str, kind: str, line: int | None, column: str | None, value: object, reason: str) -> None:
        """One rejected row with one reason."""
        writer = self._open()
        writer.writerow([safe_cell(file), kind, "" if line is None else int(line), column or "",
                        safe_cell(value), reason])
        self.rows_by_kind[kind] += 1

    def add_frame(self, file: str, kind: str, errors: pd.DataFrame, lines: np.ndarray) -> None:
        """Rejected rows of a chunk: ``errors`` has columns row, column, value, reason (one or
        more per row); each row counts once."""
        if errors.empty:
            return
        writer = self._open()
        errors = errors.sort_values("row", kind="stable")
        for row, col, val, reason in errors[["row", "column", "value", "reason"]].itertuples(index=False):
            writer.writerow([safe_cell(file), kind, int(lines[row]), col, safe_cell(val), reason])
        self.rows_by_kind[kind] += errors["row"].nunique()

    @property
    def total(self) -> int:
        return sum(self.rows_by_kind.values())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

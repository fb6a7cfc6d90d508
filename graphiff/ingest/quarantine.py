"""The quarantine: every rejected row with file, line, column, value and reason.

The rows are written to a hidden partial file beside the final one (``.<name>.<pid>.partial``)
and moved into place by :meth:`Quarantine.publish` only when the load commits; a failed load
discards it (:meth:`Quarantine.discard`), so a failed load leaves no quarantine file. A partial
file left by a killed process is removed by the next load of the same input."""
from __future__ import annotations

import csv
import os
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
    """Collects rejected rows and writes them to one CSV file, ``path`` (written to a partial
    file on first reject, moved to ``path`` by :meth:`publish`)."""

    def __init__(self, path: Path):
        self.path = path
        self.partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        self.rows_by_kind: Counter[str] = Counter()
        self._fh: TextIO | None = None
        self._writer: Writer | None = None
        self._remove_stale()

    def _remove_stale(self) -> None:
        """Remove partial files of this quarantine left by processes that no longer run."""
        if not self.path.parent.is_dir():
            return
        for old in self.path.parent.glob(f".{self.path.name}.*.partial"):
            try:
                pid = int(old.name[len(self.path.name) + 2:-len(".partial")])
            except ValueError:
                continue
            if pid != os.getpid() and not _alive(pid):
                old.unlink(missing_ok=True)

    def _open(self) -> Writer:
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.partial.open("w", newline="", encoding="utf-8")
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
        """Close the partial file (what was written stays until :meth:`publish` / :meth:`discard`)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def publish(self) -> None:
        """Move the rejected rows into place at ``path`` (the load committed); replaces the file
        an earlier run of the same load left. Nothing is written when no row was rejected."""
        self.close()
        if self._writer is not None:
            os.replace(self.partial, self.path)

    def discard(self) -> None:
        """Forget the rejected rows (the load failed): the partial file is removed."""
        self.close()
        self.partial.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    """Whether a process with this id runs (on this machine)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True

"""Text input files: the check of their bytes (no NUL, UTF-8 throughout) and the physical lines
of CSV records (quoted values may span lines; blank lines are skipped by the parser but count).
"""
from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from graphiff.errors import InvalidInput

_BLOCK = 1 << 20


@dataclass
class BadRow:
    """A row that could not be read as a row (quarantined whole): its line, its text, why, and
    the column at fault when one is."""

    line: int | None
    text: str
    reason: str
    column: str | None = None


@dataclass(frozen=True)
class TextScan:
    """What one pass over a text file found: a quote character anywhere, and blank lines before
    its last content (both change how physical lines are counted)."""

    has_quote: bool
    blank_lines: bool


def scan_text(path: Path) -> TextScan:
    """Check a whole text file: a NUL byte or a byte that is not UTF-8 anywhere is fatal.

    Raises :class:`InvalidInput` naming the file and the byte offset. Cost: one read of the
    file in 1 MiB blocks (cached while the file is unchanged).
    """
    try:
        st = path.stat()
    except OSError as exc:
        raise InvalidInput(f"cannot read: {exc.strerror or exc}", file=path.name) from None
    return _scan(str(path), st.st_size, st.st_mtime_ns)


@lru_cache(maxsize=64)
def _scan(name: str, size: int, mtime: int) -> TextScan:
    path = Path(name)
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, has_quote, first_blank, last_content, tail = 0, False, -1, -1, b""
    try:
        with path.open("rb") as fh:
            while block := fh.read(_BLOCK):
                nul = block.find(b"\x00")
                if nul >= 0:
                    raise InvalidInput(f"not a text file (binary content: NUL byte at byte {offset + nul})",
                                       file=path.name)
                pending = len(decoder.getstate()[0])
                try:
                    decoder.decode(block)
                except UnicodeDecodeError as exc:
                    raise InvalidInput(f"not UTF-8 text (byte {offset - pending + exc.start})",
                                       file=path.name) from None
                has_quote = has_quote or b'"' in block
                if first_blank < 0:
                    window = tail + block
                    hits = [i for i in (window.find(p) for p in (b"\n\n", b"\r\r", b"\n\r\n")) if i >= 0]
                    if hits or (offset == 0 and block[:1] in (b"\n", b"\r")):
                        first_blank = offset - len(tail) + min(hits, default=0)
                content = block.rstrip(b" \t\r\n")
                if content:
                    last_content = offset + len(content) - 1
                tail = block[-2:]
                offset += len(block)
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise InvalidInput(f"not UTF-8 text (byte {offset - len(decoder.getstate()[0])})",
                                   file=path.name) from None
    except OSError as exc:
        raise InvalidInput(f"cannot read: {exc.strerror or exc}", file=path.name) from None
    return TextScan(has_quote, 0 <= first_blank < last_content)


def record_lines(path: Path, delimiter: str) -> np.ndarray | None:
    """The first physical line of every non-empty record (header first), or ``None`` when the
    file cannot be read this way. Used only for files with blank lines (Python's csv reader)."""
    starts: list[int] = []
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            end = 0
            for rec in reader:
                if rec:
                    starts.append(end + 1)
                end = reader.line_num
    except csv.Error:
        return None
    return np.asarray(starts, dtype=np.int64)


def line_breaks(text: str) -> int:
    """Line breaks in ``text`` (``\\n``, ``\\r\\n`` or a lone ``\\r``)."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def batch_line_breaks(batch: pa.RecordBatch) -> np.ndarray:
    """Line breaks inside each row's values (quoted values spanning lines)."""
    out = np.zeros(batch.num_rows, dtype=np.int64)
    for col in batch.columns:
        if not pa.types.is_string(col.type):
            continue
        if not (pc.any(pc.match_substring(col, "\n")).as_py() or pc.any(pc.match_substring(col, "\r")).as_py()):
            continue
        n = pc.subtract(pc.add(pc.count_substring(col, "\n"), pc.count_substring(col, "\r")),
                        pc.count_substring(col, "\r\n"))
        out += n.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    return out


class LineCounter:
    """Physical lines of CSV records: pyarrow numbers records (header = 1, blank lines not
    counted) and skips invalid ones; this puts valid and invalid records back in order and
    counts the lines each spans."""

    def __init__(self, first_data_line: int, exact: np.ndarray | None):
        self.next_line = first_data_line
        self.next_rec = 2
        self.exact = exact

    def place(self, n_valid: int, valid_breaks: np.ndarray, invalid: list[BadRow],
              last: bool = False) -> tuple[np.ndarray, int]:
        """Lines of ``n_valid`` rows read next; sets the line of the invalid rows among them
        (taken from the front of ``invalid``; all of them when ``last``). Returns the lines and
        how many invalid rows were taken."""
        m = len(invalid) if last else 0
        while m < len(invalid):
            number = invalid[m].line
            if number is not None and number >= self.next_rec + n_valid + m:
                break
            m += 1
        total = n_valid + m
        inv_pos = np.array([-1 if b.line is None else b.line - self.next_rec for b in invalid[:m]],
                           dtype=np.int64)
        inv_pos = np.where((inv_pos < 0) | (inv_pos >= total), np.arange(n_valid, total), inv_pos)
        is_valid = np.ones(total, dtype=bool)
        is_valid[inv_pos] = False
        breaks = np.zeros(total, dtype=np.int64)
        breaks[is_valid] = valid_breaks
        breaks[inv_pos] = [line_breaks(b.text) for b in invalid[:m]]
        before = np.concatenate([[0], np.cumsum(breaks)[:-1]]) if total else np.zeros(0, dtype=np.int64)
        starts = self.next_line + np.arange(total, dtype=np.int64) + before
        recs = self.next_rec - 1 + np.arange(total, dtype=np.int64)  # 0-based record index (header = 0)
        if self.exact is not None and total and recs[-1] < len(self.exact):
            starts = self.exact[recs]
        for b, pos in zip(invalid[:m], inv_pos):
            b.line = int(starts[pos])
        if total:
            self.next_line = int(starts[-1] + 1 + breaks[-1])
            self.next_rec += total
        return starts[is_valid], m

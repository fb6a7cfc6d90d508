"""Validation of input files against the file contract (files.yaml): the header of a file
(:func:`check_header`, before anything is written) and its rows (:func:`validate`: required
values, value kinds of graphiff.model.values, account ids and the checks across columns of one
kind)."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pandas as pd

from graphiff.errors import InvalidInput
from graphiff.ingest.mapping import Mapping
from graphiff.model import FileKind
from graphiff.model import values as nz
from graphiff.model.identity import PROVENANCE, REL_ENDS, RESOLVED_COLUMNS

ERROR_COLUMNS = ["row", "column", "value", "reason"]
#: The property marking a row whose account id looks like an IBAN but fails its check (the row is
#: kept: its own node -- BankAccount, Payment or CashReport -- carries the mark).
ID_CHECK = "id_check"
IBAN_INVALID = "iban_invalid"
#: The load-summary warning (its code) counted for each such row.
IBAN_WARNING = "iban_invalid"
#: The load-summary warning of a header that ends with unnamed columns (one per file).
UNNAMED_WARNING = "unnamed_trailing_column"
#: The load-summary warning counted for each kept row whose amount has no USD rate for its month.
USD_WARNING = "usd_unconvertible"
#: The load-summary warnings: the stable code (the key of ``load --json`` ``warnings``) and what
#: it means (the human summary).
WARNINGS = {
    IBAN_WARNING: "account id fails the IBAN check: kept, marked id_check = iban_invalid",
    UNNAMED_WARNING: "header ends with an unnamed column: ignored (a row with a value there is quarantined)",
    USD_WARNING: "no USD rate for the currency in that month: kept, marked usd_status = unconvertible, "
                 "left out of value comparisons",
}
_ACCOUNT_COLUMNS = ("account_id", "from_account", "to_account")


def reserved_columns(kind: FileKind) -> dict[str, str]:
    """Names an input column of ``kind`` may not have (case-insensitively), with why: ``key``,
    the provenance columns, ``id_check``, the properties the load derives for the kind
    (:attr:`FileKind.derived`) and, where every other column becomes a relationship property,
    the relationship ends.

    >>> from graphiff.model import model
    >>> sorted(reserved_columns(model().files["traders"]))
    ['_line', '_load_id', '_loaded_at', '_source', 'alias_names', 'aliases', 'id_check', 'key', 'origin']
    """
    out = {"key": "the row's key"}
    if kind.label:
        out.update(dict.fromkeys(RESOLVED_COLUMNS, "the resolved view's keys and names of an entity's other records"))
    out.update(dict.fromkeys(PROVENANCE, "provenance: where each row comes from"))
    out[ID_CHECK] = "the mark of an account id that fails the IBAN check"
    out.update(dict.fromkeys(kind.derived, f"derived by the load for {kind.name}"))
    if any("*" in e.props for e in kind.emits):
        out.update(dict.fromkeys(REL_ENDS, "the ends of a relationship"))
    return out


def check_names(names: Sequence[str], reserved: Callable[[str], str | None] | None = None, *,
                ignore_case: bool = True) -> tuple[int, str] | None:
    """The first problem of a list of column names, or ``None``: the rules of a header shared by
    input files (:func:`check_header`) and package tables (:mod:`graphiff.share.contents`). A
    name may not be empty, repeat an earlier one (ignoring letter case unless ``ignore_case`` is
    false), or be one ``reserved`` refuses (it returns why, or ``None``); empty names are
    reported first, then repeats, then reserved names. Each caller raises its own error from the
    problem, ``(position from 1, message)``. Cost: linear in the names.

    >>> check_names(["trader_id", "name", "Name"])
    (3, "column 3 'Name' repeats column 2 'name' (names are compared ignoring letter case)")
    >>> check_names(["trader_id", "", "key"], {"key": "the row's key"}.get)
    (2, 'column 2 of the header has no name')
    >>> check_names(["trader_id", "key"], {"key": "the row's key"}.get)
    (2, "'key' is a name graphiff sets itself (the row's key)")
    """
    for i, name in enumerate(names, 1):
        if not name.strip():
            return i, f"column {i} of the header has no name"
    seen: dict[str, tuple[int, str]] = {}
    for i, name in enumerate(names, 1):
        first = seen.setdefault(name.casefold() if ignore_case else name, (i, name))
        if first[0] != i:
            how = " (names are compared ignoring letter case)" if ignore_case else ""
            return i, f"column {i} {name!r} repeats column {first[0]} {first[1]!r}{how}"
    for i, name in enumerate(names, 1):
        why = reserved(name) if reserved is not None else None
        if why:
            return i, f"{name!r} is a name graphiff sets itself ({why})"
    return None


def check_header(kind: FileKind, columns: list[str], *, file: str, mapping: Mapping | None = None,
                 required: bool = True) -> list[str]:
    """Check the column names of one file before anything is written; fatal problems raise
    :class:`InvalidInput` naming the file and the column, and the returned list holds the
    warnings (codes of :data:`WARNINGS`, at most one per file).

    The rules (README, "Input contract"): unnamed columns at the end of the header (a trailing
    comma) are ignored with a warning, and the reader quarantines a row with a value there; any
    other unnamed column is fatal. Names that repeat, also ignoring case (``Name`` beside
    ``name``), are fatal. Names graphiff sets itself (:func:`reserved_columns`) are fatal,
    compared ignoring case, after a ``mapping`` renamed the columns. The required columns must
    be present (unless ``required`` is false). Cost: linear in the number of columns.

    >>> from graphiff.model import model
    >>> check_header(model().files["traders"], ["trader_id", "name", "country", ""], file="t.csv")
    ['unnamed_trailing_column']
    >>> try:
    ...     check_header(model().files["traders"], ["trader_id", "name", "country", "Name"], file="t.csv")
    ... except InvalidInput as exc:
    ...     print(exc.file, exc.column)
    t.csv Name
    """
    cols = [str(c).strip() for c in columns]
    n = len(cols)
    while n and not cols[n - 1]:
        n -= 1
    warnings = [UNNAMED_WARNING] if n < len(cols) else []
    named = cols[:n]
    reserved = {k.casefold(): why for k, why in reserved_columns(kind).items()}

    def refused(name: str) -> str | None:
        return reserved.get(name.casefold())

    if mapping is None:
        out = [(c, c) for c in named]
        problem = check_names(named, refused)
    else:   # names repeat as the file gives them and are reserved as the mapping renames them
        out = [(c, c) for c in named]
        problem = check_names(named, ignore_case=False)
        if problem is None:
            mapping.check_columns(file, named)
            out = mapping.output_columns(named)
            problem = check_names([name for name, _ in out], refused, ignore_case=False)
    if problem is not None:
        i, message = problem
        name, source = out[i - 1]
        if not name:
            raise InvalidInput(f"{message} (only unnamed columns at its end are allowed, and ignored)", file=file)
        via = f" (the mapping names it {name!r})" if source != name else ""
        raise InvalidInput(f"{message}{via}: rename the column", file=file, column=source)
    names = {name for name, _ in out}
    if not required:
        return warnings
    for c in kind.required:
        if c not in names:
            raise InvalidInput(f"missing required column for {kind.name}", file=file, column=c)
    if kind.name == "declarations" and "exporter_id" not in names and "importer_id" not in names:
        raise InvalidInput("declarations need an exporter_id or importer_id column", file=file, column="exporter_id")
    if kind.name == "rates" and "month" not in names and "date" not in names:
        raise InvalidInput("rates need a month or date column", file=file, column="month")
    return warnings


def validate(kind: FileKind, frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Normalise ``frame`` (rows of one file kind) and find its errors.

    Returns the normalised frame (same rows) and the errors, one row per problem: ``row``
    (position in ``frame``), ``column``, ``value`` (as read) and ``reason`` (the quarantine
    reason). An account id that looks like an IBAN but fails its check is not an error: the
    frame gets ``id_check = "iban_invalid"`` on that row (see :func:`warnings_of`). Cost: a few
    vectorised passes per column.
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
        if c not in out.columns:  # a chunk of JSON Lines whose rows all lack it
            out[c] = pd.Series(None, index=out.index, dtype=object)
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
    marked = pd.Series(False, index=out.index)
    for c in _ACCOUNT_COLUMNS:
        if c in out.columns and (kind.name in ("accounts", "payments") or c == "account_id"):
            acc = nz.normalise_account(out[c].fillna(""))
            out[c] = acc.where(acc != "")
            marked |= nz.check_iban(out[c]).to_numpy()
    if marked.any():  # kept as data: the row's node carries the mark (counted as a warning)
        out[ID_CHECK] = marked.map({True: IBAN_INVALID, False: None}).astype(nz.TEXT)
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


def warnings_of(rows: pd.DataFrame) -> dict[str, int]:
    """The load-summary warnings of validated rows that are kept: code (:data:`WARNINGS`) -> count.

    >>> warnings_of(pd.DataFrame({ID_CHECK: [IBAN_INVALID, None]}))
    {'iban_invalid': 1}
    """
    if ID_CHECK not in rows.columns:
        return {}
    n = int((rows[ID_CHECK] == IBAN_INVALID).fillna(False).sum())
    return {IBAN_WARNING: n} if n else {}

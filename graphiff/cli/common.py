"""Options and helpers shared by the command groups."""
from __future__ import annotations

import json
import math
import os
import sys
from contextlib import contextmanager
from typing import Any, Iterator

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from graphiff.casework.users import os_user_name
from graphiff.errors import GraphiffError
from graphiff.stores import Book, Store, embedded_path, open_store, remove_embedded

# piped or redirected output keeps whole ids and numbers instead of cropping tables at 80 columns;
# no emoji codes: a name like "Acme :cow: Ltd" prints as written
console = Console(width=None if sys.stdout.isatty() else 200, emoji=False)

StoreOpt = typer.Option(None, "--store", "-s", envvar="GRAPHIFF_STORE",
                        help="Store: a local embedded file (default ./graphiff.duckdb) or bolt://HOST:PORT / "
                             "neo4j://... (credentials from NEO4J_USERNAME / NEO4J_PASSWORD).")
DatabaseOpt = typer.Option(None, "--database", envvar="NEO4J_DATABASE",
                           help="Neo4j database name (default: the server's).")
JsonOpt = typer.Option(False, "--json", help="Print one JSON object instead of tables.")
UnresolvedOpt = typer.Option(False, "--unresolved",
                             help="Records as loaded: ignore entity resolution. By default the records `graphiff "
                                  "resolve` (or an analyst) joined with SAME_AS read as one entity, with its aliases.")


@contextmanager
def store_from(uri: str | None, database: str | None = None, *, create: bool = False) -> Iterator[Store]:
    """The store of a command; only commands that write new data (load, import-package) create one.

    When this command created the embedded store file and then fails or is refused, the file is
    removed again (a failed command leaves no empty store behind); an existing store is never
    removed."""
    path = embedded_path(uri)
    created = create and path is not None and not path.exists()
    try:
        store = open_store(uri, database=database, create=create)
    except BaseException:
        if created and path is not None:
            remove_embedded(path)
        raise
    try:
        yield store
    except BaseException:
        try:
            store.close()
        except Exception:  # noqa: BLE001 - the command's own error is the one to report
            pass
        if created and path is not None:
            remove_embedded(path)
        raise
    store.close()


def esc(value: Any) -> str:
    r"""A data value (a name, id, path, explanation...) as console text that prints literally.

    Every string a command prints that it did not write itself goes through here (or is printed
    with ``markup=False``): Rich would read ``[bold]`` in a trader's name as markup and drop it,
    and crash on ``[/]``. ``None`` is the empty string.

    >>> print(esc("Acme [bold]Ltd[/]"))
    Acme \[bold]Ltd\[/]
    >>> esc(None), esc(3)
    ('', '3')
    """
    return "" if value is None else escape(str(value))


def positive(value: float | None) -> float | None:
    """Typer callback: a number option that must be above 0 (and finite); None passes."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise typer.BadParameter(f"{value} is not a number above 0")
    return value




def date_bound(value: str | None) -> str | None:
    """Typer callback: a date option, ``YYYY-MM-DD`` (or ``YYYY-MM``, ``YYYY``) naming a real day,
    month or year; None passes.

    >>> date_bound("2024-02-29"), date_bound("2024-03"), date_bound("2024")
    ('2024-02-29', '2024-03', '2024')
    """
    from graphiff.graph.index import check_date

    try:
        return check_date(value, "date")
    except GraphiffError:
        raise typer.BadParameter(f"{value!r} is not a calendar date: use YYYY-MM-DD (or YYYY-MM, YYYY)") from None


def user_name() -> str:
    """Who runs the command (the operating system's user name), for producers and judgements."""
    return os_user_name()


def acting_user(user: str | None = None) -> str:
    """Who a command acts as, for the audit log and the notes it writes: ``user`` (``--user``), else
    ``$GRAPHIFF_USER``, else the operating system's user name."""
    return (user or "").strip() or os.environ.get("GRAPHIFF_USER", "").strip() or user_name()


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def rows_per_second(rows: float, seconds: float | None) -> str:
    """A rate as the progress display shows it: whole rows per second, ``""`` while no time has passed.

    >>> rows_per_second(1_234_567, 2), rows_per_second(10, 0), rows_per_second(5, None)
    ('617,284 rows/s', '', '')
    """
    return f"{rows / seconds:,.0f} rows/s" if seconds and seconds > 0 else ""


class RowRateColumn(ProgressColumn):
    """Rows per second of a task: its completed rows over the seconds in its ``seconds`` field
    (the time the command spent on it: a command loading several kinds in turn keeps it), else over
    the task's elapsed time."""

    def render(self, task: Task) -> Text:
        seconds = task.fields.get("seconds")
        return Text(rows_per_second(task.completed, task.elapsed if seconds is None else seconds),
                    style="progress.data.speed")


@contextmanager
def progress_bar(enabled: bool = True, *, rates: bool = False) -> Iterator[Progress]:
    """A rich progress display on stderr (silent when ``enabled`` is False, e.g. with --json);
    ``rates`` adds a rows/s column (:class:`RowRateColumn`)."""
    columns: list[ProgressColumn] = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                     TextColumn("{task.completed:,.0f} rows")]
    if rates:
        columns.append(RowRateColumn())
    progress = Progress(*columns, TimeElapsedColumn(),
                        console=Console(stderr=True), disable=not enabled, transient=False)
    with progress:
        yield progress


ActorOpt = typer.Option(None, "--user", envvar="GRAPHIFF_USER",
                        help="Who acts (written to the audit log and to notes; default $GRAPHIFF_USER, else your "
                             "login name).")


@contextmanager
def case_book(store: str | None, database: str | None) -> Iterator[Book]:
    """The case book of the store (:func:`graphiff.stores.open_book`), without opening the store
    itself: case-book commands work while another process writes an embedded store."""
    from graphiff.stores import open_book

    book = open_book(store, database=database)
    try:
        yield book
    finally:
        book.close()


def audit_as(book: Book, who: str, action: str, ids: list[str] | tuple[str, ...] = (), *,
             case: dict[str, Any] | None = None, detail: dict[str, Any] | None = None) -> None:
    """One audit entry by ``who``; ``case`` fills its case and purpose."""
    from graphiff.casework import audit

    audit.record(book, user=who, action=action, ids=ids, detail=detail,
                 case=str(case["id"]) if case else None, purpose=str(case.get("purpose")) if case else None)


def day(at: Any) -> str:
    """The date part of an ISO time (``""`` for none)."""
    return str(at or "")[:10]

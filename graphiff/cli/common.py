"""Options and helpers shared by the command groups."""
from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from typing import Any, Iterator

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from graphiff.stores import Store, open_store

# piped or redirected output keeps whole ids and numbers instead of cropping tables at 80 columns
console = Console(width=None if sys.stdout.isatty() else 200)

StoreOpt = typer.Option(None, "--store", "-s", envvar="GRAPHIFF_STORE",
                        help="Store: a local embedded file (default ./graphiff.duckdb) or bolt://HOST:PORT / "
                             "neo4j://... (credentials from NEO4J_USERNAME / NEO4J_PASSWORD).")
DatabaseOpt = typer.Option(None, "--database", envvar="NEO4J_DATABASE",
                           help="Neo4j database name (default: the server's).")
JsonOpt = typer.Option(False, "--json", help="Print one JSON object instead of tables.")


@contextmanager
def store_from(uri: str | None, database: str | None = None, *, create: bool = False) -> Iterator[Store]:
    """The store of a command; only commands that write new data (load, import-package) create one."""
    store = open_store(uri, database=database, create=create)
    try:
        yield store
    finally:
        store.close()


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[Progress]:
    """A rich progress display on stderr (silent when ``enabled`` is False, e.g. with --json)."""
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                        TextColumn("{task.completed:,} rows"), TimeElapsedColumn(),
                        console=Console(stderr=True), disable=not enabled, transient=False)
    with progress:
        yield progress

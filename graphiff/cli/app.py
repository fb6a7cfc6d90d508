"""The typer app every command module adds its commands to, and the console script's entry point.

Errors graphiff raises on purpose print one line and exit with code 2, never a traceback.
"""
from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from graphiff.errors import GraphiffError

app = typer.Typer(
    name="graphiff",
    help="Entity-network analytics for customs intelligence against illicit financial flows: load declarations, "
         "traders, accounts, payments and cash reports into a graph, detect patterns, explore, chart and share.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

err_console = Console(stderr=True, emoji=False)


def one_line(message: str) -> str:
    r"""An error message on one line: a message quoting a multi-line text (a database error, a
    malformed value) keeps its words, separated by `` | `` where its lines broke.

    >>> one_line("write failed: Parser Error: bad\n\nLINE 1: ALTER TABLE x")
    'write failed: Parser Error: bad | LINE 1: ALTER TABLE x'
    """
    return " | ".join(part.strip() for part in message.splitlines() if part.strip())


def main() -> None:
    """Entry point of the ``graphiff`` console script: run the app, print graphiff's own errors as one line."""
    try:
        app()
    except GraphiffError as exc:
        err_console.print(f"[bold red]error:[/] {escape(one_line(str(exc)))}", highlight=False, markup=True,
                          soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)

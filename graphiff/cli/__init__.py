"""The graphiff command line: a thin typer layer over the library.

Every command parses its arguments, calls one library function and prints the result. Errors
graphiff raises on purpose print one line and exit with code 2, never a traceback.
"""
from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape

from graphiff.cli.app import app
from graphiff.errors import GraphiffError

err_console = Console(stderr=True)


def _register_groups() -> None:
    import importlib

    for name in ("detect", "value", "explore", "chart", "package"):
        try:
            module = importlib.import_module(f"graphiff.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"graphiff.cli.{name}":
                continue
            raise
        module.register(app)


_register_groups()


def main() -> None:
    """Entry point of the ``graphiff`` console script."""
    try:
        app()
    except GraphiffError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, markup=True, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()

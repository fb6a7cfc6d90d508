"""The graphiff command line: a thin typer layer over the library.

Every command parses its arguments, calls one library function and prints the result. Each
command module declares its commands at module level on :data:`graphiff.cli.app.app`; this
package imports every one of them explicitly, so a module that fails to import fails the whole
command line loudly instead of silently losing its commands.
"""
from __future__ import annotations

from graphiff.cli.app import app, main

# The import order is the order of the commands in `graphiff --help`.
# isort: off
from graphiff.cli import data  # noqa: F401  load, status, samples, demo
from graphiff.cli import resolve  # noqa: F401  resolve, judge, why
from graphiff.cli import detect  # noqa: F401  detect, evaluate, risk
from graphiff.cli import scale  # noqa: F401  snapshot
from graphiff.cli import value  # noqa: F401  mirror-report
from graphiff.cli import explore  # noqa: F401  explore, path, communities, central
from graphiff.cli import chart  # noqa: F401  chart
from graphiff.cli import package  # noqa: F401  package, import-package
from graphiff.cli import serve  # noqa: F401  serve
from graphiff.cli import alerts  # noqa: F401  alerts (show, set, export)
from graphiff.cli import case  # noqa: F401  case (list, show, create, add, remove, note, close, reopen, export)
from graphiff.cli import users  # noqa: F401  users (add, list, role, passwd, remove, token, tokens, revoke), audit
from graphiff.cli import targeting  # noqa: F401  targeting (train, score, show)
# (typer lists plain commands, e.g. audit, before the groups)
# isort: on

__all__ = ["app", "main"]

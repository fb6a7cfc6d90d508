"""Run the ``graphiff`` console script in-process, as a user's shell would see it.

Commands go through the console script's entry point (``graphiff.cli.main``), so a
:class:`~graphiff.errors.GraphiffError` is handled by ``main`` itself (one line on stderr, exit 2);
any other exception is printed as the console script would print it (a traceback on stderr, exit
code 1), so a test asserting exit 0 or 2 and no ``Traceback`` fails with the traceback in its message.

``run_cli`` returns ``(exit code, stdout + stderr)``; ``run_cli_streams`` keeps the two apart:
``(exit code, stdout, stderr)``.
"""
from __future__ import annotations

import contextlib
import io
import sys
import traceback


def run_cli_streams(*args: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``graphiff ARGS`` run in-process."""
    from graphiff.cli import main

    out, err = io.StringIO(), io.StringIO()
    code: object = 0
    argv, sys.argv = sys.argv, ["graphiff", *args]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
            except SystemExit as exc:
                code = exc.code
            except Exception:  # noqa: BLE001 - what the console script would print
                traceback.print_exc()
                code = 1
    finally:
        sys.argv = argv
    # as the interpreter exits: SystemExit(None) is success, any other non-integer is exit code 1
    code = 0 if code is None else code if isinstance(code, int) else 1
    return code, out.getvalue(), err.getvalue()


def run_cli(*args: str) -> tuple[int, str]:
    """(exit code, stdout + stderr) of ``graphiff ARGS`` run in-process; see :func:`run_cli_streams`."""
    code, out, err = run_cli_streams(*args)
    return code, out + err

"""Helpers of the case-work tests: the command line as a user's shell runs it, and the case
book's raw contents."""
from __future__ import annotations

import json
from typing import Any

from _clikit import run_cli_streams


def ok(*args: str) -> str:
    """stdout of ``graphiff ARGS``, which must succeed without a traceback."""
    code, out, err = run_cli_streams(*args)
    assert code == 0, out + err
    assert "Traceback" not in err
    return out


def ok_json(*args: str) -> Any:
    """The JSON ``graphiff ARGS --json`` prints."""
    return json.loads(ok(*args, "--json"))


def refused(*args: str) -> str:
    """The one-line error of ``graphiff ARGS``, which must fail with exit code 2."""
    code, out, err = run_cli_streams(*args)
    assert code == 2, out + err
    assert "Traceback" not in err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err

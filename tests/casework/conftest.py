"""Fixtures of the case-work tests: a small generated world (only the files the cash-structuring
detector reads, so a Neo4j load takes seconds) and the command line run as a user's shell would."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from _clikit import run_cli

#: the files the cash-structuring detector reads (a fifth of the world's load time)
FILES = ("rates.csv", "traders.csv", "persons.csv", "accounts.csv", "cash_reports.csv")


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> Path:
    """A folder of input files from `graphiff samples --scale 0.1`: rates, traders, persons, accounts and
    cash reports."""
    tmp = tmp_path_factory.mktemp("casework-world")
    code, out = run_cli("samples", str(tmp / "world"), "--scale", "0.1")
    assert code == 0, out
    (tmp / "in").mkdir()
    for name in FILES:
        shutil.copy(tmp / "world" / name, tmp / "in" / name)
    return tmp / "in"

"""A team key file other users may read (mode 0644) is used with a warning on stderr: the library
returns the warning (``key_file_warning``), the ``package`` command prints it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from graphiff.ingest import load_paths
from graphiff.share.keys import key_file_warning, read_key, write_key_file
from graphiff.stores import open_store

pytestmark = pytest.mark.skipif(os.name == "nt", reason="file modes say nothing about readers on Windows")


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("GRAPHIFF_PACKAGE_KEY", "GRAPHIFF_STORE")}
    return subprocess.run([sys.executable, "-m", "graphiff.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300)


@pytest.mark.parametrize("mode, warned", [(0o600, False), (0o400, False), (0o644, True), (0o640, True),
                                          (0o604, True)])
def test_key_file_warning_by_mode(tmp_path, mode, warned):
    f = tmp_path / "team.key"
    write_key_file(f)
    f.chmod(mode)
    assert read_key(f) is not None                       # still used
    msg = key_file_warning(f)
    if warned:
        assert msg == f"{f} can be read by other users of this machine: chmod 600 {f}"
    else:
        assert msg is None
    assert key_file_warning(None) is None and key_file_warning(tmp_path / "missing.key") is None


def _store(tmp_path: Path) -> Path:
    data = tmp_path / "in"
    data.mkdir()
    pd.DataFrame([{"trader_id": "T1", "name": "Acme", "country": "KE"}]).to_csv(data / "traders.csv", index=False)
    db = tmp_path / "s.duckdb"
    with open_store(str(db)) as st:
        load_paths(st, [data], quarantine_dir=tmp_path / "q")
    return db


def test_package_warns_about_a_world_readable_key_file(tmp_path):
    db = _store(tmp_path)
    key = tmp_path / "team.key"
    write_key_file(key)
    key.chmod(0o644)
    args = ["package", "--seed", "Trader:T1", "--purpose", "op", "--marking", "TLP:AMBER",
            "--store", str(db), "--key-file", str(key)]
    r = _cli(*args, "--out", str(tmp_path / "p.zip"), "--json")
    assert r.returncode == 0, r.stderr
    assert f"warning: {key} can be read by other users of this machine: chmod 600 {key}" in r.stderr
    assert "can be read" not in r.stdout                 # --json output stays clean
    key.chmod(0o600)
    r = _cli(*args, "--out", str(tmp_path / "q.zip"))
    assert r.returncode == 0, r.stderr
    assert "can be read" not in r.stdout + r.stderr

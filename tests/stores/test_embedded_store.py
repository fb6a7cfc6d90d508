"""The embedded store's DuckDB connection."""
from __future__ import annotations

import subprocess
import sys


def test_duckdb_progress_bar_is_off(tmp_path):
    """DuckDB draws its own progress bar on stdout, even into a pipe, for a query over 2 s: the
    JSON a command prints there (``--json``) would carry it, so the store turns it off. Checked
    in a process of its own: under pytest DuckDB starts with the bar off."""
    code = ("import sys; from graphiff.stores import open_store\n"
            "st = open_store(sys.argv[1])\n"
            "q = \"SELECT current_setting('enable_progress_bar')\"\n"
            "print(st.con.execute(q).fetchone()[0], st.con.cursor().execute(q).fetchone()[0])\n")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "g.duckdb")], capture_output=True,
                         text=True, check=True).stdout
    assert out.split() == ["False", "False"]

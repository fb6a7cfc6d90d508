"""``graphiff chart --format html --out z.png`` wrote HTML into a .png file: a --format that
contradicts the suffix of another chart format is refused (exit 2), before the store is opened."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from graphiff.cli.chart import chart_format
from graphiff.errors import GraphiffError


@pytest.mark.parametrize("fmt, name", [("html", "z.png"), ("png", "z.SVG"), ("anx", "c.graphml"), ("cyjs", "c.html")])
def test_format_contradicting_the_suffix_is_refused(tmp_path, fmt, name):
    with pytest.raises(GraphiffError, match=rf"--format {fmt} does not fit the name '{name}'"):
        chart_format(fmt, tmp_path / name)


@pytest.mark.parametrize("fmt, name, expected", [
    ("html", "z.html", "html"), ("PNG", "z.PNG", "png"), (".svg", "z.svg", "svg"),
    ("html", "z.txt", "html"), ("cyjs", "z.json", "cyjs"), ("gexf", "noext", "gexf"),   # not a chart suffix
    (None, "z.graphml", "graphml"),
])
def test_format_and_suffix_that_agree(tmp_path, fmt, name, expected):
    assert chart_format(fmt, tmp_path / name) == expected


def test_format_for_a_folder_named_like_a_file(tmp_path):
    folder = tmp_path / "charts.png"
    folder.mkdir()
    assert chart_format("html", folder) == "html"        # the chart is written as charts.png/chart.html


def test_cli_refuses_html_into_png(tmp_path: Path):
    out, store = tmp_path / "z.png", tmp_path / "s.duckdb"
    r = subprocess.run([sys.executable, "-m", "graphiff.cli", "chart", "--seed", "T1", "--format", "html",
                        "--out", str(out), "--store", str(store)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "--format html does not fit the name 'z.png'" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists() and not store.exists()

"""The command line itself: every documented command is registered, a broken command module fails
loudly, and every library function a command imports (lazily, inside the command) exists."""
from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

from typer.main import get_command
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]

#: the README's commands, in the order `graphiff --help` lists them
COMMANDS = ["load", "status", "samples", "demo", "resolve", "judge", "why", "detect", "evaluate", "risk", "snapshot",
            "mirror-report", "explore", "path", "communities", "central", "chart", "package", "keygen",
            "import-package", "serve", "audit", "alerts", "case", "users", "targeting"]


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)


def test_importing_the_cli_registers_every_documented_command():
    from graphiff.cli import app

    assert list(get_command(app).commands) == COMMANDS  # type: ignore[attr-defined]


def test_a_broken_command_module_fails_loudly():
    # a command module that cannot be imported used to be skipped, its commands silently missing
    res = _python("import sys; sys.modules['graphiff.cli.value'] = None; import graphiff.cli")
    assert res.returncode != 0
    assert "graphiff.cli.value" in res.stderr


def test_main_module_does_not_run_on_import():
    # doctest collection imports every module: importing __main__ must not start the app
    res = _python("import graphiff.cli.__main__; print('imported')")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "imported"


def test_python_dash_m_runs_the_app():
    res = subprocess.run([sys.executable, "-m", "graphiff.cli", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    assert all(name in res.stdout for name in COMMANDS)


def test_detect_help_lists_the_registered_detectors():
    from graphiff.cli import app
    from graphiff.detectors import detector_names

    res = CliRunner().invoke(app, ["detect", "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    for name in detector_names():
        assert name in res.output


def test_every_lazy_import_of_a_command_exists():
    """Commands import the library inside their bodies (start-up time); a moved function must not
    leave a command that fails only when someone runs it."""
    missing = []
    for path in sorted((ROOT / "graphiff" / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("graphiff"):
                module = importlib.import_module(node.module)
                for alias in node.names:
                    if not hasattr(module, alias.name):
                        try:
                            importlib.import_module(f"{node.module}.{alias.name}")
                        except ModuleNotFoundError:
                            missing.append(f"{path.name}:{node.lineno}: {node.module}.{alias.name}")
    assert not missing, "CLI imports of names that do not exist:\n" + "\n".join(missing)

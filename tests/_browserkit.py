"""Debian's headless Chromium for the browser tests (driven by Playwright): where it is and how
it is started (the module-scoped ``browser`` fixture of tests/conftest.py uses these), and the
workbench server the browser tests open (:func:`serve`)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

#: skip where Chromium is not installed
BROWSER_SKIP = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"headless Chromium not installed at {CHROMIUM}")
#: the marks of a browser test module (``pytestmark = BROWSER_MARKS``)
BROWSER_MARKS = [pytest.mark.browser, BROWSER_SKIP]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(store: str, log_path: Path) -> Iterator[str]:
    """``graphiff serve`` on ``store`` (127.0.0.1, a free port) as an analyst starts it, its
    output in ``log_path``; yields its origin once ``/api/health`` answers and stops it after
    (for a fixture: ``yield from serve(...)``)."""
    port = free_port()
    log = open(log_path, "w", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "graphiff.cli", "serve", "--store", store, "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    origin = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail("graphiff serve exited:\n" + log_path.read_text(encoding="utf-8"))
            try:
                with urllib.request.urlopen(origin + "/api/health", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("graphiff serve did not answer in 120 s")
            time.sleep(0.3)
        yield origin
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()

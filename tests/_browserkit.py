"""Debian's headless Chromium for the browser tests (driven by Playwright): where it is and how
it is started. The module-scoped ``browser`` fixture (tests/conftest.py) uses these."""
from __future__ import annotations

import os

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

#: skip where Chromium is not installed
BROWSER_SKIP = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"headless Chromium not installed at {CHROMIUM}")
#: the marks of a browser test module (``pytestmark = BROWSER_MARKS``)
BROWSER_MARKS = [pytest.mark.browser, BROWSER_SKIP]

"""The targeting score on the workbench page in a real headless Chromium against a real
``graphiff serve``: a tiny embedded store is trained and scored (``graphiff targeting``), and the
declaration's detail panel shows its "Targeting score" note with the reasons, one per line."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from graphiff.ingest import load_paths
from graphiff.stores import open_store
from tests._browserkit import BROWSER_MARKS, serve

pytestmark = BROWSER_MARKS


def _world(n: int = 300, seed: int = 5) -> pd.DataFrame:
    """Declarations over 150 days where two importers commit most frauds."""
    rng = np.random.default_rng(seed)
    imp = rng.choice([f"I{i}" for i in range(15)], n)
    days = np.sort(rng.integers(0, 150, n))
    fraud = (rng.random(n) < 0.08 + 0.6 * np.isin(imp, ["I1", "I2"])).astype(int)
    return pd.DataFrame({
        "declaration_id": [f"D{i:04d}" for i in range(n)], "item_no": 1, "flow": "IMPORT", "reporting_country": "KE",
        "date": (pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d"),
        "importer_id": imp, "importer_name": [f"Importer {x}" for x in imp], "importer_country": "KE",
        "exporter_id": rng.choice([f"S{i}" for i in range(8)], n), "exporter_country": "CN", "exporter_name": "Seller",
        "declarant_id": rng.choice(["B1", "B2"], n), "hs_code": rng.choice(["730890", "610910"], n),
        "origin_country": "CN", "net_mass_kg": rng.uniform(10, 1000, n).round(1),
        "invoice_value": rng.uniform(100, 50_000, n).round(2), "currency": "USD", "office": "10", "fraud": fraud,
    })


@pytest.fixture(scope="module")
def scored(tmp_path_factory) -> dict:
    from graphiff.targeting import score, train

    base = tmp_path_factory.mktemp("targeting-browser")
    (base / "world").mkdir()
    _world().to_csv(base / "world" / "declarations.csv", index=False)
    uri = str(base / "graph.duckdb")
    with open_store(uri, create=True) as st:
        load_paths(st, [base / "world"], quarantine_dir=base / "q")
        train(st, "fraud")
        out = score(st)
    return {"base": base, "uri": uri, "key": str(out["key"].iloc[0]), "score": float(out["target_score"].iloc[0]),
            "reasons": list(out["reasons"].iloc[0])}


@pytest.fixture(scope="module")
def server(scored):
    """``graphiff serve`` on the scored store; yields its origin."""
    yield from serve(scored["uri"], scored["base"] / "serve.log")


def test_declaration_detail_shows_the_targeting_score_and_reasons(scored, server, browser):
    assert scored["reasons"], "the highest score has no reason"
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(server + "/")
        page.wait_for_function("() => window.graphiff && window.graphiff.ready === true", timeout=60_000)
        page.evaluate("(id) => window.graphiff.open(id)", f"Declaration:{scored['key']}")
        note = page.locator("[data-testid=detail-target]")
        note.wait_for(state="visible", timeout=60_000)
        assert note.inner_text().startswith(f"Targeting score {scored['score']:.2f}")
        shown = page.locator("[data-testid=detail-target] li").all_inner_texts()
        assert shown == scored["reasons"]
        # the raw properties are listed too
        assert "target_score" in page.locator("[data-testid=detail-props]").inner_text()
        assert errors == [], f"console errors: {errors}"
    finally:
        context.close()

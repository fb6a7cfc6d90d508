"""The trade typologies on drawn worlds nobody here wrote (issue 15, docs/typologies.md):
circular_trade, shell_intermediary and phoenix_trader keep recall and precision >= 0.8 on a
few tuning draws at small scale (the spread over all tuning draws is
benchmarks/bench_detection_spread.py's). Tuning seeds only: 101-120 are held out."""
from __future__ import annotations

import pytest

pytest.importorskip("graphiff.samples.drawn")

from _drawnkit import holds_on_drawn_world  # noqa: E402

FAMILIES = ("circular_trade", "shell_intermediary", "phoenix_trader")
SEEDS = (3, 11, 17)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("family", FAMILIES)
def test_trade_family_on_drawn_world(seed, family):
    holds_on_drawn_world(seed, family, FAMILIES)

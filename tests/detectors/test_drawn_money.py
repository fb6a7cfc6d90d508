"""The money typologies on drawn worlds nobody here wrote (issue 15, docs/typologies.md):
circular_payment, cash_structuring, third_party_payment, pass_through_account and scatter_gather
keep recall and precision >= 0.8 and flag no decoy on a few tuning draws at small scale (the
spread over all tuning draws is benchmarks/bench_detection_spread.py's). Tuning seeds only:
101-120 are held out."""
from __future__ import annotations

import pytest

pytest.importorskip("graphiff.samples.drawn")

from _drawnkit import holds_on_drawn_world  # noqa: E402

FAMILIES = ("circular_payment", "cash_structuring", "third_party_payment", "pass_through_account",
            "scatter_gather")
SEEDS = (4, 13, 18)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("family", FAMILIES)
def test_money_family_on_drawn_world(seed, family):
    r = holds_on_drawn_world(seed, family, FAMILIES)
    assert r["decoys_flagged"] == 0, (seed, family, r["flagged_decoys"])

"""undervaluation / overvaluation: planted outliers alert, ordinary and thin-peer declarations do not."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from graphiff.detectors.registry import REGISTRY
from graphiff.detectors.valuation import (
    detect_overvaluation,
    detect_undervaluation,
    valuation_scores,
)
from graphiff.graph.tables import Tables


def decl(i: int | str, *, hs: str = "851712", origin: str = "CN", uv: float, mass: float = 100.0,
         flow: str = "IMPORT", rc: str = "KE", **extra) -> dict:
    d = {
        "key": f"D{i}/1", "declaration_id": f"D{i}", "item_no": 1, "flow": flow, "reporting_country": rc,
        "date": "2024-03-01", "hs_code": hs + "00", "hs6": hs, "origin_country": origin,
        "net_mass_kg": mass, "quantity": None, "quantity_unit": None,
        "invoice_value": uv * (mass or 1.0), "currency": "USD", "value_usd": uv * (mass or 1.0), "usd_status": "given",
    }
    d.update(extra)
    return d


@pytest.fixture(scope="module")
def world() -> Tables:
    rng = np.random.default_rng(1)
    rows = []
    # 40 ordinary phones from CN around 50 USD/kg
    for i in range(40):
        rows.append(decl(f"N{i}", uv=float(50 * np.exp(rng.normal(0, 0.2))), mass=float(rng.uniform(50, 500))))
    # 35 from VN, legitimately cheaper (10 USD/kg): origin peers keep them ordinary
    for i in range(35):
        rows.append(decl(f"V{i}", origin="VN", uv=float(10 * np.exp(rng.normal(0, 0.2)))))
    rows.append(decl("UNDER", uv=4.0))                       # planted: 12x below the CN median
    rows.append(decl("OVER", uv=600.0))                      # planted: 12x above
    rows.append(decl("MILD", uv=80.0))                       # decoy: 1.6x above, ordinary spread
    rows.append(decl("UNCONV", uv=0.5, value_usd=None, usd_status="unconvertible", currency="XXX"))
    # a thin HS6: 3 declarations, one extreme - too few peers to judge
    for i in range(3):
        rows.append(decl(f"T{i}", hs="010121", uv=1000.0))
    rows.append(decl("THIN", hs="010121", uv=10.0))
    # a handful of peers: five consistent prices and one ten times theirs - an outlier ...
    for i, uv in enumerate([40.0, 44.0, 38.0, 41.0, 45.0]):
        rows.append(decl(f"F{i}", hs="871130", origin="IN", uv=uv))
    rows.append(decl("FEW", hs="871130", origin="IN", uv=420.0))
    # ... but among five naturally spread prices (paintings) none is
    for i, uv in enumerate([300.0, 1200.0, 4000.0, 800.0, 9000.0]):
        rows.append(decl(f"A{i}", hs="970110", origin="FR", uv=uv))
    # goods coming back: KE exports to its related company abroad, which sends them back at
    # twelve times the price - the round trip's red flag, reported by circular_trade, not here
    rows.append(decl("OUT", flow="EXPORT", uv=50.0, exporter_id="KEH", importer_id="AEH", date="2024-01-10"))
    rows.append(decl("BACK", uv=600.0, exporter_id="AEH", importer_id="KEH", date="2024-02-20"))
    # ... also when they come back to a sister company (one director) under another HS6 of the heading
    rows.append(decl("OUT2", flow="EXPORT", uv=50.0, hs="851718", exporter_id="KEA", importer_id="AEB",
                     date="2024-05-10"))
    rows.append(decl("BACK2", uv=650.0, exporter_id="AEB", importer_id="KEC", date="2024-06-20"))
    # mirrored shipment: export in CN and import in KE of the same undervalued goods -> one alert
    rows.append(decl("MX", flow="EXPORT", rc="CN", uv=3.0, transport_doc_no="BL-9", exporter_id="X1", importer_id="I1"))
    rows.append(decl("MI", flow="IMPORT", rc="KE", uv=3.3, transport_doc_no="BL-9", exporter_id="X1", importer_id="I1",
                     date="2024-03-20"))
    # per declared unit (no net mass): 20 pieces-based declarations + one at 1/10 the price
    for i in range(20):
        rows.append(decl(f"P{i}", hs="640399", origin="IT", uv=1.0, mass=None, quantity=10.0, quantity_unit="PCE",
                         value_usd=float(400 * np.exp(rng.normal(0, 0.1)))))
    rows.append(decl("PCE", hs="640399", origin="IT", uv=1.0, mass=None, quantity=10.0, quantity_unit="PCE",
                     value_usd=40.0))
    officers = pd.DataFrame({"src_label": "Person", "src": "DIR", "dst_label": "Trader", "dst": ["KEA", "KEC"],
                             "role": "DIRECTOR", "share_pct": None})
    return Tables.from_frames(nodes={"Declaration": pd.DataFrame(rows)}, rels={"OFFICER_OF": officers})


def flagged(alerts) -> set[str]:
    return {e["id"] for a in alerts for e in a.entities}


def test_registered_under_both_patterns():
    assert "undervaluation" in REGISTRY and "overvaluation" in REGISTRY
    assert REGISTRY["undervaluation"].defaults["z_threshold"] == 3.5


def test_planted_under_and_over_alert(world):
    under = detect_undervaluation(world)
    over = detect_overvaluation(world)
    assert "DUNDER/1" in flagged(under)
    assert "DOVER/1" in flagged(over)
    assert "DOVER/1" not in flagged(under) and "DUNDER/1" not in flagged(over)
    for a in under + over:
        assert 0 <= a.score <= 1
        item = a.evidence["items"][0]
        for k in ("peer_median_usd", "peer_mad_log", "peer_count", "factor", "unit_value_usd", "robust_z"):
            assert k in item
    a = next(a for a in under if a.entities[0]["id"] == "DUNDER/1")
    assert a.evidence["items"][0]["peer_group"] == "hs6+origin"
    assert a.evidence["items"][0]["factor"] > 10
    assert a.pattern == "undervaluation"


def test_decoys_not_flagged(world):
    got = flagged(detect_undervaluation(world)) | flagged(detect_overvaluation(world))
    assert "DMILD/1" not in got
    assert "DUNCONV/1" not in got
    assert "DTHIN/1" not in got
    assert not {f"DA{i}/1" for i in range(5)} & got, "a handful of naturally spread prices"
    assert "DBACK/1" not in got and "DBACK2/1" not in got
    assert not {f"DV{i}/1" for i in range(35)} & got, "cheaper origin is ordinary among its origin peers"
    assert not {f"DN{i}/1" for i in range(40)} & got


def test_mirrored_shipment_is_one_alert(world):
    under = detect_undervaluation(world)
    mirror = [a for a in under if "DMX/1" in {e["id"] for e in a.entities}]
    assert len(mirror) == 1
    assert {e["id"] for e in mirror[0].entities} == {"DMX/1", "DMI/1"}
    assert not [a for a in under if {e["id"] for e in a.entities} == {"DMI/1"}]


def test_few_peers_and_round_trips(world):
    over = detect_overvaluation(world)
    a = next(a for a in over if a.entities[0]["id"] == "DFEW/1")
    assert a.evidence["items"][0]["peer_group"] == "hs6 (few)" and a.evidence["items"][0]["peer_count"] == 5
    assert a.evidence["items"][0]["peer_median_usd"] == pytest.approx(41.0)
    assert "DFEW/1" not in flagged(detect_overvaluation(world, min_peers_few=10))
    assert {"DBACK/1", "DBACK2/1"} <= flagged(detect_overvaluation(world, round_trip_days=0))


def test_per_declared_unit(world):
    assert "DPCE/1" in flagged(detect_undervaluation(world))
    s = valuation_scores(world).set_index("key")
    assert s.loc["DPCE/1", "unit"] == "PCE"


def test_scores_rank_every_declaration(world):
    s = valuation_scores(world)
    assert "DUNCONV/1" not in set(s["key"])
    assert s["score"].between(0, 1).all()
    thin = s.set_index("key").loc["DTHIN/1"]
    assert thin["score"] == 0 and pd.isna(thin["peer_group"])
    top = s.sort_values("score", ascending=False)["key"].head(8).tolist()
    assert "DUNDER/1" in top and "DOVER/1" in top
    under_only = valuation_scores(world, tails="under").set_index("key")
    assert under_only.loc["DOVER/1", "score"] == 0
    hs6 = valuation_scores(world, peers="hs6").set_index("key")
    assert set(hs6["peer_group"].dropna()) == {"hs6", "hs6 (few)"}


def test_thresholds_are_parameters(world):
    assert "DMILD/1" in flagged(detect_overvaluation(world, z_threshold=1.0, min_factor=1.2))
    assert not detect_undervaluation(world, min_value_usd=1e9)


def test_empty_tables():
    assert detect_undervaluation(Tables.from_frames()) == []
    assert len(valuation_scores(Tables.from_frames())) == 0


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=30, deadline=None)
@given(
    prices=st.lists(st.floats(min_value=0.01, max_value=1e5), min_size=12, max_size=40),
    scale=st.floats(min_value=1e-3, max_value=1e3),
)
def test_scores_bounded_and_currency_invariant(prices, scale):
    """Scores stay in [0, 1], and multiplying every value by one rate (a currency) changes no z."""
    def tables(k: float) -> Tables:
        rows = [decl(i, uv=p * k) for i, p in enumerate(prices)]
        return Tables.from_frames(nodes={"Declaration": pd.DataFrame(rows)})

    a = valuation_scores(tables(1.0)).set_index("key")
    b = valuation_scores(tables(scale)).set_index("key")
    assert a["score"].between(0, 1).all()
    assert np.allclose(a["robust_z"].to_numpy(dtype=float), b["robust_z"].to_numpy(dtype=float), atol=1e-6)


def test_copies_of_one_shipment_are_one_peer_price():
    # twelve shipments of widely spread prices; four of them declared in three items each and
    # mirrored (six rows of one price): counted once, they do not narrow the spread, and a price
    # 3.5x the median stays within it (counted six times each, the spread would shrink)
    prices = [4.0, 5.0, 6.5, 8.0, 9.0, 10.0, 10.0, 10.0, 10.0, 12.0, 16.0, 20.0, 26.0]
    rows = []
    for i, uv in enumerate(prices):
        copies = 6 if uv == 10.0 else 1
        for k in range(copies):
            rows.append(decl(f"{i}-{k}", uv=uv, mass=100.0 + i, exporter_id=f"X{i}", importer_id=f"M{i}",
                             flow="EXPORT" if k % 2 else "IMPORT"))
    rows.append(decl("P", uv=35.0, mass=77.0, exporter_id="XP", importer_id="MP"))
    t = Tables.from_frames(nodes={"Declaration": pd.DataFrame(rows)})
    s = valuation_scores(t).set_index("key")
    assert s.loc["DP/1", "peer_n"] == len(prices)
    assert abs(s.loc["DP/1", "robust_z"]) < 3.5
    assert "DP/1" not in flagged(detect_overvaluation(t))

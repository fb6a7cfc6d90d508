"""circular_trade: planted carousels and round trips alert once each, among them the
related-party round trip at a marked-up value (goods equal only at HS4, quantities drifting or
missing, hops seen from the export side, the import side or both, turning twice); processing
trade, out-of-order hops, hops outside the window and unrelated hops of incomparable value do
not. The fast search finds exactly the cycles of the networkx brute force."""
from __future__ import annotations

import pandas as pd
from _netkit import decl, entity_ids, make_tables, trader

from graphiff.detectors.circular_trade import (
    circular_trade,
    circular_trade_bruteforce,
    circular_trade_cycles,
)
from graphiff.detectors.registry import REGISTRY
from graphiff.graph.features import trade_edges
from graphiff.graph.graphs import trade_graph


def mirrored(did: str, exporter: str, importer: str, date: str, import_date: str, **kw) -> list[dict]:
    """An export declaration and the partner's import declaration of the same shipment."""
    doc = f"BL-{did}"
    return [
        decl(f"X{did}", exporter, importer, date, flow="EXPORT", doc=doc, **kw),
        decl(f"M{did}", exporter, importer, import_date, flow="IMPORT", doc=doc.lower(), **kw),
    ]


def world():
    rows = []
    # carousel A(KE) -> B(UG) -> C(TZ) -> A, turning twice; every hop seen by both administrations
    for turn, base in enumerate((0, 60)):
        for i, (a, b) in enumerate((("A", "B"), ("B", "C"), ("C", "A"))):
            d = pd.Timestamp("2024-01-01") + pd.Timedelta(days=base + 15 * i)
            rows += mirrored(f"car{turn}{i}", a, b, d.strftime("%Y-%m-%d"),
                             (d + pd.Timedelta(days=5)).strftime("%Y-%m-%d"), value=200_000 * (1 + 0.05 * i))
    # round trip through a sister company: R1 exports, R2 (same owner) re-imports
    rows += [decl("rt1", "R1", "F1", "2024-03-01", hs="710812", value=500_000, mass=10),
             decl("rt2", "F1", "R2", "2024-03-20", hs="710812", value=520_000, mass=10)]
    # plain round trip: S exports and re-imports
    rows += [decl("s1", "S", "G", "2024-02-01", hs="300490", value=80_000, mass=500),
             decl("s2", "G", "S", "2024-02-25", hs="300490", value=81_000, mass=500)]
    # decoy: processing trade (cotton out, garments back)
    rows += [decl("p1", "P", "Q", "2024-01-10", hs="520100", value=100_000, mass=50_000),
             decl("p2", "Q", "P", "2024-03-10", hs="610910", value=110_000, mass=40_000)]
    # decoy: out-of-order hops (no rotation is time-respecting)
    rows += [decl("o1", "O1", "O2", "2024-01-10", hs="090111"), decl("o2", "O2", "O3", "2024-01-30", hs="090111"),
             decl("o3", "O3", "O1", "2024-01-20", hs="090111")]
    # decoy: goods come back after the window
    rows += [decl("w1", "W1", "W2", "2024-01-01", hs="870323"), decl("w2", "W2", "W1", "2024-10-01", hs="870323")]
    # decoy: not comparable (a sample sent back)
    rows += [decl("v1", "V1", "V2", "2024-01-01", hs="847130", value=900_000, mass=9_000),
             decl("v2", "V2", "V1", "2024-01-15", hs="847130", value=2_000, mass=15)]
    # same HS4 but different HS6 (caught at the default hs_level=4, not at 6)
    rows += [decl("h1", "H1", "H2", "2024-04-01", hs="851712"), decl("h2", "H2", "H1", "2024-04-20", hs="851762")]
    rows += related_round_trip()
    # decoy: unrelated parties, the same mass back at 2.5x the value (not comparable)
    rows += [decl("u1", "U1", "U2", "2024-05-01", hs="620342", value=100_000, mass=1_000),
             decl("u2", "U2", "U1", "2024-06-01", hs="620342", value=250_000, mass=1_000)]
    # decoy: related parties, but processing trade (cotton out, garments back at 3x)
    rows += [decl("pr1", "RP1", "RP2", "2024-05-01", hs="520100", value=100_000, mass=50_000),
             decl("pr2", "RP2", "RP1", "2024-06-15", hs="620342", value=300_000, mass=40_000)]
    traders = [trader("A", "KE"), trader("B", "UG"), trader("C", "TZ"), trader("K", "KE"), trader("KF", "AE")]
    officers = [("Person", "OWN1", "Trader", "R1", "OWNER"), ("Person", "OWN1", "Trader", "R2", "OWNER"),
                ("Person", "UBO2", "Trader", "K", "UBO"), ("Person", "UBO2", "Trader", "KF", "UBO"),
                ("Person", "DIR3", "Trader", "RP1", "DIRECTOR"), ("Person", "DIR3", "Trader", "RP2", "DIRECTOR")]
    return make_tables(decls=rows, traders=traders, officers=officers, persons=["OWN1", "UBO2", "DIR3"])


def related_round_trip() -> list[dict]:
    """K (KE) ships garments to KF (AE, same UBO), which ships them back five weeks later at
    2.5x and then 3x the value, twice: HS6 differs within HS4, the mass drifts, a quantity is
    missing; the first hop is declared by both administrations without a common document
    (transport document on export, invoice only on import), the second only on import, the
    second turn only on export."""
    return [
        decl("k1x", "K", "KF", "2024-05-01", hs="620342", value=100_000, mass=1_000, qty=1_000, flow="EXPORT",
             doc="BL-K1"),
        decl("k1m", "K", "KF", "2024-05-09", hs="620342", value=104_000, mass=1_010, qty=1_000, flow="IMPORT",
             rc="AE", inv="INV-K1"),
        decl("k2m", "KF", "K", "2024-06-05", hs="620349", value=250_000, mass=960, qty=None, flow="IMPORT",
             doc="BL-K2"),
        decl("k3x", "K", "KF", "2024-07-01", hs="620342", value=120_000, mass=1_200, qty=1_200, doc="BL-K3"),
        decl("k4x", "KF", "K", "2024-08-05", hs="620342", value=360_000, mass=1_150, qty=1_150, rc="AE",
             doc="BL-K4"),
    ]


def test_registered():
    assert "circular_trade" in REGISTRY
    assert REGISTRY["circular_trade"].defaults["window_days"] == 240
    assert REGISTRY["circular_trade"].defaults["max_len"] == 6


def test_mirror_pairs_become_one_shipment():
    e = trade_edges(world())
    car = e[e["decl"].str.startswith("Xcar")]
    assert len(car) == 6  # 12 declarations, 6 shipments
    assert all(len(d) == 2 for d in car["decls"])
    g = trade_graph(world())
    assert g.is_directed() and g.ecount() == len(e)
    assert {"decl", "date", "hs", "net_mass_kg", "value_usd", "quantity"} <= set(g.es.attributes())


def test_planted_patterns_alert_and_decoys_do_not():
    alerts = circular_trade(world())
    sets = [entity_ids(a) for a in alerts]
    assert {"A", "B", "C"} in sets
    assert {"R1", "F1", "R2"} in sets
    assert {"S", "G"} in sets
    assert {"H1", "H2"} in sets
    assert {"K", "KF"} in sets
    assert len(alerts) == 5, [a.explanation for a in alerts]
    flagged = set().union(*sets)
    for decoy in ("P", "Q", "O1", "O2", "O3", "W1", "W2", "V1", "V2", "U1", "U2", "RP1", "RP2"):
        assert decoy not in flagged
    car = next(a for a in alerts if entity_ids(a) == {"A", "B", "C"})
    assert car.evidence["turns"] == 2
    assert "2 times" in car.explanation and "3 countries" in car.explanation
    assert len(car.evidence["hops"]) == 6
    assert len(car.evidence["declarations"]) == 12  # both sides of every shipment
    assert all(h["hs"] == "8517" for h in car.evidence["hops"])
    assert 0 < car.score <= 1


def test_related_party_round_trip_at_a_markup():
    alerts = circular_trade(world())
    k = next(a for a in alerts if entity_ids(a) == {"K", "KF"})
    ev = k.evidence
    assert ev["turns"] == 2 and ev["related"] is True
    assert len(ev["hops"]) == 4  # the shipment declared twice is one hop
    assert {"k1x/1", "k1m/1"} <= set(ev["hops"][0]["declarations"])
    assert 2.9 < ev["markup"] <= 3.0
    assert "related parties, value up to 3.0x" in k.explanation
    unrelated = next(a for a in alerts if entity_ids(a) == {"S", "G"})
    assert k.score > unrelated.score
    # without the related-party search the markup breaks the cycle
    assert {"K", "KF"} not in [entity_ids(a) for a in circular_trade(world(), related_markup=0)]


def test_hs_level_six_keeps_subheadings_apart():
    sets = [entity_ids(a) for a in circular_trade(world(), hs_level=6)]
    assert {"H1", "H2"} not in sets and {"A", "B", "C"} in sets


def test_related_parties_can_be_switched_off():
    alerts = circular_trade(world(), related_parties=False)
    assert {"R1", "F1", "R2"} not in [entity_ids(a) for a in alerts]


def test_window_and_length_parameters():
    assert {"A", "B", "C"} not in [entity_ids(a) for a in circular_trade(world(), max_len=2)]
    assert {"S", "G"} not in [entity_ids(a) for a in circular_trade(world(), window_days=10)]


def test_fast_search_equals_bruteforce_on_the_world():
    t = world()
    for params in ({}, {"hs_level": 4}, {"max_len": 2}, {"window_days": 30}, {"related_parties": False}):
        fast = circular_trade_cycles(t, **params)
        assert fast == circular_trade_bruteforce(t, **params)
    assert len(circular_trade_cycles(t)) > 3

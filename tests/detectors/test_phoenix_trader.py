"""phoenix_trader: a trader that stops and a new one tied to it (phone, director) that takes
over its partners and goods alert as one (old, new) pair; a new company at a business-centre
address with other partners, a successor after a long gap, sister companies trading side by
side and a new company in other goods do not. Stored alerts of other families name the old
trader in the evidence and raise the score."""
from __future__ import annotations

import pandas as pd
from _netkit import decl, entity_ids, make_tables, trader

from graphiff.alerts import Alert, alert_rows
from graphiff.detectors.phoenix_trader import phoenix_trader, trader_links
from graphiff.detectors.registry import REGISTRY
from graphiff.graph.tables import Tables


def every(start: str, end: str, days: int) -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in pd.date_range(start, end, freq=f"{days}D")]


def trades(prefix: str, trader_id: str, partners: list[str], dates: list[str], hs: str = "851712",
           export: bool = True) -> list[dict]:
    rows = []
    for i, d in enumerate(dates):
        p = partners[i % len(partners)]
        a, b = (trader_id, p) if export else (p, trader_id)
        rows.append(decl(f"{prefix}{i}", a, b, d, hs=hs, value=50_000 + 100 * i, mass=500))
    return rows


def world(prior_alert: bool = False) -> Tables:
    d: list[dict] = []
    # background that keeps trading to the end of the data (2024-12)
    d += trades("bg", "BG1", ["BG2", "BG3"], every("2024-01-01", "2024-12-20", 10), hs="090111")
    # OLD stops mid-May; NEW (same phone) registered in June, same buyers, same HS4 (another HS6)
    d += trades("old", "OLD", ["P1", "P2", "P3"], every("2024-01-05", "2024-05-15", 9))
    d += trades("new", "NEW", ["P1", "P2", "Q9"], every("2024-06-20", "2024-12-15", 9), hs="851762")
    # OLD2 imports from suppliers, stops in April; NEW2 shares its director, no registration date
    d += trades("od", "OLD2", ["S1", "S2"], every("2024-01-10", "2024-04-10", 12), hs="610910", export=False)
    d += trades("nd", "NEW2", ["S1", "S2"], every("2024-05-01", "2024-11-30", 12), hs="610910", export=False)
    # decoy: business centre - BCO stops, BCN (same big address) starts but trades with others
    d += trades("bco", "BCO", ["P4", "P5"], every("2024-01-05", "2024-04-30", 10))
    d += trades("bcn", "BCN", ["R1", "R2"], every("2024-06-01", "2024-12-01", 10))
    # decoy: a legitimate successor after a long gap (same director, same partners)
    d += trades("lo", "LOLD", ["P6", "P7"], every("2023-01-05", "2023-03-30", 10), hs="300490")
    d += trades("ln", "LNEW", ["P6", "P7"], every("2024-06-01", "2024-12-01", 10), hs="300490")
    # decoy: sister companies at one address, both trading throughout
    d += trades("sa", "SIS1", ["P8"], every("2024-01-05", "2024-12-10", 15), hs="400110")
    d += trades("sb", "SIS2", ["P8"], every("2024-01-08", "2024-12-12", 15), hs="400110")
    # decoy: the old one's e-mail, its partners, but other goods (a different business)
    d += trades("go", "GOLD", ["P9", "P10"], every("2024-01-05", "2024-05-01", 10), hs="080390")
    d += trades("gn", "GNEW", ["P9", "P10"], every("2024-06-01", "2024-12-01", 10), hs="720839")
    traders = [
        trader("OLD", "KE", reg="2021-03-01"), trader("NEW", "KE", reg="2024-06-02", employees=1),
        trader("OLD2", "UG", reg="2019-05-05"), trader("NEW2", "UG", reg=None),
        trader("BCO", "AE", reg="2020-01-01"), trader("BCN", "AE", reg="2024-05-20"),
        trader("LOLD", "KE", reg="2015-01-01"), trader("LNEW", "KE", reg="2024-05-01"),
        trader("SIS1", "KE", reg="2010-01-01"), trader("SIS2", "KE", reg="2012-01-01"),
        trader("GOLD", "TZ", reg="2018-01-01"), trader("GNEW", "TZ", reg="2024-05-15"),
    ]
    centre = "OFFICE 1 BUSINESS BAY TOWER DUBAI"
    located = [("Trader", "BCO", centre), ("Trader", "BCN", centre),
               *[("Trader", f"BC{i}", centre) for i in range(8)],
               ("Trader", "SIS1", "7 INDUSTRIAL AREA NAIROBI"), ("Trader", "SIS2", "7 INDUSTRIAL AREA NAIROBI")]
    phones = [("Trader", "OLD", "+254700111222"), ("Trader", "NEW", "+254700111222")]
    emails = [("Trader", "GOLD", "sales@gold.example"), ("Trader", "GNEW", "sales@gold.example")]
    officers = [("Person", "DIR2", "Trader", "OLD2", "DIRECTOR"), ("Person", "DIR2", "Trader", "NEW2", "DIRECTOR"),
                ("Person", "DIR3", "Trader", "LOLD", "DIRECTOR"), ("Person", "DIR3", "Trader", "LNEW", "OWNER")]
    t = make_tables(decls=d, traders=traders, located=located, phones=phones, emails=emails, officers=officers,
                    persons=["DIR2", "DIR3"])
    if not prior_alert:
        return t
    raw = t.raw
    nodes, flags = alert_rows([Alert("mirror_discrepancy", 0.8, [{"label": "Trader", "id": "OLD"}], "gap")], {})
    frames = {lab: raw.nodes(lab) for lab in ("Declaration", "Trader", "Person")}
    rels = {r: raw.rels(r) for r in ("OFFICER_OF", "LOCATED_AT", "HAS_PHONE", "HAS_EMAIL")}
    return Tables.from_frames(nodes={**frames, "Alert": nodes}, rels={**rels, "FLAGS": flags})


def test_registered_with_defaults():
    det = REGISTRY["phoenix_trader"]
    assert det.defaults["max_gap_days"] == 180 and det.defaults["use_stored_alerts"] is True


def test_links_cover_identifiers_and_officers():
    links = trader_links(world())
    kinds = {(a, b): k for a, b, k in zip(links["a"], links["b"], links["kind"])}
    assert kinds[("NEW", "OLD")] == "Phone"
    assert kinds[("NEW2", "OLD2")] == "officer"
    assert kinds[("SIS1", "SIS2")] == "Address"
    assert trader_links(world(), max_companies=5).query("kind == 'Address'")["a"].isin(["BCO", "BCN"]).sum() == 0


def test_phoenix_pairs_alert_and_decoys_do_not():
    alerts = phoenix_trader(world())
    assert sorted(sorted(entity_ids(a)) for a in alerts) == [["NEW", "OLD"], ["NEW2", "OLD2"]]
    a = next(x for x in alerts if entity_ids(x) == {"OLD", "NEW"})
    ev = a.evidence
    assert ev["old"]["last_date"] == "2024-05-10" and ev["new"]["registration_date"] == "2024-06-02"
    assert ev["links"] == [{"kind": "Phone", "via": "+254700111222", "companies": 2}]
    assert ev["shared_partners"] == ["P1", "P2"] and ev["shared_goods"] == ["8517"]
    assert ev["old"]["abrupt_stop"] and ev["prior_alerts"] == []
    assert ev["new"]["first_declarations"][0] == "new0/1"
    assert "stopped trading on 2024-05-10" in a.explanation and "phone" in a.explanation
    assert 0 < a.score <= 1
    b = next(x for x in alerts if entity_ids(x) == {"OLD2", "NEW2"})
    assert b.evidence["new"]["registration_date"] is None  # started = first shipment
    assert b.evidence["links"][0]["kind"] == "officer"


def test_gap_is_a_parameter():
    alerts = phoenix_trader(world(), max_gap_days=600)
    assert {"LOLD", "LNEW"} in [entity_ids(a) for a in alerts]
    assert {"OLD", "NEW"} not in [entity_ids(a) for a in phoenix_trader(world(), max_gap_days=10)]


def test_stored_alerts_of_other_families_raise_the_score():
    plain = {frozenset(entity_ids(a)): a for a in phoenix_trader(world())}
    prior = {frozenset(entity_ids(a)): a for a in phoenix_trader(world(prior_alert=True))}
    key = frozenset({"OLD", "NEW"})
    assert prior[key].score > plain[key].score
    assert [x["pattern"] for x in prior[key].evidence["prior_alerts"]] == ["mirror_discrepancy"]
    assert "flagged by mirror_discrepancy" in prior[key].explanation
    off = {frozenset(entity_ids(a)): a for a in phoenix_trader(world(prior_alert=True), use_stored_alerts=False)}
    assert off[key].score == plain[key].score

"""shell_intermediary: a young, staff-less pass-through trader at a mass address with a nominee
director alerts, and so does a re-invoicing intermediary seen from one side only (import
declarations naming it as seller while the goods come from elsewhere, its purchase declared
nowhere, the money through its account within days); an established distributor (slow
turnover, staff), a legitimate fast re-seller with staff, a shell-looking company that never
passes goods through, an established re-invoicing distributor whose money stays, and a new
re-invoicing company with one structural flag and no money flow do not."""
from __future__ import annotations

from _netkit import account, decl, entity_ids, make_tables, payment, trader

from graphiff.detectors.registry import REGISTRY
from graphiff.detectors.shell_intermediary import pass_through_pairs, shell_intermediary
from graphiff.graph.features import trade_edges


def world():
    d, pays = [], []
    # SH: buys phones from CN1 and resells them to KE1 two to four days later, three times
    for i, (buy, sell) in enumerate((("2024-02-01", "2024-02-03"), ("2024-03-01", "2024-03-05"),
                                     ("2024-04-10", "2024-04-12"))):
        d.append(decl(f"sb{i}", "CN1", "SH", buy, value=100_000, mass=800))
        d.append(decl(f"ss{i}", "SH", "KE1", sell, value=102_000, mass=800))
        pays.append(payment(f"pin{i}", "A-KE1", "A-SH", sell, 102_000))
        pays.append(payment(f"pout{i}", "A-SH", "A-CN1", sell[:-2] + f"{int(sell[-2:]) + 1:02d}", 100_000))
    # DI: established distributor - buys, sells 2-3 months later, 80 staff
    for i, (buy, sell) in enumerate((("2024-01-05", "2024-03-20"), ("2024-02-05", "2024-04-25"),
                                     ("2024-03-05", "2024-05-30"))):
        d.append(decl(f"db{i}", "CN1", "DI", buy, value=100_000, mass=800))
        d.append(decl(f"ds{i}", "DI", "KE2", sell, value=140_000, mass=800))
    # FR: fast legitimate re-seller (cross-docking) with staff, old, own address
    for i, (buy, sell) in enumerate((("2024-01-10", "2024-01-12"), ("2024-02-10", "2024-02-12"))):
        d.append(decl(f"fb{i}", "CN2", "FR", buy, hs="080390", value=20_000, mass=10_000))
        d.append(decl(f"fs{i}", "FR", "KE3", sell, hs="080390", value=26_000, mass=10_000))
    # LK: looks like a shell (new, no staff, mass address) but buys phones and sells cables
    d.append(decl("lb", "CN1", "LK", "2024-02-01", value=50_000, mass=400))
    d.append(decl("ls", "LK", "KE1", "2024-02-03", hs="854442", value=50_000, mass=400))
    # RI (AE): seen only on KE's imports - sells goods dispatched from CN, its purchase declared
    # nowhere; KE1 pays it, it pays the supplier (and a little onwards) within days
    for i, day in enumerate(("2024-05-02", "2024-06-03", "2024-07-01")):
        d.append(one_sided(f"ri{i}", "RI", "AE", "KE1", day, "CN", value=300_000))
        pays.append(payment(f"rin{i}", "A-KE1", "A-RI", day, 300_000))
        pays.append(payment(f"rout{i}", "A-RI", "A-CN1", day[:-2] + f"{int(day[-2:]) + 2:02d}", 180_000))
        pays.append(payment(f"rfee{i}", "A-RI", "A-VG", day[:-2] + f"{int(day[-2:]) + 3:02d}", 100_000))
    # decoy: an established distributor in SG re-invoicing goods shipped from CN; pays 40 days later
    for i, (day, paid) in enumerate((("2024-05-02", "2024-06-11"), ("2024-06-03", "2024-07-13"))):
        d.append(one_sided(f"sg{i}", "SGD", "SG", "KE2", day, "CN", value=200_000))
        pays.append(payment(f"sgin{i}", "A-KE2", "A-SGD", day, 200_000))
        pays.append(payment(f"sgout{i}", "A-SGD", "A-CN1", paid, 150_000))
    # decoy: a new re-invoicing company (one structural flag) whose money does not pass through
    for i, day in enumerate(("2024-05-05", "2024-06-06")):
        d.append(one_sided(f"nf{i}", "NF", "UG", "KE3", day, "CN", value=80_000))
    traders = [
        trader("RI", "AE", reg="2024-03-01", employees=0), trader("SGD", "SG", reg="1998-01-01", employees=300),
        trader("NF", "UG", reg="2024-02-01", employees=25),
        trader("SH", "AE", reg="2023-12-15", employees=1), trader("DI", "KE", reg="2001-01-01", employees=80),
        trader("FR", "KE", reg="1999-05-05", employees=150), trader("LK", "KE", reg="2024-01-01", employees=0),
        trader("CN1", "CN"), trader("CN2", "CN"), trader("KE1", "KE"), trader("KE2", "KE"), trader("KE3", "KE"),
    ]
    mass_address = "SUITE 5 1 HARBOUR RD MOMBASA"
    located = [("Trader", "SH", mass_address), ("Trader", "LK", mass_address),
               *[("Trader", f"X{i}", mass_address) for i in range(6)], ("Trader", "FR", "9 MARKET ST"),
               ("Trader", "RI", mass_address)]
    officers = [("Person", "NOM", "Trader", "SH", "DIRECTOR"), ("Person", "NOM", "Trader", "LK", "DIRECTOR"),
                *[("Person", "NOM", "Trader", f"X{i}", "DIRECTOR") for i in range(6)],
                ("Person", "BOSS", "Trader", "DI", "DIRECTOR")]
    accounts = [account("A-SH", "SH", "AE"), account("A-KE1", "KE1"), account("A-CN1", "CN1", "CN"),
                account("A-RI", "RI", "AE"), account("A-VG", "VG1", "VG"), account("A-SGD", "SGD", "SG"),
                account("A-KE2", "KE2")]
    return make_tables(decls=d, traders=traders, payments=pays, accounts=accounts, located=located,
                       officers=officers, persons=["NOM", "BOSS"])


def one_sided(did: str, seller: str, seller_country: str, importer: str, date: str, dispatch: str,
              value: float) -> dict:
    """An import declaration in KE naming ``seller`` as exporter, the goods dispatched from
    ``dispatch``."""
    row = decl(did, seller, importer, date, hs="851713", value=value, mass=2_000, flow="IMPORT",
               exp_country=seller_country, imp_country="KE")
    row["dispatch_country"] = dispatch
    row["origin_country"] = dispatch
    return row


def test_registered_with_defaults():
    assert REGISTRY["shell_intermediary"].defaults["resale_days"] == 30


def test_pass_through_pairs():
    pairs = pass_through_pairs(trade_edges(world()), resale_days=14)
    assert set(pairs["trader"]) == {"SH", "FR"}
    # at the default 30 days a distributor buying every month pairs too (its staff and age keep it out)
    assert "DI" in set(pass_through_pairs(trade_edges(world()))["trader"])
    sh = pairs[pairs["trader"] == "SH"]
    assert len(sh) == 3 and sh["days"].max() <= 4


def test_shell_alerts_and_decoys_do_not():
    alerts = shell_intermediary(world())
    assert sorted(sorted(entity_ids(a)) for a in alerts) == [["RI"], ["SH"]]
    a = next(x for x in alerts if entity_ids(x) == {"SH"})
    ind = a.evidence["indicators"]
    for k in ("pass_through", "value_pattern", "fast_money", "recent_registration", "few_employees",
              "shared_address", "mass_director", "secrecy_jurisdiction"):
        assert ind[k]["value"] == 1.0, (k, ind[k])
    assert a.score > 0.95
    assert len(a.evidence["pass_through"]) == 3
    assert {"sb0/1", "ss0/1"} <= set(a.evidence["declarations"])
    assert "resold HS 851712 3 times" in a.explanation


def test_threshold_and_weights_are_parameters():
    assert shell_intermediary(world(), threshold=1.01) == []
    # with only pass-through counting, the fast legitimate re-seller would pass a low threshold
    low = shell_intermediary(world(), threshold=0.3)
    assert {"FR"} in [entity_ids(a) for a in low]
    assert "DI" not in {e for a in low for e in entity_ids(a)}


def test_one_sided_reinvoicing():
    a = next(x for x in shell_intermediary(world()) if entity_ids(x) == {"RI"})
    ind = a.evidence["indicators"]
    assert ind["pass_through"]["value"] == 1.0 and "dispatched from CN while in AE" in ind["pass_through"]["detail"]
    assert ind["fast_money"]["value"] == 1.0 and "93% of the money received" in ind["fast_money"]["detail"]
    for k in ("recent_registration", "few_employees", "shared_address", "secrecy_jurisdiction"):
        assert ind[k]["value"] == 1.0, (k, ind[k])
    assert [r["declaration"] for r in a.evidence["re_invoiced"]] == ["ri0/1", "ri1/1", "ri2/1"]
    assert a.evidence["re_invoiced"][0]["dispatch_country"] == "CN"
    assert "re-invoiced HS 851713" in a.explanation
    assert a.score >= 0.6
    # the money must show it: without the onward flow share the one-sided case is not enough
    assert {"RI"} not in [entity_ids(x) for x in shell_intermediary(world(), min_flow_share=0.99)]

"""Planted instances and decoys, one function per family (see blind_world for the sources)."""
from __future__ import annotations

import math
from datetime import date, timedelta

from benchmarks.blind.blind_world import CASH_THRESHOLD, CONSIGNMENT, CURRENCY, DAYS, FOREIGN, SECRECY, START, World


def _d(d: date, n: int) -> date:
    return d + timedelta(days=n)


def _n(w: World) -> int:
    return w.r.randint(3, 6)


def _hs_with_peers(w: World, min_n: int = 12) -> list[str]:
    count: dict[str, int] = {}
    for row in w.rows["declarations"]:
        count[row["hs_code"][:6]] = count.get(row["hs_code"][:6], 0) + 1
    return [h for h, n in count.items() if n >= min_n and h in w.goods]


# ------------------------------------------------------------------ circular_trade
def circular_trade(w: World) -> None:
    r = w.r
    for i in range(_n(w)):
        hs4 = r.choice(list(w.hs4_of))
        if i % 2 == 0 and len(w.admins) >= 2:       # carousel through three or four traders
            ccs = r.sample(w.admins, len(w.admins))
            if len(ccs) == 2 or r.random() < 0.4:
                ccs = ccs[:1] + [r.choice(FOREIGN)] + ccs[1:]   # a foreign hop between two administrations
            ts = [w.new_trader(c) for c in ccs]
            mass = math.exp(r.gauss(math.log(8000), 0.7))
            z0 = r.gauss(0, 1)   # the goods keep their place among peers at every hop
            d = w.day(0, 200)
            for _ in range(r.randint(2, 3)):
                for k in range(len(ts)):
                    a, b = ts[k], ts[(k + 1) % len(ts)]
                    hs6 = r.choice(w.hs4_of[hs4])
                    usd = mass * w.unit_price(hs6, z=z0)
                    s = w.ship(a, b, hs6, mass * r.uniform(0.97, 1.03), usd * r.uniform(0.88, 1.12), d)
                    w.settle(w.acct(b), a, s, delay=(0, 20))
                    d = _d(d, r.randint(8, 35))
            w.instance("circular_trade", "carousel", [("Trader", t) for t in ts],
                       f"{len(ts)} traders pass {hs4} goods round; values within about 12%")
        else:                                       # related-party round trip at a markup
            home = w.new_trader(r.choice(w.admins))
            abroad = w.new_trader(r.choice(["AE", "HK", "SG", "CH", "CY", "PA"]))
            owner = w.new_person(w.trader[home]["country"])
            w.officer(owner, home, "OWNER", 100.0)
            w.officer(owner, abroad, r.choice(["UBO", "OWNER", "SHAREHOLDER"]), r.choice([75.0, 100.0]))
            hs6 = r.choice(w.hs4_of[hs4])
            markup = r.uniform(1.8, 3.2)
            d = w.day(0, 300)
            for _ in range(r.randint(1, 2)):
                mass = math.exp(r.gauss(math.log(3000), 0.8))
                usd = mass * w.unit_price(hs6)
                w.ship(home, abroad, hs6, mass, usd, d)
                back = _d(d, r.randint(20, 75))
                s = w.ship(abroad, home, r.choice(w.hs4_of[hs4]), mass * r.uniform(0.95, 1.0), usd * markup, back)
                w.settle(w.acct(home), abroad, s, delay=(0, 30))
                d = _d(back, r.randint(30, 90))
            w.instance("circular_trade", "related_round_trip", [("Trader", home), ("Trader", abroad)],
                       f"same owner; goods out and back at {markup:.1f}x")
    # decoys: outward processing (goods come back transformed), a triangle of different goods
    for i in range(r.randint(2, 3)):
        home = w.new_trader(r.choice(w.admins))
        abroad = w.new_trader(r.choice(["VN", "BD", "MA", "TR"]))
        if i % 2 == 0:
            hs_a, hs_b = r.sample(list(w.hs4_of), 2)
            d = w.day(0, 350)
            for _ in range(3):
                mass = r.uniform(2000, 9000)
                w.ship(home, abroad, w.hs4_of[hs_a][0], mass, mass * w.unit_price(w.hs4_of[hs_a][0]), d)
                s = w.ship(abroad, home, w.hs4_of[hs_b][0], mass * 0.8,
                           mass * 0.8 * w.unit_price(w.hs4_of[hs_b][0]), _d(d, r.randint(30, 60)))
                w.settle(w.acct(home), abroad, s)
                d = _d(d, 70)
            w.decoy("circular_trade", "outward_processing", [("Trader", home), ("Trader", abroad)],
                    f"{hs_a} out, processed {hs_b} back: different goods")
        else:
            third = w.new_trader(r.choice(w.admins))
            ts = [home, abroad, third]
            hs = r.sample(list(w.hs4_of), 3)
            d = w.day(0, 400)
            for k in range(3):
                h6 = w.hs4_of[hs[k]][0]
                mass = r.uniform(1000, 9000)
                s = w.ship(ts[k], ts[(k + 1) % 3], h6, mass, mass * w.unit_price(h6), _d(d, 20 * k))
                w.settle(w.acct(ts[(k + 1) % 3]), ts[k], s)
            w.decoy("circular_trade", "triangle_different_goods", [("Trader", t) for t in ts],
                    "three traders trade in a ring, each hop other goods")


# ------------------------------------------------------------------ circular_payment
def circular_payment(w: World) -> None:
    r = w.r
    for _ in range(_n(w)):
        k = r.randint(3, 6)
        holders = [w.new_trader(r.choice(w.admins + FOREIGN + SECRECY)) if r.random() < 0.7
                   else w.new_person(r.choice(w.admins), account=True) for _ in range(k)]
        accs = [w.acct(h) for h in holders]
        margin = r.uniform(0.005, 0.06)
        cur = r.choice(["USD", "EUR", "USD"])
        d = w.day(0, 350)
        reps = r.randint(2, 4)
        for _ in range(reps):
            amount = math.exp(r.gauss(math.log(120_000), 0.8))
            t = d
            for j in range(k):
                w.pay(accs[j], accs[(j + 1) % k], amount, t, currency=cur,
                      ref=r.choice(["consulting", "services", "loan repayment", "invoice", ""]))
                amount *= 1 - margin * r.uniform(0.6, 1.4)
                t = _d(t, r.randint(0, 4))
            # repetitions are not always after the previous one ended
            d = _d(d, r.randint(-3, 40) if r.random() < 0.3 else r.randint(10, 45))
        for a in accs:   # the accounts also do a little ordinary business
            for _ in range(r.randint(0, 3)):
                w.pay(a, w.acct(r.choice(w.foreign)), r.uniform(500, 20000), w.day(), currency=cur, ref="goods")
        w.instance("circular_payment", "cycle_with_margin", [("BankAccount", a) for a in accs],
                   f"{k} accounts, {margin:.1%} kept per hop, {reps} rounds")
    for i in range(r.randint(2, 3)):
        holders = [w.new_trader(r.choice(w.admins + FOREIGN)) for _ in range(r.randint(3, 5))]
        accs = [w.acct(h) for h in holders]
        if i % 2 == 0:   # a chain that never closes
            d = w.day(0, 400)
            for _ in range(2):
                amount = r.uniform(30_000, 200_000)
                for j in range(len(accs) - 1):
                    w.pay(accs[j], accs[j + 1], amount, _d(d, j), ref="services")
                    amount *= 0.97
                d = _d(d, 30)
            w.decoy("circular_payment", "open_chain", [("BankAccount", a) for a in accs],
                    "money moves along a chain and does not come back")
        else:            # a slow trade loop: goods bought round a ring months apart, unrelated amounts
            d = w.day(0, 200)
            for j in range(len(accs)):
                w.pay(accs[j], accs[(j + 1) % len(accs)], r.uniform(2_000, 300_000), d, ref="goods")
                d = _d(d, r.randint(60, 110))
            w.decoy("circular_payment", "slow_trade_loop", [("BankAccount", a) for a in accs],
                    "a ring of ordinary purchases months apart, amounts unrelated")


# ------------------------------------------------------------------ shell_intermediary
def _shell(w: World) -> str:
    r = w.r
    cc = r.choice(SECRECY)
    reg = w.day(0, 250)
    s = w.new_trader(cc, reg=reg, addr=w.centres[cc], employees=r.choice([0, None]),
                     bank_cc=r.choice([cc, "CY", "HK", "AE"]))
    w.officer(r.choice(w.nominees), s, "DIRECTOR", start=reg)
    return s


def shell_intermediary(w: World) -> None:
    r = w.r
    for i in range(_n(w)):
        s = _shell(w)
        reg = date.fromisoformat(w.trader[s]["registration_date"])
        markup = r.uniform(1.0, 1.35)
        if i % 3 != 2:   # re-invoicing seen from one side only
            sup = w.new_trader(r.choice(["CN", "VN", "TR", "IN", "TH"]))
            buyers = [r.choice(sum(w.home.values(), [])) for _ in range(r.randint(1, 2))]
            hs6 = r.choice(list(w.goods))
            d = _d(reg, r.randint(20, 90))
            for _ in range(r.randint(3, 6)):
                mass = math.exp(r.gauss(math.log(4000), 0.8))
                usd = mass * w.unit_price(hs6)
                b = r.choice(buyers)
                sc = w.trader[sup]["country"]
                sh = w.ship(s, b, hs6, mass, usd * markup, d, sides=("IMPORT",), dispatch=sc, origin=sc)
                paid = _d(d, r.randint(0, 25))
                w.pay(w.acct(b), w.acct(s), usd * markup, paid, currency=sh["currency"], inv=sh["invoice_no"])
                w.pay(w.acct(s), w.acct(sup), usd * r.uniform(0.85, 1.0), _d(paid, r.randint(1, 6)),
                      currency=sh["currency"], ref="purchase")
                d = _d(d, r.randint(10, 45))
            w.instance("shell_intermediary", "one_sided_reinvoicing", [("Trader", s)],
                       f"invoices from {w.trader[s]['country']}, goods from {w.trader[sup]['country']}; "
                       f"formation-agent address, nominee director, new, no staff")
        else:            # two-sided pass-through between two administrations (or one admin both ways)
            a = r.choice(w.admins)
            b = r.choice([c for c in w.admins if c != a] or [a])
            sup, buyer = r.choice(w.home[a]), r.choice(w.home[b])
            hs6 = r.choice(list(w.goods))
            d = _d(reg, r.randint(20, 90))
            for _ in range(r.randint(2, 5)):
                mass = math.exp(r.gauss(math.log(4000), 0.8))
                usd = mass * w.unit_price(hs6)
                s1 = w.ship(sup, s, hs6, mass, usd, d, sides=("EXPORT",))
                s2 = w.ship(s, buyer, hs6, mass, usd * markup, _d(d, r.randint(1, 12)), sides=("IMPORT",),
                            dispatch=a, origin=a)
                paid = _d(d, r.randint(5, 25))
                w.pay(w.acct(buyer), w.acct(s), usd * markup, paid, currency=s2["currency"], inv=s2["invoice_no"])
                w.pay(w.acct(s), w.acct(sup), usd, _d(paid, r.randint(1, 5)), currency=s1["currency"],
                      inv=s1["invoice_no"])
                d = _d(d, r.randint(15, 50))
            w.instance("shell_intermediary", "two_sided_pass_through", [("Trader", s)],
                       f"buys from {a} and resells to {b} within days at {markup:.2f}x")
    # decoys: an established distributor, a business-centre tenant shipping its own goods
    for i in range(r.randint(2, 3)):
        if i % 2 == 0:
            dist = w.new_trader(r.choice(["HK", "SG"]), reg=START - timedelta(days=r.randint(3000, 7000)),
                                employees=r.randint(40, 300))
            sups = [w.new_trader("CN") for _ in range(4)]
            total = 0.0
            for _ in range(r.randint(6, 12)):
                sup = r.choice(sups)
                hs6 = r.choice(list(w.goods))
                mass = math.exp(r.gauss(math.log(3000), 0.7))
                usd = mass * w.unit_price(hs6)
                b = r.choice(sum(w.home.values(), []))
                sh = w.ship(dist, b, hs6, mass, usd, w.day(0, 450), sides=("IMPORT",), dispatch="CN", origin="CN")
                w.settle(w.acct(b), dist, sh, delay=(30, 60))
                total += usd
            for mo in range(0, DAYS // 30, 2):
                w.pay(w.acct(dist), w.acct(r.choice(sups)), total / 12, START + timedelta(days=30 * mo + 15),
                      ref="monthly supplier settlement")
            w.decoy("shell_intermediary", "established_distributor", [("Trader", dist)],
                    "old Hong Kong/Singapore distributor with staff, re-invoices Chinese goods, pays suppliers monthly")
        else:
            cc = r.choice(SECRECY)
            ten = w.new_trader(cc, addr=w.centres[cc], reg=START - timedelta(days=2500), employees=r.randint(5, 30))
            for _ in range(r.randint(3, 6)):
                hs6 = r.choice(list(w.goods))
                mass = r.uniform(500, 5000)
                b = r.choice(sum(w.home.values(), []))
                sh = w.ship(ten, b, hs6, mass, mass * w.unit_price(hs6), w.day(), sides=("IMPORT",))
                w.settle(w.acct(b), ten, sh)
            w.decoy("shell_intermediary", "business_centre_tenant", [("Trader", ten)],
                    "at a formation-agent address, but ships its own goods and keeps the money")


# ------------------------------------------------------------------ phoenix_trader
def phoenix_trader(w: World) -> None:
    r = w.r
    for _ in range(_n(w)):
        cc = r.choice(w.admins)
        old = w.new_trader(cc, reg=START - timedelta(days=r.randint(400, 3000)))
        partners = [w.new_trader(r.choice(FOREIGN)) for _ in range(r.randint(2, 4))]
        hs4 = r.choice(list(w.hs4_of))
        d = w.day(0, 60)
        last = d
        for _ in range(r.randint(8, 14)):
            p = r.choice(partners)
            hs6 = r.choice(w.hs4_of[hs4])
            mass = math.exp(r.gauss(math.log(2500), 0.6))
            s = w.ship(p, old, hs6, mass, mass * w.unit_price(hs6), d)
            w.settle(w.acct(old), p, s)
            last = d
            d = _d(d, r.randint(10, 30))
        link = r.choice(["address", "phone", "director"])
        reg = _d(last, r.randint(5, 90))
        o = w.trader[old]
        addr = {"address": o["address"], "city": o["city"], "postcode": o["postcode"]} if link == "address" else None
        new = w.new_trader(cc, reg=reg, addr=addr, phone=o["phone"] if link == "phone" and o["phone"] else None)
        if link == "director" or (link == "phone" and not o["phone"]):
            p = w.new_person(cc)
            w.officer(p, old, "DIRECTOR")
            w.officer(p, new, "DIRECTOR", start=reg)
        d = _d(reg, r.randint(10, 60))
        for _ in range(r.randint(4, 9)):
            if d > START + timedelta(days=DAYS):
                break
            p = r.choice(partners)
            hs6 = r.choice(w.hs4_of[hs4])
            mass = math.exp(r.gauss(math.log(2500), 0.6))
            s = w.ship(p, new, hs6, mass, mass * w.unit_price(hs6), d)
            w.settle(w.acct(new), p, s)
            d = _d(d, r.randint(10, 30))
        w.instance("phoenix_trader", f"same_{link}", [("Trader", old), ("Trader", new)],
                   f"old stops; new registered at its {link}, same partners and {hs4} goods")
    for i in range(r.randint(2, 3)):
        cc = r.choice(w.admins)
        old = w.new_trader(cc)
        partners = [w.new_trader(r.choice(FOREIGN)) for _ in range(2)]
        hs4 = r.choice(list(w.hs4_of))
        d = w.day(0, 40)
        for _ in range(8):
            hs6 = r.choice(w.hs4_of[hs4])
            w.ship(r.choice(partners), old, hs6, 2000, 2000 * w.unit_price(hs6), d)
            d = _d(d, 25)
        o = w.trader[old]
        if i % 2 == 0:   # a new tenant at the same address, other partners, other goods
            new = w.new_trader(cc, reg=_d(d, 20), addr={"address": o["address"], "city": o["city"],
                                                        "postcode": o["postcode"]})
            other = w.new_trader(r.choice(FOREIGN))
            hs_o = r.choice([h for h in w.hs4_of if h != hs4])
            for k in range(5):
                hs6 = w.hs4_of[hs_o][0]
                w.ship(other, new, hs6, 1500, 1500 * w.unit_price(hs6), _d(d, 40 + 25 * k))
            w.decoy("phoenix_trader", "new_tenant_same_address", [("Trader", old), ("Trader", new)],
                    "new firm at the address of one that stopped, but other partners and other goods")
        else:            # a sister company of the same director, trading alongside, the old one goes on
            new = w.new_trader(cc, reg=_d(d, -100))
            p = w.new_person(cc)
            w.officer(p, old, "DIRECTOR")
            w.officer(p, new, "DIRECTOR")
            for k in range(8):
                hs6 = r.choice(w.hs4_of[hs4])
                w.ship(r.choice(partners), old, hs6, 2000, 2000 * w.unit_price(hs6), _d(d, 25 * k))
                w.ship(r.choice(partners), new, hs6, 1800, 1800 * w.unit_price(hs6), _d(d, 25 * k + 9))
            w.decoy("phoenix_trader", "sister_company_both_trading", [("Trader", old), ("Trader", new)],
                    "same director, same partners, but the old firm never stops")


# ------------------------------------------------------------------ linked_carriers
def linked_carriers(w: World) -> None:
    r = w.r
    for i in range(_n(w)):
        size = 2 if i % 2 == 0 else r.randint(3, 4)
        cc = r.choice(w.admins + FOREIGN)
        links = r.sample(["officer", "phone", "address", "conveyance", "containers"], r.randint(1, 3))
        addr = w.address(cc)
        phone = w.phone(cc)
        cs = [w.new_carrier(cc if k == 0 or r.random() < 0.5 else r.choice(FOREIGN), r.choice(["FORWARDER", "ROAD"]),
                            addr=addr if "address" in links else None,
                            phone=phone if "phone" in links else None) for k in range(size)]
        if "officer" in links:
            boss = w.new_person(cc)
            for c in cs:
                w.officer(boss, c, r.choice(["DIRECTOR", "OWNER"]))
        truck = f"TRK-{r.randint(1000, 9999)}"
        box = [w.container(cs[0]) for _ in range(3)]
        clients = [w.new_trader(r.choice(w.admins)) for _ in range(r.randint(2, 4))]
        sellers = [w.new_trader(r.choice(FOREIGN)) for _ in range(r.randint(1, 3))]
        for t in clients + sellers:
            w.pref[t] = cs
        for _ in range(r.randint(8, 16)):
            c = r.choice(cs)
            hs6 = r.choice(list(w.goods))
            mass = r.uniform(500, 8000)
            seller, client = r.choice(sellers), r.choice(clients)
            s = w.ship(seller, client, hs6, mass, mass * w.unit_price(hs6), w.day(), carrier=c,
                       conveyance=truck if "conveyance" in links else f"TRK-{r.randint(100, 999)}",
                       containers=r.choice(box) if "containers" in links else "", mode="ROAD")
            if r.random() < 0.7:
                w.settle(w.acct(client), seller, s)
        w.instance("linked_carriers", f"group_of_{size}", [("Carrier", c) for c in cs],
                   f"share {', '.join(links)}; serve the same few traders only")
    for i in range(r.randint(2, 3)):
        cc = r.choice(w.admins)
        if i % 2 == 0:   # two forwarders in one business centre, unrelated clients
            a, b = (w.new_carrier(cc, "FORWARDER", addr=w.centres[cc]) for _ in range(2))
            w.forwarders += [a, b]
            w.decoy("linked_carriers", "business_centre_neighbours", [("Carrier", a), ("Carrier", b)],
                    "same serviced-office address, nothing else shared, many different clients")
            for c in (a, b):
                for _ in range(8):
                    e, m = r.choice(w.foreign), r.choice(sum(w.home.values(), []))
                    hs6 = r.choice(list(w.goods))
                    w.ship(e, m, hs6, 1000, 1000 * w.unit_price(hs6), w.day(), carrier=c, conveyance="", mode="ROAD")
        else:            # a leased container reused by two unrelated forwarders months apart
            a, b = w.new_carrier(cc, "FORWARDER"), w.new_carrier(r.choice(FOREIGN), "FORWARDER")
            box = f"TGHU{r.randint(10**6, 10**7 - 1)}"
            for k, c in enumerate((a, b)):
                for j in range(6):
                    e, m = r.choice(w.foreign), r.choice(sum(w.home.values(), []))
                    hs6 = r.choice(list(w.goods))
                    w.ship(e, m, hs6, 1000, 1000 * w.unit_price(hs6), _d(START, 250 * k + 30 * j), carrier=c,
                           conveyance=f"TRK-{r.randint(100, 999)}", containers=box if j == 0 else "", mode="ROAD")
            w.decoy("linked_carriers", "leased_container_reused", [("Carrier", a), ("Carrier", b)],
                    "one leased container used by both, months apart; different clients, no shared officers")


# ------------------------------------------------------------------ valuation
def valuation(w: World) -> None:
    r = w.r
    peers = _hs_with_peers(w)
    home = sum(w.home.values(), [])
    for fam, sign in (("undervaluation", -1), ("overvaluation", 1)):
        for _ in range(_n(w)):
            hs6 = r.choice(peers)
            sig = w.goods[hs6]["sigma"]
            k = r.uniform(3.2, 5.0)
            factor = math.exp(sign * k * sig)
            factor = min(factor, 0.25) if sign < 0 else max(factor, 4.0)
            mass = math.exp(r.gauss(math.log(2000), 1.0))
            exp, imp = r.choice(w.foreign), r.choice(home)
            s = w.ship(exp, imp, hs6, mass, mass * w.unit_price(hs6, z=0) * factor, w.day(), sides=("IMPORT",))
            w.settle(w.acct(imp), exp, s)
            w.instance(fam, "unit_value_outlier", [("Declaration", s["keys"]["IMPORT"][0])],
                       f"unit value {factor:.2f}x the {hs6} median (sigma {sig:.2f})")
        for j in range(r.randint(2, 3)):
            hs6 = r.choice(peers)
            mass = math.exp(r.gauss(math.log(2000), 1.0))
            exp, imp = r.choice(w.foreign), r.choice(home)
            z = sign * r.uniform(0.8, 1.4)
            s = w.ship(exp, imp, hs6, mass, mass * w.unit_price(hs6, z=z), w.day(), sides=("IMPORT",))
            w.decoy(fam, "cheap_grade" if sign < 0 else "premium_grade", [("Declaration", s["keys"]["IMPORT"][0])],
                    f"{z:+.1f} sigma from the median: within the goods' spread")


# ------------------------------------------------------------------ mirror_discrepancy
def mirror(w: World) -> None:
    r = w.r
    if len(w.admins) < 2:
        return
    for _ in range(_n(w)):
        a, b = r.sample(w.admins, 2)
        exp, imp = r.choice(w.home[a]), r.choice(w.home[b])
        hs6 = r.choice(list(w.goods))
        mass = math.exp(r.gauss(math.log(5000), 0.9))
        usd = mass * w.unit_price(hs6)
        kind = r.choice(["import_undervalued", "export_overstated", "quantity_gap"])
        if kind == "import_undervalued":
            s = w.ship(exp, imp, hs6, mass, usd, w.day(0, 500), import_factor=r.uniform(0.25, 0.6))
        elif kind == "export_overstated":
            s = w.ship(exp, imp, hs6, mass, usd, w.day(0, 500), import_factor=r.uniform(0.3, 0.55),
                       currency=CURRENCY[b])
        else:
            s = w.ship(exp, imp, hs6, mass, usd, w.day(0, 500), import_mass_factor=r.uniform(1.8, 3.0),
                       import_factor=r.uniform(1.03, 1.1))
        w.settle(w.acct(imp), exp, s)
        w.instance("mirror_discrepancy", kind, [("Declaration", s["keys"]["EXPORT"][0]),
                                                ("Declaration", s["keys"]["IMPORT"][0])],
                   f"{a} export vs {b} import of one shipment: {kind.replace('_', ' ')}")
    for j in range(r.randint(2, 3)):
        a, b = r.sample(w.admins, 2)
        exp, imp = r.choice(w.home[a]), r.choice(w.home[b])
        hs6 = r.choice(list(w.goods))
        mass = r.uniform(1000, 20000)
        s = w.ship(exp, imp, hs6, mass, mass * w.unit_price(hs6), w.day(0, 500), import_factor=r.uniform(1.03, 1.11),
                   currency=CURRENCY[a] if j % 2 else "USD")
        w.decoy("mirror_discrepancy", "within_cif_margin", [("Declaration", s["keys"]["EXPORT"][0]),
                                                            ("Declaration", s["keys"]["IMPORT"][0])],
                "import a few percent above export: freight and insurance")


# ------------------------------------------------------------------ cash_structuring
def cash_structuring(w: World) -> None:
    r = w.r
    from benchmarks.blind.blind_world import threshold_usd
    for i in range(_n(w)):
        cc = r.choice(w.admins)
        cur = CURRENCY[cc]
        d = w.day(0, 480)
        if i % 2 == 0:   # one courier, several reports just below the threshold
            p = w.new_person(cc)
            n = r.randint(3, 6)
            for _ in range(n):
                w.cash(p, cc, threshold_usd(w, cc, d) * r.uniform(0.82, 0.99), d, cur,
                       rtype=r.choice(["BORDER", "CTR"]))
                d = _d(d, r.randint(1, 12))
            w.instance("cash_structuring", "single_courier", [("Person", p)],
                       f"{n} reports in {cc} just below {CASH_THRESHOLD[cc]}")
        else:            # smurfs tied to one trader or one account
            t = w.new_trader(cc)
            ps = [w.new_person(cc) for _ in range(r.randint(2, 4))]
            tie = r.choice(["trader", "account"])
            for p in ps:
                for _ in range(r.randint(1, 3)):
                    w.cash(p, cc, threshold_usd(w, cc, d) * r.uniform(0.8, 0.99), _d(d, r.randint(0, 14)), cur,
                           rtype="CTR", trader=t if tie == "trader" else "",
                           account=w.acct(t) if tie == "account" else "")
            w.instance("cash_structuring", f"smurfs_by_{tie}", [("Person", p) for p in ps],
                       f"{len(ps)} depositors for one {tie}, each just below the {cc} threshold")
    for j in range(r.randint(2, 3)):
        cc = r.choice(w.admins)
        p = w.new_person(cc)
        d = w.day(0, 450)
        if j % 2 == 0:   # a traveller declaring properly above the threshold
            for _ in range(3):
                w.cash(p, cc, threshold_usd(w, cc, d) * r.uniform(1.2, 3.5), d, CURRENCY[cc], rtype="BORDER")
                d = _d(d, r.randint(5, 30))
            w.decoy("cash_structuring", "above_threshold_traveller", [("Person", p)],
                    "declares amounts above the threshold")
        else:            # just under 10,000 in a currency worth more than the filing jurisdiction's
            thr, tcur = CASH_THRESHOLD[cc]
            strong = [c for c in ("USD", "EUR", "GBP", "CHF") if w.rate(c, d) > 1.1 * w.rate(tcur, d)]
            if not strong:
                for _ in range(3):
                    w.cash(p, cc, threshold_usd(w, cc, d) * r.uniform(0.2, 0.5), d, CURRENCY[cc], rtype="BORDER")
                    d = _d(d, r.randint(60, 120))
                w.decoy("cash_structuring", "occasional_small", [("Person", p)], "a few small amounts months apart")
                continue
            c = r.choice(strong)
            for _ in range(3):
                w.cash(p, cc, r.uniform(9_200, 9_900) * w.rate(c, d), d, c, rtype="BORDER")
                d = _d(d, r.randint(3, 20))
            w.decoy("cash_structuring", "other_currency_above_threshold", [("Person", p)],
                    f"9,2xx-9,9xx {c} filed in {cc}: above the {thr} {tcur} threshold once converted")


# ------------------------------------------------------------------ third_party_payment
def third_party(w: World) -> None:
    r = w.r
    home = sum(w.home.values(), [])
    for _ in range(_n(w)):
        imp = r.choice(home)
        exp = r.choice(w.foreign)
        payer = (w.new_trader(r.choice(["AE", "HK", "PA", "TR", "CN"])) if r.random() < 0.6
                 else w.new_person(r.choice(FOREIGN), account=True))
        acc = w.acct(payer)
        for _ in range(r.randint(2, 4)):
            hs6 = r.choice(list(w.goods))
            mass = r.uniform(800, 9000)
            s = w.ship(exp, imp, hs6, mass, mass * w.unit_price(hs6), w.day(0, 500), sides=("IMPORT",))
            w.settle(acc, exp, s, parts=1)
        w.instance("third_party_payment", "unrelated_payer", [("BankAccount", acc)],
                   "imports settled from an account of a party unrelated to the importer")
    for j in range(r.randint(2, 3)):
        imp = r.choice(home)
        exp = r.choice(w.foreign)
        if j % 2 == 0:
            parent = w.new_trader(r.choice(["DE", "US", "JP", "GB"]), employees=500)
            w.officer(parent, imp, r.choice(["SHAREHOLDER", "OWNER"]), 100.0)
            acc = w.acct(parent)
            kind, note = "parent_company_payer", "the importer's parent (100% shareholder) pays"
        else:
            acc = w.new_account(imp, r.choice(["CH", "SG", "GB"]))
            kind, note = "own_foreign_account", "the importer's own account in another country"
        for _ in range(3):
            hs6 = r.choice(list(w.goods))
            mass = r.uniform(800, 9000)
            s = w.ship(exp, imp, hs6, mass, mass * w.unit_price(hs6), w.day(0, 500), sides=("IMPORT",))
            w.settle(acc, exp, s, parts=1)
        w.decoy("third_party_payment", kind, [("BankAccount", acc)], note)


# ------------------------------------------------------------------ pass_through_account
def pass_through(w: World) -> None:
    r = w.r
    for _ in range(_n(w)):
        cc = r.choice(w.admins)
        holder = (w.new_trader(cc, reg=w.day(0, 200), employees=0) if r.random() < 0.6
                  else w.new_person(cc, account=True))
        acc = w.acct(holder)
        senders = [w.acct(w.new_person(r.choice(w.admins + FOREIGN), account=True)) for _ in range(r.randint(6, 15))]
        receivers = [w.acct(w.new_trader(r.choice(FOREIGN + SECRECY))) for _ in range(r.randint(4, 10))]
        d = w.day(200, 480)
        kept = r.uniform(0.02, 0.12)
        for _ in range(r.randint(10, 25)):
            amt = math.exp(r.gauss(math.log(6000), 0.7))
            w.pay(r.choice(senders), acc, amt, d, currency=CURRENCY[cc], ref="deposit")
            if r.random() < 0.7:
                w.pay(acc, r.choice(receivers), amt * (1 - kept), _d(d, r.randint(0, 3)),
                      currency=r.choice(["USD", CURRENCY[cc]]), ref="transfer")
            else:
                for part in (0.5, 0.5):
                    w.pay(acc, r.choice(receivers), amt * (1 - kept) * part, _d(d, r.randint(1, 4)), currency="USD")
            d = _d(d, r.randint(0, 4))
        w.instance("pass_through_account", "funnel", [("BankAccount", acc)],
                   f"{len(senders)} senders in, {len(receivers)} receivers out within days, {kept:.0%} left")
    for t, pacc in r.sample(w.payroll, min(2, len(w.payroll))):
        w.decoy("pass_through_account", "payroll_account", [("BankAccount", pacc)],
                "one funding transfer in, salaries out")
    for m in w.merchants[:1]:
        w.decoy("pass_through_account", "busy_merchant", [("BankAccount", w.acct(m))],
                "many card settlements in, a few supplier payments out, money stays")


# ------------------------------------------------------------------ scatter_gather
def scatter_gather(w: World) -> None:
    r = w.r
    for _ in range(_n(w)):
        src = w.acct(w.new_trader(r.choice(w.admins + SECRECY)))
        gat = w.acct(w.new_trader(r.choice(w.admins + FOREIGN)))
        mids = [w.acct(w.new_person(r.choice(w.admins), account=True) if r.random() < 0.5
                       else w.new_trader(r.choice(w.admins + FOREIGN))) for _ in range(r.randint(3, 7))]
        d = w.day(0, 480)
        for _ in range(r.randint(1, 2)):
            for m in mids:
                amt = math.exp(r.gauss(math.log(15000), 0.5))
                t = _d(d, r.randint(0, 2))
                w.pay(src, m, amt, t, currency="EUR", ref="services")
                w.pay(m, gat, amt * (1 - r.uniform(0.01, 0.08)), _d(t, r.randint(1, 9)), currency="EUR", ref="invoice")
            d = _d(d, r.randint(20, 60))
        w.instance("scatter_gather", "scatter_gather", [("BankAccount", src), ("BankAccount", gat)],
                   f"{len(mids)} intermediaries, a cut each, gathered within days")
    for j in range(r.randint(2, 3)):
        src = w.acct(w.new_trader(r.choice(w.admins)))
        land = w.acct(w.new_trader(r.choice(w.admins)))
        subs = [w.acct(w.new_trader(r.choice(w.admins))) for _ in range(r.randint(3, 6))]
        d = w.day(0, 300)
        for m in subs:
            w.pay(src, m, r.uniform(8000, 40000), _d(d, r.randint(0, 5)), ref="subcontract")
            w.pay(m, land, r.uniform(900, 2500), _d(d, r.randint(45, 100)), ref="rent")
        w.decoy("scatter_gather", "subcontractors_pay_one_landlord", [("BankAccount", src), ("BankAccount", land)],
                "a firm pays subcontractors; months later they pay rent to one landlord, unrelated amounts")


# ------------------------------------------------------------------ split_invoices
def split_invoices(w: World) -> None:
    r = w.r
    admins = [a for a in w.admins if a in CONSIGNMENT]
    if not admins:
        return
    for _ in range(_n(w)):
        cc = r.choice(admins)
        thr, cur = r.choice(CONSIGNMENT[cc])
        imp = w.new_trader(cc, employees=r.randint(1, 5))
        sel = w.new_trader(r.choice(["CN", "HK", "GB", "TR"]))
        hs6 = r.choice(list(w.goods))
        d = w.day(0, 500)
        for _ in range(r.randint(1, 2)):
            n = r.randint(3, 6)
            for _ in range(n):
                usd = thr * w.rate(cur, d) * r.uniform(0.8, 0.99)
                line = r.choice([c for c in w.lines if w.carrier_kind[c] == "EXPRESS"])
                w.ship(sel, imp, hs6, usd / w.unit_price(hs6, z=0), usd, _d(d, r.randint(0, 3)), sides=("IMPORT",),
                       carrier=line, mode="EXPRESS", currency=cur, import_factor=1.0)
            d = _d(d, r.randint(30, 90))
        w.instance("split_invoices", "below_threshold_split", [("Trader", imp), ("Trader", sel)],
                   f"{n} parcels each just under {thr} {cur} within days")
    for j in range(r.randint(2, 3)):
        cc = r.choice(admins)
        thr, cur = r.choice(CONSIGNMENT[cc])
        sel = r.choice(w.sellers)
        if j % 2 == 0:   # monthly small orders, never clustered
            imp = w.new_trader(cc)
            hs6 = r.choice(list(w.goods))
            for k in range(6):
                d = _d(START, 30 + 75 * k)
                usd = thr * w.rate(cur, d) * r.uniform(0.8, 0.97)
                w.ship(sel, imp, hs6, usd / w.unit_price(hs6, z=0), usd, d, sides=("IMPORT",), currency=cur,
                       carrier=w.lines[-1], mode="EXPRESS")
            w.decoy("split_invoices", "regular_small_orders", [("Trader", imp), ("Trader", sel)],
                    "one small order every few months: never split")
        else:            # one seller, many buyers the same week, one parcel each
            d = w.day(0, 500)
            imps = r.sample(w.small[cc], min(6, len(w.small[cc])))
            for imp in imps:
                hs6 = r.choice(list(w.goods))
                usd = thr * w.rate(cur, d) * r.uniform(0.8, 0.97)
                w.ship(sel, imp, hs6, usd / w.unit_price(hs6, z=0), usd, _d(d, r.randint(0, 3)), sides=("IMPORT",),
                       currency=cur, carrier=w.lines[-1], mode="EXPRESS")
            w.decoy("split_invoices", "one_seller_many_buyers", [("Trader", imps[0]), ("Trader", sel)],
                    "a busy online seller ships one parcel to each of several buyers")


ALL = [circular_trade, circular_payment, shell_intermediary, phoenix_trader, linked_carriers, valuation, mirror,
       cash_structuring, third_party, pass_through, scatter_gather, split_invoices]

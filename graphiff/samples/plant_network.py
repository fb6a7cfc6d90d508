"""Planted network patterns (and their decoys): circular trade, circular payments, shell
intermediaries and linked carriers, and (second phase) their variants: related-party round
trips at a marked-up value, one-sided re-invoicing intermediaries, two-front carrier groups and
shrinking, repeated payment cycles. Every planted trader is new, so a pattern never leaks into
the background (a one-sided intermediary's supplier and a decoy depot's customers are
background traders: they only take part in ordinary trade)."""
from __future__ import annotations

import numpy as np

from graphiff.samples import ids, rows
from graphiff.samples.planter import Planter
from graphiff.samples.reference import DAYS, EAC, SECRECY

TRADE_COUNTRIES = ["KE", "UG", "TZ", "AE", "CN", "IN", "DE", "NL", "GB", "ZA", "SG", "HK", "RW", "ET"]


def _countries(p: Planter, k: int, pool=TRADE_COUNTRIES) -> list[str]:
    return [str(c) for c in p.rng.choice(pool, k, replace=k > len(pool))]


def _value(p: Planter, hs: int, mass: float, pf: float) -> float:
    return mass * float(p.ctx.catalog.price[hs]) * pf


def _big_carrier(p: Planter) -> int:
    assert p.ctx.carriers is not None  # background carriers exist before anything is planted
    big = np.flatnonzero(p.ctx.carriers["_big"].to_numpy(dtype=bool))
    return int(big[p.rng.integers(0, len(big))])


def _hops(p: Planter, traders: list[int], hs: int, day: int, gaps: list[int], *, mass_step=(0.9, 1.1),
          order: list[int] | None = None) -> None:
    """Ship ``hs`` around ``traders`` (hop j: traders[j] -> traders[j+1], cyclically), hop j
    on ``day + sum(gaps[:j])``, masses changing by ``mass_step`` from hop to hop."""
    mass = p.mass_for(hs)
    k = len(traders)
    n = len(gaps) + 1
    days = day + np.concatenate([[0], np.cumsum(gaps)])
    for j in range(n):
        d = int(days[order[j]] if order else days[j])
        p.ship(traders[j % k], traders[(j + 1) % k], hs, d, mass, pf=float(p.rng.uniform(0.93, 1.07)),
               carrier=_big_carrier(p), mirror=bool(p.rng.random() < 0.5), delay=int(p.rng.integers(2, 7)))
        mass = mass * float(p.rng.uniform(*mass_step))


def plant_circular_trade(p: Planter) -> None:
    n = p.ctx.planted(10, 3)
    for i in range(n):
        hs = p.hs()
        if i == 0:  # a carousel: 3 traders, 3 turns, hops 15-20 days apart (no resale within 14 days)
            tr = p.traders(_countries(p, 3))
            _hops(p, tr, hs, p.day(0, DAYS - 200), [int(g) for g in p.rng.integers(15, 21, 8)])
            p.instance("circular_trade", p.ents("Trader", [p.tid(t) for t in tr]),
                       f"carousel: 3 traders pass HS {p.ctx.catalog.hs6[hs]} around 3 times")
            continue
        if i == 1:  # round trip: export, re-import into the origin country by a sister company
            c = _countries(p, 1, ["KE", "UG", "TZ"])[0]
            a, b, a2 = p.traders([c, _countries(p, 1, ["AE", "MU", "SG", "HK"])[0], c])
            owner = p.persons([c])[0]
            p.officer(owner, p.tid(a), "OWNER", "100")
            p.officer(owner, p.tid(a2), "OWNER", "100")
            day = p.day(0, DAYS - 120)
            mass = p.mass_for(hs)
            p.ship(a, b, hs, day, mass, carrier=_big_carrier(p), mirror=True)
            p.ship(b, a2, hs, day + int(p.rng.integers(10, 60)), mass * float(p.rng.uniform(0.95, 1.05)),
                   pf=float(p.rng.uniform(0.95, 1.1)), carrier=_big_carrier(p), mirror=True)
            p.instance("circular_trade", p.ents("Trader", [p.tid(a), p.tid(b), p.tid(a2)]),
                       f"round trip: {p.tid(a)} exports to {p.tid(b)}, re-imported by sister company {p.tid(a2)} "
                       f"(common owner {owner})")
            continue
        k = 2 + (i - 2) % 5
        tr = p.traders(_countries(p, k) if k > 2 else _countries(p, 2, ["KE", "UG", "TZ", "AE", "CN", "IN"]))
        while len({p.country(t) for t in tr}) < 2:
            tr = p.traders(_countries(p, k))
        hi = max(4, min(30, 165 // max(1, k - 1)))
        _hops(p, tr, hs, p.day(0, DAYS - 200), [int(g) for g in p.rng.integers(3, hi, k - 1)])
        p.instance("circular_trade", p.ents("Trader", [p.tid(t) for t in tr]),
                   f"{k}-trader cycle of HS {p.ctx.catalog.hs6[hs]} within {hi * (k - 1)} days")
    cat = p.ctx.catalog
    for j in range(2):  # processing trade: cotton out, garments back
        a, b = p.traders([_countries(p, 1, ["KE", "UG", "TZ"])[0], _countries(p, 1, ["CN", "IN"])[0]])
        cotton, garments = cat.index("520100"), cat.index("620342")
        d = p.day(0, DAYS - 120)
        p.ship(a, b, cotton, d, p.mass_for(cotton, 80_000), carrier=_big_carrier(p))
        p.ship(b, a, garments, d + int(p.rng.integers(40, 90)), p.mass_for(garments, 150_000), carrier=_big_carrier(p))
        p.decoy("circular_trade", "processing_trade", p.ents("Trader", [p.tid(a), p.tid(b)]),
                "cotton exported, garments made of it imported back")
    for j in range(2):  # hops out of time order: each hop earlier than the previous
        tr = p.traders(_countries(p, 3))
        _hops(p, tr, p.hs(), p.day(100, DAYS - 100), [20, 20], order=[2, 1, 0])
        p.decoy("circular_trade", "out_of_time_order", p.ents("Trader", [p.tid(t) for t in tr]))
    tr = p.traders(_countries(p, 3))  # hop values differing hugely
    _hops(p, tr, p.hs(), p.day(0, DAYS - 100), [10, 10], mass_step=(5.0, 6.0))
    p.decoy("circular_trade", "incomparable_values", p.ents("Trader", [p.tid(t) for t in tr]))


def plant_circular_payment(p: Planter) -> None:
    refs = ["loan", "consultancy services", "investment", "refund of advance", "management fee"]

    def holders(k: int) -> list[str]:
        cty = _countries(p, k, ["AE", "GB", "DE", "NL", "CH", "MU", "VG", "SC", "KE", "UG", "HK", "SG"])
        out = []
        for c in cty:
            if p.rng.random() < 0.5:
                out.append(p.acct(p.traders([c])[0]))
            else:
                out.append(p.account(p.persons([c])[0], c))
        return out

    def cycle(accts: list[str], day: int, gaps, amount: float, step=(0.93, 1.0), turns: int = 1,
              order: list[int] | None = None) -> None:
        k = len(accts)
        days = day + np.concatenate([[0], np.cumsum(gaps)])
        cur = "EUR" if p.rng.random() < 0.3 else "USD"
        for j in range(k * turns):
            p.pay(accts[j % k], accts[(j + 1) % k], int(days[order[j]] if order else days[j]), amount,
                  cur=cur, reference=str(p.rng.choice(refs)))
            amount *= float(p.rng.uniform(*step))

    n = p.ctx.planted(10, 3)
    for i in range(n):
        k = 3 + i % 3
        turns = 2 if i == 0 else 1
        accts = holders(k)
        gaps = p.rng.integers(2, 15, k * turns - 1)
        cycle(accts, p.day(0, DAYS - 100), gaps, float(np.exp(p.rng.uniform(np.log(20_000), np.log(400_000)))),
              turns=turns)
        p.instance("circular_payment", p.ents("BankAccount", accts),
                   f"{k} accounts pass comparable amounts round a cycle{' twice' if turns == 2 else ''} "
                   f"within {int(gaps.sum())} days")
    for j in range(3):
        accts = holders(3)
        cycle(accts, p.day(50, DAYS - 50), [10, 10], 100_000.0, order=[2, 1, 0])
        p.decoy("circular_payment", "out_of_time_order", p.ents("BankAccount", accts))
    for j in range(2):
        accts = holders(3)
        cycle(accts, p.day(0, DAYS - 50), [5, 5], 30_000.0, step=(3.0, 4.0))
        p.decoy("circular_payment", "incomparable_amounts", p.ents("BankAccount", accts))


def plant_shell(p: Planter) -> None:
    n = p.ctx.planted(10, 3)
    for i in range(n):
        secrecy = i % 2 == 0
        cty = _countries(p, 1, list(SECRECY) if secrecy else ["KE", "UG", "TZ", "HK", "SG"])[0]
        first = p.day(0, DAYS - 200)
        addr = ids.addresses(p.rng, p.ctx.serial.take("address", 1))[0]
        city = ids.cities(p.rng, np.array([cty], dtype=object))[0]
        post = ids.postcodes(p.rng, 1)[0]
        nominee = p.persons([cty])[0]
        boxes = p.traders([cty] * int(p.rng.integers(8, 12)), reg_day=first - int(p.rng.integers(30, 900)),
                          employees=0, address=addr, city=city, postcode=post, account=False)
        s = p.traders([cty], reg_day=first - int(p.rng.integers(20, 330)), employees=int(p.rng.integers(0, 3)),
                      address=addr, city=city, postcode=post)[0]
        for b in boxes + [s]:
            p.officer(nominee, p.tid(b), "DIRECTOR", start_day=first - 400)
        x = p.traders(_countries(p, 1, ["CN", "IN", "DE", "KR"]))[0]
        buyers = p.traders(_countries(p, 2, ["KE", "UG", "TZ", "RW", "ZA"]))
        hs = p.hs()
        markup = i % 3 == 2
        day = first
        for j in range(int(p.rng.integers(3, 6))):
            mass = p.mass_for(hs)
            pf = float(p.rng.uniform(0.9, 1.05))
            ratio = float(p.rng.uniform(2.0, 2.25) if markup else p.rng.uniform(1.0, 1.07))
            buy = p.ship(x, s, hs, day, mass, pf=pf, carrier=_big_carrier(p), mirror=bool(p.rng.random() < 0.5))
            sell_day = day + int(p.rng.integers(1, 11))
            y = buyers[j % 2]
            sell = p.ship(s, y, hs, sell_day, mass * float(p.rng.uniform(0.98, 1.0)), pf=pf * ratio,
                          carrier=_big_carrier(p))
            paid_in = sell_day + int(p.rng.integers(0, 4))
            v_in, v_out = _value(p, hs, mass, pf * ratio), _value(p, hs, mass, pf)
            p.pay(p.acct(y), p.acct(s), paid_in, v_in, reference="Invoice " + sell["invoice_no"],
                  invoice_no=sell["invoice_no"])
            p.pay(p.acct(s), p.acct(x), paid_in + int(p.rng.integers(1, 5)), v_out,
                  reference="Invoice " + buy["invoice_no"], invoice_no=buy["invoice_no"])
            day = sell_day + int(p.rng.integers(10, 40))
        p.instance("shell_intermediary", p.ents("Trader", [p.tid(s)]),
                   f"pass-through {'with markup ' if markup else ''}in {cty}: {len(boxes) + 1} companies at one "
                   f"address, nominee director {nominee}, resells HS {p.ctx.catalog.hs6[hs]} within days")
    for j in range(5):  # established distributors: slow turnover, staff, own address
        d = p.traders(_countries(p, 1, ["KE", "UG", "TZ", "AE", "ZA"]), employees=int(p.rng.integers(50, 300)),
                      reg_day=-int(p.rng.integers(365 * 5, 365 * 20)))[0]
        x = p.traders(_countries(p, 1, ["CN", "IN", "DE"]))[0]
        y = p.traders(_countries(p, 1, ["RW", "ET", "UG", "KE"]))[0]
        hs = p.hs()
        for r in range(3):
            buy_day = 5 + 130 * r + int(p.rng.integers(0, 5))
            mass = p.mass_for(hs)
            buy = p.ship(x, d, hs, buy_day, mass, carrier=_big_carrier(p))
            sell = p.ship(d, y, hs, buy_day + int(p.rng.integers(60, 121)), mass, pf=1.25, carrier=_big_carrier(p))
            p.pay(p.acct(d), p.acct(x), buy_day + 45, _value(p, hs, mass, 1.0), invoice_no=buy["invoice_no"])
            p.pay(p.acct(y), p.acct(d), sell["day"] + 30, _value(p, hs, mass, 1.25), invoice_no=sell["invoice_no"])
        p.decoy("shell_intermediary", "established_distributor", p.ents("Trader", [p.tid(d)]))


def plant_linked_carriers(p: Planter) -> None:
    n = p.ctx.planted(10, 3)
    words = ["Freight", "Haulage", "Cargo", "Logistics", "Transporters", "Movers", "Express"]
    for i in range(n):
        k = 2 + i % 2
        serial = ids.scramble(p.ctx.serial.take("carrier_name", k), 5, salt=67)
        names = [f"{ids.PLACES[s % 50]} {ids.WORDS[(s // 50) % 50]} {words[(i + j) % len(words)]} Ltd"
                 for j, s in enumerate(serial)]
        kinds = set(p.rng.choice(["officer", "phone", "address", "conveyance", "container"], 2, replace=False))
        shared_addr = ids.addresses(p.rng, p.ctx.serial.take("address", 1))[0] if "address" in kinds else None
        shared_phone = ids.phones(np.array(["KE"]), p.ctx.serial.take("phone", 1))[0] if "phone" in kinds else None
        cs = p.carriers(names, ["ROAD"] * k, _countries(p, k, list(EAC)), address=shared_addr, phone=shared_phone)
        assert p.ctx.carriers is not None  # p.carriers just added some
        cids = [str(p.ctx.carriers["carrier_id"].iat[c]) for c in cs]
        directors = p.persons(["KE"] * (1 if "officer" in kinds else k), role="carrier_director")
        for j, cid in enumerate(cids):
            p.officer(directors[0 if "officer" in kinds else j], cid, "DIRECTOR", start_day=-2000)
        plate = str(p.ctx.conveyances[cs[0]][0])
        box = ids.strs("LNKU", ids.scramble(p.ctx.serial.take("container", 1), 7, salt=79), 7)[0]
        n_tr = int(p.rng.integers(3, 9))
        n_exp = max(1, n_tr // 2)
        exporters = p.traders(_countries(p, n_exp, ["UG", "RW", "TZ"]))
        importers = p.traders(["KE"] * (n_tr - n_exp))
        uses: dict[int, int] = {}
        for s in range(max(10, 3 * n_tr)):
            e, m = exporters[s % n_exp], importers[s % len(importers)]
            c = cs[(s // max(n_exp, len(importers))) % k]
            uses[c] = uses.get(c, 0) + 1
            extra = {}
            if "conveyance" in kinds and uses[c] <= 2:
                extra["conveyance"] = plate
            if "container" in kinds and uses[c] == 1:
                extra["containers"] = box
            hs = p.hs()
            p.ship(e, m, hs, p.day(), p.mass_for(hs, 25_000), pf=float(p.rng.uniform(0.9, 1.1)), carrier=c,
                   mirror=bool(p.rng.random() < 0.4), **extra)
        if i % 2 == 0:  # a courier tied to the carriers carries cash (well above the threshold)
            for r in range(2):
                p.report(directors[0], p.day(), float(p.rng.uniform(20_000, 60_000)), direction="OUT")
        p.instance("linked_carriers", p.ents("Carrier", cids),
                   f"{k} carriers linked by {', '.join(sorted(kinds))} serving {n_tr} traders")
    assert p.ctx.carriers is not None
    for big_c in np.flatnonzero(p.ctx.carriers["_big"].to_numpy(dtype=bool)):
        p.decoy("linked_carriers", "global_carrier", p.ents("Carrier", [p.ctx.carriers["carrier_id"].iat[big_c]]))


# ---- second phase: variants of the network families (docs/typologies.md) ---------------------

def plant_round_trips(p: Planter) -> None:
    """Related-party round trips: goods go to a company abroad under the same owner and come
    back 2-12 weeks later, declared at 2-3 times the value (profit shifting, capital flight)."""
    for i in range(p.ctx.planted(3, 2)):
        hs = p.hs()
        c = _countries(p, 1, ["KE", "UG", "TZ", "RW"])[0]
        a, b = p.traders([c, _countries(p, 1, ["AE", "MU", "SG", "HK", "CH", "GB"])[0]])
        owner = p.persons([c])[0]
        p.officer(owner, p.tid(a), "OWNER", "100")
        p.officer(owner, p.tid(b), str(p.rng.choice(["OWNER", "UBO", "SHAREHOLDER"])),
                  str(int(p.rng.integers(51, 101))))
        day = p.day(0, DAYS - 120)
        mass = p.mass_for(hs)
        pf = float(p.rng.uniform(0.93, 1.07))
        markup = float(p.rng.uniform(2.0, 3.0))
        weeks = int(p.rng.integers(2, 13))
        p.ship(a, b, hs, day, mass, pf=pf, carrier=_big_carrier(p), mirror=bool(p.rng.random() < 0.5),
               delay=int(p.rng.integers(2, 7)))
        p.ship(b, a, hs, day + 7 * weeks + int(p.rng.integers(0, 7)), mass * float(p.rng.uniform(0.97, 1.0)),
               pf=pf * markup, carrier=_big_carrier(p), mirror=True, delay=int(p.rng.integers(2, 7)))
        p.instance("circular_trade", p.ents("Trader", [p.tid(a), p.tid(b)]),
                   f"related-party round trip: {p.tid(a)} ships HS {p.ctx.catalog.hs6[hs]} to {p.tid(b)} (same owner "
                   f"{owner}), back about {weeks} weeks later declared at {markup:.2f}x the value",
                   kind="related_party_round_trip")


SHELL_FLAGS = ("agent_address", "nominee_director", "recent_registration", "no_staff", "secrecy_jurisdiction")


def plant_shell_one_sided(p: Planter) -> None:
    """Re-invoicing intermediaries seen from one side only: the importer's declaration names
    the intermediary (a third jurisdiction) as exporter, the goods are dispatched from the real
    supplier's country, nobody whose data we hold declares the intermediary's purchase, the
    importer pays the intermediary and it pays the supplier within days; two to four structural
    flags (:data:`SHELL_FLAGS`)."""
    for i in range(p.ctx.planted(3, 2)):
        flags = sorted(str(f) for f in p.rng.choice(SHELL_FLAGS, 2 + i % 3, replace=False))
        secrecy = "secrecy_jurisdiction" in flags
        cty = _countries(p, 1, list(SECRECY) if secrecy else ["HK", "SG", "GB", "CH", "NL"])[0]
        x, _, hs = p.background_pair()  # the real supplier, with its own declared trade
        while p.country(x) in (cty, *EAC):
            x, _, hs = p.background_pair()
        y = p.traders(_countries(p, 1, [c for c in ("KE", "UG", "TZ", "RW", "ZA") if c != p.country(x)]))[0]
        first = p.day(0, DAYS - 240)
        reg = first - int(p.rng.integers(20, 300) if "recent_registration" in flags
                          else p.rng.integers(365 * 4, 365 * 12))
        staff = 0 if "no_staff" in flags else int(p.rng.integers(4, 40))
        boxes: list[int] = []
        if "agent_address" in flags:  # a formation agent's address: many companies, one of them the intermediary
            n_box = int(p.rng.integers(8, 14))
            boxes = p.traders([cty], reg_day=first - int(p.rng.integers(400, 2000)), employees=0, account=False)
            boxes += p.traders([cty] * (n_box - 1), reg_day=first - int(p.rng.integers(30, 1500)), employees=0,
                               account=False, like=boxes[0], share=("address",))
            s = p.traders([cty], reg_day=reg, employees=staff, like=boxes[0], share=("address",))[0]
        else:
            s = p.traders([cty], reg_day=reg, employees=staff)[0]
        if "nominee_director" in flags:  # one person directs many companies
            others = boxes or p.traders([cty] * int(p.rng.integers(7, 12)),
                                        reg_day=first - int(p.rng.integers(60, 1500)), employees=0, account=False)
            nominee = p.persons([cty])[0]
            for b in others + [s]:
                p.officer(nominee, p.tid(b), "DIRECTOR", start_day=min(reg, first - 400))
        else:
            p.officer(p.persons([cty])[0], p.tid(s), "DIRECTOR", start_day=reg)
        markup = float(p.rng.uniform(1.02, 1.3))
        day = first
        for j in range(int(p.rng.integers(3, 6))):
            mass = p.mass_for(hs)
            pf = float(p.rng.uniform(0.9, 1.05))
            delay = int(p.rng.integers(5, 20))
            rec = p.ship(s, y, hs, day, mass, pf=pf * markup, carrier=_big_carrier(p), mirror=True, vratio=1.0,
                         delay=delay, import_only=True, dispatch=p.country(x))
            paid_in = day + delay + int(p.rng.integers(0, 8))
            v_in = _value(p, hs, mass, pf * markup)
            p.pay(p.acct(y), p.acct(s), paid_in, v_in, reference="Invoice " + rec["invoice_no"],
                  invoice_no=rec["invoice_no"], declaration_id=rec["import_id"] if j % 2 else "")
            own = rows.invoice_no1(p.ctx.serial.one("shipment"))  # the supplier's invoice: declared nowhere
            p.pay(p.acct(s), p.acct(x), paid_in + int(p.rng.integers(1, 5)), v_in / markup,
                  reference="Invoice " + own, invoice_no=own)
            day += int(p.rng.integers(25, 60))
        p.instance("shell_intermediary", p.ents("Trader", [p.tid(s)]),
                   f"one-sided re-invoicing in {cty}: invoices {p.tid(y)} for HS {p.ctx.catalog.hs6[hs]} dispatched "
                   f"from {p.country(x)}, pays supplier {p.tid(x)} within days; flags: {', '.join(flags)}",
                   kind="one_sided_reinvoicing")
    for j in range(2):  # a regional distributor invoicing goods shipped from its supplier: staff, years, own
        d = p.traders(_countries(p, 1, ["SG", "HK", "GB", "NL"]), employees=int(p.rng.integers(50, 300)),
                      reg_day=-int(p.rng.integers(365 * 6, 365 * 20)))[0]  # address, normal payment terms
        p.officer(p.persons([p.country(d)])[0], p.tid(d), "DIRECTOR", start_day=-3000)
        x, _, hs = p.background_pair()
        while p.country(x) in (p.country(d), *EAC):
            x, _, hs = p.background_pair()
        y = p.traders(_countries(p, 1, ["KE", "UG", "TZ", "RW"]))[0]
        day = p.day(0, 200)
        for r in range(3):
            mass = p.mass_for(hs)
            delay = int(p.rng.integers(5, 20))
            rec = p.ship(d, y, hs, day, mass, pf=1.15, carrier=_big_carrier(p), mirror=True, vratio=1.0,
                         delay=delay, import_only=True, dispatch=p.country(x))
            own = rows.invoice_no1(p.ctx.serial.one("shipment"))
            p.pay(p.acct(d), p.acct(x), day - int(p.rng.integers(0, 10)), _value(p, hs, mass, 1.0),
                  reference="Invoice " + own, invoice_no=own)  # pays its supplier at shipment
            p.pay(p.acct(y), p.acct(d), day + delay + int(p.rng.integers(45, 90)), _value(p, hs, mass, 1.15),
                  reference="Invoice " + rec["invoice_no"], invoice_no=rec["invoice_no"])
            day += int(p.rng.integers(90, 150))
        p.decoy("shell_intermediary", "regional_distributor_one_sided", p.ents("Trader", [p.tid(d)]),
                "triangular trade through an established distributor: staff, years, own address, "
                "supplier paid at shipment and the buyer weeks later")


def _carrier_names(p: Planter, i: int, k: int) -> list[str]:
    words = ["Freight", "Haulage", "Cargo", "Logistics", "Transporters", "Movers", "Express"]
    serial = ids.scramble(p.ctx.serial.take("carrier_name", k), 5, salt=67)
    return [f"{ids.PLACES[s % 50]} {ids.WORDS[(s // 50) % 50]} {words[(i + j) % len(words)]} Ltd"
            for j, s in enumerate(serial)]


def plant_carrier_pairs(p: Planter) -> None:
    """Two fronts: two carriers linked by one shared officer, phone, address, conveyance or
    container, serving the same few exclusive traders."""
    for i in range(p.ctx.planted(3, 2)):
        kind = str(p.rng.choice(["officer", "phone", "address", "conveyance", "container"]))
        addr = ids.addresses(p.rng, p.ctx.serial.take("address", 1))[0] if kind == "address" else None
        phone = ids.phones(np.array(["KE"]), p.ctx.serial.take("phone", 1))[0] if kind == "phone" else None
        cs = p.carriers(_carrier_names(p, i, 2), ["ROAD", "ROAD"], _countries(p, 2, list(EAC)), address=addr,
                        phone=phone)
        assert p.ctx.carriers is not None  # p.carriers just added two
        cids = [str(p.ctx.carriers["carrier_id"].iat[c]) for c in cs]
        directors = p.persons(["KE"] * (1 if kind == "officer" else 2), role="carrier_director")
        for j, cid in enumerate(cids):
            p.officer(directors[0 if kind == "officer" else j], cid, "DIRECTOR", start_day=-2000)
        plate = str(p.ctx.conveyances[cs[0]][0])
        # a container number of its own series (the background's container serials stay as they were)
        box = ids.strs("FRNU", ids.scramble(p.ctx.serial.take("front_container", 1), 7, salt=83), 7)[0]
        exporters = p.traders(_countries(p, int(p.rng.integers(1, 3)), ["UG", "RW", "TZ"]))
        importers = p.traders(["KE"] * int(p.rng.integers(1, 3)))
        n_ship = int(p.rng.integers(6, 11))
        for s in range(n_ship):
            c = cs[s % 2]
            extra = {}
            if kind == "conveyance" and s < 4:
                extra["conveyance"] = plate
            if kind == "container" and s < 2:
                extra["containers"] = box
            hs = p.hs()
            p.ship(exporters[s % len(exporters)], importers[s % len(importers)], hs, p.day(), p.mass_for(hs, 25_000),
                   pf=float(p.rng.uniform(0.9, 1.1)), carrier=c, mirror=bool(p.rng.random() < 0.4), **extra)
        p.instance("linked_carriers", p.ents("Carrier", cids),
                   f"two fronts linked by one {kind}, serving {len(exporters) + len(importers)} exclusive traders in "
                   f"{n_ship} shipments", kind="two_fronts")
    for j in range(2):  # two carriers at one depot address, each with customers of its own
        addr = ids.addresses(p.rng, p.ctx.serial.take("address", 1))[0]
        cs = p.carriers(_carrier_names(p, j, 2), ["ROAD", "ROAD"], _countries(p, 2, list(EAC)), address=addr)
        assert p.ctx.carriers is not None
        for j2, c in enumerate(cs):
            p.officer(p.persons(["KE"], role="carrier_director")[0], str(p.ctx.carriers["carrier_id"].iat[c]),
                      "DIRECTOR", start_day=-3000)
            for s in range(5):
                e, m, hs = p.background_pair()
                p.ship(e, m, hs, p.day(), p.mass_for(hs, 25_000), pf=float(p.rng.uniform(0.9, 1.1)), carrier=c)
        p.decoy("linked_carriers", "shared_depot_own_customers",
                p.ents("Carrier", [p.ctx.carriers["carrier_id"].iat[c] for c in cs]),
                "two carriers at one depot address serving different ordinary traders")


def _payment_holders(p: Planter, k: int) -> list[str]:
    out = []
    for c in _countries(p, k, ["AE", "GB", "DE", "NL", "CH", "MU", "VG", "SC", "KE", "UG", "HK", "SG"]):
        out.append(p.acct(p.traders([c])[0]) if p.rng.random() < 0.5 else p.account(p.persons([c])[0], c))
    return out


def plant_shrinking_cycles(p: Planter) -> None:
    """Payment cycles whose amounts shrink 2-8 % per hop (fees, cuts), repeated 2-3 times over
    months: each turn in time order, the turns themselves not (they may overlap, start from
    another account of the cycle)."""
    refs = ["loan", "consultancy services", "investment", "refund of advance", "management fee", "commission"]
    for i in range(p.ctx.planted(3, 2)):
        k = 3 + i % 4
        turns = 2 + i % 2
        accts = _payment_holders(p, k)
        cur = "EUR" if p.rng.random() < 0.3 else "USD"
        base = float(np.exp(p.rng.uniform(np.log(20_000), np.log(400_000))))
        start = p.day(0, DAYS - 300)
        for t in range(turns):
            amount = base * float(p.rng.uniform(0.7, 1.3))
            first = int(p.rng.integers(0, k)) if i % 2 else 0
            day = start
            for j in range(k):
                p.pay(accts[(first + j) % k], accts[(first + j + 1) % k], day, amount, cur=cur,
                      reference=str(p.rng.choice(refs)))
                amount *= float(p.rng.uniform(0.92, 0.98))
                day += int(p.rng.integers(1, 12))
            start += int(p.rng.integers(5, 120))
        p.instance("circular_payment", p.ents("BankAccount", accts),
                   f"{k} accounts pass money round a cycle {turns} times over months, 2-8 % less at each hop",
                   kind="shrinking_repeated_cycle")
    for j in range(2):  # a chain that shrinks the same way but never comes back
        accts = _payment_holders(p, 4)
        amount, day = float(p.rng.uniform(30_000, 200_000)), p.day(0, DAYS - 60)
        for h in range(3):
            p.pay(accts[h], accts[h + 1], day, amount, reference=str(p.rng.choice(refs)))
            amount *= float(p.rng.uniform(0.92, 0.98))
            day += int(p.rng.integers(1, 12))
        p.decoy("circular_payment", "open_chain", p.ents("BankAccount", accts),
                "amounts shrink along a chain that never returns")

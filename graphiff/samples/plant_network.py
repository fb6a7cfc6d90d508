"""Planted network patterns (and their decoys): circular trade, circular payments, shell
intermediaries and linked carriers. Every planted trader is new, so a pattern never leaks
into the background."""
from __future__ import annotations

import numpy as np

from graphiff.samples import ids
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

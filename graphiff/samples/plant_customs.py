"""Planted customs patterns (and their decoys), second phase: split invoices (one consignment
declared as several just below a public consignment threshold) and phoenix traders (a trader
stops, a new one at the same address, phone or director takes over its partners and goods).
Every trader of a pattern is new.

References: WCO, *Cross-Border E-Commerce Framework of Standards* (2018); OECD, *The Role of
Digital Platforms in the Collection of VAT/GST on Online Sales* (2019); FATF & Egmont Group,
*Concealment of Beneficial Ownership* (2018); Europol, MTIC fraud.
"""
from __future__ import annotations

import numpy as np

from graphiff.samples.planter import Planter
from graphiff.samples.reference import CUR_INDEX, DAYS

#: public consignment-value thresholds of the importing country (docs/typologies.md)
THRESHOLDS = {"EU": ((150.0, "EUR"), (1000.0, "EUR")), "US": ((800.0, "USD"), (2500.0, "USD"))}
EU_IMPORTERS = ("DE", "NL", "BE", "PL")
SELLERS = ("CN", "HK", "GB", "IN", "KR", "JP", "US")


def _express(p: Planter) -> int:
    assert p.ctx.carriers is not None  # background carriers exist before anything is planted
    c = p.ctx.carriers
    rows = np.flatnonzero(c["_big"].to_numpy(dtype=bool) & c["carrier_type"].isin(["EXPRESS", "AIR"]).to_numpy())
    return int(rows[p.rng.integers(0, len(rows))])


def _big(p: Planter) -> int:
    assert p.ctx.carriers is not None
    big = np.flatnonzero(p.ctx.carriers["_big"].to_numpy(dtype=bool))
    return int(big[p.rng.integers(0, len(big))])


class _Pair:
    """An importer (EU or US) and a foreign seller of low-value consignments, with the
    threshold that applies to the importer's declarations and goods that fit below it."""

    def __init__(self, p: Planter, k: int) -> None:
        self.p = p
        cty = str(p.rng.choice(EU_IMPORTERS + ("US",)))
        self.threshold, self.cur = THRESHOLDS["US" if cty == "US" else "EU"][k % 2]
        self.imp = p.traders([cty], employees=int(p.rng.integers(2, 40)))[0]
        self.exp = p.traders([str(p.rng.choice([c for c in SELLERS if c != cty]))])[0]
        cat = p.ctx.catalog
        pool = p.popular_hs()
        usd = self.threshold * 0.8
        ukg = np.where(np.isnan(cat.unit_kg[pool]), 0.0, cat.unit_kg[pool])
        fits = pool[(cat.price[pool] * 2 <= usd) & (usd / cat.price[pool] >= 10 * ukg)]
        fits = fits if len(fits) else np.flatnonzero((cat.price * 2 <= usd) & np.isnan(cat.unit_kg) & (cat.tier < 9))
        self.hs = int(fits[p.rng.integers(0, len(fits))])

    def ship(self, day: int, share: float) -> dict:
        """One consignment whose import declaration is worth ``share`` of the threshold (in the
        threshold's currency); the importer pays most of them weeks later."""
        p, delay = self.p, int(self.p.rng.integers(2, 7))
        vratio = float(p.rng.uniform(1.02, 1.06))
        cur = CUR_INDEX[self.cur]
        usd = self.threshold * share * float(p.ctx.rates.usd_per_unit(np.array([cur]), np.array([day + delay]))[0])
        pf = float(p.rng.uniform(0.9, 1.1))
        mass = round(usd / vratio / (float(p.ctx.catalog.price[self.hs]) * pf), 2)
        rec = p.ship(self.exp, self.imp, self.hs, day, mass, pf=pf, carrier=_express(p), mirror=True, delay=delay,
                     vratio=vratio, cur="USD", cur_i=cur)
        if p.rng.random() < 0.7:
            p.pay(p.acct(self.imp), p.acct(self.exp), day + delay + int(p.rng.integers(5, 30)), usd,
                  reference="Order " + rec["invoice_no"], invoice_no=rec["invoice_no"])
        return rec

    def entities(self) -> list[dict[str, str]]:
        return self.p.ents("Trader", [self.p.tid(self.imp), self.p.tid(self.exp)])


def plant_split_invoices(p: Planter) -> None:
    """3-6 declarations of one consignment (same importer, seller and goods, within a week),
    each at 80-97.5 % of the importing country's threshold, together above it."""
    for i in range(p.ctx.planted(6, 3)):
        pair = _Pair(p, i)
        start = p.day(0, DAYS - 30)
        k = int(p.rng.integers(3, 7))
        shares = p.rng.uniform(0.8, 0.975, k)
        for d, s in zip(np.sort(p.rng.integers(0, 6, k)), shares):
            pair.ship(start + int(d), float(s))
        p.instance("split_invoices", pair.entities(),
                   f"one consignment of HS {p.ctx.catalog.hs6[pair.hs]} split into {k} import declarations of "
                   f"{100 * shares.min():.0f}-{100 * shares.max():.0f} % of {pair.threshold:,.0f} {pair.cur} "
                   f"within a week (together {shares.sum():.1f}x the threshold)")
    for j in range(2):  # the same small consignments, one every month or two: regular trade
        pair = _Pair(p, j)
        day = p.day(0, 120)
        while day < DAYS - 10:
            pair.ship(day, float(p.rng.uniform(0.5, 0.975)))
            day += int(p.rng.integers(30, 75))
        p.decoy("split_invoices", "regular_small_shipments", pair.entities(),
                "small consignments below the threshold, months apart")
    for j in range(2):  # one genuine low-value consignment
        pair = _Pair(p, j + 1)
        pair.ship(p.day(0, DAYS - 10), float(p.rng.uniform(0.85, 0.975)))
        p.decoy("split_invoices", "single_low_value", pair.entities(), "one consignment just below the threshold")


LINKS = (("address",), ("phone",), ("director",), ("address", "director"), ("phone", "director"),
         ("address", "phone"))
PHOENIX_HOME = ["KE", "UG", "TZ", "RW"]
PHOENIX_SUPPLIERS = ["CN", "IN", "AE", "DE", "NL", "ZA", "SG", "HK"]


def _trade(p: Planter, suppliers: list[int], importer: int, hs: int, first: int, last: int, n: int,
           pay_last: bool = True) -> list[dict]:
    """``n`` imports of ``hs`` by ``importer`` from ``suppliers`` in turn, from day ``first``
    to ``last`` (both included), most paid a month or two later."""
    days = np.sort(np.concatenate([[first, last], p.rng.integers(first, last + 1, max(0, n - 2))]))
    out = []
    for j, d in enumerate(days):
        sup = suppliers[j % len(suppliers)]
        mass, pf = p.mass_for(hs), float(p.rng.uniform(0.9, 1.1))
        rec = p.ship(sup, importer, hs, int(d), mass, pf=pf, carrier=_big(p), mirror=bool(p.rng.random() < 0.5),
                     delay=int(p.rng.integers(2, 15)))
        if (pay_last or j < len(days) - 2) and p.rng.random() < 0.8:
            p.pay(p.acct(importer), p.acct(sup), int(d) + int(p.rng.integers(20, 60)),
                  mass * float(p.ctx.catalog.price[hs]) * pf, reference="Invoice " + rec["invoice_no"],
                  invoice_no=rec["invoice_no"])
        out.append(rec)
    return out


def _director(p: Planter, person: str | None, trader: int, country: str, start: int) -> str:
    person = person or p.persons([country])[0]
    p.officer(person, p.tid(trader), "DIRECTOR", start_day=start)
    return person


def plant_phoenix(p: Planter) -> None:
    """An established importer trades with 2-3 suppliers, then stops abruptly (a third of them
    after declaring their last imports far below value: undervaluation instances); 5-60 days
    later a new trader registers at its address, phone or with its director (one or two of
    these) and buys the same goods from the same suppliers."""
    cat = p.ctx.catalog
    for i in range(p.ctx.planted(6, 3)):
        links = LINKS[int(p.rng.integers(0, len(LINKS)))]
        c = str(p.rng.choice(PHOENIX_HOME))
        hs = p.hs()
        suppliers = p.traders([str(x) for x in p.rng.choice(PHOENIX_SUPPLIERS, int(p.rng.integers(2, 4)))])
        old_reg = -int(p.rng.integers(365 * 4, 365 * 15))
        old = p.traders([c], reg_day=old_reg, employees=int(p.rng.integers(5, 80)))[0]
        first = p.day(0, 120)
        stop = first + int(p.rng.integers(150, 300))
        _trade(p, suppliers, old, hs, first, stop, int(p.rng.integers(6, 13)), pay_last=False)
        flagged = i % 3 == 0
        if flagged:  # the last imports declared far below value, then the trader is gone
            for j in range(int(p.rng.integers(1, 3))):
                day = stop - 10 * j - int(p.rng.integers(1, 8))
                pf = float(np.exp(p.rng.uniform(np.log(1 / 30), np.log(1 / 10))))
                rec = p.ship(suppliers[j % len(suppliers)], old, hs, day, p.mass_for(hs), pf=pf, carrier=_big(p))
                p.instance("undervaluation", p.ents("Declaration", [rec["export"]]),
                           f"HS {cat.hs6[hs]} declared at {pf:.3g}x the reference unit value (importer {p.tid(old)}, "
                           f"a phoenix trader's predecessor)")
        reg = stop + int(p.rng.integers(5, 61))
        share = tuple(x for x in links if x != "director")
        new = p.traders([c], reg_day=reg, employees=int(p.rng.integers(1, 15)), like=old if share else None,
                        share=share)[0]
        d0 = _director(p, None, old, c, old_reg)
        _director(p, d0 if "director" in links else None, new, c, reg)
        start = reg + int(p.rng.integers(7, 31))
        _trade(p, suppliers, new, hs, start, min(DAYS - 5, start + int(p.rng.integers(90, 300))),
               int(p.rng.integers(4, 9)))
        p.instance("phoenix_trader", p.ents("Trader", [p.tid(old), p.tid(new)]),
                   f"{p.tid(old)} stops importing HS {cat.hs6[hs]} on day {stop}"
                   f"{' after undervalued imports' if flagged else ''}; {p.tid(new)} registered {reg - stop} days "
                   f"later sharing its {' and '.join(links)} buys the same goods from the same {len(suppliers)} "
                   f"suppliers",
                   kind="flagged_then_replaced" if flagged else "stopped_then_replaced")
    for j in range(2):  # a business centre: a new company at the shared address, other partners, other goods
        c = str(p.rng.choice(PHOENIX_HOME))
        centre = p.traders([c], employees=int(p.rng.integers(5, 50)))
        centre += p.traders([c] * int(p.rng.integers(9, 14)), employees=int(p.rng.integers(3, 60)), like=centre[0],
                            share=("address",))
        old = centre[1]
        hs = p.hs()
        first = p.day(0, 120)
        stop = first + int(p.rng.integers(150, 300))
        _trade(p, p.traders([str(p.rng.choice(PHOENIX_SUPPLIERS))] * 2), old, hs, first, stop, 6)
        _director(p, None, old, c, -2000)
        reg = stop + int(p.rng.integers(5, 61))
        new = p.traders([c], reg_day=reg, employees=int(p.rng.integers(1, 15)), like=centre[0], share=("address",))[0]
        _director(p, None, new, c, reg)
        other = p.hs()
        while other == hs:
            other = p.hs()
        start = reg + int(p.rng.integers(7, 31))
        _trade(p, p.traders([str(p.rng.choice(PHOENIX_SUPPLIERS))] * 2), new, other, start,
               min(DAYS - 5, start + 200), 5)
        p.decoy("phoenix_trader", "business_centre", p.ents("Trader", [p.tid(old), p.tid(new)]),
                f"a new company at a business centre of {len(centre) + 1} companies, trading with other partners")
    for j in range(2):  # a legitimate successor: same director and address, after more than a year
        c = str(p.rng.choice(PHOENIX_HOME))
        hs = p.hs()
        suppliers = p.traders([str(x) for x in p.rng.choice(PHOENIX_SUPPLIERS, 2)])
        old = p.traders([c], reg_day=-int(p.rng.integers(365 * 4, 365 * 15)), employees=int(p.rng.integers(5, 80)))[0]
        first = p.day(0, 50)
        stop = first + int(p.rng.integers(100, 150))
        _trade(p, suppliers, old, hs, first, stop, 5)
        reg = stop + int(p.rng.integers(400, 471))
        new = p.traders([c], reg_day=reg, employees=int(p.rng.integers(3, 30)), like=old, share=("address",))[0]
        _director(p, _director(p, None, old, c, -3000), new, c, reg)
        start = reg + int(p.rng.integers(5, 15))
        _trade(p, suppliers, new, hs, start, min(DAYS - 3, start + 50), 3)
        p.decoy("phoenix_trader", "successor_after_long_gap", p.ents("Trader", [p.tid(old), p.tid(new)]),
                f"the same director reopens at the same address {reg - stop} days after the old company stopped")

"""Planted value and money patterns (and their decoys): under/over-valuation, mirror
discrepancies, cash structuring and third-party payments; and (second phase) cash structuring
under the EU threshold, filed in an EU country in EUR.

Valuation, mirror and third-party plants reuse background trader pairs that could trade in
the background (exporter of a lower tier, a popular HS6 of its lines), so they hide among
ordinary shipments; everything else is new.
"""
from __future__ import annotations

import numpy as np

from graphiff.samples.planter import Planter
from graphiff.samples.reference import CUR_INDEX, DAYS, RARE


def _carrier(p: Planter, exp: int) -> int:
    c = int(p.ctx.traders["_c0"].iat[exp])
    return c if c >= 0 else 0


def _value(p: Planter, hs: int, mass: float, pf: float = 1.0) -> float:
    return mass * float(p.ctx.catalog.price[hs]) * pf


def plant_valuation(p: Planter) -> None:
    for family, lo, hi in (("undervaluation", 1 / 30, 1 / 10), ("overvaluation", 10.0, 30.0)):
        for i in range(p.ctx.planted(10, 3)):
            e, m, hs = p.background_pair()
            pf = float(np.exp(p.rng.uniform(np.log(lo), np.log(hi))))
            rec = p.ship(e, m, hs, p.day(), p.mass_for(hs), pf=pf, carrier=_carrier(p, e),
                         cur=str(p.rng.choice(["USD", "EUR", "USD"])))
            p.instance(family, p.ents("Declaration", [rec["export"]]),
                       f"HS {p.ctx.catalog.hs6[hs]} declared at {pf:.3g}x the reference unit value")
    cat = p.ctx.catalog
    for (code, _desc, _price), family, pf in zip(RARE, ("overvaluation", "undervaluation"), (20.0, 1 / 20)):
        hs = cat.index(code)  # a rare HS6 (too few peers to judge) with one odd price
        x = p.traders(["CH", "GB", "AE"])  # two dealers selling to one buyer (no cycle)
        recs = [p.ship(x[j % 2], x[2], hs, p.day(), p.mass_for(hs, 200_000), pf=float(p.rng.uniform(0.8, 1.2)),
                       carrier=4) for j in range(4)]
        odd = p.ship(x[0], x[2], hs, p.day(), p.mass_for(hs, 100_000), pf=pf, carrier=4)
        recs.append(odd)
        p.decoy(family, "few_peers", p.ents("Declaration", [odd["export"]]),
                f"HS {code} has only {len(recs)} declarations")
    gold = cat.index("710812")  # legitimately expensive goods: all peers are expensive too
    sellers = p.traders(["UG", "TZ", "KE"])
    buyers = p.traders(["AE", "CH", "IN", "AE"])
    recs = [p.ship(sellers[j % 3], buyers[j % 4], gold, p.day(), p.mass_for(gold, 400_000),
                   pf=float(p.rng.uniform(0.9, 1.1)), carrier=3) for j in range(14)]
    for r in recs[:3]:
        p.decoy("overvaluation", "expensive_hs", p.ents("Declaration", [r["export"]]),
                "gold: far above the average unit value of all goods, not of its peers")
    cement = cat.index("252321")  # legitimately cheap goods: all peers are cheap too
    sellers, buyers = p.traders(["KE", "TZ"]), p.traders(["UG", "RW", "UG"])
    recs = [p.ship(sellers[j % 2], buyers[j % 3], cement, p.day(), p.mass_for(cement, 30_000),
                   pf=float(p.rng.uniform(0.9, 1.1)), carrier=5) for j in range(6)]
    for r in recs[:3]:
        p.decoy("undervaluation", "cheap_hs", p.ents("Declaration", [r["export"]]),
                "cement: far below the average unit value of all goods, not of its peers")


def plant_mirror(p: Planter) -> None:
    for i in range(p.ctx.planted(10, 3)):
        e, m, hs = p.background_pair()
        kind = i % 3
        kw = {"vratio": float(p.rng.uniform(0.4, 0.6))} if kind == 0 else (
            {"vratio": float(p.rng.uniform(1.45, 2.2))} if kind == 1 else
            {"mratio": float(p.rng.uniform(0.5, 0.65)), "vratio": float(p.rng.uniform(1.03, 1.08))})
        rec = p.ship(e, m, hs, p.day(0, DAYS - 10), p.mass_for(hs, 80_000), carrier=_carrier(p, e), mirror=True,
                     delay=int(p.rng.integers(3, 11)), usd_e=True, **kw)
        what = ("import value {:.2f}x the export value".format(kw["vratio"]) if kind < 2
                else "import net mass {:.2f}x the exported".format(kw["mratio"]))
        p.instance("mirror_discrepancy", p.ents("Declaration", [rec["export"], rec["import"]]), what)
    for j in range(5):
        e, m, hs = p.background_pair()
        rec = p.ship(e, m, hs, p.day(0, DAYS - 10), p.mass_for(hs, 80_000), carrier=_carrier(p, e), mirror=True,
                     delay=int(p.rng.integers(3, 11)), vratio=float(p.rng.uniform(1.05, 1.10)))
        p.decoy("mirror_discrepancy", "normal_cif_fob_margin", p.ents("Declaration", [rec["export"], rec["import"]]))


def plant_cash(p: Planter) -> None:
    def near() -> float:
        return float(p.rng.uniform(8_500, 9_900))

    def cur() -> str:
        return str(p.rng.choice(["USD", "USD", "EUR", "KES"]))

    for i in range(p.ctx.planted(10, 3)):
        start = p.day(0, DAYS - 20)
        k = int(p.rng.integers(3, 6))
        days = start + np.sort(p.rng.choice(15, k, replace=False))
        if i % 3 != 2:  # one courier
            person = p.persons([str(p.rng.choice(["KE", "UG", "TZ", "AE"]))])[0]
            acct = p.account(person, "KE")
            for d in days:
                ctr = p.rng.random() < 0.4
                p.report(person, int(d), near(), rtype="CTR" if ctr else "BORDER", cur=cur(),
                         account_id=acct if ctr else "", direction="IN" if ctr else "OUT")
            p.instance("cash_structuring", p.ents("Person", [person]),
                       f"{k} reports of 8,500-9,900 USD within {int(days[-1] - days[0])} days")
        else:  # several couriers of one trader
            t = p.traders(["KE"])[0]
            persons = p.persons(["KE"] * int(p.rng.integers(2, 4)))
            for j, person in enumerate(persons):
                p.officer(person, p.tid(t), "EMPLOYEE", start_day=-800)
            for j, d in enumerate(days):
                p.report(persons[j % len(persons)], int(d), near(), cur=cur(), trader_id=p.tid(t))
            p.instance("cash_structuring", p.ents("Person", persons),
                       f"{len(persons)} couriers of trader {p.tid(t)} filed {k} reports just below 10,000 USD")
    for j in range(2):  # one report just below the threshold is not structuring
        person = p.persons(["KE"])[0]
        p.report(person, p.day(), near())
        p.decoy("cash_structuring", "single_below_threshold", p.ents("Person", [person]))
    for j in range(3):  # frequent travellers who declare large amounts
        person = p.persons([str(p.rng.choice(["KE", "AE", "IN"]))])[0]
        for d in np.sort(p.rng.choice(DAYS, int(p.rng.integers(6, 13)), replace=False)):
            p.report(person, int(d), float(p.rng.uniform(11_000, 45_000)), cur=cur(),
                     direction=str(p.rng.choice(["IN", "OUT"])))
        p.decoy("cash_structuring", "frequent_traveller_above_threshold", p.ents("Person", [person]))


def plant_third_party(p: Planter) -> None:
    third = ["AE", "HK", "PA", "VG", "SG", "CH", "MU", "SC"]
    for i in range(p.ctx.planted(10, 3)):
        e, m, hs = p.background_pair()
        mass = p.mass_for(hs)
        rec = p.ship(e, m, hs, p.day(0, DAYS - 60), mass, carrier=_carrier(p, e), mirror=True)
        cty = str(p.rng.choice([c for c in third if c != p.country(m)]))
        if i % 2:
            payer = p.acct(p.traders([cty])[0])
        else:
            payer = p.account(p.persons([cty])[0], cty)
        p.pay(payer, p.acct(e), rec["day"] + int(p.rng.integers(5, 40)), _value(p, hs, mass),
              reference="Settlement " + rec["invoice_no"], invoice_no=rec["invoice_no"],
              declaration_id=rec["import_id"] if i % 3 else "")
        p.instance("third_party_payment", p.ents("BankAccount", [payer]),
                   f"a {cty} account unrelated to importer {p.tid(m)} pays for its import")
    for j in range(5):  # the importer's parent or beneficial owner pays: related, not a third party
        e, m, hs = p.background_pair()
        mass = p.mass_for(hs)
        rec = p.ship(e, m, hs, p.day(0, DAYS - 60), mass, carrier=_carrier(p, e), mirror=True)
        if j < 3:
            parent = p.traders([str(p.rng.choice(["AE", "GB", "DE"]))])[0]
            p.officer(p.tid(parent), p.tid(m), "OWNER" if j % 2 == 0 else "SHAREHOLDER", "60")
            payer, kind = p.acct(parent), "parent_pays"
        else:
            owner = p.persons([p.country(m)])[0]
            p.officer(owner, p.tid(m), "UBO", "75")
            payer, kind = p.account(owner, "AE"), "ubo_pays"
        p.pay(payer, p.acct(e), rec["day"] + int(p.rng.integers(5, 40)), _value(p, hs, mass),
              invoice_no=rec["invoice_no"], declaration_id=rec["import_id"])
        p.decoy("third_party_payment", kind, p.ents("BankAccount", [payer]))


# ---- second phase: cash structuring under the threshold of the country of filing --------------

EU_CASH = ("DE", "NL", "BE")  # reports filed there in EUR: the EU threshold is 10,000 EUR


def plant_cash_eu(p: Planter) -> None:
    """Smurfing under the EU threshold (10,000 EUR, Regulation 2018/1672), filed in an EU
    country in EUR: 8,500-9,900 EUR each (more than 10,000 USD at times), adding up above it."""
    eur = CUR_INDEX["EUR"]

    def usd(amount_eur: float, day: int) -> float:
        return amount_eur * float(p.ctx.rates.usd_per_unit(np.array([eur]), np.array([day]))[0])

    for i in range(p.ctx.planted(3, 2)):
        cty = str(p.rng.choice(EU_CASH))
        start = p.day(0, DAYS - 20)
        k = int(p.rng.integers(3, 6))
        days = start + np.sort(p.rng.choice(15, k, replace=False))
        if i % 3 != 2:  # one courier
            person = p.persons([cty])[0]
            acct = p.account(person, cty)
            for d in days:
                ctr = p.rng.random() < 0.4
                p.report(person, int(d), usd(float(p.rng.uniform(8_500, 9_900)), int(d)),
                         rtype="CTR" if ctr else "BORDER", cur="EUR", account_id=acct if ctr else "",
                         direction="IN" if ctr else "OUT")
            who = [person]
        else:  # several couriers of one trader
            t = p.traders([cty])[0]
            who = p.persons([cty] * int(p.rng.integers(2, 4)))
            for person in who:
                p.officer(person, p.tid(t), "EMPLOYEE", start_day=-800)
            for j, d in enumerate(days):
                p.report(who[j % len(who)], int(d), usd(float(p.rng.uniform(8_500, 9_900)), int(d)), cur="EUR",
                         trader_id=p.tid(t), direction=str(p.rng.choice(["IN", "OUT"])))
        p.instance("cash_structuring", p.ents("Person", who),
                   f"{k} reports of 8,500-9,900 EUR filed in {cty} within {int(days[-1] - days[0])} days",
                   kind="eu_threshold")
    for j in range(2):  # in the US, reports just above 10,000 USD: above the threshold where filed
        person = p.persons(["US"])[0]
        start = p.day(0, DAYS - 20)
        for d in start + np.sort(p.rng.choice(15, int(p.rng.integers(3, 5)), replace=False)):
            p.report(person, int(d), float(p.rng.uniform(10_100, 10_900)), direction=str(p.rng.choice(["IN", "OUT"])))
        p.decoy("cash_structuring", "above_threshold_where_filed", p.ents("Person", [person]),
                "reports just above 10,000 USD filed in the US (below 10,000 EUR, which does not apply there)")

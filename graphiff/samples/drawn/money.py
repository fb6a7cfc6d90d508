"""Drawn money plants: circular payments, pass-through (funnel) accounts, scatter-gather,
third-party payments and cash structuring, with their decoys."""

from __future__ import annotations

import numpy as np

from graphiff.samples.drawn.kit import DrawnPlanter
from graphiff.samples.drawn.network import HOME, cover_target, n_planted
from graphiff.samples.reference import DAYS

MONEY_COUNTRIES = ["AE", "GB", "DE", "NL", "CH", "MU", "VG", "SC", "KE", "UG", "HK", "SG", "TZ", "ZA", "IN", "PA"]
REFS = [
    "loan",
    "consultancy services",
    "investment",
    "refund of advance",
    "management fee",
    "services rendered",
    "commission",
    "share purchase",
    "",
]


def holder(p: DrawnPlanter, country: str | None = None, trader_share: float = 0.5) -> str:
    """A new account of a new trader or person of ``country``."""
    c = country or p.pick(MONEY_COUNTRIES)[0]
    if p.chance(trader_share):
        return p.acct(p.traders([c])[0])
    return p.account(p.persons([c])[0], c)


def _round(amount: float, unit: float) -> float:
    return max(unit, round(amount / unit) * unit) if unit >= 1 else round(amount, 2)


def plant_circular_payment(p: DrawnPlanter) -> None:
    rec = p.draws.family(
        "circular_payment",
        decay=sorted([round(p.uniform(0.01, 0.10), 4) for _ in range(2)]),
        max_turns=p.integer(1, 5),
        hop_days=[1, p.integer(3, 20)],
        turn_gap_days=[lo := p.integer(-20, 30), lo + p.integer(20, 120)],
        rounding=float(p.rng.choice([0.01, 10, 100, 1000])),
        accounts=[3, 7],
    )
    k_ = rec["knobs"]
    for _ in range(n_planted(p)):
        k = p.integer(*k_["accounts"])
        accts = [holder(p) for _ in range(k)]
        turns = p.integer(1, k_["max_turns"])
        cur = str(p.rng.choice(["USD", "USD", "EUR", "GBP", "AED"]))
        base = float(np.exp(p.uniform(np.log(15_000), np.log(900_000))))
        start = p.integer(0, 150)
        decays, starts = [], []
        for t in range(turns):
            starts.append(start)
            amount, day = base * p.uniform(0.7, 1.3), start
            first = p.integer(0, k - 1) if p.chance(0.3) else 0
            for j in range(k):
                a, b = accts[(first + j) % k], accts[(first + j + 1) % k]
                p.payment(a, b, day, _round(amount, k_["rounding"]), cur=cur, reference=str(p.rng.choice(REFS)))
                d = p.uniform(*k_["decay"])
                decays.append(round(d, 4))
                amount *= 1 - d
                day += p.integer(*k_["hop_days"])
            start = max(0, min(DAYS - 60, start + p.integer(*k_["turn_gap_days"])))
        p.instances.append(
            {
                "family": "circular_payment",
                "entities": p.ents("BankAccount", accts),
                "note": f"{k} accounts, {turns} turn(s) starting on days {starts}, {cur} "
                f"~{base:,.0f} shrinking {min(decays):.1%}-{max(decays):.1%} per hop",
                "kind": f"{turns}_turns",
            }
        )
        rec["instances"].append({"accounts": k, "turns": turns, "starts": starts, "currency": cur, "decays": decays})
    for _ in range(p.integer(1, 2)):  # amounts of unrelated sizes, spread over a year
        k = p.integer(3, 5)
        accts = [holder(p) for _ in range(k)]
        day = p.integer(0, DAYS - 400)
        for j in range(k):
            p.payment(
                accts[j],
                accts[(j + 1) % k],
                day,
                round(float(np.exp(p.uniform(np.log(2_000), np.log(500_000)))), 2),
                reference=str(p.rng.choice(REFS)),
            )
            day += p.integer(60, 120)
        p.decoy(
            "circular_payment",
            "unrelated_sizes",
            p.ents("BankAccount", accts),
            "payments of unrelated sizes that happen to close a cycle over a year",
        )
    for _ in range(p.integer(1, 2)):  # each hop dated before the previous one
        k = p.integer(3, 4)
        accts = [holder(p) for _ in range(k)]
        day, amount = p.integer(120, DAYS - 10), float(np.exp(p.uniform(np.log(20_000), np.log(300_000))))
        for j in range(k):
            p.payment(accts[j], accts[(j + 1) % k], day, round(amount, 2), reference=str(p.rng.choice(REFS)))
            day -= p.integer(5, 30)
            amount *= 0.97
        p.decoy(
            "circular_payment",
            "out_of_time_order",
            p.ents("BankAccount", accts),
            "a cycle whose hops run backwards in time",
        )


def plant_pass_through(p: DrawnPlanter) -> None:
    rec = p.draws.family(
        "pass_through_account",
        senders=[5, p.integer(6, 20)],
        receivers=[5, p.integer(6, 20)],
        out_days=[0, p.integer(1, 6)],
        residual=[0.0, round(p.uniform(0.01, 0.08), 3)],
        window_days=p.integer(20, 120),
    )
    k_ = rec["knobs"]
    for _ in range(n_planted(p)):
        c = p.pick(MONEY_COUNTRIES)[0]
        acct = holder(p, c, trader_share=0.6)
        n_in, n_out = p.integer(*k_["senders"]), p.integer(*k_["receivers"])
        senders = [holder(p, trader_share=0.3) for _ in range(n_in)]
        receivers = [holder(p) for _ in range(n_out)]
        start = p.integer(0, DAYS - k_["window_days"] - 20)
        cur = str(p.rng.choice(["USD", "USD", "EUR"]))
        total_in = 0.0
        days_in = sorted(start + p.integer(0, k_["window_days"]) for _ in range(n_in))
        amounts = [float(np.exp(p.uniform(np.log(3_000), np.log(60_000)))) for _ in range(n_in)]
        for s, d, a in zip(senders, days_in, amounts):
            p.payment(s, acct, d, round(a, 2), cur=cur, reference=str(p.rng.choice(["", "deposit", "payment"])))
            total_in += a
        out_total = total_in * (1 - p.uniform(*k_["residual"]))
        shares = p.rng.dirichlet(np.ones(n_out))
        for r, sh, j in zip(receivers, shares, range(n_out)):
            d = days_in[min(n_in - 1, int(j * n_in / n_out))] + p.integer(*k_["out_days"])
            p.payment(acct, r, d, round(out_total * float(sh), 2), cur=cur, reference=str(p.rng.choice(REFS)))
        p.instances.append(
            {
                "family": "pass_through_account",
                "entities": p.ents("BankAccount", [acct]),
                "note": f"{n_in} senders in, {n_out} receivers out within {k_['window_days']} days, "
                f"{out_total / total_in:.1%} passed on",
                "kind": "funnel",
            }
        )
        rec["instances"].append({"senders": n_in, "receivers": n_out, "passed_on": round(out_total / total_in, 4)})
    for _ in range(p.integer(1, 2)):  # payroll: one employer in, many employees out
        acct = holder(p, p.pick(HOME)[0], trader_share=1.0)
        funder = holder(p, trader_share=1.0)
        staff = [p.account(p.persons([p.pick(HOME)[0]])[0], p.pick(HOME)[0]) for _ in range(p.integer(8, 20))]
        for month in range(p.integer(4, 12)):
            day = 25 + 30 * month
            wages = [p.uniform(400, 3000) for _ in staff]
            p.payment(funder, acct, day - p.integer(1, 5), round(sum(wages) * 1.02, 2), reference="payroll funding")
            for s, w in zip(staff, wages):
                p.payment(acct, s, day, round(w, 2), reference="salary")
        p.decoy(
            "pass_through_account",
            "payroll",
            p.ents("BankAccount", [acct]),
            "a payroll account: one funder in, many employees out",
        )
    for _ in range(p.integer(1, 2)):  # a merchant: many customers in, few suppliers out, money stays
        acct = holder(p, p.pick(HOME)[0], trader_share=1.0)
        total = 0.0
        for _j in range(p.integer(25, 50)):
            a = p.uniform(50, 3000)
            total += a
            p.payment(holder(p, trader_share=0.1), acct, p.integer(0, DAYS - 30), round(a, 2), reference="order")
        for _j in range(p.integer(1, 3)):
            p.payment(
                acct,
                holder(p, trader_share=1.0),
                p.integer(100, DAYS - 10),
                round(total * p.uniform(0.1, 0.25), 2),
                reference="supplier invoice",
            )
        p.decoy(
            "pass_through_account",
            "merchant",
            p.ents("BankAccount", [acct]),
            "a merchant: many customers in over two years, a few suppliers out, the balance stays",
        )


def plant_scatter_gather(p: DrawnPlanter) -> None:
    rec = p.draws.family(
        "scatter_gather",
        intermediaries=[2, p.integer(3, 10)],
        cut=[0.0, round(p.uniform(0.01, 0.1), 3)],
        window_days=p.integer(3, 30),
    )
    k_ = rec["knobs"]
    for _ in range(n_planted(p)):
        src, dst = holder(p), holder(p)
        k = p.integer(*k_["intermediaries"])
        mids = [holder(p, trader_share=0.3) for _ in range(k)]
        day = p.integer(0, DAYS - k_["window_days"] - 10)
        total = float(np.exp(p.uniform(np.log(30_000), np.log(2_000_000))))
        cur = str(p.rng.choice(["USD", "EUR", "GBP", "USD"]))
        shares = p.rng.dirichlet(np.ones(k) * 3)
        for m, sh in zip(mids, shares):
            a = total * float(sh)
            d1 = day + p.integer(0, max(1, k_["window_days"] // 3))
            p.payment(src, m, d1, round(a, 2), cur=cur, reference=str(p.rng.choice(REFS)))
            d2 = min(day + k_["window_days"], d1 + p.integer(0, max(1, k_["window_days"] // 2)))
            p.payment(
                m,
                dst,
                max(d1, d2),
                round(a * (1 - p.uniform(*k_["cut"])), 2),
                cur=cur,
                reference=str(p.rng.choice(REFS)),
            )
        p.instances.append(
            {
                "family": "scatter_gather",
                "entities": p.ents("BankAccount", [src, dst]),
                "note": f"{src} scatters {cur} {total:,.0f} over {k} accounts gathered at {dst} "
                f"within {k_['window_days']} days",
                "kind": f"k{k}",
            }
        )
        rec["instances"].append({"intermediaries": k, "currency": cur})
    for _ in range(p.integer(1, 3)):  # fan-out with no gathering (payroll, dividends)
        src = holder(p, trader_share=1.0)
        day = p.integer(0, DAYS - 20)
        for _j in range(p.integer(4, 12)):
            r = holder(p, trader_share=0.0)
            a = p.uniform(500, 8000)
            p.payment(src, r, day, round(a, 2), reference="salary")
            if p.chance(0.5):  # the recipients spend it, each elsewhere
                p.payment(
                    r,
                    holder(p, trader_share=1.0),
                    day + p.integer(1, 20),
                    round(a * p.uniform(0.2, 0.8), 2),
                    reference="purchase",
                )
        p.decoy(
            "scatter_gather",
            "fan_out_no_gathering",
            p.ents("BankAccount", [src]),
            "one account pays many, nothing comes together again",
        )


THIRD = ["AE", "HK", "PA", "VG", "SG", "CH", "MU", "SC", "GB", "CN"]


def plant_third_party(p: DrawnPlanter) -> None:
    rec = p.draws.family(
        "third_party_payment",
        foreign_share=p.uniform(0.5, 0.95),
        person_payer_share=p.uniform(0.2, 0.6),
        link=sorted(set(str(x) for x in p.rng.choice(["invoice_no", "declaration_id", "both"], 2))),
        pay_days=[0, p.integer(20, 90)],
    )
    k_ = rec["knobs"]

    def importer_shipment() -> tuple[int, int, dict, float]:
        m = p.traders(p.pick(HOME, held=True))[0]
        e = cover_target(p, m)
        hs = p.hs()
        mass = p.mass_for(hs)
        r = p.shipment(e, m, hs, p.integer(0, DAYS - 100), mass, seen=p.visible(e, m, "IM"))
        return e, m, r, mass * float(p.ctx.catalog.price[hs])

    def settle(payer: str, e: int, r: dict, usd: float) -> None:
        link = str(p.rng.choice(k_["link"]))
        kw = {}
        if link in ("invoice_no", "both"):
            kw["invoice_no"] = r["invoice_no"]
        if link in ("declaration_id", "both"):
            kw["declaration_id"] = r["ids"][-1]
        p.payment(
            payer,
            p.acct(e),
            r["day"] + p.integer(*k_["pay_days"]),
            round(usd, 2),
            reference=f"Settlement {r['invoice_no']}",
            **kw,
        )

    for _ in range(n_planted(p)):
        e, m, r, usd = importer_shipment()
        c = p.pick([x for x in THIRD if x != p.country(m)])[0] if p.chance(k_["foreign_share"]) else p.country(m)
        payer = holder(p, c, trader_share=1 - k_["person_payer_share"])
        settle(payer, e, r, usd)
        p.instances.append(
            {
                "family": "third_party_payment",
                "entities": p.ents("BankAccount", [payer]),
                "note": f"an account in {c} held by neither importer {p.tid(m)} nor a related party "
                f"pays for its import",
                "kind": "foreign" if c != p.country(m) else "domestic",
            }
        )
        rec["instances"].append({"payer_country": c})
    for j in range(p.integer(2, 4)):
        e, m, r, usd = importer_shipment()
        kind = ["parent_pays", "owner_pays", "own_second_account"][j % 3]
        if kind == "parent_pays":
            parent = p.traders(p.pick(["AE", "GB", "DE", "NL", "HK"]))[0]
            p.officer(p.tid(parent), p.tid(m), str(p.rng.choice(["OWNER", "SHAREHOLDER"])), str(p.integer(51, 100)))
            payer = p.acct(parent)
        elif kind == "owner_pays":
            owner = p.persons([p.country(m)])[0]
            p.officer(owner, p.tid(m), str(p.rng.choice(["OWNER", "UBO"])), str(p.integer(51, 100)))
            payer = p.account(owner, p.pick(["AE", "GB", p.country(m)])[0])
        else:
            payer = p.account(p.tid(m), p.pick(["AE", "GB", p.country(m)])[0])
        settle(payer, e, r, usd)
        p.decoy(
            "third_party_payment", kind, p.ents("BankAccount", [payer]), "a related party or the importer itself pays"
        )


#: cash-reporting thresholds (docs/typologies.md): jurisdiction -> (filing countries, currency, places)
JURISDICTIONS = {
    "US": (["US"], "USD", ["JFK Airport", "Miami Airport", "Bank branch New York"]),
    "EU": (["DE", "NL", "BE"], "EUR", ["Frankfurt Airport", "Schiphol Airport", "Brussels Airport"]),
    "CA": (["CA"], "CAD", ["Toronto Pearson Airport", "Vancouver Airport"]),
    "AU": (["AU"], "AUD", ["Sydney Airport", "Melbourne Airport"]),
}
THRESHOLD = 10_000.0


def plant_cash(p: DrawnPlanter) -> None:
    jur = sorted(str(x) for x in set(p.rng.choice(list(JURISDICTIONS), p.integer(1, 4), replace=False)))
    rec = p.draws.family(
        "cash_structuring",
        jurisdictions=jur,
        below=[round(p.uniform(0.75, 0.9), 3), 0.999],
        reports=[3, p.integer(4, 12)],
        window_days=[2, p.integer(7, 45)],
        group_share=p.uniform(0.3, 0.7),
        border_share=p.uniform(0.3, 0.9),
        threshold=THRESHOLD,
    )
    k_ = rec["knobs"]

    def place(j: str) -> tuple[str, str, str]:
        countries, cur, places = JURISDICTIONS[j]
        return str(p.rng.choice(countries)), cur, str(p.rng.choice(places))

    for _ in range(n_planted(p)):
        j = str(p.rng.choice(jur))
        country, cur, where = place(j)
        group = p.chance(k_["group_share"])
        k = p.integer(2, 5) if group else 1
        persons = p.persons(p.pick(HOME + ["AE", "CN", "IN"], k))
        tie = "none"
        trader_id = account_id = ""
        if group:
            tie = str(p.rng.choice(["trader_id", "account_id", "officers"]))
            t = p.traders(p.pick(HOME, held=True))[0]
            if tie == "trader_id":
                trader_id = p.tid(t)
            elif tie == "account_id":
                account_id = p.acct(t)
            else:
                for who in persons:
                    p.officer(who, p.tid(t), str(p.rng.choice(["EMPLOYEE", "SIGNATORY", "DIRECTOR"])))
        n = max(p.integer(*k_["reports"]), k)
        lo = k_["below"][0]
        amounts = [p.uniform(lo, 0.999) * THRESHOLD for _ in range(n)]
        while sum(amounts) <= THRESHOLD:
            amounts.append(p.uniform(lo, 0.999) * THRESHOLD)
        window = p.integer(*k_["window_days"])
        start = p.integer(0, DAYS - window - 5)
        rtype = "BORDER" if p.chance(k_["border_share"]) else "CTR"
        for i, a in enumerate(amounts):
            p.cash_report(
                persons[i % k],
                start + p.integer(0, window),
                round(a, 0 if p.chance(0.5) else 2),
                cur,
                rtype=rtype,
                country=country,
                place=where,
                direction=str(p.rng.choice(["OUT", "IN"])),
                trader_id=trader_id,
                account_id=account_id,
                other=p.pick(HOME)[0],
            )
        p.instances.append(
            {
                "family": "cash_structuring",
                "entities": p.ents("Person", persons),
                "note": f"{len(amounts)} {rtype} reports of {cur} {min(amounts):,.0f}-{max(amounts):,.0f} "
                f"(threshold {THRESHOLD:,.0f} {cur} in {country}) by {k} person(s) within "
                f"{window} days, tied by {tie}",
                "kind": "group" if group else "single",
            }
        )
        rec["instances"].append(
            {
                "jurisdiction": j,
                "country": country,
                "currency": cur,
                "persons": k,
                "tie": tie,
                "reports": len(amounts),
                "window": window,
                "type": rtype,
            }
        )
    for _ in range(p.integer(1, 2)):  # one report just below the threshold
        country, cur, where = place(str(p.rng.choice(jur)))
        who = p.persons(p.pick(HOME))[0]
        p.cash_report(
            who,
            p.integer(0, DAYS - 5),
            round(p.uniform(0.9, 0.99) * THRESHOLD),
            cur,
            rtype="BORDER",
            country=country,
            place=where,
        )
        p.decoy("cash_structuring", "single_below", p.ents("Person", [who]), "one report just below the threshold")
    for _ in range(p.integer(1, 2)):  # a frequent traveller declaring above the threshold
        country, cur, where = place(str(p.rng.choice(jur)))
        who = p.persons(p.pick(HOME))[0]
        for _j in range(p.integer(4, 8)):
            p.cash_report(
                who,
                p.integer(0, DAYS - 5),
                round(p.uniform(1.1, 4.0) * THRESHOLD),
                cur,
                rtype="BORDER",
                country=country,
                place=where,
                direction=str(p.rng.choice(["OUT", "IN"])),
            )
        p.decoy(
            "cash_structuring",
            "frequent_traveller_above",
            p.ents("Person", [who]),
            "a frequent traveller who declares above the threshold",
        )
    day = p.integer(0, DAYS - 20)
    if 0.96 * THRESHOLD * p.rate("EUR", day) >= 1.03 * THRESHOLD:  # below 10,000 EUR, above 10,000 USD
        who = p.persons(p.pick(HOME))[0]
        for _j in range(p.integer(3, 5)):
            p.cash_report(
                who,
                day + p.integer(0, 10),
                round(p.uniform(0.96, 0.995) * THRESHOLD),
                "EUR",
                rtype="BORDER",
                country="US",
                place="JFK Airport",
            )
        p.decoy(
            "cash_structuring",
            "below_in_other_currency",
            p.ents("Person", [who]),
            "reports of 9,300-9,900 EUR filed in the US: above the 10,000 USD threshold there",
        )

"""Planted money-flow patterns (and their decoys), second phase: pass-through (funnel) accounts
and scatter-gather. Every account of a pattern is new (of a new trader or person), so the
payment graph of the background stays as it was.

References: FinCEN Advisory FIN-2014-A005 (funnel accounts); FATF, *Professional Money
Laundering* (2018).
"""
from __future__ import annotations

import numpy as np

from graphiff.samples.planter import Planter
from graphiff.samples.reference import DAYS

HOLDER_COUNTRIES = ["KE", "UG", "TZ", "RW", "AE", "HK", "SG", "GB", "CN", "IN", "ZA", "DE", "NL", "MU"]
REFS = ["goods", "invoice payment", "services", "advance", "transfer", "supplies", "consultancy"]


def _accounts(p: Planter, k: int, trader_share: float = 0.5, pool=HOLDER_COUNTRIES) -> list[str]:
    """Accounts of ``k`` new holders (traders or persons) in countries of ``pool``."""
    out = []
    for c in p.rng.choice(pool, k):
        c = str(c)
        out.append(p.acct(p.traders([c])[0]) if p.rng.random() < trader_share else p.account(p.persons([c])[0], c))
    return out


def _amount(p: Planter, lo: float, hi: float) -> float:
    return float(np.exp(p.rng.uniform(np.log(lo), np.log(hi))))


def _funnel_account(p: Planter) -> tuple[str, str]:
    """(account, who holds it): a small recent company or a person."""
    cty = str(p.rng.choice(["KE", "UG", "TZ", "AE", "HK", "GB", "ZA"]))
    if p.rng.random() < 0.5:
        t = p.traders([cty], reg_day=p.day(-900, 0), employees=int(p.rng.integers(0, 6)))[0]
        return p.acct(t), p.tid(t)
    person = p.persons([cty])[0]
    return p.account(person, cty), person


def _payroll(p: Planter) -> str:
    """An employer's payroll account: one transfer in from the employer's main account each
    month, salaries out to 10-25 employees within three days; some employees pay their own
    landlords. Returns the payroll account."""
    cty = str(p.rng.choice(["KE", "UG", "TZ", "ZA"]))
    e = p.traders([cty], employees=int(p.rng.integers(30, 300)))[0]
    payroll = p.account(p.tid(e), cty)
    staff = [p.account(person, cty) for person in p.persons([cty] * int(p.rng.integers(10, 26)))]
    pay = [_amount(p, 600, 6_000) for _ in staff]
    renters = [(j, p.account(p.persons([cty])[0], cty)) for j in range(len(staff)) if p.rng.random() < 0.3]
    for m in range(int(p.rng.integers(4, 9))):
        day = 25 + 30 * m + int(p.rng.integers(0, 3))
        p.pay(p.acct(e), payroll, day, sum(pay), reference=f"Payroll month {m + 1}")
        for j, (acct, amount) in enumerate(zip(staff, pay)):
            p.pay(payroll, acct, day + int(p.rng.integers(1, 4)), amount, reference="Salary")
        for j, landlord in renters:
            p.pay(staff[j], landlord, day + int(p.rng.integers(3, 10)), pay[j] * float(p.rng.uniform(0.2, 0.4)),
                  reference="Rent")
    return payroll


def _merchant(p: Planter) -> str:
    """A busy merchant's account: 20-40 customers paying over many months, a few suppliers
    paid every two months or so (most of the money stays for weeks). Returns the account."""
    cty = str(p.rng.choice(["KE", "UG", "TZ", "ZA", "AE"]))
    m = p.traders([cty], employees=int(p.rng.integers(20, 200)))[0]
    acct = p.acct(m)
    customers = _accounts(p, int(p.rng.integers(20, 41)), trader_share=0.3, pool=[cty, cty, "UG", "TZ", "RW"])
    suppliers = _accounts(p, int(p.rng.integers(2, 4)), trader_share=1.0, pool=["CN", "IN", "AE", "DE"])
    total = 0.0
    for c in customers:
        for d in p.rng.choice(DAYS - 30, int(p.rng.integers(1, 5)), replace=False):
            amount = _amount(p, 500, 15_000)
            p.pay(c, acct, int(d), amount, reference=str(p.rng.choice(["goods", "invoice payment", "order"])))
            total += amount
    n_out = int(p.rng.integers(5, 10))
    for r in range(n_out):
        p.pay(acct, suppliers[r % len(suppliers)], 60 + r * (DAYS - 90) // n_out + int(p.rng.integers(0, 10)),
              total * float(p.rng.uniform(0.6, 0.8)) / n_out, reference="Supplier invoice")
    return acct


def plant_pass_through(p: Planter) -> None:
    """Funnel accounts: 6-14 senders in, 5-12 receivers out, in 2-4 rounds; each round's money
    leaves within days, 93-99 % of it (little left)."""
    for i in range(p.ctx.planted(6, 3)):
        funnel, holder = _funnel_account(p)
        senders = _accounts(p, int(p.rng.integers(6, 15)))
        receivers = _accounts(p, int(p.rng.integers(5, 13)))
        rounds = int(p.rng.integers(2, 5))
        ins = np.array_split(p.rng.permutation(len(senders)), rounds)
        outs = np.array_split(p.rng.permutation(len(receivers)), rounds)
        day = p.day(0, DAYS - 120)
        total_in = total_out = 0.0
        for r in range(rounds):
            got = 0.0
            for s in ins[r]:
                amount = _amount(p, 5_000, 60_000)
                p.pay(senders[int(s)], funnel, day + int(p.rng.integers(0, 3)), amount,
                      reference=str(p.rng.choice(REFS)))
                got += amount
            share = p.rng.dirichlet(np.ones(len(outs[r])))
            left = float(p.rng.uniform(0.93, 0.99))
            for w, o in zip(share, outs[r]):
                p.pay(funnel, receivers[int(o)], day + int(p.rng.integers(3, 7)), got * left * float(w),
                      reference=str(p.rng.choice(REFS)))
            total_in, total_out = total_in + got, total_out + got * left
            day += int(p.rng.integers(7, 25))
        p.instance("pass_through_account", p.ents("BankAccount", [funnel]),
                   f"funnel account of {holder}: {len(senders)} senders in, {len(receivers)} receivers out in {rounds} "
                   f"rounds, each within days; {100 * (1 - total_out / total_in):.1f} % of {total_in:,.0f} USD left")
    for j in range(2):
        p.decoy("pass_through_account", "payroll_account", p.ents("BankAccount", [_payroll(p)]),
                "one transfer in a month, many salaries out")
    for j in range(2):
        p.decoy("pass_through_account", "busy_merchant", p.ents("BankAccount", [_merchant(p)]),
                "many customers in over months, a few suppliers out, money stays for weeks")


def plant_scatter_gather(p: Planter) -> None:
    """A source scatters money over 3-6 intermediaries (new persons or companies), each passes
    it on, minus a 0.5-5 % cut, to one gathering account within a week; once or twice."""
    for i in range(p.ctx.planted(6, 3)):
        src, gather = _accounts(p, 2, trader_share=0.6)
        mids = _accounts(p, int(p.rng.integers(3, 7)), trader_share=0.3)
        turns = 2 if i % 3 == 0 else 1
        day = p.day(0, DAYS - 150)
        sent = 0.0
        for t in range(turns):
            for m in mids:
                amount = _amount(p, 8_000, 60_000)
                d = day + int(p.rng.integers(0, 3))
                p.pay(src, m, d, amount, reference=str(p.rng.choice(REFS)))
                p.pay(m, gather, d + int(p.rng.integers(1, 8)), amount * float(p.rng.uniform(0.95, 0.995)),
                      reference=str(p.rng.choice(REFS)))
                sent += amount
            day += int(p.rng.integers(20, 90))
        p.instance("scatter_gather", p.ents("BankAccount", [src, gather]),
                   f"{sent:,.0f} USD scattered over {len(mids)} intermediaries and gathered within a week"
                   f"{', twice' if turns == 2 else ''}")
    for j in range(2):
        p.decoy("scatter_gather", "payroll_fan_out", p.ents("BankAccount", [_payroll(p)]),
                "salaries fan out to employees; nothing gathers again")
    p.decoy("scatter_gather", "merchant_many_customers", p.ents("BankAccount", [_merchant(p)]),
            "many unrelated customers pay one merchant; no common source")

"""Drawn network plants: circular trade (carousels and related-party round trips), shell and
re-invoicing intermediaries, with their decoys, and the helpers every drawn plant shares
(:func:`n_planted`, :func:`cover`). Front companies are :mod:`graphiff.samples.drawn.fronts`.

Every knob is drawn per world (``p.draws``) from the ranges in the typology references
(docs/typologies.md); each instance also records what it drew.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphiff.samples.drawn.kit import TRADE_COUNTRIES, DrawnPlanter
from graphiff.samples.reference import DAYS, SECRECY

HOME = ["KE", "UG", "TZ", "RW", "ET", "ZA", "IN", "DE", "NL", "GB", "PL", "US", "BE"]
ABROAD = ["AE", "MU", "SG", "HK", "CH", "VG", "PA", "SC", "BZ", "GB", "NL"]
SUPPLIERS = ["CN", "IN", "KR", "JP", "DE", "PL", "ZA", "US"]


def n_planted(p: DrawnPlanter, lo: int = 4, hi: int = 8) -> int:
    """How many instances of a family: drawn in ``[lo, hi]``, growing mildly with the scale."""
    return max(3, int(round(p.integer(lo, hi) * (max(p.scale, 0.05) / 0.3) ** 0.25)))


def cover(
    p: DrawnPlanter,
    t: int,
    n: int,
    lo: int = 0,
    hi: int = DAYS - 30,
    *,
    hs: int | None = None,
    partners: list[int] | None = None,
    carriers: list[int] | None = None,
) -> list[int]:
    """``n`` ordinary exports of planted trader ``t`` to background traders (or ``partners``)
    at ordinary prices; the partners, so that a planted trader does not trade only in its
    scheme. Background traders never sell to planted ones, so this closes no cycle."""
    out = []
    bg = np.flatnonzero(p.ctx.traders["_tier"].to_numpy()[: len(p.ctx.traders)] >= 1)
    for _ in range(n):
        if partners:
            m = partners[p.integer(0, len(partners) - 1)]
        else:
            m = int(bg[p.rng.integers(0, len(bg))])
            for _try in range(20):
                if p.country(m) != p.country(t) and (p.country(m) in p.held or p.country(t) in p.held):
                    break
                m = int(bg[p.rng.integers(0, len(bg))])
            if p.country(m) == p.country(t):
                continue
        g = hs if hs is not None else p.hs()
        kw: dict[str, Any] = {"carrier": carriers[p.integer(0, len(carriers) - 1)]} if carriers else {}
        p.shipment(
            t,
            m,
            g,
            p.integer(lo, hi),
            p.mass_for(g),
            seen=p.visible(t, m),
            pf=float(np.exp(np.clip(p.rng.normal(0, 0.22), -0.5, 0.5))),
            **kw,
        )
        out.append(m)
    return out


def cover_target(p: DrawnPlanter, t: int) -> int:
    """A background trader in another country, one end held."""
    bg = np.flatnonzero(p.ctx.traders["_tier"].to_numpy() >= 1)
    for _ in range(50):
        m = int(bg[p.rng.integers(0, len(bg))])
        if p.country(m) != p.country(t) and (p.country(m) in p.held or p.country(t) in p.held):
            return m
    return m


def _cross_border(p: DrawnPlanter, countries: list[str]) -> list[str]:
    """Make every hop of a cycle of these countries cross a border and have a held end."""
    k = len(countries)
    for j in range(k):
        a, b = countries[j], countries[(j + 1) % k]
        if a == b or (a not in p.held and b not in p.held):
            choices = [c for c in sorted(p.held) if c != a and c != countries[(j + 2) % k]] or [
                c for c in TRADE_COUNTRIES if c != a
            ]
            countries[(j + 1) % k] = str(p.rng.choice(choices))
    return countries


def _siblings(p: DrawnPlanter, hs: int) -> np.ndarray:
    code = p.ctx.catalog.hs6
    return np.flatnonzero(np.char.startswith(code.astype(str), str(code[hs])[:4]))


def plant_circular_trade(p: DrawnPlanter) -> None:
    rec = p.draws.family(
        "circular_trade",
        round_trip_share=p.uniform(0.25, 0.6),
        hs4_only_share=p.uniform(0.0, 0.6),
        quantity_drift=p.uniform(0.0, 0.08),
        gap_days=[lo := p.integer(2, 20), lo + p.integer(5, 60)],
        max_turns=p.integer(1, 4),
        markup=[1.5, 3.5],
        back_weeks=[2, 12],
        seen_weights=p.rng.dirichlet([1, 1, 1]).round(3).tolist(),
    )
    k_ = rec["knobs"]
    n = n_planted(p)
    n_rt = max(1, int(round(n * k_["round_trip_share"])))
    for i in range(n):
        hs = p.hs()
        hs4 = p.chance(k_["hs4_only_share"]) and len(_siblings(p, hs)) > 1
        if i < n_rt:
            _round_trip(p, hs, hs4, rec)
            continue
        k = p.integer(2, 6)
        turns = p.integer(1, k_["max_turns"])
        tr = p.traders(_cross_border(p, p.pick(TRADE_COUNTRIES, k)))
        hops = k * turns
        lo, hi = k_["gap_days"]
        hi = max(lo + 1, min(hi, (DAYS - 60) // hops))
        lo = min(lo, hi - 1)
        gaps = [p.integer(lo, hi) for _ in range(hops - 1)]
        start = p.integer(0, max(1, DAYS - 40 - sum(gaps)))
        days = start + np.concatenate([[0], np.cumsum(gaps)]).astype(int)
        mass = p.mass_for(hs)
        sib = _siblings(p, hs)
        seen_list = []
        for j in range(hops):
            g = int(sib[p.rng.integers(0, len(sib))]) if hs4 else hs
            a, b = tr[j % k], tr[(j + 1) % k]
            prefer = str(p.rng.choice(["EX", "IM", "BOTH"], p=np.array(k_["seen_weights"]) / sum(k_["seen_weights"])))
            seen = p.visible(a, b, prefer)
            seen_list.append(seen)
            p.shipment(a, b, g, int(days[j]), mass, seen=seen, pf=p.uniform(0.9, 1.12))
            mass *= p.uniform(1 - k_["quantity_drift"], 1 + k_["quantity_drift"])
        for t in tr:
            if p.chance(0.5):
                cover(p, t, p.integer(1, 4))
        ents = p.ents("Trader", [p.tid(t) for t in tr])
        note = (
            f"carousel: {k} traders pass HS{'4' if hs4 else '6'} {p.ctx.catalog.hs6[hs][: 4 if hs4 else 6]} "
            f"round {turns} time(s), hops {lo}-{hi} days apart"
        )
        p.instances.append({"family": "circular_trade", "entities": ents, "note": note, "kind": "carousel"})
        rec["instances"].append(
            {"kind": "carousel", "traders": k, "turns": turns, "hs4_only": hs4, "gaps": gaps, "seen": seen_list}
        )
    _circular_trade_decoys(p, rec)


def _round_trip(p: DrawnPlanter, hs: int, hs4: bool, rec: dict) -> None:
    """Goods out to a related company abroad, back weeks later declared at a marked-up value."""
    home = p.pick(HOME, held=True)[0]
    away = p.pick([c for c in ABROAD if c != home])[0]
    sister = p.chance(0.4)
    a, b = p.traders([home, away])
    a2 = p.traders([home])[0] if sister else a
    link = str(p.rng.choice(["common_owner", "common_ubo", "common_director", "parent_owns_abroad"]))
    if link == "parent_owns_abroad":
        p.officer(p.tid(a), p.tid(b), "OWNER", "100")
        if sister:
            p.officer(p.tid(a), p.tid(a2), "SHAREHOLDER", str(p.integer(51, 100)))
    else:
        person = p.persons([home])[0]
        role = {"common_owner": "OWNER", "common_ubo": "UBO", "common_director": "DIRECTOR"}[link]
        for t in {a, b, a2}:
            p.officer(person, p.tid(t), role, "100" if role != "DIRECTOR" else "")
    times = p.integer(1, 2)
    markups, delays = [], []
    sib = _siblings(p, hs)
    for _ in range(times):
        markup = p.uniform(1.5, 3.5)
        pf_out = min(p.uniform(0.55, 1.0), 2.4 / markup)
        day = p.integer(0, DAYS - 120)
        delay = p.integer(14, 84)
        mass = p.mass_for(hs)
        p.shipment(a, b, hs, day, mass, seen=p.visible(a, b, "EX"), pf=pf_out)
        back = int(sib[p.rng.integers(0, len(sib))]) if hs4 else hs
        drift = p.uniform(0.95, 1.05)
        p.shipment(
            b,
            a2,
            back,
            day + delay,
            mass * drift,
            seen=p.visible(b, a2, "IM"),
            pf=pf_out * markup * float(p.ctx.catalog.price[hs] / p.ctx.catalog.price[back]),
        )
        markups.append(round(markup, 3))
        delays.append(delay)
    cover(p, a, p.integer(1, 5))
    traders = [a, b] + ([a2] if sister else [])
    p.instances.append(
        {
            "family": "circular_trade",
            "entities": p.ents("Trader", [p.tid(t) for t in traders]),
            "note": f"related-party round trip ({link}): {p.tid(a)} -> {p.tid(b)} -> {p.tid(a2)}, "
            f"back after {delays} days at {markups}x the export value",
            "kind": "round_trip",
        }
    )
    rec["instances"].append(
        {"kind": "round_trip", "link": link, "sister": sister, "markups": markups, "delays": delays, "hs4_only": hs4}
    )


def _circular_trade_decoys(p: DrawnPlanter, rec: dict) -> None:
    cat = p.ctx.catalog
    for _ in range(p.integer(1, 2)):  # processing trade: cotton out, garments back
        a, b = p.traders([p.pick(HOME, held=True)[0], p.pick(["CN", "IN", "ET", "PL"])[0]])
        cotton = cat.index("520100")
        garments = int(p.rng.choice(np.flatnonzero(np.char.startswith(cat.hs6.astype(str), "6203"))))
        d = p.integer(0, DAYS - 120)
        p.shipment(a, b, cotton, d, p.mass_for(cotton, p.uniform(40_000, 120_000)), seen=p.visible(a, b))
        p.shipment(
            b,
            a,
            garments,
            d + p.integer(40, 100),
            p.mass_for(garments, p.uniform(80_000, 250_000)),
            seen=p.visible(b, a),
        )
        p.decoy(
            "circular_trade",
            "processing_trade",
            p.ents("Trader", [p.tid(a), p.tid(b)]),
            "cotton exported, garments made of it imported back",
        )
    for _ in range(p.integer(1, 2)):  # each hop dated before the previous one
        k = p.integer(3, 4)
        tr = p.traders(_cross_border(p, p.pick(TRADE_COUNTRIES, k)))
        hs, mass, day = p.hs(), 0.0, p.integer(150, DAYS - 30)
        mass = p.mass_for(hs)
        for j in range(k):
            p.shipment(
                tr[j], tr[(j + 1) % k], hs, day - j * p.integer(15, 40), mass, seen=p.visible(tr[j], tr[(j + 1) % k])
            )
        p.decoy(
            "circular_trade",
            "out_of_time_order",
            p.ents("Trader", [p.tid(t) for t in tr]),
            "the hops of the cycle run backwards in time",
        )
    for _ in range(p.integer(1, 2)):  # unrelated parties, same goods, incomparable lots and values
        k = p.integer(2, 3)
        tr = p.traders(_cross_border(p, p.pick(TRADE_COUNTRIES, k)))
        hs, day = p.hs(), p.integer(0, DAYS - 200)
        mass = p.mass_for(hs, p.uniform(2_000, 6_000))
        for j in range(k):
            p.shipment(tr[j], tr[(j + 1) % k], hs, day, mass, seen=p.visible(tr[j], tr[(j + 1) % k]))
            day += p.integer(10, 60)
            mass *= p.uniform(6.0, 20.0)
        p.decoy(
            "circular_trade",
            "incomparable_values",
            p.ents("Trader", [p.tid(t) for t in tr]),
            "unrelated parties, lots growing 6-20x per hop",
        )
    rec["decoys"] = [d["kind"] for d in p.decoys if d["family"] == "circular_trade"]


# ---- shell and re-invoicing intermediaries ------------------------------------------------------
FLAGS = ["formation_agent_address", "nominee_director", "recent_registration", "no_staff", "secrecy_jurisdiction"]


def _boxes(
    p: DrawnPlanter, country: str, n: int, first: int, *, address: tuple[str, str, str] | None, director: str | None
) -> list[int]:
    """Companies with nothing but a registration (at a formation agent's address and/or with a
    nominee director)."""
    out = []
    for _ in range(n):
        addr = address or p.shared_address(country)
        t = p.traders(
            [country],
            reg_day=first - p.integer(30, 3000),
            employees=p.integer(0, 2),
            address=addr[0],
            city=addr[1],
            postcode=addr[2],
            account=False,
        )[0]
        if director:
            p.officer(director, p.tid(t), "DIRECTOR", start_day=first - p.integer(30, 900))
        out.append(t)
    return out


def plant_shell(p: DrawnPlanter) -> None:
    rec = p.draws.family(
        "shell_intermediary",
        one_sided_share=p.uniform(0.5, 0.9),
        flag_probability=p.uniform(0.4, 0.8),
        pass_on_days=[1, p.integer(3, 10)],
        pass_on_share=[round(p.uniform(0.82, 0.9), 3), 0.99],
        shipments=[2, p.integer(3, 7)],
    )
    k_ = rec["knobs"]
    n = n_planted(p)
    spare_boxes: list[int] = []
    for i in range(n):
        one_sided = i == 0 or (i > 1 and p.chance(k_["one_sided_share"]))
        flags = [f for f in FLAGS if p.chance(k_["flag_probability"])]
        while len(flags) < (2 if one_sided else 1):
            f = str(p.rng.choice(FLAGS))
            if f not in flags:
                flags.append(f)
        xc = p.pick(list(SECRECY) if "secrecy_jurisdiction" in flags else ["HK", "SG", "GB", "NL", "CH", "ZA"])[0]
        sc = p.pick([c for c in SUPPLIERS if c != xc], held=False if one_sided else None)[0]
        first = p.integer(60, DAYS - 240)
        addr = p.shared_address(xc) if "formation_agent_address" in flags else None
        nominee = p.persons([xc])[0] if "nominee_director" in flags else None
        if addr or nominee:
            boxes = _boxes(p, xc, p.integer(5, 25), first, address=addr, director=nominee)
            spare_boxes.extend(boxes[:2])
        reg = first - (p.integer(20, 365) if "recent_registration" in flags else p.integer(365 * 3, 365 * 20))
        staff = p.integer(0, 2) if "no_staff" in flags else p.integer(8, 250)
        kw: dict[str, Any] = {"address": addr[0], "city": addr[1], "postcode": addr[2]} if addr else {}
        x = p.traders([xc], reg_day=reg, employees=staff, **kw)[0]
        if nominee:
            p.officer(nominee, p.tid(x), "DIRECTOR", start_day=reg)
        else:
            p.officer(p.persons([xc])[0], p.tid(x), "DIRECTOR", start_day=reg)
        s = p.traders([sc])[0]
        buyers = p.traders(p.pick(HOME, p.integer(1, 2), held=True))
        cur = str(p.rng.choice(["USD", "USD", "EUR"]))
        hs = p.hs()
        day = first
        n_ship = p.integer(*k_["shipments"])
        lags = []
        for j in range(n_ship):
            m = buyers[j % len(buyers)]
            mass = p.mass_for(hs)
            pf = p.uniform(0.9, 1.1)
            markup = p.uniform(1.0, 1.15)
            if one_sided:  # the purchase leg is declared by nobody whose data we hold
                sale = p.shipment(
                    x,
                    m,
                    hs,
                    day,
                    mass,
                    seen="IM",
                    pf=pf * markup,
                    patch_im={"dispatch_country": sc, "origin_country": sc},
                )
                sale_day = day
            else:
                p.shipment(s, x, hs, day, mass, seen=p.visible(s, x), pf=pf)
                sale_day = day + p.integer(1, 10)
                sale = p.shipment(
                    x, m, hs, sale_day, mass * p.uniform(0.98, 1.0), seen=p.visible(x, m, "IM"), pf=pf * markup
                )
            value = mass * float(p.ctx.catalog.price[hs]) * pf * markup
            value_cur = round(value / p.rate(cur, sale_day), 2)
            paid = sale_day + p.integer(0, 20)
            ref = {"invoice_no": sale["invoice_no"]} if p.chance(0.7) else {}
            p.payment(p.acct(m), p.acct(x), paid, value_cur, cur=cur, reference=f"Invoice {sale['invoice_no']}", **ref)
            lag = p.integer(*k_["pass_on_days"])
            lags.append(lag)
            p.payment(
                p.acct(x),
                p.acct(s),
                paid + lag,
                round(value_cur * p.uniform(*k_["pass_on_share"]), 2),
                cur=cur,
                reference="Goods purchase",
            )
            day += p.integer(15, 70)
        kind = "re_invoicing_one_sided" if one_sided else "pass_through_two_sided"
        p.instances.append(
            {
                "family": "shell_intermediary",
                "entities": p.ents("Trader", [p.tid(x)]),
                "note": f"{kind}: {p.tid(x)} ({xc}) between supplier {p.tid(s)} ({sc}) and "
                f"{', '.join(p.tid(b) for b in buyers)}; flags {', '.join(flags)}",
                "kind": kind,
            }
        )
        rec["instances"].append(
            {
                "kind": kind,
                "flags": flags,
                "country": xc,
                "supplier_country": sc,
                "shipments": n_ship,
                "pass_on_days": lags,
            }
        )
    # decoys: established distributors (the flow without the flags, and slow) and flags without the flow
    for _ in range(p.integer(1, 3)):
        dc = p.pick(["AE", "HK", "SG", "NL", "GB"])[0]
        d = p.traders([dc], reg_day=-p.integer(365 * 8, 365 * 30), employees=p.integer(40, 500))[0]
        p.officer(p.persons([dc])[0], p.tid(d), "DIRECTOR", start_day=-3000)
        s = p.traders([p.pick([c for c in SUPPLIERS if c != dc], held=False)[0]])[0]
        buyers = p.traders(p.pick(HOME, p.integer(2, 4), held=True))
        hs = p.hs()
        for j in range(p.integer(3, 6)):
            day = p.integer(0, DAYS - 200)
            mass = p.mass_for(hs)
            m = buyers[j % len(buyers)]
            sale = p.shipment(
                d,
                m,
                hs,
                day + p.integer(30, 120),
                mass * p.uniform(0.2, 0.6),
                seen="IM",
                pf=p.uniform(1.2, 1.4),
                patch_im={"dispatch_country": p.country(s), "origin_country": p.country(s)},
            )
            p.payment(
                p.acct(m),
                p.acct(d),
                sale["day"] + p.integer(30, 90),
                round(mass * 0.4 * float(p.ctx.catalog.price[hs]) * 1.3, -2),
                reference="Invoice",
            )
            p.payment(
                p.acct(d),
                p.acct(s),
                day + p.integer(60, 120),
                round(mass * float(p.ctx.catalog.price[hs]), -3),
                reference="Stock purchase",
            )
        p.decoy(
            "shell_intermediary",
            "established_distributor",
            p.ents("Trader", [p.tid(d)]),
            "an old distributor with staff invoicing from a hub, stock held for months",
        )
    for b in spare_boxes[: p.integer(1, 3)]:
        p.decoy(
            "shell_intermediary",
            "structural_flags_no_flow",
            p.ents("Trader", [p.tid(b)]),
            "a company at a formation agent's address or with a nominee director, no trade, no money",
        )
    for _ in range(p.integer(1, 2)):
        c = p.pick(list(SECRECY))[0]
        t = p.traders([c], reg_day=p.integer(0, 200), employees=p.integer(5, 40))[0]
        cover(p, t, p.integer(3, 8), lo=250)
        p.decoy(
            "shell_intermediary",
            "single_flag",
            p.ents("Trader", [p.tid(t)]),
            "a recently registered company in a secrecy jurisdiction with ordinary trade",
        )

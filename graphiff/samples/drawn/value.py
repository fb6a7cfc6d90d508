"""Drawn value plants: under- and over-valuation, mirror discrepancies and invoices split below
a consignment threshold, with their decoys."""

from __future__ import annotations

from typing import Any

import numpy as np

from graphiff.samples.drawn.kit import DrawnPlanter
from graphiff.samples.drawn.network import n_planted
from graphiff.samples.reference import COUNTRIES, DAYS, RARE


def _pair(p: DrawnPlanter, *, both: bool = False) -> tuple[int, int, int]:
    """A background (exporter, importer, HS row) that could trade, with a held end (both ends
    held with ``both``)."""
    for _ in range(500):
        e, m, hs = p.background_pair()
        ends = [p.country(e) in p.held, p.country(m) in p.held]
        if all(ends) if both else any(ends):
            return e, m, hs
    return e, m, hs


def _currency(p: DrawnPlanter, e: int, m: int, local_share: float) -> str:
    if p.chance(local_share):
        return COUNTRIES[p.country(e if p.chance(0.5) else m)][0]
    return str(p.rng.choice(["USD", "USD", "EUR"]))


def plant_valuation(p: DrawnPlanter) -> None:
    ranges = {
        "undervaluation": [round(p.uniform(0.05, 0.12), 3), round(p.uniform(0.15, 0.3), 3)],
        "overvaluation": [round(p.uniform(3.0, 6.0), 3), round(p.uniform(8.0, 20.0), 3)],
    }
    local = p.uniform(0.0, 0.5)
    for family, (lo, hi) in ranges.items():
        rec = p.draws.family(family, factor=[lo, hi], local_currency_share=local)
        for _ in range(n_planted(p)):
            e, m, hs = _pair(p)
            pf = float(np.exp(p.uniform(np.log(lo), np.log(hi))))
            cur = _currency(p, e, m, local)
            seen = p.visible(e, m)
            r = p.shipment(e, m, hs, p.integer(0, DAYS - 30), p.mass_for(hs), seen=seen, pf=pf, cur=cur, protect=True)
            p.instances.append(
                {
                    "family": family,
                    "entities": p.ents("Declaration", r["keys"]),
                    "note": f"HS {p.ctx.catalog.hs6[hs]} declared at {pf:.3g}x its peers' unit value in {cur}",
                    "kind": "local_currency" if cur not in ("USD", "EUR") else cur,
                }
            )
            rec["instances"].append({"factor": round(pf, 4), "currency": cur, "seen": seen})
    cat = p.ctx.catalog
    for family in ranges:  # the ordinary spread of prices: cheap or dear, but among the peers
        for _ in range(p.integer(1, 3)):
            e, m, hs = _pair(p)
            pf = p.uniform(0.6, 0.75) if family == "undervaluation" else p.uniform(1.35, 1.65)
            r = p.shipment(e, m, hs, p.integer(0, DAYS - 30), p.mass_for(hs), seen=p.visible(e, m), pf=pf, protect=True)
            p.decoy(
                family,
                "within_spread",
                p.ents("Declaration", r["keys"]),
                f"{pf:.2f}x the reference: the cheap or dear end of the normal spread",
            )
    for (code, _d, _price), family in zip(RARE, ranges):  # rare goods, few peers, prices naturally spread
        hs = cat.index(code)
        dealers = p.traders(p.pick(["CH", "GB", "AE", "BE", "NL", "HK"], 2))
        buyer = p.traders(p.pick(["KE", "ZA", "AE", "GB", "US"], 1, held=True))[0]
        keys = []
        for j in range(p.integer(3, 5)):
            r = p.shipment(
                dealers[j % 2],
                buyer,
                hs,
                p.integer(0, DAYS - 30),
                p.mass_for(hs, p.uniform(50_000, 400_000)),
                seen=p.visible(dealers[j % 2], buyer),
                pf=float(np.exp(p.uniform(np.log(0.45), np.log(2.2)))),
                protect=True,
            )
            keys += r["keys"]
        p.decoy(
            family,
            "few_peers_spread",
            p.ents("Declaration", keys),
            f"HS {code}: a handful of declarations whose prices are naturally spread",
        )


def plant_mirror(p: DrawnPlanter) -> None:
    rec = p.draws.family(
        "mirror_discrepancy",
        key_probability={k: round(p.uniform(0.3, 0.95), 3) for k in ("transport_doc", "invoice", "containers")},
        delay_days=[1, p.integer(10, 60)],
        value_gap=[round(p.uniform(1.25, 1.6), 3), 3.0],
        quantity_share=p.uniform(0.0, 0.4),
        margin=[1.0, 1.12],
    )
    k_ = rec["knobs"]

    def keys_patch() -> tuple[dict, list[str]]:
        patch, kept = {}, []
        for key, col in (
            ("transport_doc", "transport_doc_no"),
            ("invoice", "invoice_no"),
            ("containers", "container_ids"),
        ):
            if p.chance(k_["key_probability"][key]):
                kept.append(key)
            else:
                patch[col] = ""
        return patch, kept

    for _ in range(n_planted(p)):
        e, m, hs = _pair(p, both=True)
        patch, kept = keys_patch()
        gap = p.uniform(*k_["value_gap"])
        quantity = p.chance(k_["quantity_share"])
        ratio = gap if p.chance(0.5) else 1 / gap
        kw: dict[str, Any] = (
            {"mratio": ratio, "vratio": p.uniform(1.02, 1.08)} if quantity else {"vratio": ratio * p.uniform(1.0, 1.06)}
        )
        r = p.shipment(
            e,
            m,
            hs,
            p.integer(0, DAYS - 80),
            p.mass_for(hs),
            seen="BOTH",
            patch_im=patch,
            protect=True,
            delay=p.integer(*k_["delay_days"]),
            **kw,
        )
        what = "quantity" if quantity else "value"
        p.instances.append(
            {
                "family": "mirror_discrepancy",
                "entities": p.ents("Declaration", r["keys"]),
                "note": f"import {what} {ratio:.2f}x the export's; shared keys: {', '.join(kept) or 'none'} "
                f"(parties, goods and dates always)",
                "kind": f"{what}_gap",
            }
        )
        rec["instances"].append({"gap": what, "ratio": round(ratio, 4), "keys": kept})
    for _ in range(p.integer(2, 3)):  # within the CIF/FOB margin
        e, m, hs = _pair(p, both=True)
        patch, _kept = keys_patch()
        r = p.shipment(
            e,
            m,
            hs,
            p.integer(0, DAYS - 80),
            p.mass_for(hs),
            seen="BOTH",
            patch_im=patch,
            protect=True,
            vratio=p.uniform(*k_["margin"]),
            mratio=p.uniform(0.99, 1.01),
            delay=p.integer(*k_["delay_days"]),
        )
        p.decoy(
            "mirror_discrepancy",
            "within_margin",
            p.ents("Declaration", r["keys"]),
            "export and import agree within the CIF/FOB margin",
        )
    for _ in range(p.integer(1, 2)):  # one invoice number on two unrelated shipments
        (e1, m1, h1), (e2, m2, h2) = _pair(p, both=True), _pair(p, both=True)
        r1 = p.shipment(e1, m1, h1, p.integer(0, DAYS - 80), p.mass_for(h1), seen="BOTH", protect=True)
        r2 = p.shipment(
            e2,
            m2,
            h2,
            r1["day"] + p.integer(0, 10),
            p.mass_for(h2, p.uniform(5_000, 20_000)),
            seen="BOTH",
            protect=True,
            patch_ex={"invoice_no": r1["invoice_no"]},
            patch_im={"invoice_no": r1["invoice_no"]},
        )
        p.decoy(
            "mirror_discrepancy",
            "reused_invoice_no",
            p.ents("Declaration", r1["keys"] + r2["keys"]),
            "two unrelated shipments carrying the same invoice number, each consistent with its mirror",
        )


#: consignment-value thresholds (docs/typologies.md): name -> (value, currency, importing countries)
CONSIGNMENT = {
    "EU_duty_relief_150_EUR": (150.0, "EUR", ["DE", "NL", "BE", "PL"]),
    "US_de_minimis_800_USD": (800.0, "USD", ["US"]),
    "US_formal_entry_2500_USD": (2500.0, "USD", ["US"]),
    "EU_simplified_1000_EUR": (1000.0, "EUR", ["DE", "NL", "BE", "PL"]),
}
SMALL_GOODS = ["8517", "4202", "6109", "6403", "3304", "6110", "8471"]


def plant_split_invoices(p: DrawnPlanter) -> None:
    names = sorted(str(x) for x in set(p.rng.choice(list(CONSIGNMENT), p.integer(1, 3), replace=False)))
    rec = p.draws.family(
        "split_invoices",
        thresholds=names,
        parts=[2, p.integer(3, 8)],
        below=[round(p.uniform(0.6, 0.9), 3), 0.995],
        window_days=[0, p.integer(1, 10)],
        sequential_invoices=p.uniform(0.0, 0.7),
        note="AU 1,000 AUD is not drawn: no AU administration",
    )
    k_ = rec["knobs"]
    cat = p.ctx.catalog
    goods = np.flatnonzero(np.isin(np.array([str(c)[:4] for c in cat.hs6]), SMALL_GOODS))
    for name in names:
        for c in CONSIGNMENT[name][2]:
            if p.chance(0.7) or c == CONSIGNMENT[name][2][0]:
                p.held.add(c)

    def consignment(
        name: str,
        m: int,
        x: int,
        day: int,
        values: list[float],
        window: int,
        seq: bool,
        gap: tuple[int, int] | None = None,
    ) -> list[str]:
        limit, cur, _c = CONSIGNMENT[name]
        hs = int(goods[p.rng.integers(0, len(goods))])
        keys, base, d = [], None, day
        for j, v in enumerate(values):
            d = d + p.integer(*gap) if gap else day + p.integer(0, window)
            usd = v * p.rate(cur, d)
            patch = {"invoice_value": round(v, 2), "currency": cur, "value_usd": ""}
            r = p.shipment(
                x,
                m,
                hs,
                d,
                max(0.1, usd / float(cat.price[hs])),
                seen=p.visible(x, m, "IM"),
                patch_im=patch,
                patch_ex=patch,
                protect=True,
                carrier=p.carrier(),
            )
            base = base or r["invoice_no"]
            if seq:
                p.decl_patches.setdefault((r["sid"], "IMPORT"), {})["invoice_no"] = f"{base}-{j + 1}"
                p.decl_patches.setdefault((r["sid"], "EXPORT"), {})["invoice_no"] = f"{base}-{j + 1}"
            keys += r["keys"]
        return keys

    for _ in range(n_planted(p)):
        name = str(p.rng.choice(names))
        limit, cur, countries = CONSIGNMENT[name]
        m = p.traders(p.pick(countries, held=True))[0]
        x = p.traders(p.pick(["CN", "HK", "SG", "IN", "AE", "GB", "US", "KR"]))[0]
        while p.country(x) == p.country(m):
            x = p.traders(p.pick(["CN", "HK", "SG", "IN"]))[0]
        n = p.integer(*k_["parts"])
        values = [p.uniform(*k_["below"]) * limit for _ in range(n)]
        while sum(values) <= limit:
            values.append(p.uniform(*k_["below"]) * limit)
        window = p.integer(*k_["window_days"])
        seq = p.chance(k_["sequential_invoices"])
        consignment(name, m, x, p.integer(0, DAYS - 30), values, window, seq)
        p.instances.append(
            {
                "family": "split_invoices",
                "entities": p.ents("Trader", [p.tid(m), p.tid(x)]),
                "note": f"{len(values)} declarations of {cur} {min(values):,.2f}-{max(values):,.2f} "
                f"(threshold {limit:,.0f} {cur}) within {window} days, total {sum(values):,.2f}",
                "kind": name,
            }
        )
        rec["instances"].append({"threshold": name, "parts": len(values), "window": window, "sequential": seq})
    for kind in ("regular_small_shipments", "single_low_value"):
        for _ in range(p.integer(1, 2)):
            name = str(p.rng.choice(names))
            limit, cur, countries = CONSIGNMENT[name]
            m = p.traders(p.pick(countries, held=True))[0]
            x = p.traders(p.pick(["CN", "HK", "IN"]))[0]
            if kind == "single_low_value":
                consignment(name, m, x, p.integer(0, DAYS - 30), [p.uniform(0.5, 0.95) * limit], 0, False)
            else:
                k = p.integer(4, 8)
                consignment(
                    name,
                    m,
                    x,
                    p.integer(0, 200),
                    [p.uniform(0.4, 0.95) * limit for _ in range(k)],
                    0,
                    False,
                    gap=(25, 60),
                )
            p.decoy(
                "split_invoices",
                kind,
                p.ents("Trader", [p.tid(m), p.tid(x)]),
                "small shipments spread over months" if kind != "single_low_value" else "one low-value shipment",
            )

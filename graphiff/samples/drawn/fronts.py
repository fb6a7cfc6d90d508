"""Drawn front-company plants: linked carriers (one operator behind two or more carriers that
share officers, phones, addresses, conveyances or containers) and phoenix traders (a flagged
trader re-registered at the same address, phone or director), with their decoys.

Every knob is drawn per world (``p.draws``) from the ranges in the typology references
(docs/typologies.md); each instance also records what it drew.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graphiff.samples import ids
from graphiff.samples.drawn.kit import DrawnPlanter
from graphiff.samples.drawn.network import HOME, cover, cover_target, n_planted
from graphiff.samples.entities import CARRIER_WORDS
from graphiff.samples.reference import DAYS

# ---- linked carriers ---------------------------------------------------------------------
LINKS = ["officer", "phone", "address", "conveyance", "container"]


def _carrier_names(p: DrawnPlanter, n: int) -> list[str]:
    out = []
    for _ in range(n):
        out.append(f"{p.rng.choice(ids.PLACES)} {p.rng.choice(ids.WORDS)} {p.rng.choice(CARRIER_WORDS)} Ltd")
    return out


def plant_linked_carriers(p: DrawnPlanter) -> None:
    rec = p.draws.family(
        "linked_carriers",
        group_size=[2, p.integer(2, 5)],
        link_probability=p.uniform(0.3, 0.7),
        traders=[2, p.integer(2, 5)],
        shipments_per_carrier=[2, p.integer(3, 8)],
    )
    k_ = rec["knobs"]
    assert p.ctx.carriers is not None
    for i in range(n_planted(p)):
        g = p.integer(*k_["group_size"]) if i else 2
        links = [x for x in LINKS if p.chance(k_["link_probability"])] or [str(p.rng.choice(LINKS))]
        ctype = str(p.rng.choice(["ROAD", "FORWARDER", "SEA", "AIR"]))
        if "container" in links:
            ctype = "SEA"
        home = p.pick(HOME, held=True)[0]
        addr = p.shared_address(home)
        phone = str(ids.phones(np.array([home], dtype=object), p.ctx.serial.take("phone", 1))[0])
        rows = []
        for j in range(g):
            rows += p.carriers(
                _carrier_names(p, 1),
                [ctype],
                [home if p.chance(0.7) else p.pick(HOME)[0]],
                address=addr[0] if "address" in links else None,
                phone=phone if "phone" in links else None,
            )
        cids = [str(p.ctx.carriers["carrier_id"].iat[r]) for r in rows]
        boss = p.persons([home])[0]
        for c in cids:
            p.officer(
                boss if "officer" in links else p.persons([home])[0], c, "DIRECTOR", start_day=-p.integer(200, 3000)
            )
        traders = p.traders(p.pick(HOME, p.integer(*k_["traders"]), held=True))
        conv = str(p.ctx.conveyances[rows[0]][0])
        box = f"{p.ctx.container_owner[rows[0]]}{p.integer(1_000_000, 9_999_999)}"
        for j, r in enumerate(rows):
            for s in range(p.integer(*k_["shipments_per_carrier"])):
                t = traders[(j + s) % len(traders)]
                kw: dict[str, Any] = {}
                if "conveyance" in links and s == 0:
                    kw["conveyance"] = conv
                if "container" in links and s == 0:
                    kw["containers"] = box
                cover(p, t, 1, carriers=[r])
                if kw:  # the shared conveyance / container on one more shipment
                    m = cover_target(p, t)
                    hs = p.hs()
                    p.shipment(t, m, hs, p.integer(0, DAYS - 30), p.mass_for(hs), seen=p.visible(t, m), carrier=r, **kw)
        p.instances.append(
            {
                "family": "linked_carriers",
                "entities": p.ents("Carrier", cids),
                "note": f"{g} front carriers sharing {', '.join(links)}, serving "
                f"{', '.join(p.tid(t) for t in traders)} only",
                "kind": f"group_of_{g}",
            }
        )
        rec["instances"].append({"size": g, "links": links, "traders": len(traders), "type": ctype})
    big = np.flatnonzero(p.ctx.carriers["_big"].to_numpy(dtype=bool))
    p.decoy(
        "linked_carriers",
        "global_carriers",
        p.ents("Carrier", [str(p.ctx.carriers["carrier_id"].iat[b]) for b in big[:2]]),
        "two global liners sharing a port office (vessel-sharing alliance), used by everyone",
    )
    for _ in range(p.integer(1, 2)):
        agent = str(ids.phones(np.array(["KE"], dtype=object), p.ctx.serial.take("phone", 1))[0])
        c1, c2 = p.pick(HOME, 2, held=True)
        rows = p.carriers(_carrier_names(p, 1), ["FORWARDER"], [c1], phone=agent) + p.carriers(
            _carrier_names(p, 1), ["FORWARDER"], [c2], phone=agent
        )
        for r, c in zip(rows, (c1, c2)):
            p.officer(p.persons([c])[0], str(p.ctx.carriers["carrier_id"].iat[r]), "DIRECTOR", start_day=-2000)
            for t in p.traders([c] * p.integer(2, 3)):
                cover(p, t, p.integer(2, 4), carriers=[r])
                cover(p, t, p.integer(1, 3))
        p.decoy(
            "linked_carriers",
            "shared_agent_phone",
            p.ents("Carrier", [str(p.ctx.carriers["carrier_id"].iat[r]) for r in rows]),
            "two forwarders sharing a forwarding agent's phone, serving disjoint markets",
        )


# ---- phoenix traders -----------------------------------------------------------------------
SAME = ["address", "phone", "director"]


def plant_phoenix(p: DrawnPlanter) -> None:
    rec = p.draws.family(
        "phoenix_trader",
        delay_days=[5, p.integer(30, 150)],
        share_probability=p.uniform(0.3, 0.7),
        partners=[2, p.integer(2, 5)],
        same_partner_share=round(p.uniform(0.6, 1.0), 3),
    )
    k_ = rec["knobs"]
    for i in range(n_planted(p)):
        same = [x for x in SAME if p.chance(k_["share_probability"])] or [str(p.rng.choice(SAME))]
        c = p.pick(HOME, held=True)[0]
        addr = p.shared_address(c)
        old = p.traders([c], reg_day=-p.integer(700, 4000), address=addr[0], city=addr[1], postcode=addr[2])[0]
        director = p.persons([c])[0]
        p.officer(director, p.tid(old), "DIRECTOR", start_day=-700)
        n_partners = p.integer(*k_["partners"])
        partners = [cover_target(p, old) for _ in range(n_partners)]
        hs = p.hs()
        stop = p.integer(200, DAYS - 250)
        trigger = str(p.rng.choice(["trade_stops", "undervalued_before_stop"]))
        cover(p, old, p.integer(5, 12), lo=max(0, stop - 360), hi=stop, hs=hs, partners=partners)
        cover(p, old, 1, lo=stop, hi=stop, hs=hs, partners=partners)  # the last shipment
        if trigger == "undervalued_before_stop":  # the flagged behaviour: a last shipment far below its peers
            m = partners[0]
            r = p.shipment(old, m, hs, stop, p.mass_for(hs), seen=p.visible(old, m), pf=p.uniform(0.08, 0.25))
            p.instances.append(
                {
                    "family": "undervaluation",
                    "entities": p.ents("Declaration", r["keys"]),
                    "note": f"phoenix's old trader {p.tid(old)} undervalues its last shipment",
                    "kind": "phoenix_last_shipment",
                }
            )
        delay = p.integer(*k_["delay_days"])
        kw: dict[str, Any] = {"address": addr[0], "city": addr[1], "postcode": addr[2]} if "address" in same else {}
        new = p.traders([c], reg_day=stop + delay, employees=p.integer(2, 30), **kw)[0]
        if "phone" in same:
            p.edit_trader(p.tid(new), "phone", copy_from=p.tid(old))
        p.officer(director if "director" in same else p.persons([c])[0], p.tid(new), "DIRECTOR", start_day=stop + delay)
        keep = [m for m in partners if p.chance(k_["same_partner_share"])] or partners[:1]
        for _ in range(p.integer(3, 10)):
            cover(
                p,
                new,
                1,
                lo=stop + delay + p.integer(5, 40),
                hi=min(DAYS - 20, stop + delay + 240),
                hs=hs,
                partners=keep,
            )
        p.instances.append(
            {
                "family": "phoenix_trader",
                "entities": p.ents("Trader", [p.tid(old), p.tid(new)]),
                "note": f"{p.tid(old)} stops ({trigger}); {p.tid(new)} registered {delay} days later "
                f"sharing {', '.join(same)}, same partners and HS {p.ctx.catalog.hs6[hs]}",
                "kind": trigger,
            }
        )
        rec["instances"].append(
            {"same": same, "delay": delay, "trigger": trigger, "partners": n_partners, "kept_partners": len(keep)}
        )
    # decoys: a business centre with many tenants; a successor after a long gap
    for _ in range(p.integer(1, 2)):
        c = p.pick(HOME, held=True)[0]
        addr = p.shared_address(c)
        tenants = p.traders(
            [c] * p.integer(8, 15), reg_day=-p.integer(300, 5000), address=addr[0], city=addr[1], postcode=addr[2]
        )
        old = tenants[0]
        stop = p.integer(200, DAYS - 250)
        cover(p, old, p.integer(4, 8), hi=stop)
        for t in tenants[1:4]:
            cover(p, t, p.integer(1, 4))
        new = p.traders([c], reg_day=stop + p.integer(10, 60), address=addr[0], city=addr[1], postcode=addr[2])[0]
        cover(p, new, p.integer(3, 8), lo=stop + 70)
        p.decoy(
            "phoenix_trader",
            "business_centre",
            p.ents("Trader", [p.tid(old), p.tid(new)]),
            "a new tenant of a busy business centre, other partners and goods",
        )
    for _ in range(p.integer(1, 2)):
        c = p.pick(HOME, held=True)[0]
        addr = p.shared_address(c)
        old = p.traders([c], reg_day=-p.integer(3000, 6000), address=addr[0], city=addr[1], postcode=addr[2])[0]
        director = p.persons([c])[0]
        p.officer(director, p.tid(old), "DIRECTOR", start_day=-3000)
        partners = [cover_target(p, old) for _ in range(2)]
        hs = p.hs()
        cover(p, old, p.integer(3, 6), hi=60, hs=hs, partners=partners)
        new = p.traders([c], reg_day=60 + p.integer(540, 640), address=addr[0], city=addr[1], postcode=addr[2])[0]
        p.officer(director, p.tid(new), "DIRECTOR", start_day=650)
        cover(p, new, p.integer(2, 4), lo=DAYS - 60, hs=hs, partners=partners)
        p.decoy(
            "phoenix_trader",
            "late_successor",
            p.ents("Trader", [p.tid(old), p.tid(new)]),
            "a successor at the same address with the same director, registered about two years later",
        )

"""The background: ordinary trade, payments and cash reports, generated in vectorised chunks.

It must not look like any pattern:

- trade only goes from a lower-tier exporter to a higher-tier importer in another country,
  and each HS6 is exported by one tier only, so the trade graph is acyclic and no trader
  resells what it buys;
- unit values are lognormal around the HS6 reference price (sigma 0.25 in log, clipped at
  2.4 sigma), import value = export value x U(1.02, 1.10) for mirrored shipments;
- payments go from the importer's own account to the exporter's (acyclic, never a third party);
- cash reports are well below (<= 5k USD) or well above (>= 15k USD) the 10k threshold.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
import pandas as pd

from graphiff.samples import rows
from graphiff.samples.context import Ctx
from graphiff.samples.entities import BIG_SHARE
from graphiff.samples.reference import CUR_INDEX, DAYS, country_currency

CHUNK = 100_000  # shipments per chunk
ROWS_PER_SHIPMENT = 1.4  # export + 40 % mirrored imports
BORDER_POSTS = {"KE": ["JKIA Nairobi", "Namanga", "Busia", "Malaba", "Moi Airport Mombasa"],
                "UG": ["Entebbe Airport", "Malaba UG", "Mutukula"], "TZ": ["Julius Nyerere Airport", "Holili"],
                "AE": ["Dubai International Airport"], "CN": ["Guangzhou Baiyun Airport"], "IN": ["Mumbai Airport"]}


def plan(ctx: Ctx) -> None:
    """Reserve serials for the background shipments and their payments (pid = sid) and give
    every trader its two preferred carriers."""
    ctx.n_shipments = ctx.count(30_000 / ROWS_PER_SHIPMENT, 500)
    ctx.serial.take("shipment", ctx.n_shipments)
    ctx.serial.take("payment", ctx.n_shipments)
    rng = ctx.rng("carrier_prefs")
    t = ctx.traders
    n = len(t)
    assert ctx.carriers is not None  # built with the entities, before the shipments
    big = np.flatnonzero(ctx.carriers["_big"].to_numpy(dtype=bool))
    small = np.flatnonzero(~ctx.carriers["_big"].to_numpy(dtype=bool))
    for k in ("_c0", "_c1"):
        b = big[rng.choice(len(big), n, p=BIG_SHARE / BIG_SHARE.sum())]
        s = small[rng.integers(0, len(small), n)]
        t[k] = np.where(rng.random(n) < 0.7, b, s)


def _pick_importers(rng: np.random.Generator, t: pd.DataFrame, exp: np.ndarray) -> np.ndarray:
    tier = t["_tier"].to_numpy()
    w = t["_weight"].to_numpy()
    cty = t["country"].to_numpy(dtype=object)
    imp = np.full(len(exp), -1, dtype="int64")
    for k in range(3):
        m = np.flatnonzero(tier[exp] == k)
        pool = np.flatnonzero(tier > k)
        if not len(m) or not len(pool):
            continue
        p = w[pool] / w[pool].sum()
        todo = m
        for _ in range(6):
            cand = pool[rng.choice(len(pool), len(todo), p=p)]
            ok = cty[cand] != cty[exp[todo]]
            imp[todo[ok]] = cand[ok]
            todo = todo[~ok]
            if not len(todo):
                break
    return imp


def shipment_spec(ctx: Ctx, rng: np.random.Generator, start: int, n: int) -> pd.DataFrame:
    t, cat = ctx.traders, ctx.catalog
    tier = t["_tier"].to_numpy()
    exporters = np.flatnonzero((tier >= 0) & (tier < 3))
    w = t["_weight"].to_numpy()[exporters]
    exp = exporters[rng.choice(len(exporters), n, p=w / w.sum())]
    imp = _pick_importers(rng, t, exp)
    lines = t[["_l0", "_l1", "_l2"]].to_numpy()
    hs = lines[exp, rng.integers(0, 3, n)]
    price = cat.price[hs]
    mass = np.exp(rng.normal(np.log(30_000 / price), 0.9))
    noise = np.clip(rng.normal(0.0, 0.25, n), -0.6, 0.6)
    cur_exp = country_currency(t["country"].to_numpy()[exp])
    cur_imp = country_currency(t["country"].to_numpy()[imp])
    u = rng.random(n)
    cur_e = np.where(u < 0.5, CUR_INDEX["USD"],
                     np.where(u < 0.75, cur_exp, np.where(u < 0.9, CUR_INDEX["EUR"], cur_imp)))
    s = pd.DataFrame({
        "sid": np.arange(start + 1, start + n + 1), "exp": exp, "imp": imp, "hs": hs,
        "day": rng.integers(0, DAYS, n), "mass": mass, "pf": np.exp(noise),
        "carrier": np.where(rng.random(n) < 0.5, t["_c0"].to_numpy()[exp], t["_c1"].to_numpy()[exp]),
        "mirror": rng.random(n) < 0.4, "delay": rng.integers(2, 21, n), "vratio": rng.uniform(1.02, 1.10, n),
        "mratio": 1.0, "cur_e": cur_e, "cur_i": np.where(rng.random(n) < 0.7, cur_e, cur_imp),
        "usd_e": rng.random(n) < 0.3, "usd_i": rng.random(n) < 0.3, "ext": rng.random(n) < 0.4,
    })
    return s[s["imp"] >= 0].reset_index(drop=True)


def shipment_payments(ctx: Ctx, rng: np.random.Generator, s: pd.DataFrame, decl: pd.DataFrame,
                      share: float = 0.7) -> pd.DataFrame:
    """Payment spec: the importer's own account pays the exporter's for ``share`` of the
    shipments (``decl``'s first ``len(s)`` rows are their export declarations)."""
    n = len(s)
    pick = np.flatnonzero(rng.random(n) < share)
    t = ctx.traders
    acct = t["_acct"].to_numpy(dtype=object)
    ex = decl.iloc[pick]
    inv = ex["invoice_no"].to_numpy(dtype=object)
    use_inv = rng.random(len(pick)) < 0.85
    use_decl = (rng.random(len(pick)) < 0.5) | ~use_inv
    return pd.DataFrame({
        "pid": s["sid"].to_numpy()[pick], "day": s["day"].to_numpy()[pick] + rng.integers(5, 61, len(pick)),
        "frm": acct[s["imp"].to_numpy()[pick]], "to": acct[s["exp"].to_numpy()[pick]],
        "usd": np.round(ex["invoice_value"].to_numpy(dtype=float)
                        * ctx.rates.usd_per_unit(s["cur_e"].to_numpy()[pick], s["day"].to_numpy()[pick]), 2),
        "cur": s["cur_e"].to_numpy()[pick],
        "reference": "Payment for invoice " + pd.Series(inv).astype(str),
        "invoice_no": np.where(use_inv, inv, ""),
        "declaration_id": np.where(use_decl, ex["declaration_id"].to_numpy(dtype=object), ""),
    })


def chunks(ctx: Ctx) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """(declaration rows, payment rows) per chunk of background shipments."""
    for i, start in enumerate(range(0, ctx.n_shipments, CHUNK)):
        rng = ctx.rng(f"shipments/{i}")
        s = shipment_spec(ctx, rng, start, min(CHUNK, ctx.n_shipments - start))
        decl = rows.declarations(ctx, s, rng)
        pay = rows.payments(ctx, shipment_payments(ctx, rng, s, decl))
        yield decl, pay


def cash_spec(ctx: Ctx) -> pd.DataFrame:
    """Background cash reports: travellers and company officers, amounts far from the threshold."""
    rng = ctx.rng("cash")
    p = ctx.persons
    pool = np.flatnonzero(p["_role"].isin(["traveller", "director", "owner"]).to_numpy())
    trav = np.flatnonzero((p["_role"] == "traveller").to_numpy())
    n = ctx.count(2000, 100)
    who = np.where(rng.random(n) < 0.7, trav[rng.integers(0, len(trav), n)], pool[rng.integers(0, len(pool), n)])
    rtype = np.array(["BORDER", "CTR", "STR"], dtype=object)[rng.choice(3, n, p=[0.6, 0.33, 0.07])]
    low = rng.random(n) < 0.55
    usd = np.where(low, rng.uniform(300, 5000, n), np.exp(rng.uniform(np.log(15_000), np.log(120_000), n)))
    nat = p["nationality"].to_numpy(dtype=object)[who]
    u = rng.random(n)
    cur = np.where(u < 0.5, CUR_INDEX["USD"], np.where(u < 0.65, CUR_INDEX["EUR"], country_currency(nat)))
    company = p["_company"].to_numpy(dtype=object)[who]
    is_trader = pd.Series(p["_role"].to_numpy(dtype=object)[who]).isin(["director", "owner"]).to_numpy()
    acct = p["_acct"].to_numpy(dtype=object)[who]
    border = rtype == "BORDER"
    posts = np.array([(BORDER_POSTS.get(c) or ["Airport " + c])[int(x * 10) % len(BORDER_POSTS.get(c) or [1])]
                      for c, x in zip(nat, rng.random(n))], dtype=object)
    others = np.array(["AE", "CN", "IN", "GB", "ZA", "UG", "TZ", "KE"], dtype=object)[rng.integers(0, 8, n)]
    others = np.where(others == nat, np.where(nat == "AE", "KE", "AE"), others)
    out = rng.random(n) < 0.5
    return pd.DataFrame({
        "rid": ctx.serial.take("cash", n), "rtype": rtype, "day": rng.integers(0, DAYS, n), "usd": np.round(usd, 2),
        "cur": cur, "person_id": p["person_id"].to_numpy(dtype=object)[who],
        "person_name": p["name"].to_numpy(dtype=object)[who],
        "trader_id": np.where(is_trader & (rng.random(n) < 0.5), company, ""),
        "account_id": np.where((rtype == "CTR") & pd.notna(acct), acct, ""),
        "direction": np.where(out, "OUT", "IN"),
        "location": np.where(border, posts, "Bank branch, " + pd.Series(nat).astype(str)),
        "origin": np.where(border, np.where(out, nat, others), ""),
        "destination": np.where(border, np.where(out, others, nat), ""),
        "narrative": np.where(rtype == "STR", "Cash deposits inconsistent with the customer profile", ""),
    })

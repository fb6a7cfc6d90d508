"""Background entities: traders (tiered, established), persons (officers and travellers),
officers, carriers (a few big global lines and many small ones) and bank accounts.

Background traders never share an address, phone, e-mail or director; each person is an
officer of at most one company, so no background trader looks like a shell and no related-
party group can close a trade cycle.
"""
from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd

from graphiff.samples import ids
from graphiff.samples.context import Ctx
from graphiff.samples.reference import COUNTRIES, EAC, iso

TIER_P = [0.25, 0.30, 0.25, 0.20]
ACTIVITY = {0: ["0111", "0127", "0510", "0710", "0311"], 1: ["2011", "2410", "1311", "1701", "2221"],
            2: ["2630", "2910", "2100", "1410", "3100"], 3: ["4690", "4719", "4641", "4659", "4711"]}
LEGAL = {"DE": "GmbH", "NL": "BV", "CH": "AG", "BE": "NV", "US": "Corporation", "AE": "Free Zone Establishment",
         "CN": "Limited liability company", "IN": "Private limited company"}


def _countries(rng: np.random.Generator, n: int) -> np.ndarray:
    codes = [c for c, v in COUNTRIES.items() if v[4] > 0]
    w = np.array([COUNTRIES[c][4] for c in codes])
    return np.array(codes, dtype=object)[rng.choice(len(codes), n, p=w / w.sum())]


def trader_frame(ctx: Ctx, rng: np.random.Generator, country: np.ndarray, *, reg_day: np.ndarray,
                 employees: np.ndarray, tier: np.ndarray, address: np.ndarray | None = None,
                 city: np.ndarray | None = None, postcode: np.ndarray | None = None,
                 serial: np.ndarray | None = None) -> pd.DataFrame:
    """Trader rows (canonical columns + ``_tier``) for the given countries; ids, names, phones,
    e-mails and (unless given) addresses are unique. Serials are taken unless given."""
    n = len(country)
    serial = ctx.serial.take("trader", n) if serial is None else np.asarray(serial, dtype="int64")
    names = ids.company_names(serial, country)
    return pd.DataFrame({
        "trader_id": (pd.Series(country).astype(str) + ids.zfill(serial, 6)).to_numpy(dtype=object),
        "name": names, "country": country,
        "tin": ("TIN" + ids.zfill(ids.scramble(serial, 9, salt=31), 9)).to_numpy(dtype=object),
        "registration_date": iso(reg_day),
        "address": ids.addresses(rng, ctx.serial.take("address", n)) if address is None else address,
        "city": ids.cities(rng, country) if city is None else city,
        "postcode": ids.postcodes(rng, n) if postcode is None else postcode,
        "phone": ids.phones(country, ctx.serial.take("phone", n)),
        "email": ids.emails(pd.Series(names).str.split(" ").str[0].to_numpy(), serial, "trade.example"),
        "legal_form": pd.Series(country).map(LEGAL).fillna("Private limited company").to_numpy(dtype=object),
        "employees": employees.astype("int64"),
        "activity_code": np.array([ACTIVITY[int(t)][int(i)] for t, i in
                                   zip(tier, rng.integers(0, 5, n))], dtype=object),
        "_tier": tier.astype("int64"),
    })


def person_frame(ctx: Ctx, rng: np.random.Generator, nationality: np.ndarray,
                 serial: np.ndarray | None = None) -> pd.DataFrame:
    n = len(nationality)
    serial = ctx.serial.take("person", n) if serial is None else np.asarray(serial, dtype="int64")
    names = ids.person_names(rng, n)
    return pd.DataFrame({
        "person_id": ids.strs("P", serial, 7),
        "name": names,
        "birth_date": iso(rng.integers(-25000, -10500, n)),
        "nationality": nationality,
        "passport_no": (pd.Series(np.array(list("ABCKLMNPRTW"), dtype=object)[serial % 11])
                        + ids.zfill(ids.scramble(serial, 8, salt=41), 8)).to_numpy(dtype=object),
        "address": ids.addresses(rng, ctx.serial.take("address", n)),
        "phone": ids.phones(nationality, ctx.serial.take("phone", n)),
        "email": ids.emails(pd.Series(names).str.split(" ").str[0].to_numpy(), serial, "post.example"),
    })


def build_traders(ctx: Ctx) -> None:
    rng = ctx.rng("traders")
    n = ctx.count(2000, 150)
    country = _countries(rng, n)
    tier = rng.choice(4, n, p=TIER_P)
    tier[:4] = [0, 1, 2, 3]
    employees = np.exp(rng.uniform(np.log(10), np.log(500), n)).round()
    t = trader_frame(ctx, rng, country, reg_day=rng.integers(-365 * 25, -365 * 2, n), employees=employees, tier=tier)
    t["_weight"] = rng.lognormal(0.0, 0.8, n)
    lines = np.zeros((n, 3), dtype="int64")
    for k in range(3):
        pool = ctx.catalog.by_tier(k)
        m = tier == k
        lines[m] = pool[rng.integers(0, len(pool), (int(m.sum()), 3))]
    nl = rng.integers(1, 4, n)
    lines[:, 1] = np.where(nl >= 2, lines[:, 1], lines[:, 0])
    lines[:, 2] = np.where(nl >= 3, lines[:, 2], lines[:, 0])
    t["_l0"], t["_l1"], t["_l2"] = lines[:, 0], lines[:, 1], lines[:, 2]
    ctx.traders = t


def build_persons_officers(ctx: Ctx) -> None:
    """One director per trader (often also its owner; else a separate owner), a few parent
    companies owning a subsidiary of the same tier, and travellers who only file cash reports."""
    rng = ctx.rng("persons")
    t = ctx.traders
    n = len(t)
    directors = person_frame(ctx, rng, t["country"].to_numpy())
    sep = rng.random(n) < 0.5
    owners = person_frame(ctx, rng, t["country"].to_numpy()[sep])
    travellers = person_frame(ctx, rng, _countries(rng, ctx.count(700, 60)))
    directors["_role"], owners["_role"], travellers["_role"] = "director", "owner", "traveller"
    directors["_company"] = t["trader_id"].to_numpy()
    owners["_company"] = t["trader_id"].to_numpy()[sep]
    travellers["_company"] = None
    start = t["registration_date"].to_numpy()
    off = [pd.DataFrame({"officer_id": directors["person_id"], "company_id": t["trader_id"], "role": "DIRECTOR",
                         "share_pct": "", "start_date": start, "end_date": ""})]
    # numpy's stubs take no None choice (and pick the one-argument np.where overload)
    own_id = cast(np.ndarray, np.where(sep, None, directors["person_id"].to_numpy()))
    own_id[sep] = owners["person_id"].to_numpy()
    share = np.where(rng.random(n) < 0.6, 100, rng.integers(51, 100, n)).astype(str)
    off.append(pd.DataFrame({"officer_id": own_id, "company_id": t["trader_id"], "role": "OWNER",
                             "share_pct": share, "start_date": start, "end_date": ""}))
    # parent companies: a trader owning another trader of its tier
    tier = t["_tier"].to_numpy()
    subs = np.flatnonzero(rng.random(n) < 0.02)
    rows = []
    for s in subs:
        pool = np.flatnonzero(tier == tier[s])
        p = pool[rng.integers(0, len(pool))]
        if p != s:
            rows.append((t["trader_id"].iat[p], t["trader_id"].iat[s], "SHAREHOLDER", str(int(rng.integers(20, 49))),
                         start[s], ""))
    if rows:
        off.append(pd.DataFrame(rows, columns=off[0].columns))
    ctx.persons = pd.concat([directors, owners, travellers], ignore_index=True)
    ctx.officers = pd.concat(off, ignore_index=True)


BIG_CARRIERS = [("Oceanic Blue Line", "SEA", "DE"), ("Meridian Container Shipping", "SEA", "CH"),
                ("Pacific Star Lines", "SEA", "SG"), ("SkyBridge Air Cargo", "AIR", "AE"),
                ("Velocity Express Worldwide", "EXPRESS", "US"), ("TransAfrica Road Haulage", "ROAD", "KE")]
BIG_SHARE = np.array([0.24, 0.22, 0.14, 0.12, 0.10, 0.18])
CARRIER_WORDS = ["Freight", "Haulage", "Shipping", "Cargo", "Logistics", "Forwarders", "Transporters", "Movers"]


def carrier_frame(ctx: Ctx, rng: np.random.Generator, names: np.ndarray, ctype: np.ndarray,
                  country: np.ndarray) -> pd.DataFrame:
    n = len(names)
    serial = ctx.serial.take("carrier", n)
    return pd.DataFrame({
        "carrier_id": ids.strs("C", serial, 4), "name": names, "country": country, "carrier_type": ctype,
        "address": ids.addresses(rng, ctx.serial.take("address", n)),
        "phone": ids.phones(country, ctx.serial.take("phone", n)),
        "tin": ("CTIN" + ids.zfill(ids.scramble(serial, 8, salt=43), 8)).to_numpy(dtype=object),
    })


def conveyances_for(ctx: Ctx, rng: np.random.Generator, ctype: str, k: int) -> np.ndarray:
    s = ctx.serial.take("conveyance", k)
    if ctype == "SEA":
        return ids.strs("IMO9", ids.scramble(s, 6, salt=47), 6)
    if ctype in ("AIR", "EXPRESS"):
        return ids.strs("FL", ids.scramble(s, 5, salt=53), 5)
    plates = ids.scramble(s, 5, salt=59)
    letters = np.array(list("ABCDEFGHJKLMNPRSTUVWXYZ"), dtype=object)
    return ("K" + pd.Series(letters[plates % 23]) + pd.Series(letters[(plates // 23) % 23]) + " "
            + ids.zfill(plates % 1000, 3) + pd.Series(letters[(plates // 529) % 23])).to_numpy(dtype=object)


def add_carriers(ctx: Ctx, frame: pd.DataFrame, conveyances: list[np.ndarray]) -> None:
    ctx.carriers = frame if ctx.carriers is None else pd.concat([ctx.carriers, frame], ignore_index=True)
    ctx.conveyances.extend(conveyances)
    s = ctx.serial.take("container_owner", len(frame))
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTVWXYZ"), dtype=object)
    ctx.container_owner.extend(f"{letters[x % 25]}{letters[(x // 25) % 25]}{letters[(x // 625) % 25]}U"
                               for x in ids.scramble(s, 5, salt=61))


def build_carriers(ctx: Ctx) -> None:
    rng = ctx.rng("carriers")
    big = carrier_frame(ctx, rng, np.array([b[0] + " " + ("AG" if b[2] == "CH" else "Ltd") for b in BIG_CARRIERS],
                                           dtype=object), np.array([b[1] for b in BIG_CARRIERS], dtype=object),
                        np.array([b[2] for b in BIG_CARRIERS], dtype=object))
    # two liner companies in a vessel-sharing alliance share a port office (a harmless link)
    big.loc[1, "address"] = big.loc[0, "address"]
    conv = [conveyances_for(ctx, rng, b[1], int(rng.integers(12, 30))) for b in BIG_CARRIERS]
    conv[1] = np.concatenate([conv[1], conv[0][:2]])
    n_small = max(8, int(round(35 * ctx.scale ** 0.5)))
    types = np.array(["ROAD", "FORWARDER", "SEA", "AIR", "ROAD"], dtype=object)[rng.integers(0, 5, n_small)]
    country = np.where(rng.random(n_small) < 0.7, np.array(EAC, dtype=object)[rng.integers(0, 4, n_small)],
                       _countries(rng, n_small))
    serial = ids.scramble(ctx.serial.take("carrier_name", n_small), 5, salt=67)
    names = (pd.Series(np.array(ids.PLACES, dtype=object)[serial % 50]) + " "
             + pd.Series(np.array(ids.WORDS, dtype=object)[(serial // 50) % 50]) + " "
             + pd.Series(np.array(CARRIER_WORDS, dtype=object)[rng.integers(0, len(CARRIER_WORDS), n_small)])
             + " Ltd").to_numpy(dtype=object)
    small = carrier_frame(ctx, rng, names, types, country)
    conv += [conveyances_for(ctx, rng, ty, int(rng.integers(3, 12))) for ty in types]
    frame = pd.concat([big, small], ignore_index=True)
    frame["_big"] = np.arange(len(frame)) < len(big)
    add_carriers(ctx, frame, conv)
    # each carrier has its own director
    d = person_frame(ctx, rng, frame["country"].to_numpy())
    d["_role"], d["_company"] = "carrier_director", frame["carrier_id"].to_numpy()
    ctx.persons = pd.concat([ctx.persons, d], ignore_index=True)
    ctx.officers = pd.concat([ctx.officers, pd.DataFrame({
        "officer_id": d["person_id"], "company_id": frame["carrier_id"], "role": "DIRECTOR", "share_pct": "",
        "start_date": iso(rng.integers(-6000, -1500, len(frame))), "end_date": ""})], ignore_index=True)


def account_frame(ctx: Ctx, rng: np.random.Generator, holder: np.ndarray, country: np.ndarray,
                  opened_day: np.ndarray) -> pd.DataFrame:
    """Accounts (IBAN where the country has IBANs, else plain numbers) of the given holders."""
    n = len(holder)
    serial = ctx.serial.take("account", n)
    bank = rng.integers(0, 3, n)
    acct = np.empty(n, dtype=object)
    bank_name = np.empty(n, dtype=object)
    bic = np.empty(n, dtype=object)
    for c in sorted(pd.unique(country)):
        m = country == c
        acct[m] = (ids.ibans(rng, c, serial[m], bank[m]) if COUNTRIES[c][2]
                   else ids.plain_accounts(serial[m], bank[m]))
        bank_name[m] = np.array(ids.bank_names(c), dtype=object)[bank[m]]
        bic[m] = np.array(ids.bics(c), dtype=object)[bank[m]]
    return pd.DataFrame({"account_id": acct, "holder_id": holder, "bank_name": bank_name, "bic": bic,
                         "bank_country": country, "opened_date": iso(opened_day)})


def build_accounts(ctx: Ctx) -> None:
    rng = ctx.rng("accounts")
    t = ctx.traders
    reg = (pd.to_datetime(t["registration_date"]) - pd.Timestamp("2024-01-01")).dt.days.to_numpy()
    first = account_frame(ctx, rng, t["trader_id"].to_numpy(), t["country"].to_numpy(), reg + 30)
    extra = np.flatnonzero(rng.random(len(t)) < 0.1)
    second = account_frame(ctx, rng, t["trader_id"].to_numpy()[extra], t["country"].to_numpy()[extra],
                           reg[extra] + rng.integers(100, 2000, len(extra)))
    p = ctx.persons
    has = np.flatnonzero(rng.random(len(p)) < 0.25)
    pers = account_frame(ctx, rng, p["person_id"].to_numpy()[has], p["nationality"].to_numpy()[has],
                         rng.integers(-5000, -100, len(has)))
    ctx.traders["_acct"] = first["account_id"].to_numpy()
    ctx.persons["_acct"] = None
    ctx.persons.loc[has, "_acct"] = pers["account_id"].to_numpy()
    ctx.accounts = pd.concat([first, second, pers], ignore_index=True)


def build_all(ctx: Ctx) -> None:
    """Every party of a world, in the order each needs the one before: traders, persons and
    their officer roles, carriers, bank accounts."""
    build_traders(ctx)
    build_persons_officers(ctx)
    build_carriers(ctx)
    build_accounts(ctx)

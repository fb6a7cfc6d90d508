"""Vectorised builders of declaration, payment and cash-report rows from compact specs.

Background chunks and planted patterns go through the same builders, so every row follows
the same conventions: an EXPORT declaration per shipment in the exporter's country and, where
``mirror`` is set, the IMPORT declaration in the importer's country sharing the transport
document, invoice and containers; money converted with the monthly rates of rates.csv.

Shipment spec columns (one row per shipment):
``sid`` (serial: ids), ``exp``/``imp`` (row of ``ctx.traders``), ``hs`` (catalogue row),
``day``, ``mass`` (kg), ``pf`` (unit price / reference price), ``carrier`` (row of
``ctx.carriers``, -1 none), ``mirror``, ``delay`` (days to the import declaration),
``vratio``/``mratio`` (import value / mass relative to the export), ``cur_e``/``cur_i``
(currency index), ``usd_e``/``usd_i`` (value_usd given), ``ext`` (8-digit national code).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from graphiff.samples import ids
from graphiff.samples.context import Ctx
from graphiff.samples.reference import COUNTRIES, CURRENCIES, iso, iso1

DECL_DEFAULTS = {"carrier": -1, "mirror": False, "delay": 5, "vratio": 1.06, "mratio": 1.0, "usd_e": False,
                 "usd_i": False, "ext": False, "pf": 1.0}
MODE = {"SEA": "SEA", "AIR": "AIR", "EXPRESS": "AIR", "ROAD": "ROAD", "RAIL": "RAIL", "FORWARDER": "ROAD",
        "POST": "POST"}
DOC = {"SEA": "BL", "AIR": "AWB", "ROAD": "CMR", "RAIL": "CIM", "POST": "CN"}


def spec(rows: list[dict]) -> pd.DataFrame:
    """A shipment spec frame from dicts (planted shipments), defaults filled in."""
    df = pd.DataFrame(rows)
    for k, v in DECL_DEFAULTS.items():
        if k not in df.columns:
            df[k] = v
        df[k] = df[k].fillna(v) if k not in ("mirror", "usd_e", "usd_i", "ext") else df[k].fillna(v).astype(bool)
    return df


def decl_ids(country: np.ndarray, day: np.ndarray, flow: str, sid: np.ndarray) -> np.ndarray:
    """Declaration ids: reporting country, year, EX/IM, shipment serial."""
    yy = pd.Series(iso(day)).str.slice(2, 4)
    return (pd.Series(country).astype(str) + yy + flow + ids.zfill(sid, 8)).to_numpy(dtype=object)


def decl_id1(country: str, day: int, flow: str, sid: int) -> str:
    """:func:`decl_ids` for one declaration."""
    return f"{country}{iso1(day)[2:4]}{flow}{int(sid):08d}"


def invoice_no1(sid: int) -> str:
    return f"INV{int(ids.scramble(sid, 9, salt=73)):09d}"


def invoice_nos(sid: np.ndarray) -> np.ndarray:
    return ("INV" + ids.zfill(ids.scramble(np.asarray(sid), 9, salt=73), 9)).to_numpy(dtype=object)


def _offices(country: np.ndarray) -> np.ndarray:
    lut = {c: c + v[3][0].replace(" ", "")[:3].upper() for c, v in COUNTRIES.items()}
    return pd.Series(country).map(lut).to_numpy(dtype=object)


def _transport(ctx: Ctx, rng: np.random.Generator, s: pd.DataFrame) -> dict[str, np.ndarray]:
    n = len(s)
    car = s["carrier"].to_numpy(dtype="int64")
    has = car >= 0
    c = np.where(has, car, 0)
    assert ctx.carriers is not None  # built with the entities, before the shipments
    ctype = ctx.carriers["carrier_type"].to_numpy(dtype=object)[c]
    mode = pd.Series(ctype).map(MODE).to_numpy(dtype=object)
    lens = np.array([len(x) for x in ctx.conveyances], dtype="int64")
    flat = np.concatenate(ctx.conveyances)
    offs = np.concatenate([[0], np.cumsum(lens)[:-1]])
    conv = flat[offs[c] + (rng.random(n) * lens[c]).astype("int64")]
    owner = np.array(ctx.container_owner, dtype=object)[c]
    sea = has & (ctype == "SEA")
    k = np.where(sea, rng.integers(1, 4, n), 0)
    ser = ctx.serial.take("container", 3 * n).reshape(n, 3)
    cont = pd.Series("", index=range(n), dtype=object)
    for j in range(3):
        cid = pd.Series(owner) + ids.zfill(ids.scramble(ser[:, j], 7, salt=71), 7)
        part = cid if j == 0 else ";" + cid
        cont = cont + part.where(k > j, "")
    for col, val in (("conveyance", "conv"), ("containers", "cont")):
        if col in s.columns:  # planted shipments may name them
            given = s[col].fillna("").astype(str).to_numpy(dtype=object)
            if val == "conv":
                conv = np.where(given != "", given, conv)
            else:
                cont = pd.Series(np.where(given != "", given, cont.to_numpy(dtype=object)), dtype=object)
    doc = pd.Series(mode).map(DOC).fillna("BL") + ids.zfill(s["sid"].to_numpy(), 9)
    return {
        "transport_mode": np.where(has, mode, ""),
        "carrier_id": np.where(has, ctx.carriers["carrier_id"].to_numpy(dtype=object)[c], ""),
        "carrier_name": np.where(has, ctx.carriers["name"].to_numpy(dtype=object)[c], ""),
        "conveyance_id": np.where(has, conv, ""),
        "container_ids": cont.to_numpy(dtype=object),
        "transport_doc_no": doc.to_numpy(dtype=object),
    }


def declarations(ctx: Ctx, s: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Declaration rows (canonical columns) of the shipments in spec ``s``."""
    if not len(s):
        return pd.DataFrame()
    t, cat = ctx.traders, ctx.catalog
    tid, tname, tcty = (t[c].to_numpy(dtype=object) for c in ("trader_id", "name", "country"))
    exp, imp, hs = (s[c].to_numpy(dtype="int64") for c in ("exp", "imp", "hs"))
    day = s["day"].to_numpy(dtype="int64")
    mass = np.maximum(np.round(s["mass"].to_numpy(dtype=float), 2), 0.1)
    value = np.round(mass * cat.price[hs] * s["pf"].to_numpy(dtype=float), 2)
    unit = cat.unit[hs]
    ukg = cat.unit_kg[hs]

    def qty(m: np.ndarray, unit: np.ndarray = unit, ukg: np.ndarray = ukg) -> np.ndarray:
        return np.where(unit == "U", np.maximum(1, np.round(m / np.where(np.isnan(ukg), 1, ukg))), m)

    code = pd.Series(cat.hs6[hs]) + pd.Series(np.where(s["ext"].to_numpy(dtype=bool), "00", ""))
    base = {
        "exporter_id": tid[exp], "exporter_name": tname[exp], "exporter_country": tcty[exp],
        "importer_id": tid[imp], "importer_name": tname[imp], "importer_country": tcty[imp],
        "hs_code": code.to_numpy(dtype=object), "description": cat.description[hs],
        "origin_country": tcty[exp], "dispatch_country": tcty[exp], "destination_country": tcty[imp],
        "quantity_unit": unit,
        "invoice_no": invoice_nos(s["sid"].to_numpy()),
        **_transport(ctx, rng, s),
    }
    e = pd.DataFrame({
        "declaration_id": decl_ids(tcty[exp], day, "EX", s["sid"].to_numpy()),
        "item_no": 1, "flow": "EXPORT", "reporting_country": tcty[exp], "date": iso(day), **base,
        "declarant_id": tid[exp], "quantity": qty(mass), "net_mass_kg": mass,
        "invoice_value": value, "currency": s["cur_e"].to_numpy(dtype="int64"), "value_usd": value,
        "_given": s["usd_e"].to_numpy(dtype=bool), "office": _offices(tcty[exp]),
    })
    m = s["mirror"].to_numpy(dtype=bool)
    parts = [e]
    if m.any():
        iday = day[m] + s["delay"].to_numpy(dtype="int64")[m]
        imass = np.maximum(np.round(mass[m] * s["mratio"].to_numpy(dtype=float)[m], 2), 0.1)
        ival = np.round(value[m] * s["vratio"].to_numpy(dtype=float)[m], 2)
        i = e[m].copy()
        i["declaration_id"] = decl_ids(tcty[imp][m], iday, "IM", s["sid"].to_numpy()[m])
        i["flow"], i["reporting_country"], i["date"] = "IMPORT", tcty[imp][m], iso(iday)
        i["declarant_id"], i["office"] = tid[imp][m], _offices(tcty[imp][m])
        i["net_mass_kg"] = imass
        i["quantity"] = qty(imass, unit[m], ukg[m])
        i["invoice_value"] = i["value_usd"] = ival
        i["currency"] = s["cur_i"].to_numpy(dtype="int64")[m]
        i["_given"] = s["usd_i"].to_numpy(dtype=bool)[m]
        i["_day"] = iday
        parts.append(i)
    e["_day"] = day
    out = pd.concat(parts, ignore_index=True)
    cur = out["currency"].to_numpy(dtype="int64")
    rate = ctx.rates.usd_per_unit(cur, out["_day"].to_numpy())
    out["invoice_value"] = np.round(out["value_usd"].to_numpy(dtype=float) / rate, 2)
    out["value_usd"] = out["value_usd"].where(out["_given"].to_numpy(dtype=bool))
    out["currency"] = np.array(CURRENCIES, dtype=object)[cur]
    return out.drop(columns=["_given", "_day"])


def payments(ctx: Ctx, p: pd.DataFrame) -> pd.DataFrame:
    """Payment rows from a spec: ``pid, day, frm, to, usd, cur, reference, invoice_no,
    declaration_id``."""
    if not len(p):
        return pd.DataFrame()
    cur = p["cur"].to_numpy(dtype="int64")
    day = p["day"].to_numpy(dtype="int64")
    rate = ctx.rates.usd_per_unit(cur, day)
    return pd.DataFrame({
        "payment_id": ids.strs("PAY", p["pid"].to_numpy(), 9), "date": iso(day),
        "from_account": p["frm"].to_numpy(dtype=object), "to_account": p["to"].to_numpy(dtype=object),
        "amount": np.round(p["usd"].to_numpy(dtype=float) / rate, 2),
        "currency": np.array(CURRENCIES, dtype=object)[cur],
        "reference": p["reference"].to_numpy(dtype=object),
        "invoice_no": p["invoice_no"].to_numpy(dtype=object),
        "declaration_id": p["declaration_id"].to_numpy(dtype=object),
    })


CASH_COLS = ["rid", "rtype", "day", "usd", "cur", "person_id", "person_name", "trader_id", "account_id",
             "direction", "location", "origin", "destination", "narrative"]


def cash_reports(ctx: Ctx, c: pd.DataFrame) -> pd.DataFrame:
    """Cash-report rows from a spec with :data:`CASH_COLS`."""
    if not len(c):
        return pd.DataFrame()
    cur = c["cur"].to_numpy(dtype="int64")
    day = c["day"].to_numpy(dtype="int64")
    rate = ctx.rates.usd_per_unit(cur, day)
    return pd.DataFrame({
        "report_id": ids.strs("CR", c["rid"].to_numpy(), 8), "report_type": c["rtype"].to_numpy(dtype=object),
        "date": iso(day), "amount": np.round(c["usd"].to_numpy(dtype=float) / rate, 2),
        "currency": np.array(CURRENCIES, dtype=object)[cur],
        **{k: c[v].to_numpy(dtype=object) for k, v in [
            ("person_id", "person_id"), ("person_name", "person_name"), ("trader_id", "trader_id"),
            ("account_id", "account_id"), ("direction", "direction"), ("location", "location"),
            ("origin_country", "origin"), ("destination_country", "destination"), ("narrative", "narrative")]},
    })

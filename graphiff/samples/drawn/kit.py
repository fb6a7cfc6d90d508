"""The toolkit of the drawn plants: a :class:`~graphiff.samples.planter.Planter` whose shipments
say which of their declarations an administration whose data we hold writes, whose records can
be patched after they are built (a re-invoiced import naming the supplier's country as dispatch
country, an exact invoice value in a threshold's currency, a payment rounded to the thousand),
and a recorder of everything drawn (``assumptions.json``).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from graphiff.samples import ids
from graphiff.samples.context import Ctx
from graphiff.samples.planter import Planter
from graphiff.samples.reference import COUNTRIES, CURRENCIES, DAYS, N_MONTHS, month_index

#: currencies of cash-reporting thresholds that the plain world's rates lack, USD per unit
EXTRA_CURRENCIES = {"CAD": 0.74, "AUD": 0.66}
TRADE_COUNTRIES = ["KE", "UG", "TZ", "RW", "ET", "AE", "CN", "IN", "DE", "NL", "GB", "ZA", "SG", "HK", "US", "BE",
                   "KR", "JP", "PL", "CH", "MU"]


class Draws:
    """What a world drew: ``world`` (world-level knobs) and, per family, its knobs and one
    entry per planted instance and decoy. Written as ``assumptions.json``."""

    def __init__(self) -> None:
        self.world: dict[str, Any] = {}
        self.families: dict[str, dict[str, Any]] = {}

    def family(self, name: str, **knobs: Any) -> dict[str, Any]:
        """The record of ``name`` (created with ``knobs`` the first time)."""
        rec = self.families.setdefault(name, {"knobs": {}, "instances": [], "decoys": []})
        rec["knobs"].update(knobs)
        return rec

    def as_dict(self) -> dict[str, Any]:
        return {"world": self.world, "families": self.families}


def plain(value: Any) -> Any:
    """A value as JSON can hold it (numpy scalars and arrays to Python ones)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return round(float(value), 6)
    if isinstance(value, float):
        return round(value, 6)
    return value


class DrawnPlanter(Planter):
    """A planter for drawn worlds.

    ``held`` are the reporting countries whose administrations' declarations are written; a
    planted shipment is written as its export declaration, its import declaration or both
    (``seen``), and only by a held administration. Records are patched after they are built
    (:meth:`patch_decl`, :meth:`patch_pay`).
    """

    def __init__(self, ctx: Ctx, held: list[str], draws: Draws, scale: float) -> None:
        super().__init__(ctx)
        self.scale = float(scale)  # the world's scale (the background's is larger: fewer administrations)
        self.rng = ctx.rng("drawn/planter")
        self.held = set(held)
        self.draws = draws
        self.seen: dict[int, str] = {}
        self.decl_patches: dict[tuple[int, str], dict[str, Any]] = {}
        self.pay_patches: dict[str, dict[str, Any]] = {}
        self.protected: set[str] = set()      # declaration ids whose values and quantities noise leaves alone
        self.protected_pay: set[str] = set()  # payment ids whose amounts noise leaves alone
        self.reports: list[dict[str, Any]] = []  # cash-report rows (canonical columns)
        self.trader_edits: list[tuple[str, str, Any, str | None]] = []  # applied after finish
        self.rate_table = extra_rates(ctx)

    # ---- choices --------------------------------------------------------------------------
    def pick(self, pool: list[str] | tuple[str, ...], k: int = 1, *, held: bool | None = None) -> list[str]:
        """``k`` countries from ``pool`` (held ones only with ``held=True``, not held ones with
        ``held=False``; falls back to the whole pool when that leaves none)."""
        cand = [c for c in pool if held is None or (c in self.held) == held] or list(pool)
        return [str(c) for c in self.rng.choice(cand, k, replace=k > len(cand))]

    def uniform(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    def integer(self, lo: int, hi: int) -> int:
        """An integer in ``[lo, hi]`` (both included)."""
        return int(self.rng.integers(lo, hi + 1))

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def carrier(self) -> int:
        """A background carrier as the background uses them (big lines most of the time)."""
        assert self.ctx.carriers is not None
        big = self.ctx.carriers["_big"].to_numpy(dtype=bool)
        pool = np.flatnonzero(big if self.chance(0.7) else ~big)
        return int(pool[self.rng.integers(0, len(pool))])

    def visible(self, exp: int, imp: int, prefer: str | None = None) -> str:
        """Which declarations of a shipment are written: ``EX``, ``IM`` or ``BOTH``, among the
        ones a held administration would write (``IM`` when neither end is held: the caller
        should have made one held)."""
        opts = []
        ex, im = self.country(exp) in self.held, self.country(imp) in self.held
        if ex:
            opts.append("EX")
        if im:
            opts.append("IM")
        if ex and im:
            opts.append("BOTH")
        if prefer in opts:
            return str(prefer)
        return str(self.rng.choice(opts)) if opts else "IM"

    # ---- records --------------------------------------------------------------------------
    def shipment(self, exp: int, imp: int, hs: int, day: int, mass: float, *, seen: str = "BOTH",
                 patch_ex: dict[str, Any] | None = None, patch_im: dict[str, Any] | None = None,
                 protect: bool = False, **kw: Any) -> dict[str, Any]:
        """Plant one shipment and say which declarations are written (``EX``, ``IM``,
        ``BOTH``); returns ``sid``, ``invoice_no``, ``day``, and ``export``/``import`` (keys of
        the written declarations), ``keys`` (both, in order) and ``ids`` (declaration ids)."""
        kw.setdefault("carrier", self.carrier())
        kw.setdefault("delay", self.integer(2, 20))
        kw.setdefault("vratio", self.uniform(1.02, 1.10))
        rec = self.ship(exp, imp, hs, day, mass, mirror=True, **kw)
        sid = int(rec["sid"])
        self.seen[sid] = seen
        out = {"sid": sid, "invoice_no": rec["invoice_no"], "day": int(day), "keys": [], "ids": []}
        if seen in ("EX", "BOTH"):
            out.update(export=rec["export"], export_id=rec["export_id"])
            out["keys"].append(rec["export"])
            out["ids"].append(rec["export_id"])
        if seen in ("IM", "BOTH"):
            out.update({"import": rec["import"], "import_id": rec["import_id"]})
            out["keys"].append(rec["import"])
            out["ids"].append(rec["import_id"])
        if patch_ex:
            self.decl_patches[(sid, "EXPORT")] = dict(patch_ex)
        if patch_im:
            self.decl_patches[(sid, "IMPORT")] = dict(patch_im)
        if protect:
            self.protected.update(out["ids"])
        return out

    def payment(self, frm: str, to: str, day: int, amount: float, *, cur: str = "USD", protect: bool = False,
                **kw: Any) -> str:
        """A payment of exactly ``amount`` in ``cur`` (any currency of the rates file)."""
        usd = amount * self.rate(cur, day)
        base = cur if cur in CURRENCIES else "USD"
        pid = self.pay(frm, to, day, usd, cur=base, **kw)
        self.pay_patches[pid] = {"amount": round(float(amount), 2), "currency": cur}
        if protect:
            self.protected_pay.add(pid)
        return pid

    def rate(self, cur: str, day: int) -> float:
        """USD per unit of ``cur`` in the month of ``day`` (as written to rates.csv)."""
        return float(self.rate_table[cur][int(month_index(np.array([day]))[0])])

    def cash_report(self, person: str, day: int, amount: float, cur: str, *, rtype: str, country: str, place: str,
             direction: str = "OUT", trader_id: str = "", account_id: str = "", other: str = "AE") -> str:
        """A cash report of ``amount`` in ``cur`` filed in ``country`` (BORDER: at ``place``,
        the country of filing is the origin of an outgoing and the destination of an incoming
        crossing; CTR: a bank branch, its location ends with the country code)."""
        rid = f"CR{self.ctx.serial.one('cash'):08d}"
        border = rtype == "BORDER"
        other = other if other != country else "KE"
        self.reports.append({
            "report_id": rid, "report_type": rtype, "date": str(np.datetime64("2024-01-01") + int(day)),
            "amount": round(float(amount), 2), "currency": cur, "person_id": person, "person_name": "",
            "trader_id": trader_id, "account_id": account_id, "direction": direction,
            "location": f"{place}, {country}" if border else f"Bank branch, {place}, {country}",
            "origin_country": (country if direction == "OUT" else other) if border else "",
            "destination_country": (other if direction == "OUT" else country) if border else "",
            "narrative": ""})
        return rid

    def edit_trader(self, trader_id: str, column: str, value: Any = None, *, copy_from: str | None = None) -> None:
        """Change a planted trader's column once the entity tables are built (to ``value``, or
        to the value of trader ``copy_from``)."""
        self.trader_edits.append((trader_id, column, value, copy_from))

    def shared_address(self, country: str) -> tuple[str, str, str]:
        """A fresh (address, city, postcode) in ``country``."""
        addr = ids.addresses(self.rng, self.ctx.serial.take("address", 1))[0]
        city = ids.cities(self.rng, np.array([country], dtype=object))[0]
        return str(addr), str(city), str(ids.postcodes(self.rng, 1)[0])

    # ---- building ---------------------------------------------------------------------------
    def apply_trader_edits(self) -> None:
        t = self.ctx.traders
        pos = dict(zip(t["trader_id"], range(len(t))))
        for tid, col, value, src in self.trader_edits:
            j = t.columns.get_loc(col)
            t.iloc[pos[tid], j] = t.iloc[pos[src], j] if src is not None else value

    def drawn_declarations(self) -> pd.DataFrame:
        """The planted declaration rows: only the written flows, patched."""
        d = self.declaration_rows()
        if not len(d):
            return d
        sid = d["declaration_id"].str.slice(-8).astype("int64").to_numpy()
        flow = d["flow"].to_numpy(dtype=object)
        seen = np.array([self.seen.get(int(s), "BOTH") for s in sid], dtype=object)
        keep = (seen == "BOTH") | ((seen == "EX") & (flow == "EXPORT")) | ((seen == "IM") & (flow == "IMPORT"))
        d = d.assign(_sid=sid)[keep].reset_index(drop=True)
        for c in ("value_usd", "invoice_value", "quantity", "net_mass_kg"):
            d[c] = d[c].astype(object)
        for i, (s, f) in enumerate(zip(d["_sid"].to_numpy(), d["flow"].to_numpy())):
            for col, value in self.decl_patches.get((int(s), str(f)), {}).items():
                d.iat[i, d.columns.get_loc(col)] = value
        return d.drop(columns=["_sid"])

    def drawn_payments(self) -> pd.DataFrame:
        p = self.payment_rows()
        if not len(p):
            return p
        p["amount"] = p["amount"].astype(object)
        pos = dict(zip(p["payment_id"], range(len(p))))
        for pid, patch in self.pay_patches.items():
            for col, value in patch.items():
                p.iat[pos[pid], p.columns.get_loc(col)] = value
        return p

    def drawn_cash(self) -> pd.DataFrame:
        c = pd.DataFrame(self.reports)
        if len(c):
            names = dict(zip(self.ctx.persons["person_id"], self.ctx.persons["name"]))
            c["person_name"] = c["person_id"].map(names).fillna("")
        return c


def extra_rates(ctx: Ctx) -> dict[str, np.ndarray]:
    """USD per unit per month for every currency of the world: the plain world's and
    :data:`EXTRA_CURRENCIES` (a random walk like theirs), rounded as rates.csv says."""
    out = {c: ctx.rates.table[i] for i, c in enumerate(CURRENCIES)}
    rng = ctx.rng("drawn/rates")
    for cur, base in EXTRA_CURRENCIES.items():
        steps = rng.normal(0.0, 0.015, N_MONTHS)
        steps[0] = 0.0
        out[cur] = np.array([float(f"{x:.8g}") for x in base * np.exp(np.cumsum(steps))])
    return out


def rates_frame(ctx: Ctx, table: dict[str, np.ndarray]) -> pd.DataFrame:
    """rates.csv rows of the extra currencies (the plain ones come from ``ctx.rates.frame()``)."""
    months = (np.datetime64("2023-12", "M") + np.arange(N_MONTHS)).astype(str)
    rows = [{"currency": c, "month": m, "date": "", "usd_per_unit": f"{v:.8g}"}
            for c in EXTRA_CURRENCIES for m, v in zip(months, table[c])]
    return pd.DataFrame(rows)


__all__ = ["COUNTRIES", "DAYS", "Draws", "DrawnPlanter", "TRADE_COUNTRIES", "extra_rates", "plain", "rates_frame"]

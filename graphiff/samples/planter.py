"""The toolkit of the planted patterns: new entities, shipments, payments, cash reports and the
truth file entries.

Ids are handed out at once (scalar formulas, the same as the vectorised builders'), while the
rows themselves are collected and built in one vectorised pass: entities by :meth:`finish`,
records by the same builders as the background (:mod:`graphiff.samples.rows`). So planting
costs the same at any scale.

Planting comes in phases: each :meth:`finish` closes one (its entities built, its shipments'
rows later built from a random stream of their own), so the plants of a later phase never
change a row of an earlier one. :meth:`use_stream` gives a plant a random stream of its own.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from graphiff.samples import ids, rows
from graphiff.samples.context import Ctx
from graphiff.samples.entities import (
    add_carriers,
    carrier_frame,
    conveyances_for,
    person_frame,
    trader_frame,
)
from graphiff.samples.reference import COUNTRIES, CUR_INDEX, DAYS, iso1

ENT = dict[str, str]


class Planter:
    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.rng = ctx.rng("planter")
        self.ships: list[dict] = []
        self.pays: list[dict] = []
        self.cash: list[dict] = []
        self.instances: list[dict] = []
        self.decoys: list[dict] = []
        self._popular: np.ndarray | None = None
        t = ctx.traders
        self._base = len(t)
        self._bg_ids = t["trader_id"].to_numpy(dtype=object)
        self._bg_cty = t["country"].to_numpy(dtype=object)
        self._bg_acct = t["_acct"].to_numpy(dtype=object)
        self._new_traders: list[dict] = []
        self._new_persons: list[dict] = []
        self._new_accounts: list[dict] = []
        self._new_officers: list[dict] = []
        self._nat: dict[str, str] = {}
        self._n_bg = len(t)  # background traders (rows 0 .. _n_bg - 1 of ctx.traders)
        self._phase = 0
        self._cuts: list[int] = []  # len(self.ships) at the end of each finished phase

    def use_stream(self, name: str) -> None:
        """Draw from the random stream ``name`` from now on (a plant of its own stream changes
        no other plant's draws)."""
        self.rng = self.ctx.rng(name)

    # ---- truth ------------------------------------------------------------------------------
    def instance(self, family: str, entities: list[ENT], note: str, kind: str | None = None) -> None:
        """A planted instance; ``kind`` names a variant of the family's typology."""
        rec = {"family": family, "entities": entities, "note": note}
        if kind:
            rec["kind"] = kind
        self.instances.append(rec)

    def decoy(self, family: str, kind: str, entities: list[ENT], note: str = "") -> None:
        self.decoys.append({"family": family, "kind": kind, "entities": entities, "note": note})

    @staticmethod
    def ents(label: str, keys) -> list[ENT]:
        return [{"label": label, "id": str(k)} for k in keys]

    # ---- entities ---------------------------------------------------------------------------
    def traders(self, countries: list[str], *, reg_day=None, employees=None, address: str | None = None,
                city: str | None = None, postcode: str | None = None, account: bool = True,
                like: int | None = None, share: tuple[str, ...] = ()) -> list[int]:
        """New traders (established by default: registered 3-20 years ago, 20-300 staff,
        unique contact details, an account); returns their future rows in ``ctx.traders``.
        With ``like`` (a trader row planted earlier or in the background) they take that
        trader's ``share`` contact details (``"address"``: address, city and postcode;
        ``"phone"``; ``"email"``) when built."""
        n = len(countries)
        serial = self.ctx.serial.take("trader", n).tolist()
        reg = [reg_day] * n if reg_day is not None else self.rng.integers(-365 * 20, -365 * 3, n).tolist()
        emp = [employees] * n if employees is not None else self.rng.integers(20, 300, n).tolist()
        idx = []
        for c, sr, r, e in zip(countries, serial, reg, emp):
            idx.append(self._base + len(self._new_traders))
            self._new_traders.append({"serial": sr, "country": str(c), "reg": int(r), "emp": int(e),
                                      "address": address, "city": city, "postcode": postcode,
                                      "id": f"{c}{sr:06d}", "acct": None, "like": like, "share": tuple(share)})
        if account:
            for i in idx:
                self.account(self.tid(i), self.country(i), trader_row=i)
        return idx

    def _trader(self, idx: int) -> dict | None:
        return self._new_traders[idx - self._base] if idx >= self._base else None

    def tid(self, idx: int) -> str:
        t = self._trader(idx)
        return t["id"] if t else str(self._bg_ids[idx])

    def country(self, idx: int) -> str:
        t = self._trader(idx)
        return t["country"] if t else str(self._bg_cty[idx])

    def acct(self, idx: int) -> str:
        t = self._trader(idx)
        return t["acct"] if t else str(self._bg_acct[idx])

    def persons(self, nationalities: list[str], role: str = "planted") -> list[str]:
        out = []
        for nat, sr in zip(nationalities, self.ctx.serial.take("person", len(nationalities)).tolist()):
            pid = f"P{sr:07d}"
            self._new_persons.append({"serial": sr, "nationality": str(nat), "role": role})
            self._nat[pid] = str(nat)
            out.append(pid)
        return out

    def account(self, holder: str, country: str, trader_row: int | None = None) -> str:
        serial = self.ctx.serial.one("account")
        bank = int(self.rng.integers(0, 3))
        acct = ids.iban1(self.rng, country, serial, bank) if COUNTRIES[country][2] else ids.plain1(serial, bank)
        self._new_accounts.append({"account_id": acct, "holder_id": holder, "bank_name": ids.bank_names(country)[bank],
                                   "bic": ids.bics(country)[bank], "bank_country": country,
                                   "opened_date": iso1(int(self.rng.integers(-3000, -30)))})
        t = self._trader(trader_row) if trader_row is not None else None
        if t is not None and t["acct"] is None:
            t["acct"] = acct
        return acct

    def officer(self, officer_id: str, company_id: str, role: str, share: str = "", start_day: int = -1500) -> None:
        self._new_officers.append({"officer_id": officer_id, "company_id": company_id, "role": role,
                                   "share_pct": share, "start_date": iso1(start_day), "end_date": ""})

    def carriers(self, names: list[str], types: list[str], countries: list[str], *, address: str | None = None,
                 phone: str | None = None) -> list[int]:
        f = carrier_frame(self.ctx, self.rng, np.array(names, dtype=object), np.array(types, dtype=object),
                          np.array(countries, dtype=object))
        if address:
            f["address"] = address
        if phone:
            f["phone"] = phone
        f["_big"] = False
        assert self.ctx.carriers is not None  # background carriers exist before anything is planted
        start = len(self.ctx.carriers)
        add_carriers(self.ctx, f, [conveyances_for(self.ctx, self.rng, t, int(self.rng.integers(2, 5))) for t in types])
        return list(range(start, start + len(names)))

    def finish(self) -> None:
        """Build the planted traders, persons, accounts and officers of this phase into the
        context tables, and close the phase."""
        ctx = self.ctx
        rng = ctx.rng("planted/entities" if self._phase == 0 else f"planted/entities/{self._phase}")
        if self._new_traders:
            nt = pd.DataFrame(self._new_traders)
            f = trader_frame(ctx, rng, nt["country"].to_numpy(dtype=object), reg_day=nt["reg"].to_numpy(),
                             employees=nt["emp"].to_numpy(), tier=np.full(len(nt), 3), serial=nt["serial"].to_numpy())
            shared = nt["address"].notna().to_numpy()
            for c in ("address", "city", "postcode"):
                f[c] = np.where(shared, nt[c].to_numpy(dtype=object), f[c].to_numpy(dtype=object))
            f["_tier"], f["_weight"], f["_acct"] = -1, 0.0, nt["acct"].to_numpy(dtype=object)
            for c in ("_l0", "_l1", "_l2", "_c0", "_c1"):
                f[c] = -1
            self._copy_contacts(f, nt)
            ctx.traders = pd.concat([ctx.traders, f], ignore_index=True)
        if self._new_persons:
            npf = pd.DataFrame(self._new_persons)
            f = person_frame(ctx, rng, npf["nationality"].to_numpy(dtype=object), serial=npf["serial"].to_numpy())
            f["_role"], f["_company"], f["_acct"] = npf["role"].to_numpy(dtype=object), None, None
            ctx.persons = pd.concat([ctx.persons, f], ignore_index=True)
        ctx.accounts = pd.concat([ctx.accounts, pd.DataFrame(self._new_accounts)], ignore_index=True)
        ctx.officers = pd.concat([ctx.officers, pd.DataFrame(self._new_officers)], ignore_index=True)
        self._new_traders, self._new_persons, self._new_accounts, self._new_officers = [], [], [], []
        self._base = len(ctx.traders)
        t = ctx.traders
        self._bg_ids = t["trader_id"].to_numpy(dtype=object)  # every built trader from now on
        self._bg_cty = t["country"].to_numpy(dtype=object)
        self._bg_acct = t["_acct"].to_numpy(dtype=object)
        self._cuts.append(len(self.ships))
        self._phase += 1

    SHARED = {"address": ("address", "city", "postcode"), "phone": ("phone",), "email": ("email",)}

    def _copy_contacts(self, f: pd.DataFrame, nt: pd.DataFrame) -> None:
        """New traders planted ``like`` another take its shared contact details (in row order,
        so a chain of likes resolves)."""
        built = self.ctx.traders
        for j in np.flatnonzero(nt["like"].notna().to_numpy()):
            src = int(nt["like"].iat[j])
            for what in nt["share"].iat[j]:
                for col in self.SHARED[what]:
                    value = built[col].iat[src] if src < self._base else f[col].iat[src - self._base]
                    f.iat[j, f.columns.get_loc(col)] = value

    # ---- goods ------------------------------------------------------------------------------
    def popular_hs(self) -> np.ndarray:
        """Catalogue rows expected to have plenty of background declarations."""
        if self._popular is None:
            t = self.ctx.traders[self.ctx.traders["_tier"].between(0, 2)]
            w = np.repeat(t["_weight"].to_numpy() / 3, 3)
            lines = t[["_l0", "_l1", "_l2"]].to_numpy().ravel()
            share = np.bincount(lines, weights=w, minlength=len(self.ctx.catalog.hs6))
            expected = share / share.sum() * self.ctx.n_shipments * 1.4  # declaration rows per HS6
            order = np.argsort(-share, kind="stable")
            order = order[self.ctx.catalog.price[order] < 5000]
            keep = order[expected[order] >= 30]
            self._popular = np.sort(keep if len(keep) >= 10 else order[:10])
        return self._popular

    def hs(self) -> int:
        pool = self.popular_hs()
        return int(pool[self.rng.integers(0, len(pool))])

    def mass_for(self, hs: int, usd: float | None = None) -> float:
        usd = usd if usd is not None else float(np.exp(self.rng.normal(np.log(60_000), 0.6)))
        return round(usd / float(self.ctx.catalog.price[hs]), 2)

    def background_pair(self) -> tuple[int, int, int]:
        """(exporter, importer, HS row) of background traders that could trade in the
        background: exporter tier below importer tier, different countries, a popular HS of
        the exporter's lines."""
        t = self.ctx.traders.iloc[: self._n_bg]
        tier = t["_tier"].to_numpy()
        cty = self._bg_cty[: self._n_bg]
        lines_all = t[["_l0", "_l1", "_l2"]].to_numpy()
        popular = set(self.popular_hs().tolist())
        for _ in range(1000):
            e = int(self.rng.integers(0, len(t)))
            if not 0 <= tier[e] <= 2:
                continue
            lines = [int(x) for x in lines_all[e] if x in popular]
            if not lines:
                continue
            pool = np.flatnonzero((tier > tier[e]) & (cty != cty[e]))
            if len(pool):
                return e, int(pool[self.rng.integers(0, len(pool))]), lines[int(self.rng.integers(0, len(lines)))]
        raise RuntimeError("no background trade pair found")

    # ---- records ----------------------------------------------------------------------------
    def day(self, lo: int = 0, hi: int = DAYS) -> int:
        return int(self.rng.integers(lo, hi))

    def ship(self, exp: int, imp: int, hs: int, day: int, mass: float, **kw) -> dict:
        """Plant one shipment (export declaration, and import declaration when ``mirror``);
        returns ``sid``, ``day``, ``invoice_no``, ``export_id``/``export`` (declaration id /
        key) and, when mirrored, ``import_id``/``import``. ``import_only=True`` (with
        ``mirror``) drops the export declaration (filed where no data of ours comes from);
        ``dispatch="CN"`` declares the goods dispatched from (and originating in) that country
        instead of the exporter's."""
        sid = self.ctx.serial.one("shipment")
        rec = {"sid": sid, "exp": exp, "imp": imp, "hs": hs, "day": int(day), "mass": float(mass),
               "cur_e": CUR_INDEX[kw.pop("cur", "USD")], **kw}
        rec.setdefault("cur_i", rec["cur_e"])
        self.ships.append(rec)
        ex_id = rows.decl_id1(self.country(exp), day, "EX", sid)
        out = {"sid": sid, "export_id": ex_id, "export": ex_id + "/1", "invoice_no": rows.invoice_no1(sid),
               "day": int(day)}
        if rec.get("mirror"):
            im_id = rows.decl_id1(self.country(imp), int(day) + int(rec.get("delay", rows.DECL_DEFAULTS["delay"])),
                                  "IM", sid)
            out.update({"import_id": im_id, "import": im_id + "/1"})
        return out

    def pay(self, frm: str, to: str, day: int, usd: float, *, cur: str = "USD", reference: str = "",
            invoice_no: str = "", declaration_id: str = "") -> str:
        pid = self.ctx.serial.one("payment")
        self.pays.append({"pid": pid, "day": int(day), "frm": frm, "to": to, "usd": round(float(usd), 2),
                          "cur": CUR_INDEX[cur], "reference": reference, "invoice_no": invoice_no,
                          "declaration_id": declaration_id})
        return f"PAY{pid:09d}"

    def report(self, person: str, day: int, usd: float, *, rtype: str = "BORDER", cur: str = "USD",
               trader_id: str = "", account_id: str = "", direction: str = "OUT") -> str:
        """A cash report by a planted person (BORDER: at an airport of the person's country)."""
        rid = self.ctx.serial.one("cash")
        nat = self._nat[person]
        origin = destination = ""
        if rtype == "BORDER":
            location = COUNTRIES[nat][3][0] + " airport"
            other = "AE" if nat != "AE" else "KE"
            origin, destination = (nat, other) if direction == "OUT" else (other, nat)
        else:
            location = "Bank branch, " + nat
        self.cash.append({"rid": rid, "rtype": rtype, "day": int(day), "usd": round(float(usd), 2),
                          "cur": CUR_INDEX[cur], "person_id": person, "person_name": "", "trader_id": trader_id,
                          "account_id": account_id, "direction": direction, "location": location,
                          "origin": origin, "destination": destination, "narrative": ""})
        return f"CR{rid:08d}"

    # ---- building (after :meth:`finish`) ----------------------------------------------------
    def declaration_rows(self) -> pd.DataFrame:
        """The planted shipments' declaration rows, phase by phase (each from its own stream)."""
        parts, start = [], 0
        for k, cut in enumerate(self._cuts + [len(self.ships)]):
            if cut > start:
                name = "planted/declarations" if k == 0 else f"planted/declarations/{k}"
                parts.append(self._phase_rows(self.ships[start:cut], self.ctx.rng(name)))
            start = max(start, cut)
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()

    def _phase_rows(self, ships: list[dict], rng: np.random.Generator) -> pd.DataFrame:
        d = rows.declarations(self.ctx, rows.spec(ships), rng)
        only = {r["sid"] for r in ships if r.get("import_only")}
        dispatch = {r["sid"]: r["dispatch"] for r in ships if r.get("dispatch")}
        if not only and not dispatch:
            return d
        sid = d["declaration_id"].str.slice(-8).astype("int64")
        where = sid.map(dispatch)
        has = where.notna().to_numpy()
        for col in ("dispatch_country", "origin_country"):
            d[col] = np.where(has, where.to_numpy(dtype=object), d[col].to_numpy(dtype=object))
        keep = ~(sid.isin(only) & (d["flow"] == "EXPORT"))
        return d[keep.to_numpy()].reset_index(drop=True)

    def payment_rows(self) -> pd.DataFrame:
        return rows.payments(self.ctx, pd.DataFrame(self.pays))

    def cash_rows(self) -> pd.DataFrame:
        c = pd.DataFrame(self.cash, columns=rows.CASH_COLS)
        names = dict(zip(self.ctx.persons["person_id"], self.ctx.persons["name"]))
        c["person_name"] = c["person_id"].map(names)
        return rows.cash_reports(self.ctx, c)

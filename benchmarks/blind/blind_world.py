"""A blind world: ordinary trade and money with planted typologies, written independently.

``generate_blind_world(out, seed)`` writes the canonical files of the input contract
(traders, persons, officers, carriers, declarations, accounts, payments, cash_reports, rates)
and ``truth.json`` (instances and decoys per family, entities labelled as in
docs/typologies.md). Everything is drawn from ``random.Random(seed)``: the reporting
administrations, the size of the background, the margins, delays, group sizes and noise.

Sources of the planted typologies: FATF Trade-Based Money Laundering (2006) and FATF/Egmont
TBML (2020) for carousels, round trips, re-invoicing shells, mis-invoicing and phoenix firms;
WCO Illicit Financial Flows via Trade Mis-invoicing (2018) for valuation and mirror gaps;
FinCEN FIN-2014-A005 for funnel accounts; FATF Money Laundering through the Physical
Transportation of Cash (2015) for couriers and structuring; IBM AMLSim typologies (fan-in,
fan-out, cycle with a per-hop margin, scatter-gather) for the payment patterns.
"""
from __future__ import annotations

import csv
import json
import math
import random
import string
import zlib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

START = date(2022, 9, 1)
DAYS = 570                      # about nineteen months

CURRENCY = {
    "CA": "CAD", "AU": "AUD", "ES": "EUR", "PL": "PLN", "IE": "EUR", "US": "USD", "CN": "CNY", "VN": "VND",
    "IN": "INR", "TR": "TRY", "AE": "AED", "BR": "BRL", "ZA": "ZAR", "TH": "THB", "MY": "MYR", "ID": "IDR",
    "MX": "MXN", "CL": "CLP", "MA": "MAD", "EG": "EGP", "BD": "BDT", "PK": "PKR", "JP": "JPY", "KR": "KRW",
    "HK": "HKD", "SG": "SGD", "VG": "USD", "SC": "SCR", "PA": "USD", "CY": "EUR", "GB": "GBP", "DE": "EUR",
    "IT": "EUR", "NL": "EUR", "CH": "CHF", "BZ": "BZD", "LB": "USD", "NG": "NGN", "KE": "KES", "CO": "COP",
}
# USD per unit at the start (rough public orders of magnitude), then a monthly random walk
BASE_RATE = {
    "USD": 1.0, "EUR": 1.02, "CAD": 0.75, "AUD": 0.67, "PLN": 0.22, "CNY": 0.14, "VND": 0.000041,
    "INR": 0.0122, "TRY": 0.045, "AED": 0.2723, "BRL": 0.19, "ZAR": 0.056, "THB": 0.028, "MYR": 0.22,
    "IDR": 0.000066, "MXN": 0.05, "CLP": 0.0011, "MAD": 0.095, "EGP": 0.045, "BDT": 0.0096, "PKR": 0.0043,
    "JPY": 0.0071, "KRW": 0.00075, "HKD": 0.1275, "SGD": 0.72, "SCR": 0.075, "GBP": 1.19, "CHF": 1.05,
    "BZD": 0.5, "NGN": 0.0022, "KES": 0.0078, "COP": 0.00023,
}
PEGGED = {"USD", "AED", "HKD", "BZD"}
ADMIN_POOL = ["CA", "AU", "ES", "PL", "IE", "US"]
FOREIGN = ["CN", "VN", "IN", "TR", "AE", "BR", "ZA", "TH", "MY", "ID", "MX", "CL", "MA", "EG", "BD", "PK", "JP",
           "KR", "HK", "SG", "GB", "DE", "IT", "NL", "CH", "NG", "KE", "CO"]
SECRECY = ["VG", "SC", "PA", "BZ", "AE", "CY", "LB"]
# the cash reporting threshold of a filing country, in its currency (docs/typologies.md)
CASH_THRESHOLD = {"US": (10_000, "USD"), "ES": (10_000, "EUR"), "PL": (10_000, "EUR"), "IE": (10_000, "EUR"),
                  "CA": (10_000, "CAD"), "AU": (10_000, "AUD")}
# consignment value thresholds of an importing administration (docs/typologies.md)
CONSIGNMENT = {"US": [(800, "USD"), (2_500, "USD")], "ES": [(150, "EUR"), (1_000, "EUR")],
               "PL": [(150, "EUR"), (1_000, "EUR")], "IE": [(150, "EUR"), (1_000, "EUR")],
               "AU": [(1_000, "AUD")]}
PLACES = {"CA": ["Toronto Pearson", "Vancouver YVR", "Montreal Trudeau", "Port of Halifax"],
          "AU": ["Sydney Kingsford Smith", "Melbourne Tullamarine", "Perth Airport", "Port Botany"],
          "ES": ["Madrid-Barajas", "Barcelona El Prat", "Algeciras", "Malaga"],
          "PL": ["Warszawa Chopin", "Krakow Balice", "Terespol", "Gdansk"],
          "IE": ["Dublin Airport", "Rosslare", "Shannon", "Cork"],
          "US": ["JFK Terminal 4", "Miami International", "Laredo", "LAX Tom Bradley"]}
CHAPTERS = ["03", "07", "08", "09", "15", "20", "22", "27", "28", "29", "30", "33", "39", "40", "42", "44", "48",
            "52", "54", "61", "62", "64", "69", "70", "71", "72", "73", "76", "82", "84", "85", "87", "90", "94", "95"]
FORMS = {"CA": ["Inc.", "Ltd.", "Corp."], "AU": ["Pty Ltd", "Pty. Limited"], "ES": ["S.L.", "S.A."],
         "PL": ["Sp. z o.o.", "S.A."], "IE": ["Limited", "DAC"], "US": ["LLC", "Inc."], "GB": ["Ltd"],
         "DE": ["GmbH"], "CN": ["Co., Ltd."], "HK": ["Limited"], "VG": ["Ltd"], "SC": ["Ltd"], "PA": ["S.A."]}
SYL = ["ar", "bel", "cor", "dan", "el", "fa", "gor", "hal", "ion", "jun", "kal", "lum", "mor", "nex", "or",
       "pra", "qui", "ros", "sil", "tor", "ul", "ven", "wes", "xan", "yor", "zen", "tri", "sta", "mar", "lin"]
WORDS = ["Trading", "Import", "Export", "Global", "Industries", "Supply", "Logistics", "Holdings", "Commerce",
         "Distribution", "Merchants", "Partners", "Group", "Solutions", "Resources", ""]
FIRST = ["Ana", "Marek", "Li", "Omar", "Sofia", "Jan", "Priya", "Tom", "Aisha", "Kenji", "Lucia", "Pavel",
         "Grace", "Ivan", "Mei", "Carlos", "Fatima", "Noah", "Olga", "Ravi", "Sara", "Yusuf", "Elena", "Ben"]
LAST = ["Nowak", "Garcia", "Chen", "Smith", "Kowalski", "Haddad", "Murphy", "Tanaka", "Silva", "Patel",
        "Brown", "Lopez", "Kim", "Novak", "Okafor", "Rossi", "Dubois", "Ahmed", "Walsh", "Wong", "Costa"]
STREETS = ["Harbour Rd", "King St", "Calle Mayor", "ul. Prosta", "Main St", "Industrial Park Ave", "Quay St",
           "Avenida del Puerto", "Collins St", "Bay St", "Dock Rd", "Market Sq", "Station Rd", "Ring Rd"]


class World:
    """The records being drawn and the truth."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        r = self.r
        self.admins = r.sample(ADMIN_POOL, r.choice([2, 3, 3]))
        self.rows: dict[str, list[dict[str, Any]]] = {k: [] for k in (
            "traders", "persons", "officers", "carriers", "declarations", "accounts", "payments", "cash_reports")}
        self.truth: dict[str, list] = {"instances": [], "decoys": []}
        self.ids: set[str] = set()
        self.seq = 0
        self.trader: dict[str, dict] = {}
        self.accounts_of: dict[str, list[str]] = {}
        self.inv_seq: dict[str, int] = {}
        self.rates = self._rates()
        self.goods = self._goods()
        self.hs4_of = {}
        for hs6, g in self.goods.items():
            self.hs4_of.setdefault(hs6[:4], []).append(hs6)
        # per-world assumptions
        self.p_value_usd = r.uniform(0.2, 0.7)          # share of declarations giving value_usd
        self.p_missing = r.uniform(0.01, 0.05)           # missing optional fields
        self.p_round = r.uniform(0.05, 0.3)              # rounded invoice values
        self.cif = (r.uniform(1.01, 1.04), r.uniform(1.06, 1.14))   # CIF/FOB margin range

    # ---------------------------------------------------------------- basics
    def uid(self, make) -> str:
        while True:
            k = make()
            if k not in self.ids:
                self.ids.add(k)
                return k

    def day(self, lo: int = 0, hi: int = DAYS) -> date:
        return START + timedelta(days=self.r.randint(lo, hi))

    def _rates(self) -> dict[tuple[str, str], float]:
        out = {}
        for cur, base in BASE_RATE.items():
            v = base
            for m in range(36):    # 2022-01 .. 2024-12, beyond the world's dates on both sides
                month = f"{2022 + m // 12:04d}-{m % 12 + 1:02d}"
                out[(cur, month)] = v if cur not in PEGGED else base
                v *= math.exp(self.r.gauss(0, 0.018))
        return out

    def rate(self, cur: str, d: date) -> float:
        return self.rates[(cur, f"{d.year:04d}-{d.month:02d}")]

    def _goods(self) -> dict[str, dict]:
        r = self.r
        goods: dict[str, dict] = {}
        for ch in r.sample(CHAPTERS, 26):
            chapter_price = math.exp(r.uniform(math.log(0.4), math.log(120)))
            for _ in range(r.randint(1, 3)):
                hs4 = ch + f"{r.randint(1, 40):02d}"
                for _ in range(r.randint(1, 4)):
                    hs6 = hs4 + f"{r.choice([10, 11, 19, 20, 21, 29, 30, 39, 40, 90, 91, 99]):02d}"
                    goods[hs6] = {"price": chapter_price * math.exp(r.gauss(0, 0.8)), "sigma": r.uniform(0.2, 0.95),
                                  "desc": f"goods of heading {hs4}"}
        return goods

    def unit_price(self, hs6: str, z: float | None = None) -> float:
        g = self.goods[hs6]
        return g["price"] * math.exp(g["sigma"] * (self.r.gauss(0, 1) if z is None else z))

    # ---------------------------------------------------------------- entities
    def name(self) -> str:
        r = self.r
        base = "".join(r.choice(SYL) for _ in range(r.randint(2, 3))).capitalize()
        return f"{base} {r.choice(WORDS)}".strip()

    def address(self, cc: str) -> dict[str, str]:
        r = self.r
        return {"address": f"{r.randint(1, 990)} {r.choice(STREETS)}", "city": f"{cc}-city-{r.randint(1, 9)}",
                "postcode": f"{r.randint(1000, 99999)}"}

    def phone(self, cc: str) -> str:
        r, code = self.r, zlib.crc32(cc.encode()) % 90 + 10
        return self.uid(lambda: f"+{code} {r.randint(200, 999)} {r.randint(1000000, 9999999)}")

    def new_trader(self, cc: str, *, reg: date | None = None, addr: dict | None = None, phone: str | None = None,
                   employees: int | None = -1, name: str | None = None, accounts: int = 1,
                   bank_cc: str | None = None) -> str:
        r = self.r
        tid = self.uid(lambda: f"{cc}{r.randint(10**8, 10**9 - 1)}")
        nm = name or self.name()
        form = r.choice(FORMS.get(cc, ["Ltd", "Co."]))
        a = addr or self.address(cc)
        reg = reg or (START - timedelta(days=int(r.expovariate(1 / 2500)) + 30))
        emp = employees if employees != -1 else int(math.exp(r.gauss(2.3, 1.3)))
        row = {"trader_id": tid, "name": f"{nm} {form}", "country": cc, "tin": f"T{r.randint(10**9, 10**10)}",
               "registration_date": reg.isoformat(), **a, "phone": phone or self.phone(cc),
               "email": f"office@{nm.split()[0].lower()}{r.randint(1, 999)}.example", "legal_form": form,
               "employees": "" if emp is None else emp, "activity_code": f"{r.randint(1000, 9999)}"}
        if r.random() < self.p_missing:
            row["phone"] = ""
        self.rows["traders"].append(row)
        self.trader[tid] = row
        for _ in range(accounts):
            self.new_account(tid, bank_cc or cc, opened=reg)
        return tid

    def new_person(self, cc: str, addr: dict | None = None, account: bool = False) -> str:
        r = self.r
        pid = self.uid(lambda: f"NP{r.randint(0, 16**7):07x}")
        a = addr or self.address(cc)
        self.rows["persons"].append({
            "person_id": pid, "name": f"{r.choice(FIRST)} {r.choice(LAST)}",
            "birth_date": date(r.randint(1950, 2001), r.randint(1, 12), r.randint(1, 28)).isoformat(),
            "nationality": cc, "passport_no": f"{cc}{r.randint(10**6, 10**8)}",
            "address": f"{a['address']}, {a['city']}", "phone": self.phone(cc) if r.random() < 0.7 else "",
            "email": ""})
        if account:
            self.new_account(pid, cc)
        return pid

    def officer(self, who: str, company: str, role: str, share: float | None = None, start: date | None = None):
        self.rows["officers"].append({"officer_id": who, "company_id": company, "role": role,
                                      "share_pct": "" if share is None else round(share, 1),
                                      "start_date": (start or START - timedelta(days=800)).isoformat(),
                                      "end_date": ""})

    def new_account(self, holder: str, cc: str, opened: date | None = None) -> str:
        r = self.r
        bank = r.choice(["NORDA", "PACIF", "CENTR", "UNITY", "ATLAS", "MERID", "SOLAR"])
        if cc in ("ES", "PL", "IE", "DE", "IT", "NL", "CY", "GB"):
            bban = {"ES": lambda: f"{r.randint(10**19, 10**20 - 1)}",
                    "PL": lambda: f"{r.randint(10**23, 10**24 - 1)}",
                    "DE": lambda: f"{r.randint(10**17, 10**18 - 1)}",
                    "NL": lambda: "ABNA" + f"{r.randint(10**9, 10**10 - 1)}",
                    "IT": lambda: "X" + f"{r.randint(10**21, 10**22 - 1)}",
                    "CY": lambda: f"{r.randint(10**7, 10**8 - 1)}{r.randint(10**15, 10**16 - 1)}",
                    "IE": lambda: bank[:4] + f"{r.randint(10**13, 10**14 - 1)}",
                    "GB": lambda: bank[:4] + f"{r.randint(10**13, 10**14 - 1)}"}[cc]
            acc = self.uid(lambda: _iban(cc, bban()))
        else:
            acc = self.uid(lambda: f"{cc}-{r.randint(100, 999)}-{r.randint(10**6, 10**9)}")
        self.rows["accounts"].append({"account_id": acc, "holder_id": holder, "bank_name": f"{bank.title()} Bank",
                                      "bic": f"{bank[:4]}{cc}{r.choice(['2X', '22', 'XX'])}", "bank_country": cc,
                                      "opened_date": (opened or START - timedelta(days=r.randint(30, 3000)))
                                      .isoformat()})
        self.accounts_of.setdefault(holder, []).append(acc)
        return acc

    def acct(self, holder: str) -> str:
        return self.accounts_of[holder][0]

    def new_carrier(self, cc: str, kind: str, name: str | None = None, addr: dict | None = None,
                    phone: str | None = None) -> str:
        r = self.r
        cid = self.uid(lambda: f"K{cc}{r.randint(1000, 99999)}")
        a = addr or self.address(cc)
        self.rows["carriers"].append({"carrier_id": cid, "name": name or f"{self.name()} {kind.title()}",
                                      "country": cc, "carrier_type": kind,
                                      "address": f"{a['address']}, {a['city']}", "phone": phone or self.phone(cc),
                                      "tin": f"C{r.randint(10**8, 10**9)}"})
        return cid

    # ---------------------------------------------------------------- records
    def invoice_no(self, exporter: str) -> str:
        r = self.r
        if exporter not in self.inv_seq:   # per-exporter schemes; small starts collide across exporters
            self.inv_seq[exporter] = r.choice([1, 1, 100, r.randint(1, 90000)])
        n = self.inv_seq[exporter]
        self.inv_seq[exporter] += r.randint(1, 3)
        scheme = zlib.crc32(exporter.encode()) % 4
        return [f"INV-{n:05d}", f"{n}", f"F{START.year}/{n}", f"PI{n:06d}"][scheme]

    def decl_id(self, admin: str, d: date) -> str:
        r = self.r
        if admin in ("ES", "PL", "IE"):
            return self.uid(lambda: f"{d.year % 100:02d}{admin}"
                            + "".join(r.choice(string.ascii_uppercase + string.digits) for _ in range(13))
                            + str(r.randint(0, 9)))
        if admin == "CA":
            return self.uid(lambda: f"{r.randint(10000, 99999)}{r.randint(10**8, 10**9 - 1)}")
        if admin == "AU":
            return self.uid(lambda: f"AEG{r.randint(10**8, 10**9 - 1)}")
        return self.uid(lambda: f"{r.choice('ABCDEFGHJK')}{r.randint(10, 99)}-{r.randint(10**6, 10**7 - 1)}"
                        f"-{r.randint(0, 9)}")

    def ship(self, exp: str, imp: str, hs6: str, mass: float, usd: float, d: date, *,
             sides: tuple[str, ...] | None = None, dispatch: str | None = None, origin: str | None = None,
             import_factor: float | None = None, import_mass_factor: float = 1.0, carrier: str | None = None,
             conveyance: str | None = None, containers: str | None = None, currency: str | None = None,
             mode: str | None = None, lag: int | None = None, items: int = 1) -> dict[str, Any]:
        """One shipment from ``exp`` to ``imp``: its export and/or import declarations by the
        administrations that hold them. Returns keys and the invoice number."""
        r = self.r
        ec, ic = self.trader[exp]["country"], self.trader[imp]["country"]
        if sides is None:
            sides = tuple(s for s, c in (("EXPORT", ec), ("IMPORT", ic)) if c in self.admins)
        inv = self.invoice_no(exp)
        cur = currency or r.choices([CURRENCY.get(ec, "USD"), "USD", "EUR"], [0.4, 0.45, 0.15])[0]
        if carrier is None:
            carrier, conveyance, containers, mode = self.pick_carrier(exp, imp, mass)
        doc = f"{r.choice(['MAEU', 'BL', 'AWB', 'CMR'])}{r.randint(10**7, 10**9)}"
        out: dict[str, Any] = {"invoice_no": inv, "keys": {}, "ids": {}}
        for side in sides:
            admin = ec if side == "EXPORT" else ic
            dd = d if side == "EXPORT" else d + timedelta(days=lag if lag is not None else r.randint(3, 35))
            if side == "IMPORT" and "EXPORT" not in sides:
                dd = d
            factor = (import_factor if import_factor is not None else r.uniform(*self.cif)) if side == "IMPORT" else 1.0
            m = mass * (import_mass_factor if side == "IMPORT" else 1.0)
            did = self.decl_id(admin, dd)
            for it in range(1, items + 1):
                share = 1.0 / items
                v_usd = usd * factor * share
                val = v_usd / self.rate(cur, dd)
                if r.random() < self.p_round:
                    val = round(val, -2) if val > 500 else round(val)
                row = {"declaration_id": did, "item_no": it, "flow": side, "reporting_country": admin,
                       "date": dd.isoformat(), "exporter_id": exp, "exporter_name": self.trader[exp]["name"],
                       "exporter_country": ec, "importer_id": imp, "importer_name": self.trader[imp]["name"],
                       "importer_country": ic, "declarant_id": "",
                       "hs_code": hs6 + r.choice(["", "", "00", "0090", "10"]), "description": self.goods[hs6]["desc"],
                       "origin_country": origin or ec, "dispatch_country": dispatch or ec, "destination_country": ic,
                       "quantity": round(m * share, 1), "quantity_unit": "KGM", "net_mass_kg": round(m * share, 1),
                       "invoice_value": round(max(val, 0.01), 2), "currency": cur,
                       "value_usd": round(v_usd, 2) if r.random() < self.p_value_usd else "",
                       "transport_mode": mode, "carrier_id": carrier, "carrier_name": "",
                       "conveyance_id": conveyance or "", "container_ids": containers or "", "transport_doc_no": doc,
                       "invoice_no": inv, "office": f"{admin}{r.randint(100, 140)}"}
                if r.random() < self.p_missing:
                    row[r.choice(["net_mass_kg", "origin_country", "conveyance_id", "transport_doc_no"])] = ""
                self.rows["declarations"].append(row)
                out["keys"].setdefault(side, []).append(f"{did}/{it}")
            out["ids"][side] = did
            out["date_" + side] = dd
        out["usd"] = usd
        out["currency"] = cur
        return out

    def pay(self, src: str, dst: str, usd: float, d: date, *, currency: str | None = None, inv: str = "",
            decl: str = "", ref: str = "") -> None:
        r = self.r
        cur = currency or "USD"
        amt = usd / self.rate(cur, d)
        self.rows["payments"].append({
            "payment_id": self.uid(lambda: f"PMT{r.randint(16**9, 16**10):x}".upper()), "date": d.isoformat(),
            "from_account": src, "to_account": dst, "amount": round(max(amt, 0.01), 2), "currency": cur,
            "reference": ref or (f"inv {inv}" if inv else ""), "invoice_no": inv, "declaration_id": decl})

    def settle(self, payer_acc: str, exp: str, s: dict, *, delay: tuple[int, int] = (-10, 60),
               parts: int | None = None, fee: float = 0.0) -> None:
        """Pay a shipment: by invoice number or by declaration id, in one or more parts."""
        r = self.r
        d0 = s.get("date_IMPORT") or s.get("date_EXPORT")
        parts = parts or r.choices([1, 2, 3], [0.75, 0.2, 0.05])[0]
        by_decl = r.random() < 0.3 and "IMPORT" in s["ids"]
        for p in range(parts):
            self.pay(payer_acc, self.acct(exp), s["usd"] * (1 - fee) / parts,
                     min(d0 + timedelta(days=r.randint(*delay) + 20 * p), START + timedelta(days=DAYS + 60)),
                     currency=s["currency"], inv="" if by_decl else s["invoice_no"],
                     decl=s["ids"]["IMPORT"] if by_decl else "")

    def pick_carrier(self, exp: str, imp: str, mass: float) -> tuple[str, str, str, str]:
        r = self.r
        if r.random() < 0.55:
            line = r.choice(self.lines)
            kind = self.carrier_kind[line]
            conv = r.choice(self.vessels[line])
            cont = ";".join(self.container(line) for _ in range(r.randint(1, 3))) if kind == "SEA" else ""
            return line, conv, cont, kind
        fw = r.choice(self.pref.setdefault(exp, r.sample(self.forwarders, 2)))
        # a forwarder's own vehicles: plates are not shared by chance between unrelated carriers
        return fw, f"{fw[1:3]}-{fw[3:]}-{r.randint(1, 30):02d}", self.container(fw) if r.random() < 0.3 else "", "ROAD"

    def container(self, owner: str) -> str:
        r = self.r
        return f"{r.choice(['MSCU', 'TGHU', 'CMAU', 'HLXU', 'BMOU', 'SEGU'])}{r.randint(10**6, 10**7 - 1)}"

    # ---------------------------------------------------------------- truth
    def instance(self, family: str, kind: str, entities: list[tuple[str, str]], note: str) -> None:
        self.truth["instances"].append({"family": family, "kind": kind, "note": note,
                                        "entities": [{"label": lab, "id": i} for lab, i in entities]})

    def decoy(self, family: str, kind: str, entities: list[tuple[str, str]], note: str) -> None:
        self.truth["decoys"].append({"family": family, "kind": kind, "note": note,
                                     "entities": [{"label": lab, "id": i} for lab, i in entities]})


def _iban(cc: str, bban: str) -> str:
    digits = "".join(str(int(c, 36)) for c in (bban + cc + "00"))
    return f"{cc}{98 - int(digits) % 97:02d}{bban}"


# ==================================================================== background
def background(w: World) -> None:
    r = w.r
    # carriers: a few global lines used by everyone, many forwarders
    w.lines, w.carrier_kind, w.vessels = [], {}, {}
    for nm, kind in [("Oceanic Star Line", "SEA"), ("Trans-Pacific Container", "SEA"),
                     ("Blue Meridian Shipping", "SEA"), ("Skyward Cargo", "AIR"),
                     ("Swift Parcel Express", "EXPRESS"), ("GlobePost Courier", "EXPRESS")]:
        cid = w.new_carrier(r.choice(["CH", "DE", "SG", "HK", "US"]), kind, name=nm)
        w.lines.append(cid)
        w.carrier_kind[cid] = kind
        w.vessels[cid] = [f"IMO{r.randint(9000000, 9999999)}" if kind == "SEA" else f"FL{r.randint(100, 9999)}"
                          for _ in range(r.randint(4, 10))]
    w.forwarders = [w.new_carrier(r.choice(w.admins + FOREIGN), r.choice(["FORWARDER", "FORWARDER", "ROAD"]))
                    for _ in range(r.randint(30, 55))]
    w.pref = {}
    # business centres: many companies at one address (formation agents, serviced offices)
    w.centres = {}
    for cc in sorted(set(w.admins + SECRECY + ["HK", "SG", "GB"])):
        a = {"address": f"{r.randint(1, 99)} {r.choice(['Commerce Plaza', 'Business Centre', 'Trust House', 'Tower'])}",
             "city": f"{cc}-city-1", "postcode": f"{r.randint(1000, 99999)}"}
        w.centres[cc] = a
        for _ in range(r.randint(6, 14) if cc in SECRECY else r.randint(3, 8)):
            w.new_trader(cc, addr=a, employees=r.choice([0, 1, 2, None]))
    # nominee directors: professional directors of many dormant companies
    w.nominees = []
    for cc in SECRECY[:4]:
        p = w.new_person(r.choice(["GB", "CY", "PA"]))
        w.nominees.append(p)
        for t in [t for t in list(w.trader) if w.trader[t]["country"] == cc][:12]:
            w.officer(p, t, "DIRECTOR")
    # trading companies
    w.home = {cc: [w.new_trader(cc, accounts=r.choice([1, 1, 2])) for _ in range(r.randint(70, 110))]
              for cc in w.admins}
    w.foreign = [w.new_trader(r.choice(FOREIGN)) for _ in range(r.randint(220, 320))]
    for t in [t for ts in w.home.values() for t in ts] + w.foreign:   # directors, some shared (groups)
        p = w.new_person(w.trader[t]["country"])
        w.officer(p, t, r.choice(["DIRECTOR", "OWNER"]), share=r.choice([None, 100.0, 51.0]))
    w.spec = {t: r.sample(list(w.hs4_of), r.randint(1, 3)) for ts in w.home.values() for t in ts}
    w.spec.update({t: r.sample(list(w.hs4_of), r.randint(1, 4)) for t in w.foreign})
    all_home = [t for ts in w.home.values() for t in ts]
    # a busy-ness per trader: long-tailed
    weight = {t: math.exp(r.gauss(0, 1.1)) for t in all_home + w.foreign}
    n_ship = r.randint(2600, 3600)
    home_w = [weight[t] for t in all_home]
    for_w = [weight[t] for t in w.foreign]
    for _ in range(n_ship):
        home = r.choices(all_home, home_w)[0]
        if r.random() < 0.22 and len(w.admins) > 1:      # trade between two administrations: both sides
            other = r.choice([t for t in all_home if w.trader[t]["country"] != w.trader[home]["country"]][:200])
        else:
            other = r.choices(w.foreign, for_w)[0]
        exp, imp = (home, other) if r.random() < 0.4 else (other, home)
        hs4 = r.choice(w.spec[exp])
        hs6 = r.choice(w.hs4_of[hs4])
        mass = min(math.exp(r.gauss(math.log(1500), 1.5)), 400_000)
        usd = mass * w.unit_price(hs6)
        s = w.ship(exp, imp, hs6, mass, usd, w.day(0, DAYS - 40), items=r.choices([1, 2, 3], [0.8, 0.15, 0.05])[0])
        if r.random() < 0.88:
            w.settle(w.acct(imp), exp, s)
    # low-value e-commerce parcels from a few big online sellers
    sellers = [w.new_trader(r.choice(["CN", "HK", "GB", "US"]), employees=r.randint(200, 3000))
               for _ in range(r.randint(3, 6))]
    small = {cc: [w.new_trader(cc, employees=r.randint(1, 4)) for _ in range(r.randint(40, 70))]
             for cc in w.admins}
    w.sellers, w.small = sellers, small
    for _ in range(r.randint(400, 700)):
        cc = r.choice(w.admins)
        sel, imp = r.choice(sellers), r.choice(small[cc])
        hs6 = r.choice(list(w.goods))
        usd = math.exp(r.gauss(math.log(350), 1.0))
        mass = usd / w.unit_price(hs6)
        line = r.choice([c for c in w.lines if w.carrier_kind[c] == "EXPRESS"])
        w.ship(sel, imp, hs6, mass, usd, w.day(), sides=("IMPORT",), carrier=line, mode="EXPRESS")
    # payroll: employer -> payroll account -> employees, monthly
    w.payroll = []
    for t in r.sample(all_home, r.randint(6, 10)):
        cc = w.trader[t]["country"]
        pay_acc = w.new_account(t, cc)
        staff = [w.new_person(cc, account=True) for _ in range(r.randint(6, 16))]
        w.payroll.append((t, pay_acc))
        for m in range(DAYS // 30):
            d = START + timedelta(days=30 * m + 25)
            sal = {p: r.uniform(2200, 6500) for p in staff}
            w.pay(w.acct(t), pay_acc, sum(sal.values()) * 1.02, d, currency=CURRENCY[cc], ref="payroll funding")
            for p, v in sal.items():
                w.pay(pay_acc, w.acct(p), v, d + timedelta(days=r.randint(0, 2)), currency=CURRENCY[cc], ref="salary")
    # busy merchants: many card/customer payments in, a few suppliers paid monthly
    w.merchants = []
    for _ in range(r.randint(2, 4)):
        cc = r.choice(w.admins)
        m = w.new_trader(cc, employees=r.randint(8, 60))
        w.merchants.append(m)
        customers = [w.new_person(cc, account=True) for _ in range(r.randint(25, 45))]
        sups = r.sample(all_home, 3)
        for _ in range(r.randint(150, 260)):
            w.pay(w.acct(r.choice(customers)), w.acct(m), math.exp(r.gauss(math.log(120), 0.9)), w.day(),
                  currency=CURRENCY[cc], ref="card settlement")
        for mo in range(DAYS // 30):
            for s in sups:
                w.pay(w.acct(m), w.acct(s), r.uniform(1500, 5000), START + timedelta(days=30 * mo + 28),
                      currency=CURRENCY[cc], ref="supplies")
    # rent and utilities: many tenants pay a landlord; landlord pays a maintenance firm
    for cc in w.admins:
        landlord = w.new_trader(cc, employees=r.randint(3, 20))
        tenants = r.sample(w.home[cc], min(15, len(w.home[cc])))
        for mo in range(0, DAYS // 30, 1):
            for t in r.sample(tenants, len(tenants) // 2):
                w.pay(w.acct(t), w.acct(landlord), r.uniform(800, 4000),
                      START + timedelta(days=30 * mo + r.randint(0, 5)), currency=CURRENCY[cc], ref="rent")
    # ordinary cash reports: travellers, mostly below the threshold, some above; business deposits
    travellers = [w.new_person(r.choice(w.admins + FOREIGN)) for _ in range(r.randint(120, 220))]
    for _ in range(r.randint(250, 450)):
        cc = r.choice(w.admins)
        thr, tcur = CASH_THRESHOLD[cc]
        cur = r.choice([CURRENCY[cc], CURRENCY[cc], "USD", "EUR"])
        usd_thr = thr * w.rate(tcur, START)
        amount_usd = math.exp(r.gauss(math.log(usd_thr * 0.35), 0.8))
        w.cash(r.choice(travellers), cc, amount_usd, w.day(), cur, rtype="BORDER")
    for _ in range(r.randint(60, 140)):
        cc = r.choice(w.admins)
        t = r.choice(w.home[cc])
        thr, tcur = CASH_THRESHOLD[cc]
        amount_usd = thr * w.rate(tcur, START) * r.uniform(1.05, 4.0)
        w.cash(None, cc, amount_usd, w.day(), CURRENCY[cc], rtype="CTR", trader=t, account=w.acct(t))


def _cash(self: World, person: str | None, cc: str, usd: float, d: date, cur: str, *, rtype: str = "BORDER",
          trader: str = "", account: str = "", direction: str | None = None) -> None:
    r = self.r
    direction = direction or r.choice(["IN", "OUT"])
    other = r.choice(FOREIGN)
    place = r.choice(PLACES[cc])
    # most locations end with the country; some name only the place (the direction says the country)
    loc = f"{place}, {cc}" if r.random() < 0.85 else place
    self.rows["cash_reports"].append({
        "report_id": self.uid(lambda: f"{cc}-{rtype[0]}{r.randint(10**6, 10**8)}"), "report_type": rtype,
        "date": d.isoformat(), "amount": round(usd / self.rate(cur, d), 2), "currency": cur,
        "person_id": person or "", "person_name": "", "trader_id": trader, "account_id": account,
        "direction": direction if rtype == "BORDER" else "",
        "location": loc, "origin_country": other if direction == "IN" else cc,
        "destination_country": cc if direction == "IN" else other, "narrative": ""})


World.cash = _cash  # type: ignore[attr-defined]


def threshold_usd(w: World, cc: str, d: date) -> float:
    thr, cur = CASH_THRESHOLD[cc]
    return thr * w.rate(cur, d)


# ==================================================================== writing
COLUMNS = {
    "traders": ["trader_id", "name", "country", "tin", "registration_date", "address", "city", "postcode", "phone",
                "email", "legal_form", "employees", "activity_code"],
    "persons": ["person_id", "name", "birth_date", "nationality", "passport_no", "address", "phone", "email"],
    "officers": ["officer_id", "company_id", "role", "share_pct", "start_date", "end_date"],
    "carriers": ["carrier_id", "name", "country", "carrier_type", "address", "phone", "tin"],
    "declarations": ["declaration_id", "item_no", "flow", "reporting_country", "date", "exporter_id", "exporter_name",
                     "exporter_country", "importer_id", "importer_name", "importer_country", "declarant_id",
                     "hs_code", "description", "origin_country", "dispatch_country", "destination_country",
                     "quantity", "quantity_unit", "net_mass_kg", "invoice_value", "currency", "value_usd",
                     "transport_mode", "carrier_id", "carrier_name", "conveyance_id", "container_ids",
                     "transport_doc_no", "invoice_no", "office"],
    "accounts": ["account_id", "holder_id", "bank_name", "bic", "bank_country", "opened_date"],
    "payments": ["payment_id", "date", "from_account", "to_account", "amount", "currency", "reference",
                 "invoice_no", "declaration_id"],
    "cash_reports": ["report_id", "report_type", "date", "amount", "currency", "person_id", "person_name",
                     "trader_id", "account_id", "direction", "location", "origin_country", "destination_country",
                     "narrative"],
}


def _write(path: Path, cols: list[str], rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        wr = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        wr.writeheader()
        for row in rows:
            wr.writerow({c: ("" if row.get(c) is None else row.get(c)) for c in cols})


def generate_blind_world(out: str | Path, seed: int) -> dict[str, Any]:
    """Draw a world for ``seed`` into the folder ``out``; returns a summary (counts, admins)."""
    from benchmarks.blind import plants

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    w = World(seed)
    background(w)
    for plant in plants.ALL:
        plant(w)
    r = w.r
    # noise: late filings (a few declarations dated weeks after arrival), shuffled row order
    for row in r.sample(w.rows["declarations"], len(w.rows["declarations"]) // 50):
        d = date.fromisoformat(row["date"]) + timedelta(days=r.randint(15, 60))
        row["date"] = d.isoformat()
    for k in ("declarations", "payments", "cash_reports", "traders", "accounts"):
        r.shuffle(w.rows[k])
    for kind, cols in COLUMNS.items():
        _write(out / f"{kind}.csv", cols, w.rows[kind])
    rates = [{"currency": c, "month": m, "usd_per_unit": f"{v:.8g}"} for (c, m), v in sorted(w.rates.items())]
    _write(out / "rates.csv", ["currency", "month", "usd_per_unit"], rates)
    (out / "truth.json").write_text(json.dumps({"seed": seed, "admins": w.admins, **w.truth}, indent=1),
                                    encoding="utf-8")
    return {"seed": seed, "admins": w.admins, **{k: len(v) for k, v in w.rows.items()},
            "instances": len(w.truth["instances"]), "decoys": len(w.truth["decoys"])}


if __name__ == "__main__":   # python -m benchmarks.blind.blind_world OUT SEED
    import sys

    print(generate_blind_world(sys.argv[1], int(sys.argv[2])))

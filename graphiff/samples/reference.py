"""Reference data of the synthetic world: countries, currencies and their monthly rates, the
HS catalogue with reference prices, and the calendar.

Everything here is either constant or drawn from one random generator, so a seed gives the
same world. Prices are USD per kg; a heading's subheadings get their own reference price
around the heading's.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: first day of the declared period; background dates are day numbers from here
START = np.datetime64("2024-01-01", "D")
DAYS = 731  # 2024-01-01 .. 2025-12-31
#: rates cover these months (import declarations and payments may fall after the period)
FIRST_MONTH = np.datetime64("2023-12", "M")
N_MONTHS = 28  # 2023-12 .. 2026-03

# code: (currency, dialling code, IBAN BBAN spec or None, cities, background weight)
COUNTRIES: dict[str, tuple[str, str, str | None, tuple[str, ...], float]] = {
    "KE": ("KES", "254", None, ("Nairobi", "Mombasa", "Kisumu", "Nakuru", "Eldoret"), 0.15),
    "UG": ("UGX", "256", None, ("Kampala", "Entebbe", "Jinja", "Mbarara"), 0.08),
    "TZ": ("TZS", "255", None, ("Dar es Salaam", "Arusha", "Mwanza", "Dodoma"), 0.08),
    "RW": ("RWF", "250", None, ("Kigali", "Huye"), 0.03),
    "ET": ("ETB", "251", None, ("Addis Ababa", "Dire Dawa"), 0.03),
    "CN": ("CNY", "86", None, ("Shanghai", "Shenzhen", "Guangzhou", "Ningbo", "Yiwu"), 0.12),
    "IN": ("INR", "91", None, ("Mumbai", "Chennai", "New Delhi", "Ahmedabad"), 0.08),
    "AE": ("AED", "971", "3n16n", ("Dubai", "Abu Dhabi", "Sharjah"), 0.06),
    "DE": ("EUR", "49", "8n10n", ("Hamburg", "Bremen", "Frankfurt", "Munich"), 0.05),
    "NL": ("EUR", "31", "4a10n", ("Rotterdam", "Amsterdam"), 0.04),
    "GB": ("GBP", "44", "4a6n8n", ("London", "Manchester", "Felixstowe"), 0.04),
    "US": ("USD", "1", None, ("New York", "Houston", "Los Angeles"), 0.04),
    "KR": ("KRW", "82", None, ("Busan", "Seoul", "Incheon"), 0.03),
    "JP": ("JPY", "81", None, ("Tokyo", "Yokohama", "Osaka"), 0.03),
    "ZA": ("ZAR", "27", None, ("Durban", "Johannesburg", "Cape Town"), 0.04),
    "CH": ("CHF", "41", "5n12n", ("Zurich", "Geneva", "Basel"), 0.02),
    "BE": ("EUR", "32", "3n7n2n", ("Antwerp", "Brussels"), 0.02),
    "SG": ("SGD", "65", None, ("Singapore",), 0.02),
    "HK": ("HKD", "852", None, ("Hong Kong",), 0.02),
    "PL": ("PLN", "48", "8n16n", ("Gdansk", "Warsaw"), 0.01),
    "MU": ("MUR", "230", "4a2n2n12n3n+MUR", ("Port Louis",), 0.01),
    # secrecy jurisdictions used by planted shells and third-party payers (no background weight)
    "VG": ("USD", "1284", "4a16n", ("Road Town",), 0.0),
    "SC": ("SCR", "248", "4a2n2n16n+SCR", ("Victoria",), 0.0),
    "PA": ("USD", "507", None, ("Panama City",), 0.0),
    "BZ": ("BZD", "501", None, ("Belize City",), 0.0),
}
EAC = ("KE", "UG", "TZ", "RW")
SECRECY = ("AE", "VG", "SC", "PA", "BZ", "MU")

#: USD per unit at the start of the period
BASE_RATES = {
    "USD": 1.0, "EUR": 1.09, "GBP": 1.27, "CNY": 0.139, "KES": 0.0064, "UGX": 0.00026, "TZS": 0.0004,
    "RWF": 0.00079, "ETB": 0.0178, "INR": 0.012, "AED": 0.2723, "KRW": 0.00076, "JPY": 0.0069,
    "ZAR": 0.054, "CHF": 1.16, "SGD": 0.75, "HKD": 0.128, "PLN": 0.25, "MUR": 0.022, "SCR": 0.073,
    "BZD": 0.5,
}
PEGGED = {"USD", "AED", "HKD", "BZD"}
CURRENCIES = tuple(BASE_RATES)
CUR_INDEX = {c: i for i, c in enumerate(CURRENCIES)}

# HS headings: (hs4, description, tier, USD per kg, unit weight kg for "U" goods or None, subheadings)
_HEADINGS: list[tuple[str, str, int, float, float | None, tuple[str, ...]]] = [
    ("0901", "Coffee", 0, 4.5, None, ("11", "12", "21")),
    ("0902", "Tea", 0, 3.0, None, ("10", "30", "40")),
    ("1006", "Rice", 0, 0.6, None, ("10", "20", "30")),
    ("1001", "Wheat and meslin", 0, 0.3, None, ("19", "99")),
    ("0803", "Bananas", 0, 0.8, None, ("10", "90")),
    ("0603", "Cut flowers", 0, 6.0, None, ("11", "12", "19")),
    ("1801", "Cocoa beans", 0, 3.2, None, ("00",)),
    ("2401", "Unmanufactured tobacco", 0, 5.0, None, ("10", "20")),
    ("5201", "Cotton, not carded or combed", 0, 1.8, None, ("00",)),
    ("4403", "Wood in the rough", 0, 0.4, None, ("11", "49", "99")),
    ("2601", "Iron ores", 0, 0.12, None, ("11", "12")),
    ("2603", "Copper ores", 0, 2.0, None, ("00",)),
    ("2709", "Crude petroleum oils", 0, 0.55, None, ("00",)),
    ("7108", "Gold, unwrought", 0, 62000.0, None, ("12", "13")),
    ("0306", "Crustaceans", 0, 12.0, None, ("16", "17")),
    ("0302", "Fish, fresh or chilled", 0, 4.0, None, ("13", "71", "89")),
    ("1511", "Palm oil", 0, 1.0, None, ("10", "90")),
    ("1701", "Cane sugar", 0, 0.5, None, ("13", "14", "99")),
    ("0805", "Citrus fruit", 0, 0.9, None, ("10", "21", "50")),
    ("0804", "Avocados, mangoes", 0, 1.5, None, ("40", "50")),
    ("1207", "Oil seeds", 0, 0.9, None, ("40", "99")),
    ("4101", "Raw hides of bovine animals", 0, 1.2, None, ("20", "50")),
    ("2523", "Portland cement", 0, 0.1, None, ("21", "29")),
    ("3102", "Nitrogenous fertilisers", 0, 0.4, None, ("10", "30", "40")),
    ("7208", "Flat-rolled iron, hot-rolled", 1, 0.8, None, ("10", "25", "39")),
    ("7210", "Flat-rolled iron, coated", 1, 1.0, None, ("49", "70")),
    ("7601", "Unwrought aluminium", 1, 2.5, None, ("10", "20")),
    ("7403", "Refined copper cathodes", 1, 9.0, None, ("11", "19")),
    ("3901", "Polyethylene", 1, 1.3, None, ("10", "20", "40")),
    ("3902", "Polypropylene", 1, 1.3, None, ("10", "30")),
    ("5205", "Cotton yarn", 1, 3.5, None, ("11", "12", "22")),
    ("5208", "Woven cotton fabrics", 1, 7.0, None, ("11", "32", "52")),
    ("4804", "Kraft paper", 1, 0.9, None, ("11", "21", "39")),
    ("2710", "Petroleum oils, not crude", 1, 0.9, None, ("12", "19")),
    ("2815", "Sodium hydroxide", 1, 0.5, None, ("11", "12")),
    ("3904", "Polyvinyl chloride", 1, 1.1, None, ("10", "21")),
    ("7019", "Glass fibres", 1, 2.0, None, ("11", "39", "90")),
    ("4407", "Sawn wood", 1, 0.7, None, ("11", "29", "99")),
    ("1507", "Soya-bean oil", 1, 1.2, None, ("10", "90")),
    ("3808", "Insecticides and herbicides", 1, 8.0, None, ("91", "93", "94")),
    ("2836", "Carbonates", 1, 0.6, None, ("20", "30")),
    ("5509", "Yarn of synthetic staple fibres", 1, 3.0, None, ("21", "22", "53")),
    ("8207", "Interchangeable tools", 1, 20.0, None, ("13", "19", "50")),
    ("4011", "New pneumatic tyres", 1, 4.0, 12.0, ("10", "20", "70")),
    ("8517", "Telephone sets and smartphones", 2, 1400.0, 0.3, ("12", "13", "62")),
    ("8471", "Computers", 2, 150.0, 2.5, ("30", "41", "50")),
    ("8528", "Monitors and television receivers", 2, 25.0, 12.0, ("52", "72")),
    ("8703", "Motor cars", 2, 12.0, 1300.0, ("22", "23", "24")),
    ("8704", "Goods vehicles", 2, 8.0, 3500.0, ("21", "22")),
    ("8429", "Bulldozers and excavators", 2, 9.0, 15000.0, ("11", "52")),
    ("3004", "Medicaments in doses", 2, 60.0, None, ("10", "20", "90")),
    ("3304", "Beauty preparations", 2, 15.0, None, ("10", "99")),
    ("6203", "Men's suits, trousers", 2, 25.0, 0.6, ("42", "43", "32")),
    ("6109", "T-shirts", 2, 20.0, 0.2, ("10", "90")),
    ("6403", "Footwear, leather uppers", 2, 30.0, 1.0, ("59", "91", "99")),
    ("9403", "Furniture", 2, 4.0, None, ("20", "60", "70")),
    ("8418", "Refrigerators", 2, 6.0, 60.0, ("10", "21")),
    ("8516", "Water heaters", 2, 10.0, 15.0, ("10", "60")),
    ("2203", "Beer made from malt", 2, 1.2, None, ("00",)),
    ("2208", "Spirits", 2, 8.0, None, ("30", "60")),
    ("8544", "Insulated cables", 2, 10.0, None, ("42", "49")),
    ("8701", "Tractors", 2, 7.0, 4000.0, ("91", "92", "93")),
    ("3923", "Plastic packaging", 2, 3.0, None, ("10", "21", "30")),
    ("9018", "Medical instruments", 2, 80.0, None, ("31", "39", "90")),
    ("8415", "Air conditioning machines", 2, 8.0, 40.0, ("10", "82")),
    ("6110", "Jerseys and sweaters", 2, 25.0, 0.4, ("20", "30")),
    ("4202", "Handbags and cases", 2, 40.0, 0.8, ("21", "22", "92")),
    ("8443", "Printers", 2, 30.0, 8.0, ("31", "32")),
    ("8711", "Motorcycles", 2, 5.0, 120.0, ("20", "30")),
]
#: HS codes used only by planted rarities (valuation decoys): not in the background catalogue
RARE = [("970110", "Paintings, drawings", 2500.0), ("710391", "Rubies, sapphires and emeralds", 40000.0)]


@dataclass
class Catalog:
    """The HS6 catalogue: parallel arrays indexed by catalogue position."""

    hs6: np.ndarray          # str
    description: np.ndarray  # str
    tier: np.ndarray         # int: tier of the traders that export it
    price: np.ndarray        # reference USD per kg
    unit: np.ndarray         # "KG" or "U"
    unit_kg: np.ndarray      # kg per unit (nan for KG goods)

    def index(self, hs6: str) -> int:
        return int(np.flatnonzero(self.hs6 == hs6)[0])

    def by_tier(self, tier: int) -> np.ndarray:
        return np.flatnonzero(self.tier == tier)


def make_catalog(rng: np.random.Generator) -> Catalog:
    rows = []
    for hs4, desc, tier, price, unit_kg, subs in _HEADINGS:
        for s in subs:
            p = price if hs4 in ("7108",) else price * float(np.exp(rng.normal(0.0, 0.35)))
            rows.append((hs4 + s, desc, tier, float(f"{p:.6g}"), "U" if unit_kg else "KG", unit_kg or np.nan))
    for code, desc, price in RARE:  # tier 9: never exported by background traders
        rows.append((code, desc, 9, price, "KG", np.nan))
    hs6s, descs, tiers, prices, units, ukgs = zip(*rows)
    return Catalog(np.array(hs6s), np.array(descs, dtype=object), np.array(tiers), np.array(prices),
                   np.array(units), np.array(ukgs, dtype=float))


@dataclass
class Rates:
    """USD per unit, ``table[currency index, month index]`` (rounded as written to rates.csv)."""

    table: np.ndarray

    def usd_per_unit(self, cur_idx: np.ndarray, day: np.ndarray) -> np.ndarray:
        return self.table[cur_idx, month_index(day)]

    def frame(self) -> pd.DataFrame:
        months = (FIRST_MONTH + np.arange(N_MONTHS)).astype(str)
        cur = np.repeat(np.array(CURRENCIES), N_MONTHS)
        return pd.DataFrame({"currency": cur, "month": np.tile(months, len(CURRENCIES)), "date": "",
                             "usd_per_unit": [f"{x:.8g}" for x in self.table.ravel()]})


def make_rates(rng: np.random.Generator) -> Rates:
    steps = rng.normal(0.0, 0.015, size=(len(CURRENCIES), N_MONTHS))
    steps[:, 0] = 0.0
    base = np.array([BASE_RATES[c] for c in CURRENCIES])
    table = base[:, None] * np.exp(np.cumsum(steps, axis=1))
    for c in PEGGED:
        table[CUR_INDEX[c]] = BASE_RATES[c]
    # round to what rates.csv says, so conversions in the generator and in the loader agree
    table = np.array([float(f"{x:.8g}") for x in table.ravel()]).reshape(table.shape)
    return Rates(table)


def month_index(day: np.ndarray) -> np.ndarray:
    months = (START + np.asarray(day, dtype="int64")).astype("datetime64[M]")
    return np.clip((months - FIRST_MONTH).astype("int64"), 0, N_MONTHS - 1)


def iso(day: np.ndarray | int) -> np.ndarray:
    """Day numbers -> ISO date strings (array)."""
    return (START + np.asarray(day, dtype="int64")).astype("datetime64[D]").astype(str)


def iso1(day: int) -> str:
    return str(START + int(day))


def country_currency(codes: np.ndarray) -> np.ndarray:
    """Currency index of each country code."""
    lut = {k: CUR_INDEX[v[0]] for k, v in COUNTRIES.items()}
    return np.array([lut[c] for c in codes], dtype="int64") if len(codes) else np.zeros(0, "int64")

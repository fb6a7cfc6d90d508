"""Identifiers and names of the synthetic world, vectorised.

- :class:`Serial` hands out serial numbers per namespace, so background and planted records
  never collide (planted records take numbers after the background's).
- :func:`scramble` maps serials bijectively onto fixed-width numbers, so unique serials give
  unique, random-looking phone numbers, account numbers and plot numbers.
- :func:`ibans` builds IBANs with valid ISO 7064 mod-97-10 check digits for the countries of
  :data:`graphiff.samples.reference.COUNTRIES` that have an IBAN format.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from graphiff.samples.reference import COUNTRIES


class Serial:
    """Serial numbers per namespace, starting at 1."""

    def __init__(self) -> None:
        self.next: dict[str, int] = {}

    def take(self, ns: str, n: int = 1) -> np.ndarray:
        start = self.next.get(ns, 1)
        self.next[ns] = start + int(n)
        return np.arange(start, start + int(n), dtype="int64")

    def one(self, ns: str) -> int:
        return int(self.take(ns, 1)[0])


def scramble(serial: np.ndarray | int, digits: int, salt: int = 0) -> np.ndarray:
    """A bijection of ``[0, 10**digits)``: distinct serials (below ``10**digits``) give
    distinct numbers that do not look sequential."""
    mod = 10 ** digits
    mult = 7_340_033 if digits > 7 else 7_919  # coprime with 10
    s = np.asarray(serial, dtype="int64") % mod
    offset = ((salt + 1) * 11_400_714_819_323_198_485) % mod
    return (s * mult + offset) % mod


def zfill(values: np.ndarray, width: int) -> pd.Series:
    return pd.Series(np.asarray(values, dtype="int64")).astype(str).str.zfill(width)


def strs(prefix: str, values: np.ndarray, width: int) -> np.ndarray:
    """``prefix`` + zero-padded numbers, as an object array."""
    return (prefix + zfill(values, width)).to_numpy(dtype=object)


# ---- IBANs and account numbers -------------------------------------------------------------

_LETTERS = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype=np.uint8)
_DIGITS = np.frombuffer(b"0123456789", dtype=np.uint8)


def _spec_tokens(spec: str) -> tuple[list[tuple[int, str]], str]:
    body, _, literal = spec.partition("+")
    toks, num = [], ""
    for ch in body:
        if ch.isdigit():
            num += ch
        else:
            toks.append((int(num), ch))
            num = ""
    return toks, literal


@lru_cache(maxsize=None)
def bank_codes(country: str, k: int = 3) -> list[str]:
    """Fixed bank codes (the first BBAN field) of ``k`` banks of an IBAN country."""
    spec = COUNTRIES[country][2]
    assert spec, country
    n, kind = _spec_tokens(spec)[0][0]
    rng = np.random.default_rng(sum(ord(ch) * 31 ** i for i, ch in enumerate(country)))
    pool = _LETTERS if kind == "a" else _DIGITS
    return [bytes(rng.choice(pool, n)).decode() for _ in range(k)]


def mod97_check(chars: np.ndarray) -> np.ndarray:
    """ISO 7064 mod-97-10 check digits (int 2..98) of rows of ASCII codes (BBAN + country
    code), computed column by column."""
    r = np.zeros(chars.shape[0], dtype="int64")
    for j in range(chars.shape[1]):
        c = chars[:, j].astype("int64")
        is_digit = c < 65
        r = np.where(is_digit, (r * 10 + (c - 48)) % 97, (r * 100 + (c - 55)) % 97)
    for _ in range(2):  # the "00" placeholder
        r = (r * 10) % 97
    return 98 - r


def ibans(rng: np.random.Generator, country: str, serial: np.ndarray, bank: np.ndarray) -> np.ndarray:
    """IBANs of ``country`` (one per serial): bank code of bank index ``bank``, the account
    number field from the scrambled serial (unique), the other fields random."""
    spec = COUNTRIES[country][2]
    assert spec is not None, country  # a country with an IBAN format
    toks, literal = _spec_tokens(spec)
    n = len(serial)
    codes = bank_codes(country)
    longest = max((i for i, (w, k) in enumerate(toks) if k == "n" and i > 0), key=lambda i: toks[i][0])
    parts = []
    for i, (w, kind) in enumerate(toks):
        if i == 0:
            table = np.array([list(c.encode()) for c in codes], dtype=np.uint8)
            col = table[np.asarray(bank, dtype="int64")]
        elif i == longest:
            k = min(w, 12)
            num = zfill(scramble(serial, k, salt=3), k)
            col = np.frombuffer("".join(num).encode(), dtype=np.uint8).reshape(n, k)
            if w > k:  # random leading digits, the unique part last
                col = np.concatenate([rng.choice(_DIGITS, size=(n, w - k)), col], axis=1)
        else:
            pool = _LETTERS if kind == "a" else _DIGITS
            col = rng.choice(pool, size=(n, w))
        parts.append(col)
    if literal:
        parts.append(np.tile(np.frombuffer(literal.encode(), dtype=np.uint8), (n, 1)))
    bban = np.concatenate(parts, axis=1)
    if country == "BE":  # national check: the first 10 digits mod 97 (97 for 0)
        first = np.zeros(n, dtype="int64")
        for j in range(10):
            first = first * 10 + (bban[:, j].astype("int64") - 48)
        chk = first % 97
        chk = np.where(chk == 0, 97, chk)
        bban[:, 10] = 48 + chk // 10
        bban[:, 11] = 48 + chk % 10
    cc = np.tile(np.frombuffer(country.encode(), dtype=np.uint8), (n, 1))
    check = mod97_check(np.concatenate([bban, cc], axis=1))
    width = bban.shape[1]
    bban_s = bban.copy().view(f"S{width}").ravel().astype(str)
    return (country + zfill(check, 2) + pd.Series(bban_s)).to_numpy(dtype=object)


def iban1(rng: np.random.Generator, country: str, serial: int, bank: int) -> str:
    """One IBAN, as :func:`ibans` (scalar version for planted accounts)."""
    spec = COUNTRIES[country][2]
    assert spec is not None, country  # a country with an IBAN format
    toks, literal = _spec_tokens(spec)
    longest = max((i for i, (w, k) in enumerate(toks) if k == "n" and i > 0), key=lambda i: toks[i][0])
    parts = []
    for i, (w, kind) in enumerate(toks):
        if i == 0:
            parts.append(bank_codes(country)[bank])
        elif i == longest:
            k = min(w, 12)
            lead = "".join(str(d) for d in rng.integers(0, 10, w - k))
            parts.append(lead + f"{int(scramble(serial, k, salt=3)):0{k}d}")
        else:
            pool = _LETTERS if kind == "a" else _DIGITS
            parts.append(bytes(rng.choice(pool, w)).decode())
    bban = "".join(parts) + literal
    if country == "BE":
        chk = int(bban[:10]) % 97 or 97
        bban = bban[:10] + f"{chk:02d}"
    numeric = "".join(str(int(ch, 36)) for ch in bban + country) + "00"
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def plain1(serial: int, bank: int) -> str:
    return f"{bank * 37 + 101:03d}{int(scramble(serial, 10, salt=5)):010d}"


def plain_accounts(serial: np.ndarray, bank: np.ndarray) -> np.ndarray:
    """Account numbers of countries without IBANs: 3-digit bank + 10 digits (never IBAN-shaped)."""
    return (zfill(np.asarray(bank) * 37 + 101, 3) + zfill(scramble(serial, 10, salt=5), 10)).to_numpy(dtype=object)


def bank_names(country: str) -> list[str]:
    city = COUNTRIES[country][3][0]
    return [f"Commercial Bank of {city}", f"{city} Trade and Development Bank", f"First {city} Savings Bank"]


def bics(country: str) -> list[str]:
    spec = COUNTRIES[country][2]
    base = bank_codes(country) if spec and _spec_tokens(spec)[0][0][1] == "a" else ["CBNK", "TDBK", "FSBK"]
    return [(b + "XXXX")[:4] + country + "2X" for b in base]


# ---- contact details -----------------------------------------------------------------------

STREETS = ["Moi Avenue", "Kenyatta Avenue", "Harbour Road", "Industrial Area Road", "Mombasa Road", "Jinja Road",
           "Nyerere Road", "Station Road", "Market Street", "Port Road", "Lake View Drive", "Airport Road",
           "Kampala Road", "Uhuru Highway", "Ngong Road", "Canal Street", "Trade Centre Lane", "Freight Terminal Way",
           "Riverside Drive", "Garden Road", "Warehouse Row", "Dock Street", "Commerce Park", "Hill Crescent"]


def phones(country: np.ndarray, serial: np.ndarray) -> np.ndarray:
    dial = pd.Series(country).map({k: v[1] for k, v in COUNTRIES.items()})
    return ("+" + dial + "7" + zfill(scramble(serial, 8, salt=11), 8)).to_numpy(dtype=object)


def addresses(rng: np.random.Generator, serial: np.ndarray) -> np.ndarray:
    s = scramble(serial, 7, salt=17)
    street = np.array(STREETS, dtype=object)[rng.integers(0, len(STREETS), len(serial))]
    return ("Plot " + pd.Series(s // 100).astype(str) + "/" + pd.Series(s % 100).astype(str) + " "
            + pd.Series(street)).to_numpy(dtype=object)


def cities(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    out = np.empty(len(country), dtype=object)
    for c in pd.unique(country):
        m = country == c
        opts = np.array(COUNTRIES[c][3], dtype=object)
        out[m] = opts[rng.integers(0, len(opts), int(m.sum()))]
    return out


def postcodes(rng: np.random.Generator, n: int) -> np.ndarray:
    return zfill(rng.integers(100, 99999, n), 5).to_numpy(dtype=object)


def emails(local: np.ndarray, serial: np.ndarray, domain: str = "mail.example") -> np.ndarray:
    low = pd.Series(local).astype(str).str.lower().str.replace(r"[^a-z]+", "", regex=True).str.slice(0, 12)
    return (low + "." + pd.Series(serial).astype(str) + "@" + domain).to_numpy(dtype=object)


# ---- names -------------------------------------------------------------------------------

PLACES = ["Savannah", "Kilimanjaro", "Rift Valley", "Lakeside", "Coastal", "Highland", "Equator", "Serengeti",
          "Victoria", "Tana", "Nile", "Ruwenzori", "Indian Ocean", "Pwani", "Athi", "Kagera", "Mara", "Turkana",
          "Elgon", "Kivu", "Zanzibar", "Lamu", "Malindi", "Rusinga", "Amboseli", "Tsavo", "Baringo", "Naivasha",
          "Pearl", "Orient", "Pacific", "Atlantic", "Silk Road", "Harbour", "Meridian", "Continental", "Northern",
          "Southern", "Eastern", "Western", "Golden Gate", "Crescent", "Summit", "Horizon", "Delta", "Sunrise",
          "Evergreen", "Twin Rivers", "Blue Ridge", "Red Sea"]
WORDS = ["Golden", "Prime", "United", "Royal", "Star", "Apex", "Alpha", "Unity", "Pioneer", "Crown", "Eagle",
         "Falcon", "Lion", "Zenith", "Vertex", "Trust", "Allied", "Premier", "Global", "Modern", "Grand", "Bright",
         "Swift", "Noble", "Sterling", "Liberty", "Heritage", "Frontier", "Vision", "Summit", "Titan", "Legacy",
         "Dynamic", "Fusion", "Emerald", "Sapphire", "Diamond", "Silver", "Cedar", "Acacia", "Baobab", "Jacaranda",
         "Kestrel", "Oryx", "Impala", "Rhino", "Zebra", "Cheetah", "Marlin", "Dolphin"]
INDUSTRIES = ["Trading", "Imports", "Exports", "Commodities", "Textiles", "Agro", "Foods", "Logistics", "Motors",
              "Electronics", "Pharma", "Steel", "Plastics", "Chemicals", "Timber", "Minerals", "Energy", "Supplies",
              "Distributors", "Merchants", "Industries", "Holdings", "Enterprises", "Ventures", "Packaging",
              "Hardware", "Fisheries", "Beverages", "Apparel", "Machinery", "Tyres", "Paper", "Cement", "Coffee",
              "Tea Traders", "Horticulture", "Marine", "Metals", "Solutions", "Resources"]
SUFFIX = {"KE": "Ltd", "UG": "Ltd", "TZ": "Ltd", "RW": "Ltd", "ET": "PLC", "CN": "Co., Ltd", "IN": "Pvt Ltd",
          "AE": "FZE", "DE": "GmbH", "NL": "B.V.", "GB": "Ltd", "US": "Inc", "KR": "Co., Ltd", "JP": "K.K.",
          "ZA": "(Pty) Ltd", "CH": "AG", "BE": "NV", "SG": "Pte Ltd", "HK": "Limited", "PL": "Sp. z o.o.",
          "MU": "Ltd", "VG": "Ltd", "SC": "Ltd", "PA": "S.A.", "BZ": "Ltd"}
FIRST = ["James", "Mary", "John", "Grace", "Peter", "Faith", "David", "Mercy", "Joseph", "Esther", "Daniel", "Ruth",
         "Samuel", "Joyce", "Brian", "Alice", "Kevin", "Lucy", "Dennis", "Ann", "Wanjiru", "Otieno", "Achieng",
         "Kamau", "Njeri", "Mwangi", "Akinyi", "Kiprop", "Chebet", "Musa", "Amina", "Hassan", "Fatuma", "Omar",
         "Zawadi", "Baraka", "Neema", "Juma", "Halima", "Rashid", "Wei", "Li", "Chen", "Mei", "Ravi", "Priya",
         "Anil", "Sunita", "Ahmed", "Layla", "Yusuf", "Mariam", "Hans", "Anna", "Pieter", "Sophie", "Oliver",
         "Emma", "Min-jun", "Ji-woo", "Haruto", "Yui", "Thabo", "Naledi", "Carlos", "Lucia", "Ivan", "Olga",
         "Tomasz", "Zofia", "Marco", "Giulia", "Pierre", "Claire", "Kwame", "Ama", "Tendai", "Rudo", "Abebe", "Hana"]
LAST = ["Kariuki", "Odhiambo", "Mutua", "Wafula", "Kiptoo", "Njoroge", "Ochieng", "Mbugua", "Nyambura", "Kimani",
        "Onyango", "Wambua", "Ssemakula", "Mukasa", "Nakato", "Okello", "Mushi", "Mwakasege", "Kimaro", "Massawe",
        "Habimana", "Uwimana", "Tesfaye", "Bekele", "Ali", "Abdullah", "Rahman", "Patel", "Shah", "Mehta", "Singh",
        "Wang", "Zhang", "Liu", "Huang", "Kim", "Park", "Lee", "Tanaka", "Suzuki", "Muller", "Schmidt", "de Vries",
        "Jansen", "Smith", "Brown", "Taylor", "Johnson", "Dlamini", "Nkosi", "Mokoena", "Garcia", "Rossi",
        "Dubois", "Kowalski", "Nowak", "Ivanov", "Mensah", "Moyo", "Banda", "Phiri", "Chanda", "Mwale", "Said",
        "Salim", "Hamisi", "Mohamed", "Haddad", "Karimi", "Nasser", "Osei", "Boateng", "Adeyemi", "Okafor",
        "Chukwu", "Kamara", "Sesay", "Diallo", "Traore", "Keita"]


def company_names(serial: np.ndarray, country: np.ndarray) -> np.ndarray:
    """Unique (for serials below 100,000) company names."""
    s = scramble(serial, 5, salt=23)
    a = np.array(PLACES, dtype=object)[s % 50]
    b = np.array(WORDS, dtype=object)[(s // 50) % 50]
    c = np.array(INDUSTRIES, dtype=object)[(s // 2500) % 40]
    suf = pd.Series(country).map(SUFFIX).fillna("Ltd")
    return (pd.Series(a) + " " + pd.Series(b) + " " + pd.Series(c) + " " + suf).to_numpy(dtype=object)


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    f = np.array(FIRST, dtype=object)[rng.integers(0, len(FIRST), n)]
    mid = np.array(list("ABCDEFGHIJKLMNOPRSTW"), dtype=object)[rng.integers(0, 20, n)]
    last = np.array(LAST, dtype=object)[rng.integers(0, len(LAST), n)]
    return (pd.Series(f) + " " + pd.Series(mid) + ". " + pd.Series(last)).to_numpy(dtype=object)

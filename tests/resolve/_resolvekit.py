"""Hand-made worlds for the entity-resolution tests: input files written as CSV into a folder,
loaded like an analyst's files (``graphiff.load_paths`` or ``graphiff load``), each record
planted for one reason that its test states.

``MARA``: one company recorded three times, and the decoys around it.

- ``KE-100`` "Mara Legacy Metals Ltd" (the local record: tax id ``P051100200K``, address,
  phone), ``UG-88231`` "MARA LEGACY METALS LIMITED" (another administration's id, the same tax
  id), ``TZ-0042`` "Mara Legacy Metal Co." (a third id, the same phone written otherwise):
  one company;
- ``KE-200`` "Mara Legacy Minerals Ltd": the same city, another tax id and address;
- ``P-1``/``P-2`` "John Kamau": a common person name, two birth dates;
- ``J-1``..``J-4``: junk tax ids ("0", "N/A", "000000000", "0") on four different companies;
- ``PH-01``..``PH-30``: one placeholder tax id typed on 30 companies (more than ``max_block``
  20); ``PH-01`` and ``PH-02`` also share a phone (their pair is scored, the tax id ignored);
- ``LF-1`` "LTD" (Nairobi) and ``LF-2`` "CO LTD" (Mombasa): names that are only a legal form;
- ``EN-1`` "-" and ``EN-2`` "...": names with nothing in them.

``REVIEW``: four pairs, each of one name, scoring between the default thresholds, each at
another score (highest first): ``RV-A1``/``RV-A2`` (a dropped word, a shared address),
``RV-B1``/``RV-B2`` (the same name, other cities), ``RV-C1``/``RV-C2`` (a typo, no
city), ``RV-D1``/``RV-D2`` (other names, the same tax id).

``CIRCLE``: a circular trade that only resolution shows. Kilima Copper (Kenya, ``KE-A``) exports
to Lake Victoria Smelters, which Kenya's administration knows as ``KE-B``; Uganda's declares
the goods going back from ``UG-B`` (the smelter's Ugandan id) to ``UG-A`` (Kilima Copper as
Uganda knows it).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from graphiff import load_paths
from graphiff.stores import Store

MARA_TIN = "P051100200K"
PLACEHOLDER_TIN = "123456789"
PLACEHOLDER_NAMES = [
    "Acacia", "Baobab", "Cheetah", "Dhow", "Eland", "Flamingo", "Gazelle", "Hibiscus", "Impala", "Jacaranda",
    "Kudu", "Lantana", "Mango", "Nandi", "Oryx", "Papyrus", "Quelea", "Rhino", "Sisal", "Tamarind",
    "Umbrella", "Vervet", "Warthog", "Xylo", "Yam", "Zebra", "Amani", "Bahari", "Chui", "Duma",
]
CITIES = ["Nairobi", "Mombasa", "Kisumu", "Nakuru", "Eldoret"]


def trader(tid: str, name: str, country: str = "KE", **kw: str) -> dict[str, str]:
    return {"trader_id": tid, "name": name, "country": country, **kw}


MARA_CLUSTER = ["KE-100", "TZ-0042", "UG-88231"]
MARA: dict[str, list[dict[str, str]]] = {
    "traders": [
        trader("KE-100", "Mara Legacy Metals Ltd", tin=MARA_TIN, address="12 Moi Avenue", city="Nairobi",
               phone="+254 700 111 222"),
        trader("UG-88231", "MARA LEGACY METALS LIMITED", tin=MARA_TIN.lower()),
        trader("TZ-0042", "Mara Legacy Metal Co.", phone="+254700111222"),
        trader("KE-200", "Mara Legacy Minerals Ltd", tin="P051999888Z", address="7 Tom Mboya Street",
               city="Nairobi"),
        trader("J-1", "Baraka Foods Ltd", tin="0", city="Nairobi"),
        trader("J-2", "Simba Textiles Ltd", tin="N/A", city="Nairobi"),
        trader("J-3", "Jambo Logistics Ltd", tin="000000000", city="Nairobi"),
        trader("J-4", "Upendo General Supplies", tin="0", city="Nairobi"),
        *[trader(f"PH-{n:02d}", f"{word} Ltd", tin=PLACEHOLDER_TIN, city=CITIES[n % len(CITIES)],
                 phone="+254 722 000 999" if n <= 2 else "")
          for n, word in enumerate(PLACEHOLDER_NAMES, start=1)],
        trader("LF-1", "LTD", city="Nairobi"),
        trader("LF-2", "CO LTD", city="Mombasa"),
        trader("EN-1", "-", city="Nairobi"),
        trader("EN-2", "...", city="Nairobi"),
    ],
    "persons": [
        {"person_id": "P-1", "name": "John Kamau", "birth_date": "1980-01-01", "nationality": "KE"},
        {"person_id": "P-2", "name": "John Kamau", "birth_date": "1975-06-30", "nationality": "KE"},
    ],
}

REVIEW_PAIRS = [("RV-A1", "RV-A2"), ("RV-B1", "RV-B2"), ("RV-C1", "RV-C2"), ("RV-D1", "RV-D2")]
REVIEW: dict[str, list[dict[str, str]]] = {
    "traders": [
        # name subset (+2.5), country (+0.5), address (+4): log-odds 3.0
        trader("RV-A1", "Nyota Coffee Exporters", address="3 Kenyatta Road"),
        trader("RV-A2", "Nyota Coffee", address="3 Kenyatta Road"),
        # the same name (+8), country (+0.5), another city (-2): log-odds 2.5
        trader("RV-B1", "Tausi Hardware Ltd", city="Thika"),
        trader("RV-B2", "TAUSI HARDWARE LIMITED", city="Machakos"),
        # a typo (+7), country (+0.5), another city (-2): log-odds 1.5
        trader("RV-C1", "Ziwa Fisheries"),
        trader("RV-C2", "Ziwa Fishereis"),
        # other names (-6), the same tax id (+10), country (+0.5): log-odds 0.5
        trader("RV-D1", "Pwani Salt Works", tin="P052777111Q"),
        trader("RV-D2", "Kilifi Brine Ltd", tin="P052777111Q"),
    ],
}

CIRCLE: dict[str, list[dict[str, str]]] = {
    "traders": [
        trader("KE-A", "Kilima Copper Ltd", "KE", tin="P053000111A", city="Nairobi"),
        trader("UG-A", "KILIMA COPPER LIMITED", "KE", tin="P053000111A"),
        trader("KE-B", "Lake Victoria Smelters Ltd", "UG", tin="UG1000222333"),
        trader("UG-B", "LAKE VICTORIA SMELTERS LIMITED", "UG", tin="UG1000222333", city="Jinja"),
    ],
    "declarations": [
        {"declaration_id": "KE-EX-1", "item_no": "1", "flow": "EXPORT", "reporting_country": "KE",
         "date": "2024-01-10", "exporter_id": "KE-A", "importer_id": "KE-B", "hs_code": "74031100",
         "invoice_value": "250000", "currency": "USD", "net_mass_kg": "30000", "transport_doc_no": "BL-KE-1"},
        {"declaration_id": "UG-EX-7", "item_no": "1", "flow": "EXPORT", "reporting_country": "UG",
         "date": "2024-03-01", "exporter_id": "UG-B", "importer_id": "UG-A", "hs_code": "74031100",
         "invoice_value": "240000", "currency": "USD", "net_mass_kg": "29500", "transport_doc_no": "BL-UG-7"},
    ],
}


def write_world(folder: Path, tables: dict[str, list[dict[str, str]]]) -> Path:
    """The tables as canonical CSV files (``traders.csv``...) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for kind, rows in tables.items():
        pd.DataFrame(rows).fillna("").astype(str).to_csv(folder / f"{kind}.csv", index=False)
    return folder


def load_world(store: Store, tmp_path: Path, tables: dict[str, list[dict[str, str]]], name: str = "world") -> Store:
    """Write ``tables`` under ``tmp_path/name`` and load them into ``store``; fails on any
    quarantined row (every planted record must be in the store)."""
    folder = write_world(tmp_path / name, tables)
    result = load_paths(store, [folder], quarantine_dir=tmp_path / f"{name}-quarantine")
    assert not list((tmp_path / f"{name}-quarantine").glob("*.csv")), "a planted row was quarantined"
    assert result is not None
    return store


def same_as(store: Store) -> dict[tuple[str, str], dict[str, Any]]:
    """The store's SAME_AS relationships by ``(src, dst)``, as loaded (src < dst)."""
    from graphiff.graph.tables import Tables

    s = Tables(store, resolved=False).rels("SAME_AS")
    return {(str(r["src"]), str(r["dst"])): r for r in s.to_dict("records")}


def evidence_of(value: Any) -> dict[str, Any]:
    """A pair's evidence as a dict (stored and scored evidence is JSON text)."""
    return json.loads(value) if isinstance(value, str) else dict(value)


def pair(a: str, b: str) -> tuple[str, str]:
    """The ``(src, dst)`` of the SAME_AS between two records (ends ordered)."""
    return (a, b) if a < b else (b, a)

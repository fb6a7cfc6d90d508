"""A tiny canonical world written by tests, in any of the four input formats."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

HOSTILE = ['<script>alert(1)</script>', '=HYPERLINK("http://evil.example","x")', 'O\'Brien "Quoted" & <Co>']

TABLES: dict[str, list[dict]] = {
    "traders": [
        {"trader_id": "T1", "name": HOSTILE[0], "country": "Kenya", "registration_date": "2015-03-01",
         "address": "1 Harbour Rd", "city": "Mombasa", "phone": "+254 700 000 001", "email": "Info@T1.example",
         "employees": "40", "risk_note": "kept as property"},
        {"trader_id": "T2", "name": HOSTILE[1], "country": "KEN", "registration_date": "2019-07-15",
         "address": "1 harbour rd.", "city": "mombasa", "phone": "", "email": "", "employees": "2", "risk_note": ""},
        {"trader_id": "T3", "name": HOSTILE[2], "country": "TZ", "registration_date": "2020-01-01",
         "address": "9 Market St", "city": "Dar", "phone": "00255 22 123", "email": "t3@x.example",
         "employees": "", "risk_note": ""},
    ],
    "persons": [
        {"person_id": "P1", "name": "Jane Doe", "birth_date": "1980-05-05", "nationality": "KE",
         "passport_no": "AK123456", "phone": "+254 711 222 333", "email": "jane@example.org"},
    ],
    "officers": [
        {"officer_id": "P1", "company_id": "T1", "role": "DIRECTOR", "share_pct": "", "start_date": "2015-03-01"},
        {"officer_id": "T1", "company_id": "T2", "role": "OWNER", "share_pct": "60", "start_date": "2019-07-15"},
    ],
    "carriers": [
        {"carrier_id": "C1", "name": "Lake Freight", "country": "KE", "carrier_type": "ROAD",
         "address": "1 Harbour Rd", "city": "Mombasa", "phone": "+254700000001"},
    ],
    "declarations": [
        {"declaration_id": "D1", "item_no": "1", "flow": "EXPORT", "reporting_country": "KE", "date": "2024-01-10",
         "exporter_id": "T1", "importer_id": "T2", "hs_code": "851712", "invoice_value": "1000", "currency": "EUR",
         "net_mass_kg": "10", "carrier_id": "C1", "container_ids": "MSCU1234567;MSCU7654321",
         "transport_doc_no": "BL1", "invoice_no": "INV1"},
        {"declaration_id": "D1", "item_no": "2", "flow": "EXPORT", "reporting_country": "KE", "date": "2024-01-10",
         "exporter_id": "T1", "importer_id": "F9", "importer_name": "Far Away Ltd", "importer_country": "CN",
         "hs_code": "85171200", "invoice_value": "500", "currency": "USD", "net_mass_kg": "5", "carrier_id": "",
         "container_ids": "", "transport_doc_no": "BL1", "invoice_no": "INV1"},
        {"declaration_id": "D2", "item_no": "1", "flow": "IMPORT", "reporting_country": "UG", "date": "2024-01-20",
         "exporter_id": "T1", "importer_id": "T2", "hs_code": "851712", "invoice_value": "4000000", "currency": "UGX",
         "net_mass_kg": "10", "carrier_id": "C1", "container_ids": "MSCU1234567", "transport_doc_no": "BL1",
         "invoice_no": "INV1"},
    ],
    "accounts": [
        {"account_id": "DE89 3704 0044 0532 0130 00", "holder_id": "T1", "bank_country": "DE"},
        {"account_id": "KE-0001", "holder_id": "T2", "bank_country": "KE"},
        {"account_id": "GB29NWBK60161331926819", "holder_id": "P1", "bank_country": "GB"},
    ],
    "payments": [
        {"payment_id": "PAY1", "date": "2024-01-25", "from_account": "KE-0001", "to_account": "DE89370400440532013000",
         "amount": "1100", "currency": "USD", "invoice_no": "INV1", "declaration_id": ""},
    ],
    "cash_reports": [
        {"report_id": "CR1", "report_type": "BORDER", "date": "2024-02-01", "amount": "9500", "currency": "USD",
         "person_id": "P1", "trader_id": "T1", "direction": "OUT"},
    ],
    "rates": [
        {"currency": "EUR", "month": "2024-01", "usd_per_unit": "1.09"},
    ],
}


def write_world(folder: Path, fmt: str = "csv", tables: dict[str, list[dict]] | None = None) -> Path:
    """Write the tiny world into ``folder`` as csv, xlsx, jsonl or parquet files."""
    folder.mkdir(parents=True, exist_ok=True)
    for kind, rows in (tables or TABLES).items():
        df = pd.DataFrame(rows).fillna("").astype(str)
        path = folder / f"{kind}.{fmt}"
        if fmt == "csv":
            df.to_csv(path, index=False)
        elif fmt == "xlsx":
            _write_xlsx(df, path)
        elif fmt == "jsonl":
            df.to_json(path, orient="records", lines=True, force_ascii=False)
        elif fmt == "parquet":
            df.to_parquet(path, index=False)
        else:
            raise ValueError(fmt)
    return folder


def _write_xlsx(df: pd.DataFrame, path: Path) -> None:
    """Every cell as a text cell (so '=HYPERLINK(...)' stays text, as an administration's export would)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(list(df.columns))
    for r, row in enumerate(df.itertuples(index=False), start=2):
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c)
            cell.value = value
            cell.data_type = "s"
    wb.save(path)

"""Small in-memory worlds for the network detector tests (Tables.from_frames)."""
from __future__ import annotations

import pandas as pd

from graphiff.graph.tables import Tables


def decl(did: str, exporter: str | None, importer: str | None, date: str, *, hs: str = "851712",
         value: float | None = 100_000.0, mass: float | None = 1_000.0, qty: float | None = None,
         flow: str = "EXPORT", rc: str = "KE", doc: str | None = None, inv: str | None = None,
         carrier: str | None = None, conveyance: str | None = None, containers: str | None = None,
         item: int = 1, exp_country: str | None = None, imp_country: str | None = None) -> dict:
    """One Declaration node row as the stores return it."""
    return {
        "key": f"{did}/{item}", "declaration_id": did, "item_no": item, "flow": flow, "reporting_country": rc,
        "date": date, "exporter_id": exporter, "importer_id": importer, "exporter_country": exp_country,
        "importer_country": imp_country, "hs_code": hs + "00", "hs6": hs[:6], "value_usd": value,
        "invoice_value": value, "currency": "USD", "usd_status": "given", "net_mass_kg": mass, "quantity": qty,
        "transport_doc_no": doc, "invoice_no": inv, "carrier_id": carrier, "conveyance_id": conveyance,
        "container_ids": containers,
    }


def trader(tid: str, country: str = "KE", *, reg: str | None = "2010-01-01", employees: int | None = 50,
           name: str | None = None, origin: str = "file") -> dict:
    return {"key": tid, "trader_id": tid, "name": name or f"Trader {tid}", "country": country,
            "registration_date": reg, "employees": employees, "origin": origin}


def payment(pid: str, src: str, dst: str, date: str, amount: float) -> dict:
    return {"key": pid, "payment_id": pid, "from_account": src, "to_account": dst, "date": date, "amount": amount,
            "currency": "USD", "amount_usd": amount, "usd_status": "given"}


def account(aid: str, holder: str, country: str = "KE") -> dict:
    return {"key": aid, "account_id": aid, "holder_id": holder, "bank_country": country}


def rel_rows(rows: list[tuple], props: tuple[str, ...] = ()) -> pd.DataFrame:
    cols = ["src_label", "src", "dst_label", "dst", *props]
    return pd.DataFrame([list(r) for r in rows], columns=cols)


def make_tables(*, decls=(), traders=(), payments=(), accounts=(), carriers=(), persons=(), officers=(),
                located=(), phones=(), emails=(), cash=(), filed=()) -> Tables:
    """Build Tables from row lists.

    ``officers``: (officer_label, officer, company_label, company, role);
    ``located``/``phones``/``emails``: (label, key, identifier); ``cash``: CashReport node rows;
    ``filed``: (report_id, person_id).
    """
    nodes = {
        "Declaration": pd.DataFrame(list(decls)) if decls else pd.DataFrame(columns=["key"]),
        "Trader": pd.DataFrame(list(traders)) if traders else pd.DataFrame(columns=["key"]),
        "Payment": pd.DataFrame(list(payments)) if payments else pd.DataFrame(columns=["key"]),
        "BankAccount": pd.DataFrame(list(accounts)) if accounts else pd.DataFrame(columns=["key"]),
        "Carrier": pd.DataFrame([{"key": c, "carrier_id": c, "name": c} for c in carriers]) if carriers
        else pd.DataFrame(columns=["key"]),
        "Person": pd.DataFrame([{"key": p, "person_id": p, "name": p} for p in persons]) if persons
        else pd.DataFrame(columns=["key"]),
        "CashReport": pd.DataFrame(list(cash)) if cash else pd.DataFrame(columns=["key"]),
    }
    rels = {
        "OFFICER_OF": rel_rows([(a, b, c, d, r, None) for a, b, c, d, r in officers], ("role", "share_pct")),
        "LOCATED_AT": rel_rows([(lab, k, "Address", v) for lab, k, v in located]),
        "HAS_PHONE": rel_rows([(lab, k, "Phone", v) for lab, k, v in phones]),
        "HAS_EMAIL": rel_rows([(lab, k, "Email", v) for lab, k, v in emails]),
        "FILED_BY": rel_rows([("CashReport", r, "Person", p) for r, p in filed]),
    }
    return Tables.from_frames(nodes=nodes, rels=rels)


def entity_ids(alert) -> set[str]:
    return {e["id"] for e in alert.entities}

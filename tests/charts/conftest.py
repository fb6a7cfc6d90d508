"""Subgraph fixtures for the link-chart export tests (built directly, no store)."""
from __future__ import annotations

import pytest
from synthetic import FORMULA_NAME, MATH_NAME, QUOTES_NAME, SCRIPT_ADDRESS, XSS_NAME, random_subgraph

from graphiff.graph.subgraph import SubEdge, Subgraph, SubNode


def _prov(source: str, line: int) -> dict:
    return {"_source": source, "_line": line, "_load_id": "load-42", "_loaded_at": "2024-06-01T10:00:00Z"}


def hostile_subgraph() -> Subgraph:
    """Eleven nodes, one alert flagging two of them, names built to break naive escaping."""
    nodes = [
        SubNode("Trader:T1", "Trader", "T1", XSS_NAME,
                {"name": XSS_NAME, "country": "AE", "employees": 12, "registration_date": "2019-05-04",
                 "tin": None, **_prov("traders.csv", 2)}),
        SubNode("Trader:T2", "Trader", "T2", FORMULA_NAME,
                {"name": FORMULA_NAME, "country": "DE", "employees": float("nan"), **_prov("traders.csv", 3)}),
        SubNode("Person:P1", "Person", "P1", QUOTES_NAME, {"name": QUOTES_NAME, **_prov("persons.csv", 2)}),
        SubNode("Declaration:D1/1", "Declaration", "D1/1", "D1/1",
                {"declaration_id": "D1", "item_no": 1, "date": "2024-03-01", "hs_code": "8471300000",
                 "invoice_value": 125000.5, "currency": "EUR", "value_usd": 135000.0, "usd_status": "converted",
                 **_prov("declarations.csv", 7)}),
        SubNode("BankAccount:AE070331234567890123456", "BankAccount", "AE070331234567890123456",
                "AE070331234567890123456", {"holder_id": "T1", "bank_country": "AE", **_prov("accounts.csv", 4)}),
        SubNode("Payment:PAY1", "Payment", "PAY1", "PAY1",
                {"date": "2024-03-05", "amount": 99000.0, "currency": "USD", "reference": "-1+cmd|' /C calc'!A0",
                 **_prov("payments.csv", 9)}),
        SubNode("Address:" + SCRIPT_ADDRESS, "Address", SCRIPT_ADDRESS, SCRIPT_ADDRESS, _prov("traders.csv", 2)),
        SubNode("Country:CN", "Country", "CN", "CN", _prov("traders.csv", 3)),
        SubNode("Container:MSCU1234565", "Container", "MSCU1234565", MATH_NAME, _prov("declarations.csv", 7)),
        SubNode("Phone:+971500000000", "Phone", "+971500000000", "+971500000000", _prov("traders.csv", 2)),
        SubNode("Alert:circular_trade:abc", "Alert", "circular_trade:abc", "circular_trade",
                {"pattern": "circular_trade", "score": 0.91,
                 "explanation": "Goods went round <script>alert(3)</script> & back",
                 "evidence": '{"declarations": ["D1/1"]}', "_source": "alerts.json", "_load_id": "detect-1"}),
    ]
    e = [
        SubEdge("r1", "Trader:T1", "Declaration:D1/1", "EXPORTED", _prov("declarations.csv", 7)),
        SubEdge("r2", "Declaration:D1/1", "Trader:T2", "IMPORTED_BY", _prov("declarations.csv", 7)),
        SubEdge("r3", "Person:P1", "Trader:T1", "OFFICER_OF",
                {"role": "DIRECTOR", "share_pct": 50.0, "start_date": "2020-01-01", **_prov("officers.csv", 3)}),
        SubEdge("r3b", "Person:P1", "Trader:T1", "OFFICER_OF",
                {"role": "UBO", "share_pct": None, **_prov("officers.csv", 4)}),
        SubEdge("r4", "Trader:T1", "BankAccount:AE070331234567890123456", "HOLDS", _prov("accounts.csv", 4)),
        SubEdge("r5", "BankAccount:AE070331234567890123456", "Payment:PAY1", "SENT", _prov("payments.csv", 9)),
        SubEdge("r6", "Payment:PAY1", "Declaration:D1/1", "SETTLES", _prov("payments.csv", 9)),
        SubEdge("r7", "Trader:T1", "Address:" + SCRIPT_ADDRESS, "LOCATED_AT", _prov("traders.csv", 2)),
        SubEdge("r8", "Trader:T2", "Country:CN", "IN_COUNTRY", _prov("traders.csv", 3)),
        SubEdge("r9", "Declaration:D1/1", "Container:MSCU1234565", "IN_CONTAINER", _prov("declarations.csv", 7)),
        SubEdge("r10", "Trader:T1", "Phone:+971500000000", "HAS_PHONE", _prov("traders.csv", 2)),
        SubEdge("r11", "Alert:circular_trade:abc", "Trader:T1", "FLAGS", {"_source": "alerts.json"}),
        SubEdge("r12", "Alert:circular_trade:abc", "Declaration:D1/1", "FLAGS", {"_source": "alerts.json"}),
    ]
    return Subgraph(nodes=nodes, edges=e, omitted={"Declaration": 3, "Payment": 1},
                    seeds=["Trader:T1"], title='Case 7 <script>alert("t")</script> & "friends"')


@pytest.fixture
def small_sub() -> Subgraph:
    return hostile_subgraph()


@pytest.fixture(scope="session")
def large_sub() -> Subgraph:
    return random_subgraph(1200, seed=3)

"""third_party_payment: imports paid from unrelated accounts alert; the importer, its officers,
owners, parent and group companies paying do not."""
from __future__ import annotations

import pandas as pd
import pytest

from graphiff.detectors.third_party_payment import detect_third_party_payment
from graphiff.graph.tables import Tables


def decl(did: str, importer: str, exporter: str = "CN1", inv: str | None = None, date: str = "2024-02-01") -> dict:
    return {"key": f"{did}/1", "declaration_id": did, "item_no": 1, "flow": "IMPORT", "reporting_country": "KE",
            "date": date, "hs6": "851712", "importer_id": importer, "importer_country": "KE",
            "exporter_id": exporter, "exporter_country": "CN", "invoice_no": inv, "value_usd": 50_000.0}


def acct(aid: str, holder: str, country: str) -> dict:
    return {"key": aid, "account_id": aid, "holder_id": holder, "bank_country": country}


def pay(pid: str, frm: str, *, decl_id: str | None = None, inv: str | None = None, to: str = "CNACC1",
        date: str = "2024-02-10") -> dict:
    return {"key": pid, "payment_id": pid, "date": date, "from_account": frm, "to_account": to,
            "amount": 50_000.0, "currency": "USD", "amount_usd": 50_000.0, "usd_status": "given",
            "reference": None, "invoice_no": inv, "declaration_id": decl_id}


def officer(src: str, dst: str, role: str, src_label: str = "Person") -> dict:
    return {"src_label": src_label, "src": src, "dst_label": "Trader", "dst": dst, "role": role}


@pytest.fixture(scope="module")
def world() -> Tables:
    traders = pd.DataFrame([{"key": t, "trader_id": t, "name": t, "country": c} for t, c in
                            [("KE1", "KE"), ("KE2", "KE"), ("KE3", "KE"), ("KE4", "KE"), ("KE5", "KE"),
                             ("KE6", "KE"), ("GRP", "KE"), ("SIS", "KE"), ("CN1", "CN"), ("AE9", "AE"),
                             ("KE99", "KE")]])
    decls = pd.DataFrame([
        decl("D1", "KE1"), decl("D2", "KE2"), decl("D3", "KE3"), decl("D4", "KE4"),
        decl("D5", "KE5", inv="INV-5"), decl("D6", "KE6"), decl("D7", "KE1", inv="INV-7"),
        decl("D8", "KE2", exporter="CN2", inv="INV-7"),  # same invoice number, other seller
        decl("D9", "KE6"),
        # one invoice number on two unrelated declarations (reused numbering, noise)
        decl("D10", "KE3", exporter="CN1", inv="INV-R"), decl("D11", "KE4", exporter="CN3", inv="INV-R"),
    ])
    accounts = pd.DataFrame([
        acct("CNACC1", "CN1", "CN"), acct("KEACC1", "KE1", "KE"), acct("AEACC9", "AE9", "AE"),
        acct("PACC1", "PERS1", "KE"), acct("GRPACC", "GRP", "KE"), acct("SISACC", "SIS", "KE"),
        acct("KEACC99", "KE99", "KE"), acct("CNACC2", "CN2", "CN"),
        acct("XACC1", "X1", "AE"), acct("XACC2", "X2", "AE"), acct("CNACC4", "CN4", "CN"),
    ])
    payments = pd.DataFrame([
        pay("PAY1", "KEACC1", decl_id="D1"),     # importer pays itself: fine
        pay("PAY2", "AEACC9", decl_id="D2"),     # planted: unrelated foreign payer
        pay("PAY3", "PACC1", decl_id="D3"),      # director of KE3 pays: related
        pay("PAY4", "GRPACC", decl_id="D4"),     # parent company (shareholder of KE4) pays: related
        pay("PAY5", "SISACC", inv="INV-5"),      # sister company (shares owner with KE5) pays: related
        pay("PAY6", "KEACC99", decl_id="D6"),    # planted: unrelated domestic payer
        pay("PAY7", "AEACC9", inv="INV-7"),      # planted: same foreign payer, matched by invoice (D7, seller CN1)
        # KE1 pays invoice INV-7 of seller CN2 -> D8 (KE2): third party
        pay("PAY8", "KEACC1", inv="INV-7", to="CNACC2"),
        pay("PAY9", "UNKNOWN", decl_id="D9"),    # unknown holder: not flagged by default
        pay("PAY10", "AEACC9"),                  # settles nothing
        # matched only through the shared invoice number: to an account of unknown holder, and
        # to a seller of neither declaration - neither settles D10 or D11
        pay("PAY11", "XACC1", inv="INV-R", to="UNKNOWNPAYEE"),
        pay("PAY12", "XACC2", inv="INV-R", to="CNACC4"),
    ])
    officers = pd.DataFrame([
        officer("PERS1", "KE3", "DIRECTOR"),
        officer("GRP", "KE4", "SHAREHOLDER", src_label="Trader"),
        officer("OWN5", "KE5", "OWNER"), officer("OWN5", "SIS", "OWNER"),
    ])
    return Tables.from_frames(
        nodes={"Trader": traders, "Declaration": decls, "BankAccount": accounts, "Payment": payments},
        rels={"OFFICER_OF": officers})


def test_planted_and_decoys(world):
    alerts = detect_third_party_payment(world)
    by_acct = {a.entities[0]["id"]: a for a in alerts}
    assert set(by_acct) == {"AEACC9", "KEACC99", "KEACC1"}
    ae = by_acct["AEACC9"]
    assert ae.entities == [{"label": "BankAccount", "id": "AEACC9"}]
    assert sorted(ae.evidence["payments"]) == ["PAY2", "PAY7"]
    assert ae.evidence["foreign_payer"] and ae.evidence["bank_country"] == "AE"
    assert ae.evidence["importer_countries"] == ["KE"]
    assert set(ae.evidence["declarations"]) == {"D2/1", "D7/1"}
    # foreign raises the score above the domestic unrelated payer
    assert ae.score > by_acct["KEACC99"].score
    assert not by_acct["KEACC99"].evidence["foreign_payer"]
    # KE1 paying its own D1 is fine; paying KE2's D8 (matched by invoice and seller) is not
    assert by_acct["KEACC1"].evidence["payments"] == ["PAY8"]
    for a in alerts:
        assert a.pattern == "third_party_payment" and 0 < a.score <= 1


def test_reused_invoice_number_is_not_a_settlement(world):
    ids = {a.entities[0]["id"] for a in detect_third_party_payment(world)}
    assert not ids & {"XACC1", "XACC2"}


def test_relation_depth(world):
    # with only direct relations the sister company is a third party
    ids = {a.entities[0]["id"] for a in detect_third_party_payment(world, related_hops=1)}
    assert "SISACC" in ids and "PACC1" not in ids and "GRPACC" not in ids
    # with no relations at all every non-importer payer is a third party
    ids0 = {a.entities[0]["id"] for a in detect_third_party_payment(world, related_hops=0)}
    assert {"PACC1", "GRPACC", "SISACC"} <= ids0


def test_unknown_holder_optional(world):
    ids = {a.entities[0]["id"] for a in detect_third_party_payment(world, flag_unknown_holder=True)}
    assert "UNKNOWN" in ids


def test_empty():
    assert detect_third_party_payment(Tables.from_frames()) == []

"""Third-party payments: an import paid for by someone unrelated to the importer.

The importer buys the goods, so the importer (or its group) should pay the seller. A payment
settling an import from an account held by an unrelated party - above all one in another
jurisdiction - is a classic trade-based money-laundering channel: the goods settle a debt
between others (black-market peso exchange, hawala settlement) or hide who really pays.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

from graphiff.alerts import Alert
from graphiff.detectors.registry import register
from graphiff.graph.columns import col, iso_dates, text, text_objects
from graphiff.graph.features import settlements
from graphiff.graph.parties import officer_adjacency, within_hops
from graphiff.graph.tables import Tables

DEFAULTS: dict[str, Any] = {
    "related_hops": 2,
    "roles": None,
    "invoice_window_days": 365,
    "flag_unknown_holder": False,
}


def account_key(s: pd.Series) -> pd.Series:
    """Account ids as this detector compares them: upper case, spaces removed."""
    return text(s, upper=True).str.replace(" ", "", regex=False)


def _text_or_none(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def related_parties(tables: Tables, *, hops: int = 2, roles: list[str] | None = None) -> dict[str, set[str]]:
    """Adjacency of the undirected officer graph (``OFFICER_OF``, optionally only some roles):
    :func:`graphiff.graph.parties.officer_adjacency`. Parties within ``hops`` of an importer
    (:func:`graphiff.graph.parties.within_hops`) count as related to it (see
    :func:`detect_third_party_payment`)."""
    return officer_adjacency(tables, roles)


@register("third_party_payment", defaults=dict(DEFAULTS))
def detect_third_party_payment(
    tables: Tables,
    *,
    related_hops: int = 2,
    roles: list[str] | None = None,
    invoice_window_days: int = 365,
    flag_unknown_holder: bool = False,
) -> list[Alert]:
    """Payments settling an import from an account held by neither the importer nor a party
    related to it.

    Meaning: the buyer of the goods does not pay for them; someone else does, often from
    another country - a sign that the trade settles other debts (trade-based money laundering)
    or hides the real buyer.

    Parameters
    ----------
    tables : Tables
        Reads ``Payment`` (``from_account``, ``to_account``, ``date``, ``amount``,
        ``amount_usd``, ``invoice_no``, ``declaration_id``), ``Declaration``
        (``declaration_id``, ``invoice_no``, ``importer_id``, ``exporter_id``,
        ``importer_country``, ``date``), ``BankAccount`` (``holder_id``, ``bank_country``),
        ``Trader`` (``country``) and the ``OFFICER_OF`` relationships.
    related_hops : int, default 2
        A party is related to the importer when it is within this many hops of it in the
        undirected officer graph: 1 = its officers/owners/UBOs and the companies it is an
        officer of; 2 adds companies sharing an officer or owner with it (its group), the
        co-owners of its subsidiaries, and the owners of its parent.
    roles : list of str or None, default None
        Officer roles that make a relation (None = every role).
    invoice_window_days : int, default 365
        A payment matched by invoice number only must be within this many days of the
        declaration (invoice numbers are not unique across traders).
    flag_unknown_holder : bool, default False
        Also alert on payer accounts whose holder is unknown (not in ``BankAccount``); they
        score lower. Off by default: an unknown holder is missing data, not evidence.

    Returns
    -------
    list of Alert
        One per payer account (entities: that ``BankAccount``), with every third-party
        payment from it: payment ids, dates, amounts, the declarations settled, importers,
        the holder, the payer's ``bank_country`` and the importer's country. Score: 0.55, +0.25
        when the payer's bank is in another country than the importer, +0.1 when it is also
        not the exporter's country, +0.1 when the account pays for several unrelated
        importers.

    Notes
    -----
    Matching: the settled declarations of :func:`graphiff.graph.features.settlements`
    (``SETTLES``: by ``declaration_id``, else by ``invoice_no``); of the declarations an
    invoice number names, only those within ``invoice_window_days`` count, and those whose
    exporter holds the receiving account count (when the receiving account's holder is
    unknown, only an invoice number naming one declaration counts: reused invoice numbers do
    not make a payer a third party). Cost: hash joins plus a breadth-first
    search of ``related_hops`` per distinct importer, O(n + officers).
    """
    pay = tables.nodes("Payment")
    decl = tables.nodes("Declaration")
    if pay is None or decl is None or len(pay) == 0 or len(decl) == 0:
        return []
    settled = settlements(tables)
    if len(settled) == 0:
        return []
    acc = tables.nodes("BankAccount")
    traders = tables.nodes("Trader")

    # prepare: the settled declarations of each payment, with what the verdict needs (only
    # the payments and declarations that settle or are settled are read further)
    pkeys = text_objects(col(pay, "key"))
    prow = np.flatnonzero(pkeys.isin(settled["payment"]).to_numpy())
    pkeys = pkeys.iloc[prow]

    def pcol(name: str) -> pd.Series:
        return col(pay, name).iloc[prow]

    dkeys = text_objects(col(decl, "key"))
    drow = np.flatnonzero(dkeys.isin(settled["declaration"]).to_numpy())
    dkeys = dkeys.iloc[drow]

    def dcol(name: str) -> pd.Series:
        return col(decl, name).iloc[drow]

    p = pd.DataFrame({
        "payment": pkeys,
        "payment_id": text(pcol("payment_id")).fillna(text(pcol("key"))),
        "date": iso_dates(pcol("date")),
        "from_account": account_key(pcol("from_account")),
        "to_account": account_key(pcol("to_account")),
        "amount": pd.to_numeric(pcol("amount"), errors="coerce"),
        "currency": text(pcol("currency"), upper=True),
        "amount_usd": pd.to_numeric(pcol("amount_usd"), errors="coerce"),
        "_prow": prow,
    })
    d = pd.DataFrame({
        "declaration": dkeys,
        "decl_key": text(dcol("key")),
        "importer_id": text(dcol("importer_id")),
        "exporter_id": text(dcol("exporter_id")),
        "importer_country": text(dcol("importer_country"), upper=True),
        "exporter_country": text(dcol("exporter_country"), upper=True),
        "ddate": iso_dates(dcol("date")),
        "_drow": drow,
    })
    d = d[d["importer_id"].notna().to_numpy()]

    holder = {}
    bank_country = {}
    if acc is not None and len(acc):
        keys = account_key(col(acc, "account_id")).fillna(account_key(col(acc, "key")))
        for k, h, c in zip(keys, text(col(acc, "holder_id")), text(col(acc, "bank_country"), upper=True)):
            if isinstance(k, str):
                holder[k] = _text_or_none(h)
                bank_country[k] = _text_or_none(c)
    trader_country = {}
    if traders is not None and len(traders):
        tk = text(col(traders, "trader_id")).fillna(text(col(traders, "key")))
        for k, c in zip(tk, text(col(traders, "country"), upper=True)):
            if isinstance(k, str) and isinstance(c, str):
                trader_country[k] = c

    m = settled.merge(p, on="payment").merge(d, on="declaration")
    m = m.sort_values(["_prow", "_drow"], kind="stable", ignore_index=True)
    by_inv = (m["matched_on"] == "invoice_no").to_numpy()
    if by_inv.any():
        # an invoice match must be close in time to the declaration
        near = ((m["date"] - m["ddate"]).dt.days.abs() <= invoice_window_days).fillna(True).to_numpy()
        m = m[~by_inv | near].reset_index(drop=True)
        by_inv = (m["matched_on"] == "invoice_no").to_numpy()
    if by_inv.any():
        # invoice numbers are not unique (reused, typed again, shared by unrelated traders): a
        # payment matched by invoice number only settles a declaration whose seller it pays
        # (the exporter holds the receiving account); when the payee's holder is unknown, only
        # an invoice number that names a single declaration counts
        inv = m[by_inv]
        payee = [holder.get(t) for t in inv["to_account"].to_numpy(dtype=object, na_value=None)]
        seller = np.zeros(len(m), dtype=bool)
        unknown = np.zeros(len(m), dtype=bool)
        seller[by_inv] = [h is not None and h == e
                          for h, e in zip(payee, inv["exporter_id"].to_numpy(dtype=object, na_value=None))]
        unknown[by_inv] = [h is None for h in payee]
        n_decl = np.zeros(len(m), dtype=np.int64)
        n_decl[by_inv] = inv.groupby("payment_id")["declaration"].transform("nunique").to_numpy()
        m = m[~by_inv | seller | (unknown & (n_decl == 1))].reset_index(drop=True)
    if len(m) == 0:
        return []

    adj = related_parties(tables, hops=related_hops, roles=roles)
    related_cache: dict[str, set[str]] = {}

    def related(importer: str) -> set[str]:
        if importer not in related_cache:
            related_cache[importer] = within_hops(adj, importer, related_hops)
        return related_cache[importer]

    # one verdict per payment: third party unless the payer is related to any importer it
    # settles (vectorised over the matches; the python loop only builds the evidence)
    acct_arr = m["from_account"].to_numpy(dtype=object)
    imp_arr = m["importer_id"].to_numpy(dtype=object)
    holders = np.array([holder.get(a) if isinstance(a, str) else None for a in acct_arr], dtype=object)
    is_related = np.array([h is not None and isinstance(i, str) and (h == i or h in related(i))
                           for h, i in zip(holders, imp_arr)], dtype=bool)
    usable = np.array([isinstance(a, str) for a in acct_arr], dtype=bool)
    if not flag_unknown_holder:
        usable &= np.array([h is not None for h in holders], dtype=bool)
    m = m.assign(_related=is_related, _usable=usable)
    any_related = m.groupby("payment_id")["_related"].transform("any").to_numpy(dtype=bool)
    all_usable = m.groupby("payment_id")["_usable"].transform("all").to_numpy(dtype=bool)
    m = m[~any_related & all_usable]

    findings: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for pid, grp in m.groupby("payment_id", sort=True):
        acct = grp["from_account"].iloc[0]
        importers = sorted({i for i in grp["importer_id"] if isinstance(i, str)})
        first = grp.iloc[0]
        imp_country = (_text_or_none(first["importer_country"])
                       or (trader_country.get(importers[0]) if importers else None))
        exp_id = _text_or_none(first["exporter_id"])
        exp_country = _text_or_none(first["exporter_country"]) or (trader_country.get(exp_id) if exp_id else None)
        findings[acct].append({
            "payment_id": pid,
            "date": None if pd.isna(first["date"]) else f"{first['date']:%Y-%m-%d}",
            "amount": None if pd.isna(first["amount"]) else float(first["amount"]),
            "currency": _text_or_none(first["currency"]),
            "amount_usd": None if pd.isna(first["amount_usd"]) else float(first["amount_usd"]),
            "to_account": _text_or_none(first["to_account"]),
            "matched_on": first["matched_on"],
            "declarations": sorted({k for k in grp["decl_key"] if isinstance(k, str)}),
            "importers": importers,
            "importer_country": imp_country,
            "exporter_id": exp_id,
            "exporter_country": exp_country,
        })

    alerts: list[Alert] = []
    for acct, pays in sorted(findings.items()):
        h = holder.get(acct)
        bc = bank_country.get(acct)
        importers = sorted({i for x in pays for i in x["importers"]})
        imp_countries = sorted({x["importer_country"] for x in pays if x["importer_country"]})
        exp_countries = sorted({x["exporter_country"] for x in pays if x["exporter_country"]})
        foreign = bool(bc and imp_countries and bc not in imp_countries)
        third_country = foreign and bool(exp_countries) and bc not in exp_countries
        score = 0.55 if h is not None else 0.4
        score += 0.25 if foreign else 0.0
        score += 0.1 if third_country else 0.0
        score += 0.1 if len(importers) > 1 else 0.0
        decls = sorted({k for x in pays for k in x["declarations"]})
        total_usd = sum(x["amount_usd"] or 0.0 for x in pays)
        where = (f"a {bc} account" if bc else "an account") + (
            f" (importer in {', '.join(imp_countries)})" if foreign else "")
        explanation = (
            f"Account {acct}, held by {h or 'an unknown holder'}, {where}, paid {len(pays)} payment(s)"
            + (f" totalling {total_usd:,.0f} USD" if total_usd else "")
            + f" settling {len(decls)} declaration(s) imported by {', '.join(importers)}, "
            f"a party neither the importer nor related to it"
        )
        evidence = {
            "payer_account": acct, "holder_id": h, "bank_country": bc,
            "importers": importers, "importer_countries": imp_countries, "exporter_countries": exp_countries,
            "foreign_payer": foreign, "third_country_payer": third_country,
            "payments": [x["payment_id"] for x in pays], "declarations": decls, "details": pays,
            "related_hops": related_hops,
        }
        alerts.append(Alert(pattern="third_party_payment", score=score,
                            entities=[{"label": "BankAccount", "id": acct}],
                            explanation=explanation, evidence=evidence))
    return alerts

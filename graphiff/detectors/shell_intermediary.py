"""Shell intermediaries: pass-through and re-invoicing traders (README, "Detectors").

A shell intermediary buys goods and resells the same goods within days, with money passing
through its accounts just as fast, and shows the structural marks of a company with no real
business: recently registered, no staff, an address shared with many companies, a director
who directs many companies, a secrecy jurisdiction. Often it is seen from one side only: an
import declaration names it (in a third jurisdiction) as the seller while the goods are
dispatched from the supplier's country, its own purchase is declared by no administration
whose data is loaded, and the importer's money leaves its account within days. Each
indicator is in [0, 1]; the score is their weighted sum; an alert needs the goods to pass
through (both sides seen, or re-invoicing with the money passing through) and a score at or
above the threshold, so an established distributor (staff, slow turnover) is never flagged.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from graphiff.alerts import Alert
from graphiff.detectors.circular_trade import import_lags
from graphiff.detectors.registry import register
from graphiff.graph.algorithms import window_join
from graphiff.graph.columns import col, day_numbers, num, text_objects
from graphiff.graph.features import (
    account_holders,
    identifier_links,
    money_edges,
    officer_table,
    trade_edges,
)
from graphiff.graph.tables import Tables

SECRECY_JURISDICTIONS = [
    # a working list of high-secrecy jurisdictions (Tax Justice Network FSI, FATF grey/black lists);
    # configure per administration
    "AE", "AG", "AI", "BB", "BM", "BS", "BZ", "CW", "CY", "GG", "GI", "IM", "JE", "KN", "KY", "LB", "LC", "LI",
    "LR", "MC", "MH", "MO", "MT", "MU", "NR", "PA", "SC", "SM", "TC", "VC", "VG", "VU", "WS",
]

WEIGHTS = {
    "pass_through": 0.30,
    "value_pattern": 0.10,
    "fast_money": 0.15,
    "recent_registration": 0.10,
    "few_employees": 0.10,
    "shared_address": 0.10,
    "mass_director": 0.10,
    "secrecy_jurisdiction": 0.05,
}

DEFAULTS: dict[str, Any] = {
    "resale_days": 30,
    "min_pass_pairs": 2,
    "min_pass_share": 0.5,
    "mass_tol": 1.5,
    "close_tol": 1.25,
    "markup_ratio": 2.0,
    "money_days": 14,
    "money_tol": 1.5,
    "min_money_share": 0.3,
    "min_reinvoiced": 2,
    "min_flow_share": 0.5,
    "import_lag_days": 14,
    "recent_days": 365,
    "max_employees": 2,
    "address_min_companies": 5,
    "director_min_companies": 5,
    "secrecy_jurisdictions": SECRECY_JURISDICTIONS,
    "weights": WEIGHTS,
    "threshold": 0.6,
    "max_evidence_pairs": 25,
}


def pass_through_pairs(edges: pd.DataFrame, *, resale_days: int = 30, mass_tol: float = 1.5) -> pd.DataFrame:
    """Buy-then-resell pairs: a trader's purchase (shipment into it) and a later sale
    (shipment out of it) of the same HS6 within ``resale_days``, with comparable net mass
    (within ``mass_tol``; value is used when a mass is missing, with the wider
    ``mass_tol * 2`` to allow a markup). With a ``lag`` column (days), a purchase may be dated
    up to its lag after the sale (a purchase known only from its import declaration, filed
    late). Each sale is paired with its closest earlier purchase that fits. Columns:
    ``trader, hs6, buy_edge, sell_edge, buy_decl, sell_decl, buy_date, sell_date, days,
    buy_value, sell_value, buy_mass, sell_mass, supplier, buyer``."""
    cols = ["trader", "hs6", "buy_edge", "sell_edge", "buy_decl", "sell_decl", "buy_date", "sell_date", "days",
            "buy_value", "sell_value", "buy_mass", "sell_mass", "supplier", "buyer"]
    if not len(edges):
        return pd.DataFrame(columns=cols)
    buys = edges[["edge", "dst", "src", "hs6", "t", "decl", "date", "value_usd", "net_mass_kg"]].rename(columns={
        "edge": "buy_edge", "dst": "trader", "src": "supplier", "t": "buy_t", "decl": "buy_decl", "date": "buy_date",
        "value_usd": "buy_value", "net_mass_kg": "buy_mass"})
    sells = edges[["edge", "src", "dst", "hs6", "t", "decl", "date", "value_usd", "net_mass_kg"]].rename(columns={
        "edge": "sell_edge", "src": "trader", "dst": "buyer", "t": "sell_t", "decl": "sell_decl", "date": "sell_date",
        "value_usd": "sell_value", "net_mass_kg": "sell_mass"})
    # only traders that both buy and sell the same goods
    both = pd.merge(buys[["trader", "hs6"]].drop_duplicates(), sells[["trader", "hs6"]].drop_duplicates())
    if not len(both):
        return pd.DataFrame(columns=cols)
    buys = buys.merge(both)
    sells = sells.merge(both)
    lag = edges.set_index("edge")["lag"].reindex(buys["buy_edge"].to_numpy()).fillna(0).to_numpy(np.int64) \
        if "lag" in edges.columns else np.zeros(len(buys), dtype=np.int64)
    buys = buys.assign(buy_t0=buys["buy_t"].to_numpy(np.int64) - np.maximum(lag, 0))
    m = window_join(sells, buys, ["trader", "hs6"], "sell_t", "buy_t0", int(resale_days) + int(lag.max(initial=0)))
    m["days"] = (m["sell_t"] - m["buy_t"]).astype(np.int64)
    m = m[(m["days"] <= int(resale_days)).to_numpy()]
    m = m[m["sell_edge"] != m["buy_edge"]]
    bm, sm = m["buy_mass"].to_numpy(float), m["sell_mass"].to_numpy(float)
    bv, sv = m["buy_value"].to_numpy(float), m["sell_value"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mr = np.maximum(bm, sm) / np.minimum(bm, sm)
        vr = np.maximum(bv, sv) / np.minimum(bv, sv)
    have_mass = (bm > 0) & (sm > 0)
    ok = np.where(have_mass, mr <= mass_tol, (bv > 0) & (sv > 0) & (vr <= mass_tol * 2))
    m = m[ok]
    # each sale with its closest earlier purchase
    m = m.assign(_gap=m["days"].abs()).sort_values(["sell_edge", "_gap", "buy_edge"]).drop_duplicates("sell_edge")
    return m[cols].reset_index(drop=True)


def fast_money_pairs(tables: Tables, *, money_days: int = 7, money_tol: float = 1.5) -> pd.DataFrame:
    """Money in and straight out: per holder, an outgoing payment from one of its accounts
    within ``money_days`` after an incoming payment to one of its accounts, amounts within
    ``money_tol``. Transfers between one holder's own accounts are ignored. Columns
    ``holder, in_payment, out_payment, in_date, out_date, days, in_usd, out_usd``."""
    cols = ["holder", "in_payment", "out_payment", "in_date", "out_date", "days", "in_usd", "out_usd"]
    e = money_edges(tables)
    if not len(e):
        return pd.DataFrame(columns=cols)
    e = e[e["src_holder"].astype(object) != e["dst_holder"].astype(object)]
    ins = e[e["dst_holder"].notna()][["dst_holder", "payment", "t", "date", "amount_usd"]].rename(columns={
        "dst_holder": "holder", "payment": "in_payment", "t": "in_t", "date": "in_date", "amount_usd": "in_usd"})
    outs = e[e["src_holder"].notna()][["src_holder", "payment", "t", "date", "amount_usd"]].rename(columns={
        "src_holder": "holder", "payment": "out_payment", "t": "out_t", "date": "out_date", "amount_usd": "out_usd"})
    both = pd.merge(ins[["holder"]].drop_duplicates(), outs[["holder"]].drop_duplicates())
    if not len(both):
        return pd.DataFrame(columns=cols)
    m = window_join(outs.merge(both), ins.merge(both), ["holder"], "out_t", "in_t", money_days)
    a, b = m["in_usd"].to_numpy(float), m["out_usd"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.maximum(a, b) / np.minimum(a, b)
    m = m[(a > 0) & (b > 0) & (r <= money_tol)]
    m = m.sort_values(["out_payment", "days", "in_payment"]).drop_duplicates("out_payment")
    return m[cols].reset_index(drop=True)


def reinvoiced_declarations(tables: Tables) -> pd.DataFrame:
    """Declarations whose seller is not where the goods come from: the exporter's country
    (as declared, else ``Trader.country``) differs from ``dispatch_country`` (else
    ``origin_country`` when no dispatch country is given). One row per declaration item:
    ``trader`` (the exporter), ``decl``, ``declaration_id``, ``importer``, ``date``, ``t``,
    ``hs6``, ``value_usd``, ``seller_country``, ``dispatch_country``, ``flow``. Cost: O(D),
    vectorised."""
    cols = ["trader", "decl", "declaration_id", "importer", "date", "t", "hs6", "value_usd", "seller_country",
            "dispatch_country", "flow"]
    d = tables.nodes("Declaration")
    if d is None or not len(d) or "exporter_id" not in d.columns:
        return pd.DataFrame(columns=cols)
    # a cheap superset first (raw columns), the exact test on the few rows left
    rd, ro, rs = col(d, "dispatch_country"), col(d, "origin_country"), col(d, "exporter_country")
    rdisp = rd.where(rd.notna(), ro)
    pre = (rdisp.notna() & (rs.isna() | (rdisp.astype(object) != rs.astype(object)))).to_numpy(dtype=bool)
    if not pre.any():
        return pd.DataFrame(columns=cols)
    d = d[pre]
    disp = text_objects(col(d, "dispatch_country"))
    disp = disp.where(disp.notna(), text_objects(col(d, "origin_country")))
    exp = text_objects(col(d, "exporter_id"))
    seller = text_objects(col(d, "exporter_country"))
    tr = tables.nodes("Trader")
    if seller.isna().any() and len(tr) and "country" in tr.columns:
        seller = seller.where(seller.notna(), exp.map(dict(zip(tr["key"].astype(str), text_objects(tr["country"])))))
    differ = (disp.astype(object).str.upper() != seller.astype(object).str.upper()).fillna(False)
    hit = (disp.notna() & seller.notna() & exp.notna() & differ).to_numpy(dtype=bool)
    if not hit.any():
        return pd.DataFrame(columns=cols)
    sub = d[hit]
    f = pd.DataFrame({
        "trader": exp[hit].to_numpy(dtype=object), "decl": text_objects(col(sub, "key")).to_numpy(dtype=object),
        "declaration_id": text_objects(col(sub, "declaration_id")).to_numpy(dtype=object),
        "importer": text_objects(col(sub, "importer_id")).to_numpy(dtype=object),
        "date": text_objects(col(sub, "date")).str.slice(0, 10).to_numpy(dtype=object),
        "hs6": text_objects(col(sub, "hs6")).to_numpy(dtype=object),
        "value_usd": num(col(sub, "value_usd")).to_numpy(dtype=float),
        "seller_country": seller[hit].to_numpy(dtype=object), "dispatch_country": disp[hit].to_numpy(dtype=object),
        "flow": text_objects(col(sub, "flow")).to_numpy(dtype=object),
    })
    f = f[f["date"].notna()].reset_index(drop=True)
    f["t"] = day_numbers(f["date"])
    return f[cols]


def money_through(tables: Tables, holders: set[str], *, money_days: int = 7) -> pd.DataFrame:
    """How much of the money a holder receives leaves again within ``money_days``: per holder
    of ``holders``, ``in_usd`` (received from others), ``out_fast_usd`` (paid to others
    within ``money_days`` after a receipt), ``share`` (``out_fast / in``, at most 1), ``n_in``,
    ``n_out_fast``. Split or netted onward payments count, unlike the one-to-one pairs of
    :func:`fast_money_pairs`. Cost: one windowed join of the holders' payments."""
    cols = ["in_usd", "out_fast_usd", "share", "n_in", "n_out_fast"]
    e = money_edges(tables)
    if not len(e) or not holders:
        return pd.DataFrame(columns=cols)
    e = e[e["src_holder"].astype(object) != e["dst_holder"].astype(object)]
    ins = e[e["dst_holder"].isin(holders)][["dst_holder", "t", "amount_usd"]].rename(
        columns={"dst_holder": "holder", "t": "in_t", "amount_usd": "in_usd"})
    outs = e[e["src_holder"].isin(holders)][["src_holder", "payment", "t", "amount_usd"]].rename(
        columns={"src_holder": "holder", "t": "out_t", "amount_usd": "out_usd"})
    if not len(ins):
        return pd.DataFrame(columns=cols)
    per = ins.groupby("holder").agg(in_usd=("in_usd", "sum"), n_in=("in_t", "size"))
    per["out_fast_usd"] = 0.0
    per["n_out_fast"] = 0
    if len(outs):
        m = window_join(outs, ins, ["holder"], "out_t", "in_t", int(money_days)).drop_duplicates("payment")
        if len(m):
            g = m.groupby("holder").agg(out_fast_usd=("out_usd", "sum"), n_out_fast=("payment", "size"))
            per.loc[g.index, "out_fast_usd"] = g["out_fast_usd"].to_numpy()
            per.loc[g.index, "n_out_fast"] = g["n_out_fast"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        per["share"] = np.minimum(1.0, per["out_fast_usd"] / per["in_usd"].where(per["in_usd"] > 0))
    per["share"] = per["share"].fillna(0.0)
    return per[cols]


def _company_counts(tables: Tables, traders: set[str]
                    ) -> tuple[dict[str, tuple[str, int]], dict[str, list[tuple[str, int]]]]:
    """(trader -> (address, companies at it) for the most shared address,
    trader -> [(director, companies directed)]), for ``traders`` (the counts still over every
    company: only the addresses and directors of ``traders`` are counted)."""
    ids = identifier_links(tables, labels=("Trader", "Carrier"))
    addr = ids[ids["id_label"] == "Address"]
    shared: dict[str, tuple[str, int]] = {}
    if len(addr):
        theirs = addr["id_key"][((addr["label"] == "Trader") & addr["key"].isin(traders)).to_numpy()]
        addr = addr[addr["id_key"].isin(set(theirs)).to_numpy()]
    if len(addr):
        n = addr.groupby("id_key")["key"].transform("nunique")
        a = addr.assign(n=n.to_numpy())
        a = a[a["label"] == "Trader"].sort_values(["key", "n"], ascending=[True, False]).drop_duplicates("key")
        shared = {k: (ad, int(c)) for k, ad, c in zip(a["key"], a["id_key"], a["n"])}
    off = officer_table(tables)
    directors: dict[str, list[tuple[str, int]]] = {}
    if len(off):
        d = off[off["role"] == "DIRECTOR"]
        if len(d):
            who = d["officer_label"] + ":" + d["officer"]
            theirs = who[((d["company_label"] == "Trader") & d["company"].isin(traders)).to_numpy()]
            d = d[who.isin(set(theirs)).to_numpy()]
        if len(d):
            cnt = d.groupby(["officer_label", "officer"])["company"].transform("nunique")
            d = d.assign(n=cnt.to_numpy())
            d = d[d["company_label"] == "Trader"]
            for comp, off_id, olabel, c in zip(d["company"], d["officer"], d["officer_label"], d["n"]):
                directors.setdefault(comp, []).append((f"{olabel}:{off_id}", int(c)))
    return shared, directors


@register("shell_intermediary", defaults=DEFAULTS)
def shell_intermediary(tables: Tables, **params: Any) -> list[Alert]:
    """Shell intermediaries: traders that pass goods (and money) straight through.

    Indicators, each in [0, 1], weighted (``weights``) and summed into the score:

    - ``pass_through``: the trader resells the same HS6 within ``resale_days`` of buying it,
      at comparable net mass - at least ``min_pass_pairs`` such buy/sell pairs and at least
      ``min_pass_share`` of its sales (by count). REQUIRED for an alert.
    - ``value_pattern``: the median sell/buy value ratio of those pairs is within
      ``close_tol`` (back-to-back invoicing) or at least ``markup_ratio`` (or at most its
      inverse: a markup that moves profit).
    - ``fast_money``: money paid out of its accounts within ``money_days`` of money coming
      in, amounts within ``money_tol``, for at least ``min_money_share`` of its outflows.
    - ``recent_registration``: registered at most ``recent_days`` before its first trade
      (or after it).
    - ``few_employees``: at most ``max_employees`` staff (1), or the number unknown (0.5).
    - ``shared_address``: its address is shared by at least ``address_min_companies``
      traders/carriers.
    - ``mass_director``: a DIRECTOR of it directs at least ``director_min_companies``
      companies.
    - ``secrecy_jurisdiction``: registered, or holding an account, in one of
      ``secrecy_jurisdictions`` (ISO alpha-2 list).

    Parameters
    ----------
    tables : Tables
    resale_days : int, default 30
        Days from a purchase to the resale of the same goods (a sale known from the buyer's
        import declaration is dated on arrival, days to weeks after it left).
    min_pass_pairs : int, default 2
    min_pass_share : float, default 0.5
    mass_tol : float, default 1.5
    close_tol : float, default 1.25
        Resold within this factor of the purchase value: back-to-back invoicing (CIF/FOB and
        a thin margin included).
    markup_ratio : float, default 2.0
    money_days : int, default 14
    money_tol : float, default 1.5
    min_money_share : float, default 0.3
    min_reinvoiced : int, default 2
        Re-invoiced sales (seen from one side only) needed, at least ``min_pass_share`` of
        the trader's sales.
    min_flow_share : float, default 0.5
        Share of the money received that leaves within ``money_days`` (re-invoicing needs it).
    import_lag_days : int, default 14
        A purchase known only from its import declaration (filed late) may be dated up to this
        many days after the sale.
    recent_days : int, default 365
    max_employees : int, default 2
    address_min_companies : int, default 5
    director_min_companies : int, default 5
    secrecy_jurisdictions : list of str
    weights : dict, default :data:`WEIGHTS` (sums to 1)
    threshold : float, default 0.6
    max_evidence_pairs : int, default 25

    Returns
    -------
    list of Alert
        One per flagged trader; ``entities``: the Trader; ``evidence``: ``indicators``
        (value, weight, detail per indicator), ``pass_through`` (buy/sell declaration
        pairs with dates and values), ``declarations``, ``payments`` (fast in/out pairs).

    Notes
    -----
    Cost: one self-join of each trader's purchases and sales of the same HS6, restricted to
    traders that both buy and sell it; one join of each holder's incoming and outgoing
    payments; O(D + P) otherwise.
    """
    p = {**DEFAULTS, **params}
    weights = {**WEIGHTS, **(p.get("weights") or {})}
    e = trade_edges(tables, hs_level=6)
    e = e.assign(lag=import_lags(tables, e, int(p["import_lag_days"])))
    pairs = pass_through_pairs(e, resale_days=int(p["resale_days"]), mass_tol=float(p["mass_tol"]))
    n_sales = e.groupby("src").size()
    pass_ids: set[str] = set()
    if len(pairs):
        per = pairs.groupby("trader").agg(n=("sell_edge", "size"))
        per["sales"] = n_sales.reindex(per.index).fillna(0).astype(int)
        per["share"] = per["n"] / per["sales"].clip(lower=1)
        pass_ids = set(per[(per["n"] >= int(p["min_pass_pairs"]))
                           & (per["share"] >= float(p["min_pass_share"]))].index)
    # seen from one side only: sold by a trader in one country, dispatched from another
    reinv = reinvoiced_declarations(tables)
    re_ids: set[str] = set()
    re_count: dict[str, int] = {}
    if len(reinv):
        r = reinv.groupby("trader")["declaration_id"].nunique()
        share = r / np.maximum(r.to_numpy(), n_sales.reindex(r.index).fillna(0).to_numpy())
        ok = (r >= int(p["min_reinvoiced"])) & (share >= float(p["min_pass_share"]))
        re_ids = set(r[ok].index) - pass_ids
        re_count = {k: int(v) for k, v in r.items() if k in re_ids}
    flow = money_through(tables, pass_ids | re_ids, money_days=int(p["money_days"]))
    flow_ok = set(flow.index[flow["share"] >= float(p["min_flow_share"])]) if len(flow) else set()
    re_ids &= flow_ok  # without its purchase in the data, the money must show the pass-through
    cand_ids = pass_ids | re_ids
    if not cand_ids:
        return []
    pairs = pairs[pairs["trader"].isin(cand_ids)]
    reinv = reinv[reinv["trader"].isin(re_ids)] if len(reinv) else reinv
    first_t = pd.concat([e[["src", "t"]].rename(columns={"src": "k"}), e[["dst", "t"]].rename(columns={"dst": "k"})])
    first_t = first_t.groupby("k")["t"].min()

    traders = tables.nodes("Trader")
    if len(traders):  # the candidates' rows only, before their columns are converted
        traders = traders[text_objects(col(traders, "key")).isin(cand_ids).to_numpy()]
    tinfo: dict[str, dict] = {}
    if len(traders):
        tr = pd.DataFrame({
            "key": text_objects(col(traders, "key")), "country": text_objects(col(traders, "country")),
            "registration_date": text_objects(col(traders, "registration_date")),
            "employees": num(col(traders, "employees")), "origin": text_objects(col(traders, "origin")),
            "name": text_objects(col(traders, "name")),
        })
        tr["reg_t"] = day_numbers(tr["registration_date"].astype(object).where(tr["registration_date"].notna(), None))
        tinfo = {r["key"]: r for r in tr.to_dict("records")}
    ctry_decl = dict(zip(e["src"], e["src_country"])) | dict(zip(e["dst"], e["dst_country"]))

    money = fast_money_pairs(tables, money_days=int(p["money_days"]), money_tol=float(p["money_tol"]))
    money = money[money["holder"].isin(cand_ids)]
    m_edges = money_edges(tables)
    outflows = m_edges[m_edges["src_holder"].isin(cand_ids)
                       & (m_edges["src_holder"].astype(object) != m_edges["dst_holder"].astype(object))]
    n_out = outflows.groupby("src_holder").size()
    holders = account_holders(tables)
    acc = tables.nodes("BankAccount")
    acct_countries: dict[str, set[str]] = {}
    if len(acc) and "bank_country" in acc.columns:
        acc = acc[acc["key"].astype(str).map(holders).isin(cand_ids).to_numpy()]  # the candidates' accounts
        for k, c in zip(acc["key"].astype(str), text_objects(acc["bank_country"])):
            if c:
                acct_countries.setdefault(holders[k], set()).add(c)
    shared, directors = _company_counts(tables, cand_ids)
    secrecy = {c.upper() for c in p["secrecy_jurisdictions"]}
    INT_MIN = np.iinfo(np.int64).min

    pairs_by = {k: g for k, g in pairs.groupby("trader", sort=False)}
    reinv_by = {k: g for k, g in reinv.groupby("trader", sort=False)} if len(reinv) else {}
    money_by = {k: g for k, g in money.groupby("holder", sort=False)}
    no_money = money.iloc[0:0]
    no_pairs = pairs.iloc[0:0]
    alerts = []
    for trader in sorted(cand_ids):
        tp = pairs_by.get(trader, no_pairs)
        ri = reinv_by.get(trader)
        ind: dict[str, dict] = {}
        if trader in pass_ids:
            ind["pass_through"] = {"value": 1.0,
                                   "detail": f"{len(tp)} of {int(n_sales.get(trader, 0))} sales resold within "
                                             f"{int(tp['days'].max())} days of purchase "
                                             f"(median {float(tp['days'].median()):g})"}
        else:
            assert ri is not None
            fr = flow.loc[trader]
            ind["pass_through"] = {"value": 1.0,
                                   "detail": f"invoiced {re_count[trader]} sales of goods dispatched from "
                                             f"{', '.join(sorted(set(ri['dispatch_country'])))} while in "
                                             f"{', '.join(sorted(set(ri['seller_country'])))}, its own purchase "
                                             f"declared nowhere in the data; {float(fr['share']):.0%} of the money "
                                             f"it received left within {int(p['money_days'])} days"}
        with np.errstate(divide="ignore", invalid="ignore"):
            r = (tp["sell_value"] / tp["buy_value"]).replace([np.inf, -np.inf], np.nan).dropna()
        r = r[r > 0]
        vp = 0.0
        vdetail = "values unknown"
        if len(r):
            med = float(r.median())
            if max(med, 1 / med) <= float(p["close_tol"]):
                vp, vdetail = 1.0, f"resold at {med:.2f}x the purchase value (back-to-back)"
            elif med >= float(p["markup_ratio"]) or med <= 1 / float(p["markup_ratio"]):
                vp, vdetail = 1.0, f"resold at {med:.2f}x the purchase value (profit moved)"
            else:
                vdetail = f"resold at {med:.2f}x the purchase value"
        tm = money_by.get(trader, no_money)
        if ri is not None and len(tm):
            # no purchase values in the data: what it pays on against what it receives
            with np.errstate(divide="ignore", invalid="ignore"):
                mr = (tm["in_usd"] / tm["out_usd"]).replace([np.inf, -np.inf], np.nan).dropna()
            mr = mr[mr > 0]
            if len(mr):
                med = float(mr.median())
                if max(med, 1 / med) <= float(p["close_tol"]):
                    vp, vdetail = 1.0, f"paid on {1 / med:.2f}x what it received (back-to-back invoicing)"
                elif med >= float(p["markup_ratio"]):
                    vp, vdetail = 1.0, f"paid on {1 / med:.2f}x what it received (profit kept offshore)"
                else:
                    vdetail = f"paid on {1 / med:.2f}x what it received"
        ind["value_pattern"] = {"value": vp, "detail": vdetail}
        no = int(n_out.get(trader, 0))
        share = len(tm) / no if no else 0.0
        fshare = float(flow.at[trader, "share"]) if trader in flow.index else 0.0
        fast = (len(tm) and share >= float(p["min_money_share"])) or fshare >= float(p["min_flow_share"])
        ind["fast_money"] = {"value": 1.0 if fast else 0.0,
                             "detail": f"{len(tm)} of {no} outgoing payments within {int(p['money_days'])} days of a "
                                       f"comparable incoming one; {fshare:.0%} of the money received left within "
                                       f"{int(p['money_days'])} days"}
        info = tinfo.get(trader, {})
        reg_t = info.get("reg_t", INT_MIN)
        ft = int(first_t.get(trader, INT_MIN))
        if reg_t is not None and reg_t != INT_MIN and ft != INT_MIN:
            age = ft - int(reg_t)
            ind["recent_registration"] = {"value": 1.0 if age <= int(p["recent_days"]) else 0.0,
                                          "detail": f"registered {info.get('registration_date')}, {age} days "
                                                    f"before its first trade"}
        else:
            ind["recent_registration"] = {"value": 0.0, "detail": "registration date unknown"}
        emp = info.get("employees", np.nan)
        if emp == emp and emp is not None:
            ind["few_employees"] = {"value": 1.0 if emp <= int(p["max_employees"]) else 0.0,
                                    "detail": f"{int(emp)} employee(s)"}
        else:
            ind["few_employees"] = {"value": 0.5, "detail": "number of employees unknown"}
        ad = shared.get(trader)
        ind["shared_address"] = {"value": 1.0 if ad and ad[1] >= int(p["address_min_companies"]) else 0.0,
                                 "detail": (f"address {ad[0]!r} shared by {ad[1]} companies" if ad
                                            else "no shared address")}
        dirs = sorted(directors.get(trader, []), key=lambda x: -x[1])
        big = [d for d in dirs if d[1] >= int(p["director_min_companies"])]
        ind["mass_director"] = {"value": 1.0 if big else 0.0,
                                "detail": (f"director {big[0][0].split(':', 1)[1]} directs {big[0][1]} companies" if big
                                           else (f"directors direct at most {dirs[0][1]} companies" if dirs
                                                 else "no directors known"))}
        country = info.get("country") or ctry_decl.get(trader)
        places = ({country} if country else set()) | acct_countries.get(trader, set())
        hit = sorted(x for x in places if x and x.upper() in secrecy)
        ind["secrecy_jurisdiction"] = {"value": 1.0 if hit else 0.0,
                                       "detail": ("in " + ", ".join(hit)) if hit else "no secrecy jurisdiction"}
        for k, v in ind.items():
            v["weight"] = float(weights.get(k, 0.0))
        score = sum(v["value"] * v["weight"] for v in ind.values())
        if score < float(p["threshold"]):
            continue
        tp_sorted = tp.sort_values(["sell_date", "sell_decl"])
        red = [k for k, v in ind.items() if k != "pass_through" and v["value"] >= 1.0]
        where = f" ({country})" if country else ""
        if ri is None:
            hs = sorted(set(tp["hs6"]))
            expl = (f"trader {trader}{where} resold HS {', '.join(hs[:3])} "
                    f"{len(tp)} times within {int(tp['days'].max())} days of buying it")
        else:
            hs = sorted({h for h in ri["hs6"] if h})
            expl = f"trader {trader}{where} re-invoiced HS {', '.join(hs[:3])}: {ind['pass_through']['detail']}"
        expl += "".join("; " + ind[k]["detail"] for k in red)
        ri_sorted = (ri.sort_values(["t", "decl"]).head(int(p["max_evidence_pairs"])) if ri is not None
                     else None)
        evidence = {
            "indicators": ind,
            "pass_through": [
                {"buy_declaration": r.buy_decl, "sell_declaration": r.sell_decl, "hs6": r.hs6,
                 "buy_date": r.buy_date, "sell_date": r.sell_date, "days": int(r.days),
                 "supplier": r.supplier, "buyer": r.buyer,
                 "buy_value_usd": None if r.buy_value != r.buy_value else float(r.buy_value),
                 "sell_value_usd": None if r.sell_value != r.sell_value else float(r.sell_value)}
                for r in tp_sorted.head(int(p["max_evidence_pairs"])).itertuples(index=False)
            ],
            "n_pass_through": int(len(tp)),
            "re_invoiced": [] if ri_sorted is None else [
                {"declaration": r.decl, "date": r.date, "importer": r.importer, "hs6": r.hs6,
                 "value_usd": None if r.value_usd != r.value_usd else float(r.value_usd),
                 "seller_country": r.seller_country, "dispatch_country": r.dispatch_country}
                for r in ri_sorted.itertuples(index=False)],
            "declarations": sorted(set(tp["buy_decl"]) | set(tp["sell_decl"])
                                   | (set() if ri is None else set(ri["decl"]))),
            "payments": [{"in": r.in_payment, "out": r.out_payment, "in_date": r.in_date, "out_date": r.out_date,
                          "in_usd": float(r.in_usd), "out_usd": float(r.out_usd)}
                         for r in tm.head(int(p["max_evidence_pairs"])).itertuples(index=False)],
        }
        alerts.append(Alert(pattern="shell_intermediary", score=round(score, 4),
                            entities=[{"label": "Trader", "id": trader}], explanation=expl, evidence=evidence))
    alerts.sort(key=lambda a: (-a.score, a.id))
    return alerts

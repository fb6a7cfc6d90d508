"""Pass-through (funnel) accounts: many senders in, many receivers out, the money gone within days.

FinCEN Advisory FIN-2014-A005 ("funnel accounts") describes accounts that take in money from
many depositors, often in several places, and see it withdrawn or wired on shortly after; FATF,
*Professional Money Laundering* (2018), describes the same role for the collection accounts of
money-laundering networks (fan-in / fan-out). What sets such an account apart from a busy
business account is not its number of counterparties but what happens to the money: almost
all of what comes in goes out again (flow-through ratio near 1), little stays (low residual
balance), and it stays only days (short dwell time).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from graphiff.alerts import Alert
from graphiff.detectors.registry import register
from graphiff.graph.features import money_edges
from graphiff.graph.tables import Tables

DEFAULTS: dict[str, Any] = {
    "min_senders": 3,
    "min_receivers": 3,
    "min_flow_ratio": 0.85,
    "max_flow_ratio": 1.1,
    "max_dwell_days": 20.0,
    "min_total_usd": 0.0,
    "max_counterparties": 0,
    "max_evidence_payments": 60,
}


def account_flows(tables: Tables) -> pd.DataFrame:
    """Money in and out per account: one row per payment end, ``acct``, ``t`` (day), ``amt``
    (USD, positive in, negative out), ``cp`` (the other account), ``payment``, ``date``, sorted
    by account, day, and incoming before outgoing on the same day. Payments without a USD
    amount and transfers of an account to itself are left out. Cost: O(P log P)."""
    e = money_edges(tables)
    e = e[e["amount_usd"].notna().to_numpy() & (e["amount_usd"] > 0).to_numpy()
          & (e["src"] != e["dst"]).to_numpy()]
    cols = ["acct", "t", "amt", "cp", "payment", "date"]
    if not len(e):
        return pd.DataFrame(columns=cols)
    amt = e["amount_usd"].to_numpy(dtype=float)
    f = pd.DataFrame({
        "acct": np.concatenate([e["dst"].to_numpy(dtype=object), e["src"].to_numpy(dtype=object)]),
        "t": np.concatenate([e["t"].to_numpy(np.int64), e["t"].to_numpy(np.int64)]),
        "amt": np.concatenate([amt, -amt]),
        "cp": np.concatenate([e["src"].to_numpy(dtype=object), e["dst"].to_numpy(dtype=object)]),
        "payment": np.concatenate([e["payment"].to_numpy(dtype=object), e["payment"].to_numpy(dtype=object)]),
        "date": np.concatenate([e["date"].to_numpy(dtype=object), e["date"].to_numpy(dtype=object)]),
    })
    return f.sort_values(["acct", "t", "amt"], ascending=[True, True, False], kind="stable",
                         ignore_index=True)[cols]


def flow_profile(f: pd.DataFrame) -> pd.DataFrame:
    """Per account of :func:`account_flows` rows: ``senders``, ``receivers`` (distinct),
    ``n_in``, ``n_out``, ``in_usd``, ``out_usd``, ``flow_ratio`` (out / in), ``dwell_days``
    and ``residual``.

    ``dwell_days`` is the float: the running position (money in minus money out so far) is
    compared with its typical level (its median), and the distance, integrated over the days
    between payments, is divided by the money in - by Little's law the mean number of days a
    dollar stays before it is passed on (or, when a payment out comes first, is advanced
    before the money arrives: dates in payment files are booking dates, sometimes late). An
    account that passes money through within days keeps its position near one level; one that
    collects (a merchant) or pays from savings drifts for months. ``residual`` is the share of
    the money in that did not go out (``1 - flow_ratio``, at least 0). Cost: O(rows),
    vectorised.
    """
    acct = f["acct"]
    inc = f["amt"] > 0
    s = f["amt"].groupby(acct, sort=False).cumsum()
    dev = (s - s.groupby(acct, sort=False).transform("median")).abs()
    nxt = f["t"].groupby(acct, sort=False).shift(-1)
    area = (dev * (nxt - f["t"]).fillna(0)).groupby(acct, sort=True).sum()
    g_in = f[inc.to_numpy()].groupby("acct", sort=True)
    g_out = f[(~inc).to_numpy()].groupby("acct", sort=True)
    out = pd.DataFrame({
        "senders": g_in["cp"].nunique(), "receivers": g_out["cp"].nunique(),
        "n_in": g_in.size(), "n_out": g_out.size(),
        "in_usd": g_in["amt"].sum(), "out_usd": -g_out["amt"].sum(),
    }).fillna(0)
    out["flow_ratio"] = out["out_usd"] / out["in_usd"].where(out["in_usd"] > 0)
    out["dwell_days"] = area.reindex(out.index) / out["in_usd"].where(out["in_usd"] > 0)
    out["residual"] = (1.0 - out["flow_ratio"]).clip(lower=0.0)
    return out


@register("pass_through_account", defaults=dict(DEFAULTS))
def detect_pass_through_account(
    tables: Tables,
    *,
    min_senders: int = 3,
    min_receivers: int = 3,
    min_flow_ratio: float = 0.85,
    max_flow_ratio: float = 1.1,
    max_dwell_days: float = 20.0,
    min_total_usd: float = 0.0,
    max_counterparties: int = 0,
    max_evidence_payments: int = 60,
) -> list[Alert]:
    """Pass-through (funnel) accounts: fan-in from many senders, fan-out to many receivers,
    most of the money leaving within days.

    Typology: FinCEN Advisory FIN-2014-A005 (funnel accounts); FATF, *Professional Money
    Laundering* (2018), collection and transit accounts.

    Parameters
    ----------
    tables : Tables
        Reads ``Payment`` (through :func:`graphiff.graph.features.money_edges`: accounts,
        dates, USD amounts; payments without a USD amount are left out).
    min_senders, min_receivers : int, default 3, 3
        Fewest distinct accounts paying in and paid from the account. A payroll account (one or
        few in, many out) and a collection account that pays one or two (a merchant's) fall short.
    min_flow_ratio, max_flow_ratio : float, default 0.85, 1.1
        Money out divided by money in: near 1 means what comes in goes out and little stays
        (a fee or cut stays behind; a little more out than in is an opening balance). A
        merchant's money stays.
    max_dwell_days : float, default 20
        Mean days a dollar floats on the account (:func:`flow_profile`). A business account
        paying suppliers from its sales keeps money for a month to several; a funnel for days
        (a couple of weeks when its payments out are not timed to the money in).
    min_total_usd : float, default 0
        Ignore accounts with less money in.
    max_counterparties : int, default 0
        When above 0, accounts with more distinct counterparties than this are left out (a
        bank's own clearing or settlement account passes everything through within the day).
    max_evidence_payments : int, default 60
        Payments listed in the evidence (the largest first; the counts and totals cover all).

    Returns
    -------
    list of Alert
        One per account, entities: that ``BankAccount``. Evidence: senders and receivers,
        money in and out (USD), flow ratio, mean dwell days, residual share, first and last
        date, the payments (id, date, direction, counterparty, amount) and the holder. Score:
        0.5, up to +0.2 for more counterparties, +0.15 for a shorter dwell, +0.15 for a flow
        ratio closer to 1.

    Notes
    -----
    Cost: O(P log P) for P payments (one sort of the payment ends, grouped sums); the Python
    loop runs only over the accounts that pass every test.
    """
    f = account_flows(tables)
    if not len(f):
        return []
    prof = flow_profile(f)
    keep = ((prof["senders"] >= int(min_senders)) & (prof["receivers"] >= int(min_receivers))
            & prof["flow_ratio"].between(float(min_flow_ratio), float(max_flow_ratio))
            & (prof["dwell_days"] <= float(max_dwell_days))
            & (prof["in_usd"] >= float(min_total_usd)))
    if int(max_counterparties) > 0:
        keep &= (prof["senders"] + prof["receivers"]) <= int(max_counterparties)
    hits = prof[keep.fillna(False).to_numpy()]
    if not len(hits):
        return []
    e = money_edges(tables)
    holder = dict(zip(e["src"], e["src_holder"])) | dict(zip(e["dst"], e["dst_holder"]))
    rows = f[f["acct"].isin(hits.index).to_numpy()]
    alerts: list[Alert] = []
    for acct, g in rows.groupby("acct", sort=True):
        r = hits.loc[acct]
        n_cp = int(r["senders"] + r["receivers"])
        ratio = float(r["flow_ratio"])
        dwell = float(r["dwell_days"])
        score = (0.5 + 0.2 * min(1.0, (n_cp - min_senders - min_receivers) / 10.0)
                 + 0.15 * max(0.0, 1.0 - dwell / max(float(max_dwell_days), 1e-9))
                 + 0.15 * max(0.0, 1.0 - abs(1.0 - ratio) / 0.2))
        top = g.reindex(g["amt"].abs().sort_values(ascending=False, kind="stable").index)
        top = top.head(int(max_evidence_payments)).sort_values(["t", "payment"], kind="stable")
        h = holder.get(acct)
        h = h if isinstance(h, str) else None
        first, last = str(g["date"].min()), str(g["date"].max())
        expl = (f"Account {acct}{f' of {h}' if h else ''} received {r['in_usd']:,.0f} USD from "
                f"{int(r['senders'])} senders and paid {r['out_usd']:,.0f} USD ({ratio:.0%}) to "
                f"{int(r['receivers'])} receivers between {first} and {last}; money stayed "
                f"{dwell:.1f} days on average")
        evidence = {
            "account": acct, "holder": h,
            "senders": sorted(set(g.loc[(g["amt"] > 0).to_numpy(), "cp"]))[:200],
            "receivers": sorted(set(g.loc[(g["amt"] < 0).to_numpy(), "cp"]))[:200],
            "in_usd": round(float(r["in_usd"]), 2), "out_usd": round(float(r["out_usd"]), 2),
            "n_in": int(r["n_in"]), "n_out": int(r["n_out"]),
            "flow_ratio": round(ratio, 4), "mean_dwell_days": round(dwell, 2),
            "residual_share": round(float(r["residual"]), 4),
            "first_date": first, "last_date": last,
            "payments": [str(x) for x in top["payment"]],
            "flows": [{"payment": p.payment, "date": p.date, "direction": "in" if p.amt > 0 else "out",
                       "counterparty": p.cp, "amount_usd": round(abs(float(p.amt)), 2)}
                      for p in top.itertuples(index=False)],
        }
        alerts.append(Alert(pattern="pass_through_account", score=round(min(1.0, score), 4),
                            entities=[{"label": "BankAccount", "id": str(acct)}],
                            explanation=expl, evidence=evidence))
    alerts.sort(key=lambda a: (-a.score, a.id))
    return alerts

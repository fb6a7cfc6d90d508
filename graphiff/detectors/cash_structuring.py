"""Cash structuring: cash reports clustered just below a reporting threshold.

Someone who must declare cash of 10,000 USD or more at the border (or whose bank must report
cash transactions above a threshold) and carries or deposits 9,000-9,900 again and again -
alone, or with other couriers for the same trader or account - is avoiding the report.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from graphiff.alerts import Alert
from graphiff.detectors.registry import register
from graphiff.graph.algorithms import UnionFind
from graphiff.graph.columns import col, iso_dates, num, text
from graphiff.graph.tables import Tables

DEFAULTS: dict[str, Any] = {
    "thresholds": {"BORDER": 10000.0, "CTR": 10000.0},
    "report_types": ("BORDER", "CTR"),
    "near": 0.8,
    "min_reports": 2,
    "window_days": 30,
    "link_by": ("person_id", "trader_id", "account_id"),
    "min_below_share": 0.5,
}


def _amount_usd(reports: pd.DataFrame) -> pd.Series:
    usd = num(col(reports, "amount_usd"))
    status = text(col(reports, "usd_status")).str.lower()
    usd = usd.mask(status == "unconvertible")
    # a table without amount_usd (small examples): amounts in USD count as they are
    cur = text(col(reports, "currency"), upper=True)
    amt = num(col(reports, "amount"))
    return usd.fillna(amt.where((cur == "USD").fillna(False)))


@register("cash_structuring", defaults=dict(DEFAULTS))
def detect_cash_structuring(
    tables: Tables,
    *,
    thresholds: Mapping[str, float] | None = None,
    report_types: tuple[str, ...] | list[str] = ("BORDER", "CTR"),
    near: float = 0.8,
    min_reports: int = 2,
    window_days: int = 30,
    link_by: tuple[str, ...] | list[str] = ("person_id", "trader_id", "account_id"),
    min_below_share: float = 0.5,
) -> list[Alert]:
    """Cash reports by one person, or by persons tied to one trader or account, clustered just
    below the reporting threshold within a short window and adding up to more than it.

    Meaning: structuring (smurfing) - splitting cash into amounts that each stay under the
    declaration or reporting threshold. One report just below the threshold is not an alert;
    neither is a frequent traveller who declares amounts above it.

    Parameters
    ----------
    tables : Tables
        Reads ``CashReport`` (``report_id``/``key``, ``report_type``, ``date``, ``amount``,
        ``currency``, ``amount_usd``, ``usd_status``, ``person_id``, ``trader_id``,
        ``account_id``). Reports without a USD amount (unconvertible) are left out.
    thresholds : dict, default {"BORDER": 10000, "CTR": 10000}
        Reporting threshold in USD per report type (types not named use 10,000).
    report_types : tuple of str, default ("BORDER", "CTR")
        Report types considered (STR, suspicious transaction reports, have no threshold).
    near : float, default 0.8
        "Just below" means ``near * threshold <= amount_usd < threshold``.
    min_reports : int, default 2
        Fewest just-below reports within one window. Two reports of 8,000+ in a month already
        add up to more than the threshold; raise it for noisier data.
    window_days : int, default 30
        Reports count together when they fall within this many days of the first.
    link_by : tuple of str, default ("person_id", "trader_id", "account_id")
        Reports sharing any of these values belong to one group (connected components), so
        several couriers of the same trader or paying into the same account form one cluster.
    min_below_share : float, default 0.5
        Within the cluster's period, the just-below reports must be at least this share of
        the group's reports at or above ``near * threshold``: a group that mostly declares
        amounts above the threshold is declaring, not avoiding.

    Returns
    -------
    list of Alert
        One per group with at least one qualifying window: ``min_reports`` or more just-below
        reports within ``window_days`` whose amounts add up to more than the threshold (each
        amount is divided by its own type's threshold, so BORDER and CTR reports mix). All
        just-below reports of the group that belong to a qualifying window are evidence.
        Entities: the Person(s) of those reports; a report without a person but with a trader
        names the Trader (and one with only an account the BankAccount). Score: 0.5 plus
        up to 0.2 for more reports, 0.15 for amounts close to the threshold and 0.15 for
        several persons, times the just-below share.

    Notes
    -----
    Cost: O(n log n) in the number of cash reports (a filter, a union-find over the just-below
    reports, one sorted scan per group).
    """
    thr_map = {str(k).upper(): float(v) for k, v in (thresholds or DEFAULTS["thresholds"]).items()}
    types = {str(t).upper() for t in report_types}
    rep = tables.nodes("CashReport")
    if rep is None or len(rep) == 0:
        return []
    rid = text(col(rep, "report_id")).fillna(text(col(rep, "key")))
    d = pd.DataFrame({
        "report_id": rid,
        "report_type": text(col(rep, "report_type"), upper=True),
        "date": iso_dates(col(rep, "date")),
        "amount": pd.to_numeric(col(rep, "amount"), errors="coerce"),
        "currency": text(col(rep, "currency"), upper=True),
        "usd": _amount_usd(rep),
        "person_id": text(col(rep, "person_id")),
        "trader_id": text(col(rep, "trader_id")),
        "account_id": text(col(rep, "account_id"), upper=True),
    })
    d = d[(d["report_type"].isin(types) & d["usd"].notna() & d["date"].notna() & d["report_id"].notna())
          .fillna(False).to_numpy()].reset_index(drop=True)
    if len(d) == 0:
        return []
    d["thr"] = d["report_type"].map(thr_map).astype("float64").fillna(10000.0)
    d["rel"] = d["usd"] / d["thr"]
    relevant = d[(d["rel"] >= near).to_numpy()].reset_index(drop=True)  # just below and above
    below = relevant["rel"] < 1.0
    if not below.any():
        return []

    # groups: connected components of the just-below reports through the link fields; reports
    # at/above the threshold join the group of a subject they share (for the below-share test)
    uf = UnionFind()
    links = [c for c in link_by if c in ("person_id", "trader_id", "account_id")]
    for row in relevant[below.to_numpy()].itertuples(index=False):
        node = ("R", row.report_id)
        uf.find(node)
        for c in links:
            v = getattr(row, c)
            if v is not pd.NA and isinstance(v, str):
                uf.union(node, (c, v))

    def group_of(row: Any) -> Any:
        for c in links:
            v = getattr(row, c)
            if isinstance(v, str) and (c, v) in uf.parent:
                return uf.find((c, v))
        if ("R", row.report_id) in uf.parent:
            return uf.find(("R", row.report_id))
        return None

    relevant["group"] = [group_of(r) for r in relevant.itertuples(index=False)]
    relevant = relevant[relevant["group"].notna().to_numpy()]
    relevant["group"] = relevant["group"].map(str)

    alerts: list[Alert] = []
    for _, g in relevant.groupby("group", sort=True):
        gb = g[(g["rel"] < 1.0).to_numpy()].sort_values(["date", "report_id"])
        if len(gb) < min_reports:
            continue
        dates = gb["date"].to_numpy()
        rel = gb["rel"].to_numpy()
        end = np.searchsorted(dates, dates + np.timedelta64(int(window_days), "D"), side="right")
        cum = np.concatenate([[0.0], np.cumsum(rel)])
        in_window = np.zeros(len(gb), dtype=bool)
        best_n = 0
        for i, j in enumerate(end):
            n = j - i
            if n >= min_reports and cum[j] - cum[i] > 1.0:
                in_window[i:j] = True
                best_n = max(best_n, n)
        if not in_window.any():
            continue
        hit = gb[in_window]
        start, stop = hit["date"].min(), hit["date"].max()
        ga = g[(g["rel"] >= 1.0).to_numpy()]
        above = ga[((ga["date"] >= start - pd.Timedelta(days=window_days))
                    & (ga["date"] <= stop + pd.Timedelta(days=window_days))).to_numpy()]
        share = len(hit) / (len(hit) + len(above))
        if share < min_below_share:
            continue
        persons = sorted(set(hit["person_id"].dropna()))
        traders = sorted(set(hit["trader_id"].dropna()))
        accounts = sorted(set(hit["account_id"].dropna()))
        entities = [{"label": "Person", "id": p} for p in persons]
        no_person = hit[hit["person_id"].isna().to_numpy()]
        ent_traders = sorted(set(no_person["trader_id"].dropna()))
        entities += [{"label": "Trader", "id": t} for t in ent_traders]
        ent_accounts = sorted(set(no_person.loc[no_person["trader_id"].isna().to_numpy(), "account_id"].dropna()))
        entities += [{"label": "BankAccount", "id": a} for a in ent_accounts]
        closeness = float(np.mean((hit["rel"].to_numpy() - near) / max(1e-9, 1.0 - near)))
        score = (0.5 + 0.2 * min(1.0, (best_n - min_reports + 1) / 3.0) + 0.15 * closeness
                 + 0.15 * min(1.0, (len(persons) - 1) / 2.0)) * share
        total = float(hit["usd"].sum())
        who = (f"{len(persons)} person(s)" if persons else "") + (
            f" tied to trader {', '.join(traders)}" if traders else "") + (
            f" via account {', '.join(accounts)}" if accounts and not traders else "")
        thr_txt = ", ".join(f"{t} {thr_map.get(t, 10000.0):,.0f}" for t in sorted(set(hit["report_type"])))
        explanation = (
            f"{len(hit)} cash reports by {who.strip() or 'one subject'} between {start:%Y-%m-%d} and {stop:%Y-%m-%d}, "
            f"each just below the threshold ({thr_txt} USD), together {total:,.0f} USD; "
            f"up to {best_n} within {window_days} days"
            + (f"; {len(above)} report(s) at or above the threshold in the period" if len(above) else "")
        )
        reports = [
            {"report_id": r.report_id, "report_type": r.report_type, "date": f"{r.date:%Y-%m-%d}",
             "amount": float(r.amount), "currency": r.currency, "amount_usd": round(float(r.usd), 2),
             "person_id": None if r.person_id is pd.NA else r.person_id,
             "trader_id": None if r.trader_id is pd.NA else r.trader_id,
             "account_id": None if r.account_id is pd.NA else r.account_id}
            for r in hit.itertuples(index=False)
        ]
        evidence = {
            "cash_reports": [r["report_id"] for r in reports], "reports": reports,
            "persons": persons, "traders": traders, "accounts": accounts,
            "total_usd": round(total, 2), "max_in_window": int(best_n), "window_days": int(window_days),
            "thresholds_usd": {t: thr_map.get(t, 10000.0) for t in sorted(set(hit["report_type"]))},
            "near": near, "reports_at_or_above_threshold": sorted(above["report_id"].tolist()),
        }
        alerts.append(Alert(pattern="cash_structuring", score=score, entities=entities,
                            explanation=explanation, evidence=evidence))
    return alerts

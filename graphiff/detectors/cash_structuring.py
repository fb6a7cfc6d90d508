"""Cash structuring: cash reports clustered just below the reporting threshold that applies.

Someone who must declare cash of 10,000 or more at the border (or whose bank must report cash
transactions above a threshold) and carries or deposits 9,000-9,900 again and again - alone,
or with other couriers for the same trader or account - is avoiding the report (smurfing).
The threshold is a fact of the jurisdiction where the report is filed, in its currency: 10,000
USD in the United States (31 U.S.C. 5316 / 5313), 10,000 EUR in the European Union
(Regulation (EU) 2018/1672), 10,000 CAD in Canada (PCMLTFA), 10,000 AUD in Australia
(AUSTRAC). A report of 9,500 EUR filed in Germany is just below its threshold although it is
above 10,000 USD. References: FATF, *Money Laundering through the Physical Transportation of
Cash* (2015); FATF Recommendation 32 (cash couriers).
"""
from __future__ import annotations

import re
from typing import Any, Mapping

import numpy as np
import pandas as pd

from graphiff.alerts import Alert
from graphiff.detectors.registry import register
from graphiff.graph.algorithms import UnionFind
from graphiff.graph.columns import col, iso_dates, num, text
from graphiff.graph.features import usd_per_unit
from graphiff.graph.tables import Tables
from graphiff.model.values import country_lookup

#: EU member states: the 10,000 EUR of Regulation (EU) 2018/1672 applies at their borders
EU = ("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
      "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE")

DEFAULTS: dict[str, Any] = {
    "thresholds": {"USD": 10000.0, "EUR": 10000.0, "CAD": 10000.0, "AUD": 10000.0},
    "jurisdictions": {"US": "USD", "CA": "CAD", "AU": "AUD", **{c: "EUR" for c in EU}},
    "default_threshold_usd": 10000.0,
    "report_types": ("BORDER", "CTR"),
    "near": 0.7,
    "min_reports": 2,
    "window_days": 30,
    "link_by": ("person_id", "trader_id", "account_id", "officers"),
    "min_below_share": 0.5,
    "rates": None,
}

_LAST_TOKEN = re.compile(r"[\s,;/()-]+")


def report_amounts_usd(reports: pd.DataFrame) -> pd.Series:
    usd = num(col(reports, "amount_usd"))
    status = text(col(reports, "usd_status")).str.lower()
    usd = usd.mask(status == "unconvertible")
    # a table without amount_usd (small examples): amounts in USD count as they are
    cur = text(col(reports, "currency"), upper=True)
    amt = num(col(reports, "amount"))
    return usd.fillna(amt.where((cur == "USD").fillna(False)))


def _country_of_place(v: Any) -> str | None:
    """The country a ``location`` names: the whole text as a country ("Germany", "DE"), else
    its last word when that is a country code or name ("Bank branch, KE", "Airport DE")."""
    if not isinstance(v, str) or not v.strip():
        return None
    look = country_lookup()
    u = v.strip().upper()
    if u in look:
        return look[u]
    parts = [x for x in _LAST_TOKEN.split(u) if x]
    if parts and len(parts[-1]) in (2, 3) and parts[-1] in look:
        return look[parts[-1]]
    return None


def filing_country(tables: Tables, reports: pd.DataFrame) -> pd.Series:
    """The country where each cash report is filed: the one its ``location`` names; else, for a
    border report, the country left (``direction`` OUT: ``origin_country``) or entered (IN:
    ``destination_country``); else the ``bank_country`` of the report's account. Missing when
    none is known. Cost: O(n) (one lookup per distinct location)."""
    loc = col(reports, "location")
    places = {v: _country_of_place(v) for v in pd.unique(loc.dropna())}
    out = np.array(loc.map(places).astype(object).to_numpy(), dtype=object)
    missing = pd.isna(out)
    if missing.any():
        look = country_lookup()
        direction = col(reports, "direction").to_numpy(dtype=object)[missing]
        for dirn, column in (("OUT", "origin_country"), ("IN", "destination_country")):
            c = col(reports, column).to_numpy(dtype=object)[missing]
            got = [look.get(x.strip().upper()) if isinstance(d, str) and d.strip().upper() == dirn
                   and isinstance(x, str) else None for d, x in zip(direction, c)]
            sub = out[missing]
            sub[pd.isna(sub)] = np.asarray(got, dtype=object)[pd.isna(sub)]
            out[missing] = sub
        missing = pd.isna(out)
    acc = tables.nodes("BankAccount")
    if missing.any() and len(acc) and "bank_country" in acc.columns:
        ids = col(reports, "account_id").to_numpy(dtype=object)[missing]
        if any(isinstance(x, str) for x in ids):
            bc = col(acc, "bank_country").to_numpy(dtype=object)
            bank: dict = {}
            for name in ("key", "account_id"):
                bank.update(zip(col(acc, name).to_numpy(dtype=object), bc))
            got = []
            for x in ids:
                v = bank.get(x) if isinstance(x, str) else None
                if v is None and isinstance(x, str):
                    v = bank.get(x.replace(" ", "").upper())
                got.append(v.strip().upper() if isinstance(v, str) and v.strip() else None)
            out[missing] = np.asarray(got, dtype=object)
    return pd.Series([None if pd.isna(x) else x for x in out], index=reports.index, dtype=object)


def report_rates(reports: pd.DataFrame, usd: pd.Series | None = None) -> dict[str, float]:
    """USD per unit of each currency as the reports themselves convert it (the median of
    ``amount_usd / amount`` over the reports in that currency): the fallback where no ``Rate``
    is loaded (:func:`graphiff.graph.features.usd_per_unit`)."""
    amt = num(col(reports, "amount"))
    usd = report_amounts_usd(reports) if usd is None else usd
    cur = text(col(reports, "currency"), upper=True)
    ok = (amt > 0) & (usd > 0) & cur.notna()
    r = (usd[ok] / amt[ok]).groupby(cur[ok].astype(str)).median()
    out = {str(k): float(v) for k, v in r.items() if v > 0}
    out["USD"] = 1.0
    return out


def threshold_ratio(tables: Tables, reports: pd.DataFrame, *, thresholds: Mapping[str, float],
                    jurisdictions: Mapping[str, str], default_threshold_usd: float,
                    fallback_rates: Mapping[str, float] | None = None,
                    usd: pd.Series | None = None) -> pd.DataFrame:
    """Each report's amount as a share of the threshold that applies to it.

    The threshold is the one of the filing country (:func:`filing_country`; ``jurisdictions``
    maps a country to the currency of its threshold, ``thresholds`` a currency to the amount).
    The report's amount is compared in that currency: as filed when it is filed in that
    currency, else converted through USD at the rates the reports carry
    (the month's ``Rate``, :func:`graphiff.graph.features.usd_per_unit`, else
    :func:`report_rates`). A report whose filing country is unknown or has no threshold here
    is compared with the threshold of its own currency when there is one, else with
    ``default_threshold_usd`` in USD. Returns columns ``country``, ``thr_currency``,
    ``threshold``, ``rel`` (amount / threshold; NaN when no amount can be compared)."""
    thr = {str(k).upper(): float(v) for k, v in thresholds.items()}
    jur = {str(k).upper(): str(v).upper() for k, v in jurisdictions.items()}
    country = filing_country(tables, reports)
    cur = text(col(reports, "currency"), upper=True)
    amt = num(col(reports, "amount"))
    if usd is None:
        usd = report_amounts_usd(reports)
    else:
        usd = pd.Series(np.asarray(usd, dtype="float64"), index=reports.index)
    if fallback_rates is None:
        fallback_rates = report_rates(reports)
    cur_o = cur.astype(object).where(cur.notna(), None)
    tc = country.astype(object).map(jur)
    tc = tc.where(tc.isin(list(thr)), cur_o.where(cur_o.isin(list(thr)), None)).astype(object)
    threshold = tc.map(thr).astype("float64")
    same = (cur_o == tc).to_numpy(dtype=bool)
    rate = tc.map(fallback_rates).astype("float64")
    dates = col(reports, "date")
    for c in {x for x in tc[~same].dropna()}:
        rows = (tc == c).to_numpy(dtype=bool) & ~same
        loaded = pd.Series(usd_per_unit(tables, c, dates[rows]), index=rate.index[rows])
        rate[rows] = loaded.where(loaded.notna(), rate[rows])
    local = pd.Series(np.where(same, amt, usd / rate), index=reports.index, dtype="float64")
    rel = local / threshold
    fallback = rel.isna()
    rel = rel.where(~fallback, usd / float(default_threshold_usd))
    tc = tc.where(~fallback, "USD")
    threshold = threshold.where(~fallback, float(default_threshold_usd))
    return pd.DataFrame({"country": country, "thr_currency": tc, "threshold": threshold, "rel": rel},
                        index=reports.index)


def officer_employers(tables: Tables, persons: set[str], max_officers: int = 50) -> dict[str, list[str]]:
    """Person -> the traders it is an officer of (any role), for the persons given; companies
    with more than ``max_officers`` officers (a large employer) link nobody. Cost: two
    membership tests over ``OFFICER_OF``, then work on the rows of those persons' companies."""
    r = tables.rels("OFFICER_OF")
    if r is None or not len(r) or not persons:
        return {}
    src, dst = col(r, "src"), col(r, "dst")
    mine = np.flatnonzero((src.isin(persons) & (col(r, "dst_label") == "Trader")
                           & (col(r, "src_label") == "Person")).fillna(False).to_numpy(dtype=bool))
    if not len(mine):
        return {}
    officer = src.iloc[mine].astype(str).to_numpy(dtype=object)
    company = dst.iloc[mine].astype(str).to_numpy(dtype=object)
    inco = np.flatnonzero(dst.isin(set(company.tolist())).fillna(False).to_numpy(dtype=bool))
    size = pd.Series(src.iloc[inco].astype(str).to_numpy(dtype=object)).groupby(
        dst.iloc[inco].astype(str).to_numpy(dtype=object)).nunique()
    small = set(size.index[(size <= max_officers).to_numpy()])
    out: dict[str, list[str]] = {}
    for p, c in zip(officer.tolist(), company.tolist()):
        if c in small:
            out.setdefault(str(p), []).append(str(c))
    return out


def subject_keys(d: pd.DataFrame, links: list[str], employers: dict[str, list[str]]) -> pd.DataFrame:
    """Long table ``row, key`` of each report's subjects: ``(column, value)`` for the link
    columns, ``("trader_id", company)`` for the companies its person is an officer of."""
    parts = []
    for c in links:
        v = d[c].astype(object)
        m = v.notna().to_numpy()
        parts.append(pd.DataFrame({"row": np.flatnonzero(m), "key": [(c, x) for x in v[m]]}))
    if employers:
        rows, ks = [], []
        for r, p in enumerate(d["person_id"].astype(object)):
            for comp in employers.get(p, ()) if isinstance(p, str) else ():
                rows.append(r)
                ks.append(("trader_id", comp))
        parts.append(pd.DataFrame({"row": np.asarray(rows, dtype=np.int64), "key": ks}))
    parts = [x for x in parts if len(x)]
    if not parts:
        return pd.DataFrame({"row": np.zeros(0, dtype=np.int64), "key": []})
    return pd.concat(parts, ignore_index=True).drop_duplicates(ignore_index=True)


@register("cash_structuring", defaults=dict(DEFAULTS))
def detect_cash_structuring(
    tables: Tables,
    *,
    thresholds: Mapping[str, float] | None = None,
    jurisdictions: Mapping[str, str] | None = None,
    default_threshold_usd: float = 10000.0,
    report_types: tuple[str, ...] | list[str] = ("BORDER", "CTR"),
    near: float = 0.7,
    min_reports: int = 2,
    window_days: int = 30,
    link_by: tuple[str, ...] | list[str] = ("person_id", "trader_id", "account_id", "officers"),
    min_below_share: float = 0.5,
    rates: Mapping[str, float] | None = None,
) -> list[Alert]:
    """Cash reports by one person, or by persons tied to one trader or account, clustered just
    below the reporting threshold that applies where they are filed, within a short window, and
    adding up to more than it.

    Meaning: structuring (smurfing) - splitting cash into amounts that each stay under the
    declaration or reporting threshold. One report just below the threshold is not an alert;
    neither is a frequent traveller who declares amounts above it.

    Parameters
    ----------
    tables : Tables
        Reads ``CashReport`` (``report_id``/``key``, ``report_type``, ``date``, ``amount``,
        ``currency``, ``amount_usd``, ``usd_status``, ``person_id``, ``trader_id``,
        ``account_id``, ``location``, ``direction``, ``origin_country``,
        ``destination_country``) and ``BankAccount.bank_country``. Reports without a USD
        amount (unconvertible) are left out.
    thresholds : dict, default {"USD": 10000, "EUR": 10000, "CAD": 10000, "AUD": 10000}
        Reporting threshold per currency (the public values: 31 U.S.C. 5316/5313, Regulation
        (EU) 2018/1672, PCMLTFA, AUSTRAC).
    jurisdictions : dict, default US: USD, CA: CAD, AU: AUD, the 27 EU member states: EUR
        Filing country -> the currency of its threshold. Where the report is filed:
        :func:`filing_country` (its ``location``, else the country left or entered, else its
        account's bank country); the amount is compared in that currency
        (:func:`threshold_ratio`).
    default_threshold_usd : float, default 10000
        Threshold (in USD) for reports filed where no threshold is known here and not in a
        currency of ``thresholds``.
    report_types : tuple of str, default ("BORDER", "CTR")
        Report types considered (STR, suspicious transaction reports, have no threshold).
    near : float, default 0.7
        "Just below" means ``near * threshold <= amount < threshold`` (in the threshold's
        currency): couriers and smurfs carry 7,000-9,999 as well as 9,000-9,999; two such
        reports within the window already add up above the threshold.
    min_reports : int, default 2
        Fewest just-below reports within one window. Two reports of 8,000+ in a month already
        add up to more than the threshold; raise it for noisier data.
    window_days : int, default 30
        Reports count together when they fall within this many days of the first.
    link_by : tuple of str, default ("person_id", "trader_id", "account_id", "officers")
        Reports sharing any of these values belong to one group (connected components), so
        several couriers of the same trader or paying into the same account form one cluster;
        ``officers``: a person who is an officer (director, employee, signatory...) of a
        trader counts as tied to it when the report does not say so (``OFFICER_OF``; companies
        with more than 50 officers tie nobody).
    min_below_share : float, default 0.5
        Within the cluster's period, the just-below reports must be at least this share of
        the group's reports at or above ``near * threshold``: a group that mostly declares
        amounts above the threshold is declaring, not avoiding.
    rates : dict or None, default None
        USD per unit of each currency where no ``Rate`` is loaded for it, and for the margin
        below which no report can be near a threshold; None: as the cash reports read convert
        it (:func:`report_rates`: a statistic over every report). An engine that runs the
        detector on parts of the reports passes the one :func:`report_rates` of all of them.

    Returns
    -------
    list of Alert
        One per group with at least one qualifying window: ``min_reports`` or more just-below
        reports within ``window_days`` whose amounts add up to more than the threshold (each
        amount is divided by its own threshold, so reports filed in different countries mix). All
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
    types = {str(t).upper() for t in report_types}
    rep = tables.nodes("CashReport")
    if rep is None or len(rep) == 0:
        return []
    thr_cur = {str(k).upper(): float(v) for k, v in (thresholds or DEFAULTS["thresholds"]).items()}
    usd = report_amounts_usd(rep)
    rates = report_rates(rep, usd) if rates is None else {str(k).upper(): float(v) for k, v in rates.items()}
    # far below every threshold (at half the lowest one's USD value, a wide margin for the rates
    # of other months) nothing can be "just below": leave those reports out before the lookups
    lowest = min([float(default_threshold_usd)] + [v * rates[c] for c, v in thr_cur.items() if c in rates])
    keep = (usd >= 0.5 * float(near) * lowest).fillna(False).to_numpy(dtype=bool)
    rep = rep[keep]
    rid = text(col(rep, "report_id")).fillna(text(col(rep, "key")))
    d = pd.DataFrame({
        "report_id": rid,
        "report_type": text(col(rep, "report_type"), upper=True),
        "date": iso_dates(col(rep, "date")),
        "amount": pd.to_numeric(col(rep, "amount"), errors="coerce"),
        "currency": text(col(rep, "currency"), upper=True),
        "usd": usd[keep],
        "person_id": text(col(rep, "person_id")),
        "trader_id": text(col(rep, "trader_id")),
        "account_id": text(col(rep, "account_id"), upper=True),
    })
    keep = (d["report_type"].isin(types) & d["date"].notna() & d["report_id"].notna()).fillna(False).to_numpy()
    d = d[keep].reset_index(drop=True)
    if len(d) == 0:
        return []
    ratio = threshold_ratio(tables, rep[keep], thresholds=thr_cur,
                            jurisdictions=DEFAULTS["jurisdictions"] if jurisdictions is None else jurisdictions,
                            default_threshold_usd=float(default_threshold_usd), fallback_rates=rates,
                            usd=d["usd"])
    for c in ratio.columns:
        d[c] = ratio[c].to_numpy()
    d = d[d["rel"].notna().to_numpy()].reset_index(drop=True)
    if len(d) == 0:
        return []
    relevant = d[(d["rel"] >= near).to_numpy()].reset_index(drop=True)  # just below and above
    # the subjects of each report: its person, trader and account, and the companies its
    # person is an officer of (couriers of one trader, when the report does not name it)
    links = [c for c in link_by if c in ("person_id", "trader_id", "account_id")]
    is_below = (relevant["rel"] < 1.0).to_numpy()
    if not is_below.any():
        return []
    employers = (officer_employers(tables, set(relevant.loc[is_below, "person_id"].dropna()))
                 if "officers" in link_by else {})
    # reports at or above the threshold matter only where they share a subject with one below
    ties = np.zeros(len(relevant), dtype=bool)
    for c in links:
        ties |= relevant[c].isin(set(relevant.loc[is_below, c].dropna())).to_numpy(dtype=bool)
    ties |= relevant["trader_id"].isin({x for v in employers.values() for x in v}).to_numpy(dtype=bool)
    relevant = relevant[is_below | ties].reset_index(drop=True)
    keys = subject_keys(relevant, links, employers)
    # a just-below report sharing no subject with another one is a group of one: with
    # min_reports >= 2 it cannot qualify, and reports above the threshold only matter for groups
    is_below = (relevant["rel"] < 1.0).to_numpy()
    if int(min_reports) >= 2 and len(keys):
        kb = keys[is_below[keys["row"].to_numpy()]]
        n = kb.groupby("key")["row"].nunique()
        shared_keys = set(n.index[(n >= 2).to_numpy()])
        shared = np.zeros(len(relevant), dtype=bool)
        shared[kb.loc[kb["key"].isin(shared_keys).to_numpy(), "row"].to_numpy()] = True
        tied = np.zeros(len(relevant), dtype=bool)
        tied[keys.loc[keys["key"].isin(set(kb.loc[shared[kb["row"].to_numpy()], "key"])).to_numpy(), "row"]
             .to_numpy()] = True
        keep = shared | (~is_below & tied)
        old = np.flatnonzero(keep)
        relevant = relevant[keep].reset_index(drop=True)
        keys = keys[keep[keys["row"].to_numpy()]].copy()
        keys["row"] = np.searchsorted(old, keys["row"].to_numpy())
    below = relevant["rel"] < 1.0
    if not below.any():
        return []

    # groups: connected components of the just-below reports through their subjects; reports
    # at/above the threshold join the group of a subject they share (for the below-share test)
    uf = UnionFind()
    rid = relevant["report_id"].to_numpy(dtype=object)
    bmask = below.to_numpy()
    for r in np.flatnonzero(bmask).tolist():
        uf.find(("R", rid[r]))
    kb = keys[bmask[keys["row"].to_numpy()]]
    for r, k in zip(kb["row"].tolist(), kb["key"].tolist()):
        uf.union(("R", rid[r]), k)
    first_key: dict[int, Any] = {}
    for r, k in zip(keys["row"].tolist(), keys["key"].tolist()):
        if r not in first_key and k in uf.parent:
            first_key[r] = k

    def group_of(r: int) -> Any:
        if ("R", rid[r]) in uf.parent:
            return uf.find(("R", rid[r]))
        k = first_key.get(r)
        return uf.find(k) if k is not None else None

    relevant["group"] = [group_of(r) for r in range(len(relevant))]
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
        thr_pairs = sorted({(str(c), float(t)) for c, t in zip(hit["thr_currency"], hit["threshold"])})
        thr_txt = ", ".join(f"{t:,.0f} {c}" for c, t in thr_pairs)
        explanation = (
            f"{len(hit)} cash reports by {who.strip() or 'one subject'} between {start:%Y-%m-%d} and {stop:%Y-%m-%d}, "
            f"each just below the threshold where filed ({thr_txt}), together {total:,.0f} USD; "
            f"up to {best_n} within {window_days} days"
            + (f"; {len(above)} report(s) at or above the threshold in the period" if len(above) else "")
        )
        reports = [
            {"report_id": r.report_id, "report_type": r.report_type, "date": f"{r.date:%Y-%m-%d}",
             "amount": float(r.amount), "currency": r.currency, "amount_usd": round(float(r.usd), 2),
             "filed_in": r.country if isinstance(r.country, str) else None,
             "threshold": f"{r.threshold:,.0f} {r.thr_currency}", "share_of_threshold": round(float(r.rel), 4),
             "person_id": None if r.person_id is pd.NA else r.person_id,
             "trader_id": None if r.trader_id is pd.NA else r.trader_id,
             "account_id": None if r.account_id is pd.NA else r.account_id}
            for r in hit.itertuples(index=False)
        ]
        evidence = {
            "cash_reports": [r["report_id"] for r in reports], "reports": reports,
            "persons": persons, "traders": traders, "accounts": accounts,
            "total_usd": round(total, 2), "max_in_window": int(best_n), "window_days": int(window_days),
            "thresholds": {c: t for c, t in thr_pairs},
            "near": near, "reports_at_or_above_threshold": sorted(above["report_id"].tolist()),
        }
        alerts.append(Alert(pattern="cash_structuring", score=score, entities=entities,
                            explanation=explanation, evidence=evidence))
    return alerts

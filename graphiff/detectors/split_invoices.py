"""Split invoices: one consignment split over several declarations, each just below a value
threshold, so that each piece stays under the de minimis (no duty or VAT), the simplified
or oral declaration, or the formal-entry limit.

References: WCO, *Cross-Border E-Commerce Framework of Standards* (2018: low-value
consignments, splitting of consignments to stay below de minimis thresholds); OECD, *The Role
of Digital Platforms in the Collection of VAT/GST on Online Sales* (2019: splitting of
consignments to benefit from low-value exemptions). The thresholds are public facts of the
jurisdictions (docs/typologies.md): 150 EUR (EU customs-duty relief), 800 USD (US Section 321),
2,500 USD (US formal entry), 1,000 EUR (EU simplified / oral declarations), 1,000 AUD
(Australia low-value imports). A threshold is the importing administration's: it applies
only to the consignments entering its jurisdiction (the US values to imports into the US, the
EU values to imports into an EU member state, the AUD value to imports into Australia).
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from graphiff.alerts import Alert
from graphiff.detectors.registry import register
from graphiff.graph.columns import col, iso_dates, num, text, text_objects, upper_text
from graphiff.graph.features import usd_per_unit, usd_rates
from graphiff.graph.tables import Tables

EU = ("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
      "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE")

DEFAULTS: dict[str, Any] = {
    "thresholds": ["150 EUR", "800 USD", "2500 USD", "1000 EUR", "1000 AUD"],
    "jurisdictions": {"US": "USD", "CA": "CAD", "AU": "AUD", **{c: "EUR" for c in EU}},
    "near": 0.5,
    "over_tolerance": 0.02,
    "min_pieces": 2,
    "max_gap_days": 21,
    "window_days": 35,
    "burst_ratio": 0.33,
    "goods_level": 6,
    "flows": ["IMPORT", "EXPORT"],
}

_LEGAL = re.compile(r"\b(LTD|LIMITED|CO|COMPANY|INC|LLC|GMBH|AG|SA|SARL|SAS|BV|NV|PLC|CORP|CORPORATION|SPA|SRL|"
                    r"PTY|PVT|PTE|KG|OY|AB|AS|LLP|THE)\b")


def parse_threshold(spec: Any) -> tuple[float, str]:
    """``"150 EUR"`` / ``"EUR 150"`` / ``(150, "EUR")`` / ``{"amount": 150, "currency": "EUR"}``
    -> ``(150.0, "EUR")``; a bare number is in USD.

    >>> parse_threshold("2,500 usd"), parse_threshold(800)
    ((2500.0, 'USD'), (800.0, 'USD'))
    """
    if isinstance(spec, dict):
        return float(spec["amount"]), str(spec.get("currency") or "USD").upper()
    if isinstance(spec, (list, tuple)) and len(spec) == 2:
        return float(spec[0]), str(spec[1]).upper()
    if isinstance(spec, (int, float)):
        return float(spec), "USD"
    parts = str(spec).replace(",", "").split()
    nums = [p for p in parts if re.fullmatch(r"[0-9]+(\.[0-9]+)?", p)]
    curs = [p for p in parts if re.fullmatch(r"[A-Za-z]{3}", p)]
    if len(nums) != 1 or len(curs) > 1:
        raise ValueError(f"a threshold is an amount and a currency, like '150 EUR', not {spec!r}")
    return float(nums[0]), (curs[0].upper() if curs else "USD")


def _fold_name(s: pd.Series) -> pd.Series:
    """Names compared loosely: upper case, letters and digits, legal forms dropped (each
    distinct name folded once)."""
    u = pd.Series(s.dropna().unique()).astype("string")
    v = upper_text(u).str.replace(r"[^0-9A-Z ]", " ", regex=True).str.replace(_LEGAL, " ", regex=True)
    v = v.str.replace(r"\s+", " ", regex=True).str.strip()
    folded = dict(zip(u.astype(object), v.mask(v == "").astype(object)))
    return s.map(folded).astype(object)


def _party(ids: pd.Series, names: pd.Series, all_ids: pd.Series, all_names: pd.Series) -> pd.Series:
    """A party's id; where the id is missing, the id most often given with the same (folded)
    name in ``all_ids``/``all_names`` (every declaration), else ``"name:<folded name>"``."""
    i = text_objects(ids)
    miss = i.isna() & names.notna()
    if not miss.any():
        return i
    n = _fold_name(names[miss])
    wanted = set(n.dropna())
    an = all_names[all_names.notna() & all_ids.notna()]
    known = pd.DataFrame({"n": _fold_name(an), "i": text_objects(all_ids[an.index])})
    known = known[known["n"].isin(wanted)]
    fill = pd.Series(None, index=n.index, dtype="object")
    if len(known):
        top = known.groupby(["n", "i"]).size().reset_index(name="c").sort_values(["n", "c"], ascending=[True, False])
        fill = n.map(top.drop_duplicates("n").set_index("n")["i"]).astype(object)
    fill = fill.where(fill.notna(), ("name:" + n.astype("string")).astype(object).where(n.notna()))
    i[miss] = fill
    return i


def consignments(tables: Tables, flows: tuple[str, ...] = ("IMPORT", "EXPORT"), goods_level: int = 6,
                 max_usd: float | None = None, max_by_currency: dict[str, float] | None = None,
                 parties: tuple[set, set] | None = None) -> pd.DataFrame:
    """Declarations as consignments: the items of one declaration summed, one row per
    ``(reporting country, declaration id)``: ``decl`` (declaration id), ``keys`` (its item
    keys), ``flow``, ``rc``, ``dest`` (the importing country: the reporting country of an
    import, the destination - else the importer's - country of an export), ``date``
    (datetime), ``day`` (day number), ``importer``,
    ``seller`` (exporter; a missing id is taken from the name, see :func:`_party`),
    ``importer_name``, ``seller_name``, ``goods`` (the first ``goods_level`` HS digits of the
    item of highest value), ``value_usd``, ``invoice_value`` and ``currency`` (when all
    items share one currency), ``invoice_no``. With ``max_usd`` only the consignments worth
    at most that many USD (or invoiced in a currency of ``max_by_currency`` at most at that
    amount) are kept. With ``parties`` (importer ids, seller ids) only the declarations whose
    importer and exporter ids are among them (or missing) are read. Cost: O(n) plus O(k log k)
    for the k consignments kept."""
    d = tables.nodes("Declaration")
    cols = ["decl", "keys", "flow", "rc", "dest", "date", "day", "importer", "seller", "importer_name", "seller_name",
            "goods", "value_usd", "invoice_value", "currency", "invoice_no"]
    if d is None or not len(d):
        return pd.DataFrame(columns=cols)
    key = text(col(d, "key"))
    did = text(col(d, "declaration_id")).fillna(key.str.replace(r"/[^/]*$", "", regex=True))
    flow = upper_text(col(d, "flow"))
    rc = upper_text(col(d, "reporting_country")).fillna("??")
    usd = num(col(d, "value_usd")).mask(text(col(d, "usd_status")).str.lower() == "unconvertible")
    inv = num(col(d, "invoice_value"))
    cur = upper_text(col(d, "currency"))
    ok = (flow.isin([x.upper() for x in flows]) & did.notna() & key.notna()).fillna(False).to_numpy().copy()
    if parties is not None:
        ii, xi = text_objects(col(d, "importer_id")), text_objects(col(d, "exporter_id"))
        ok &= ((ii.isna() | ii.isin(parties[0])) & (xi.isna() | xi.isin(parties[1]))).to_numpy()
    if max_usd is not None:
        # a consignment's value is the sum of its items: the declarations with an item under the
        # cap (a cheap test on every row), then the sums over all the items of those
        cand = ok & (usd.isna() | (usd <= float(max_usd))).fillna(True).to_numpy()
        ok &= did.isin(set(did[cand].astype(object))).fillna(False).to_numpy()
        sub = pd.DataFrame({"rc": rc[ok], "d": did[ok]})
        gid = sub.groupby(["rc", "d"], sort=False).ngroup().to_numpy()
        u, i_, cu = usd[ok].to_numpy(dtype="float64"), inv[ok].to_numpy(dtype="float64"), cur[ok]
        keep = pd.Series(np.nan_to_num(u, nan=np.inf)).groupby(gid).transform("sum").to_numpy() <= float(max_usd)
        for c, amount in (max_by_currency or {}).items():
            own = (cu == c).fillna(False).to_numpy()
            tot = pd.Series(np.where(own, np.nan_to_num(i_, nan=np.inf), np.inf)).groupby(gid).transform("sum")
            keep |= tot.to_numpy() <= float(amount)
        ok[np.flatnonzero(ok)[~keep]] = False
    d = d[ok]
    if not len(d):
        return pd.DataFrame(columns=cols)
    hs = upper_text(col(d, "hs6")).fillna(upper_text(col(d, "hs_code"))).str.replace(r"\D", "", regex=True)
    full = tables.nodes("Declaration")
    f = pd.DataFrame({
        "key": key[ok], "decl": did[ok], "flow": flow[ok], "rc": rc[ok],
        "dest": rc[ok].where(flow[ok] == "IMPORT", upper_text(col(d, "destination_country")).fillna(
            upper_text(col(d, "importer_country")))).astype(object),
        "date": iso_dates(col(d, "date")),
        "importer": _party(col(d, "importer_id"), col(d, "importer_name"), col(full, "importer_id"),
                           col(full, "importer_name")),
        "seller": _party(col(d, "exporter_id"), col(d, "exporter_name"), col(full, "exporter_id"),
                         col(full, "exporter_name")),
        "importer_name": text_objects(col(d, "importer_name")), "seller_name": text_objects(col(d, "exporter_name")),
        "goods": hs.str.slice(0, int(goods_level)), "value_usd": usd[ok], "invoice_value": inv[ok],
        "currency": cur[ok], "invoice_no": text_objects(col(d, "invoice_no")),
    })
    f = f[(f["date"].notna() & f["importer"].notna() & f["seller"].notna()).to_numpy()]
    if not len(f):
        return pd.DataFrame(columns=cols)
    f = f.assign(_v=f["value_usd"].fillna(-1.0))
    f = f.sort_values(["rc", "decl", "_v"], ascending=[True, True, False], kind="stable")
    g = f.groupby(["rc", "decl"], sort=False)
    ncur = g["currency"].nunique(dropna=True)
    keys = f["key"].astype(str).tolist()
    sizes = g.size().to_numpy()
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    out = pd.DataFrame({
        "flow": g["flow"].first(), "dest": g["dest"].first(), "date": g["date"].min(),
        "importer": g["importer"].first(),
        "seller": g["seller"].first(), "importer_name": g["importer_name"].first(),
        "seller_name": g["seller_name"].first(), "goods": g["goods"].first(),
        "value_usd": g["value_usd"].sum(min_count=1).where(g["value_usd"].count() == g["key"].size()),
        "invoice_value": g["invoice_value"].sum(min_count=1), "currency": g["currency"].first(),
        "invoice_no": g["invoice_no"].first(),
    })
    out["keys"] = [tuple(sorted(keys[a:a + n])) for a, n in zip(starts.tolist(), sizes.tolist())]
    out["invoice_value"] = out["invoice_value"].where((ncur == 1).to_numpy())
    out["currency"] = out["currency"].where((ncur == 1).to_numpy())
    out = out.reset_index()
    out["day"] = out["date"].to_numpy().astype("datetime64[D]").astype("int64")
    return out[cols]


GROUP = ["flow", "rc", "importer", "seller", "goods"]


def _bursts(c: pd.DataFrame, value: np.ndarray, amount: float, *, near: float, over_tolerance: float,
            min_pieces: int, max_gap_days: int, window_days: int, burst_ratio: float) -> pd.DataFrame:
    """Runs of in-band consignments of one group (flow, country, importer, seller, goods) whose
    consecutive dates are at most ``max_gap_days`` apart: the runs that qualify (enough pieces,
    total above the threshold, within ``window_days``, and - when the group has other
    consignments - far denser than the group's usual cadence), with ``run`` numbering them.
    ``c`` carries ``g_n``, ``g_first``, ``g_last``: the group's consignments and dates."""
    band = (value >= near * amount) & (value <= amount * (1.0 + over_tolerance))
    b = c[band].assign(v=value[band])
    if len(b) < min_pieces:
        return b.iloc[0:0].assign(run=pd.Series(dtype="int64"))
    b = b.sort_values([*GROUP, "day", "decl"], kind="stable")
    grp = b.groupby(GROUP, sort=False).ngroup().to_numpy()
    day = b["day"].to_numpy()
    new = np.r_[True, (grp[1:] != grp[:-1]) | (np.diff(day) > max_gap_days)]
    b = b.assign(run=np.cumsum(new))
    r = b.groupby("run")
    n, total = r["v"].transform("size"), r["v"].transform("sum")
    span = r["day"].transform("max") - r["day"].transform("min")
    # a regular flow is not a split: a run inside a longer series must be far denser than it
    others = b["g_n"] - n
    cadence = (b["g_last"] - b["g_first"]) / (b["g_n"] - 1).clip(lower=1)
    dense = (others < 2) | (span / (n - 1).clip(lower=1) <= burst_ratio * cadence)
    keep = (n >= min_pieces) & (total > amount) & (span <= window_days) & dense
    return b[keep.to_numpy()]


@register("split_invoices", defaults=dict(DEFAULTS))
def detect_split_invoices(tables: Tables, **params: Any) -> list[Alert]:
    """One consignment split over several declarations (invoices), each just below a value
    threshold, by the same importer and seller for the same goods within a few days, adding
    up to more than the threshold.

    Meaning: the duty/VAT relief for low-value consignments, or the simplified declaration
    allowed below a value, is claimed piece by piece for what is one consignment (WCO
    Cross-Border E-Commerce Framework of Standards, 2018; OECD, digital platforms and VAT/GST
    on online sales, 2019). Not alerts: one genuine low-value shipment; regular small
    shipments spread over months; many small shipments of different goods or from different
    sellers.

    Parameters
    ----------
    tables : Tables
        Reads ``Declaration`` (items summed per declaration) and ``Rate`` (to compare values
        in a threshold's currency).
    thresholds : list, default ["150 EUR", "800 USD", "2500 USD", "1000 EUR", "1000 AUD"]
        The public consignment-value thresholds (docs/typologies.md), each an amount and a
        currency. A declaration is compared in the threshold's currency: its invoice value
        when it is invoiced in that currency, else its USD value converted with the rate of
        the threshold's currency in the declaration's month (the nearest month loaded; a
        currency without any rate is compared only with declarations invoiced in it).
    jurisdictions : dict, default US: USD, CA: CAD, AU: AUD, the 27 EU member states: EUR
        Importing country -> the currency of its thresholds. A threshold applies only to the
        consignments entering a country whose thresholds are in its currency (the importing
        administration's rule: 800 USD is the US de minimis, not Ireland's; Canada's are in
        CAD, none of the defaults). The importing country is the reporting country of an
        import and the destination (else the importer's) country of an export; a consignment
        entering a country not listed here has none of these thresholds, one whose importing
        country is unknown is compared with all of them (and all of them apply everywhere
        when this is empty).
    near : float, default 0.5
        "Just below": ``near * threshold <= value <= threshold * (1 + over_tolerance)``.
    over_tolerance : float, default 0.02
        Rounding and exchange-rate slack above the threshold.
    min_pieces : int, default 2
        Fewest declarations in one split.
    max_gap_days : int, default 21
        Consecutive pieces at most this many days apart belong to one run (the pieces of one
        consignment arrive within days, but declarations are filed late) ...
    window_days : int, default 35
        ... and a run spanning more days than this is a regular flow, not one consignment.
    burst_ratio : float, default 0.33
        When the importer and seller have other consignments of the same goods (two or more
        besides the run, of any value), the run's mean gap must be at most this share of their
        usual gap (the span of all of them over their number - 1): shipments spread over
        months are a regular flow, even when two small ones fall close together.
    goods_level : int, default 6
        HS digits that make "the same goods".
    flows : list, default ["IMPORT", "EXPORT"]
        Declarations considered (each administration's own declarations are grouped apart, so
        an export and the partner's import of one piece never count as two pieces).

    Returns
    -------
    list of Alert
        One per (importer, seller) with at least one qualifying run; entities: the importer
        and the seller (Traders; a party known only by name is not an entity). Evidence: each
        run's threshold, its pieces (declaration, item keys, date, value in the threshold's
        currency and in USD, invoice number), total and span. Score: 0.5 plus up to 0.2 for
        more pieces, 0.2 for pieces close to the threshold, 0.1 for a tight run.

    Notes
    -----
    Cost: O(n log n) in the declarations (a group-by of items into declarations, one sort and
    scan per threshold over the declarations in that threshold's band).
    """
    p = {**DEFAULTS, **params}
    thresholds = [parse_threshold(t) for t in p["thresholds"]]
    near, tol = float(p["near"]), float(p["over_tolerance"])
    if not thresholds:
        return []
    rates = usd_rates(tables)
    top = rates.groupby("currency")["usd_per_unit"].max().to_dict() if len(rates) else {}
    cap_usd = max(a * (1.0 if cu == "USD" else float(top.get(cu, 0.0))) for a, cu in thresholds) * (1.0 + tol)
    cap_own: dict[str, float] = {}
    for a, cu in thresholds:
        cap_own[cu] = max(cap_own.get(cu, 0.0), a * (1.0 + tol))
    c = consignments(tables, tuple(p["flows"]), int(p["goods_level"]), max_usd=cap_usd, max_by_currency=cap_own)
    if not len(c):
        return []
    c = c.reset_index(drop=True)
    # the usual cadence of a group counts all its consignments, small or not: a pair that ships
    # the same goods every month or two, some above the threshold, is a regular flow
    many = c.groupby(GROUP, sort=False)["day"].transform("size").to_numpy() >= int(p["min_pieces"])
    every = consignments(tables, tuple(p["flows"]), int(p["goods_level"]),
                         parties=(set(c.loc[many, "importer"]), set(c.loc[many, "seller"]))) if many.any() else c
    g = every.groupby(GROUP, sort=False)["day"]
    stats = pd.DataFrame({"g_n": g.size(), "g_first": g.min(), "g_last": g.max()}).reset_index()
    c = c.merge(stats, on=GROUP, how="left")
    g2 = c.groupby(GROUP, sort=False)["day"]
    c["g_n"] = c["g_n"].fillna(g2.transform("size")).astype("int64")
    c["g_first"] = c["g_first"].fillna(g2.transform("min")).astype("int64")
    c["g_last"] = c["g_last"].fillna(g2.transform("max")).astype("int64")
    dates = c["date"].dt.strftime("%Y-%m-%d")
    # the currency of the thresholds of each consignment's importing country ("" where none of
    # them applies; NaN where the country is unknown: every threshold applies)
    jur = {str(k).upper(): str(v).upper() for k, v in (p["jurisdictions"] or {}).items()}
    dest = c["dest"].astype(object)
    known = dest.notna().to_numpy() & (dest != "??").to_numpy() & bool(jur)
    dest_cur = np.array([jur.get(x, "") for x in dest.tolist()], dtype=object)
    runs = []
    for amount, cur in thresholds:
        own = (c["currency"] == cur).fillna(False).to_numpy() & c["invoice_value"].notna().to_numpy()
        rate = usd_per_unit(tables, cur, dates)
        value = np.where(own, c["invoice_value"].to_numpy(dtype="float64"),
                         c["value_usd"].to_numpy(dtype="float64") / rate)
        value = np.where(np.isfinite(value) & (~known | (dest_cur == cur)), value, np.nan)
        b = _bursts(c, value, amount, near=near, over_tolerance=tol, min_pieces=int(p["min_pieces"]),
                    max_gap_days=int(p["max_gap_days"]), window_days=int(p["window_days"]),
                    burst_ratio=float(p["burst_ratio"]))
        if len(b):
            runs.append(b.assign(amount=amount, cur=cur, run=b["run"].astype(str) + f"@{amount:g}{cur}"))
    if not runs:
        return []
    r = pd.concat(runs, ignore_index=True)
    # score each run; a declaration belongs to the best run only (a piece fits several thresholds)
    g = r.groupby("run", sort=False)
    st = pd.DataFrame({"n": g["v"].size(), "total": g["v"].sum(), "amount": g["amount"].first(),
                       "close": (g["v"].mean() / g["amount"].first()),
                       "span": g["day"].max() - g["day"].min()})
    closeness = ((st["close"] - near) / max(1e-9, 1.0 - near)).clip(0, 1)
    st["score"] = (0.5 + 0.2 * ((st["n"] - 1) / 4).clip(upper=1) + 0.2 * closeness
                   + 0.1 * (1 - st["span"] / max(1, int(p["window_days"]))).clip(0, 1))
    order = st.sort_values(["score", "n"], ascending=[False, False], kind="stable").index
    used: set[str] = set()
    chosen = []
    members = {k: v for k, v in r.groupby("run", sort=False)}
    for run in order:
        m = members[run]
        ids = set(m["rc"] + "|" + m["decl"])
        if ids & used:
            continue
        used |= ids
        chosen.append((run, m))
    by_pair: dict[tuple[str, str], list] = {}
    for run, m in chosen:
        m0 = m.iloc[0]
        by_pair.setdefault((m0["importer"], m0["seller"]), []).append((run, m))
    alerts = []
    for (imp, sel), rs in by_pair.items():
        rs.sort(key=lambda x: -float(st.loc[x[0], "score"]))
        best_run, best = rs[0]
        entities = [{"label": "Trader", "id": x} for x in (imp, sel) if not str(x).startswith("name:")]
        if not entities:
            continue
        ev_runs = []
        for run, m in rs:
            m = m.sort_values(["day", "decl"])
            s = st.loc[run]
            ev_runs.append({
                "threshold": {"amount": float(s["amount"]), "currency": m["cur"].iloc[0]},
                "flow": m["flow"].iloc[0], "reporting_country": m["rc"].iloc[0], "goods_hs": m["goods"].iloc[0],
                "pieces": [{"declaration": x.decl, "items": list(x.keys), "date": x.date.strftime("%Y-%m-%d"),
                            "value": round(float(x.v), 2), "value_usd": None if pd.isna(x.value_usd)
                            else round(float(x.value_usd), 2), "invoice_no": x.invoice_no}
                           for x in m.itertuples(index=False)],
                "total": round(float(s["total"]), 2), "span_days": int(s["span"]),
            })
        b0 = ev_runs[0]
        thr = f"{b0['threshold']['amount']:,.0f} {b0['threshold']['currency']}"
        values = ", ".join(f"{x['value']:,.0f}" for x in b0["pieces"])
        imp_name = best["importer_name"].iloc[0] or imp
        sel_name = best["seller_name"].iloc[0] or sel
        expl = (f"{len(b0['pieces'])} declarations of HS {b0['goods_hs']} from {sel_name} to {imp_name} within "
                f"{b0['span_days']} days ({b0['pieces'][0]['date']} to {b0['pieces'][-1]['date']}, "
                f"{b0['reporting_country']}), each at or just below {thr} "
                f"({values}), together {b0['total']:,.0f} "
                f"{b0['threshold']['currency']}")
        if len(ev_runs) > 1:
            expl += f"; {len(ev_runs) - 1} more such run(s)"
        decls = [k for x in ev_runs for piece in x["pieces"] for k in piece["items"]]
        alerts.append(Alert(pattern="split_invoices", score=round(float(st.loc[best_run, "score"]), 4),
                            entities=entities, explanation=expl,
                            evidence={"importer": imp, "seller": sel, "runs": ev_runs, "declarations": decls}))
    alerts.sort(key=lambda a: (-a.score, a.id))
    return alerts

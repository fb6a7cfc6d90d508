"""Under- and over-valuation: unit values far from the robust distribution of their peers.

A declaration's unit value (USD per kg of net mass, or per declared unit when there is no net
mass) is compared with the unit values of the other declarations of the same HS6 code - of the
same HS6 and origin country when that group is large enough - on a log scale with the median
and the median absolute deviation (MAD). The robust z-score ``(log u - median) / (1.4826 MAD)``
is insensitive to the outliers it is looking for (up to half the group may be mis-declared).

Two detectors share one computation (cached per :class:`~graphiff.graph.tables.Tables`):
``undervaluation`` (the low tail) and ``overvaluation`` (the high tail).
:func:`valuation_scores` exposes the ranking itself (a score for every declaration), which the
benchmarks use to measure the method on labelled data.

References: WCO, *Illicit Financial Flows via Trade Mis-invoicing* (Study Report, 2018: price
filters against the unit values of the same goods); FATF, *Trade Based Money Laundering* (2006:
over- and under-invoicing of goods).
"""
from __future__ import annotations

import math
import warnings
from collections import defaultdict
from typing import Any

import numpy as np
import pandas as pd

from graphiff.alerts import Alert
from graphiff.detectors.registry import register
from graphiff.graph.columns import col, day_numbers, num, text, upper_text
from graphiff.graph.mirror import pair_declarations
from graphiff.graph.parties import within_hops
from graphiff.graph.tables import Tables

#: MAD -> standard deviation of a normal distribution.
MAD_TO_SD = 1.4826

DEFAULTS: dict[str, Any] = {
    "basis": "auto",
    "peers": "hs6_origin",
    "min_peers": 10,
    "min_peers_origin": 30,
    "min_peers_few": 4,
    "mad_floor_few": 0.3,
    "z_threshold": 3.5,
    "min_factor": 3.0,
    "min_factor_few": 4.0,
    "min_value_usd": 0.0,
    "round_trip_days": 365,
    "mad_floor": 0.1,
    "score_scale": 5.0,
}

SCORE_COLUMNS = [
    "key", "declaration_id", "flow", "reporting_country", "date", "hs6", "origin_country",
    "value_usd", "measure", "unit", "unit_value", "peer_group", "peer_n", "peer_median",
    "peer_mad", "robust_z", "factor", "direction", "score", "peer_gap",
]

def valuation_scores(
    tables: Tables,
    *,
    basis: str = "auto",
    peers: str = "hs6_origin",
    min_peers: int = 10,
    min_peers_origin: int = 30,
    min_peers_few: int = 4,
    mad_floor_few: float = 0.3,
    tails: str = "both",
    mad_floor: float = 0.1,
    score_scale: float = 5.0,
) -> pd.DataFrame:
    """Score every declaration's unit value against its peers (the ranking behind the detectors).

    Parameters
    ----------
    tables : Tables
        Reads the ``Declaration`` table (``value_usd``, ``usd_status``, ``hs6`` or ``hs_code``,
        ``net_mass_kg``, ``quantity``, ``quantity_unit``, ``origin_country``).
    basis : {"auto", "kg"}, default "auto"
        ``"kg"``: unit value = ``value_usd / net_mass_kg``. ``"auto"``: per kg where the net mass
        is positive, else per declared quantity; the unit is part of the peer group, so a value
        per piece is only compared with values per piece.
    peers : {"hs6_origin", "hs6"}, default "hs6_origin"
        ``"hs6_origin"``: peers are the declarations of the same HS6 and origin country when
        there are at least ``min_peers_origin`` of them, else of the same HS6.
        ``"hs6"``: always the same HS6.
    min_peers : int, default 10
        Fewest other declarations in an HS6 group for a declaration to be scored.
    min_peers_origin : int, default 30
        Fewest other declarations in an HS6+origin group for it to be used.
    min_peers_few : int, default 4
        An HS6 group with at least this many but fewer than ``min_peers`` other declarations
        is still scored, each declaration against the others only (median and MAD without
        it nor the declarations of its own trading pair, such as its mirror; ``peer_group``
        ``"hs6 (few)"``), with the spread floored at ``mad_floor_few``, and ``peer_gap`` says
        how many times it is away from the nearest of them: a price ten times that of four or
        five consistent peers is an outlier; within a handful of naturally spread prices
        nothing is.
    mad_floor_few : float, default 0.3
        The floor of the robust standard deviation for those few-peer groups (log units).
    tails : {"both", "under", "over"}, default "both"
        Which deviations raise ``score`` (``robust_z`` is always signed).
    mad_floor : float, default 0.1
        Lower bound of the robust standard deviation (``1.4826 * MAD``, natural-log units), so
        a group of near-identical prices does not turn a 10 % difference into a huge z-score.
    score_scale : float, default 5.0
        ``score = 1 - exp(-|z| / score_scale)`` (|z| = 3.5 gives 0.50, 7 gives 0.75).

    Returns
    -------
    pandas.DataFrame
        One row per declaration with a usable value, in the order of the table: ``key,
        declaration_id, flow, reporting_country, date, hs6, origin_country, value_usd,
        measure`` (net mass or quantity), ``unit`` (``"kg"`` or the declared unit),
        ``unit_value`` (USD per unit), ``peer_group`` (``"hs6+origin"``, ``"hs6"`` or null when
        there are too few peers), ``peer_n`` (other declarations in the group),
        ``peer_median`` (USD per unit), ``peer_mad`` (MAD of the log unit values),
        ``robust_z``, ``factor`` (how many times above or below the median, >= 1),
        ``direction`` (``"under"``/``"over"``), ``score`` in [0, 1] (0 when unscored) and
        ``peer_gap`` (few-peer groups only: times away from the nearest peer).
        Declarations with ``usd_status == "unconvertible"`` (no USD value) or no positive
        mass/quantity are left out. Every declaration of the HS6 is scored, exports and
        imports alike (each declaration is ranked on its own), but the peer median, MAD and
        ``peer_n`` count shipments: the rows of a group with the same measure, exporter and
        importer (the items of one declaration, a mirrored shipment's two declarations) are
        one peer price, so copies of one price do not narrow the spread.

    Notes
    -----
    Cost: two group-by medians per peer level, O(n log n) in the number of declarations;
    about a second per million declarations.

    Examples
    --------
    Six declarations of one HS6 at about 10 USD/kg, one of them at 0.90 USD/kg:

    >>> decls = pd.DataFrame({"key": ["D1", "D2", "D3", "D4", "D5", "D6"], "hs6": "851712", "usd_status": "given",
    ...                       "net_mass_kg": 100.0, "value_usd": [1000, 1040, 980, 1010, 990, 90]})
    >>> scores = valuation_scores(Tables.from_frames(nodes={"Declaration": decls}), min_peers=4)
    >>> scores.sort_values("score", ascending=False).head(2)[["key", "unit_value", "peer_median", "direction",
    ...                                                       "score"]].round(2)
      key  unit_value  peer_median direction  score
    5  D6         0.9         9.95     under   0.99
    1  D2        10.4         9.95      over   0.08
    """
    if basis not in ("auto", "kg"):
        raise ValueError(f"basis must be 'auto' or 'kg', not {basis!r}")
    if peers not in ("hs6_origin", "hs6"):
        raise ValueError(f"peers must be 'hs6_origin' or 'hs6', not {peers!r}")
    if tails not in ("both", "under", "over"):
        raise ValueError(f"tails must be 'both', 'under' or 'over', not {tails!r}")

    decl = tables.nodes("Declaration")
    if decl is None or len(decl) == 0:
        return pd.DataFrame(columns=SCORE_COLUMNS)

    value = num(col(decl, "value_usd"))
    status = text(col(decl, "usd_status")).str.lower()
    value = value.mask(status == "unconvertible")
    hs6 = upper_text(col(decl, "hs6"))
    if hs6.isna().all():
        hs6 = upper_text(col(decl, "hs_code"))
    hs6 = hs6.str.replace(r"\D", "", regex=True).str.slice(0, 6)
    hs6 = hs6.mask(hs6.str.len() < 6)

    mass = num(col(decl, "net_mass_kg"))
    qty = num(col(decl, "quantity"))
    qunit = upper_text(col(decl, "quantity_unit"))
    has_mass = mass > 0
    measure = mass.where(has_mass)
    unit = pd.Series("kg", index=decl.index, dtype="string").where(has_mass)
    if basis == "auto":
        use_qty = ~has_mass & (qty > 0) & qunit.notna()
        measure = measure.where(~use_qty, qty)
        unit = unit.where(~use_qty, qunit)

    ok = ((value > 0) & (measure > 0) & hs6.notna() & unit.notna()).fillna(False).to_numpy(dtype=bool)
    rows = np.flatnonzero(ok)  # positions in the Declaration table
    d = pd.DataFrame({
        "key": col(decl, "key").astype("string"),
        "declaration_id": col(decl, "declaration_id").astype("string"),
        "flow": upper_text(col(decl, "flow")),
        "reporting_country": upper_text(col(decl, "reporting_country")),
        "date": col(decl, "date").astype("string"),
        "hs6": hs6,
        "origin_country": upper_text(col(decl, "origin_country")),
        "value_usd": value,
        "measure": measure,
        "unit": unit,
    })[ok].reset_index(drop=True)
    if len(d) == 0:
        return pd.DataFrame(columns=SCORE_COLUMNS)

    d["unit_value"] = d["value_usd"] / d["measure"]
    logu = np.log(d["unit_value"].to_numpy(dtype="float64"))
    d["_logu"] = logu

    # the trading pair of each row as one integer (factorised ids, no string building); a row
    # without both party ids gets a code of its own (negative)
    exp_code = np.asarray(pd.factorize(text(col(decl, "exporter_id")).iloc[rows], use_na_sentinel=True)[0])
    imp_code, imp_ids = pd.factorize(text(col(decl, "importer_id")).iloc[rows], use_na_sentinel=True)
    imp_code = np.asarray(imp_code)
    both = (exp_code >= 0) & (imp_code >= 0)
    shipment = np.where(both, exp_code.astype(np.int64) * (len(imp_ids) + 1) + imp_code,
                        -1 - np.arange(len(rows), dtype=np.int64))

    measure_code = pd.factorize(d["measure"].to_numpy(dtype="float64"))[0].astype(np.int64)
    shipment_code = pd.factorize(shipment)[0].astype(np.int64)  # dense: fewer codes than rows
    n_codes = np.int64(len(d) + 1)

    # the peer groups as integer codes: HS6 x unit, and that x origin (a missing origin is a
    # group of its own); one factorisation per text column, the rest on numbers
    hs_code = pd.factorize(d["hs6"])[0].astype(np.int64)
    unit_code = pd.factorize(d["unit"])[0].astype(np.int64)
    origin_code = pd.factorize(d["origin_country"], use_na_sentinel=True)[0].astype(np.int64) + 1
    group_hs6 = pd.factorize(hs_code * n_codes + unit_code)[0].astype(np.int64)
    group_origin = pd.factorize(group_hs6 * n_codes + origin_code)[0].astype(np.int64)

    def stats(gk: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # a shipment is one peer price: the rows of one group with the same measure, exporter
        # and importer (the items of a declaration, its mirror declaration in the partner
        # administration) count once, at their median, so copies of one price do not shrink
        # the spread; a row without both party ids is a shipment of its own.
        # (group, measure, shipment) as one dense code, two keys at a time: every code is
        # below rows + 1, so a pair fits in int64 up to ~3 billion rows
        gm = pd.factorize(gk * n_codes + measure_code)[0].astype(np.int64)
        sid = pd.factorize(gm * n_codes + shipment_code)[0]
        su = pd.Series(logu).groupby(sid).median().to_numpy(dtype="float64")  # per shipment, by sid
        sg = np.empty(len(su), dtype=np.int64)
        sg[sid] = gk
        smed = pd.Series(su).groupby(sg).transform("median").to_numpy(dtype="float64")
        smad = pd.Series(np.abs(su - smed)).groupby(sg).transform("median").to_numpy(dtype="float64")
        sn = np.bincount(sg)[sg].astype("float64") - 1.0
        return smed[sid], smad[sid], sn[sid]

    med6, mad6, n6 = stats(group_hs6)
    use6 = n6 >= min_peers
    med = np.where(use6, med6, np.nan)
    mad = np.where(use6, mad6, np.nan)
    n = np.where(use6, n6, np.nan)
    groups = np.array([None, "hs6", "hs6+origin", "hs6 (few)"], dtype=object)  # the peer_group names
    group = np.where(use6, 1, 0).astype(np.int8)  # positions in groups
    if peers == "hs6_origin":
        medo, mado, no = stats(group_origin)
        useo = (no >= min_peers_origin) & d["origin_country"].notna().to_numpy()
        med = np.where(useo, medo, med)
        mad = np.where(useo, mado, mad)
        n = np.where(useo, no, n)
        group = np.where(useo, np.int8(2), group)

    floor = np.full(len(d), float(mad_floor))
    gap = np.full(len(d), np.nan)
    few = (~use6) & (n6 >= max(1, int(min_peers_few)))
    if few.any():
        # a handful of peers: each declaration against the others only (leave one out), with
        # a wider floor on the spread, since a few prices say little about it
        mf, af, gf, nf = _leave_one_out(d.loc[few, ["hs6", "unit"]], logu[few], shipment[few])
        enough = nf >= max(1, int(min_peers_few))
        med[few] = np.where(enough, mf, np.nan)
        mad[few], n[few], gap[few] = af, nf, np.exp(gf)
        group[few] = 3
        floor[few] = max(float(mad_floor), float(mad_floor_few))
    sd = np.maximum(MAD_TO_SD * mad, floor)
    z = (logu - med) / sd
    d["peer_group"] = pd.Series(groups[group], index=d.index, dtype="object")
    d["peer_n"] = pd.Series(n, index=d.index).astype("Int64")
    d["peer_median"] = np.exp(med)
    d["peer_mad"] = mad
    d["peer_gap"] = gap
    d["robust_z"] = z
    d["factor"] = np.exp(np.abs(logu - med))
    direction = np.array(["over", "under", np.nan], dtype=object)  # z >= 0, z < 0, no z
    d["direction"] = pd.Series(direction[np.where(np.isnan(z), 2, (z < 0).astype(np.int8))], index=d.index)
    if tails == "both":
        dev_z = np.abs(z)
    elif tails == "under":
        dev_z = np.clip(-z, 0, None)
    else:
        dev_z = np.clip(z, 0, None)
    score = 1.0 - np.exp(-dev_z / float(score_scale))
    d["score"] = np.nan_to_num(score, nan=0.0)
    return d[SCORE_COLUMNS]


def _leave_one_out(keys: pd.DataFrame, logu: np.ndarray, pair: np.ndarray) -> tuple[np.ndarray, ...]:
    """For each row of a small group: median and MAD of the *other* members' log unit values,
    and the log distance to the nearest of them, leaving out the members of the same trading
    pair ``pair`` (a mirrored shipment is one price, not two). A padded matrix of each group's
    values; O(rows x largest group)."""
    g = keys.groupby(list(keys.columns), sort=False, dropna=False).ngroup().to_numpy()
    order = np.argsort(g, kind="stable")
    gs = g[order]
    starts = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]])
    sizes = np.diff(np.r_[starts, len(gs)])
    pos_sorted = np.arange(len(gs)) - np.repeat(starts, sizes)
    pos = np.empty(len(g), dtype="int64")
    pos[order] = pos_sorted
    width = int(sizes.max())
    m = np.full((int(g.max()) + 1, width), np.nan)
    m[g, pos] = logu
    who = np.full((int(g.max()) + 1, width), -1, dtype="int64")
    pid = pd.factorize(pd.Series(pair, dtype="object"), use_na_sentinel=True)[0]
    pid = np.where(pid < 0, -2 - np.arange(len(pid)), pid)  # unknown pair: never the same as another row
    who[g, pos] = pid
    others = m[g]
    others[who[g] == pid[:, None]] = np.nan  # itself and its own trading pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(others, axis=1)
        mad = np.nanmedian(np.abs(others - med[:, None]), axis=1)
        gap = np.nanmin(np.abs(others - logu[:, None]), axis=1)
    n = np.sum(~np.isnan(others), axis=1)
    return med, mad, gap, n


def _cached_scores(tables: Tables, params: dict[str, Any]) -> pd.DataFrame:
    key = tuple(sorted((k, params[k]) for k in ("basis", "peers", "min_peers", "min_peers_origin",
                                                   "min_peers_few", "mad_floor_few", "mad_floor", "score_scale")))
    return tables.memo(("detectors.valuation", "scores", key),
                       lambda: valuation_scores(tables, tails="both", **dict(key)))


def round_trip_returns(tables: Tables, keys: set[str], days: int = 365) -> set[str]:
    """Of the declarations ``keys``, those that bring goods back: the importer, or a company
    tied to it by an officer (common director, owner, parent: two hops in the officer graph),
    shipped goods of the same HS heading (4 digits: the code often changes on the way back)
    to the exporter within ``days`` before (goods that come back to where they started).
    Their value, marked up or down against the outgoing leg, is the red flag of the round trip
    that :mod:`graphiff.detectors.circular_trade` reports, not a price outlier among strangers.
    Cost: two membership tests over the declarations and two over ``OFFICER_OF`` (the officer
    neighbourhoods of those importers only), then joins of a few rows."""
    d = tables.nodes("Declaration")
    if not keys or d is None or not len(d):
        return set()
    sub = d[col(d, "key").isin(keys).fillna(False).to_numpy()]
    q = pd.DataFrame({"key": text(col(sub, "key")).astype(object), "src": text(col(sub, "importer_id")).astype(object),
                      "dst": text(col(sub, "exporter_id")).astype(object),
                      "hs6": text(col(sub, "hs6")).fillna(text(col(sub, "hs_code"))).astype(object),
                      "t": day_numbers(col(sub, "date"))}).dropna(subset=["src", "dst", "hs6"])
    if not len(q):
        return set()
    q["hs"] = q["hs6"].str.slice(0, 4)
    # ... from the importer or a company tied to it by an officer (a common director, owner
    # or parent: within two hops of the officer graph)
    adj = _officer_adjacency_near(tables, set(q["src"]), 2)
    circles = [sorted(within_hops(adj, imp, 2)) for imp in q["src"]]
    q = q.assign(src=circles).explode("src")
    # the outgoing legs: declarations from those companies to those exporters (a few rows)
    m = (col(d, "exporter_id").isin(set(q["src"])) & col(d, "importer_id").isin(set(q["dst"]))).fillna(False)
    out = d[m.to_numpy()]
    if not len(out):
        return set()
    e = pd.DataFrame({"src": text(col(out, "exporter_id")).astype(object),
                      "dst": text(col(out, "importer_id")).astype(object),
                      "hs": text(col(out, "hs6")).fillna(text(col(out, "hs_code"))).str.slice(0, 4).astype(object),
                      "t_out": day_numbers(col(out, "date"))})
    j = q.merge(e, on=["src", "dst", "hs"])
    j = j[(j["t_out"] < j["t"]) & (j["t_out"] >= j["t"] - int(days))]
    return set(j["key"])


def _officer_adjacency_near(tables: Tables, starts: set[str], hops: int) -> dict[str, set[str]]:
    """The part of :func:`graphiff.graph.parties.officer_adjacency` (every role) that
    :func:`graphiff.graph.parties.within_hops` walks from ``starts`` in ``hops`` hops: the
    relationships of the parties fewer than ``hops`` hops away. Cost: ``hops`` membership
    tests over ``OFFICER_OF``, then a dict of the few rows found."""
    rels = tables.rels("OFFICER_OF")  # its two ends only: no need for the whole officer_table
    adj: dict[str, set[str]] = defaultdict(set)
    if rels is None or not len(rels) or not starts:
        return adj
    officer = rels["src"].astype(str).to_numpy(dtype=object)
    company = rels["dst"].astype(str).to_numpy(dtype=object)
    near, at = set(starts), np.zeros(0, dtype=np.int64)
    for _ in range(max(0, int(hops))):
        at = np.flatnonzero(pd.Series(officer).isin(near).to_numpy() | pd.Series(company).isin(near).to_numpy())
        near |= set(officer[at].tolist()) | set(company[at].tolist())
    for a, b in zip(officer[at].tolist(), company[at].tolist()):
        adj[a].add(b)
        adj[b].add(a)
    return adj


def _shipment_groups(tables: Tables, keys: set[str]) -> dict[str, str]:
    """Map each flagged declaration key to a shipment id: an export and its mirrored import
    that are both flagged form one shipment (so one alert), every other declaration is its own."""
    out = {k: k for k in keys}
    if len(keys) < 2:
        return out
    try:
        pairs = pair_declarations(tables)
    except Exception:  # pairing is a refinement; never lose valuation alerts over it
        return out
    if len(pairs) == 0:
        return out
    both = pairs[pairs["export_key"].isin(keys) & pairs["import_key"].isin(keys)]
    for ek, ik in zip(both["export_key"], both["import_key"]):
        out[ik] = ek
    return out


def _fmt(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 1:
        return f"{x:,.2f}"
    return f"{x:.4g}"


def _flagged(tables: Tables, p: dict[str, Any]) -> pd.DataFrame:
    """The declarations that alert in either tail (``direction`` tells which), round-trip
    return legs left out: computed once for both detectors on the same Tables. The numeric
    tests run on the whole score table, the others on the few rows that pass them."""
    key = tuple(sorted((k, p[k]) for k in ("basis", "peers", "min_peers", "min_peers_origin", "min_peers_few",
                                           "mad_floor_few", "mad_floor", "score_scale", "z_threshold",
                                           "min_factor", "min_factor_few", "min_value_usd", "round_trip_days")))

    def compute() -> pd.DataFrame:
        scores = _cached_scores(tables, p)
        if len(scores) == 0:
            return scores
        z = scores["robust_z"].to_numpy(dtype="float64")
        with np.errstate(invalid="ignore"):
            cand = np.flatnonzero((np.abs(z) >= float(p["z_threshold"]))
                                  & (scores["factor"].to_numpy(dtype="float64") >= float(p["min_factor"]))
                                  & (scores["value_usd"].to_numpy(dtype="float64") >= float(p["min_value_usd"])))
        flagged = scores.iloc[cand]
        hit = (
            flagged["direction"].notna()
            # among a handful of peers, only what stands apart from every one of them
            & ((flagged["peer_group"] != "hs6 (few)") | (flagged["peer_gap"] >= float(p["min_factor_few"])))
        ).fillna(False)
        flagged = flagged[hit.to_numpy()]
        if len(flagged) and int(p["round_trip_days"]) > 0:
            back = round_trip_returns(tables, set(flagged["key"]), int(p["round_trip_days"]))
            flagged = flagged[~flagged["key"].isin(back).to_numpy()]
        return flagged

    return tables.memo(("detectors.valuation", "flagged", key), compute)


def _valuation_alerts(tables: Tables, direction: str, params: dict[str, Any]) -> list[Alert]:
    p = {**DEFAULTS, **params}
    flagged = _flagged(tables, p)
    if len(flagged):
        flagged = flagged[(flagged["direction"] == direction).fillna(False).to_numpy()]
    if len(flagged) == 0:
        return []
    ship = _shipment_groups(tables, set(flagged["key"]))
    flagged = flagged.assign(_ship=flagged["key"].map(ship))
    pattern = "undervaluation" if direction == "under" else "overvaluation"
    word = "below" if direction == "under" else "above"
    alerts: list[Alert] = []
    for _, grp in flagged.groupby("_ship", sort=True):
        grp = grp.sort_values("key")
        zmax = float(grp["robust_z"].abs().max())
        score = 1.0 - math.exp(-zmax / float(p["score_scale"]))
        recs = []
        for r in grp.itertuples(index=False):
            recs.append({
                "declaration": r.key, "flow": r.flow, "reporting_country": r.reporting_country,
                "date": r.date, "hs6": r.hs6, "origin_country": r.origin_country,
                "value_usd": round(float(r.value_usd), 2), "measure": float(r.measure), "unit": r.unit,
                "unit_value_usd": float(r.unit_value), "peer_group": r.peer_group,
                "peer_count": int(r.peer_n), "peer_median_usd": float(r.peer_median),
                "peer_mad_log": float(r.peer_mad), "robust_z": round(float(r.robust_z), 3),
                "factor": round(float(r.factor), 3),
                **({"peer_gap": round(float(r.peer_gap), 3)} if r.peer_gap == r.peer_gap else {}),
            })
        r0 = recs[0]
        group_txt = f"HS {r0['hs6']}" + (f" from {r0['origin_country']}" if r0["peer_group"] == "hs6+origin" else "")
        what = "Declaration " + " and mirror ".join(x["declaration"] for x in recs)
        explanation = (
            f"{what}: {_fmt(r0['unit_value_usd'])} USD/{r0['unit']} is {r0['factor']:.1f}x {word} the median "
            f"{_fmt(r0['peer_median_usd'])} USD/{r0['unit']} of {r0['peer_count']} {group_txt} peers "
            f"(robust z {r0['robust_z']:+.1f})"
        )
        evidence: dict[str, Any] = {
            "declarations": [x["declaration"] for x in recs],
            "items": recs,
            "thresholds": {"z": float(p["z_threshold"]), "factor": float(p["min_factor"])},
        }
        alerts.append(Alert(
            pattern=pattern, score=score,
            entities=[{"label": "Declaration", "id": x["declaration"]} for x in recs],
            explanation=explanation, evidence=evidence,
        ))
    return alerts


_DOC_PARAMS = """
    Parameters
    ----------
    tables : Tables
        Reads ``Declaration`` (and pairs mirrored declarations with
        :func:`graphiff.graph.mirror.pair_declarations` to report a shipment once).
    basis, peers, min_peers, min_peers_origin, min_peers_few, mad_floor_few, mad_floor, score_scale
        As in :func:`valuation_scores` (defaults ``"auto"``, ``"hs6_origin"``, 10, 30, 4, 0.3, 0.1,
        5.0).
    z_threshold : float, default 3.5
        Smallest ``|robust z|`` that alerts.
    min_factor : float, default 3.0
        The unit value must also be at least this many times below/above the peer median.
    min_factor_few : float, default 4.0
        Among a handful of peers (``peer_group`` ``"hs6 (few)"``) it must be at least this
        many times away from *each* of them (``peer_gap``): one of five naturally spread
        prices at the end of the spread is not an outlier.
    min_value_usd : float, default 0
        Ignore declarations worth less than this (USD).
    round_trip_days : int, default 365
        A declaration bringing back goods its importer (or a company tied to it by an
        officer) shipped to its exporter (same HS4)
        within this many days before is a round trip's return leg, reported by
        ``circular_trade`` (whose red flag is that value jump), not here
        (:func:`round_trip_returns`); 0 keeps them.

    Returns
    -------
    list of Alert
        One alert per shipment: its ``entities`` are the flagged Declaration(s) (an export
        and its mirrored import when both are flagged); the score is
        ``1 - exp(-|z| / score_scale)``; the evidence gives for each declaration its unit
        value, the peer group, peer count, peer median, MAD, robust z and factor.

    Notes
    -----
    Cost: one :func:`valuation_scores` pass and one round-trip test of the declarations that
    pass the thresholds (both shared by the two detectors on the same Tables), plus the mirror
    pairing of the flagged declarations; O(n log n).
"""


@register("undervaluation", defaults=dict(DEFAULTS))
def detect_undervaluation(tables: Tables, **params: Any) -> list[Alert]:
    return _valuation_alerts(tables, "under", params)


@register("overvaluation", defaults=dict(DEFAULTS))
def detect_overvaluation(tables: Tables, **params: Any) -> list[Alert]:
    return _valuation_alerts(tables, "over", params)


detect_undervaluation.__doc__ = (
    """Declarations whose unit value is far *below* the robust distribution of their peers.

    Meaning: goods declared at a fraction of what the same HS6 (from the same origin, where
    there are enough peers) usually costs per kg - duty evasion on imports, or value moved
    abroad unseen on exports. Alerts when ``robust z <= -z_threshold`` and the unit value is at
    most ``1/min_factor`` of the peer median.
""" + _DOC_PARAMS)

detect_overvaluation.__doc__ = (
    """Declarations whose unit value is far *above* the robust distribution of their peers.

    Meaning: goods invoiced at many times their usual price per kg - a way to move money out
    (over-invoiced imports) or to claim export subsidies/VAT refunds. Alerts when
    ``robust z >= z_threshold`` and the unit value is at least ``min_factor`` times the peer
    median.
""" + _DOC_PARAMS)

"""Circular trade: goods that come back (README, "Detectors").

A time-respecting cycle search (:func:`graphiff.graph.algorithms.temporal_cycles`, shared with
:mod:`graphiff.detectors.circular_payment`) over the shipments of
:func:`graphiff.graph.features.trade_edges`, run twice:

* carousels and round trips through unrelated traders: one node per trader or related-party
  group (:func:`graphiff.graph.parties.related_party_groups`), comparable values hop to hop;
* the related-party round trip: the shipments between related parties only, one node per
  trader, where the value may jump (a transfer-pricing markup on the way back is the red
  flag, not a reason to drop the cycle).

Prepare (the shipment edges), score (the cycles found, grouped by the set of traders they
pass), explain (one alert per set).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from graphiff.alerts import Alert
from graphiff.detectors.registry import register
from graphiff.graph.algorithms import (
    TRADE_MEASURES,
    disjoint_turns,
    group_cycles,
    temporal_cycles,
    temporal_cycles_bruteforce,
    window_join,
)
from graphiff.graph.features import trade_edges, trader_countries
from graphiff.graph.parties import related_party_groups
from graphiff.graph.tables import Tables

# ---------------------------------------------------------------------------------------------
# the detector
# ---------------------------------------------------------------------------------------------

DEFAULTS = {
    "max_len": 6,
    "min_len": 2,
    "window_days": 240,
    "hs_level": 4,
    "ratio_tol": 1.5,
    "related_parties": True,
    "related_roles": ["OWNER", "UBO", "SHAREHOLDER", "DIRECTOR"],
    "max_related": 10,
    "related_markup": 4.0,
    "import_lag_days": 14,
    "max_evidence_cycles": 20,
}


def declaration_flows(tables: Tables) -> pd.Series:
    """Declaration key -> flow (``EXPORT`` / ``IMPORT``), computed once per Tables."""
    def compute() -> pd.Series:
        d = tables.nodes("Declaration")
        if not len(d) or "flow" not in d.columns:
            return pd.Series(dtype=object)
        f = pd.Series(d["flow"].astype(object).to_numpy(dtype=object), index=d["key"].astype(str).to_numpy())
        f = f[~f.index.duplicated()]
        return f.where(f.isna(), f.astype(str).str.upper())
    return tables.memo(("detectors.circular_trade", "declaration_flows"), compute)


def import_lags(tables: Tables, e: pd.DataFrame, days: int) -> np.ndarray:
    """Per shipment of ``e`` (:func:`graphiff.graph.features.trade_edges`): ``days`` when it
    is known only from its import declaration (its representative declaration is an import:
    the export side is preferred when there is one), else 0. Such a shipment is dated on
    arrival or when the import was filed, which may be late: it left up to ``days`` earlier."""
    if not len(e):
        return np.zeros(0, dtype=np.int64)
    flow = e["flow"] if "flow" in e.columns else e["decl"].map(declaration_flows(tables))
    imp_only = (flow == "IMPORT").to_numpy(dtype=bool)
    return np.where(imp_only, int(days), 0).astype(np.int64)


def merge_one_sided(tables: Tables, e: pd.DataFrame, days: int = 60, early_days: int = 3,
                    ratio_tol: float = 1.5) -> pd.DataFrame:
    """The shipments ``e`` (:func:`graphiff.graph.features.trade_edges`) with the export and
    the import declaration of one shipment made one hop where the two administrations gave no
    common document (a missing or mistyped transport document or invoice number): a shipment
    declared only on export and one declared only on import, same exporter, importer and HS6,
    the import ``-early_days..days`` days after the export, values (or masses) within
    ``ratio_tol``, are merged one to one (closest dates first) into the export one, whose
    ``decls`` gain the import's. Cost: only shipments whose parties and goods repeat are
    looked at; one windowed join of them."""
    if not len(e):
        return e
    dup = e.duplicated(["src", "dst", "hs6"], keep=False).to_numpy()
    if not dup.any():
        return e
    sub = e[dup]
    if "one_flow" in sub.columns:  # trade_edges says it
        kind = sub["one_flow"].to_numpy(dtype=object)
    else:
        x = sub[["edge", "decls"]].explode("decls")
        x["f"] = x["decls"].map(declaration_flows(tables)).fillna("?").to_numpy(dtype=object)
        g = x.groupby("edge", sort=False)["f"]
        one = g.nunique() == 1
        kind = g.first().where(one).reindex(sub["edge"].to_numpy()).to_numpy(dtype=object)
    ex = sub[kind == "EXPORT"]
    im = sub[kind == "IMPORT"]
    if not len(ex) or not len(im):
        return e
    on = ["src", "dst", "hs6"]
    ex = ex[on + ["edge", "t", "value_usd", "net_mass_kg"]].rename(
        columns={"edge": "x_edge", "t": "x_t", "value_usd": "x_v", "net_mass_kg": "x_m"})
    im = im[on + ["edge", "t", "value_usd", "net_mass_kg"]].rename(
        columns={"edge": "i_edge", "t": "i_t", "value_usd": "i_v", "net_mass_kg": "i_m"})
    im = im.assign(i_t0=im["i_t"] + int(early_days))
    m = window_join(im, ex, on, "i_t0", "x_t", int(days) + int(early_days))
    if not len(m):
        return e
    with np.errstate(divide="ignore", invalid="ignore"):
        vr = np.maximum(m["x_v"], m["i_v"]) / np.minimum(m["x_v"], m["i_v"])
        mr = np.maximum(m["x_m"], m["i_m"]) / np.minimum(m["x_m"], m["i_m"])
    m = m[((vr <= ratio_tol) | (mr <= ratio_tol)).to_numpy()]
    m = m.assign(gap=(m["i_t"] - m["x_t"]).abs()).sort_values(["gap", "x_edge", "i_edge"])
    m = m.drop_duplicates("x_edge").drop_duplicates("i_edge")
    if not len(m):
        return e
    extra = e.set_index("edge")["decls"].reindex(m["i_edge"].to_numpy()).to_numpy()
    add = dict(zip(m["x_edge"].tolist(), extra.tolist()))
    e = e[~e["edge"].isin(m["i_edge"].to_numpy())].copy()
    e["decls"] = [ds + add[k] if k in add else ds for k, ds in zip(e["edge"].tolist(), e["decls"].tolist())]
    return e


def circular_trade_edges(tables: Tables, *, hs_level: int = 4, related_parties: bool = True,
                         related_roles: Sequence[str] = ("OWNER", "UBO", "SHAREHOLDER", "DIRECTOR"),
                         max_related: int = 10, import_lag_days: int = 14) -> pd.DataFrame:
    """The shipment edges the search runs on: :func:`graphiff.graph.features.trade_edges`
    (with :func:`merge_one_sided`) plus integer vertex ids ``u``/``v`` (of the trader, or of
    its related-party group when ``related_parties``), ``hs_id`` (the goods at ``hs_level``),
    ``related`` (True when exporter and importer are related parties: one group), ``ru``/``rv``
    (for related hops: the group and the trader's country, so sister companies of one country
    are one node and the affiliate abroad another) and ``lag`` (``import_lag_days`` for a
    shipment known only from its import declaration, dated on arrival or filed late; else 0)."""
    e = merge_one_sided(tables, trade_edges(tables, hs_level=hs_level))
    groups = related_party_groups(tables, related_roles, max_related) if related_parties else {}
    e = e.copy()
    if groups:
        u = e["src"].map(groups).astype(object).where(lambda x: x.notna(), e["src"])
        v = e["dst"].map(groups).astype(object).where(lambda x: x.notna(), e["dst"])
    else:
        u, v = e["src"], e["dst"]
    e["related"] = (u.to_numpy(dtype=object) == v.to_numpy(dtype=object)) & (e["src"] != e["dst"]).to_numpy()
    e["ru"], e["rv"] = None, None
    if e["related"].any():
        countries = trader_countries(tables)
        rel = e["related"].to_numpy(dtype=bool)
        for end, grp, out in (("src", u, "ru"), ("dst", v, "rv")):
            ctry = e.loc[rel, end].map(countries)
            e.loc[rel, out] = (grp[rel].astype(str) + "|" + ctry.astype(str)).where(ctry.notna(), e.loc[rel, end])
    e["lag"] = import_lags(tables, e, import_lag_days)
    # graph vertex ids (integers) for the search: node and goods codes
    codes, _ = pd.factorize(pd.concat([u, v], ignore_index=True).to_numpy(dtype=object))
    e["u"], e["v"] = codes[: len(e)].astype(np.int64), codes[len(e):].astype(np.int64)
    e["hs_id"] = pd.factorize(e["hs"].to_numpy(dtype=object))[0].astype(np.int64)
    return e


def search_params(p: dict) -> dict:
    """The keyword arguments of :func:`graphiff.graph.algorithms.temporal_cycles` for the
    detector parameters ``p`` (defaults merged)."""
    return {"max_len": int(p["max_len"]), "min_len": int(p["min_len"]), "window": int(p["window_days"]),
            "ratio_tol": float(p["ratio_tol"]), "measures": TRADE_MEASURES, "src_col": "u", "dst_col": "v",
            "group_col": "hs_id", "lag_col": "lag"}


def related_search_params(p: dict) -> dict:
    """The keyword arguments of :func:`graphiff.graph.algorithms.temporal_cycles` for the
    related-party search: trader nodes, value allowed to move by up to ``related_markup``."""
    return {**search_params(p), "ratio_tol": max(float(p["ratio_tol"]), float(p["related_markup"])),
            "src_col": "ru", "dst_col": "rv"}


def find_cycles(e: pd.DataFrame, p: dict, search=temporal_cycles) -> set[tuple]:
    """Both searches over the edges of :func:`circular_trade_edges`: cycles of traders or
    groups with comparable hops, and cycles among related parties (the shipments between
    members of one group) where the value may jump by up to ``related_markup``."""
    found = list(search(e, **search_params(p)))
    rel = e[e["related"].to_numpy(dtype=bool)]
    if len(rel) and float(p["related_markup"]) > 0:
        found += list(search(rel, **related_search_params(p)))
    # one cycle per set of shipments (with import lags, a rotation of a cycle may be found too)
    out: dict[frozenset, tuple] = {}
    for c in sorted(found):
        out.setdefault(frozenset(c), c)
    return set(out.values())


def edge_params(p: dict) -> dict:
    """The keyword arguments of :func:`circular_trade_edges` for the detector parameters ``p``."""
    return {"hs_level": int(p["hs_level"]), "related_parties": bool(p["related_parties"]),
            "related_roles": tuple(p["related_roles"]), "max_related": int(p["max_related"]),
            "import_lag_days": int(p["import_lag_days"])}


def circular_trade_cycles(tables: Tables, **params) -> set[tuple]:
    """The canonical time-respecting trade cycles (tuples of shipment edge ids, see
    :func:`graphiff.graph.features.trade_edges`) found by
    :func:`graphiff.graph.algorithms.temporal_cycles`."""
    p = {**DEFAULTS, **params}
    e = circular_trade_edges(tables, **edge_params(p))
    return find_cycles(e, p)


def circular_trade_bruteforce(tables: Tables, **params) -> set[tuple]:
    """The same cycles as :func:`circular_trade_cycles`, found by enumerating
    ``networkx.simple_cycles(G, length_bound=max_len)`` on the static trade graph and
    filtering afterwards (:func:`graphiff.graph.algorithms.temporal_cycles_bruteforce`).
    Reference and baseline."""
    p = {**DEFAULTS, **params}
    e = circular_trade_edges(tables, **edge_params(p))
    return find_cycles(e, p, temporal_cycles_bruteforce)


def _turns(cycles: list[tuple], start: dict) -> list[tuple]:
    """The edge-disjoint cycles counted as turns by :func:`graphiff.graph.algorithms.disjoint_turns`
    (greedy, in order of the first hop): the goods' actual trips round, whose hop-to-hop value
    changes the score reads (not those of cycles mixing the hops of two turns)."""
    used: set = set()
    out = []
    for c in sorted(cycles, key=lambda c: (start[c[0]], c)):
        if used.isdisjoint(c):
            used.update(c)
            out.append(c)
    return out


def _fmt_usd(v: float) -> str:
    if v != v:
        return "n/a"
    if v >= 1e6:
        return f"{v / 1e6:.1f}M USD"
    if v >= 1e3:
        return f"{v / 1e3:.0f}k USD"
    return f"{v:.0f} USD"


@register("circular_trade", defaults=DEFAULTS)
def circular_trade(tables: Tables, **params) -> list[Alert]:
    """Circular trade: the same goods go round a cycle of traders and come back.

    Typology: carousels (the same goods passed through several traders and back, to claim
    refunds or move value) and round-tripping, in particular the related-party round trip:
    goods exported to a company abroad under the same owner, UBO or director and brought
    back weeks later declared at a marked-up value (profit shifting, capital flight). FATF,
    *Trade Based Money Laundering* (2006); FATF & Egmont Group, *Trade-Based Money
    Laundering: Trends and Developments* (2020); WCO, *Illicit Financial Flows via Trade
    Mis-invoicing* (2018).

    A time-respecting directed cycle in the trader trade graph (exporter -> importer per
    shipment; the export and import declarations of one shipment are one hop, and a hop seen
    from one side only is a hop too): each hop strictly later than the previous, all within
    ``window_days`` of the first, the same goods (HS code at ``hs_level`` digits). Between
    unrelated parties consecutive hops must have comparable USD value, net mass or quantity
    (``ratio_tol``); a cycle among related parties (every hop between members of one
    ownership/management group) may change value by up to ``related_markup`` from hop to hop,
    and a markup on the way back raises the score. Every cycle over the same set of traders
    makes ONE alert, with the number of turns. Processing trade (the goods change HS heading
    along the chain), hops out of time order and unrelated hops of incomparable size are not
    circular trade.

    Parameters
    ----------
    tables : Tables
    max_len : int, default 6
        Longest cycle, in hops (distinct traders or related-party groups).
    min_len : int, default 2
        Shortest cycle (2 = A -> B -> A).
    window_days : int, default 240
        Days from the first hop to the last of one cycle (a carousel of six traders with hops
        weeks apart takes more than half a year).
    hs_level : int, default 4
        HS digits that define "the same goods" (4: the heading, so a cycle survives goods
        declared under neighbouring subheadings; 6 for a stricter match).
    ratio_tol : float, default 1.5
        Consecutive hops are comparable when value, mass or quantity differ by at most this
        factor.
    related_parties : bool, default True
        Treat traders under common ownership or management (``related_roles`` in OFFICER_OF)
        as one node, so export by A and re-import by A's sister company close a cycle; and
        search the cycles among related parties with ``related_markup``.
    related_roles : list of str, default ["OWNER", "UBO", "SHAREHOLDER", "DIRECTOR"]
    max_related : int, default 10
        An officer of more companies than this (a nominee) links none of them.
    related_markup : float, default 4.0
        Between related parties the value may change by up to this factor hop to hop
        (transfer-pricing markups of 1.5-3.5x are the red flag); 0 switches the related-party
        search off. Sister companies in one country count as one party there, so goods
        exported by A and brought back by A's sister company close the round trip.
    import_lag_days : int, default 14
        A shipment known only from its import declaration (dated on arrival, or filed late)
        may have left up to this many days before its date: the next hop must be later than
        its date minus this lag.
    max_evidence_cycles : int, default 20
        Cycles listed in an alert's evidence (all hops are always listed).

    Returns
    -------
    list of Alert
        ``entities``: the traders of the cycle(s); ``evidence``: ``declarations`` (every
        declaration key involved), ``hops`` (per shipment: exporter, importer, declaration(s),
        date, hs, value_usd, net_mass_kg, related), ``cycles`` (representative declaration per
        hop), ``turns``, ``hs``, ``countries``, ``related`` (all hops between related
        parties), ``markup`` (the largest value ratio of a hop to the one before, for related
        cycles).

    Notes
    -----
    Cost: building the shipment table is O(D log D) for D declarations; each search is
    O(V + E) for the strongly connected components plus a bounded DFS inside them (see
    :func:`graphiff.graph.algorithms.temporal_cycles`); the related-party search runs on the
    few shipments between related parties only. Far cheaper than enumerating static cycles.
    """
    p = {**DEFAULTS, **params}
    e = circular_trade_edges(tables, **edge_params(p))
    cycles = sorted(find_cycles(e, p))
    if not cycles:
        return []
    row, by_set, start = group_cycles(e, cycles)
    countries = trader_countries(tables)
    alerts = []
    for traders, cs in by_set.items():
        used = sorted({x for c in cs for x in c}, key=lambda x: (start[x], x))
        hops = row.loc[used]
        turns = disjoint_turns(cs, start)
        span = int(hops["t"].max() - hops["t"].min())
        hs = sorted(set(hops["hs"]))
        ctry = sorted({countries[x] for x in traders if countries.get(x)})
        related = bool(hops["related"].all())
        # how close values stay along the cycles (1 = identical); the largest jump between related parties
        closeness = []
        markup = 1.0
        for c in _turns(cs, start):
            for a, b in zip(c, c[1:]):
                va, vb = row.at[a, "value_usd"], row.at[b, "value_usd"]
                if va > 0 and vb > 0:
                    closeness.append(min(va, vb) / max(va, vb))
                    if related:
                        markup = max(markup, vb / va)
        close = float(np.mean(closeness)) if closeness else 0.5
        marked_up = related and markup >= float(p["ratio_tol"])
        score = (0.45 + 0.2 * (1.0 if marked_up else close) + 0.15 * min(1.0, (turns - 1) / 2)
                 + 0.1 * (len(ctry) >= 2) + 0.1 * (len(traders) >= 3 or related))
        length = len(cs[0])
        hs_txt = ", ".join(hs[:3]) + ("..." if len(hs) > 3 else "")
        turn_txt = "once" if turns == 1 else f"{turns} times"
        rt = " (round trip)" if length == 2 or len(traders) > length else ""
        where = f" in {len(ctry)} countr{'y' if len(ctry) == 1 else 'ies'}" if ctry else ""
        rel_txt = (f"; related parties, value up to {markup:.1f}x on the way back" if marked_up
                   else ("; related parties" if related else ""))
        expl = (f"{len(traders)} traders{where} passed the same goods "
                f"(HS {hs_txt}) around a {length}-hop cycle{rt} {turn_txt} within {span} days "
                f"({len(used)} shipments, {_fmt_usd(float(hops['value_usd'].sum(min_count=1)))}){rel_txt}")
        decls = sorted({k for ds in hops["decls"] for k in ds})
        evidence = {
            "declarations": decls,
            "hops": [
                {"exporter": r.src, "importer": r.dst, "declaration": r.decl, "declarations": list(r.decls),
                 "date": r.date, "hs": r.hs,
                 "value_usd": None if r.value_usd != r.value_usd else float(r.value_usd),
                 "net_mass_kg": None if r.net_mass_kg != r.net_mass_kg else float(r.net_mass_kg),
                 "related": bool(r.related)}
                for r in hops.itertuples(index=False)
            ],
            "cycles": [[row.at[x, "decl"] for x in c] for c in cs[: int(p["max_evidence_cycles"])]],
            "n_cycles": len(cs),
            "turns": turns,
            "hs": hs,
            "countries": ctry,
            "related": related,
            "markup": round(markup, 4) if related else None,
            "first_date": str(hops["date"].min()),
            "last_date": str(hops["date"].max()),
        }
        alerts.append(Alert(
            pattern="circular_trade", score=round(min(1.0, score), 4),
            entities=[{"label": "Trader", "id": x} for x in sorted(traders)],
            explanation=expl, evidence=evidence,
        ))
    alerts.sort(key=lambda a: (-a.score, a.id))
    return alerts

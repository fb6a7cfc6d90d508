"""Circular trade: goods that come back (README, "Detectors").

A time-respecting cycle search (:func:`graphiff.graph.algorithms.temporal_cycles`, shared with
:mod:`graphiff.detectors.circular_payment`) over the shipments of
:func:`graphiff.graph.features.trade_edges`, one node per trader or ownership group
(:func:`graphiff.graph.parties.related_party_groups`) and goods. Prepare (the shipment edges),
score (the cycles found, grouped by the set of traders they pass), explain (one alert per set).
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
    "window_days": 180,
    "hs_level": 6,
    "ratio_tol": 1.5,
    "related_parties": True,
    "related_roles": ["OWNER", "UBO"],
    "max_related": 10,
    "max_evidence_cycles": 20,
}


def circular_trade_edges(tables: Tables, *, hs_level: int = 6, related_parties: bool = True,
                         related_roles: Sequence[str] = ("OWNER", "UBO"), max_related: int = 10) -> pd.DataFrame:
    """The shipment edges the search runs on: :func:`graphiff.graph.features.trade_edges` plus
    integer vertex ids ``u``/``v`` (of the trader, or of its related-party group when
    ``related_parties``) and ``hs_id`` (the goods at ``hs_level``)."""
    e = trade_edges(tables, hs_level=hs_level)
    groups = related_party_groups(tables, related_roles, max_related) if related_parties else {}
    e = e.copy()
    if groups:
        u = e["src"].map(groups).astype(object).where(lambda x: x.notna(), e["src"])
        v = e["dst"].map(groups).astype(object).where(lambda x: x.notna(), e["dst"])
    else:
        u, v = e["src"], e["dst"]
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
            "group_col": "hs_id"}


def edge_params(p: dict) -> dict:
    """The keyword arguments of :func:`circular_trade_edges` for the detector parameters ``p``."""
    return {"hs_level": int(p["hs_level"]), "related_parties": bool(p["related_parties"]),
            "related_roles": tuple(p["related_roles"]), "max_related": int(p["max_related"])}


def circular_trade_cycles(tables: Tables, **params) -> set[tuple]:
    """The canonical time-respecting trade cycles (tuples of shipment edge ids, see
    :func:`graphiff.graph.features.trade_edges`) found by
    :func:`graphiff.graph.algorithms.temporal_cycles`."""
    p = {**DEFAULTS, **params}
    e = circular_trade_edges(tables, **edge_params(p))
    return set(temporal_cycles(e, **search_params(p)))


def circular_trade_bruteforce(tables: Tables, **params) -> set[tuple]:
    """The same cycles as :func:`circular_trade_cycles`, found by enumerating
    ``networkx.simple_cycles(G, length_bound=max_len)`` on the static trade graph and
    filtering afterwards (:func:`graphiff.graph.algorithms.temporal_cycles_bruteforce`).
    Reference and baseline."""
    p = {**DEFAULTS, **params}
    e = circular_trade_edges(tables, **edge_params(p))
    return set(temporal_cycles_bruteforce(e, **search_params(p)))


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

    A time-respecting directed cycle in the trader trade graph (exporter -> importer per
    shipment, mirror export/import declarations merged): each hop strictly later than the
    previous, all within ``window_days`` of the first, the same goods (HS code at
    ``hs_level`` digits) and comparable USD value, net mass or quantity hop to hop. Includes
    round-tripping (export and re-import by the same trader or a related party) and
    carousels: every cycle over the same set of traders makes ONE alert, with the number of
    turns. Processing trade (the HS code changes along the chain) and hops out of time order
    are not circular trade.

    Parameters
    ----------
    tables : Tables
    max_len : int, default 6
        Longest cycle, in hops (distinct traders or related-party groups).
    min_len : int, default 2
        Shortest cycle (2 = A -> B -> A).
    window_days : int, default 180
        Days from the first hop to the last of one cycle.
    hs_level : int, default 6
        HS digits that define "the same goods" (6, or 4 for a coarser match).
    ratio_tol : float, default 1.5
        Consecutive hops are comparable when value, mass or quantity differ by at most this
        factor.
    related_parties : bool, default True
        Treat traders under common ownership (``related_roles`` in OFFICER_OF) as one node,
        so export by A and re-import by A's sister company close a cycle.
    related_roles : list of str, default ["OWNER", "UBO"]
    max_related : int, default 10
        An owner of more companies than this links none of them.
    max_evidence_cycles : int, default 20
        Cycles listed in an alert's evidence (all hops are always listed).

    Returns
    -------
    list of Alert
        ``entities``: the traders of the cycle(s); ``evidence``: ``declarations`` (every
        declaration key involved), ``hops`` (per shipment: exporter, importer, declaration(s),
        date, hs, value_usd, net_mass_kg), ``cycles`` (representative declaration per hop),
        ``turns``, ``hs``, ``countries``.

    Notes
    -----
    Cost: building the shipment table is O(D log D) for D declarations; the search is
    O(V + E) for the strongly connected components plus a bounded DFS inside them (see
    :func:`graphiff.graph.algorithms.temporal_cycles`). Far cheaper than enumerating static
    cycles.
    """
    p = {**DEFAULTS, **params}
    e = circular_trade_edges(tables, **edge_params(p))
    cycles = temporal_cycles(e, **search_params(p))
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
        # how close values stay along the cycles (1 = identical)
        closeness = []
        for c in cs:
            for a, b in zip(c, c[1:]):
                va, vb = row.at[a, "value_usd"], row.at[b, "value_usd"]
                if va > 0 and vb > 0:
                    closeness.append(min(va, vb) / max(va, vb))
        close = float(np.mean(closeness)) if closeness else 0.5
        score = (0.45 + 0.2 * close + 0.15 * min(1.0, (turns - 1) / 2) + 0.1 * (len(ctry) >= 2)
                 + 0.1 * (len(traders) >= 3))
        length = len(cs[0])
        hs_txt = ", ".join(hs[:3]) + ("..." if len(hs) > 3 else "")
        turn_txt = "once" if turns == 1 else f"{turns} times"
        rt = " (round trip)" if length == 2 or len(traders) > length else ""
        where = f" in {len(ctry)} countr{'y' if len(ctry) == 1 else 'ies'}" if ctry else ""
        expl = (f"{len(traders)} traders{where} passed the same goods "
                f"(HS {hs_txt}) around a {length}-hop cycle{rt} {turn_txt} within {span} days "
                f"({len(used)} shipments, {_fmt_usd(float(hops['value_usd'].sum(min_count=1)))})")
        decls = sorted({k for ds in hops["decls"] for k in ds})
        evidence = {
            "declarations": decls,
            "hops": [
                {"exporter": r.src, "importer": r.dst, "declaration": r.decl, "declarations": list(r.decls),
                 "date": r.date, "hs": r.hs,
                 "value_usd": None if r.value_usd != r.value_usd else float(r.value_usd),
                 "net_mass_kg": None if r.net_mass_kg != r.net_mass_kg else float(r.net_mass_kg)}
                for r in hops.itertuples(index=False)
            ],
            "cycles": [[row.at[x, "decl"] for x in c] for c in cs[: int(p["max_evidence_cycles"])]],
            "n_cycles": len(cs),
            "turns": turns,
            "hs": hs,
            "countries": ctry,
            "first_date": str(hops["date"].min()),
            "last_date": str(hops["date"].max()),
        }
        alerts.append(Alert(
            pattern="circular_trade", score=round(score, 4),
            entities=[{"label": "Trader", "id": x} for x in sorted(traders)],
            explanation=expl, evidence=evidence,
        ))
    alerts.sort(key=lambda a: (-a.score, a.id))
    return alerts

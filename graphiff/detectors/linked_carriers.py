"""Linked carriers: carriers that look separate but are one, serving a closed circle of
traders (README, "Detectors"; FATF, Physical Transportation of Cash, 2015)."""
from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from typing import Any, Iterable

import numpy as np
import pandas as pd

from graphiff.alerts import Alert
from graphiff.detectors.registry import register
from graphiff.graph.algorithms import UnionFind
from graphiff.graph.columns import col, num, text_objects
from graphiff.graph.features import (
    carrier_declarations,
    carrier_identifiers,
    carrier_shipments,
    identifier_links,
    officer_table,
    trader_carried,
)
from graphiff.graph.tables import Tables

LINK_WEIGHTS = {"officer": 0.7, "phone": 0.6, "email": 0.6, "address": 0.5, "conveyance": 0.4, "container": 0.35}

DEFAULTS: dict[str, Any] = {
    "link_kinds": sorted(LINK_WEIGHTS),
    "link_weights": LINK_WEIGHTS,
    "max_identifier_carriers": 10,
    "min_link": 0.25,
    "min_overlap": 0.1,
    "min_pair_exclusivity": 0.1,
    "min_dependency": 0.5,
    "min_client_shipments": 2,
    "min_traders": 2,
    "max_traders": 50,
    "threshold": 0.45,
    "max_evidence": 200,
}

_ID_KIND = {"Address": "address", "Phone": "phone", "Email": "email"}


def rarity(holders: pd.Series | np.ndarray) -> np.ndarray:
    """How exclusive a shared identifier is: ``min(1, 2 / holders)`` - 1 when only the two
    carriers hold it, 0.5 for four holders, 0.1 for twenty (a forwarding agent's phone, a
    formation agent's address, a nominee director).

    >>> rarity(np.array([2, 4, 20])).tolist()
    [1.0, 0.5, 0.1]
    """
    h = np.asarray(holders, dtype="float64")
    return np.minimum(1.0, 2.0 / np.maximum(h, 1.0))


def carrier_links(tables: Tables, *, link_kinds=tuple(LINK_WEIGHTS), max_identifier_carriers: int = 10) -> pd.DataFrame:
    """Pairs of carriers sharing something: rows ``(a, b, kind, value, holders)`` with ``a < b``.

    Kinds: ``officer`` (the same person or company is OFFICER_OF both), ``phone``,
    ``address``, ``email`` (HAS_PHONE / LOCATED_AT / HAS_EMAIL to the same node),
    ``conveyance`` and ``container`` (declarations of both carriers name the same
    conveyance / container). An identifier shared by more than ``max_identifier_carriers``
    carriers (a port office, a liner vessel) links nothing. ``holders`` says how widely the
    identifier is shared (see :func:`rarity`): the traders giving the phone, address or e-mail
    or having the officer as their officer, plus the carriers sharing it (two, and a quarter
    for each one beyond two: fronts of one group share among themselves)."""
    kinds = set(link_kinds)
    parts = []
    ids = identifier_links(tables, ("Trader", "Carrier"), shared_with="Carrier")
    if len(ids):
        comp = ids[ids["label"] == "Trader"]
        held = comp.groupby(["id_label", "id_key"])["key"].nunique()
        car = ids[ids["label"] == "Carrier"]
        h = pd.MultiIndex.from_arrays([car["id_label"], car["id_key"]]).map(held)
        parts.append(pd.DataFrame({"kind": car["id_label"].map(_ID_KIND).to_numpy(), "value": car["id_key"].to_numpy(),
                                   "carrier": car["key"].to_numpy(),
                                   "holders": np.nan_to_num(np.asarray(h, dtype="float64"), nan=0.0)}))
    off = officer_table(tables)
    if len(off):
        o = off[(off["company_label"] == "Carrier").to_numpy()]
        who = (o["officer_label"] + ":" + o["officer"]).to_numpy(dtype=object)
        t = off[(off["company_label"] == "Trader").to_numpy()]
        t = t[(t["officer_label"] + ":" + t["officer"]).isin(set(who)).to_numpy()]
        n_tr = t.groupby((t["officer_label"] + ":" + t["officer"]).to_numpy(dtype=object))["company"].nunique()
        parts.append(pd.DataFrame({"kind": "officer", "value": who, "carrier": o["company"].to_numpy(),
                                   "holders": pd.Series(who).map(n_tr).fillna(0.0).to_numpy(dtype="float64")}))
    ident = carrier_identifiers(tables)
    if len(ident):
        parts.append(ident.assign(holders=0.0))
    cols = ["a", "b", "kind", "value", "holders"]
    if not parts:
        return pd.DataFrame(columns=cols)
    f = pd.concat(parts, ignore_index=True)
    f = f[f["kind"].isin(kinds) & f["value"].notna() & f["carrier"].notna()]
    f = f.drop_duplicates(["kind", "value", "carrier"])
    n = f.groupby(["kind", "value"])["carrier"].transform("nunique")
    keep = ((n >= 2) & (n <= max_identifier_carriers)).to_numpy()
    f, n = f[keep], n[keep]
    # holders: the other companies (traders) giving the identifier, plus the carriers sharing
    # it, those beyond two counting a quarter each (four fronts at one address are one group)
    others = f.groupby(["kind", "value"])["holders"].transform("max").fillna(0.0)
    f = f.assign(holders=others + np.minimum(n, 2) + 0.25 * np.maximum(n - 2, 0))
    rows = []
    for (kind, value), grp in f.groupby(["kind", "value"], sort=True):
        h = float(grp["holders"].max())
        for a, b in combinations(sorted(set(grp["carrier"])), 2):
            rows.append((a, b, kind, value, h))
    return pd.DataFrame(rows, columns=cols)


def link_strength(links: pd.DataFrame, weights: dict[str, float]) -> float:
    """``1 - prod(1 - weight[kind] * rarity(holders))`` over the distinct identifiers of
    ``links``: several exclusive identifiers make a strong link, one widely shared a weak one."""
    if not len(links):
        return 0.0
    u = links.drop_duplicates(["kind", "value"])
    w = u["kind"].map(lambda k: float(weights.get(k, 0.0))).to_numpy(dtype="float64") * rarity(u["holders"])
    return float(1.0 - np.prod(1.0 - np.clip(w, 0.0, 1.0)))


class _CashIndex:
    """Persons tied to carriers (officers of them, or sharing their phone/address/email) and
    the cash reports each person filed, built once per run."""

    def __init__(self, tables: Tables):
        self.by_carrier: dict[str, set[str]] = defaultdict(set)
        off = officer_table(tables)
        if len(off):
            o = off[(off["company_label"] == "Carrier") & (off["officer_label"] == "Person")]
            for c, pers in zip(o["company"], o["officer"]):
                self.by_carrier[c].add(pers)
        ids = identifier_links(tables, labels=("Carrier", "Person"), shared_with="Carrier")
        if len(ids):
            cid = ids[ids["label"] == "Carrier"][["id_label", "id_key", "key"]].rename(columns={"key": "carrier"})
            pid = ids[ids["label"] == "Person"][["id_label", "id_key", "key"]].merge(cid, on=["id_label", "id_key"])
            for c, pers in zip(pid["carrier"], pid["key"]):
                self.by_carrier[c].add(pers)
        # only the reports of persons tied to some carrier are ever read
        tied = set().union(*self.by_carrier.values())
        self.reports: dict[str, set[str]] = defaultdict(set)
        filed = tables.rels("FILED_BY")
        if len(filed):
            filed = filed[filed["dst"].astype(str).isin(tied).to_numpy()]
            for r, pers in zip(filed["src"].astype(str), filed["dst"].astype(str)):
                self.reports[pers].add(r)
        reps = tables.nodes("CashReport")
        self.info: dict[str, dict] = {}
        if len(reps):
            keys = reps["key"].astype(str)
            if "person_id" in reps.columns:
                pers_of = text_objects(reps["person_id"])
                m = pers_of.isin(tied).to_numpy()
                for r, pers in zip(keys[m], pers_of[m]):
                    self.reports[pers].add(r)
            wanted = keys.isin(set().union(*self.reports.values())).to_numpy()
            reps, keys = reps[wanted], keys[wanted]
            rr = pd.DataFrame({"key": keys, "date": text_objects(col(reps, "date")),
                               "amount_usd": num(col(reps, "amount_usd")),
                               "report_type": text_objects(col(reps, "report_type"))})
            self.info = {r["key"]: r for r in rr.to_dict("records")}

    def for_carriers(self, carriers: set[str]) -> dict[str, list[dict]]:
        """Person -> the cash reports they filed, for persons tied to ``carriers``."""
        persons = set().union(*(self.by_carrier.get(c, set()) for c in carriers))
        out = {}
        for pers in sorted(persons):
            rs = self.reports.get(pers)
            if not rs:
                continue
            rows = []
            for r in sorted(rs):
                i = self.info.get(r, {})
                v = i.get("amount_usd")
                rows.append({"report": r, "date": i.get("date"),
                             "amount_usd": None if v is None or v != v else float(v),
                             "report_type": i.get("report_type")})
            out[pers] = rows
        return out


@register("linked_carriers", defaults=DEFAULTS)
def linked_carriers(tables: Tables, **params: Any) -> list[Alert]:
    """Linked carriers: ostensibly separate carriers tied together (shared officers, phones,
    addresses, emails, conveyances or containers) that serve one concentrated, exclusive
    group of traders, optionally tied to cash couriers. Groups of two count.

    Typology: front transport companies controlled by one organisation, moving goods (and
    cash) for a closed circle of traders (FATF, *Money Laundering through the Physical
    Transportation of Cash*, 2015: front and complicit transport companies, couriers tied to
    them).

    Two carriers are **linked** by what they share, each identifier weighted by its kind
    (``link_weights``) and by how exclusive it is (:func:`rarity`: 1 when only the two hold
    it, 2/h for h holders), combined as ``1 - prod(1 - weight * rarity)``
    (:func:`link_strength`). A pair counts when its link strength is at least ``min_link`` (a
    single phone of a forwarding agent used by many links nothing) and they serve one
    clientele. The **clientele** of a set of carriers is the traders that depend on it: at
    least ``min_client_shipments`` of their shipments, and ``min_dependency`` of all their
    shipments, go through these carriers (a trader shipping once with one of them is not).
    A pair needs clients using both carriers, for at least ``min_overlap`` of its clientele's
    shipments (two carriers serving disjoint markets never pair), and its exclusivity, the
    smaller of the two shares "shipments of this carrier that are of the pair's clientele",
    must be at least ``min_pair_exclusivity`` (a big carrier used by hundreds of traders never
    pairs with a small one). Pairs are joined into
    groups (connected components, two carriers or more); each scores

    ``size * (0.35 link + 0.25 exclusivity + 0.4 dependency) + 0.15 cash``

    where ``link`` is the strength of all the group's links together, ``exclusivity`` the
    mean over the carriers of the share of their shipments that are of the clientele,
    ``dependency`` the mean share of the clientele's shipments that go through the group,
    ``size`` = min(1, ``max_traders`` / clientele) and ``cash`` = 1 when persons tied to the
    carriers (officers, shared phone/address/email) filed cash reports (CashReport FILED_BY
    Person).

    Parameters
    ----------
    tables : Tables
    link_kinds : list of str, default all of officer, phone, email, address, conveyance, container
    link_weights : dict, default :data:`LINK_WEIGHTS`
        officer 0.7, phone and email 0.6, address 0.5, conveyance 0.4, container 0.35.
    max_identifier_carriers : int, default 10
        An identifier shared by more carriers than this links nothing.
    min_link : float, default 0.25
        Weakest link strength of a pair (one container no other carrier names: 0.35).
    min_overlap : float, default 0.1
        How much the two serve the same clients: the shipments the clients using both send
        with each (the smaller of the two counts, summed) over all the shipments of the pair's
        clientele. One client that tried the other carrier once is not a shared clientele.
    min_pair_exclusivity : float, default 0.1
    min_dependency : float, default 0.5
    min_client_shipments : int, default 2
        What makes a trader a client of a set of carriers (see above).
    min_traders : int, default 2
        A smaller clientele: no alert.
    max_traders : int, default 50
        Above this many traders the score is scaled down (a clientele that is not concentrated).
    threshold : float, default 0.45
    max_evidence : int, default 200
        Declarations listed in the evidence.

    Returns
    -------
    list of Alert
        ``entities``: the Carriers of the group; ``evidence``: ``links`` (carrier pair, kind,
        shared value, holders), ``link_strength``, ``carriers`` (traders and shipments carried,
        exclusivity), ``traders`` (the clientele), ``dependency``, ``declarations`` (of all the
        traders the carriers carry for), ``persons`` and ``cash_reports``.

    Notes
    -----
    Cost: O(D + R) to build links and clienteles for D declarations and R relationships,
    plus O(L) for L carrier pairs sharing an identifier.
    """
    p = {**DEFAULTS, **params}
    lw = {**LINK_WEIGHTS, **(p.get("link_weights") or {})}
    links = carrier_links(tables, link_kinds=tuple(p["link_kinds"]),
                          max_identifier_carriers=int(p["max_identifier_carriers"]))
    if not len(links):
        return []
    use = carrier_shipments(tables)
    ships: dict[str, dict[str, int]] = defaultdict(dict)
    for tr, ca, n in zip(use["trader_id"], use["carrier_id"], use["shipments"]):
        ships[ca][tr] = int(n)
    clients: dict[str, set[str]] = {c: set(v) for c, v in ships.items()}
    carried = {c: sum(v.values()) for c, v in ships.items()}
    carried_by_trader = trader_carried(tables)
    trader_total = dict(zip(carried_by_trader["trader_id"], carried_by_trader["shipments"].tolist()))

    def share_from(c: str, traders: set[str]) -> float:
        """Share of carrier ``c``'s shipments that are of ``traders``."""
        v = ships.get(c, {})
        return sum(v.get(t, 0) for t in traders) / carried[c] if carried.get(c) else 0.0

    def clientele(carriers: Iterable[str]) -> tuple[set[str], set[str]]:
        """The traders that depend on ``carriers`` (at least ``min_client_shipments`` of their
        shipments and ``min_dependency`` of all of them go through these carriers), and those of
        them that use two of the carriers or more."""
        via: dict[str, int] = defaultdict(int)
        used: dict[str, int] = defaultdict(int)
        for c in carriers:
            for t, k in ships.get(c, {}).items():
                via[t] += k
                used[t] += 1
        own = {t for t, k in via.items() if k >= int(p["min_client_shipments"])
               and k >= float(p["min_dependency"]) * trader_total.get(t, k)}
        return own, {t for t in own if used[t] >= 2}

    kept = set()
    for (a, b), pl in links.groupby(["a", "b"], sort=True):
        own, shared = clientele((a, b))
        if not shared:
            continue
        va, vb = ships.get(a, {}), ships.get(b, {})
        common = sum(min(va.get(t, 0), vb.get(t, 0)) for t in shared)
        overlap = common / max(1, sum(va.get(t, 0) + vb.get(t, 0) for t in own))
        if (overlap >= float(p["min_overlap"])
                and min(share_from(a, own), share_from(b, own)) >= float(p["min_pair_exclusivity"])
                and link_strength(pl, lw) >= float(p["min_link"])):
            kept.add((a, b))
    if not kept:
        return []
    uf = UnionFind()
    for a, b in sorted(kept):
        uf.union(a, b)
    groups: dict[str, set[str]] = defaultdict(set)
    for x in list(uf.parent):
        groups[uf.find(x)].add(x)

    kept_links = links[[(a, b) in kept for a, b in zip(links["a"], links["b"])]]
    cash_index = _CashIndex(tables)
    carried_decls = carrier_declarations(tables, int(p["max_evidence"])).set_index("carrier_id")
    alerts = []
    for members in groups.values():
        K = sorted(members)
        glinks = kept_links[kept_links["a"].isin(members) & kept_links["b"].isin(members)]
        kinds = sorted(set(glinks["kind"]))
        link = link_strength(glinks, lw)
        core, _ = clientele(K)
        if len(core) < int(p["min_traders"]):
            continue
        excl = {c: share_from(c, core) for c in K}
        exclusivity = sum(excl.values()) / len(K)
        u = use[use["carrier_id"].isin(members)]
        via = u[u["trader_id"].isin(core)].groupby("trader_id")["shipments"].sum()
        dep = float((via / via.index.map(trader_total).astype(float)).mean()) if len(via) else 0.0
        size = min(1.0, int(p["max_traders"]) / len(core))
        cash = cash_index.for_carriers(members)
        n_reports = sum(len(v) for v in cash.values())
        cash_usd = sum((r["amount_usd"] or 0.0) for v in cash.values() for r in v)
        score = size * (0.35 * link + 0.25 * exclusivity + 0.4 * dep) + 0.15 * (1.0 if cash else 0.0)
        if score < float(p["threshold"]):
            continue
        mine = carried_decls[carried_decls.index.isin(members)]
        decls = sorted({k for ds in mine["first"] for k in ds})
        via_txt = ", ".join(
            f"{k} {v}" + (f" (held by {h:.0f})" if h > 2 else "") for k, v, h in
            glinks.drop_duplicates(["kind", "value"]).head(3)[["kind", "value", "holders"]].itertuples(index=False))
        expl = (f"{len(K)} carriers linked by shared {' / '.join(kinds)} ({via_txt}) serve {len(core)} traders in "
                f"common; {exclusivity:.0%} of each carrier's shipments are theirs and "
                f"{dep:.0%} of those traders' shipments go through the group")
        if cash:
            expl += f"; {len(cash)} linked person(s) filed {n_reports} cash report(s) ({cash_usd:,.0f} USD)"
        evidence = {
            "links": [{"carriers": [a, b], "kind": k, "value": v, "holders": round(float(h), 2)}
                      for a, b, k, v, h in glinks.itertuples(index=False)],
            "link_strength": round(link, 4),
            "carriers": {c: {"traders": len(clients.get(c, ())), "shipments": carried.get(c, 0),
                             "exclusivity": round(excl[c], 4)} for c in K},
            "traders": sorted(core),
            "dependency": round(dep, 4),
            "declarations": decls[: int(p["max_evidence"])],
            "n_declarations": int(mine["declarations"].sum()),
            "persons": sorted(cash),
            "cash_reports": [dict(r, person=pers) for pers, rs in cash.items() for r in rs],
        }
        alerts.append(Alert(pattern="linked_carriers", score=round(score, 4),
                            entities=[{"label": "Carrier", "id": c} for c in K], explanation=expl, evidence=evidence))
    alerts.sort(key=lambda a: (-a.score, a.id))
    return alerts

"""Phoenix traders: a trader stops and a new one, tied to it, takes over its trade (README,
"Detectors").

A trader that is flagged (or simply stops trading) disappears and a new company, registered
shortly after at the same address, phone or e-mail, or with the same director or owner,
carries on with the same partners in the same goods. Prepare (per-trader activity: first and
last shipment, partners, goods; the links between traders: shared identifiers and officers),
score (each linked pair in which one stopped and the other started shortly after), explain
(one alert per old/new pair).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from graphiff.alerts import Alert, stored_alerts
from graphiff.detectors.registry import register
from graphiff.graph.columns import col, day_numbers, text_objects
from graphiff.graph.features import identifier_links, officer_table, trade_edges
from graphiff.graph.tables import Tables

DEFAULTS: dict[str, Any] = {
    "max_gap_days": 180,
    "pre_days": 60,
    "min_silence_days": 60,
    "min_old_shipments": 2,
    "min_shared_partners": 1,
    "min_partner_share": 0.3,
    "min_goods_share": 0.5,
    "hs_level": 4,
    "max_link_companies": 50,
    "small_address": 5,
    "use_stored_alerts": True,
    "threshold": 0.5,
    "max_evidence": 20,
}

#: what a link between two traders is worth (a big shared address says little on its own)
LINK_STRENGTH = {"officer": 1.0, "Phone": 1.0, "Email": 1.0, "Address": 0.8, "big Address": 0.3}


def trader_activity(e: pd.DataFrame, hs_level: int = 4, traders: set[str] | None = None) -> pd.DataFrame:
    """Per trader (exporter or importer of the shipments ``e``, a
    :func:`graphiff.graph.features.trade_edges` table; only those in ``traders`` when given):
    ``first_t``, ``last_t``, ``n`` (shipments), ``partners`` (frozenset of counterparties),
    ``goods`` (frozenset of HS codes at ``hs_level``), ``goods_n`` (shipments per HS code, a
    dict). Cost: O(E log E) for the E shipments of those traders (two membership tests over
    all shipments when ``traders`` is given)."""
    cols = ["trader", "first_t", "last_t", "n", "partners", "goods", "goods_n"]
    if traders is not None and len(e):
        e = e[e["src"].isin(traders).to_numpy() | e["dst"].isin(traders).to_numpy()]
    if not len(e):
        return pd.DataFrame(columns=cols).set_index("trader")
    hs = e["hs6"].astype(str).str[: int(hs_level)]
    side = pd.concat([
        pd.DataFrame({"trader": e["src"].to_numpy(dtype=object), "partner": e["dst"].to_numpy(dtype=object),
                      "t": e["t"].to_numpy(), "hs": hs.to_numpy(dtype=object), "edge": e["edge"].to_numpy()}),
        pd.DataFrame({"trader": e["dst"].to_numpy(dtype=object), "partner": e["src"].to_numpy(dtype=object),
                      "t": e["t"].to_numpy(), "hs": hs.to_numpy(dtype=object), "edge": e["edge"].to_numpy()}),
    ], ignore_index=True)
    side = side[side["trader"] != side["partner"]]
    if traders is not None:
        side = side[side["trader"].isin(traders).to_numpy()]
    g = side.groupby("trader", sort=True)
    out = pd.DataFrame({"first_t": g["t"].min(), "last_t": g["t"].max(), "n": g["edge"].nunique()})
    out["partners"] = g["partner"].agg(frozenset)
    out["goods"] = g["hs"].agg(frozenset)
    gn = side.groupby(["trader", "hs"], sort=False)["edge"].nunique()
    goods_n: dict[str, dict[str, int]] = {}
    for (t, h), c in gn.items():
        goods_n.setdefault(t, {})[h] = int(c)
    out["goods_n"] = pd.Series(goods_n, dtype=object).reindex(out.index)
    out.index.name = "trader"
    return out


def trader_links(tables: Tables, max_companies: int = 50) -> pd.DataFrame:
    """Pairs of traders tied by a shared address, phone or e-mail (``LOCATED_AT`` /
    ``HAS_PHONE`` / ``HAS_EMAIL``) or a shared officer (``OFFICER_OF``, any role, or one is an
    officer of the other). Identifiers and officers tying more than ``max_companies`` traders
    link none of them. Columns ``a``, ``b`` (a < b), ``kind`` (``Address``, ``Phone``,
    ``Email`` or ``officer``), ``via`` (the identifier or officer), ``companies`` (how many
    traders/carriers share it). Cost: O(L + pairs), pairs bounded by ``max_companies``."""
    cols = ["a", "b", "kind", "via", "companies"]
    parts = []
    ids = identifier_links(tables)
    if len(ids):
        ids = ids[ids["label"].isin(("Trader", "Carrier"))]
        n = ids.groupby(["id_label", "id_key"])["key"].transform("nunique")
        ids = ids.assign(companies=n.to_numpy())
        ids = ids[(ids["label"] == "Trader") & (ids["companies"] <= int(max_companies))]
        parts.append(pd.DataFrame({"kind": ids["id_label"].to_numpy(dtype=object),
                                   "via": ids["id_key"].to_numpy(dtype=object),
                                   "key": ids["key"].to_numpy(dtype=object),
                                   "companies": ids["companies"].to_numpy()}))
    off = officer_table(tables)
    if len(off):
        off = off[off["company_label"] == "Trader"]
        via = (off["officer_label"] + ":" + off["officer"]).to_numpy(dtype=object)
        rows = pd.DataFrame({"via": via, "key": off["company"].to_numpy(dtype=object)})
        # a trader that is an officer of another trader belongs to the group it heads
        own = off[off["officer_label"] == "Trader"]
        rows = pd.concat([rows, pd.DataFrame({"via": ("Trader:" + own["officer"]).to_numpy(dtype=object),
                                              "key": own["officer"].to_numpy(dtype=object)})], ignore_index=True)
        rows = rows.drop_duplicates()
        n = rows.groupby("via")["key"].transform("size")
        rows = rows.assign(companies=n.to_numpy(), kind="officer")
        parts.append(rows[rows["companies"] <= int(max_companies)])
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=cols)
    f = pd.concat(parts, ignore_index=True)
    f = f[f.groupby(["kind", "via"])["key"].transform("size") >= 2]
    m = f.merge(f[["kind", "via", "key"]], on=["kind", "via"], suffixes=("_a", "_b"))
    m = m[m["key_a"].astype(str) < m["key_b"].astype(str)]
    return pd.DataFrame({"a": m["key_a"].to_numpy(dtype=object), "b": m["key_b"].to_numpy(dtype=object),
                         "kind": m["kind"].to_numpy(dtype=object), "via": m["via"].to_numpy(dtype=object),
                         "companies": m["companies"].to_numpy()})[cols].reset_index(drop=True)


def _flagged(tables: Tables) -> dict[str, list[dict]]:
    """Trader key -> the stored alerts (of other families) that name it."""
    out: dict[str, list[dict]] = {}
    try:
        alerts = stored_alerts(tables)
    except Exception:  # a store without alerts, or alerts written in an unexpected shape
        return out
    for a in alerts:
        if a.pattern == "phoenix_trader":
            continue
        for ent in a.entities:
            if ent.get("label") == "Trader":
                out.setdefault(str(ent["id"]), []).append({"id": a.id, "pattern": a.pattern, "score": a.score})
    return out


def _date(t: float) -> str | None:
    if t != t or t is None:
        return None
    return str(np.datetime64(int(t), "D"))


@register("phoenix_trader", defaults=DEFAULTS)
def phoenix_trader(tables: Tables, **params: Any) -> list[Alert]:
    """Phoenix traders: a trader stops and a new one tied to it takes over its trade.

    Typology: a trader that is flagged, or that simply stops trading (leaving its debts, duties
    or VAT unpaid), is replaced by a new company registered shortly after at the same address,
    phone or e-mail, or with the same director or owner, which trades with the same partners
    in the same goods (FATF & Egmont, *Concealment of Beneficial Ownership*, 2018; Europol,
    missing trader intra-community (MTIC) fraud).

    A pair (old, new) of linked traders (:func:`trader_links`) alerts when

    - the old trader **stopped**: its last shipment is at least ``min_silence_days`` before
      the end of the data, after at least ``min_old_shipments`` shipments;
    - the new trader **started shortly after**: its registration date (else its first
      shipment) is at most ``max_gap_days`` after the old one's last shipment (and at most
      ``pre_days`` before it), and its first shipment is not before the old one's last
      shipment minus ``pre_days``;
    - it trades with the **same partners**: at least ``min_shared_partners`` counterparties in
      common, at least ``min_partner_share`` of the new trader's counterparties;
    - in the **same goods**: at least ``min_goods_share`` of the new trader's shipments in HS
      codes (at ``hs_level`` digits) the old one traded;
    - and the score reaches ``threshold``.

    A new company at a big shared address (business centre) with other partners fails the
    partner test; a legitimate successor after a long gap fails the gap test.

    Alerts of other families: a detect run writes alerts back only after all its detectors
    ran, so this detector cannot see the alerts of the same run; with ``use_stored_alerts``
    it reads the alerts stored by earlier runs (``Alert`` nodes) and scores an old trader
    they flag higher. The abrupt stop alone is enough for an alert.

    Parameters
    ----------
    tables : Tables
    max_gap_days : int, default 180
        Longest gap from the old trader's last shipment to the new one's registration (or
        first shipment): a successor after a longer gap is not a phoenix.
    pre_days : int, default 60
        How long before the old trader's last shipment the new one may be registered or start.
    min_silence_days : int, default 60
        The old trader has no shipment in the last ``min_silence_days`` days of the data.
    min_old_shipments : int, default 2
    min_shared_partners : int, default 1
    min_partner_share : float, default 0.3
    min_goods_share : float, default 0.5
    hs_level : int, default 4
        HS digits that define "the same goods".
    max_link_companies : int, default 50
        An identifier or officer shared by more traders/carriers than this links none.
    small_address : int, default 5
        An address shared by more companies than this is a business centre: a weak link.
    use_stored_alerts : bool, default True
    threshold : float, default 0.5
    max_evidence : int, default 20
        Declarations listed per trader in the evidence.

    Returns
    -------
    list of Alert
        One per (old, new) pair; ``entities``: both traders; ``evidence``: ``old`` and ``new``
        (registration, first and last shipment dates, shipments, last/first declarations),
        ``links`` (kind, identifier or officer, companies sharing it), ``shared_partners``,
        ``shared_goods``, ``gap_days``, ``prior_alerts``.

    Notes
    -----
    Cost: one pass over the shipments (per-trader activity), one self-join of the links per
    identifier or officer (bounded by ``max_link_companies``), O(pairs) scoring.
    """
    p = {**DEFAULTS, **params}
    e = trade_edges(tables, hs_level=6)
    if not len(e):
        return []
    links = trader_links(tables, int(p["max_link_companies"]))
    if not len(links):
        return []
    t_end = int(e["t"].max())
    # only traders with a link can be old or new: their shipments alone are read from here on
    linked = set(links["a"]) | set(links["b"])
    e = e[e["src"].isin(linked).to_numpy() | e["dst"].isin(linked).to_numpy()]
    act = trader_activity(e, int(p["hs_level"]), traders=linked)
    links = links[links["a"].isin(act.index) & links["b"].isin(act.index)]
    if not len(links):
        return []
    tr = tables.nodes("Trader")
    reg: dict[str, int] = {}
    reg_txt: dict[str, str] = {}
    if len(tr) and "registration_date" in tr.columns:
        rd = text_objects(col(tr, "registration_date"))
        rt = day_numbers(rd.where(rd.notna(), None))
        for k, d, t in zip(tr["key"].astype(str), rd, rt):
            if d is not None and t > np.iinfo(np.int64).min:
                reg[k], reg_txt[k] = int(t), str(d)[:10]
    flagged = _flagged(tables) if p["use_stored_alerts"] else {}

    # both orientations of every linked pair: (old, new)
    pairs = pd.concat([links.rename(columns={"a": "old", "b": "new"}),
                       links.rename(columns={"a": "new", "b": "old"})], ignore_index=True)
    o = act.reindex(pairs["old"].to_numpy())
    nw = act.reindex(pairs["new"].to_numpy())
    o_last, o_first, o_n = o["last_t"].to_numpy(np.int64), o["first_t"].to_numpy(np.int64), o["n"].to_numpy()
    n_first = nw["first_t"].to_numpy(np.int64)
    n_start = np.asarray([reg.get(k, f) for k, f in zip(pairs["new"], n_first.tolist())], dtype=np.int64)
    o_reg = np.asarray([reg.get(k, f) for k, f in zip(pairs["old"], o_first.tolist())], dtype=np.int64)
    pre, gapmax = int(p["pre_days"]), int(p["max_gap_days"])
    gap = n_start - o_last
    ok = ((t_end - o_last >= int(p["min_silence_days"])) & (o_n >= int(p["min_old_shipments"]))
          & (gap >= -pre) & (gap <= gapmax) & (n_first >= o_last - pre) & (n_start > o_reg))
    pairs = pairs[ok].assign(gap=gap[ok])
    if not len(pairs):
        return []

    alerts = []
    for (old, new), g in pairs.groupby(["old", "new"], sort=True):
        ao, an = act.loc[old], act.loc[new]
        shared = (ao["partners"] & an["partners"]) - {old, new}
        others_new = an["partners"] - {old}
        share = len(shared) / max(1, len(others_new))
        if len(shared) < int(p["min_shared_partners"]) or share < float(p["min_partner_share"]):
            continue
        gn: dict[str, int] = an["goods_n"] or {}
        in_goods = sum(c for h, c in gn.items() if h in ao["goods"])
        goods_share = in_goods / max(1, sum(gn.values()))
        if goods_share < float(p["min_goods_share"]):
            continue
        link_list = []
        strength = 0.0
        for r in g.drop_duplicates(["kind", "via"]).itertuples(index=False):
            kind = r.kind
            if kind == "Address" and int(r.companies) > int(p["small_address"]):
                kind = "big Address"
            strength = max(strength, LINK_STRENGTH.get(kind, 0.5))
            link_list.append({"kind": r.kind, "via": str(r.via), "companies": int(r.companies)})
        gap_days = int(g["gap"].iloc[0])
        silence = t_end - int(ao["last_t"])
        span = max(30, int(ao["last_t"]) - int(ao["first_t"]))
        expected = float(ao["n"]) / span * silence  # shipments the old trader's pace would have made since
        abrupt = expected >= 2.0
        prior = flagged.get(old, [])
        score = (0.3 + 0.15 * strength + 0.2 * min(1.0, share) + 0.1 * goods_share
                 + 0.1 * (1.0 - max(0, gap_days) / max(1, gapmax)) + 0.1 * abrupt + 0.1 * bool(prior))
        if score < float(p["threshold"]):
            continue
        old_e = e[(e["src"] == old) | (e["dst"] == old)].sort_values(["t", "decl"])
        new_e = e[(e["src"] == new) | (e["dst"] == new)].sort_values(["t", "decl"])
        k = int(p["max_evidence"])
        kinds = sorted({x["kind"] for x in link_list})
        sp = sorted(shared)
        flag_txt = (", flagged by " + ", ".join(sorted({x["pattern"] for x in prior}))) if prior else ""
        start_txt = (f"was registered on {reg_txt[new]}" if new in reg_txt
                     else f"started trading on {_date(an['first_t'])}")
        expl = (f"trader {old} stopped trading on {_date(ao['last_t'])} ({int(ao['n'])} shipments{flag_txt}); "
                f"{new}, sharing its {' and '.join(kinds).lower()}, {start_txt} "
                f"({abs(gap_days)} days {'after' if gap_days >= 0 else 'before'}) and trades with {len(shared)} "
                f"of the same partners ({', '.join(sp[:3])}{'...' if len(sp) > 3 else ''}) in the same goods")
        evidence = {
            "old": {"trader": old, "registration_date": reg_txt.get(old), "first_date": _date(ao["first_t"]),
                    "last_date": _date(ao["last_t"]), "shipments": int(ao["n"]), "silent_days": silence,
                    "abrupt_stop": bool(abrupt),
                    "last_declarations": [d for ds in old_e["decls"].tail(k) for d in ds]},
            "new": {"trader": new, "registration_date": reg_txt.get(new), "first_date": _date(an["first_t"]),
                    "last_date": _date(an["last_t"]), "shipments": int(an["n"]),
                    "first_declarations": [d for ds in new_e["decls"].head(k) for d in ds]},
            "links": link_list,
            "gap_days": gap_days,
            "shared_partners": sp,
            "partner_share": round(share, 4),
            "shared_goods": sorted(ao["goods"] & an["goods"]),
            "goods_share": round(goods_share, 4),
            "prior_alerts": prior,
        }
        alerts.append(Alert(pattern="phoenix_trader", score=round(min(1.0, score), 4),
                            entities=[{"label": "Trader", "id": old}, {"label": "Trader", "id": new}],
                            explanation=expl, evidence=evidence))
    alerts.sort(key=lambda a: (-a.score, a.id))
    return alerts

"""Scatter-gather: one account spreads money over several intermediaries that pass it on to one
gathering account.

The layering step of FATF, *Professional Money Laundering* (2018): money is split over money
mules or front accounts so that no single transfer stands out, and each of them passes its part
on, less a cut, to one collecting account shortly after. FinCEN Advisory FIN-2014-A005 (funnel
accounts) describes the gathering side; the AMLSim typologies (IBM, 2018) name the whole shape
"scatter-gather". The signal is the pair (source, gatherer) joined by several two-hop paths
that each keep most of the amount and close within a short window; fan-out alone (payroll,
a buyer paying its suppliers) does not gather.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from graphiff.alerts import Alert
from graphiff.detectors.registry import register
from graphiff.graph.algorithms import window_join
from graphiff.graph.features import money_edges
from graphiff.graph.tables import Tables

DEFAULTS: dict[str, Any] = {
    "min_intermediaries": 2,
    "window_days": 30,
    "min_pass_ratio": 0.7,
    "max_pass_ratio": 1.05,
    "max_intermediary_degree": 50,
    "max_evidence_paths": 50,
}


def scatter_gather_paths(tables: Tables, *, window_days: int = 30, min_pass_ratio: float = 0.7,
                         max_pass_ratio: float = 1.05, max_intermediary_degree: int = 50) -> pd.DataFrame:
    """Two-hop payment paths source -> intermediary -> gatherer where the second payment is
    made 0..``window_days`` days after the first and carries ``min_pass_ratio`` ..
    ``max_pass_ratio`` of its amount (USD), source and gatherer distinct. Intermediaries with
    more than ``max_intermediary_degree`` distinct counterparties are not followed (a bank or a
    marketplace is not a mule; 0 = no limit).

    Columns ``s, i, g, t1, t2, a1, a2, p1, p2, d1, d2`` (accounts, days, USD amounts, payment
    keys, dates). Cost: a windowed join on the intermediary, O((P + pairs) log P), where pairs
    are the in/out payments of one account within the window.
    """
    e = money_edges(tables)
    e = e[e["amount_usd"].notna().to_numpy() & (e["amount_usd"] > 0).to_numpy()
          & (e["src"] != e["dst"]).to_numpy()]
    cols = ["s", "i", "g", "t1", "t2", "a1", "a2", "p1", "p2", "d1", "d2"]
    if not len(e):
        return pd.DataFrame(columns=cols)
    first = pd.DataFrame({"s": e["src"].to_numpy(dtype=object), "i": e["dst"].to_numpy(dtype=object),
                          "t1": e["t"].to_numpy(np.int64), "a1": e["amount_usd"].to_numpy(float),
                          "p1": e["payment"].to_numpy(dtype=object), "d1": e["date"].to_numpy(dtype=object)})
    second = pd.DataFrame({"i": e["src"].to_numpy(dtype=object), "g": e["dst"].to_numpy(dtype=object),
                           "t2": e["t"].to_numpy(np.int64), "a2": e["amount_usd"].to_numpy(float),
                           "p2": e["payment"].to_numpy(dtype=object), "d2": e["date"].to_numpy(dtype=object)})
    # only accounts that both receive and send can be intermediaries
    mid = set(first["i"]) & set(second["i"])
    if int(max_intermediary_degree) > 0:
        deg = pd.concat([first[["i", "s"]].set_axis(["a", "b"], axis=1),
                         second[["i", "g"]].set_axis(["a", "b"], axis=1)]).drop_duplicates()
        n = deg.groupby("a").size()
        mid &= set(n.index[(n <= int(max_intermediary_degree)).to_numpy()])
    first = first[first["i"].isin(mid).to_numpy()]
    second = second[second["i"].isin(mid).to_numpy()]
    if not len(first) or not len(second):
        return pd.DataFrame(columns=cols)
    j = window_join(second, first, ["i"], "t2", "t1", int(window_days))
    r = j["a2"] / j["a1"]
    j = j[((j["s"] != j["g"]) & (r >= float(min_pass_ratio)) & (r <= float(max_pass_ratio))).to_numpy()]
    return j[cols].reset_index(drop=True)


@register("scatter_gather", defaults=dict(DEFAULTS))
def detect_scatter_gather(
    tables: Tables,
    *,
    min_intermediaries: int = 2,
    window_days: int = 30,
    min_pass_ratio: float = 0.7,
    max_pass_ratio: float = 1.05,
    max_intermediary_degree: int = 50,
    max_evidence_paths: int = 50,
) -> list[Alert]:
    """Scatter-gather: a source account pays several intermediaries, each of which pays on
    (less a cut) to one gathering account, all within a window.

    Typology: FATF, *Professional Money Laundering* (2018) (layering through money mules);
    FinCEN Advisory FIN-2014-A005 (funnel accounts); the AMLSim "scatter-gather" typology.

    Parameters
    ----------
    tables : Tables
        Reads ``Payment`` through :func:`graphiff.graph.features.money_edges` (accounts, dates,
        USD amounts; payments without a USD amount are left out).
    min_intermediaries : int, default 2
        Fewest distinct intermediaries between one source and one gatherer in one episode
        (two already make the shape: the amount band and the window keep chance pairs out).
    window_days : int, default 30
        Each intermediary pays on 0..window days after it was paid, and one episode's
        scatter payments start within this many days of its first.
    min_pass_ratio, max_pass_ratio : float, default 0.7, 1.05
        The onward payment carries this share of the incoming one: a cut of up to 30 % stays
        with the intermediary; a little more (rounding, another small credit) is tolerated.
    max_intermediary_degree : int, default 50
        Accounts with more distinct counterparties are not taken as intermediaries (0 = any).
    max_evidence_paths : int, default 50

    Returns
    -------
    list of Alert
        One per (source, gatherer) pair with at least one qualifying episode, all its episodes
        as evidence. Entities: the source and gathering ``BankAccount`` and the intermediaries.
        Evidence: ``paths`` (intermediary, both payments, dates, USD amounts, the share passed
        on), ``episodes``, totals scattered and gathered. Score: 0.5, up to +0.2 for more
        intermediaries, +0.15 for onward payments closer to the amount received, +0.15 when
        the scheme repeats.

    Notes
    -----
    Cost: :func:`scatter_gather_paths` (a windowed join), then O(paths log paths) grouping.
    """
    paths = scatter_gather_paths(tables, window_days=window_days, min_pass_ratio=min_pass_ratio,
                                 max_pass_ratio=max_pass_ratio, max_intermediary_degree=max_intermediary_degree)
    if not len(paths):
        return []
    k = int(min_intermediaries)
    # cheap cut: pairs with fewer distinct intermediaries overall cannot qualify
    n_mid = paths.groupby(["s", "g"])["i"].transform("nunique")
    paths = paths[(n_mid >= k).to_numpy()]
    if not len(paths):
        return []
    paths = paths.sort_values(["s", "g", "t1", "t2", "p1", "p2"], kind="stable", ignore_index=True)
    e = money_edges(tables)
    holder = dict(zip(e["src"], e["src_holder"])) | dict(zip(e["dst"], e["dst_holder"]))
    alerts: list[Alert] = []
    for (s, g), grp in paths.groupby(["s", "g"], sort=True):
        # episodes: runs of scatter payments starting within window_days of the run's first
        t1 = grp["t1"].to_numpy()
        episodes: list[pd.DataFrame] = []
        start = 0
        for idx in range(1, len(t1) + 1):
            if idx == len(t1) or t1[idx] - t1[start] > window_days:
                ep = grp.iloc[start:idx]
                # one path per intermediary and scatter payment: the closest onward payment
                ep = ep.assign(_gap=ep["t2"] - ep["t1"]).sort_values(["_gap", "p2"], kind="stable")
                ep = ep.drop_duplicates("p1").drop_duplicates("p2").sort_values(["t1", "t2"], kind="stable")
                if ep["i"].nunique() >= k:
                    episodes.append(ep)
                start = idx
        if not episodes:
            continue
        hit = pd.concat(episodes, ignore_index=True)
        mids = sorted(set(hit["i"]))
        share = (hit["a2"] / hit["a1"]).to_numpy()
        scattered, gathered = float(hit["a1"].sum()), float(hit["a2"].sum())
        score = (0.5 + 0.2 * min(1.0, (len(mids) - k + 1) / 3.0)
                 + 0.15 * float(np.clip(1.0 - np.abs(1.0 - share) / 0.3, 0.0, 1.0).mean())
                 + 0.15 * (len(episodes) > 1))
        first, last = str(min(hit["d1"])), str(max(hit["d2"]))
        hs, hg = holder.get(s), holder.get(g)
        expl = (f"Account {s}{f' of {hs}' if isinstance(hs, str) else ''} paid {len(mids)} intermediaries "
                f"{scattered:,.0f} USD and they passed {gathered:,.0f} USD ({gathered / scattered:.0%}) on to account "
                f"{g}{f' of {hg}' if isinstance(hg, str) else ''} between {first} and {last}"
                + (f", {len(episodes)} times" if len(episodes) > 1 else ""))
        shown = hit.head(int(max_evidence_paths))
        evidence = {
            "source": s, "gatherer": g, "source_holder": hs if isinstance(hs, str) else None,
            "gatherer_holder": hg if isinstance(hg, str) else None, "intermediaries": mids,
            "episodes": len(episodes), "scattered_usd": round(scattered, 2), "gathered_usd": round(gathered, 2),
            "first_date": first, "last_date": last,
            "payments": sorted({str(x) for x in shown["p1"]} | {str(x) for x in shown["p2"]}),
            "paths": [{"intermediary": r.i, "in_payment": r.p1, "in_date": r.d1, "in_usd": round(float(r.a1), 2),
                       "out_payment": r.p2, "out_date": r.d2, "out_usd": round(float(r.a2), 2),
                       "passed_on": round(float(r.a2 / r.a1), 4)} for r in shown.itertuples(index=False)],
        }
        entities = ([{"label": "BankAccount", "id": str(s)}, {"label": "BankAccount", "id": str(g)}]
                    + [{"label": "BankAccount", "id": str(m)} for m in mids])
        alerts.append(Alert(pattern="scatter_gather", score=round(min(1.0, score), 4), entities=entities,
                            explanation=expl, evidence=evidence))
    alerts.sort(key=lambda a: (-a.score, a.id))
    return alerts

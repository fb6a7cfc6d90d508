"""The features learned risk targeting scores a declaration on: what the declaration says, and
what the graph knew about its parties **before the declaration's date**.

Every history feature is computed from rows dated strictly before the row's own day (rows of
the same day never see each other), and its label part only from the labels the caller marks
as known (``known``: e.g. the training months when measuring on later months). All of it is
sorted, grouped, cumulative arithmetic (pandas), never a loop over rows: a 1M-row store builds
its features in seconds.

The table :func:`build_features` returns has one row per declaration (in the order of the
declarations given) and these columns (``{role}`` is ``importer``, ``declarant``, ``seller``
(the exporter), ``carrier``; every count is of rows dated before the declaration's day):

- declaration categoricals (:data:`CATEGORICAL`, plus ``hs4``, ``hs2``): LightGBM categoricals;
- declaration numbers (:data:`NUMERIC`, ``unit_value_usd``, their logs);
- ``{role}_n_90d``: the party's declarations in the :data:`WINDOW` days before;
  ``{role}_days_last``: days since it was last seen, capped at :data:`WINDOW` (empty when never
  seen); ``{role}_partners_90d``: new partners in the window (its growth in the trade graph: an
  importer's sellers, a seller's, declarant's or carrier's importers);
- ``{role}_fraud_rate``: its earlier frauds over its earlier labelled declarations, smoothed
  towards the earlier overall rate (:data:`SMOOTHING` pseudo-declarations);
- ``{role}_nb_fraud_rate``: the neighbours' earlier frauds: over the party's earlier
  declarations, the frauds of their partners (the importers a seller, declarant or carrier
  served; the sellers an importer bought from) known at the time, smoothed;
- ``{pair}_first`` (1: the pair was never seen before), ``{pair}_fraud_rate``
  for ``importer_seller``, ``importer_declarant``, ``importer_hs6``;
- ``hs6_fraud_rate``, ``origin_fraud_rate``, ``office_fraud_rate``: the earlier fraud rate of
  the declaration's goods, origin and office;
- ``{role}_alert_score_prev``: the highest score of the stored detector alerts naming the party
  whose evidence ends before the declaration's day;
- ``{role}_shared_ids``, ``{role}_group_fraud_rate``: other traders sharing an address, phone
  or email with the party, and the earlier fraud rate of that group of traders.

Counts that grow with the calendar (:data:`DISPLAY_ONLY`: ``{role}_n_prev``, ``_days_first``,
``_partners_prev``, ``_labelled_prev``, ``_fraud_prev``, ``_nb_*_prev``, ``{pair}_n_prev``,
``{value}_labelled_prev``, ``_alerts_prev``) are computed for the reasons to quote and returned
in :attr:`Features.display`, not in the model's frame: trained on earlier months and applied
to later ones, trees would split on values the later months never show.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from graphiff.alerts import evidence_strings

__all__ = ["CATEGORICAL", "NUMERIC", "ROLES", "PAIRS", "SMOOTHING", "Features", "day_numbers",
           "declaration_features", "earlier_sums", "entity_history", "pair_history", "neighbour_frauds",
           "value_history", "alert_history", "alert_events", "shared_identifier_features", "build_features"]

#: Declaration properties used as categoricals when the store has them.
CATEGORICAL = ("office", "flow", "reporting_country", "process_type", "import_type", "import_use", "payment_type",
               "transport_mode", "hs6", "origin_country", "dispatch_country", "exporter_country", "tax_type",
               "country_of_origin_indicator", "currency", "quantity_unit")
#: Declaration properties used as numbers when the store has them.
NUMERIC = ("tax_rate", "net_mass_kg", "invoice_value", "value_usd", "quantity")
#: The parties whose history is a feature: role -> (declaration column, partner column).
ROLES: dict[str, tuple[str, str]] = {
    "importer": ("importer_id", "exporter_id"),
    "declarant": ("declarant_id", "importer_id"),
    "seller": ("exporter_id", "importer_id"),
    "carrier": ("carrier_id", "importer_id"),
}
#: Pairs whose earlier history is a feature: name -> the two declaration columns.
PAIRS: dict[str, tuple[str, str]] = {
    "importer_seller": ("importer_id", "exporter_id"),
    "importer_declarant": ("importer_id", "declarant_id"),
    "importer_hs6": ("importer_id", "hs6"),
}
#: Values whose earlier fraud rate is a feature: name -> declaration column.
VALUE_RATES: dict[str, str] = {"hs6": "hs6", "origin": "origin_country", "office": "office"}
#: Pseudo-declarations at the earlier overall fraud rate added to every smoothed rate: a party
#: with 3 earlier inspections, all frauds, reads 0.33 at a 22 % prior, not 1.0.
SMOOTHING = 20.0
#: The trailing window (days) of the activity counts the model reads.
WINDOW = 90.0
#: Count columns kept for the reasons only, not given to the model: they grow with the calendar
#: (a party's earlier declarations in November outnumber those in March), so trees trained on
#: earlier months split on values the later months never show (docs/targeting.md).
DISPLAY_ONLY = re.compile(r"(_n_prev|_days_first|_partners_prev|_labelled_prev|_fraud_prev|_alerts_prev)$")

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


@dataclass
class Features:
    """A feature table and what the model needs to know about it.

    ``frame``: one row per declaration, the feature columns; ``keys``: the declarations' keys;
    ``days``: their dates as day numbers (days since 1970-01-01); ``categorical``: the columns
    LightGBM treats as categories; ``context``: raw values the reasons quote (party ids, HS6...);
    ``display``: the cumulative counts the reasons quote but the model does not read
    (:data:`DISPLAY_ONLY`).
    """

    frame: pd.DataFrame
    keys: pd.Series
    days: np.ndarray
    categorical: list[str] = field(default_factory=list)
    context: pd.DataFrame = field(default_factory=pd.DataFrame)
    display: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)


def day_numbers(dates: pd.Series) -> np.ndarray:
    """ISO dates (``YYYY-MM-DD``, a time part ignored) as float day numbers since 1970-01-01
    (NaN when missing or not a date).

    >>> day_numbers(pd.Series(["1970-01-02", "2020-01-01T10:00", None])).tolist()[:2]
    [1.0, 18262.0]
    """
    d = pd.to_datetime(dates.astype("string").str.slice(0, 10), errors="coerce", format="%Y-%m-%d")
    out = (d - pd.Timestamp("1970-01-01")).dt.days.astype("float64")
    return out.to_numpy()


def _text(s: pd.Series | None, n: int) -> pd.Series:
    """A column as stripped strings with missing values (and empty strings) as NA."""
    if s is None:
        return pd.Series(pd.NA, index=range(n), dtype="string")
    t = s.astype("string").str.strip()
    return t.mask(t == "")


def declaration_features(decl: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """What a declaration says about itself: the categoricals of :data:`CATEGORICAL` the table
    has (as pandas categories, plus ``hs4`` and ``hs2`` cut from ``hs6``), and the numbers of
    :data:`NUMERIC` with ``unit_value_usd`` (value per kg) and the logs of value, mass and unit
    value. Returns the frame and the names of its categorical columns. Cost: one pass.

    >>> f, cats = declaration_features(pd.DataFrame({"hs6": ["730890"], "value_usd": [100.0],
    ...                                               "net_mass_kg": [4.0]}))
    >>> cats, float(f["unit_value_usd"].iloc[0])
    (['hs6', 'hs4', 'hs2'], 25.0)
    """
    n = len(decl)
    out: dict[str, Any] = {}
    cats: list[str] = []
    for c in CATEGORICAL:
        if c in decl.columns:
            out[c] = _text(decl[c], n).to_numpy()
            cats.append(c)
    if "hs6" in decl.columns:
        hs = _text(decl["hs6"], n)
        out["hs4"], out["hs2"] = hs.str.slice(0, 4).to_numpy(), hs.str.slice(0, 2).to_numpy()
        cats += ["hs4", "hs2"]
    for c in NUMERIC:
        if c in decl.columns:
            out[c] = pd.to_numeric(decl[c], errors="coerce").astype("float64").to_numpy()
    if "value_usd" in out and "net_mass_kg" in out:
        mass = np.where(out["net_mass_kg"] > 0, out["net_mass_kg"], np.nan)
        out["unit_value_usd"] = out["value_usd"] / mass
    for c in ("value_usd", "net_mass_kg", "unit_value_usd", "invoice_value"):
        if c in out:
            v = out[c]
            out[f"log_{c}"] = np.log1p(np.where(v > 0, v, np.nan))
    frame = pd.DataFrame(out, index=range(n))
    for c in cats:
        frame[c] = frame[c].astype("category")
    return frame, cats


def earlier_sums(group: np.ndarray, days: np.ndarray, values: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """For each row, the sums of ``values`` over the rows of the same ``group`` dated on an
    **earlier day** (rows of the same day are left out), plus ``first`` and ``last``: the first
    and the last earlier day of the group (NaN when none). Rows with a negative group (missing
    entity) or no day get NaN. The primitive of every history feature.

    Cost: one sort of the (group, day) cells and a grouped cumulative sum: O(n log n).

    >>> g = np.array([0, 0, 0, 1]); d = np.array([1.0, 1.0, 3.0, 1.0])
    >>> earlier_sums(g, d, {"x": np.array([1.0, 1.0, 5.0, 7.0])})["x"].tolist()
    [0.0, 0.0, 2.0, 0.0]
    """
    n = len(group)
    ok = (group >= 0) & ~np.isnan(days)
    cells = pd.DataFrame({"g": group[ok], "d": days[ok], **{k: np.asarray(v, dtype="float64")[ok]
                                                             for k, v in values.items()}})
    agg = cells.groupby(["g", "d"], sort=True).sum()
    names = list(values)
    gl = agg.index.get_level_values(0).to_numpy()
    dl = agg.index.get_level_values(1).to_numpy()
    res = pd.DataFrame(index=agg.index)
    if names:
        inclusive = agg.groupby(level=0, sort=False).cumsum()
        res[names] = inclusive.to_numpy() - agg.to_numpy()
    starts = np.r_[True, gl[1:] != gl[:-1]] if len(gl) else np.zeros(0, bool)
    first_of_group = pd.Series(dl).where(starts).ffill().to_numpy()
    prev_day = np.r_[np.nan, dl[:-1]] if len(dl) else np.zeros(0)
    res["first"] = np.where(starts, np.nan, first_of_group)
    res["last"] = np.where(starts, np.nan, prev_day)
    at = res.reindex(pd.MultiIndex.from_arrays([group[ok], days[ok]]))
    out = pd.DataFrame(np.nan, index=range(n), columns=[*names, "first", "last"])
    out.loc[np.flatnonzero(ok), :] = at[[*names, "first", "last"]].to_numpy()
    return out


def window_sums(group: np.ndarray, days: np.ndarray, values: Mapping[str, np.ndarray],
                window: float = 90.0) -> pd.DataFrame:
    """For each row, the sums of ``values`` over the rows of the same ``group`` dated in the
    ``window`` days before the row's day (``day - window <= d < day``; the row's own day left
    out). Unlike :func:`earlier_sums`, the result does not grow with the calendar: a party seen
    as often in March as in November has the same count, which is what a model trained on
    earlier months and applied to later ones needs. NaN for a missing group or day.

    Cost: one sort of the (group, day) cells, a grouped cumulative sum and two binary searches
    per row: O(n log n).

    >>> g = np.array([0, 0, 0, 0]); d = np.array([1.0, 2.0, 50.0, 100.0])
    >>> window_sums(g, d, {"x": np.ones(4)}, window=60)["x"].tolist()
    [0.0, 1.0, 2.0, 1.0]
    """
    n = len(group)
    ok = (group >= 0) & ~np.isnan(days)
    names = list(values)
    out = pd.DataFrame(np.nan, index=range(n), columns=names)
    if not ok.any():
        return out
    cells = pd.DataFrame({"g": group[ok], "d": days[ok], **{k: np.asarray(v, dtype="float64")[ok]
                                                             for k, v in values.items()}})
    agg = cells.groupby(["g", "d"], sort=True).sum()
    gl = agg.index.get_level_values(0).to_numpy().astype(np.float64)
    dl = agg.index.get_level_values(1).to_numpy()
    d0 = float(np.min(dl)) - window - 2.0
    span = float(np.max(dl)) - d0 + window + 4.0
    cell_key = gl * span + (dl - d0)
    inclusive = agg.groupby(level=0, sort=False).cumsum().to_numpy()
    padded = np.vstack([np.zeros((1, len(names))), inclusive])
    gr, dr = group[ok].astype(np.float64), days[ok]

    def before(t: np.ndarray) -> np.ndarray:
        """The group's inclusive sums at its last cell dated before ``t`` (0 when none)."""
        pos = np.searchsorted(cell_key, gr * span + (t - d0), side="left")   # first cell >= (g, t)
        prev = pos - 1
        same = (prev >= 0) & (gl[np.clip(prev, 0, None)] == gr)
        return np.where(same[:, None], padded[prev + 1], 0.0)

    out.loc[np.flatnonzero(ok), names] = before(dr) - before(dr - window)
    return out


def _codes(*cols: pd.Series) -> np.ndarray:
    """One integer code per distinct value (tuple) of the columns; -1 where any is missing."""
    if len(cols) == 1:
        codes, _ = pd.factorize(cols[0], use_na_sentinel=True)
        return np.asarray(codes, dtype=np.int64)
    frame = pd.DataFrame({i: c.to_numpy() for i, c in enumerate(cols)})
    missing = frame.isna().any(axis=1).to_numpy()
    codes = frame.groupby(list(frame.columns), sort=False, dropna=False).ngroup().to_numpy().astype(np.int64)
    codes[missing] = -1
    return codes


def _prior(days: np.ndarray, fraud: np.ndarray, known: np.ndarray) -> np.ndarray:
    """The overall fraud rate of the labelled rows of earlier days, per row (0.5 before any)."""
    s = earlier_sums(np.zeros(len(days), dtype=np.int64), days, {"f": fraud * known, "k": known.astype(float)})
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = s["f"].to_numpy() / s["k"].to_numpy()
    return np.where(np.isfinite(rate), rate, 0.5)


def _rate(fraud_prev: np.ndarray, labelled_prev: np.ndarray, prior: np.ndarray) -> np.ndarray:
    return (np.nan_to_num(fraud_prev) + SMOOTHING * prior) / (np.nan_to_num(labelled_prev) + SMOOTHING)


def entity_history(decl: pd.DataFrame, role: str, days: np.ndarray, fraud: np.ndarray, known: np.ndarray,
                   prior: np.ndarray) -> pd.DataFrame:
    """The history of a declaration's party in ``role`` (:data:`ROLES`) before the declaration's
    day: ``{role}_n_prev``, ``_days_first``, ``_days_last``, ``_partners_prev``,
    ``_labelled_prev``, ``_fraud_prev`` and the smoothed ``_fraud_rate``.

    ``fraud`` (0/1, 0 where unknown) and ``known`` (bool) are the labels the history may use;
    ``prior`` the earlier overall rate per row. Cost: two :func:`earlier_sums`.
    """
    col, partner_col = ROLES[role]
    n = len(decl)
    ent = _text(decl.get(col), n)
    g = _codes(ent)
    partner = _text(decl.get(partner_col), n)
    pair = _codes(ent, partner)
    # a pair's first row (per day): counted once, on the day the pair was first seen
    first_day = pd.Series(days).groupby(pair).transform("min").to_numpy()
    new_pair = ((pair >= 0) & (days == first_day)
                & ~pd.DataFrame({"p": pair, "d": days}).duplicated().to_numpy()).astype(float)
    s = earlier_sums(g, days, {"n": np.ones(n), "partners": new_pair, "labelled": known.astype(float),
                               "fraud": fraud * known})
    w = window_sums(g, days, {"n": np.ones(n), "partners": new_pair}, WINDOW)
    out = pd.DataFrame({
        f"{role}_n_prev": s["n"].to_numpy(),
        f"{role}_n_{int(WINDOW)}d": w["n"].to_numpy(),
        f"{role}_partners_{int(WINDOW)}d": w["partners"].to_numpy(),
        f"{role}_days_first": days - s["first"].to_numpy(),
        f"{role}_days_last": np.minimum(days - s["last"].to_numpy(), WINDOW),
        f"{role}_partners_prev": s["partners"].to_numpy(),
        f"{role}_labelled_prev": s["labelled"].to_numpy(),
        f"{role}_fraud_prev": s["fraud"].to_numpy(),
    })
    rate = _rate(s["fraud"].to_numpy(), s["labelled"].to_numpy(), prior)
    out[f"{role}_fraud_rate"] = np.where(g >= 0, rate, np.nan)
    return out


def pair_history(decl: pd.DataFrame, name: str, days: np.ndarray, fraud: np.ndarray, known: np.ndarray,
                 prior: np.ndarray) -> pd.DataFrame:
    """The history of a pair (:data:`PAIRS`: importer and seller, importer and declarant,
    importer and HS6) before the declaration's day: ``{name}_n_prev``, ``{name}_first`` (1 when
    the pair was never seen before: a first-time relationship) and ``{name}_fraud_rate``."""
    a, b = PAIRS[name]
    n = len(decl)
    g = _codes(_text(decl.get(a), n), _text(decl.get(b), n))
    s = earlier_sums(g, days, {"n": np.ones(n), "labelled": known.astype(float), "fraud": fraud * known})
    nprev = s["n"].to_numpy()
    return pd.DataFrame({
        f"{name}_n_prev": nprev,
        f"{name}_first": np.where(g >= 0, (np.nan_to_num(nprev) == 0).astype(float), np.nan),
        f"{name}_fraud_rate": np.where(g >= 0, _rate(s["fraud"].to_numpy(), s["labelled"].to_numpy(), prior),
                                       np.nan),
    })


def value_history(decl: pd.DataFrame, name: str, days: np.ndarray, fraud: np.ndarray, known: np.ndarray,
                  prior: np.ndarray) -> pd.DataFrame:
    """The earlier fraud rate of the declarations sharing a value (:data:`VALUE_RATES`: the HS6
    code, the origin, the office): ``{name}_fraud_rate`` (smoothed) and ``{name}_labelled_prev``:
    a leak-free target encoding of the categorical."""
    col = VALUE_RATES[name]
    n = len(decl)
    g = _codes(_text(decl.get(col), n))
    s = earlier_sums(g, days, {"labelled": known.astype(float), "fraud": fraud * known})
    return pd.DataFrame({
        f"{name}_fraud_rate": np.where(g >= 0, _rate(s["fraud"].to_numpy(), s["labelled"].to_numpy(), prior),
                                       np.nan),
        f"{name}_labelled_prev": s["labelled"].to_numpy(),
    })


def neighbour_frauds(decl: pd.DataFrame, role: str, days: np.ndarray, partner_fraud: np.ndarray,
                     partner_labelled: np.ndarray, prior: np.ndarray) -> pd.DataFrame:
    """The neighbours' earlier frauds of the party in ``role``: over its declarations of earlier
    days, the sums of the partner's ``partner_fraud`` / ``partner_labelled`` (the partner's own
    earlier frauds and labelled declarations as known on that earlier row, e.g.
    ``importer_fraud_prev`` for a seller), as ``{role}_nb_fraud_prev``,
    ``{role}_nb_labelled_prev`` and the smoothed ``{role}_nb_fraud_rate``. Every number is
    from before an earlier row's day, so before the declaration's day."""
    col, _ = ROLES[role]
    n = len(decl)
    g = _codes(_text(decl.get(col), n))
    s = earlier_sums(g, days, {"f": np.nan_to_num(partner_fraud), "k": np.nan_to_num(partner_labelled)})
    return pd.DataFrame({
        f"{role}_nb_fraud_prev": s["f"].to_numpy(),
        f"{role}_nb_labelled_prev": s["k"].to_numpy(),
        f"{role}_nb_fraud_rate": np.where(g >= 0, _rate(s["f"].to_numpy(), s["k"].to_numpy(), prior), np.nan),
    })


def alert_events(alerts: Iterable[Any]) -> pd.DataFrame:
    """Stored alerts as dated events per entity they name: ``label, id, day, score, pattern``.
    An alert's day is the latest date in its evidence (when what it describes was complete);
    an alert whose evidence holds no date cannot be placed in time and is left out.

    >>> from graphiff.alerts import Alert
    >>> a = Alert(pattern="p", score=0.9, entities=[{"label": "Trader", "id": "T1"}], explanation="x",
    ...           evidence={"first_date": "2020-01-03", "last_date": "2020-02-01"})
    >>> alert_events([a])[["id", "day"]].to_dict("records")
    [{'id': 'T1', 'day': 18293.0}]
    """
    rows: list[tuple[str, str, str, float, str]] = []
    for a in alerts:
        found = [v[:10] for v in evidence_strings(a.evidence) if _DATE.match(v)]
        if not found:
            continue
        latest = max(found)
        for e in a.entities:
            rows.append((str(e.get("label")), str(e.get("id")), latest, float(a.score), str(a.pattern)))
    ev = pd.DataFrame(rows, columns=["label", "id", "date", "score", "pattern"])
    ev["day"] = day_numbers(ev["date"]) if len(ev) else pd.Series(dtype="float64")
    return ev.drop(columns=["date"]).dropna(subset=["day"]).reset_index(drop=True)


def alert_history(decl: pd.DataFrame, role: str, days: np.ndarray, events: pd.DataFrame) -> pd.DataFrame:
    """The alerts naming the party in ``role`` (as a Trader, or a Carrier for the carrier)
    dated before the declaration's day (:func:`alert_events`): ``{role}_alerts_prev`` and
    ``{role}_alert_score_prev`` (the highest score, 0 when none). Cost: one ``merge_asof``."""
    col, _ = ROLES[role]
    n = len(decl)
    label = "Carrier" if role == "carrier" else "Trader"
    ev = events[events["label"] == label] if len(events) else events
    out = pd.DataFrame({f"{role}_alerts_prev": np.zeros(n), f"{role}_alert_score_prev": np.zeros(n)})
    ent = _text(decl.get(col), n)
    if not len(ev) or ent.isna().all():
        return out
    ev = ev.sort_values(["day"], kind="stable")
    ev = ev.assign(cnt=ev.groupby("id").cumcount() + 1.0, best=ev.groupby("id")["score"].cummax())
    rows = pd.DataFrame({"row": np.arange(n), "id": ent.to_numpy(), "day": days})
    rows = rows[ent.notna().to_numpy() & ~np.isnan(days)].sort_values("day", kind="stable")
    rows["id"] = rows["id"].astype(str)
    right = ev[["id", "day", "cnt", "best"]].assign(id=ev["id"].astype(str))
    m = pd.merge_asof(rows, right, on="day", by="id", allow_exact_matches=False, direction="backward")
    out.loc[m["row"].to_numpy(), f"{role}_alerts_prev"] = m["cnt"].fillna(0.0).to_numpy()
    out.loc[m["row"].to_numpy(), f"{role}_alert_score_prev"] = m["best"].fillna(0.0).to_numpy()
    return out


def shared_identifier_features(decl: pd.DataFrame, links: pd.DataFrame, days: np.ndarray, fraud: np.ndarray,
                               known: np.ndarray, prior: np.ndarray,
                               roles: Sequence[str] = ("importer", "seller")) -> pd.DataFrame:
    """Shared identifiers of the importer and the seller: ``{role}_shared_ids`` (how many other
    traders share an address, phone or email with it) and ``{role}_group_fraud_rate`` (the
    earlier fraud rate of all the declarations of the traders so linked, smoothed). ``links``:
    :func:`graphiff.graph.features.identifier_links` of the traders (``id_key``, ``key``).
    Identifiers are registry facts without a date, so they are read as known at every date."""
    import igraph as ig

    n = len(decl)
    out: dict[str, np.ndarray] = {}
    if not len(links):
        return pd.DataFrame(index=range(n))
    keys = pd.Index(pd.unique(links["key"].astype(str)))
    ids = pd.Index(pd.unique(links["id_key"].astype(str)))
    k = keys.get_indexer(links["key"].astype(str))
    i = ids.get_indexer(links["id_key"].astype(str)) + len(keys)
    graph = ig.Graph(n=len(keys) + len(ids), edges=list(zip(k.tolist(), i.tolist())))
    member = np.asarray(graph.connected_components().membership)[: len(keys)]
    size = pd.Series(member).map(pd.Series(member).value_counts()).to_numpy()
    group_of = pd.Series(member, index=keys)
    others = pd.Series(size - 1, index=keys)
    for role in roles:
        col, _ = ROLES[role]
        ent = _text(decl.get(col), n).astype(object)
        out[f"{role}_shared_ids"] = ent.map(others).fillna(0.0).to_numpy(dtype="float64")
        grp = ent.map(group_of)
        g = np.where(grp.notna(), grp.fillna(-1), -1).astype(np.int64)
        s = earlier_sums(g, days, {"labelled": known.astype(float), "fraud": fraud * known})
        rate = _rate(s["fraud"].to_numpy(), s["labelled"].to_numpy(), prior)
        out[f"{role}_group_fraud_rate"] = np.where(out[f"{role}_shared_ids"] > 0, rate, np.nan)
    return pd.DataFrame(out)


def build_features(decl: pd.DataFrame, labels: pd.Series | None = None, *, known_before: float | None = None,
                   events: pd.DataFrame | None = None, links: pd.DataFrame | None = None,
                   graph: bool = True) -> Features:
    """Every feature of every declaration (see the module's docstring).

    Parameters
    ----------
    decl : DataFrame
        The declarations (``Tables.nodes("Declaration")``): ``key``, ``date`` and their properties.
    labels : Series, optional
        0/1 per row of ``decl`` (same order), NaN where unknown. Without labels, the label
        features are empty (0 labelled).
    known_before : float, optional
        A day number: labels of declarations dated on or after it are not used by any history
        feature (the held-out months of a time split). Default: every label given.
    events : DataFrame, optional
        :func:`alert_events` of the store's alerts.
    links : DataFrame, optional
        The traders' shared identifiers (:func:`graphiff.graph.features.identifier_links`).
    graph : bool
        False: the declaration's own features only (the baseline without graph features).

    Returns
    -------
    Features
        Cost: O(n log n) for n declarations, a few dozen grouped cumulative sums.
    """
    decl = decl.reset_index(drop=True)
    n = len(decl)
    days = day_numbers(decl["date"]) if "date" in decl.columns else np.full(n, np.nan)
    own, cats = declaration_features(decl)
    parts = [own]
    if graph:
        y = (pd.to_numeric(labels, errors="coerce").to_numpy(dtype="float64") if labels is not None
             else np.full(n, np.nan))
        known = ~np.isnan(y)
        if known_before is not None:
            known &= days < known_before
        fraud = np.where(known, np.nan_to_num(y), 0.0)
        prior = _prior(days, fraud, known)
        hist = {role: entity_history(decl, role, days, fraud, known, prior) for role in ROLES}
        parts += list(hist.values())
        # neighbours: a seller's, declarant's, carrier's importers; an importer's sellers
        imp, sel = hist["importer"], hist["seller"]
        for role in ("seller", "declarant", "carrier"):
            parts.append(neighbour_frauds(decl, role, days, imp["importer_fraud_prev"].to_numpy(),
                                          imp["importer_labelled_prev"].to_numpy(), prior))
        parts.append(neighbour_frauds(decl, "importer", days, sel["seller_fraud_prev"].to_numpy(),
                                      sel["seller_labelled_prev"].to_numpy(), prior))
        parts += [pair_history(decl, name, days, fraud, known, prior) for name in PAIRS]
        parts += [value_history(decl, name, days, fraud, known, prior) for name in VALUE_RATES
                  if VALUE_RATES[name] in decl.columns]
        if events is not None and len(events):
            parts += [alert_history(decl, role, days, events) for role in ROLES]
        if links is not None and len(links):
            parts.append(shared_identifier_features(decl, links, days, fraud, known, prior))
    frame = pd.concat([p.reset_index(drop=True) for p in parts], axis=1)
    shown = [c for c in frame.columns if DISPLAY_ONLY.search(c)]
    display = frame[shown]
    frame = frame.drop(columns=shown)
    ctx_cols = [c for c in ("importer_id", "declarant_id", "exporter_id", "carrier_id", "hs6", "origin_country",
                            "office", "date") if c in decl.columns]
    return Features(frame=frame, keys=decl["key"].astype(str).reset_index(drop=True), days=days,
                    categorical=cats, context=decl[ctx_cols].reset_index(drop=True), display=display)

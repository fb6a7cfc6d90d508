"""Scoring a candidate pair: how much each field says for or against two records being one.

A Fellegi–Sunter style sum of weights (log2 Bayes factors): every field compared gives a
weight (positive when it agrees, negative when it disagrees, 0 when it cannot say: missing,
or a value so common it identifies nothing), the prior and the weights add up to the log-odds
of a match, and the score is the match probability ``1 / (1 + 2 ** -total)``. The evidence
of a pair lists each field with both values, how they compared and the weight it gave, so an
analyst sees why a pair scored as it did.

Names compare on their cores (:func:`graphiff.resolve.records.name_core`) word by word
(:func:`name_level`): ``equal``; ``typo`` (the same words, each within a letter or two);
``subset`` (one name's words all in the other: a dropped word); ``similar`` (rapidfuzz
ratio ≥ 85); else ``different``.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, Callable

import numpy as np
import pandas as pd
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

from graphiff.resolve.blocking import ID_FIELDS, value_counts


@dataclass(frozen=True)
class Weights:
    """The weight (log2 Bayes factor) of each comparison outcome, and the prior log-odds.

    The defaults were set on alias worlds of several seeds (``graphiff samples --aliases``;
    BENCHMARKS.md, "Entity resolution") and checked against the decoys there: a similar name
    in the same city, a common person name with another birth date, a placeholder tax id.
    """

    prior: float = -4.0
    name_equal: float = 8.0
    name_typo: float = 5.0
    name_subset: float = 2.5
    name_similar: float = 0.0
    name_different: float = -6.0
    #: a person's name says less than a company's (common names): equal / typo
    person_name_equal: float = 5.0
    person_name_typo: float = 4.0
    tin_equal: float = 10.0
    tin_different: float = -8.0
    passport_equal: float = 10.0
    passport_different: float = -0.5
    country_equal: float = 0.5
    country_different: float = -6.0
    nationality_different: float = -2.0
    city_equal: float = 1.0
    city_different: float = -2.0
    address_equal: float = 4.0
    phone_equal: float = 5.0
    email_equal: float = 6.0
    accounts_equal: float = 6.0
    officers_shared: float = 3.0
    birth_equal: float = 5.0
    birth_different: float = -10.0
    number_equal: float = 9.0
    bank_country_equal: float = 0.5
    bank_country_different: float = -8.0
    bic_equal: float = 1.0
    holder_equal: float = 2.0
    holder_different: float = -3.0


def _typo(x: str, y: str) -> bool:
    """Two words one typo apart: the same first letter and Indel similarity at least 0.8
    ("metla" / "metal"); "metal" / "mineral" (0.67), "gold" / "bold", "eastern" / "western"
    (another first letter) and "sunrise" / "sunset" (0.77) are other words."""
    return x[:1] == y[:1] and Indel.normalized_similarity(x, y) >= 0.8


@lru_cache(maxsize=500_000)
def name_level(a: str, b: str) -> tuple[str, float]:
    """How two name cores compare: ``(level, ratio)`` with level one of ``equal``, ``typo``,
    ``subset``, ``similar``, ``different``, ``missing`` and rapidfuzz's ratio in [0, 100].

    >>> name_level("legacy mara metal", "legacy mara metal")[0], name_level("legacy mara metla", "legacy mara metal")[0]
    ('equal', 'typo')
    >>> name_level("legacy mara metal", "legacy mara mineral")[0], name_level("john okello", "john okello peter")[0]
    ('different', 'subset')
    """
    if not a or not b:
        return "missing", 0.0
    if a == b:
        return "equal", 100.0
    ratio = float(fuzz.ratio(a, b))
    wa, wb = a.split(), b.split()
    left = [x for x in wa if x not in wb]
    right = [y for y in wb if y not in wa]
    if len(wa) == len(wb):
        sa, sb = sorted(wa), sorted(wb)
        sims = [Indel.normalized_similarity(x, y) for x, y in zip(sa, sb)]
        if all(s == 1.0 or _typo(x, y) for s, x, y in zip(sims, sa, sb)) and sum(s < 1.0 for s in sims) <= 1:
            return "typo", ratio
        if len(left) == 1 and len(right) == 1:   # one word differs: a typo, or another word
            return ("typo" if _typo(left[0], right[0]) else "different"), ratio
    short, long_ = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    if len(short) >= 2 and set(short) <= set(long_):
        return "subset", ratio
    if ratio >= 85 and len(wa) != len(wb):
        return "similar", ratio
    if ratio >= 90 and len(left) >= 2:   # as many words, two or more a little off ("Ambsoeli ... Enrgy")
        return "similar", ratio
    return "different", ratio


def _texts(s: pd.Series, idx: np.ndarray) -> pd.Series:
    """The values of ``s`` at positions ``idx`` as text, missing/empty as <NA>."""
    t = s.astype("string").iloc[idx].reset_index(drop=True)
    return t.where(t != "", pd.NA)


def _json_list(v: pd.Series) -> list[str]:
    """Each value as a JSON literal (``null`` when missing)."""
    vals = v.astype(object).where(v.notna(), None).tolist()
    lut: dict[Any, str] = {None: "null"}
    return [lut[x] if x in lut else lut.setdefault(x, json.dumps(str(x), ensure_ascii=False)) for x in vals]


class _Fields:
    """The fields compared for a batch of pairs: each field's values, outcome and weight,
    and the total weight; :meth:`evidence` writes the JSON of chosen pairs."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.total = np.zeros(n)
        self.parts: list[tuple[str, pd.Series, pd.Series, np.ndarray, np.ndarray, bool]] = []

    def add(self, field: str, a: pd.Series, b: pd.Series, match: pd.Series | np.ndarray, weight: np.ndarray,
            always: bool = False) -> None:
        self.total += weight
        self.parts.append((field, a, b, np.asarray(match, dtype=object), np.asarray(weight, dtype=float), always))

    def categorical(self, field: str, a: pd.Series, b: pd.Series, eq: float, diff: float,
                    common: dict[str, int] | None = None) -> None:
        both = (a.notna() & b.notna()).to_numpy(dtype=bool)
        same = both & (a.fillna("") == b.fillna("")).to_numpy(dtype=bool)
        match = np.where(~both, "missing", np.where(same, "equal", "different")).astype(object)
        weight = np.where(~both, 0.0, np.where(same, eq, diff))
        if common:
            na = a.map(common).fillna(0).to_numpy(dtype=float)
            nb = b.map(common).fillna(0).to_numpy(dtype=float)
            placeholder = both & ((na > 0) | (nb > 0))
            if placeholder.any():
                top = np.maximum(na, nb).astype(int)
                match[placeholder] = [f"a placeholder shared by {k} records: ignored" for k in top[placeholder]]
                weight = np.where(placeholder, 0.0, weight)
        self.add(field, a, b, pd.Series(match), weight)

    def shared(self, field: str, a: pd.Series, b: pd.Series, eq: float, counts: dict[str, int] | None,
               max_block: int) -> None:
        """Identifier fields whose values may be ``;``-joined lists: equal when they share a
        value; a shared value carried by more than ``max_block`` records gives no weight."""
        both = (a.notna() & b.notna()).to_numpy(dtype=bool)
        match = np.full(self.n, "missing", dtype=object)
        weight = np.zeros(self.n)
        av, bv = a.to_numpy(dtype=object), b.to_numpy(dtype=object)
        multi = both & (a.str.contains(";", regex=False).fillna(False).to_numpy(dtype=bool)
                        | b.str.contains(";", regex=False).fillna(False).to_numpy(dtype=bool))
        single = both & ~multi
        same = single & (a.fillna("") == b.fillna("")).to_numpy(dtype=bool)
        match[single] = "different"
        top = np.zeros(self.n)
        if counts is not None:
            top[same] = a[same].map(counts).fillna(0).to_numpy(dtype=float)
        match[same] = "equal"
        for k in np.flatnonzero(multi):
            common = set(str(av[k]).split(";")) & set(str(bv[k]).split(";"))
            if common:
                match[k] = "equal"
                top[k] = max((counts or {}).get(v, 0) for v in common)
            else:
                match[k] = "different"
        eqm = match == "equal"
        weight[eqm] = eq
        too = eqm & (top > max_block)
        if too.any():
            match[too] = [f"shared by {int(k)} records: ignored" for k in top[too]]
            weight[too] = 0.0
        self.add(field, a, b, pd.Series(match), weight)

    def evidence(self, rows: np.ndarray, blocks: pd.Series, prior: float, total: np.ndarray) -> list[str]:
        """The evidence JSON of the pairs at positions ``rows``: ``blocked_on``, each field
        that had something to compare (the name always), ``prior`` and ``total``."""
        blocked = _json_list(blocks.iloc[rows].reset_index(drop=True))
        columns: list[list[str]] = [['{"blocked_on": ' + x for x in blocked]]
        for field, a, b, match, weight, always in self.parts:
            ja = _json_list(a.iloc[rows].reset_index(drop=True))
            jb = _json_list(b.iloc[rows].reset_index(drop=True))
            m, wt = match[rows], np.round(weight[rows], 2).tolist()
            jm = {v: json.dumps(v) for v in set(m.tolist())}
            head = f', "{field}": {{"a": '
            columns.append(["" if (not always and mk == "missing") else
                            f'{head}{x}, "b": {y}, "match": {jm[mk]}, "weight": {wk}}}'
                            for x, y, mk, wk in zip(ja, jb, m, wt)])
        columns.append([f', "prior": {prior}, "total": {t}}}' for t in np.round(total[rows], 2).tolist()])
        return ["".join(parts) for parts in zip(*columns)]


def score_pairs(recs: pd.DataFrame, pairs: pd.DataFrame, label: str, *, weights: Weights | None = None,
                max_block: int = 20, evidence_from: float = 0.0,
                evidence_for: Callable[[pd.DataFrame], np.ndarray] | None = None) -> pd.DataFrame:
    """Score candidate pairs with their evidence.

    Parameters
    ----------
    recs : DataFrame
        The records (:func:`graphiff.resolve.records.records`).
    pairs : DataFrame
        ``i``, ``j`` (row positions in ``recs``) and ``blocks``
        (:func:`graphiff.resolve.blocking.candidate_pairs`).
    label : str
        The records' label: persons compare birth dates and passports, accounts their
        numbers, bank countries and holders.
    weights : Weights, optional
        The comparison weights (default :class:`Weights`).
    max_block : int, default 20
        An identifier value carried by more records than this gives no evidence.
    evidence_from : float, default 0
        Write the evidence only of pairs scoring at least this (others get None): a run
        keeps the evidence of the pairs it writes.
    evidence_for : callable, optional
        Instead of ``evidence_from``: called with the scored pairs (``a``, ``b``, ``score``,
        ``total``), returns the boolean mask of the pairs whose evidence to write.

    Returns
    -------
    DataFrame
        ``a``, ``b`` (record keys, ``a < b``), ``score`` (match probability), ``total``
        (log-odds), ``evidence`` (JSON text: field -> ``{"a", "b", "match", "weight"}``,
        plus ``blocked_on``, ``prior`` and ``total``; fields with nothing to compare are
        left out, the name always shown). Cost: O(pairs), vectorised but for the word-by-
        word name comparison (a few µs per pair with different names).
    """
    w = weights or Weights()
    if not len(pairs):
        return pd.DataFrame({"a": [], "b": [], "score": [], "total": [], "evidence": []})
    counts = {field: value_counts(recs, field) for field in (*ID_FIELDS,) if field in recs.columns}
    columns = {c: recs[c].astype("string") for c in recs.columns if c not in ("key", "partner")}
    i_all, j_all = pairs["i"].to_numpy(), pairs["j"].to_numpy()
    total = np.empty(len(pairs))
    # pairs are compared in chunks so memory stays bounded; the fields of the pairs whose
    # evidence is written are compared again (a small share of the pairs)
    for start in range(0, len(pairs), _CHUNK):
        sl = slice(start, start + _CHUNK)
        total[sl] = _compare(columns, i_all[sl], j_all[sl], label, w, counts, max_block).total + w.prior
    score = 1.0 / (1.0 + np.power(2.0, -total))
    keys = recs["key"].astype(str).to_numpy(dtype=object)
    ka, kb = keys[i_all], keys[j_all]
    swap = ka > kb
    out = pd.DataFrame({"a": np.where(swap, kb, ka), "b": np.where(swap, ka, kb), "score": np.round(score, 4),
                        "total": np.round(total, 2)})
    want = np.asarray(evidence_for(out), dtype=bool) if evidence_for is not None else score >= evidence_from
    evidence: list[str | None] = [None] * len(pairs)
    sel_all = np.flatnonzero(want)
    blocks = pairs["blocks"]
    for start in range(0, len(sel_all), _CHUNK):
        sel = sel_all[start:start + _CHUNK]
        f = _compare(columns, i_all[sel], j_all[sel], label, w, counts, max_block)
        for k, text in zip(sel, f.evidence(np.arange(len(sel)), blocks.iloc[sel], w.prior, total[sel])):
            evidence[k] = text
    out["evidence"] = evidence
    out.attrs["weights"] = asdict(w)
    return out


#: pairs compared at once (bounds the memory of a run: a few hundred bytes per pair and field)
_CHUNK = 250_000


def _compare(columns: dict[str, pd.Series], i: np.ndarray, j: np.ndarray, label: str, w: Weights,
             counts: dict[str, dict[str, int]], max_block: int) -> _Fields:
    """Compare every field of the record pairs ``(i[k], j[k])``: their weights and evidence."""
    f = _Fields(len(i))

    def ab(col: str) -> tuple[pd.Series, pd.Series]:
        s = columns[col]
        return _texts(s, i), _texts(s, j)

    if label == "BankAccount":
        for field, eq, diff in (("number", w.number_equal, 0.0),
                                ("bank_country", w.bank_country_equal, w.bank_country_different),
                                ("bic", w.bic_equal, 0.0), ("holder", w.holder_equal, w.holder_different)):
            if field in columns:
                f.categorical(field, *ab(field), eq, diff)
        return f
    a, b = ab("name")
    ca, cb = ab("core")
    xa, xb = ca.fillna("").tolist(), cb.fillna("").tolist()
    levels = [name_level(x, y) if x != y else ("equal", 100.0) for x, y in zip(xa, xb)]
    person = label == "Person"
    nw = {"equal": w.person_name_equal if person else w.name_equal,
          "typo": w.person_name_typo if person else w.name_typo, "subset": w.name_subset,
          "similar": w.name_similar, "different": w.name_different, "missing": 0.0}
    lv = ["missing" if not x or not y else v for (v, _), x, y in zip(levels, xa, xb)]
    match = pd.Series([v if v in ("equal", "missing") else f"{v} ({r:.0f})" for v, (_, r) in zip(lv, levels)])
    f.add("name", a, b, match, np.array([nw[v] for v in lv]), always=True)
    if person:
        f.categorical("passport", *ab("tin"), w.passport_equal, w.passport_different)
        f.categorical("nationality", *ab("country"), w.country_equal, w.nationality_different)
        if "birth_date" in columns:
            f.categorical("birth_date", *ab("birth_date"), w.birth_equal, w.birth_different)
    else:
        common = {v: n for v, n in counts.get("tin", {}).items() if n > max_block}
        f.categorical("tin", *ab("tin"), w.tin_equal, w.tin_different, common=common)
        f.categorical("country", *ab("country"), w.country_equal, w.country_different)
    f.categorical("city", *ab("city"), w.city_equal, w.city_different)
    eqw = {"address": w.address_equal, "phone": w.phone_equal, "email": w.email_equal,
           "accounts": w.accounts_equal}
    for field in ID_FIELDS:
        if field != "tin" and field in columns:
            f.shared(field, *ab(field), eqw[field], counts.get(field, {}), max_block)
    if "officers" in columns:
        f.shared("officers", *ab("officers"), w.officers_shared, None, max_block)
    return f


def evidence_json(evidence: dict[str, Any]) -> str:
    """Evidence written by hand (an analyst's judgement) as the JSON text stored on ``SAME_AS``."""
    return json.dumps(evidence, ensure_ascii=False, sort_keys=False)

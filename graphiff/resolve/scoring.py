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
from typing import Any

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
    name_typo: float = 7.0
    name_subset: float = 2.5
    name_similar: float = 0.0
    name_different: float = -6.0
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
    if len(wa) == len(wb):
        sa, sb = sorted(wa), sorted(wb)
        sims = [Indel.normalized_similarity(x, y) for x, y in zip(sa, sb)]
        if all(s >= 0.8 for s in sims) and sum(s < 1.0 for s in sims) <= 1:
            return "typo", ratio
        left = [x for x in wa if x not in wb]
        right = [y for y in wb if y not in wa]
        if len(left) == 1 and len(right) == 1 and Indel.normalized_similarity(left[0], right[0]) >= 0.8:
            return "typo", ratio
    short, long_ = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    if len(short) >= 2 and set(short) <= set(long_):
        return "subset", ratio
    if ratio >= 85 and len(wa) != len(wb):
        return "similar", ratio
    return "different", ratio


def _val(s: pd.Series, idx: np.ndarray) -> np.ndarray:
    return s.to_numpy(dtype=object)[idx]


def _present(v: Any) -> bool:
    return v is not None and v is not pd.NA and not (isinstance(v, float) and v != v) and str(v) != ""


def score_pairs(recs: pd.DataFrame, pairs: pd.DataFrame, label: str, *, weights: Weights | None = None,
                max_block: int = 20) -> pd.DataFrame:
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

    Returns
    -------
    DataFrame
        ``a``, ``b`` (record keys, ``a < b``), ``score`` (match probability), ``total``
        (log-odds), ``evidence`` (a JSON object: field -> ``{"a", "b", "match", "weight"}``,
        plus ``blocked_on``, ``prior`` and ``total``). Cost: O(pairs) with a few µs of
        Python per pair for names and evidence.
    """
    w = weights or Weights()
    if not len(pairs):
        return pd.DataFrame({"a": [], "b": [], "score": [], "total": [], "evidence": []})
    i, j = pairs["i"].to_numpy(), pairs["j"].to_numpy()
    fields: list[tuple[str, np.ndarray, np.ndarray, list[str], np.ndarray]] = []

    def add(field: str, a: np.ndarray, b: np.ndarray, match: list[str], weight: np.ndarray) -> None:
        fields.append((field, a, b, match, weight))

    def categorical(field: str, eq: float, diff: float, recs_field: str | None = None,
                    common: dict[str, int] | None = None) -> None:
        col = recs_field or field
        if col not in recs.columns:
            return
        a, b = _val(recs[col], i), _val(recs[col], j)
        match, weight = [], np.zeros(len(i))
        for k, (x, y) in enumerate(zip(a, b)):
            if not (_present(x) and _present(y)):
                match.append("missing")
            elif common and (str(x) in common or str(y) in common):
                n = max(common.get(str(x), 0), common.get(str(y), 0))
                match.append(f"a placeholder shared by {n} records: ignored")
            elif str(x) == str(y):
                match.append("equal")
                weight[k] = eq
            else:
                match.append("different")
                weight[k] = diff
        add(field, a, b, match, weight)

    if label == "BankAccount":
        categorical("number", w.number_equal, 0.0)
        categorical("bank_country", w.bank_country_equal, w.bank_country_different)
        categorical("bic", w.bic_equal, 0.0)
        categorical("holder", w.holder_equal, w.holder_different)
    else:
        a, b = _val(recs["name"], i), _val(recs["name"], j)
        ca, cb = _val(recs["core"], i), _val(recs["core"], j)
        levels = [name_level(str(x or ""), str(y or "")) for x, y in zip(ca, cb)]
        nw = {"equal": w.name_equal, "typo": w.name_typo, "subset": w.name_subset, "similar": w.name_similar,
              "different": w.name_different, "missing": 0.0}
        add("name", a, b, [lv if lv in ("equal", "missing") else f"{lv} ({r:.0f})" for lv, r in levels],
            np.array([nw[lv] for lv, _ in levels]))
        if label == "Person":
            categorical("passport", w.passport_equal, w.passport_different, "tin")
            categorical("nationality", w.country_equal, w.nationality_different, "country")
            categorical("birth_date", w.birth_equal, w.birth_different)
        else:
            common = {v: n for v, n in value_counts(recs, "tin").items() if n > max_block}
            categorical("tin", w.tin_equal, w.tin_different, common=common)
            categorical("country", w.country_equal, w.country_different)
        categorical("city", w.city_equal, w.city_different)
        eqw = {"address": w.address_equal, "phone": w.phone_equal, "email": w.email_equal,
               "accounts": w.accounts_equal, "tin": w.tin_equal}
        for field in ID_FIELDS:
            if field == "tin" or field not in recs.columns:
                continue
            counts = value_counts(recs, field)
            a, b = _val(recs[field], i), _val(recs[field], j)
            match, weight = [], np.zeros(len(i))
            for k, (x, y) in enumerate(zip(a, b)):
                if not (_present(x) and _present(y)):
                    match.append("missing")
                    continue
                shared = set(str(x).split(";")) & set(str(y).split(";"))
                if not shared:
                    match.append("different")
                    continue
                n = max(counts.get(v, 0) for v in shared)
                if n > max_block:
                    match.append(f"shared by {n} records: ignored")
                else:
                    match.append("equal")
                    weight[k] = eqw[field]
            add(field, a, b, match, weight)
        if "officers" in recs.columns:
            a, b = _val(recs["officers"], i), _val(recs["officers"], j)
            match, weight = [], np.zeros(len(i))
            for k, (x, y) in enumerate(zip(a, b)):
                shared = (set(str(x).split(";")) & set(str(y).split(";"))) if _present(x) and _present(y) else set()
                match.append("shared" if shared else "missing")
                weight[k] = w.officers_shared if shared else 0.0
            add("officers", a, b, match, weight)
    total = w.prior + np.sum([f[4] for f in fields], axis=0)
    score = 1.0 / (1.0 + np.power(2.0, -total))
    keys = recs["key"].to_numpy(dtype=object)
    ka, kb = keys[i], keys[j]
    blocks = pairs["blocks"].to_numpy(dtype=object)
    evidence = []
    for k in range(len(i)):
        ev: dict[str, Any] = {"blocked_on": blocks[k]}
        for f, a, b, match, weight in fields:
            if match[k] == "missing" and f not in ("name",):
                continue
            ev[f] = {"a": _plain(a[k]), "b": _plain(b[k]), "match": match[k], "weight": round(float(weight[k]), 2)}
        ev["prior"] = w.prior
        ev["total"] = round(float(total[k]), 2)
        evidence.append(ev)
    swap = ka.astype(str) > kb.astype(str)
    out = pd.DataFrame({"a": np.where(swap, kb, ka), "b": np.where(swap, ka, kb), "score": np.round(score, 4),
                        "total": np.round(total, 2), "evidence": evidence})
    out.attrs["weights"] = asdict(w)
    return out


def _plain(v: Any) -> Any:
    return str(v) if _present(v) else None


def evidence_json(evidence: dict[str, Any]) -> str:
    """The evidence of a pair as the JSON text stored on ``SAME_AS``."""
    return json.dumps(evidence, ensure_ascii=False, sort_keys=False)

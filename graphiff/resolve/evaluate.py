"""How good a resolution is, against the true clusters of an alias world (``truth.json``
written by ``graphiff samples --aliases``: ``resolution.clusters``).

Two measures, per label and overall:

- **pairwise** precision, recall and F1: over the pairs of records put in one cluster
  (predicted) and the pairs truly one entity (true);
- **B-cubed** precision, recall and F1: per record, the share of its predicted cluster that
  is truly its entity (precision) and the share of its true entity that its predicted
  cluster holds (recall), averaged over records (a measure of clusters that weighs every
  record equally, so one giant wrong cluster cannot hide behind many right pairs).

Records in no cluster count as clusters of one. Only records named in either the prediction
or the truth take part (others are singletons on both sides and add nothing).
"""
from __future__ import annotations

from itertools import combinations
from typing import Any, Iterable, Sequence

from graphiff.errors import InvalidInput


def _f1(p: float | None, r: float | None) -> float | None:
    if p is None or r is None:
        return None
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def _membership(clusters: Iterable[Sequence[str]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for n, c in enumerate(clusters):
        for k in c:
            out[str(k)] = n
    return out


def _pairs(clusters: Iterable[Sequence[str]]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for c in clusters:
        for a, b in combinations(sorted({str(k) for k in c}), 2):
            out.add((a, b))
    return out


def compare_clusters(predicted: Iterable[Sequence[str]], true: Iterable[Sequence[str]]) -> dict[str, Any]:
    """Pairwise and B-cubed precision/recall/F1 of ``predicted`` clusters against ``true``.

    >>> m = compare_clusters([["a", "b"], ["c", "d"]], [["a", "b", "c"]])
    >>> m["pairwise"]["precision"], m["pairwise"]["recall"], round(m["bcubed"]["precision"], 3)
    (0.5, 0.333, 0.75)
    """
    predicted, true = [list(c) for c in predicted], [list(c) for c in true]
    pp, tp = _pairs(predicted), _pairs(true)
    hit = len(pp & tp)
    p = hit / len(pp) if pp else None
    r = hit / len(tp) if tp else None
    pm, tm = _membership(predicted), _membership(true)
    pc: dict[int, set[str]] = {}
    tc: dict[int, set[str]] = {}
    for k, n in pm.items():
        pc.setdefault(n, set()).add(k)
    for k, n in tm.items():
        tc.setdefault(n, set()).add(k)
    items = sorted(set(pm) | set(tm))
    bp = br = 0.0
    for k in items:
        mine = pc[pm[k]] if k in pm else {k}
        truly = tc[tm[k]] if k in tm else {k}
        both = len(mine & truly)
        bp += both / len(mine)
        br += both / len(truly)
    n = len(items)
    bcp, bcr = (bp / n, br / n) if n else (None, None)

    def rnd(v: float | None) -> float | None:
        return None if v is None else round(v, 3)

    return {"pairwise": {"precision": rnd(p), "recall": rnd(r), "f1": rnd(_f1(p, r)),
                         "predicted_pairs": len(pp), "true_pairs": len(tp), "correct_pairs": hit},
            "bcubed": {"precision": rnd(bcp), "recall": rnd(bcr), "f1": rnd(_f1(bcp, bcr)), "records": n}}


def true_clusters(truth: dict[str, Any]) -> dict[str, list[list[str]]]:
    """``{label: clusters}`` of a truth file; :class:`InvalidInput` when it has none (a world
    made without ``--aliases``)."""
    res = truth.get("resolution") if isinstance(truth, dict) else None
    clusters = res.get("clusters") if isinstance(res, dict) else None
    if not isinstance(clusters, dict):
        raise InvalidInput("the truth file has no resolution clusters (make the world with `graphiff samples "
                           "--aliases`)")
    return {str(k): [[str(x) for x in c] for c in v] for k, v in clusters.items()}


def evaluate_resolution(predicted: dict[str, list[list[str]]], truth: dict[str, Any]) -> dict[str, Any]:
    """Per label and overall (all labels' records together) measures of ``predicted``
    (``{label: clusters}``, e.g. from :meth:`graphiff.graph.resolution.Resolution.clusters`)
    against a truth file's clusters, plus the truth's resolution decoys that were joined."""
    true = true_clusters(truth)
    labels = sorted(set(true) | set(predicted))
    out: dict[str, Any] = {"labels": {}}
    for label in labels:
        out["labels"][label] = compare_clusters(predicted.get(label, []), true.get(label, []))
    out["overall"] = compare_clusters([[f"{lab}:{k}" for k in c] for lab in labels for c in predicted.get(lab, [])],
                                      [[f"{lab}:{k}" for k in c] for lab in labels for c in true.get(lab, [])])
    joined = []
    member = {lab: _membership(predicted.get(lab, [])) for lab in labels}
    for d in (truth.get("resolution") or {}).get("decoys", []) or []:
        ids = [str(x) for x in d.get("ids", [])]
        m = member.get(str(d.get("label")), {})
        if len(ids) >= 2 and all(x in m for x in ids) and len({m[x] for x in ids}) == 1:
            joined.append(d)
    out["decoys"] = {"total": len((truth.get("resolution") or {}).get("decoys", []) or []), "joined": len(joined),
                     "joined_decoys": joined}
    return out

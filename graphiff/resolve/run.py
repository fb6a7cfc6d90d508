"""``graphiff resolve``: find the records that are one entity and write ``SAME_AS`` back.

One run, per label (traders, persons, carriers, bank accounts): the records as loaded
(:func:`graphiff.resolve.records.records`), candidate pairs
(:func:`graphiff.resolve.blocking.candidate_pairs`), their scores and evidence
(:func:`graphiff.resolve.scoring.score_pairs`), then the thresholds: a pair scoring at or above
``upper`` is ``linked``, one between ``lower`` and ``upper`` waits for ``review``, one below
``lower`` is dropped. Bank accounts come last: their holders compare as the traders and
persons the run joined. Pairs an analyst judged (:func:`judge`: ``confirmed``, ``rejected``,
``unsure``) keep their judgement whatever the new score; the run's other earlier pairs are
replaced. The resolved view (:mod:`graphiff.graph.resolution`) reads the result.
"""
from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Literal

import numpy as np
import pandas as pd

from graphiff.errors import GraphiffError, NotFound
from graphiff.graph.resolution import (
    DECIDED,
    PARTNER_SOURCE,
    RESOLVABLE,
    Resolution,
    resolution_from_tables,
    spanning_links,
)
from graphiff.graph.tables import Tables
from graphiff.model.identity import PROVENANCE, rel_ids
from graphiff.resolve.blocking import candidate_pairs
from graphiff.resolve.records import records
from graphiff.resolve.scoring import Weights, evidence_json, score_pairs
from graphiff.stores.base import Store

#: the method and version written on every SAME_AS a run makes
METHOD = "graphiff-resolve"
VERSION = "1"
#: the ``_source`` of SAME_AS relationships written by a run or by a judgement
RESOLVE_SOURCE = "graphiff resolve"
#: verdict -> SAME_AS status
VERDICTS = {"confirm": "confirmed", "reject": "rejected", "unsure": "unsure"}
Progress = Callable[[str, str], None]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def score_label(raw: Tables, label: str, *, weights: Weights | None = None, max_block: int = 20,
                evidence_from: float = 0.0, holders: Resolution | None = None,
                evidence_for: Callable[[pd.DataFrame], np.ndarray] | None = None,
                ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Every scored candidate pair of one label, and counts (records, candidates, values
    skipped as too common). See :func:`graphiff.resolve.scoring.score_pairs` for the
    columns. ``holders``: for bank accounts, the clusters of traders and persons to compare
    holders by (a holder reads as its resolved id: one company under two administrations'
    ids holds one account). Cost: dominated by the pairs scored (a few µs each)."""
    recs = records(raw, label)
    if holders and label == "BankAccount" and len(recs):
        reps = {**holders.rep.get("Person", {}), **holders.rep.get("Trader", {})}
        recs["holder"] = [reps.get(h, h) if isinstance(h, str) else h for h in recs["holder"]]
    pairs, skipped = candidate_pairs(recs, label, max_block=max_block)
    scored = score_pairs(recs, pairs, label, weights=weights, max_block=max_block, evidence_from=evidence_from,
                         evidence_for=evidence_for)
    return scored, {"records": int(len(recs)), "candidates": int(len(pairs)), "too_common": skipped}


def resolve(store: Store, *, labels: Iterable[str] | None = None, upper: float = 0.9, lower: float = 0.5,
            weights: Weights | None = None, max_block: int = 20,
            progress: Progress | None = None) -> dict[str, Any]:
    """Resolve the store's traders, persons, carriers and bank accounts; write ``SAME_AS``.

    Parameters
    ----------
    store : Store
        Embedded or Neo4j; read as loaded, written back (SAME_AS relationships only).
    labels : iterable of str, optional
        Which of ``Trader``, ``Person``, ``Carrier``, ``BankAccount`` (default all).
    upper, lower : float, default 0.9 and 0.5
        Match probability at or above ``upper``: linked; from ``lower`` to ``upper``:
        queued for review; below ``lower``: dropped.
    weights : Weights, optional
        Comparison weights (:class:`graphiff.resolve.scoring.Weights`).
    max_block : int, default 20
        An identifier or name value shared by more records than this makes no pair and
        gives no evidence.
    progress : callable, optional
        ``progress(label, step)``.

    Returns
    -------
    dict
        ``{"labels": {label: {"records", "candidates", "linked", "review", "dropped",
        "judged", "clusters", "largest_cluster", "too_common", "seconds"}}, "run_id",
        "upper", "lower"}``.

    Cost: per label, linear in the records plus the candidate pairs; one delete and one
    upsert of SAME_AS.
    """
    if not 0.0 < lower <= upper <= 1.0:
        raise GraphiffError(f"thresholds must satisfy 0 < lower <= upper <= 1 (got lower={lower}, upper={upper})")
    by_lower = {x.lower(): x for x in RESOLVABLE}
    asked = [by_lower.get(str(x).lower(), str(x)) for x in labels] if labels else list(RESOLVABLE)
    for label in asked:
        if label not in RESOLVABLE:
            raise GraphiffError(f"cannot resolve {label!r}: choose from {', '.join(RESOLVABLE)}")
    # accounts after traders and persons: holders compare as the entities this run makes them
    chosen = [label for label in RESOLVABLE if label in asked]
    say = progress or (lambda _label, _step: None)
    raw = Tables(store, resolved=False)
    old = raw.rels("SAME_AS")
    run_id = f"resolve-{uuid.uuid4().hex[:12]}"
    at = _now()
    summary: dict[str, Any] = {"labels": {}, "run_id": run_id, "upper": upper, "lower": lower}
    new_frames: list[pd.DataFrame] = []
    stale: list[str] = []
    for label in chosen:
        t0 = time.perf_counter()
        say(label, "scoring")
        holders = None
        if label == "BankAccount":  # this run's clusters of the labels done, the store's of the others
            earlier = old
            if len(old) and "status" in old.columns:
                done = old["src_label"].astype(str).isin(chosen[:chosen.index(label)])
                earlier = old[~done | old["status"].isin(DECIDED)]
            holders = resolution_from_tables(pd.concat([earlier, *new_frames], ignore_index=True))
        mine = old[(old["src_label"].astype(str) == label)] if len(old) else old
        # a partner's SAME_AS (imported with its package) is the partner's judgement: kept as it
        # came, like an analyst's, never rescored, rewritten or deleted by a local run
        partner = np.zeros(len(mine), dtype=bool)
        if len(mine) and "source" in mine.columns:
            partner = mine["source"].astype("string").str.startswith(PARTNER_SOURCE).fillna(False).to_numpy(dtype=bool)
        decided: dict[tuple[str, str], dict[str, Any]] = {}
        if len(mine) and "status" in mine.columns:
            for r in mine[mine["status"].isin(DECIDED).to_numpy(dtype=bool) | partner].to_dict("records"):
                decided[(str(r["src"]), str(r["dst"]))] = r
        theirs = set(zip(mine["src"].astype(str)[partner], mine["dst"].astype(str)[partner])) if partner.any() \
            else set()
        chosen_rows: dict[str, np.ndarray] = {}

        def written(scored: pd.DataFrame, decided: dict = decided, label: str = label,
                    chosen_rows: dict = chosen_rows) -> np.ndarray:
            """Which scored pairs a run writes: every pair waiting for review, every pair an
            analyst judged, and of the linked pairs those that make the clusters (a spanning
            forest: the other linked pairs of a cluster are implied by it)."""
            status = np.where(scored["score"] >= upper, "linked",
                              np.where(scored["score"] >= lower, "review", "")).astype(object)
            judged = np.zeros(len(scored), dtype=bool)
            if decided:
                for n, p in enumerate(zip(scored["a"], scored["b"])):
                    d = decided.get(p)
                    if d is not None:
                        status[n] = d["status"]
                        judged[n] = True
            extra = []
            if decided:
                found = set(zip(scored["a"], scored["b"]))
                extra = [(label, a, b, str(d["status"]), float(d.get("score") or 0.0))
                         for (a, b), d in decided.items() if (a, b) not in found]
            # only joining and rejected pairs shape the clusters
            shaping = np.flatnonzero(np.isin(status, ("linked", "confirmed", "rejected")))
            links = list(zip([label] * len(shaping), scored["a"].to_numpy()[shaping], scored["b"].to_numpy()[shaping],
                             status[shaping], scored["score"].to_numpy()[shaping])) + extra
            span = np.zeros(len(scored), dtype=bool)
            used = spanning_links(links)
            span[[shaping[n] for n in used if n < len(shaping)]] = True
            # review pairs inside one entity are implied by its links: nothing to decide
            res = Resolution.from_links([links[n] for n in used])
            of = res.rep.get(label, {})
            a_arr, b_arr = scored["a"].to_numpy(), scored["b"].to_numpy()
            review = np.flatnonzero((status == "review") & ~judged)
            inside = np.array([of.get(a_arr[n], a_arr[n]) == of.get(b_arr[n], b_arr[n]) for n in review], dtype=bool)
            status[review[inside]] = ""
            # person names are common: two people share one, so no record joins by name support
            promoted = np.empty(0, dtype=np.int64) if label == "Person" else _supported(
                review[~inside], a_arr, b_arr, scored["score"].to_numpy(), of, res.members.get(label, {}))
            status[promoted] = "linked"
            span[promoted] = True
            if len(promoted):   # a stray that joined an entity: its other pairs into it are implied too
                joined = dict(of)
                for n in promoted.tolist():
                    x, y = a_arr[n], b_arr[n]
                    if x in of or x in res.members.get(label, {}):
                        x, y = y, x
                    joined[x] = of.get(y, y)
                rest = np.flatnonzero(status == "review")
                rest = rest[~judged[rest]]
                implied = [n for n in rest if joined.get(a_arr[n], a_arr[n]) == joined.get(b_arr[n], b_arr[n])]
                status[implied] = ""
            keep = judged | (status == "review") | ((status == "linked") & span)
            chosen_rows["status"] = status
            chosen_rows["keep"] = keep
            chosen_rows["promoted"] = promoted
            return keep

        scored, info = score_label(raw, label, weights=weights, max_block=max_block, holders=holders,
                                   evidence_for=written)
        status = chosen_rows.get("status", np.empty(0, dtype=object))
        above = int((status == "linked").sum())
        keep = scored[chosen_rows["keep"]].assign(status=status[chosen_rows["keep"]]) if len(scored) else \
            scored.assign(status=[])
        promoted = set(zip(scored["a"].to_numpy()[chosen_rows.get("promoted", [])],
                           scored["b"].to_numpy()[chosen_rows.get("promoted", [])]))
        if promoted:
            keep = keep.assign(evidence=[_with_support(e) if p in promoted else e
                                         for e, p in zip(keep["evidence"], zip(keep["a"], keep["b"]))])
        rows = pd.DataFrame({
            "src_label": label, "src": keep["a"].astype(str).to_numpy(), "dst_label": label,
            "dst": keep["b"].astype(str).to_numpy(), "score": keep["score"].astype(float).to_numpy(),
            "status": keep["status"].to_numpy(), "evidence": keep["evidence"].to_numpy(),
            "method": METHOD, "version": VERSION, "decided_by": RESOLVE_SOURCE, "decided_at": at})
        if decided and len(rows):
            for n, p in enumerate(zip(rows["src"], rows["dst"])):
                d = decided.get(p)
                if d is not None:
                    rows.loc[n, ["status", "decided_by", "decided_at"]] = [d["status"], d.get("decided_by"),
                                                                           d.get("decided_at")]
        if theirs and len(rows):
            rows = rows[[p not in theirs for p in zip(rows["src"], rows["dst"])]].reset_index(drop=True)
        if len(mine):
            undecided = mine[~mine["status"].isin(DECIDED).to_numpy(dtype=bool) & ~partner] \
                if "status" in mine.columns else mine[~partner]
            now = set(zip(rows["src"], rows["dst"]))
            ends = zip(undecided["src"].astype(str), undecided["dst"].astype(str))
            gone = undecided[[p not in now for p in ends]]
            if len(gone):
                stale.extend(rel_ids("SAME_AS", gone).tolist())
        new_frames.append(rows)
        summary["labels"][label] = {
            **{k: v for k, v in info.items() if k != "too_common"},
            "linked": above, "review": int((rows["status"] == "review").sum()) if len(rows) else 0,
            "dropped": int((status == "").sum()), "judged": len(decided), "written": int(len(rows)),
            "too_common": info["too_common"], "seconds": 0.0}
        summary["labels"][label]["seconds"] = round(time.perf_counter() - t0, 2)
    say("SAME_AS", "writing")
    if stale:
        store.delete_rels("SAME_AS", stale)
    frame = pd.concat(new_frames, ignore_index=True) if new_frames else pd.DataFrame()
    if len(frame):
        frame = frame.assign(**dict(zip(PROVENANCE, (RESOLVE_SOURCE, None, run_id, at))))
        store.upsert_rels("SAME_AS", frame)
    res = current_resolution(store)
    for label in chosen:
        sizes = [len(c) for c in res.clusters(label)]
        summary["labels"][label].update(clusters=len(sizes), largest_cluster=max(sizes, default=0),
                                        records_in_clusters=int(sum(sizes)))
    return summary


def _supported(review: np.ndarray, a: np.ndarray, b: np.ndarray, score: np.ndarray, of: dict[str, str],
               members: dict[str, list[str]]) -> np.ndarray:
    """Review pairs an entity's other records back up: a record in no entity whose review
    pairs lead into exactly one entity (of two or more records), through at least two of its
    records, joins it by its best pair (pairs with other stray records do not count against
    it). A look-alike met once ("Blue Ocean Shipping" / "Blue Ocean Shopping") stays in review;
    an administration's misspelling of a company that other administrations name alike does
    not. Returns the positions of the pairs promoted to linked."""
    into: dict[str, dict[str, list[int]]] = {}
    for n in review:
        for x, y in ((a[n], b[n]), (b[n], a[n])):
            if of.get(x, x) != x or x in members:   # x itself is in an entity: not a stray record
                continue
            into.setdefault(x, {}).setdefault(of.get(y, y), []).append(int(n))
    out = []
    for x, targets in into.items():
        entities = [(e, p) for e, p in targets.items() if e in members]
        if len(entities) == 1 and len(entities[0][1]) >= 2:
            out.append(max(entities[0][1], key=lambda n: score[n]))
    return np.array(sorted(set(out)), dtype=np.int64)


def _with_support(evidence: str | None) -> str | None:
    """The evidence of a promoted pair, saying why it links below the upper threshold."""
    if not evidence:
        return evidence
    ev = json.loads(evidence)
    tail = {k: ev.pop(k) for k in ("prior", "total") if k in ev}
    ev["support"] = {"match": "its other candidate pairs all lead into this entity, through two or more of "
                              "its records", "weight": 0.0}
    return json.dumps({**ev, **tail}, ensure_ascii=False)


def current_resolution(store: Store) -> Resolution:
    """The clusters the store's SAME_AS relationships make now."""
    return Tables(store).resolution


def pairs(store: Store, *, status: Iterable[str] | None = None, label: str | None = None) -> pd.DataFrame:
    """The store's SAME_AS pairs (optionally of some statuses and one label), highest score
    first, with both records' names: what ``graphiff resolve --review`` walks through and
    what the workbench lists."""
    raw = Tables(store, resolved=False)
    s = raw.rels("SAME_AS")
    if not len(s):
        return pd.DataFrame(columns=["label", "a", "b", "score", "status", "evidence", "a_name", "b_name"])
    if status is not None:
        s = s[s["status"].isin(list(status))]
    if label is not None:
        s = s[s["src_label"].astype(str) == label]
    out = pd.DataFrame({"label": s["src_label"].astype(str), "a": s["src"].astype(str), "b": s["dst"].astype(str),
                        "score": pd.to_numeric(s["score"], errors="coerce") if "score" in s.columns else np.nan,
                        "status": s["status"],
                        "evidence": s["evidence"] if "evidence" in s.columns else None})
    for extra in ("decided_by", "decided_at", "note"):
        if extra in s.columns:
            out[extra] = s[extra].to_numpy()
    names: dict[tuple[str, str], Any] = {}
    for lab in out["label"].unique():
        n = raw.nodes(str(lab))
        if len(n) and "name" in n.columns:
            names.update({(str(lab), str(k)): v for k, v in zip(n["key"], n["name"])})
    out["a_name"] = [names.get((lab, k)) for lab, k in zip(out["label"], out["a"])]
    out["b_name"] = [names.get((lab, k)) for lab, k in zip(out["label"], out["b"])]
    return out.sort_values(["score", "label", "a", "b"], ascending=[False, True, True, True]).reset_index(drop=True)


def why(store: Store, a: str, b: str, label: str | None = None) -> dict[str, Any]:
    """Why two records are (or are not) one entity: the SAME_AS links that join them, hop by
    hop with each link's status, score and evidence (a cluster's links form a forest, so two
    of its records may be joined through others), or the SAME_AS between them that does not
    join (review, unsure, rejected), or nothing.

    Returns ``{"label", "a", "b", "same_entity", "resolved_id", "links": [{"a", "b", "status",
    "score", "evidence", "decided_by", "decided_at"}]}``. Cost: one read of SAME_AS and a
    breadth-first search over the joining links of one label.
    """
    label, a, b = pair_label(store, a, b, label)
    raw = Tables(store, resolved=False)
    s = raw.rels("SAME_AS")
    res = current_resolution(store)
    out: dict[str, Any] = {"label": label, "a": a, "b": b, "resolved_id": res.of(label, a),
                           "same_entity": res.of(label, a) == res.of(label, b), "links": []}
    if not len(s):
        return out
    s = s[s["src_label"].astype(str) == label]
    fields = [c for c in ("status", "score", "evidence", "decided_by", "decided_at") if c in s.columns]
    recs = {(str(r["src"]), str(r["dst"])): {f: r.get(f) for f in fields} for r in s.to_dict("records")}

    def link(x: str, y: str) -> dict[str, Any]:
        k = (x, y) if (x, y) in recs else (y, x)
        return {"a": k[0], "b": k[1], **{f: (None if isinstance(v, float) and v != v else v)
                                         for f, v in recs[k].items()}}
    if out["same_entity"]:
        adj: dict[str, list[str]] = {}
        for (x, y), r in recs.items():
            if r.get("status") in ("linked", "confirmed"):
                adj.setdefault(x, []).append(y)
                adj.setdefault(y, []).append(x)
        prev: dict[str, str | None] = {a: None}
        todo = [a]
        while todo and b not in prev:
            nxt = []
            for x in todo:
                for y in adj.get(x, []):
                    if y not in prev:
                        prev[y] = x
                        nxt.append(y)
            todo = nxt
        node = b
        while prev.get(node) is not None:
            out["links"].insert(0, link(prev[node], node))  # type: ignore[arg-type]
            node = prev[node]  # type: ignore[assignment]
    elif (a, b) in recs or (b, a) in recs:
        out["links"].append(link(a, b))
    return out


def pair_label(store: Store, a: str, b: str, label: str | None = None) -> tuple[str, str, str]:
    """``(label, a, b)`` of two records named by key or ``Label:key``: the label given (any
    letter case), else the one their ``Label:`` prefix names, else the one resolvable label
    holding both keys. Raises :class:`NotFound` (naming the keys) or :class:`GraphiffError`
    (the label is ambiguous or not resolvable)."""
    by_lower = {x.lower(): x for x in RESOLVABLE}
    keys, named = [], set()
    for ref in (str(a), str(b)):
        head, sep, rest = ref.partition(":")
        if sep and head.lower() in by_lower:
            named.add(by_lower[head.lower()])
            keys.append(rest)
        else:
            keys.append(ref)
    if label is not None:
        if label.lower() not in by_lower:
            raise GraphiffError(f"cannot judge {label!r} records: choose from {', '.join(RESOLVABLE)}")
        named.add(by_lower[label.lower()])
    if len(named) > 1:
        raise GraphiffError(f"the two records must be of one label, not {' and '.join(sorted(named))}")
    if named:
        return named.pop(), keys[0], keys[1]
    raw = Tables(store, resolved=False)
    holding = [x for x in RESOLVABLE if len(raw.nodes(x)) and set(keys) <= set(raw.nodes(x)["key"].astype(str))]
    if len(holding) == 1:
        return holding[0], keys[0], keys[1]
    if not holding:
        raise NotFound(f"no trader, person, carrier or bank account holds both {keys[0]!r} and {keys[1]!r}")
    raise GraphiffError(f"{keys[0]!r} and {keys[1]!r} are keys of {' and '.join(holding)}: say which with --label")


def judge(store: Store, label: str, a: str, b: str, verdict: Literal["confirm", "reject", "unsure"], *,
          user: str, note: str | None = None) -> dict[str, Any]:
    """Record an analyst's judgement on two records of one label.

    ``confirm`` joins them (whatever later runs score), ``reject`` keeps them apart for good
    (even when other links would chain them), ``unsure`` leaves them apart without asking
    again. Stored on the pair's SAME_AS with ``decided_by = user`` and ``decided_at``; a pair
    no run proposed gets one (score 1 for confirm, else 0). Later runs keep it.

    Raises :class:`NotFound` when a record does not exist, :class:`GraphiffError` for an
    unknown verdict or label, or a record judged against itself.
    """
    if verdict not in VERDICTS:
        raise GraphiffError(f"unknown verdict {verdict!r}: choose confirm, reject or unsure")
    if label not in RESOLVABLE:
        raise GraphiffError(f"cannot judge {label!r} records: choose from {', '.join(RESOLVABLE)}")
    a, b = str(a), str(b)
    if a == b:
        raise GraphiffError("a record is always the same as itself: give two different keys")
    raw = Tables(store, resolved=False)
    nodes = raw.nodes(label)
    known = set(nodes["key"].astype(str)) if len(nodes) else set()
    for k in (a, b):
        if k not in known:
            raise NotFound(f"no {label} with key {k!r} in the store")
    src, dst = (a, b) if a < b else (b, a)
    old = raw.rels("SAME_AS")
    prev = None
    if len(old):
        hit = old[(old["src_label"].astype(str) == label) & (old["src"].astype(str) == src)
                  & (old["dst"].astype(str) == dst)]
        prev = hit.iloc[0].to_dict() if len(hit) else None
    at = _now()
    row = {"src_label": label, "src": src, "dst_label": label, "dst": dst,
           "score": float(prev["score"]) if prev is not None and pd.notna(prev.get("score"))
           else (1.0 if verdict == "confirm" else 0.0),
           "status": VERDICTS[verdict],
           "evidence": prev.get("evidence") if prev is not None and prev.get("evidence") else
           evidence_json({"analyst": {"match": verdict, "note": note}}),
           "method": prev.get("method") if prev is not None and prev.get("method") else "analyst",
           "version": VERSION, "decided_by": user, "decided_at": at, "note": note or "",
           "_source": RESOLVE_SOURCE, "_line": None, "_load_id": f"judge-{uuid.uuid4().hex[:12]}", "_loaded_at": at}
    store.upsert_rels("SAME_AS", pd.DataFrame([row]))
    res = current_resolution(store)
    return {"label": label, "a": src, "b": dst, "status": row["status"], "decided_by": user, "decided_at": at,
            "resolved_id": res.of(label, src), "same_entity": res.of(label, src) == res.of(label, dst)}

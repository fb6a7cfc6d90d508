"""Entity resolution commands: resolve (with --review) and judge."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table

from graphiff.cli.app import app, err_console
from graphiff.cli.common import (
    DatabaseOpt,
    JsonOpt,
    StoreOpt,
    console,
    esc,
    print_json,
    store_from,
    user_name,
)
from graphiff.errors import GraphiffError

LabelOpt = typer.Option([], "--label", "-l", help="Resolve only this label (repeatable): Trader, Person, Carrier, "
                                                  "BankAccount. Default: all four.")
UserOpt = typer.Option(None, "--user", envvar="GRAPHIFF_USER",
                       help="Who judges (stored with the judgement; default $GRAPHIFF_USER, else your user name).")


@app.command("resolve")
def resolve_cmd(
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    label: list[str] = LabelOpt,
    upper: float = typer.Option(0.9, "--upper", min=0.0, max=1.0,
                                help="Match probability at or above which two records are linked as one entity."),
    lower: float = typer.Option(0.5, "--lower", min=0.0, max=1.0,
                                help="Match probability from which a pair is queued for review (below: dropped)."),
    max_block: int = typer.Option(20, "--max-block", min=2,
                                  help="A tax id, phone, address or name shared by more records than this is a "
                                       "placeholder or an agent: it links nothing by itself."),
    review: bool = typer.Option(False, "--review", help="Instead of resolving: walk through the pairs waiting for "
                                                        "review and judge each (yes / no / unsure / skip / quit)."),
    limit: int = typer.Option(50, "--limit", min=1, help="With --review: at most this many pairs."),
    user: Optional[str] = UserOpt,
    truth: Optional[Path] = typer.Option(None, "--truth", help="An alias world's truth.json: also report pairwise "
                                                               "and B-cubed precision/recall/F1 of the result."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Also write the clusters (resolved id, label, "
                                                                 "member keys and names) as JSON to this file."),
    as_json: bool = JsonOpt,
) -> None:
    """Find the traders, persons, carriers and bank accounts recorded more than once (other ids, other spellings,
    other administrations) and link them with SAME_AS: candidate pairs by shared identifiers and names, scored field
    by field with the evidence kept. Pairs above --upper are linked; between --lower and --upper they wait for
    review (--review); analysts' judgements (`graphiff judge`) are kept on every re-run. Detectors, explore, charts
    and packages then see one entity per cluster (--unresolved there shows the records as loaded)."""
    from graphiff.resolve.run import resolve

    if review:
        _review(store, database, label, limit, user or user_name())
        return
    truth_data = None
    if truth is not None:  # read before the run: a wrong truth file costs no run and changes nothing
        from graphiff.detectors.evaluate import read_truth
        from graphiff.resolve.evaluate import true_clusters

        truth_data = read_truth(truth)
        true_clusters(truth_data)
    if out is not None and not out.parent.is_dir():
        raise GraphiffError(f"cannot write the clusters to {out}: no folder {out.parent}")
    with store_from(store, database) as st:
        if as_json:
            summary = resolve(st, labels=label or None, upper=upper, lower=lower, max_block=max_block)
        else:
            with console.status("resolving...") as status:
                summary = resolve(st, labels=label or None, upper=upper, lower=lower, max_block=max_block,
                                  progress=lambda lab, step: status.update(f"{step} {lab}..."))
        clusters = _clusters(st) if (out is not None or truth is not None) else None
    if out is not None and clusters is not None:
        try:
            out.write_text(json.dumps(clusters, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        except OSError as exc:
            raise GraphiffError(f"cannot write the clusters to {out}: {exc.strerror or exc}") from None
    metrics = None
    if truth_data is not None and clusters is not None:
        from graphiff.resolve.evaluate import evaluate_resolution

        metrics = evaluate_resolution({lab: [c["members"] for c in clusters if c["label"] == lab]
                                       for lab in {c["label"] for c in clusters}}, truth_data)
    if as_json:
        print_json({**summary, **({"evaluation": metrics} if metrics else {}), "out": str(out) if out else None})
        return
    t = Table(title=f"entity resolution (linked ≥ {upper}, review ≥ {lower})")
    for c in ("label", "records", "candidates", "linked", "review", "dropped", "judged", "entities joined",
              "largest", "ignored as too common"):
        t.add_column(c, justify="left" if c in ("label", "ignored as too common") else "right")
    for lab, s in summary["labels"].items():
        common = ", ".join(f"{k} {v}" for k, v in sorted(s["too_common"].items())) or "—"
        t.add_row(lab, f"{s['records']:,}", f"{s['candidates']:,}", f"{s['linked']:,}", f"{s['review']:,}",
                  f"{s['dropped']:,}", f"{s['judged']:,}",
                  f"{s['records_in_clusters']:,} → {s['clusters']:,}", str(s["largest_cluster"]), common)
    console.print(t)
    waiting = sum(s["review"] for s in summary["labels"].values())
    if waiting:
        console.print(f"{waiting:,} pair(s) wait for review: graphiff resolve --review", highlight=False)
    if out is not None:
        console.print(f"clusters written to {esc(out)}", highlight=False)
    if metrics:
        print_resolution_metrics(metrics, f"against {esc(truth)}")


def print_resolution_metrics(metrics: dict[str, Any], title: str) -> None:
    """Pairwise and B-cubed precision/recall/F1 per label and overall, and the decoys joined."""
    m = Table(title=title)
    for c in ("label", "pairwise P", "pairwise R", "pairwise F1", "B-cubed P", "B-cubed R", "B-cubed F1"):
        m.add_column(c, justify="left" if c == "label" else "right")
    for lab, v in [*metrics["labels"].items(), ("all", metrics["overall"])]:
        pw, bc = v["pairwise"], v["bcubed"]
        m.add_row(esc(lab), *(("—" if x is None else f"{x:.3f}") for x in (
            pw["precision"], pw["recall"], pw["f1"], bc["precision"], bc["recall"], bc["f1"])))
    console.print(m)
    if metrics["decoys"]["joined"]:
        console.print(f"[red]{metrics['decoys']['joined']} decoy(s) joined[/] of {metrics['decoys']['total']}",
                      highlight=False)


def store_clusters(st: Any) -> dict[str, list[list[str]]]:
    """``{label: clusters}`` of a store's resolution now."""
    from graphiff.graph.tables import Tables

    res = Tables(st).resolution
    return {lab: res.clusters(lab) for lab in res.members}


def _clusters(st: Any) -> list[dict[str, Any]]:
    """Every cluster: resolved id, label, members (resolved id first) and their names."""
    from graphiff.graph.tables import Tables

    raw = Tables(st, resolved=False)
    res = Tables(st).resolution
    out = []
    for lab in sorted(res.members):
        n = raw.nodes(lab)
        names = dict(zip(n["key"].astype(str), n["name"])) if len(n) and "name" in n.columns else {}
        for members in res.clusters(lab):
            out.append({"resolved_id": members[0], "label": lab, "members": members,
                        "names": [None if not isinstance(names.get(k), str) else names[k] for k in members]})
    return out


def _evidence_lines(evidence: Any) -> list[tuple[str, str, str, str, str]]:
    """``(field, a, b, match, weight)`` rows of a pair's evidence; evidence that is not a JSON
    object of fields (a partner's, say) gives no rows rather than an error."""
    try:
        ev = json.loads(evidence) if isinstance(evidence, str) else evidence
    except (ValueError, RecursionError):
        return []
    if not isinstance(ev, dict):
        return []
    rows = []
    for field, v in ev.items():
        if isinstance(v, dict):
            w = v.get("weight")
            weight = f"{w:+.1f}" if isinstance(w, (int, float)) and not isinstance(w, bool) else str(w or "")
            rows.append((str(field), str(v.get("a") if v.get("a") is not None else ""),
                         str(v.get("b") if v.get("b") is not None else ""), str(v.get("match", "")), weight[:40]))
        elif field in ("prior", "total") and isinstance(v, (int, float)):
            rows.append((str(field), "", "", "", f"{v:+.1f}"))
    return rows


def _review(store: Optional[str], database: Optional[str], labels: list[str], limit: int, user: str) -> None:
    from graphiff.resolve.run import judge, pairs

    answers = {"y": "confirm", "yes": "confirm", "n": "reject", "no": "reject", "u": "unsure", "unsure": "unsure"}
    with store_from(store, database) as st:
        queue = pairs(st, status=["review"])
        if labels:
            queue = queue[queue["label"].isin(labels)]
        queue = queue.head(limit)
        if not len(queue):
            console.print("no pair waits for review (run `graphiff resolve` first, or lower --lower)", highlight=False)
            return
        done = {"confirm": 0, "reject": 0, "unsure": 0, "skip": 0}
        for n, p in enumerate(queue.to_dict("records"), 1):
            score = "—" if p["score"] is None or p["score"] != p["score"] else f"{p['score']:.2f}"   # NaN
            t = Table(title=f"{n}/{len(queue)}  {esc(p['label'])}  score {score}", show_lines=False)
            for c in ("field", esc(p["a"]), esc(p["b"]), "match", "weight"):
                t.add_column(c)
            lines = _evidence_lines(p.get("evidence"))
            name = next((r for r in lines if r[0] == "name"), ("name", "", "", "", ""))
            t.add_row("name", esc(p.get("a_name") or ""), esc(p.get("b_name") or ""), esc(name[3]), esc(name[4]))
            for row in lines:
                if row[0] != "name":
                    t.add_row(*(esc(x) for x in row), end_section=row[0] == "prior")
            console.print(t)
            while True:
                try:
                    ans = typer.prompt("same entity? [y]es / [n]o / [u]nsure / [s]kip / [q]uit", default="s",
                                       err=True).strip().lower()
                except typer.Abort:   # the input ended (or Ctrl-C): stop as with q, keeping what was judged
                    ans = "q"
                if ans in answers or ans in ("s", "skip", "q", "quit"):
                    break
                err_console.print("answer y, n, u, s or q", highlight=False)
            if ans in ("q", "quit"):
                break
            if ans in ("s", "skip"):
                done["skip"] += 1
                continue
            judge(st, p["label"], p["a"], p["b"], answers[ans], user=user)  # type: ignore[arg-type]
            done[answers[ans]] += 1
    console.print(f"judged as {esc(user)}: {done['confirm']} confirmed, {done['reject']} rejected, "
                  f"{done['unsure']} unsure, {done['skip']} skipped", highlight=False)


@app.command("judge")
def judge_cmd(
    a: str = typer.Argument(..., metavar="A", help="One record's key."),
    b: str = typer.Argument(..., metavar="B", help="The other record's key."),
    verdict: str = typer.Argument(..., metavar="VERDICT", help="confirm (the same entity), reject (never the same) "
                                                               "or unsure."),
    label: Optional[str] = typer.Option(None, "--label", "-l", help="Their label: Trader, Person, Carrier, "
                                                                    "BankAccount (default: the one holding both "
                                                                    "keys; A and B may also be Label:key)."),
    user: Optional[str] = UserOpt,
    note: Optional[str] = typer.Option(None, "--note", help="Why (kept with the judgement)."),
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Judge whether two records are one entity. The judgement is kept with who and when, takes effect at once,
    and every later `graphiff resolve` respects it: a rejected pair is never linked again, a confirmed one always
    is."""
    from graphiff.resolve.run import judge, pair_label

    if verdict not in ("confirm", "reject", "unsure"):
        raise GraphiffError(f"unknown verdict {verdict!r}: choose confirm, reject or unsure")
    with store_from(store, database) as st:
        lab, key_a, key_b = pair_label(st, a, b, label)
        result = judge(st, lab, key_a, key_b, verdict, user=user or user_name(), note=note)  # type: ignore[arg-type]
    if as_json:
        print_json(result)
        return
    state = "one entity" if result["same_entity"] else "separate entities"
    console.print(f"{esc(result['label'])} {esc(result['a'])} / {esc(result['b'])}: {result['status']} by "
                  f"{esc(result['decided_by'])}; now {state} (resolved id {esc(result['resolved_id'])})",
                  highlight=False)


@app.command("why")
def why_cmd(
    a: str = typer.Argument(..., metavar="A", help="One record's key (or Label:key)."),
    b: str = typer.Argument(..., metavar="B", help="The other record's key (or Label:key)."),
    label: Optional[str] = typer.Option(None, "--label", "-l", help="Their label (default: the one holding both)."),
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Why two records are one entity, or not: the SAME_AS links that join them, hop by hop, each with its status,
    score and the evidence field by field (who decided, when); or the link between them that does not join (review,
    unsure, rejected)."""
    from graphiff.resolve.run import why

    with store_from(store, database) as st:
        result = why(st, a, b, label)
    if as_json:
        print_json(result)
        return
    head = (f"{esc(result['label'])} {esc(result['a'])} and {esc(result['b'])}: "
            + (f"one entity ({esc(result['resolved_id'])})" if result["same_entity"] else "separate entities"))
    console.print(head, highlight=False)
    if not result["links"]:
        console.print("no SAME_AS links them (graphiff resolve finds candidates; graphiff judge A B confirm joins "
                      "them by hand)", highlight=False)
    for lk in result["links"]:
        score = lk.get("score")
        t = Table(title=f"{esc(lk['a'])} — {esc(lk['b'])}: {esc(lk.get('status'))}"
                        + (f", score {score:.2f}" if isinstance(score, (int, float)) else "")
                        + (f", by {esc(lk.get('decided_by'))} {esc(lk.get('decided_at') or '')}"
                           if lk.get("decided_by") else ""))
        for c in ("field", esc(lk["a"]), esc(lk["b"]), "match", "weight"):
            t.add_column(c)
        for row in _evidence_lines(lk.get("evidence")):
            t.add_row(*(esc(x) for x in row), end_section=row[0] == "prior")
        console.print(t)

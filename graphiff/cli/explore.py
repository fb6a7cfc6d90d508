"""Exploring commands: explore (neighbourhood), path, communities, central."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.table import Table

from graphiff.cli.app import app
from graphiff.cli.common import (
    DatabaseOpt,
    JsonOpt,
    StoreOpt,
    UnresolvedOpt,
    console,
    date_bound,
    esc,
    positive,
    print_json,
    store_from,
)
from graphiff.errors import GraphiffError

#: what fits a chart (and a listing): a node with more relationships than this is shown, not walked through
DEFAULT_HUB_LIMIT = 200


def node_labels(values: list[str] | None, option: str = "--types") -> list[str] | None:
    """The node labels of a ``--types`` option (comma-separated, repeatable), checked against the
    model: an unknown one is an error naming it and the labels there are (exit 2, one line).

    >>> node_labels(["Trader,Person", " Carrier "])
    ['Trader', 'Person', 'Carrier']
    >>> node_labels([]) is None
    True
    """
    from graphiff.model import model

    names = [x.strip() for v in values or () for x in str(v).split(",") if x.strip()]
    if not names:
        return None
    known = model().nodes
    by_case = {k.lower(): k for k in known}
    out = []
    for name in names:
        label = name if name in known else by_case.get(name.lower())
        if label is None:
            raise GraphiffError(f"{option}: unknown node label {name!r}; the labels are: {', '.join(known)}")
        if label not in out:
            out.append(label)
    return out



# the filters of the analyst's view, shared by explore and path (and the workbench's expand)
RelOpt = typer.Option([], "--rel", help="Walk only this relationship type (repeatable), e.g. --rel EXPORTED "
                                        "--rel IMPORTED_BY.")
TypesOpt = typer.Option([], "--types", help="Reach only these node labels (comma-separated or repeated), e.g. "
                                            "--types Trader,Person; declarations, payments and cash reports are "
                                            "still passed through.")
FromOpt = typer.Option(None, "--from", callback=date_bound,
                       help="Leave out records dated before this day (YYYY-MM-DD, or YYYY-MM, YYYY).")
ToOpt = typer.Option(None, "--to", callback=date_bound,
                     help="Leave out records dated after this day (YYYY-MM-DD, or YYYY-MM, YYYY).")
HubLimitOpt = typer.Option(DEFAULT_HUB_LIMIT, "--hub-limit", min=0,
                           help="A node with more relationships than this (a shipping line, a vessel) is listed with "
                                "its counts, not walked through; 0: no limit.")


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.2f}" if abs(v) >= 1 or v == 0 else f"{v:.4g}"
    return str(v)


def _e(v: Any) -> str:
    """A data value as table text, with rich markup escaped (names like ``[red]x`` print as-is)."""
    return esc(_fmt(v))


def _records(df) -> list[dict[str, Any]]:
    """A DataFrame as JSON-ready rows (NaN -> None, numpy scalars -> Python)."""
    from graphiff.model.cells import plain_value

    return [{k: plain_value(v) for k, v in row.items()} for row in df.astype(object).to_dict(orient="records")]


#: properties of a resolved entity that explore prints as its "same as" line, not among its values
_RESOLVED_PROPS = ("aliases", "alias_names")


def _also(rec: dict[str, Any]) -> str:
    """One other record of a resolved entity: its key and, when it differs, its caption."""
    return f"{rec['key']} ({rec['caption']})" if rec["caption"] != rec["key"] else str(rec["key"])


def _status(status: str | None) -> str:
    """The status of a SAME_AS link as explore prints it after the link (records as loaded)."""
    return f" [{status}]" if status else ""


def _hub_line(h: dict[str, Any], hub_limit: int) -> str:
    """One hub as explore prints it: what expanding it would add, and how to narrow it."""
    from graphiff.charts.base import hub_counts

    counts = h.get("reach") or h.get("neighbours") or {}
    name = f"{h['key']} {h['caption']}" if h["caption"] != h["key"] else str(h["key"])
    return (f"{name}: hub, {hub_counts(counts)} \u2014 not expanded (more than --hub-limit {hub_limit:,} "
            "relationships); narrow with --from/--to or --rel")


def _chain_node(x: dict[str, Any]) -> str:
    """A node of a path as the path's caption line writes it (with the records it joins)."""
    bits = [str(x["caption"])] if x["caption"] != x["key"] else []
    if x.get("aliases"):
        bits.append("same as " + ", ".join(x["aliases"]))
    return f"{x['label']} {x['key']}" + (f" ({'; '.join(bits)})" if bits else "")


@app.command("explore")
def explore_cmd(
    id: str = typer.Argument(..., metavar="ID", help="A node key (trader_id, person_id, account_id, declaration key "
                                       "DECL/ITEM, alert id...) or Label:key."),
    hops: int = typer.Option(1, "--hops", min=0, help="How far to look. A hop passes through declarations, payments "
                                                      "and cash reports, so 1 hop from a trader reaches its partners."),
    limit: int = typer.Option(100, "--limit", min=1, help="List at most this many neighbours and records."),
    rel: list[str] = RelOpt,
    types: list[str] = TypesOpt,
    date_from: Optional[str] = FromOpt,
    date_to: Optional[str] = ToOpt,
    hub_limit: int = HubLimitOpt,
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    unresolved: bool = UnresolvedOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Who an entity is connected to, how, through which records, and which alerts touch them. Records that entity
    resolution joined (SAME_AS) show as one entity with a "same as" line naming its other records; the key of any
    of them finds it, and --unresolved shows the records as loaded, linked by their SAME_AS relationships.
    --rel, --types and --from/--to narrow the walk; a node above --hub-limit (200 relationships: a shipping line, a
    vessel) is listed as a hub with its counts instead of being walked through (--json: "hubs")."""
    from graphiff.explore import neighbourhood
    from graphiff.graph.tables import Tables

    labels = node_labels(types)
    with store_from(store, database) as st:
        nb = neighbourhood(Tables(st, resolved=not unresolved), id, hops=hops, limit=limit, rel_types=rel or None,
                           types=labels, date_from=date_from, date_to=date_to, hub_limit=hub_limit or None)
    if as_json:
        print_json(nb)
        return
    e = nb["entity"]
    console.print(f"[bold]{_e(e['label'])} {_e(e['key'])}[/bold]  {_e(e['caption'])}", highlight=False)
    if e.get("same_as"):
        console.print("same as: " + ", ".join(_also(r) for r in e["same_as"]), highlight=False, markup=False)
        console.print(f"({len(e['same_as']) + 1} records joined; --unresolved shows them)", style="dim",
                      highlight=False, markup=False)
    shown = {k: v for k, v in e["props"].items() if not k.startswith("_") and k not in _RESOLVED_PROPS}
    if shown:
        console.print(", ".join(f"{k}={_fmt(v)}" for k, v in shown.items()), highlight=False, markup=False)
    prov = e["props"]
    if prov.get("_source"):
        console.print(f"source: {prov.get('_source')} line {prov.get('_line')} (load {prov.get('_load_id')})",
                      style="dim", highlight=False, markup=False)
    hub_ids = {h["id"] for h in nb["hubs"]}
    t = Table(title=f"neighbours within {nb['hops']} hop(s)")
    for c in ("hops", "label", "key", "caption", "how (records on the link)", "alerts"):
        t.add_column(c, justify="right" if c in ("hops", "alerts") else "left", overflow="fold")
    for n in nb["neighbours"]:
        links = n["links"] or [{"how": "", "records": 0}]
        mark = f" (id_check: {_e(n['id_check'])})" if n.get("id_check") else ""  # e.g. iban_invalid
        if n.get("aliases"):                                    # a resolved entity: its other records
            mark += esc(f" (same as {', '.join(n['aliases'])})")
        if n["id"] in hub_ids:
            mark += " (hub: not expanded)"
        t.add_row(str(n["hops"]), _e(n["label"]), _e(n["key"]), _e(n["caption"]) + mark,
                  "\n".join(esc(f"{lk['how']}{_status(lk.get('status'))} ({lk['records']})") for lk in links),
                  str(n["alerts"] or ""))
    console.print(t)
    if nb["records"]:
        r = Table(title="records")
        for c in ("hops", "label", "key", "date", "detail"):
            r.add_column(c, overflow="fold")
        for rec in nb["records"]:
            detail = ", ".join(f"{k}={_fmt(v)}" for k, v in rec.items()
                               if k not in ("id", "label", "key", "caption", "date", "hops"))
            r.add_row(str(rec["hops"]), _e(rec["label"]), _e(rec["key"]), _e(rec.get("date")), esc(detail))
        console.print(r)
    if nb["alerts"]:
        a = Table(title="alerts")
        for c in ("score", "pattern", "id", "flags", "explanation"):
            a.add_column(c)
        for al in nb["alerts"]:
            a.add_row(_fmt(al["score"]), _e(al["pattern"]), _e(al["id"]), esc(", ".join(al["flags"])),
                      _e(al["explanation"]))
        console.print(a)
    for h in nb["hubs"]:
        console.print(_hub_line(h, hub_limit), highlight=False, markup=False)
    counts = nb["counts"]
    more = [k for k, v in nb["truncated"].items() if v]
    console.print(f"{sum(counts['neighbours'].values())} neighbour(s), {sum(counts['records'].values())} record(s), "
                  f"{counts['alerts']} alert(s)" + (f"; {' and '.join(more)} cut to --limit {limit}" if more else ""),
                  highlight=False)


@app.command("path")
def path_cmd(
    a: str = typer.Argument(..., metavar="A", help="From: a node key or Label:key."),
    b: str = typer.Argument(..., metavar="B", help="To: a node key or Label:key."),
    max_len: int = typer.Option(6, "--max-len", min=1, help="Longest path in hops."),
    k: int = typer.Option(3, "--k", min=1, help="How many paths (shortest first)."),
    rel: list[str] = RelOpt,
    types: list[str] = TypesOpt,
    date_from: Optional[str] = FromOpt,
    date_to: Optional[str] = ToOpt,
    hub_limit: int = typer.Option(DEFAULT_HUB_LIMIT, "--hub-limit", min=0,
                                  help="Never pass through a node with more relationships than this (a shipping line, "
                                       "a vessel: sharing one is no connection); 0: no limit."),
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    unresolved: bool = UnresolvedOpt,
    as_json: bool = JsonOpt,
) -> None:
    """The shortest ways two entities are connected, with the records on every hop. --rel, --types and --from/--to
    narrow the walk; a path never passes through a node above --hub-limit (200 relationships)."""
    from graphiff.explore import paths
    from graphiff.graph.tables import Tables

    labels = node_labels(types)
    with store_from(store, database) as st:
        found = paths(Tables(st, resolved=not unresolved), a, b, max_len=max_len, k=k, rel_types=rel or None,
                      types=labels, date_from=date_from, date_to=date_to, hub_limit=hub_limit or None)
    if as_json:
        print_json(found)
        return
    if not found:
        hint = (f" (not passing through hubs, nodes with more than --hub-limit {hub_limit:,} relationships; "
                "--hub-limit 0 allows them)" if hub_limit else "")
        console.print(f"no path of at most {max_len} hop(s) between {esc(a)} and {esc(b)}{hint}", highlight=False)
        return
    for n, p in enumerate(found, 1):
        chain = " — ".join(_chain_node(x) for x in p["nodes"])
        t = Table(title=f"path {n}: {p['length']} hop(s)", caption=esc(chain))
        for c in ("from", "to", "how", "records"):
            t.add_column(c, overflow="fold")
        for h in p["hops"]:
            recs = ", ".join(r["key"] + (f" {r['date']}" if r.get("date") else "") for r in h["records"])
            if h["records_total"] > len(h["records"]):
                recs += f" … ({h['records_total']} in all)"
            t.add_row(_e(h["from"]), _e(h["to"]), esc("\n".join(h["how"]) + _status(h.get("same_as"))), esc(recs))
        console.print(t)


@app.command("communities")
def communities_cmd(
    projection: str = typer.Option("trade", "--projection", "-p",
                                   help="trade (traders), money (accounts), carrier (traders and carriers), "
                                        "ownership (officers and shared identifiers) or all."),
    method: str = typer.Option("leiden", "--method", "-m", help="leiden or louvain."),
    top: int = typer.Option(10, "--top", min=1, help="Show the largest N communities."),
    resolution: float = typer.Option(1.0, "--resolution", callback=positive,
                                     help="Above 1: more, smaller communities."),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same communities)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Also write every entity's community as CSV."),
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    unresolved: bool = UnresolvedOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Groups that trade, pay or are tied mostly among themselves (modularity communities)."""
    from graphiff.explore import communities, community_summary
    from graphiff.graph.tables import Tables

    with store_from(store, database) as st:
        # the library checks the names the user typed
        df = communities(Tables(st, resolved=not unresolved), projection, method, resolution=resolution, seed=seed)  # type: ignore[arg-type]
    if out is not None:
        from graphiff.model.cells import safe_cell

        df.map(safe_cell).to_csv(out, index=False)
    summary = community_summary(df, top=top)
    total = int(df["community"].nunique()) if len(df) else 0
    if as_json:
        print_json({"projection": projection, "method": method, "entities": int(len(df)),
                    "communities": total, "top": summary, "out": str(out) if out else None})
        return
    t = Table(title=f"{projection} communities ({method}): {total} communities, {len(df):,} entities")
    for col in ("#", "size", "labels", "best connected members"):
        t.add_column(col, justify="right" if col in ("#", "size") else "left")
    for c in summary:
        t.add_row(str(c["community"]), f"{c['size']:,}",
                  esc(", ".join(f"{k} {v}" for k, v in c["labels"].items())),
                  esc(", ".join(f"{m['caption']} ({m['id']})" if m["caption"] not in m["id"] else m["id"]
                                   for m in c["members"])))
    console.print(t)
    if out is not None:
        console.print(f"every entity's community written to {esc(out)}", highlight=False)


@app.command("central")
def central_cmd(
    projection: str = typer.Option("trade", "--projection", "-p",
                                   help="trade, money, carrier, ownership or all (see `communities`)."),
    measure: str = typer.Option("betweenness", "--measure", "-m",
                                help="betweenness (brokers; slow on big graphs, see --cutoff), degree "
                                     "(counterparties) or pagerank (where flows end up)."),
    top: int = typer.Option(20, "--top", min=1, help="Show the N most central."),
    cutoff: Optional[int] = typer.Option(None, "--cutoff", min=1,
                                         help="Betweenness over paths up to this length only (faster)."),
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    unresolved: bool = UnresolvedOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Who sits in the middle of the trade, money or ownership network."""
    from graphiff.explore import centrality
    from graphiff.graph.tables import Tables

    with store_from(store, database) as st:
        # the library checks the names the user typed
        df = centrality(Tables(st, resolved=not unresolved), projection, measure, top=top, cutoff=cutoff)  # type: ignore[arg-type]
    if as_json:
        print_json(_records(df))
        return
    t = Table(title=f"{measure} centrality in the {projection} projection")
    for c in ("rank", "label", "key", "caption", "score", "degree"):
        t.add_column(c, justify="right" if c in ("rank", "score", "degree") else "left")
    for r in df.itertuples(index=False):
        t.add_row(str(r.rank), _e(r.label), _e(r.key), _e(r.caption), f"{r.score:.4g}", str(r.degree))
    console.print(t)

"""Link charts: chart (select a subgraph around seeds, an alert or a pattern -- the analyst's view of
:func:`graphiff.graph.view.view`, aggregated or not -- and write it)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from graphiff.cli.app import app
from graphiff.cli.common import (
    DatabaseOpt,
    JsonOpt,
    StoreOpt,
    UnresolvedOpt,
    console,
    date_bound,
    esc,
    print_json,
    store_from,
)
from graphiff.cli.explore import DEFAULT_HUB_LIMIT, node_labels
from graphiff.errors import GraphiffError


def chart_format(fmt: str | None, out: Path) -> str:
    """The chart format: ``--format``, else the one whose suffix ``out`` has.

    ``--format`` contradicting the suffix of another chart format (``--format html --out z.png``)
    is refused: the file would open in the wrong program.
    """
    from graphiff.charts.base import FORMATS

    suffix = out.suffix.lower()
    if fmt:
        name = fmt.lower().lstrip(".")
        clash = next((other for other, spec in FORMATS.items() if spec.suffix == suffix and other != name), None)
        if clash and name in FORMATS and not out.is_dir():
            raise GraphiffError(f"--format {name} does not fit the name {out.name!r}, which says {clash}: "
                                f"name the file *{FORMATS[name].suffix}, or leave out --format")
        return name
    for name, spec in FORMATS.items():
        if spec.suffix == suffix:
            return name
    raise GraphiffError(f"say which chart format with --format ({', '.join(FORMATS)}); "
                        f"the name {out.name!r} does not tell")


@app.command("chart")
def chart_cmd(
    seed: list[str] = typer.Option([], "--seed", help="Start from this entity (a node key or Label:key); "
                                                      "repeat for several."),
    alert: list[str] = typer.Option([], "--alert", help="Start from the entities this alert flags (the alert is "
                                                        "drawn too); repeat for several."),
    pattern: Optional[str] = typer.Option(None, "--pattern", help="Start from every alert of this pattern, "
                                                                  "e.g. circular_trade."),
    hops: int = typer.Option(1, "--hops", min=0, help="How far from the seeds. A hop passes through declarations, "
                                               "payments and cash reports."),
    rel: list[str] = typer.Option([], "--rel", help="Follow only this relationship type (repeatable), "
                                                    "e.g. --rel EXPORTED --rel IMPORTED_BY."),
    date_from: Optional[str] = typer.Option(None, "--from", callback=date_bound,
                                            help="Leave out records dated before this day (YYYY-MM-DD, or YYYY-MM, "
                                                 "YYYY)."),
    date_to: Optional[str] = typer.Option(None, "--to", callback=date_bound,
                                          help="Leave out records dated after this day (YYYY-MM-DD, or YYYY-MM, "
                                               "YYYY)."),
    max_nodes: int = typer.Option(500, "--max-nodes", min=1, help="Node cap: keep the most relevant nodes and say "
                                                           "what was left out."),
    aggregate: bool = typer.Option(False, "--aggregate", help="The analyst's view: fold declarations into "
                                   "TRADED_WITH links exporter -> importer and payments into PAID links account -> "
                                   "account, one per pair, with the count, USD value, HS6 codes, first and last "
                                   "date and record ids (a circular trade reads A -> B -> C -> A)."),
    types: list[str] = typer.Option([], "--types", help="Show only these node labels (comma-separated or "
                                    "repeated), e.g. --types Trader,BankAccount; records are still passed "
                                    "through. Alerts and seeds are always shown."),
    hub_limit: int = typer.Option(DEFAULT_HUB_LIMIT, "--hub-limit", min=0,
                                  help="A node with more relationships than this (a shipping line, a vessel) is "
                                       "shown with its neighbours counted, not walked through; 0: no limit."),
    fmt: Optional[str] = typer.Option(None, "--format", "-f", help="html, anx, graphml, gexf, cyjs, png or svg "
                                                                   "(default: from the --out suffix)."),
    out: Path = typer.Option(..., "--out", "-o", help="File to write."),
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    unresolved: bool = UnresolvedOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Write a link chart of the network around seeds, an alert or every alert of a pattern: an offline HTML
    page, i2 Analyst's Notebook (ANX), GraphML, GEXF, Cytoscape JSON or a PNG/SVG picture. Records that entity
    resolution joined are one node with their aliases; --unresolved draws the records and their SAME_AS links.
    --aggregate draws trade and money as dated, valued TRADED_WITH / PAID arrows; --types keeps the node labels
    asked for; nodes above --hub-limit (200) are drawn but not walked through, and the chart notes them."""
    from graphiff.charts.base import write_chart
    from graphiff.graph.tables import Tables
    from graphiff.graph.view import view

    if not seed and not alert and pattern is None:
        raise GraphiffError("say where to start: --seed ID (repeatable), --alert ID or --pattern NAME")
    labels = node_labels(types)
    name = chart_format(fmt, out)
    with store_from(store, database) as st:
        sub = view(Tables(st, resolved=not unresolved), seeds=seed, alert=alert or None, pattern=pattern, hops=hops,
                   rel_types=rel or None, date_from=date_from, date_to=date_to, max_nodes=max_nodes,
                   types=labels, hub_limit=hub_limit or None, aggregated=aggregate)
    written = write_chart(sub, name, out)
    from graphiff.model import model

    aggregated = {t: sum(1 for e in sub.edges if e.type == t) for t in model().aggregates}
    aggregated = {t: c for t, c in aggregated.items() if c}
    left = {k: v for k, v in sub.omitted.items() if v}
    joined = 0 if unresolved else sum(1 for n in sub.nodes if n.props.get("aliases"))
    if as_json:
        print_json({"out": str(written), "format": name, "nodes": len(sub.nodes), "edges": len(sub.edges),
                    "seeds": sub.seeds, "omitted": left, "title": sub.title, "resolved_entities": joined,
                    "aggregated": aggregated, "hubs": sub.hubs})
        return
    console.print(f"wrote {name} chart to {esc(written)}: {len(sub.nodes):,} nodes, "
                  f"{len(sub.edges):,} relationships", highlight=False)
    if joined:
        console.print(f"{joined:,} node(s) stand for several records joined by entity resolution (their aliases "
                      "are among the node's properties; --unresolved draws the records)", highlight=False)
    if left:
        console.print(f"the --max-nodes {max_nodes} cap left out {sum(left.values()):,} node(s): "
                      + ", ".join(f"{k} {v:,}" for k, v in sorted(left.items()))
                      + " (raise --max-nodes, lower --hops, or narrow with --rel/--from/--to)", highlight=False)
    else:
        console.print("nothing was left out by the node cap", highlight=False)
    if aggregated:
        console.print("aggregated links: " + ", ".join(f"{t} {c:,}" for t, c in aggregated.items()), highlight=False)
    if sub.hubs:
        from graphiff.charts.base import hub_counts

        captions = {n.id: n.caption for n in sub.nodes}
        for nid, counts in sub.hubs.items():
            console.print(esc(f"{nid} {captions.get(nid, '')}: hub, {hub_counts(counts)} -- not expanded "
                              f"(--hub-limit {hub_limit}); narrow with --from/--to or --rel"), highlight=False)

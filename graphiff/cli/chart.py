"""Link charts: chart (select a subgraph around seeds, an alert or a pattern, and write it)."""
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
from graphiff.errors import GraphiffError


def _format_for(fmt: str | None, out: Path) -> str:
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
    resolution joined are one node with their aliases; --unresolved draws the records and their SAME_AS links."""
    from graphiff.charts.base import write_chart
    from graphiff.graph.select import select
    from graphiff.graph.tables import Tables

    if not seed and not alert and pattern is None:
        raise GraphiffError("say where to start: --seed ID (repeatable), --alert ID or --pattern NAME")
    name = _format_for(fmt, out)
    with store_from(store, database) as st:
        sub = select(Tables(st, resolved=not unresolved), seeds=seed, alert=alert or None, pattern=pattern, hops=hops,
                     rel_types=rel or None, date_from=date_from, date_to=date_to, max_nodes=max_nodes)
    written = write_chart(sub, name, out)
    left = {k: v for k, v in sub.omitted.items() if v}
    joined = 0 if unresolved else sum(1 for n in sub.nodes if n.props.get("aliases"))
    if as_json:
        print_json({"out": str(written), "format": name, "nodes": len(sub.nodes), "edges": len(sub.edges),
                    "seeds": sub.seeds, "omitted": left, "title": sub.title, "resolved_entities": joined})
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

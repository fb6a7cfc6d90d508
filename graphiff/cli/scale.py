"""Commands for graphs beyond one machine: snapshot (the Parquet input of ``detect --engine spark``)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from graphiff.cli.app import app
from graphiff.cli.common import DatabaseOpt, JsonOpt, StoreOpt, console, esc, print_json, progress_bar, store_from


@app.command("snapshot")
def snapshot_cmd(
    out: Path = typer.Option(..., "--out", "-o", help="The snapshot folder (new or empty; see --overwrite)."),
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing snapshot in --out."),
    as_json: bool = JsonOpt,
) -> None:
    """Write the store's graph as a Parquet snapshot, partitioned by kind and month: every node label under
    OUT/nodes/LABEL/snap_month=YYYY-MM/ and every relationship type under OUT/rels/TYPE/..., with
    OUT/snapshot.json listing them. `graphiff detect --engine spark --snapshot OUT` reads it (on a cluster, put it
    where every executor can read it); any Parquet reader (Spark, DuckDB, pandas) can too."""
    from graphiff.graph.snapshot import write_snapshot

    with store_from(store, database) as st, progress_bar(not as_json) as prog:
        task = prog.add_task("snapshot", total=None)

        def step(kind: str, name: str, rows: int) -> None:
            prog.update(task, advance=rows, description=f"snapshot: {kind} {name}")

        manifest = write_snapshot(st, out, overwrite=overwrite, progress=step)
    summary = {kind: {name: info["rows"] for name, info in manifest[kind].items()} for kind in ("nodes", "rels")}
    if as_json:
        print_json({"out": str(out), **summary})
        return
    t = Table(title=f"snapshot in {esc(out)}")
    t.add_column("kind")
    t.add_column("name")
    t.add_column("rows", justify="right")
    for kind, names in summary.items():
        for name, rows in names.items():
            t.add_row(kind, esc(name), f"{rows:,}")
    console.print(t)

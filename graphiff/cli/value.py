"""Value and money commands: mirror-report (discrepancy analysis between partner administrations)."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import pandas as pd
import typer
from rich.table import Table

from graphiff.cli.app import app
from graphiff.cli.common import (
    DatabaseOpt,
    JsonOpt,
    StoreOpt,
    UnresolvedOpt,
    console,
    esc,
    positive,
    print_json,
    store_from,
)
from graphiff.errors import GraphiffError


@app.command("mirror-report")
def mirror_report_cmd(
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    unresolved: bool = UnresolvedOpt,
    as_json: bool = JsonOpt,
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Also write the table as CSV to this file."),
    window_days: int = typer.Option(60, min=0, help="An import may be declared up to this many days after the "
                                                    "export."),
    ratio_low: float = typer.Option(0.9, callback=positive,
                                    help="Lower edge of the normal import/export (CIF/FOB) value ratio."),
    ratio_high: float = typer.Option(1.3, callback=positive,
                                     help="Upper edge of the normal import/export (CIF/FOB) value ratio."),
) -> None:
    """Pair export declarations with the import declarations of the same shipment in the partner country and
    summarise per (export country, import country): exports, matched, unmatched rate, median value ratio,
    total value gap, discrepancies."""
    from graphiff.detectors.mirror import mirror_report
    from graphiff.graph.tables import Tables

    if ratio_low >= ratio_high:
        raise GraphiffError(f"--ratio-low {ratio_low} must be below --ratio-high {ratio_high}")
    with store_from(store, database) as st:
        tables = Tables(st, resolved=not unresolved)
        report = mirror_report(tables, window_days=window_days, ratio_low=ratio_low, ratio_high=ratio_high)
    if out is not None:
        report.to_csv(out, index=False)
    if as_json:
        records = [
            {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            for row in report.astype(object).to_dict(orient="records")
        ]
        print_json(records)
        return
    table = Table(title="mirror report (exports vs partner imports)")
    headers = [("export_country", "from"), ("import_country", "to"), ("exports", "exports"),
               ("matched", "matched"), ("unmatched_rate", "unmatched"), ("imports", "imports"),
               ("imports_unmatched", "imp. unmatched"), ("median_value_ratio", "median ratio"),
               ("total_value_gap_usd", "gap USD"), ("discrepancies", "discrep.")]
    for _, title in headers:
        table.add_column(title, justify="left" if title in ("from", "to") else "right")
    for row in report.itertuples(index=False):
        cells = []
        for col, _ in headers:
            v = getattr(row, col)
            if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
                cells.append("")
            elif col == "unmatched_rate":
                cells.append(f"{v:.1%}")
            elif col == "median_value_ratio":
                cells.append(f"{v:.3f}")
            elif col == "total_value_gap_usd":
                cells.append(f"{v:+,.0f}")
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                cells.append(f"{v:,}")
            else:
                cells.append(esc(v))
        table.add_row(*cells)
    console.print(table)
    if out is not None:
        console.print(f"written to {esc(out)}", highlight=False)

"""Data commands: load, status, samples, demo."""
from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from graphiff.cli.app import app
from graphiff.cli.common import (
    DatabaseOpt,
    JsonOpt,
    StoreOpt,
    console,
    esc,
    positive,
    print_json,
    progress_bar,
    rows_per_second,
    store_from,
)
from graphiff.stores import embedded_path

if TYPE_CHECKING:
    from graphiff.ingest.loader import LoadResult


def default_quarantine_dir(store_uri: str | None) -> Path:
    """Quarantine files go beside an embedded store, else into ./quarantine."""
    import os

    uri = store_uri or os.environ.get("GRAPHIFF_STORE") or "graphiff.duckdb"
    if "://" in uri:
        return Path("quarantine")
    return Path(uri[len("duckdb:"):] if uri.startswith("duckdb:") else uri).resolve().parent / "quarantine"


@app.command()
def load(
    paths: Optional[list[Path]] = typer.Argument(None, metavar="PATHS",
                                                 help="Files or folders. Canonical names (declarations.csv, "
                                                      "traders.xlsx, payments.jsonl, ...) or files matched by a "
                                                      "--mapping."),
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    mapping: list[Path] = typer.Option([], "--mapping", "-m", help="Column mapping YAML for files in another layout "
                                                                   "(repeatable). See samples/mappings/."),
    quarantine_dir: Optional[Path] = typer.Option(None, "--quarantine-dir",
                                                  help="Where rejected rows go (default: beside the store)."),
    kind: Optional[str] = typer.Option(None, "--kind", help="Force the file kind of every file given (declarations, "
                                                            "traders, ...), whatever its name; a --mapping of that "
                                                            "kind applies even when its match patterns do not."),
    bulk: bool = typer.Option(False, "--bulk", help="First load into an EMPTY Neo4j database with neo4j-admin "
                                                    "database import full instead of transactions (see below)."),
    bulk_dir: Path = typer.Option(Path("graphiff-bulk"), "--bulk-dir", metavar="DIR",
                                  help="With --bulk: the folder for the import files (absent or empty; about 150 "
                                       "bytes per node or relationship)."),
    import_command: Optional[str] = typer.Option(None, "--import-command", metavar="CMD",
                                                 help="With --bulk: a command that imports DIR and starts the server "
                                                      "again, run as CMD DIR, e.g. 'scripts/neo4j-local import'. "
                                                      "Without it the files and the steps for the server's operator "
                                                      "are left in DIR."),
    bulk_finish: Optional[Path] = typer.Option(None, "--bulk-finish", metavar="DIR",
                                               help="After the operator imported DIR into the server and started "
                                                    "it: create the constraints and indexes and record the load (no "
                                                    "PATHS)."),
    as_json: bool = JsonOpt,
) -> None:
    """Load input files into the store. Bad rows are quarantined with reasons; rows kept with a mark (an account id
    failing the IBAN check, an amount without a USD rate) are counted as warnings; data files of a folder whose name
    is no file kind are skipped with a warning; loading the same files twice changes nothing.

    --bulk (Neo4j only, an empty database: one without any node): the load runs as always, into a temporary \
embedded store in --bulk-dir, which is then written as neo4j-admin CSV files. With --import-command the import \
runs at once (the server is stopped and started again: `--import-command 'scripts/neo4j-local import'` for the \
local server), then the constraints, indexes and the load record are created and DIR is removed. Without it (a \
remote server) DIR holds the files, import.sh and the steps printed: copy DIR to the server, stop Neo4j, run \
import.sh there, start Neo4j, then `graphiff load --bulk-finish DIR --store URI`. The graph is the one a \
transactional load writes. Loads into a database that holds data keep using transactions (no --bulk)."""
    from graphiff.errors import GraphiffError

    if bulk_finish is not None or bulk:
        if embedded_path(store) is not None:
            raise GraphiffError("--bulk and --bulk-finish load a Neo4j store: give --store bolt://HOST:PORT "
                                "(the embedded store loads at full speed without them)")
        if bulk_finish is not None:
            if paths or bulk:
                raise GraphiffError("--bulk-finish takes no PATHS and no --bulk: it finishes an import already run")
            _bulk_finish(str(store), database, bulk_finish, as_json)
            return
    if not paths:
        raise typer.BadParameter("give the files or folders to load", param_hint="PATHS")
    qdir = quarantine_dir or default_quarantine_dir(store)
    if bulk:
        _bulk_load(str(store), database, paths, mapping, qdir, kind, bulk_dir, import_command, as_json)
        return
    from graphiff.ingest import load_paths

    with store_from(store, database, create=True) as st, progress_bar(not as_json, rates=True) as prog:
        tasks: dict[str, TaskID] = {}
        seconds: dict[str, float] = {}
        last = time.perf_counter()

        def on_progress(kind: str, n: int) -> None:
            # the time since the previous chunk goes to this chunk's kind (for its rows/s); the
            # first kind's also holds the set-up before the first chunk (finding files, header checks, the load id)
            nonlocal last
            now = time.perf_counter()
            seconds[kind] = seconds.get(kind, 0.0) + now - last
            last = now
            if kind not in tasks:
                tasks[kind] = prog.add_task(f"loading {kind}", total=None)
            prog.update(tasks[kind], advance=n, seconds=seconds[kind])

        result = load_paths(st, paths, mappings=mapping, quarantine_dir=qdir, progress=on_progress, kind=kind)
    if as_json:
        out = result.to_dict()
        out.pop("files")
        print_json(out)
        return
    _print_load(result)


def _print_load(result: LoadResult) -> None:
    """The summary of a load: rows loaded and quarantined per file kind, warnings, skipped files."""
    from graphiff.ingest.validate import WARNINGS

    table = Table(title=f"load {result.load_id}")
    table.add_column("file kind")
    table.add_column("loaded", justify="right")
    table.add_column("quarantined", justify="right")
    for kind, n in result.loaded.items():
        table.add_row(kind, f"{n:,}", f"{result.quarantined.get(kind, 0):,}")
    console.print(table)
    # file names are data: printed as they are (no markup)
    for f in result.files:
        for code, n in f.get("warnings", {}).items():
            console.print(f"warning: {f['file']} ({f['kind']}): {n:,} × {WARNINGS.get(code, code)}",
                          markup=False, highlight=False, soft_wrap=True)
    for s in result.skipped:
        console.print(f"warning: skipped {s['file']}: {s['reason']}", markup=False, highlight=False, soft_wrap=True)
    if result.quarantine:
        console.print(f"rejected rows with reasons: {esc(result.quarantine)}", highlight=False)


class _Stages:
    """The progress display of a bulk load on stderr: a line per file kind loaded (rows, rows/s),
    then a line per stage (export with its records, import, constraints, bookkeeping), each with
    its time."""

    def __init__(self, enabled: bool):
        self.prog = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                             TextColumn("{task.fields[detail]}", style="progress.data.speed"), TimeElapsedColumn(),
                             console=Console(stderr=True), disable=not enabled)
        self.stage = ""
        self.tasks: dict[str, TaskID] = {}
        self.counts: dict[str, int] = {}
        self.seconds: dict[str, float] = {}
        self.last = time.perf_counter()

    def __enter__(self) -> _Stages:
        self.prog.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.begin("")
        self.prog.stop()

    def begin(self, name: str) -> None:
        """A stage starts (``""``: the end); the lines of the previous one stop."""
        for t in self.tasks.values():
            self.prog.stop_task(t)
        self.stage, self.tasks, self.last = name, {}, time.perf_counter()
        if name and name != "load":
            self.tasks[name] = self.prog.add_task(_STAGE_TEXT.get(name, name), detail="")

    def rows(self, what: str, n: int) -> None:
        """Rows of one file kind loaded (stage "load"), or records of one label or type exported."""
        now = time.perf_counter()
        key = what if self.stage == "load" else self.stage
        self.seconds[key] = self.seconds.get(key, 0.0) + now - self.last
        self.counts[key] = self.counts.get(key, 0) + n
        self.last = now
        if key not in self.tasks:
            self.tasks[key] = self.prog.add_task(f"loading {what}", detail="")
        unit = "rows" if self.stage == "load" else "records"
        self.prog.update(self.tasks[key], detail=f"{self.counts[key]:,} {unit}  "
                                                 f"{rows_per_second(self.counts[key], self.seconds[key])}")


_STAGE_TEXT = {"export": "writing neo4j-admin CSV files", "import": "neo4j-admin import, server restart",
               "constraints and indexes": "constraints and indexes", "bookkeeping": "load record and column registry"}


def _bulk_load(store: str, database: str | None, paths: list[Path], mapping: list[Path], qdir: Path,
               kind: str | None, folder: Path, import_command: str | None, as_json: bool) -> None:
    """``load --bulk``: the load into an embedded store, the export, and the import or the steps."""
    from graphiff.ingest.bulk import bulk_load

    command = shlex.split(import_command) if import_command else None
    with _Stages(not as_json) as stages:
        res = bulk_load(store, paths, folder, database=database, mappings=mapping, quarantine_dir=qdir, kind=kind,
                        import_command=command, progress=stages.rows, stage=stages.begin)
    if as_json:
        print_json(res.to_dict())
        return
    _print_load(res.load)
    _print_seconds(res.seconds, res.records, sum(res.load.loaded.values()) + sum(res.load.quarantined.values()))
    if res.imported:
        _plain_line(f"bulk-loaded into {res.uri}")
        return
    _plain_line(f"the import files are in {res.folder}; to finish the load on the Neo4j server:")
    for step in res.steps:  # whole lines, never wrapped: the commands are copied from here
        console.print(step, markup=False, highlight=False, soft_wrap=True)


def _bulk_finish(store: str, database: str | None, folder: Path, as_json: bool) -> None:
    """``load --bulk-finish DIR``: constraints, indexes and bookkeeping after the operator's import."""
    from graphiff.ingest.bulk import finish

    with _Stages(not as_json) as stages:
        done = finish(store, folder, database=database, stage=stages.begin)
    if as_json:
        print_json({"folder": str(folder), "records": done.manifest["records"], "seconds": done.manifest["seconds"],
                    "loads": [d.get("load_id") for d in done.manifest["loads"]]})
        return
    _print_seconds(done.manifest["seconds"], done.manifest["records"], None)
    _plain_line(f"finished the bulk load of {folder} into {store}")


def _print_seconds(seconds: dict[str, float], records: dict[str, int], rows: int | None) -> None:
    """Seconds per stage of a bulk load and the rates over all of them."""
    t = Table(title="bulk load")
    t.add_column("stage")
    t.add_column("seconds", justify="right")
    for name, s in seconds.items():
        t.add_row(name, f"{s:,.1f}")
    total = sum(seconds.values())
    n = records["nodes"] + records["relationships"]
    t.add_row("total", f"{total:,.1f}")
    console.print(t)
    rate = f" ({n / total:,.0f} records/s" + (f", {rows / total:,.0f} input rows/s)" if rows else ")") if total else ""
    _plain_line(f"{records['nodes']:,} nodes and {records['relationships']:,} relationships{rate}")


@app.command()
def status(store: Optional[str] = StoreOpt, database: Optional[str] = DatabaseOpt, as_json: bool = JsonOpt) -> None:
    """Counts of nodes and relationships in the store, and the loads so far."""
    with store_from(store, database) as st:
        data = st.status()
    if as_json:
        print_json(data)
        return
    for title, counts in (("nodes", data["nodes"]), ("relationships", data["relationships"])):
        t = Table(title=title)
        t.add_column("type")
        t.add_column("count", justify="right")
        for k, v in sorted(counts.items()):
            t.add_row(esc(k), f"{v:,}")
        console.print(t)
    if data["loads"]:
        console.print(_loads_table(data["loads"]))
    console.print(f"{len(data['loads'])} load(s)")


def _loads_table(loads: list[dict]) -> Table:
    """The loads of ``status``: one row per load, files or a sharing package (every data string
    escaped: names, purposes and markings come from the input)."""
    t = Table(title="loads")
    for col in ("load", "when", "kind", "from", "loaded", "quarantined", "purpose", "marking", "partner alerts",
                "collisions"):
        t.add_column(col, justify="right" if col in ("quarantined", "collisions") else "left")
    for d in loads:
        when = esc(d.get("loaded_at") or d.get("first_loaded_at"))
        if d.get("kind") == "package":
            loaded = d.get("loaded") or {}
            nodes, rels = (sum((loaded.get(k) or {}).values()) for k in ("nodes", "relationships"))
            alerts = d.get("partner_alerts") or {}
            patterns = ", ".join(f"{p} {n:,}" for p, n in (alerts.get("patterns") or {}).items())
            t.add_row(esc(d.get("load_id")), when, "package", esc(f"{d.get('producer')}: {d.get('package')}"),
                      f"{nodes:,} nodes, {rels:,} relationships", "",
                      esc(d.get("purpose")), esc(d.get("marking")),
                      f"{alerts.get('count', 0):,}" + (f" ({esc(patterns)})" if patterns else ""),
                      f"{(d.get('collisions') or {}).get('count', 0):,}")
            continue
        names = [str(f.get("file")) for f in d.get("files") or []]
        shown = ", ".join(names[:3]) + (f" (+{len(names) - 3} more)" if len(names) > 3 else "")
        t.add_row(esc(d.get("load_id")), when, "files", esc(shown), f"{sum((d.get('loaded') or {}).values()):,}",
                  f"{sum((d.get('quarantined') or {}).values()):,}", "", "", "", "")
    return t


@app.command()
def samples(
    out: Path = typer.Argument(..., metavar="OUT", help="Folder to write the sample world into."),
    scale: float = typer.Option(1.0, callback=positive, help="Size (above 0): 1 ≈ 30,000 declaration rows; 35 ≈ 1M."),
    seed: int = typer.Option(7, help="Random seed (same seed, same world)."),
    aliases: bool = typer.Option(False, "--aliases", help="An alias world for entity resolution: each administration "
                                                          "names foreign traders, carriers and some persons by its "
                                                          "own ids and spellings, some payments give an account by "
                                                          "its national number, look-alike decoys are added, and "
                                                          "truth.json gains the true clusters of ids."),
    drawn: bool = typer.Option(False, "--drawn", help="A drawn world (docs/typologies.md): the seed draws every "
                                                      "family's assumptions (cycle lengths, markups, delays, which "
                                                      "legs are declared, amount decay, group sizes, thresholds, "
                                                      "currencies) and the noise (missing fields, late filings, "
                                                      "rounding, reused invoice numbers, typos); adds "
                                                      "assumptions.json. Seeds 1-20 tune, 101-120 are held out. "
                                                      "Not with --aliases."),
    as_json: bool = JsonOpt,
) -> None:
    """Generate a synthetic world in the canonical layout with planted patterns of every detector family, decoys
    that must not be flagged, and truth.json listing each planted instance (--drawn: a world whose assumptions
    are drawn from the seed, with assumptions.json)."""
    from graphiff.errors import GraphiffError
    from graphiff.samples import generate_world
    from graphiff.samples.drawn import generate_drawn_world

    if drawn and aliases:
        raise GraphiffError("--drawn and --aliases cannot be combined: a drawn world has no alias ids")
    with progress_bar(not as_json) as prog:
        task = prog.add_task("generating", total=None)

        def step(what: str, _frac: float) -> None:
            prog.update(task, description=f"generating {what}")

        if drawn:
            summary = generate_drawn_world(out, scale=scale, seed=seed, progress=step)
        else:
            summary = generate_world(out, scale=scale, seed=seed, aliases=aliases, progress=step)
    if as_json:
        print_json(summary)
        return
    t = Table(title=f"sample world in {esc(out)}")
    t.add_column("file")
    t.add_column("rows", justify="right")
    for k, v in summary["files"].items():
        t.add_row(k, f"{v:,}")
    console.print(t)
    t = Table(title="planted patterns (truth.json)")
    t.add_column("family")
    t.add_column("instances", justify="right")
    t.add_column("decoys", justify="right")
    for fam in sorted(set(summary["instances"]) | set(summary["decoys"])):
        t.add_row(fam, str(summary["instances"].get(fam, 0)), str(summary["decoys"].get(fam, 0)))
    console.print(t)
    if "aliases" in summary:
        t = Table(title="aliases and clusters")
        t.add_column("label")
        t.add_column("count", justify="right")
        for label, n in summary["aliases"].items():
            t.add_row(label, f"{n:,}")
        console.print(t)


@app.command()
def demo(
    out: Path = typer.Option(Path("demo-out"), "--out", help="Folder for everything the demo writes."),
    scale: float = typer.Option(0.5, callback=positive, help="Size of the sample world (above 0; 1 ≈ 30,000 "
                                                             "declarations)."),
    seed: int = typer.Option(7, help="Random seed."),
    aliases: bool = typer.Option(False, "--aliases", help="Make an alias world: every administration names foreign "
                                                          "traders, carriers and some persons its own way (see "
                                                          "`graphiff samples --aliases`)."),
    as_json: bool = JsonOpt,
) -> None:
    """The main job on the embedded store: generate a sample world, load it, resolve entities (the same trader
    under other ids), detect every pattern, evaluate against the planted truth, and write alerts, risk scores, link
    charts (HTML, i2 ANX) and a sharing package."""
    from graphiff.demo import run_demo

    with progress_bar(not as_json) as prog:
        task = prog.add_task("demo", total=None)
        result = run_demo(out, scale=scale, seed=seed, aliases=aliases,
                          step=lambda msg: prog.update(task, description=msg))
    if as_json:
        print_json(result)
        return
    t = Table(title="detection against the planted truth")
    for col in ("pattern", "alerts", "precision", "recall"):
        t.add_column(col, justify="right" if col != "pattern" else "left")
    for fam, r in sorted(result["evaluation"].get("families", {}).items()):
        t.add_row(fam, str(r.get("alerts", "")), _fmt_ratio(r.get("precision")), _fmt_ratio(r.get("recall")))
    console.print(t)
    # paths under --out, which may hold any character: printed as they are (no markup)
    say = _plain_line
    say(f"sample world:   {result['world']}")
    say(f"store:          {result['store']}")
    res = result["resolution"]
    joined = sum(v["records_in_clusters"] for v in res["labels"].values())
    entities = sum(v["clusters"] for v in res["labels"].values())
    review = sum(v["review"] for v in res["labels"].values())
    line = f"resolution:     {joined:,} records joined into {entities:,} entities, {review:,} pair(s) for review"
    if res.get("evaluation"):
        pw = res["evaluation"]["pairwise"]
        line += f" (pairwise precision {pw['precision']:.3f}, recall {pw['recall']:.3f})"
    say(line)
    say(f"alerts:         {result['alerts']['path']} ({result['alerts']['count']} alerts)")
    say(f"risk scores:    {result['risk']}")
    for c in result["charts"]:
        say(f"link chart:     {c}")
    if result.get("package"):
        say(f"share package:  {result['package']}")
    if result["load"].get("quarantine"):
        say(f"quarantine:     {result['load']['quarantine']}")
    say(f"workbench:      {serve_command(result['store'])}   then open http://127.0.0.1:8765/")


def serve_command(store: str) -> str:
    """The command that opens the workbench on ``store``, as this program was called."""
    me = Path(sys.argv[0])
    if me.name != "graphiff":
        shown = "graphiff"
    elif me.is_absolute() and me.is_relative_to(Path.cwd()):
        shown = str(me.relative_to(Path.cwd()))       # .venv/bin/graphiff, as the README says
    else:
        shown = str(me)
    return f"{shlex.quote(shown)} serve --store {shlex.quote(str(store))}"


def _plain_line(text: str) -> None:
    console.print(text, markup=False, highlight=False)


def _fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"

"""Sharing commands: package (make a sharing package for a partner) and import-package."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.markup import escape
from rich.table import Table

from graphiff.cli.app import app, err_console
from graphiff.cli.common import (
    DatabaseOpt,
    JsonOpt,
    StoreOpt,
    UnresolvedOpt,
    console,
    print_json,
    store_from,
    user_name,
)
from graphiff.errors import PackageError

if TYPE_CHECKING:
    from graphiff.share.keys import TeamKey


def team_key(redact: str, key_file: Path | None) -> TeamKey | None:
    """The team key a package made with ``--redact`` needs (None when there is none), read from
    ``--key-file`` or ``$GRAPHIFF_PACKAGE_KEY``: an unknown policy, or pseudonymising without a
    key, is refused; a key file other users may read is warned about on stderr."""
    from graphiff.share.keys import KEY_ENV, key_file_warning, read_key
    from graphiff.share.redact import POLICIES

    if redact not in POLICIES:
        raise PackageError(f"unknown --redact {redact!r}; choose one of: {', '.join(POLICIES)}")
    key = read_key(key_file)
    exposed = key_file_warning(key_file)
    if exposed:
        err_console.print(f"warning: {exposed}", markup=False, highlight=False, soft_wrap=True)
    if redact == "pseudonymise" and not key:
        raise PackageError(f"--redact pseudonymise needs the team key: give --key-file FILE or set {KEY_ENV}")
    return key


@app.command("package")
def package_cmd(
    out: Path = typer.Option(..., "--out", "-o", help="The package zip to write."),
    purpose: str = typer.Option(..., "--purpose", help="Why it is shared (e.g. the joint operation's name)."),
    marking: str = typer.Option(..., "--marking", help="Handling marking, e.g. 'TLP:AMBER' or your "
                                                        "administration's classification."),
    seed: list[str] = typer.Option([], "--seed", help="An entity id to start from (repeatable)."),
    alert: list[str] = typer.Option([], "--alert", help="Start from the entities of this alert (repeatable: every "
                                                        "alert named is used)."),
    hops: int = typer.Option(1, "--hops", min=0, help="How many relationships away from the seeds to go."),
    max_nodes: int = typer.Option(500, "--max-nodes", min=1, help="Node cap (the manifest says what it left out)."),
    redact: str = typer.Option("pseudonymise", "--redact",
                               help="Personal identifiers: none | pseudonymise (keyed hash, needs the team key) "
                                    "| remove."),
    key_file: Optional[Path] = typer.Option(None, "--key-file",
                                            help="File holding the team key (else $GRAPHIFF_PACKAGE_KEY)."),
    producer: Optional[str] = typer.Option(None, "--producer", envvar="GRAPHIFF_PRODUCER",
                                           help="Who sends the package (default: $GRAPHIFF_PRODUCER, else your "
                                                "user name)."),
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    unresolved: bool = UnresolvedOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Make a sharing package for a partner: the chosen subgraph as FollowTheMoney entities plus CSV, the alerts
    in scope and a manifest (producer, time, purpose, marking, redaction, SHA-256 of every file), in one zip."""
    from graphiff.alerts import stored_alerts
    from graphiff.share.package import make_package

    if not seed and not alert:
        raise PackageError("give at least one --seed ID or an --alert ID")
    key = team_key(redact, key_file)
    who = producer or user_name()
    from graphiff.graph import select as subgraph_mod
    from graphiff.graph.tables import Tables

    alert_ids = list(dict.fromkeys(alert))
    with store_from(store, database) as st:
        # every --alert counts: the first as the select's alert, the others as Alert seeds (before the entity seeds)
        tables = Tables(st, resolved=not unresolved)
        sub = subgraph_mod.select(tables, seeds=[*(f"Alert:{a}" for a in alert_ids[1:]), *seed],
                                  alert=alert_ids[0] if alert_ids else None, hops=hops, max_nodes=max_nodes)
        alerts = stored_alerts(st)
        manifest = make_package(sub, out, purpose=purpose, marking=marking, producer=who,
                                redact=redact,  # type: ignore[arg-type]
                                key=key, alerts=alerts, store=st)
    if as_json:
        print_json({"package": str(out), **manifest})
        return
    c = manifest["counts"]
    console.print(f"package [bold]{escape(str(out))}[/] for {escape(repr(manifest['purpose']))} "
                  f"({escape(manifest['marking'])}), redaction: {manifest['redaction']['policy']}", highlight=False)
    console.print(f"{sum(c['nodes'].values()):,} nodes, {sum(c['relationships'].values()):,} relationships, "
                  f"{sum(c['entities'].values()):,} FtM entities, {c['alerts']} alert(s)", highlight=False)
    if any(manifest["omitted"].values()):
        left = ", ".join(f"{k} {v}" for k, v in sorted(manifest["omitted"].items()) if v)
        console.print(f"node cap left out: {left}", highlight=False)


@app.command("keygen")
def keygen_cmd(
    out: Path = typer.Option(..., "--out", "-o", help="The key file to write (e.g. team.key)."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing key file (its pseudonyms are lost)."),
    as_json: bool = JsonOpt,
) -> None:
    """Make a new team key for pseudonymised packages: 32 random bytes (base64) and a random public key id, in a
    file readable by you only (mode 0600). Give it to your partners out of band, never with a package
    (docs/sharing.md, "Team keys"). The key itself is never printed."""
    from graphiff.share.keys import write_key_file

    key = write_key_file(out, force=force)
    if as_json:
        print_json({"key_file": str(out), "key_id": key.key_id})
        return
    console.print(f"wrote team key {escape(str(out))} (key id {key.key_id}, readable by you only); keep it secret "
                  "and give it to partners out of band, never with a package", highlight=False)


@app.command("import-package")
def import_package_cmd(
    package: Path = typer.Argument(..., metavar="PACKAGE", help="A package zip received from a partner."),
    store: Optional[str] = StoreOpt,
    database: Optional[str] = DatabaseOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Verify a partner's package (every file against the manifest's SHA-256; nothing is loaded if anything is
    wrong) and merge it into the store with the partner as provenance. Importing it twice changes nothing."""
    from graphiff.share.importer import import_package

    with store_from(store, database, create=True) as st:
        result = import_package(st, package)
    if as_json:
        print_json(result)
        return
    # every partner string is escaped: a manifest field such as "[/]" or "[bold]" prints as written
    state = "already imported, nothing changed" if result["already_imported"] else "imported"
    console.print(f"{escape(package.name)} from [bold]{escape(str(result['producer']))}[/] "
                  f"({escape(str(result['marking']))}; purpose: {escape(str(result['purpose']))}; "
                  f"redaction: {escape(str(result['redaction']))}): {state}", highlight=False)
    t = Table(title=escape(f"load {result['load_id']}"))
    t.add_column("type")
    t.add_column("in package", justify="right")
    t.add_column("written", justify="right")
    for kind in ("nodes", "relationships"):
        for k, v in result["loaded"][kind].items():
            t.add_row(escape(k), f"{v:,}", f"{result['written'][kind].get(k, 0):,}")
    console.print(t)
    coll = result["collisions"]
    if coll["count"]:
        console.print(f"{coll['count']:,} partner record(s) share an id with a local record; kept apart (the partner's "
                      "under its own key):", highlight=False)
        for c in coll["listed"]:
            console.print(escape(f"  kept apart: {c['label']} {c['id']!r} (local {c['local']!r}, partner "
                                 f"{c['partner']!r})"), highlight=False)
        if coll["count"] > len(coll["listed"]):
            console.print(f"  ... and {coll['count'] - len(coll['listed']):,} more (--json lists the first "
                          f"{len(coll['listed'])})", highlight=False)
    sa = result.get("same_as") or {}
    if sa.get("count"):
        statuses = ", ".join(f"{k} {v:,}" for k, v in sorted(sa.get("statuses", {}).items()))
        extra = []
        if sa.get("naming_local_ids"):
            extra.append(f"{sa['naming_local_ids']:,} name ids your own records also have (never joined to them)")
        if sa.get("skipped"):
            extra.append(f"{sa['skipped']:,} skipped")
        console.print(escape(f"{sa['count']:,} SAME_AS judgement(s) of the partner ({statuses})"
                             + (": " + "; ".join(extra) if extra else "")
                             + "; kept as they came by `graphiff resolve`"), highlight=False)
    pa = result["partner_alerts"]
    if pa["count"]:
        counts = ", ".join(f"{p} {n:,}" for p, n in pa["patterns"].items())
        console.print(escape(f"{pa['count']:,} partner alert(s) in alerts.json ({counts}): the partner's findings, "
                             "not written to the store (graphiff status --json lists them with this load)"),
                      highlight=False)

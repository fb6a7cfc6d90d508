"""Generate the synthetic world: background, planted patterns, CSV files and truth.json."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Callable

import pandas as pd

from graphiff.model import model
from graphiff.samples import background, entities, plant_customs, plant_flows, plant_network, plant_value, rows
from graphiff.samples.aliases import Aliases
from graphiff.samples.context import Ctx
from graphiff.samples.planter import Planter

Progress = Callable[[str, float], None]

PLANTS = [
    ("circular trade", plant_network.plant_circular_trade),
    ("circular payments", plant_network.plant_circular_payment),
    ("shell intermediaries", plant_network.plant_shell),
    ("linked carriers", plant_network.plant_linked_carriers),
    ("valuation", plant_value.plant_valuation),
    ("mirror discrepancies", plant_value.plant_mirror),
    ("cash structuring", plant_value.plant_cash),
    ("third-party payments", plant_value.plant_third_party),
]
#: the second phase (docs/typologies.md): variants of the families above and the newer families,
#: each on a random stream of its own, their rows built after the first phase's
VARIANTS = [
    ("related-party round trips", plant_network.plant_round_trips),
    ("one-sided shell intermediaries", plant_network.plant_shell_one_sided),
    ("two-front carriers", plant_network.plant_carrier_pairs),
    ("shrinking payment cycles", plant_network.plant_shrinking_cycles),
    ("cash structuring in the EU", plant_value.plant_cash_eu),
    ("pass-through accounts", plant_flows.plant_pass_through),
    ("scatter-gather", plant_flows.plant_scatter_gather),
    ("split invoices", plant_customs.plant_split_invoices),
    ("phoenix traders", plant_customs.plant_phoenix),
]


class _CsvFile:
    """A CSV file of one canonical kind written in chunks (exactly the canonical columns)."""

    def __init__(self, folder: Path, kind: str) -> None:
        self.kind = kind
        self.columns = model().canonical_columns[kind]
        self.path = folder / f"{kind}.csv"
        self.fh = open(self.path, "w", encoding="utf-8", newline="")
        self.fh.write(",".join(self.columns) + "\n")
        self.rows = 0

    def write(self, df: pd.DataFrame | None) -> None:
        if df is None or not len(df):
            return
        df.reindex(columns=self.columns).to_csv(self.fh, index=False, header=False, lineterminator="\n")
        self.rows += len(df)

    def close(self) -> int:
        self.fh.close()
        return self.rows


def generate_world(out: str | Path, *, scale: float = 1.0, seed: int = 7,
                   progress: Progress | None = None, aliases: bool = False) -> dict:
    """Write a synthetic customs world with planted patterns into ``out``.

    Writes the canonical input files (README, "Input contract") ``traders.csv``, ``persons.csv``,
    ``officers.csv``, ``carriers.csv``, ``declarations.csv``, ``accounts.csv``,
    ``payments.csv``, ``cash_reports.csv``, ``rates.csv`` and ``truth.json`` listing every
    planted pattern instance (the entities a detector should report) and every decoy (a
    look-alike that must not be reported).

    Parameters
    ----------
    out : str or Path
        Folder (created when missing; files in it are overwritten).
    scale : float, default 1.0
        1.0 gives about 30,000 declaration rows, 2,000 traders, 15,000 payments and 2,000
        cash reports; the background grows linearly, planted instances mildly
        (``scale ** 0.25``). 35 gives about a million declaration rows.
    seed : int, default 7
        Same seed and scale, byte-identical files.
    progress : callable, optional
        ``progress(step, fraction_done)``.
    aliases : bool, default False
        Write an alias world for entity resolution (:mod:`graphiff.samples.aliases`): each
        administration names foreign traders, carriers and some persons by its own ids and
        spellings (alias rows in the entity files), some payments give an account by its
        national number, look-alike decoys are added, and ``truth.json`` gains
        ``"resolution"`` (clusters of ids of one entity, decoy pairs). Without it the files are
        exactly those of the plain world.

    Returns
    -------
    dict
        ``{"files": {kind: rows}, "instances": {family: n}, "decoys": {family: n},
        "out": str(out)}``, and with ``aliases`` ``"aliases": {"Trader": n, "Person": n,
        "Carrier": n, "BankAccount": n, "clusters": n}`` (alias records per label, clusters).

    Examples
    --------
    A very small world (well under a second):

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as out:
    ...     summary = generate_world(out, scale=0.02, seed=1)
    ...     written = sorted(f.name for f in Path(out).iterdir())
    >>> written  # doctest: +NORMALIZE_WHITESPACE
    ['accounts.csv', 'carriers.csv', 'cash_reports.csv', 'declarations.csv', 'officers.csv', 'payments.csv',
     'persons.csv', 'rates.csv', 'traders.csv', 'truth.json']
    >>> summary["files"]["declarations"] > 500, min(summary["instances"].values()) >= 1
    (True, True)

    Notes
    -----
    Background rows are generated in vectorised chunks of 100,000 shipments and streamed to
    disk, so memory stays bounded; time is linear in ``scale``. An alias world takes about a
    third more (its traders.csv is several times longer: one row per administration and
    foreign trader).
    """
    if not scale > 0:
        raise ValueError("scale must be positive")
    say = progress or (lambda _what, _frac: None)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    ctx = Ctx(int(seed), float(scale)).setup()

    say("entities", 0.0)
    entities.build_all(ctx)
    background.plan(ctx)

    planter = Planter(ctx)
    steps = PLANTS + VARIANTS
    for i, (name, plant) in enumerate(PLANTS):
        say(f"planting {name}", 0.05 + 0.05 * i / len(steps))
        plant(planter)
    planter.finish()
    bg_cash = background.cash_spec(ctx)  # its serials before the second phase's
    for i, (name, plant) in enumerate(VARIANTS, start=len(PLANTS)):
        say(f"planting {name}", 0.05 + 0.05 * i / len(steps))
        planter.use_stream("planted/" + name)
        plant(planter)
    planter.finish()
    alias = Aliases(ctx, planter) if aliases else None

    files = {k: _CsvFile(folder, k) for k in ("declarations", "payments")}
    n_chunks = max(1, -(-ctx.n_shipments // background.CHUNK))
    for i, (decl, pay) in enumerate(background.chunks(ctx)):
        say("background trade", 0.1 + 0.8 * i / n_chunks)
        if alias is not None:
            decl, pay = alias.records(decl, pay)
        files["declarations"].write(decl)
        files["payments"].write(pay)
    say("planted records", 0.9)
    planted = [(planter.declaration_rows(), planter.payment_rows())]
    if alias is not None:  # the decoys' records are built last (they take serials)
        planted = [alias.records(*planted[0]), alias.records(*alias.decoy_records())]
    for decl, pay in planted:
        files["declarations"].write(decl)
        files["payments"].write(pay)
    counts = {k: f.close() for k, f in files.items()}

    say("entity files", 0.95)
    cash = pd.concat([rows.cash_reports(ctx, bg_cash), planter.cash_rows()], ignore_index=True)
    if alias is not None:
        cash = alias.cash_reports(cash)
    extra = alias.entity_rows() if alias is not None else {}
    for kind, df in (("traders", ctx.traders), ("persons", ctx.persons), ("officers", ctx.officers),
                     ("carriers", ctx.carriers), ("accounts", ctx.accounts), ("cash_reports", cash),
                     ("rates", ctx.rates.frame())):
        f = _CsvFile(folder, kind)
        f.write(df)
        f.write(extra.get(kind))
        counts[kind] = f.close()

    truth = {"seed": int(seed), "scale": float(scale), "instances": planter.instances, "decoys": planter.decoys}
    if alias is not None:
        truth["resolution"] = alias.truth()
    (folder / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    say("done", 1.0)
    order = ["traders", "persons", "officers", "carriers", "declarations", "accounts", "payments", "cash_reports",
             "rates"]
    summary = {"files": {k: counts[k] for k in order},
               "instances": dict(sorted(Counter(i["family"] for i in planter.instances).items())),
               "decoys": dict(sorted(Counter(d["family"] for d in planter.decoys).items())),
               "out": str(out)}
    if alias is not None:
        summary["aliases"] = alias.summary()
    return summary

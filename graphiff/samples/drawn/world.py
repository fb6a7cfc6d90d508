"""Generate a drawn world: the plain world's background seen by a drawn set of administrations,
the drawn plants of every family, noise, the canonical files, ``truth.json`` and
``assumptions.json``."""
from __future__ import annotations

import json
import zlib
from collections import Counter
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from graphiff.model import model
from graphiff.samples import background, entities, rows
from graphiff.samples.context import Ctx
from graphiff.samples.drawn import fronts, money, network, noise, value
from graphiff.samples.drawn.kit import TRADE_COUNTRIES, DrawnPlanter, Draws, plain, rates_frame
from graphiff.samples.reference import COUNTRIES

Progress = Callable[[str, float], None]

#: the plants, in the order they draw (adding one at the end leaves the others' draws alone)
PLANTS: list[tuple[str, Callable[[DrawnPlanter], None]]] = [
    ("circular trade", network.plant_circular_trade),
    ("circular payments", money.plant_circular_payment),
    ("shell intermediaries", network.plant_shell),
    ("linked carriers", fronts.plant_linked_carriers),
    ("valuation", value.plant_valuation),
    ("mirror discrepancies", value.plant_mirror),
    ("cash structuring", money.plant_cash),
    ("third-party payments", money.plant_third_party),
    ("pass-through accounts", money.plant_pass_through),
    ("scatter-gather", money.plant_scatter_gather),
    ("split invoices", value.plant_split_invoices),
    ("phoenix traders", fronts.plant_phoenix),
]
ORDER = ["traders", "persons", "officers", "carriers", "declarations", "accounts", "payments", "cash_reports", "rates"]


def _rng(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(("drawn/" + name).encode())])


def draw_administrations(seed: int) -> list[str]:
    """The reporting countries whose declarations a drawn world writes: Kenya and 2 to 14
    others (an administration's own data plus the partners it exchanges with)."""
    rng = _rng(seed, "administrations")
    others = [c for c in TRADE_COUNTRIES if c != "KE"]
    n = int(rng.integers(2, 15))
    return sorted(["KE", *[str(c) for c in rng.choice(others, n, replace=False)]])


def _kept_share(held: list[str]) -> float:
    w = {c: v[4] for c, v in COUNTRIES.items()}
    return sum(w.get(c, 0.0) for c in held) / sum(w.values())


class _Writer:
    def __init__(self, folder: Path, kind: str) -> None:
        self.columns = model().canonical_columns[kind]
        self.fh = open(folder / f"{kind}.csv", "w", encoding="utf-8", newline="")
        self.fh.write(",".join(self.columns) + "\n")
        self.rows = 0

    def write(self, df: pd.DataFrame | None) -> None:
        if df is not None and len(df):
            df.reindex(columns=self.columns).to_csv(self.fh, index=False, header=False, lineterminator="\n")
            self.rows += len(df)

    def close(self) -> int:
        self.fh.close()
        return self.rows


def generate_drawn_world(out: str | Path, *, seed: int, scale: float = 0.3, progress: Progress | None = None) -> dict:
    """Write a world whose assumptions are drawn from the seed into ``out``.

    The background is the plain world's ordinary trade, money and cash
    (:mod:`graphiff.samples.background`), seen only by a drawn set of administrations (the
    declarations of other reporting countries are not written). Every family of
    docs/typologies.md is planted with knobs drawn per world (cycle lengths, turns, markups,
    delays, which legs are declared by whom, amount decay, group sizes, thresholds and
    currencies...) and decoys that lack the typology's signal; noise is drawn over the whole
    world (:mod:`graphiff.samples.drawn.noise`).

    Parameters
    ----------
    out : str or Path
        Folder (created when missing; files in it are overwritten).
    seed : int
        Draws everything; same seed and scale, byte-identical files. Seeds 1-20 are the
        tuning draws, 101-120 are held out (docs/typologies.md).
    scale : float, default 0.3
        0.3 gives roughly 8,000-11,000 declaration rows; planted instances grow mildly
        (``scale ** 0.25``).
    progress : callable, optional
        ``progress(step, fraction_done)``.

    Returns
    -------
    dict
        ``{"files": {kind: rows}, "instances": {family: n}, "decoys": {family: n},
        "administrations": [country...], "quarantine_rows": n, "out": str(out)}``.

    Notes
    -----
    Writes the canonical files, ``truth.json`` (``instances`` with ``family``, ``entities``,
    ``note``, ``kind``; ``decoys`` with ``family``, ``kind``, ``entities``, ``note``) and
    ``assumptions.json`` (the world's draws and each instance's). Time and memory are linear
    in ``scale``: about 5 s at 0.3.
    """
    if not scale > 0:
        raise ValueError("scale must be positive")
    say = progress or (lambda _what, _frac: None)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    held = draw_administrations(seed)
    bg_scale = float(scale) / max(0.3, _kept_share(held))
    ctx = Ctx(int(seed), bg_scale).setup()
    draws = Draws()
    kn = noise.draw(_rng(seed, "noise"))

    say("entities", 0.0)
    entities.build_all(ctx)
    background.plan(ctx)

    p = DrawnPlanter(ctx, held, draws, float(scale))
    for i, (name, plant) in enumerate(PLANTS):
        say(f"planting {name}", 0.05 + 0.1 * i / len(PLANTS))
        plant(p)
    p.finish()
    p.apply_trader_edits()
    draws.world = {"seed": int(seed), "scale": float(scale), "background_scale": round(bg_scale, 4),
                   "administrations": sorted(p.held), "noise": kn}

    counts: dict[str, int] = {}
    rng = _rng(seed, "noise/rows")
    files = {k: _Writer(folder, k) for k in ("declarations", "payments")}
    for i, (decl, pay) in enumerate(background.chunks(ctx)):
        say("background trade", 0.2 + 0.6 * i / max(1, -(-ctx.n_shipments // background.CHUNK)))
        decl = decl[decl["reporting_country"].isin(p.held)].reset_index(drop=True)
        files["declarations"].write(noise.declarations(decl, rng, kn, planted=False, protected=set(), counts=counts))
        files["payments"].write(noise.payments(pay, rng, kn, planted=False, counts=counts))
    say("planted records", 0.85)
    files["declarations"].write(noise.declarations(p.drawn_declarations(), rng, kn, planted=True,
                                                   protected=p.protected, counts=counts))
    files["payments"].write(noise.payments(p.drawn_payments(), rng, kn, planted=True, counts=counts))
    written = {k: f.close() for k, f in files.items()}

    say("entity files", 0.95)
    cash = pd.concat([rows.cash_reports(ctx, background.cash_spec(ctx)), p.drawn_cash()], ignore_index=True)
    rates = pd.concat([ctx.rates.frame(), rates_frame(ctx, p.rate_table)], ignore_index=True)
    for kind, df in (("traders", noise.traders(ctx.traders, rng, kn)), ("persons", ctx.persons),
                     ("officers", ctx.officers), ("carriers", ctx.carriers), ("accounts", ctx.accounts),
                     ("cash_reports", cash), ("rates", rates)):
        w = _Writer(folder, kind)
        w.write(df)
        written[kind] = w.close()

    truth = {"seed": int(seed), "scale": float(scale), "drawn": True, "instances": p.instances, "decoys": p.decoys}
    (folder / "truth.json").write_text(json.dumps(plain(truth), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assumptions = draws.as_dict()
    assumptions["world"]["quarantine_rows"] = dict(sorted(counts.items()))
    (folder / "assumptions.json").write_text(json.dumps(plain(assumptions), indent=1, ensure_ascii=False,
                                                        sort_keys=True) + "\n", encoding="utf-8")
    say("done", 1.0)
    return {"files": {k: written[k] for k in ORDER},
            "instances": dict(sorted(Counter(i["family"] for i in p.instances).items())),
            "decoys": dict(sorted(Counter(d["family"] for d in p.decoys).items())),
            "administrations": sorted(p.held), "quarantine_rows": sum(counts.values()), "out": str(out)}

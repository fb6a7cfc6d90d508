"""The state shared by the parts of the generator: seeded random streams, serial numbers,
reference data and the entity tables built so far."""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from graphiff.samples.ids import Serial
from graphiff.samples.reference import Catalog, Rates, make_catalog, make_rates


@dataclass
class Ctx:
    seed: int
    scale: float
    serial: Serial = field(default_factory=Serial)
    #: reference data, set by :meth:`setup`
    catalog: Catalog = field(init=False, repr=False)
    rates: Rates = field(init=False, repr=False)
    #: entity tables (canonical columns plus internal ``_``-prefixed ones), set as the world is built
    traders: pd.DataFrame = field(init=False, repr=False)
    persons: pd.DataFrame = field(init=False, repr=False)
    officers: pd.DataFrame = field(init=False, repr=False)
    carriers: pd.DataFrame | None = None
    accounts: pd.DataFrame = field(init=False, repr=False)
    #: conveyance ids per carrier row, container owner code per carrier row
    conveyances: list[np.ndarray] = field(default_factory=list)
    container_owner: list[str] = field(default_factory=list)
    #: background shipments (reserved serial range), set by the background generator
    n_shipments: int = 0

    def rng(self, name: str) -> np.random.Generator:
        """An independent generator per part of the world: adding a part never changes
        another part's draws."""
        return np.random.default_rng([int(self.seed) & 0xFFFFFFFF, zlib.crc32(name.encode())])

    def setup(self) -> "Ctx":
        self.catalog = make_catalog(self.rng("catalog"))
        self.rates = make_rates(self.rng("rates"))
        return self

    def count(self, base: float, minimum: int = 1) -> int:
        """A background count proportional to the scale."""
        return max(minimum, int(round(base * self.scale)))

    def planted(self, base: float, minimum: int = 2) -> int:
        """A planted count growing mildly with the scale (base at scale 1)."""
        return max(minimum, int(round(base * max(self.scale, 0.05) ** 0.25)))

    def trader_index(self) -> dict[str, int]:
        return dict(zip(self.traders["trader_id"], range(len(self.traders))))

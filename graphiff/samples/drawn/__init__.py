"""Drawn worlds: sample worlds whose assumptions are drawn per seed, written from the
typologies (docs/typologies.md) and the public references, not from the detector code.

:func:`generate_drawn_world` writes the canonical files, ``truth.json`` and
``assumptions.json``. The parts: ``kit`` (the planter of drawn worlds and the record of the
draws), ``network`` (circular trade, shells, linked carriers, phoenix traders), ``money``
(payment cycles, pass-through, scatter-gather, third-party payments, cash structuring),
``value`` (valuation, mirror discrepancies, split invoices), ``noise`` and ``world``.
"""
from graphiff.samples.drawn.world import generate_drawn_world

__all__ = ["generate_drawn_world"]

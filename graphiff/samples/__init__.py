"""A synthetic customs world with planted patterns of every detector family and a truth file.

:func:`generate_world` writes the canonical input files and ``truth.json``. The parts:
``reference`` (countries, currencies, HS catalogue, rates), ``ids`` (identifiers, IBANs,
names), ``entities`` and ``background`` (the ordinary world, vectorised), ``rows`` (row
builders), ``planter`` with ``plant_network``, ``plant_value``, ``plant_flows`` and
``plant_customs`` (the patterns of docs/typologies.md, their variants and their decoys),
``world`` (orchestration and writing).
"""
from graphiff.samples.world import generate_world

__all__ = ["generate_world"]

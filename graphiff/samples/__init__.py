"""A synthetic customs world with planted patterns of every detector family and a truth file.

:func:`generate_world` writes the canonical input files and ``truth.json``. The parts:
``reference`` (countries, currencies, HS catalogue, rates), ``ids`` (identifiers, IBANs,
names), ``entities`` and ``background`` (the ordinary world, vectorised), ``rows`` (row
builders), ``planter`` with ``plant_network`` and ``plant_value`` (the patterns and their
decoys), ``world`` (orchestration and writing).
"""
from graphiff.samples.world import generate_world

__all__ = ["generate_world"]

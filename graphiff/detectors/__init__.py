"""Detectors: one module per pattern family, registered in :mod:`graphiff.detectors.registry`
and run by :mod:`graphiff.detectors.runner`.

Importing this package registers every family.
"""
from __future__ import annotations

from graphiff.detectors import (  # noqa: F401  (importing registers the detectors)
    cash_structuring,
    circular_payment,
    circular_trade,
    linked_carriers,
    mirror,
    pass_through_account,
    phoenix_trader,
    scatter_gather,
    shell_intermediary,
    split_invoices,
    third_party_payment,
    valuation,
)
from graphiff.detectors.registry import REGISTRY
from graphiff.detectors.runner import (
    check_params,
    detector_names,
    load_config,
    merge_params,
    parse_overrides,
    run_detectors,
)

__all__ = ["run_detectors", "detector_names", "parse_overrides", "load_config", "merge_params",
           "check_params", "REGISTRY"]

"""The detector registry: pattern name -> function and default parameters.

A detector is ``fn(tables: Tables, **params) -> list[Alert]``; register it with
``@register("pattern_name", defaults={...})``. ``graphiff detect`` runs every registered
detector (or the ones named), with defaults overridden by a config file or options.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from graphiff.errors import GraphiffError


@dataclass(frozen=True)
class Detector:
    pattern: str
    fn: Callable[..., list]
    defaults: dict[str, Any]
    patterns: tuple[str, ...]  # the alert patterns it emits (undervaluation + overvaluation share one)


REGISTRY: dict[str, Detector] = {}


def register(pattern: str, *, defaults: dict[str, Any] | None = None, emits: tuple[str, ...] | None = None):
    """Decorator adding a detector function to the registry under ``pattern``."""

    def deco(fn: Callable[..., list]) -> Callable[..., list]:
        REGISTRY[pattern] = Detector(pattern, fn, dict(defaults or {}), tuple(emits or (pattern,)))
        return fn

    return deco


def get(pattern: str) -> Detector:
    try:
        return REGISTRY[pattern]
    except KeyError:
        raise GraphiffError(f"unknown detector {pattern!r}; known: {', '.join(sorted(REGISTRY))}") from None

"""Learned risk targeting from inspection outcomes (``graphiff targeting``; docs/targeting.md).

A gradient-boosted model (LightGBM) learns from past inspection results (a 0/1 declaration
property such as ``fraud``) or from the analysts' triage decisions which declarations to
inspect next. It reads what a declaration says and what the graph knew about its parties
before the declaration's date (:mod:`graphiff.targeting.features`), is measured on a time
split and kept in the store's case book (:mod:`graphiff.targeting.model`), and writes on each
declaration its ``target_score`` and ``target_reasons`` in words
(:mod:`graphiff.targeting.reasons`).
"""
from __future__ import annotations

from graphiff.targeting.model import KIND, kept_model, metrics, read_model_file, score, train

__all__ = ["KIND", "train", "score", "kept_model", "read_model_file", "metrics"]

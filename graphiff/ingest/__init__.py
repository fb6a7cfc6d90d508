"""Ingest: read canonical or mapped files, validate, normalise, quarantine, load into a store."""
from graphiff.ingest.loader import KIND_ORDER, LoadResult, load_paths
from graphiff.ingest.mapping import Mapping, load_mapping
from graphiff.model import CANONICAL_COLUMNS

__all__ = ["KIND_ORDER", "LoadResult", "load_paths", "CANONICAL_COLUMNS", "Mapping", "load_mapping"]

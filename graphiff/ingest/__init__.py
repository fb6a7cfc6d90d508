"""Ingest: read canonical or mapped files, validate, normalise, quarantine, load into a store."""
from graphiff.ingest.loader import KIND_ORDER, LoadResult, load_paths
from graphiff.ingest.mapping import Mapping, load_mapping

__all__ = ["KIND_ORDER", "LoadResult", "load_paths", "Mapping", "load_mapping"]

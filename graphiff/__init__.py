"""graphiff: entity-network analytics for customs intelligence against illicit financial flows.

The public API (the CLI is a thin layer over it)::

    from graphiff import open_store, load_paths, generate_world
    with open_store("world.duckdb") as store:
        load_paths(store, ["samples/world"])
"""
from graphiff.errors import (
    GraphiffError,
    InvalidInput,
    InvalidMapping,
    NotFound,
    PackageError,
    StoreError,
)
from graphiff.ingest import load_paths
from graphiff.stores import Store, open_store

__version__ = "0.1.0"


def generate_world(*args, **kwargs):  # noqa: ANN002, ANN003 - thin re-export, see graphiff.samples
    """Generate a synthetic world (see :func:`graphiff.samples.generate_world`)."""
    from graphiff.samples import generate_world as _gen

    return _gen(*args, **kwargs)


__all__ = ["GraphiffError", "InvalidInput", "InvalidMapping", "NotFound", "PackageError", "StoreError",
           "Store", "open_store", "load_paths", "generate_world", "__version__"]

"""Searching names and identifiers: what ``GET /api/search`` of the workbench answers.

:func:`open_search` builds a :class:`SearchIndex` over one :class:`Tables` snapshot (the
resolved view by default); :meth:`SearchIndex.search` returns :class:`Hit` entities, best
first. Names are found case-, accent- and typo-tolerant in any word order ("perl modrn
resources" finds "Pearl Modern Resources Pvt Ltd", "MÜLLER" finds "Muller GmbH"); identifiers
(keys, tax ids, passports, IBANs and account ids, phones, e-mails, containers, conveyances,
declaration, payment and cash report ids) exactly after normalisation, or by their start.

The parts:

* :mod:`graphiff.search.documents` -- what is searched: one document per record, its fields
  read from the graph model, normalisation of queries and values, identifier lookups;
* :mod:`graphiff.search.rank` -- the one scorer and the gathering of records into entities;
* :mod:`graphiff.search.base` -- :class:`SearchIndex`, the checks of a query;
* :mod:`graphiff.search.embedded` -- candidates from an in-memory tantivy index (any store);
* :mod:`graphiff.search.neo4j` -- candidates from Neo4j's full-text index (a Neo4j store).

Example::

    tables = Tables(store)
    index = open_search(store, tables)
    index.search("perl modrn resources", types=["Trader"], limit=5)
"""
from __future__ import annotations

from graphiff.graph.tables import Tables
from graphiff.search.base import SearchIndex
from graphiff.search.rank import Hit
from graphiff.stores.base import Store

__all__ = ["Hit", "SearchIndex", "open_search"]


def open_search(store: Store, tables: Tables) -> SearchIndex:
    """The search index of one snapshot of ``store``.

    Parameters
    ----------
    store : Store
        The store the tables were read from. A store with a full-text index (``fulltext``:
        the Neo4j store; the index is created on first use) answers from it; any other store
        from a tantivy index built in memory (the Neo4j driver is not even imported).
    tables : Tables
        The snapshot searched (``Tables(store)``: the resolved view, so a record joined by
        entity resolution is found as its entity; ``resolved=False``: records as loaded).

    Returns
    -------
    SearchIndex
        Ready to answer; build a new one when the store changes.

    Cost: one read of every searchable node table (shared with other users of ``tables``), and
    for the embedded backend the indexing of the names and addresses: about 1.5 seconds and
    50 MB per 100,000 declarations (14 s and 0.5 GB at 1M declarations).
    """
    if callable(getattr(store, "fulltext", None)):      # a store with a full-text index (Neo4j)
        from graphiff.search.neo4j import Neo4jSearch

        return Neo4jSearch(store, tables)  # type: ignore[arg-type]
    from graphiff.search.embedded import TantivySearch

    return TantivySearch(tables)

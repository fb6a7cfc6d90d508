"""Exploring the network: neighbourhoods, paths, communities and centrality.

What an analyst asks first: *what is this trader connected to, and through which records?*
(:func:`neighbourhood`), *how are these two connected?* (:func:`paths`), *which groups trade or
pay mostly among themselves?* (:func:`communities`) and *who sits in the middle?*
(:func:`centrality`).

All functions take a :class:`graphiff.graph.tables.Tables`, so they run the same on every store.
Neighbourhoods and paths walk the adjacency index of :mod:`graphiff.graph.index` (how hops are
counted is explained there), built once per ``Tables`` and shared with the link-chart selection
(:func:`graphiff.graph.select.select`); communities and centrality run on the igraph
projections of :func:`graphiff.graph.graphs.projection_graph`.

=========================  ================================================
:mod:`.neighbourhood`      :func:`neighbourhood`
:mod:`.paths`              :func:`paths`
:mod:`.communities`        :func:`communities`, :func:`community_summary`, :func:`centrality`
:mod:`.describe`           how nodes, records and alerts are written in the answers
=========================  ================================================
"""
from __future__ import annotations

from graphiff.explore.communities import (
    CENTRALITY_MEASURES,
    COMMUNITY_METHODS,
    centrality,
    communities,
    community_summary,
)
from graphiff.explore.neighbourhood import neighbourhood
from graphiff.explore.paths import paths
from graphiff.graph.graphs import PROJECTIONS

__all__ = ["neighbourhood", "paths", "communities", "community_summary", "centrality", "PROJECTIONS",
           "COMMUNITY_METHODS", "CENTRALITY_MEASURES"]

"""Relations between parties read from the officer graph (``OFFICER_OF``).

Two different relations, for two different questions:

* :func:`related_party_groups`: **ownership groups**, an equivalence relation. Traders under
  common ownership (owner/UBO of one another, or sharing an owner) are merged transitively
  into one group, so that export by one company and re-import by its sister company close a
  cycle (:mod:`graphiff.detectors.circular_trade`). Broad owners (nominees) link nothing.
* :func:`officer_adjacency` with :func:`within_hops`: **officer neighbourhoods**, not
  transitive. Any officer role (or a chosen set), parties within a number of hops of a given
  party in the undirected officer graph, so that a director, parent or group company paying
  for an import counts as related to the importer
  (:mod:`graphiff.detectors.third_party_payment`).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Sequence

from graphiff.graph.algorithms import UnionFind
from graphiff.graph.features import officer_table
from graphiff.graph.tables import Tables


def related_party_groups(tables: Tables, roles: Sequence[str] = ("OWNER", "UBO"),
                         max_related: int = 10) -> dict[str, str]:
    """Trader key -> group representative, merging traders under common ownership.

    Two traders are related when one is an officer (in ``roles``) of the other, or when one
    person or trader holds one of ``roles`` in both. An officer holding such a role in more
    than ``max_related`` companies (a nominee or a holding too broad to mean anything) links
    nothing. Traders not related to any other map to themselves (absent from the dict). The
    representative of a group is its smallest key. Cost: O(officers).
    """
    off = officer_table(tables)
    if not len(off):
        return {}
    roles_u = {r.upper() for r in roles}
    off = off[off["role"].isin(roles_u) & (off["company_label"] == "Trader")]
    off = off.drop_duplicates(["officer_label", "officer", "company"])
    n = off.groupby(["officer_label", "officer"])["company"].transform("size")
    n = n + (off["officer_label"] == "Trader").astype(int)  # a trader owning others is one of the group
    off = off[(n >= 2) & (n <= max_related)]
    groups: dict[tuple[str, str], set[str]] = defaultdict(set)
    for olabel, officer, company in zip(off["officer_label"], off["officer"], off["company"]):
        groups[(olabel, officer)].add(company)
        if olabel == "Trader":
            groups[(olabel, officer)].add(officer)
    uf = UnionFind()
    for companies in groups.values():
        cs = sorted(companies)
        for c in cs[1:]:
            uf.union(cs[0], c)
    return {k: uf.find(k) for k in list(uf.parent)}


def officer_adjacency(tables: Tables, roles: Sequence[str] | None = None) -> dict[str, set[str]]:
    """The undirected officer graph as adjacency sets: ``{party key: {neighbour keys}}``, an
    edge for every ``OFFICER_OF`` relationship (only those with a role in ``roles`` when
    given; None = every role). Cost: O(officers)."""
    off = officer_table(tables)
    adj: dict[str, set[str]] = defaultdict(set)
    if not len(off):
        return adj
    if roles:
        off = off[off["role"].isin({r.upper() for r in roles})]
    for a, b in zip(off["officer"], off["company"]):
        adj[a].add(b)
        adj[b].add(a)
    return adj


def within_hops(adj: dict[str, set[str]], start: str, hops: int) -> set[str]:
    """``start`` and every party within ``hops`` hops of it in ``adj`` (breadth-first).

    >>> sorted(within_hops({"a": {"b"}, "b": {"a", "c"}, "c": {"b"}}, "a", 1))
    ['a', 'b']
    """
    seen = {start}
    frontier = {start}
    for _ in range(max(0, hops)):
        nxt: set[str] = set()
        for x in frontier:
            nxt |= adj.get(x, set())
        nxt -= seen
        seen |= nxt
        frontier = nxt
        if not frontier:
            break
    return seen

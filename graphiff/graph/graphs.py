"""Graph projections as python-igraph graphs, built from the feature tables of
:mod:`graphiff.graph.features` (trade flow, money flow, carrier use, ownership and shared
identifiers) or from the adjacency index of :mod:`graphiff.graph.index` (the whole graph).

Every graph here is built by one function, :func:`edge_graph`: one edge per row of an edge
table, one vertex per distinct end, vertices sorted by name. Vertices are named by their key
when every end has the same label (trade: traders, money: bank accounts), else ``"Label:key"``
with ``label`` and ``key`` attributes. :func:`projection_graph` gives the weighted graphs the
community and centrality measures of :mod:`graphiff.explore` run on.

>>> g = edge_graph(["T2", "T1"], ["T1", "C1"], src_label="Trader", dst_label=["Trader", "Carrier"],
...                edge_attrs={"weight": [1.0, 2.0]})
>>> g.vs["name"], g.vs["label"], g.es["weight"]
(['Carrier:C1', 'Trader:T1', 'Trader:T2'], ['Carrier', 'Trader', 'Trader'], [1.0, 2.0])
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from graphiff.errors import GraphiffError
from graphiff.graph.features import (
    ID_RELS,
    account_holders,
    carrier_use_table,
    identifier_links,
    money_edges,
    officer_table,
    trade_edges,
    trader_countries_of,
)
from graphiff.graph.index import graph_index
from graphiff.graph.tables import Tables
from graphiff.model.identity import node_id, split_node_id

if TYPE_CHECKING:
    import igraph

__all__ = ["PROJECTIONS", "edge_graph", "projection_graph", "trade_graph", "money_graph", "carrier_use",
           "ownership_and_identifiers"]

#: The projections :func:`projection_graph` builds.
PROJECTIONS = ("trade", "money", "carrier", "ownership", "all")


def _graph(keys: Sequence[str], src: np.ndarray, dst: np.ndarray, *, labels: Sequence[str] | None = None,
           directed: bool = True, edge_attrs: Mapping[str, Iterable[Any]] | None = None) -> "igraph.Graph":
    """The igraph graph of vertices ``keys`` (in that order) and edges ``src[i] -> dst[i]``
    (vertex positions). Vertex naming as in :func:`edge_graph`."""
    import igraph as ig

    g = ig.Graph(n=len(keys), edges=list(zip(src.tolist(), dst.tolist())), directed=directed)
    if labels is None:
        g.vs["name"] = list(keys)
    else:
        g.vs["name"] = [node_id(lab, key) for lab, key in zip(labels, keys)]
        g.vs["label"] = list(labels)
        g.vs["key"] = list(keys)
    for name, values in (edge_attrs or {}).items():
        g.es[name] = list(values)
    return g


def edge_graph(src: Iterable[str], dst: Iterable[str], *, src_label: str | Iterable[str] | None = None,
               dst_label: str | Iterable[str] | None = None, directed: bool = True,
               edge_attrs: Mapping[str, Iterable[Any]] | None = None) -> "igraph.Graph":
    """An igraph graph with one edge per row of an edge table.

    Parameters
    ----------
    src, dst : iterables of str
        The keys at the two ends of each edge (one entry per edge).
    src_label, dst_label : str or iterable of str, optional
        The labels of the ends (one label for all, or one per edge). When given, vertices are
        named ``"Label:key"`` (equal keys of different labels are different vertices) and carry
        ``label`` and ``key``; when not, vertices are named by the key.
    directed : bool
        Directed (default) or undirected edges.
    edge_attrs : mapping of str to iterable, optional
        Edge attributes, one value per edge, in row order.

    Returns
    -------
    igraph.Graph
        Vertices sorted by name; edges in row order (parallel edges kept).

    Cost: a sort of the 2E end names, O(E log E).
    """
    src = np.asarray(list(src) if not isinstance(src, (np.ndarray, pd.Series)) else src, dtype=object)
    dst = np.asarray(list(dst) if not isinstance(dst, (np.ndarray, pd.Series)) else dst, dtype=object)
    ends = np.concatenate([src, dst]).astype(str)
    labelled = src_label is not None or dst_label is not None
    if labelled:
        lab = np.concatenate([_per_edge(src_label, len(src)), _per_edge(dst_label, len(dst))])
        ends = np.asarray([node_id(a, k) for a, k in zip(lab.tolist(), ends.tolist())], dtype=object).astype(str)
    names, codes = np.unique(ends, return_inverse=True)
    codes = np.asarray(codes, dtype=np.int64).reshape(-1)
    names = names.tolist()
    if labelled:
        pairs = [split_node_id(n) for n in names]
        labels, keys = [p[0] for p in pairs], [p[1] for p in pairs]
    else:
        labels, keys = None, names
    return _graph(keys, codes[:len(src)], codes[len(src):], labels=labels, directed=directed,
                  edge_attrs=edge_attrs)


def _per_edge(label: str | Iterable[str] | None, n: int) -> np.ndarray:
    if label is None:
        raise GraphiffError("give both src_label and dst_label, or neither")
    if isinstance(label, str):
        return np.full(n, label, dtype=object)
    return np.asarray(list(label) if not isinstance(label, (np.ndarray, pd.Series)) else label, dtype=object)


def trade_graph(tables: Tables, hs_level: int = 6) -> "igraph.Graph":
    """The trader trade graph: a directed igraph multigraph, exporter -> importer per shipment.

    Vertices are Traders (attribute ``name`` = trader key, ``country``); edges carry ``decl``
    (representative declaration key), ``decls`` (mirror declarations merged into the shipment),
    ``date``, ``t`` (day number), ``hs`` (``hs_level`` digits), ``net_mass_kg``, ``value_usd``
    and ``quantity``. See :func:`~graphiff.graph.features.trade_edges` for the mirror-pair merge.
    """
    e = trade_edges(tables, hs_level)
    g = edge_graph(e["src"], e["dst"], edge_attrs={
        "decl": e["decl"], "decls": e["decls"], "date": e["date"], "t": e["t"], "hs": e["hs"],
        "net_mass_kg": e["net_mass_kg"], "value_usd": e["value_usd"], "quantity": e["quantity"],
    })
    countries = trader_countries_of(tables, e)
    g.vs["country"] = [countries.get(n) for n in g.vs["name"]]
    return g


def money_graph(tables: Tables) -> "igraph.Graph":
    """The money-flow graph: a directed igraph multigraph, from_account -> to_account per
    payment. Vertices are BankAccounts (``name`` = account key, ``holder``); edges carry
    ``payment``, ``date``, ``t``, ``amount_usd``, ``src_holder``, ``dst_holder``."""
    e = money_edges(tables)
    g = edge_graph(e["src"], e["dst"], edge_attrs={
        "payment": e["payment"], "date": e["date"], "t": e["t"], "amount_usd": e["amount_usd"],
        "src_holder": e["src_holder"], "dst_holder": e["dst_holder"],
    })
    holders = account_holders(tables)
    g.vs["holder"] = [holders.get(n) for n in g.vs["name"]]
    return g


def carrier_use(tables: Tables) -> "igraph.Graph":
    """Bipartite undirected igraph Trader - Carrier, one edge per pair that used each other.

    Vertices: ``name`` (``"Label:key"``), ``label`` (Trader or Carrier), ``key``, ``type``
    (False for traders, True for carriers); edges: ``shipments`` (declarations), ``decls``.
    """
    u = carrier_use_table(tables)
    g = edge_graph(u["trader_id"], u["carrier_id"], src_label="Trader", dst_label="Carrier", directed=False,
                   edge_attrs={"shipments": u["shipments"], "decls": u["decls"]})
    g.vs["type"] = [lab == "Carrier" for lab in g.vs["label"]]
    return g


def ownership_and_identifiers(tables: Tables) -> "igraph.Graph":
    """Officers and shared identifiers as one undirected igraph.

    Vertices are named ``"{label}:{key}"`` (attributes ``label``, ``key``): Persons, Traders,
    Carriers and the Address / Phone / Email nodes they share. Edges, officers first: ``type``
    = OFFICER_OF (with ``role``, ``share_pct``), LOCATED_AT, HAS_PHONE or HAS_EMAIL.
    """
    off = officer_table(tables)
    ids = identifier_links(tables)
    rel_of = {lab: rel for rel, (lab, _) in ID_RELS.items()}
    return edge_graph(
        np.concatenate([off["officer"].to_numpy(dtype=object), ids["key"].to_numpy(dtype=object)]),
        np.concatenate([off["company"].to_numpy(dtype=object), ids["id_key"].to_numpy(dtype=object)]),
        src_label=np.concatenate([off["officer_label"].to_numpy(dtype=object), ids["label"].to_numpy(dtype=object)]),
        dst_label=np.concatenate([off["company_label"].to_numpy(dtype=object),
                                  ids["id_label"].to_numpy(dtype=object)]),
        directed=False,
        edge_attrs={"type": ["OFFICER_OF"] * len(off) + [rel_of[x] for x in ids["id_label"]],
                    "role": list(off["role"]) + [None] * len(ids),
                    "share_pct": list(off["share_pct"]) + [None] * len(ids)})


def projection_graph(tables: Tables, projection: str = "trade") -> "igraph.Graph":
    """The graph a community or centrality measure runs on, as a python-igraph ``Graph``.

    ``trade``: Traders, an edge exporter -> importer per pair with ``weight`` = shipments
    (mirror declarations merged). ``money``: BankAccounts, from -> to with ``weight`` =
    payments. ``carrier``: Traders and Carriers, ``weight`` = declarations. ``ownership``:
    Persons, Traders, Carriers and the addresses, phones and emails they share (undirected).
    ``all``: every node and relationship of the store (records included, Country and alerts
    left out), as stored.

    Vertices carry ``label``, ``key``, ``name`` (``"Label:key"``) and ``record`` (True for
    declarations, payments and cash reports); edges carry ``weight``. Directed except
    ``carrier`` and ``ownership``.

    Cost: the feature table of the projection (cached per ``Tables``) and a sort of its
    edges; ``all`` reads the adjacency index (:func:`~graphiff.graph.index.graph_index`).
    """
    if projection not in PROJECTIONS:
        raise GraphiffError(f"unknown projection {projection!r}; choose one of: {', '.join(PROJECTIONS)}")
    if projection in ("trade", "money"):
        e = trade_edges(tables) if projection == "trade" else money_edges(tables)
        label = "Trader" if projection == "trade" else "BankAccount"
        w = e.groupby(["src", "dst"], sort=True).size().reset_index(name="weight")
        g = edge_graph(w["src"], w["dst"], src_label=label, dst_label=label,
                       edge_attrs={"weight": w["weight"].to_numpy(dtype=float).tolist()})
    elif projection == "carrier":
        g = carrier_use(tables)
        g.es["weight"] = [float(x) for x in g.es["shipments"]] if g.ecount() else []
    elif projection == "ownership":
        g = ownership_and_identifiers(tables)
        g.es["weight"] = [1.0] * g.ecount()
    else:
        idx = graph_index(tables)
        keep = ~idx.is_hub[idx.e_src] & ~idx.is_hub[idx.e_dst]
        s, d = idx.e_src[keep], idx.e_dst[keep]
        verts = np.unique(np.concatenate([s, d]))
        pos = np.full(idx.n, -1, dtype=np.int64)
        pos[verts] = np.arange(len(verts))
        g = _graph([str(k) for k in idx.node_key[verts]], pos[s], pos[d],
                   labels=np.asarray(idx.labels, dtype=object)[idx.node_label[verts]].tolist(),
                   edge_attrs={"weight": [1.0] * len(s)})
        g.vs["record"] = idx.is_record[verts].tolist()
        return g
    g.vs["record"] = [False] * g.vcount()
    return g

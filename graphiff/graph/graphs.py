"""Graph projections as python-igraph graphs, built from the feature tables of
:mod:`graphiff.graph.features` (trade flow, money flow, carrier use, ownership and shared
identifiers).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from graphiff.graph.features import (
    _ID_RELS,
    _trader_countries,
    account_holders,
    carrier_use_table,
    identifier_links,
    money_edges,
    officer_table,
    trade_edges,
)
from graphiff.graph.tables import Tables


def _igraph(names: list[str], src: np.ndarray, dst: np.ndarray, edge_attrs: dict, vertex_attrs: dict | None = None,
            directed: bool = True):
    import igraph as ig

    g = ig.Graph(n=len(names), edges=list(zip(src.tolist(), dst.tolist())), directed=directed)
    g.vs["name"] = list(names)
    for k, v in (vertex_attrs or {}).items():
        g.vs[k] = list(v)
    for k, v in edge_attrs.items():
        g.es[k] = list(v)
    return g


def _index(values: pd.Series, *more: pd.Series) -> tuple[list[str], list[np.ndarray]]:
    allv = pd.concat([values, *more], ignore_index=True)
    names = pd.unique(allv.astype("object"))
    pos = {n: i for i, n in enumerate(names)}
    return list(names), [s.map(pos).to_numpy(dtype="int64") for s in (values, *more)]


def trade_graph(tables: Tables, hs_level: int = 6):
    """The trader trade graph: a directed igraph multigraph, exporter -> importer per shipment.

    Vertices are Traders (attribute ``name`` = trader key, ``country``); edges carry ``decl``
    (representative declaration key), ``decls`` (mirror declarations merged into the shipment),
    ``date``, ``t`` (day number), ``hs`` (``hs_level`` digits), ``net_mass_kg``, ``value_usd``
    and ``quantity``. See :func:`trade_edges` for the mirror-pair merge.
    """
    e = trade_edges(tables, hs_level)
    names, (s, t) = _index(e["src"], e["dst"])
    countries = _trader_countries(tables, e)
    return _igraph(names, s, t, {
        "decl": e["decl"], "decls": e["decls"], "date": e["date"], "t": e["t"], "hs": e["hs"],
        "net_mass_kg": e["net_mass_kg"], "value_usd": e["value_usd"], "quantity": e["quantity"],
    }, {"country": [countries.get(n) for n in names]})


def money_graph(tables: Tables):
    """The money-flow graph: a directed igraph multigraph, from_account -> to_account per
    payment. Vertices are BankAccounts (``name`` = account key, ``holder``); edges carry
    ``payment``, ``date``, ``t``, ``amount_usd``, ``src_holder``, ``dst_holder``."""
    e = money_edges(tables)
    names, (s, t) = _index(e["src"], e["dst"])
    holders = account_holders(tables)
    return _igraph(names, s, t, {
        "payment": e["payment"], "date": e["date"], "t": e["t"], "amount_usd": e["amount_usd"],
        "src_holder": e["src_holder"], "dst_holder": e["dst_holder"],
    }, {"holder": [holders.get(n) for n in names]})


def carrier_use(tables: Tables):
    """Bipartite undirected igraph Trader - Carrier. Vertices: ``name`` (key), ``label``
    (Trader or Carrier), ``type`` (False for traders, True for carriers); edges: ``shipments``
    (declarations), ``decls``."""
    u = carrier_use_table(tables)
    tr = list(pd.unique(u["trader_id"].astype("object")))
    ca = list(pd.unique(u["carrier_id"].astype("object")))
    pos_t = {k: i for i, k in enumerate(tr)}
    pos_c = {k: len(tr) + i for i, k in enumerate(ca)}
    s = u["trader_id"].map(pos_t).to_numpy(dtype="int64")
    t = u["carrier_id"].map(pos_c).to_numpy(dtype="int64")
    return _igraph(tr + ca, s, t, {"shipments": u["shipments"], "decls": u["decls"]},
                   {"label": ["Trader"] * len(tr) + ["Carrier"] * len(ca),
                    "type": [False] * len(tr) + [True] * len(ca)}, directed=False)


def ownership_and_identifiers(tables: Tables):
    """Officers and shared identifiers as one undirected igraph.

    Vertices are named ``"{label}:{key}"`` (attributes ``label``, ``key``): Persons, Traders,
    Carriers and the Address / Phone / Email nodes they share. Edges: ``type`` = OFFICER_OF
    (with ``role``, ``share_pct``), LOCATED_AT, HAS_PHONE or HAS_EMAIL.
    """
    off = officer_table(tables)
    ids = identifier_links(tables)
    a = pd.concat([off["officer_label"] + ":" + off["officer"], ids["label"] + ":" + ids["key"]], ignore_index=True)
    b = pd.concat([off["company_label"] + ":" + off["company"], ids["id_label"] + ":" + ids["id_key"]], ignore_index=True)
    rel_of = {v: k for k, v in ((r, lab) for r, (lab, _) in _ID_RELS.items())}
    types = list(["OFFICER_OF"] * len(off)) + [rel_of[x] for x in ids["id_label"]]
    names, (s, t) = _index(a, b)
    roles = list(off["role"]) + [None] * len(ids)
    share = list(off["share_pct"]) + [None] * len(ids)
    return _igraph(names, s, t, {"type": types, "role": roles, "share_pct": share},
                   {"label": [n.split(":", 1)[0] for n in names], "key": [n.split(":", 1)[1] for n in names]},
                   directed=False)

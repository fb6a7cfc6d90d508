"""The analyst's view of a subgraph: records folded into aggregated links, labels filtered.

A :class:`~graphiff.graph.subgraph.Subgraph` from :func:`~graphiff.graph.select.select` shows
trade as it is filed -- Trader -> Declaration -> Trader -- and money as Account -> Payment ->
Account. :func:`aggregate` folds those records into one link per ordered pair of parties, as
the schema's ``aggregates`` say (``model.yaml``): ``TRADED_WITH`` exporter -> importer and
``PAID`` sending account -> receiving account, each with the number of records, the total
value in USD, the HS6 codes seen, the first and last date and the ids of the records, so a
circular trade reads A -> B -> C -> A. :func:`only_types` keeps the labels asked for, and
:func:`view` is the one pipeline the workbench and the CLI use: select, aggregate, filter.
"""
from __future__ import annotations

from typing import Any, Iterable

from graphiff.errors import GraphiffError
from graphiff.graph.select import select
from graphiff.graph.subgraph import SubEdge, Subgraph, SubNode
from graphiff.graph.tables import Tables
from graphiff.model import Aggregate, model
from graphiff.model.identity import rel_id
from graphiff.stores import Store

__all__ = ["aggregate", "only_types", "view", "record_ids_of"]


def _number(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if x == x and abs(x) != float("inf") else None


def _fold(sub: Subgraph, spec: Aggregate, nodes: dict[str, SubNode], keep: set[str]) -> tuple[list[SubEdge], set[str]]:
    """The aggregated links of one kind and the records they fold."""
    src_of: dict[str, str] = {}
    dst_of: dict[str, str] = {}
    for e in sub.edges:
        if e.type == spec.source:
            rec, party = (e.target, e.source) if nodes.get(e.target, _NO).label == spec.record else (e.source, e.target)
            src_of.setdefault(rec, party)
        elif e.type == spec.target:
            rec, party = (e.source, e.target) if nodes.get(e.source, _NO).label == spec.record else (e.target, e.source)
            dst_of.setdefault(rec, party)
    groups: dict[tuple[str, str], list[SubNode]] = {}
    for rec, a in src_of.items():
        b = dst_of.get(rec)
        if b is None or rec in keep or rec not in nodes or a not in nodes or b not in nodes:
            continue
        groups.setdefault((a, b), []).append(nodes[rec])
    links: list[SubEdge] = []
    folded: set[str] = set()
    for (a, b), recs in groups.items():
        recs.sort(key=lambda n: (str(n.props.get("date") or ""), n.id))
        dates = [str(n.props["date"])[:10] for n in recs if n.props.get("date")]
        values = [v for n in recs if (v := _number(n.props.get(spec.value))) is not None]
        props: dict[str, Any] = {"count": len(recs), "value_usd": round(sum(values), 2) if values else None,
                                 "first_date": min(dates) if dates else None,
                                 "last_date": max(dates) if dates else None,
                                 "record_ids": [n.id for n in recs]}
        if spec.codes:
            props[spec.codes] = sorted({str(c) for n in recs if (c := n.props.get(spec.codes)) not in (None, "")})
        na, nb = nodes[a], nodes[b]
        links.append(SubEdge(id=rel_id(spec.type, na.label, na.key, nb.label, nb.key), source=a, target=b,
                             type=spec.type, props={k: v for k, v in props.items() if v is not None}))
        folded.update(n.id for n in recs)
    return links, folded


_NO = SubNode(id="", label="", key="", caption="")


def aggregate(sub: Subgraph, keep: Iterable[str] = ()) -> Subgraph:
    """Fold the records of ``sub`` into aggregated links between their parties.

    Every record of an ``aggregates`` kind whose two parties are both in ``sub`` (a declaration
    with its exporter and importer; a payment with both accounts) is replaced, with all its
    relationships, by the link of its pair. A record stays as it is when it is in ``keep``
    (the analyst asked for it), when an alert in ``sub`` flags it (a valuation alert is about
    that declaration), or when a party is missing. Nodes left without any relationship by the
    folding -- a carrier or container seen only on folded declarations -- leave the view,
    seeds and hubs excepted (a hub stays, with its summary, to say where the walk stopped).

    Parameters
    ----------
    sub : Subgraph
        A subgraph as :func:`graphiff.graph.select.select` returns it (records included).
    keep : iterable of str
        Node ids of records not to fold.

    Returns
    -------
    Subgraph
        The same nodes minus the folded records, the remaining relationships, and one
        ``TRADED_WITH`` / ``PAID`` edge per ordered pair of parties with ``count``,
        ``value_usd``, ``first_date``, ``last_date``, ``record_ids`` (node ids, oldest first)
        and ``hs6`` (declarations). ``omitted``, ``hubs``, ``seeds`` and ``title``
        are kept.

    Examples
    --------
    >>> t = [SubNode(f"Trader:{k}", "Trader", k, k) for k in "AB"]
    >>> d = [SubNode(f"Declaration:D{i}", "Declaration", f"D{i}", f"D{i}",
    ...              {"date": f"2024-0{i}-01", "value_usd": 100.0 * i, "hs6": "851712"}) for i in (1, 2)]
    >>> e = [SubEdge(f"x{i}", "Trader:A", n.id, "EXPORTED") for i, n in enumerate(d)]
    >>> e += [SubEdge(f"m{i}", n.id, "Trader:B", "IMPORTED_BY") for i, n in enumerate(d)]
    >>> agg = aggregate(Subgraph(nodes=t + d, edges=e, seeds=["Trader:A"]))
    >>> [n.id for n in agg.nodes], [(x.source, x.type, x.target) for x in agg.edges]
    (['Trader:A', 'Trader:B'], [('Trader:A', 'TRADED_WITH', 'Trader:B')])
    >>> {k: agg.edges[0].props[k] for k in ("count", "value_usd", "first_date", "last_date", "hs6")}
    {'count': 2, 'value_usd': 300.0, 'first_date': '2024-01-01', 'last_date': '2024-02-01', 'hs6': ['851712']}

    Cost: O(nodes + edges) of ``sub``.
    """
    nodes = {n.id: n for n in sub.nodes}
    flagged_rec = {e.target for e in sub.edges if e.type == "FLAGS"}
    keep = set(keep) | flagged_rec
    links: list[SubEdge] = []
    folded: set[str] = set()
    for spec in model().aggregates.values():
        more, gone = _fold(sub, spec, nodes, keep)
        links += more
        folded |= gone
    if not folded:
        return sub
    edges = [e for e in sub.edges if e.source not in folded and e.target not in folded] + links
    linked_before = {x for e in sub.edges for x in (e.source, e.target)}
    linked_after = {x for e in edges for x in (e.source, e.target)}
    dropped = {n for n in linked_before - linked_after if n not in sub.seeds and n not in sub.hubs}
    kept = [n for n in sub.nodes if n.id not in folded and n.id not in dropped]
    return Subgraph(nodes=kept, edges=edges, omitted=dict(sub.omitted), seeds=list(sub.seeds), title=sub.title,
                    hubs={k: v for k, v in sub.hubs.items() if k not in folded and k not in dropped})


def only_types(sub: Subgraph, types: Iterable[str] | None) -> Subgraph:
    """Keep the nodes of ``types`` (and the seeds, and alerts) with the relationships between
    them; None keeps everything. Unknown labels raise :class:`GraphiffError`.

    >>> sub = Subgraph(nodes=[SubNode("Trader:A", "Trader", "A", "A"), SubNode("Phone:1", "Phone", "1", "1")],
    ...                edges=[SubEdge("h", "Trader:A", "Phone:1", "HAS_PHONE")])
    >>> [n.id for n in only_types(sub, ["Trader"]).nodes], only_types(sub, ["Trader"]).edges
    (['Trader:A'], [])

    Cost: O(nodes + edges).
    """
    if types is None:
        return sub
    wanted = {str(t) for t in types}
    for t in wanted:
        model().node(t)
    keep = {n.id for n in sub.nodes if n.label in wanted or n.label == "Alert" or n.id in sub.seeds}
    if len(keep) == len(sub.nodes):
        return sub
    return Subgraph(nodes=[n for n in sub.nodes if n.id in keep],
                    edges=[e for e in sub.edges if e.source in keep and e.target in keep],
                    omitted=dict(sub.omitted), seeds=list(sub.seeds), title=sub.title,
                    hubs={k: v for k, v in sub.hubs.items() if k in keep})


def record_ids_of(sub: Subgraph) -> list[str]:
    """The node ids of the records a view stands for: record nodes shown and the records under
    its aggregated links (what a timeline counts and an export re-selects)."""
    rec_labels = {a.record for a in model().aggregates.values()} | {"CashReport"}
    out = [n.id for n in sub.nodes if n.label in rec_labels]
    for e in sub.edges:
        if e.type in model().aggregates:
            out += list(e.props.get("record_ids", ()))
    return list(dict.fromkeys(out))


def view(store_or_tables: Store | Tables, seeds: Iterable[str] = (), *, alert: str | Iterable[str] | None = None,
         pattern: str | None = None, hops: int = 1, rel_types: list[str] | None = None,
         date_from: str | None = None, date_to: str | None = None, max_nodes: int = 500,
         types: list[str] | None = None, hub_limit: int | None = None, aggregated: bool = False) -> Subgraph:
    """What an analyst sees around seeds: :func:`~graphiff.graph.select.select` (same
    parameters), then :func:`aggregate` when ``aggregated`` (records given as ``seeds`` stay
    unfolded), then :func:`only_types`.

    The cap ``max_nodes`` counts the records before folding, so an aggregated view may show
    fewer nodes than the cap. Cost: that of ``select`` plus O(size of the subgraph).
    """
    if max_nodes < 1:
        raise GraphiffError("max_nodes must be at least 1")
    sub = select(store_or_tables, seeds, alert=alert, pattern=pattern, hops=hops, rel_types=rel_types,
                 date_from=date_from, date_to=date_to, max_nodes=max_nodes, types=types, hub_limit=hub_limit)
    if aggregated:
        asked = [str(s) for s in seeds]
        given = [i for i in sub.seeds if any(i == s or i.endswith(":" + s) for s in asked)]
        sub = aggregate(sub, keep=given)
    return only_types(sub, types)

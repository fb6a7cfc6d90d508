"""A case exported: as a subgraph (:func:`case_subgraph`, which a link chart in any format is
written from), or as a sharing package that carries the case's purpose, legal basis, marking and
id and names its recipient.

``graphiff case export`` and the workbench's ``/api/cases/{id}/export`` and ``/package`` call
these, so a case leaves graphiff the same way from both. The caller checks the user's right
(:func:`graphiff.casework.users.require`) and writes the audit entry.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Mapping, Sequence

from graphiff.alerts import Alert
from graphiff.errors import GraphiffError, NotFound
from graphiff.explore.evidence import evidence_parties, evidence_records
from graphiff.graph.index import GraphIndex, graph_index
from graphiff.graph.select import select
from graphiff.graph.subgraph import Subgraph
from graphiff.graph.tables import Tables
from graphiff.graph.view import aggregate as fold
from graphiff.share.package import make_package

__all__ = ["case_subgraph", "export_case_package"]


def _in_graph(idx: GraphIndex, ref: str) -> bool:
    """Whether the node id ``ref`` is in the graph (a case may name an entity gone since)."""
    try:
        return bool(idx.resolve(ref))
    except NotFound:
        return False


def case_subgraph(tables: Tables, case: Mapping[str, Any], alerts: Sequence[Alert], *,
                  aggregate: bool = True) -> Subgraph:
    """The case as a subgraph: its entities, the entities and evidence records of its alerts
    that the store still holds, and the Alert nodes; declarations and payments folded into
    ``TRADED_WITH`` / ``PAID`` links when ``aggregate`` (records the case names itself stay as
    nodes). The title is the case's id and name; nodes laid out on the canvas keep their place
    (``x``/``y`` properties are not written: charts lay out themselves).

    Parameters
    ----------
    tables : Tables
        The store's tables (the resolved view by default).
    case : mapping
        A case document (:func:`graphiff.casework.cases.get_case`).
    alerts : list of Alert
        The store's alerts (those of the case are picked by id; alerts no longer detected are
        not in the graph and are left out).

    Raises
    ------
    GraphiffError
        Nothing of the case is in the graph (an empty case, or its entities are gone).

    Cost: one index look-up per id, then :func:`graphiff.graph.select.select` with no walk.
    """
    idx = graph_index(tables)
    by_id = {a.id: a for a in alerts}
    mine = [by_id[a] for a in case.get("alerts") or [] if a in by_id]
    ents = [e for e in case.get("entities") or [] if _in_graph(idx, str(e))]
    records: list[str] = []
    for a in mine:
        records += evidence_records(tables, a) + evidence_parties(tables, a)
    seeds = list(dict.fromkeys([*ents, *records]))
    if not seeds and not mine:
        raise GraphiffError(f"case {case.get('id')} has nothing in the graph to export: add entities or alerts "
                            "that the store holds")
    sub = select(tables, seeds=seeds, alert=[a.id for a in mine] or None, hops=0,
                 max_nodes=len(seeds) + 4 * len(mine) + 200)
    if aggregate:
        kept = [i for i in ents if ":" in str(i)]
        sub = fold(sub, keep=kept)
    sub.title = f"{case.get('id')}: {case.get('name')}"
    return sub


def export_case_package(tables: Tables, case: Mapping[str, Any], alerts: Sequence[Alert], out: str | Path, *,
                        producer: str, recipient: str,
                        redact: Literal["none", "pseudonymise", "remove"] = "pseudonymise",
                        key: bytes | None = None, sub: Subgraph | None = None) -> dict[str, Any]:
    """Write the case as a sharing package to ``out`` and return its manifest, which carries
    the case's ``purpose``, ``legal_basis``, ``marking`` and id (``case``) and the
    ``recipient`` (required). Records are not folded (a partner imports records): ``sub`` is
    ``case_subgraph(tables, case, alerts, aggregate=False)``, made here unless the caller has it
    already (to audit its node ids)."""
    if not str(recipient or "").strip():
        raise GraphiffError("a package made from a case names its recipient")
    if sub is None:
        sub = case_subgraph(tables, case, alerts, aggregate=False)
    return make_package(sub, out, purpose=str(case.get("purpose") or ""), marking=str(case.get("marking") or ""),
                        producer=producer, redact=redact, key=key, alerts=list(alerts), store=tables,
                        recipient=recipient, legal_basis=str(case.get("legal_basis") or ""), case=str(case.get("id")))

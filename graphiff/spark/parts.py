"""Which records of a detector family can be examined apart: the parts Spark runs in parallel.

A :class:`Partitioning` names, per record label, the **part key** of a record (a Spark column
expression over that label's snapshot table and the detector's parameters), and the context
every part sees whole (the entities: traders, persons, officers...). The family's own function
runs once per part, on the part's records, the relationships that touch them and the context;
the union of the parts' alerts is the family's alerts. A partitioning is only right when the
family's definition never relates records of two parts: each entry says why that holds, and
``tests/spark`` checks the alerts against the embedded engine's on sample worlds.

Families without an entry are not on Spark (``graphiff detect --engine spark`` says so).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

from graphiff.errors import GraphiffError
from graphiff.graph.resolution import RESOLVABLE

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

#: ``fn(frame, params)``: the part key of each row of a record label's snapshot table, as a
#: column expression; or the table itself with a ``__part`` column added (after joins with
#: tables it computes, e.g. connected components), leaving out rows that can be in no alert
PartKey = Callable[["DataFrame", Mapping[str, Any]], "Column | DataFrame"]


@dataclass(frozen=True)
class Partitioning:
    """How one detector family's records split into independent parts.

    ``records``: record label -> part key (:data:`PartKey`); a relationship touching a
    record goes with it (its source end first; a relationship of a record left out is left
    out). ``context``: the other node labels and relationship types the family reads, given
    whole to every part (``SAME_AS`` and the resolvable labels are always added, so parts
    resolve entities as the store does).
    ``why``: the reason no alert spans two parts.
    """

    records: Mapping[str, PartKey]
    context: tuple[str, ...]
    why: str
    rel_context: tuple[str, ...] = field(default=())

    def context_nodes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.context, *RESOLVABLE)))

    def context_rels(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.rel_context, "SAME_AS")))


def _goods(column: str, level_param: str | None = None, level: int = 6) -> PartKey:
    """The first ``params[level_param]`` (else ``level``) digits of ``column``: one part per
    heading of goods ('' when unknown)."""
    def key(frame: "DataFrame", params: Mapping[str, Any]) -> "Column":
        from pyspark.sql import functions as F

        n = int(params[level_param]) if level_param else level
        return F.coalesce(F.substring(F.col(column).cast("string"), 1, n), F.lit(""))
    return key


PARTITIONINGS: dict[str, Partitioning] = {
    "circular_trade": Partitioning(
        records={"Declaration": _goods("hs6", "hs_level")},
        context=("Trader", "Person"),
        rel_context=("OFFICER_OF",),
        why="every hop of a cycle carries the same goods (HS code at hs_level digits), and a "
            "shipment merges declarations of one HS6 only: a cycle never leaves its heading"),
}


def partitioning(pattern: str) -> Partitioning:
    """The partitioning of detector ``pattern``; :class:`GraphiffError` when it is not on Spark."""
    try:
        return PARTITIONINGS[pattern]
    except KeyError:
        raise GraphiffError(f"{pattern} does not run on Spark yet; on Spark: {', '.join(sorted(PARTITIONINGS))} "
                            f"(run the others with the embedded engine)") from None

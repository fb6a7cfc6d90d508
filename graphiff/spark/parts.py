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
#: tables it computes, e.g. connected components), leaving out rows that can be in no alert;
#: or None: no record of the label goes to the parts (the family is given features instead)
PartKey = Callable[["DataFrame", Mapping[str, Any]], "Column | DataFrame | None"]


@dataclass(frozen=True)
class SnapshotView:
    """What a :data:`Narrow` may read besides the record table: the session, the snapshot and
    whether the run resolves entities."""

    spark: Any
    snapshot: str
    manifest: dict
    resolved: bool
    context_nodes: tuple[str, ...]
    context_rels: tuple[str, ...]


#: ``fn(frame, params, view)``: the rows of a record label's snapshot table that can be in an
#: alert at all (a conservative filter run in Spark before the parts are shipped)
Narrow = Callable[["DataFrame", Mapping[str, Any], SnapshotView], "DataFrame"]


@dataclass(frozen=True)
class GivenFeatures:
    """Features of :mod:`graphiff.graph.features` that a family reads instead of its records,
    computed on Spark over every record and given to the parts.

    ``rows(view, params)``: each feature's rows (by the feature function's name), with the
    ``__part`` of the part that needs them; a row several parts need comes once per part. None
    when the snapshot does not allow it (the family's records then go to the parts, by
    ``Partitioning.records``). ``args``: feature name -> its arguments for the family's
    parameters, as the detector calls it. A part's tables return the part's rows for that call
    (:func:`graphiff.graph.features.give_feature`); a feature with no row in a part is computed
    from the part's records, as always."""

    rows: Callable[[SnapshotView, Mapping[str, Any]], "Mapping[str, DataFrame] | None"]
    args: Mapping[str, Callable[[Mapping[str, Any]], tuple]]


@dataclass(frozen=True)
class Partitioning:
    """How one detector family's records split into independent parts.

    ``records``: record label -> part key (:data:`PartKey`); a relationship touching a
    record goes with it (its source end first; a relationship of a record left out is left
    out), unless it only repeats one of the record's columns (:func:`column_rels`).
    ``context``: the other node labels and relationship types the family reads, given whole to
    every part (``SAME_AS`` and the resolvable labels are always added, so parts
    resolve entities as the store does).
    ``why``: the reason no alert spans two parts. ``narrow``: record label -> a conservative
    filter (:data:`Narrow`) applied before the parts are made.

    ``owners``: entity label -> part key (:data:`PartKey`, over that label's snapshot table)
    of the part that **owns** each entity. Without it, a record is in one part and every
    part's alerts are the family's. With it, a key function may put a record in several parts
    (several rows, one ``__part`` each: a declaration goes to its exporter's part and to its
    importer's), and a part keeps only the alerts whose entities it owns, all of them: the
    other alerts it finds read only some of their records. The entities a part owns must be
    those whose alerts its records decide in full.
    """

    records: Mapping[str, PartKey]
    context: tuple[str, ...]
    why: str
    rel_context: tuple[str, ...] = field(default=())
    narrow: Mapping[str, Narrow] = field(default_factory=dict)
    owners: Mapping[str, PartKey] = field(default_factory=dict)
    #: ``fn(record frames by label, params) -> params``: parameters the family reads over every
    #: record (a statistic of all of them), computed once on Spark and given to every part
    shared: Callable[[Mapping[str, "DataFrame"], Mapping[str, Any]], Mapping[str, Any]] | None = None
    #: features the parts are given instead of the records they are computed from (:class:`GivenFeatures`)
    features: GivenFeatures | None = None

    def context_nodes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.context, *RESOLVABLE)))

    def context_rels(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.rel_context, "SAME_AS")))


def column_rels(label: str, columns: set[str]) -> set[str]:
    """The relationship types a record of ``label`` needs not take into its part, as its
    columns (``columns``) already say them (files.yaml ``emits``):

    - those its own input file writes from one of its columns (the other end a plain
      ``column``, not an identifier rule), when the record table has that column: such a
      relationship joins the record to the node its column names, and the detectors read it
      only where a store lacks the column (:mod:`graphiff.graph.features`);
    - those a file writes by a ``lookup`` of stored properties (``SETTLES``), at both ends, when
      the record table has one of the properties: the detectors apply the lookup to the
      properties themselves (:func:`graphiff.graph.features.settlements`).

    Leaving them out keeps the shuffle to the records.

    >>> sorted(column_rels("Payment", {"key", "from_account", "to_account", "invoice_no"}))
    ['RECEIVED_BY', 'SENT', 'SETTLES']
    >>> sorted(column_rels("Declaration", {"key", "exporter_id", "declaration_id"}))
    ['EXPORTED', 'SETTLES']
    """
    from graphiff.model import model

    out: set[str] = set()
    for f in model().files.values():
        for emit in f.emits:
            own, other = (emit.source, emit.target) if emit.source.is_key else (emit.target, emit.source)
            if not own.is_key:
                continue
            if other.lookup:
                if label in (f.label, *other.labels) and columns & set(other.lookup):
                    out.add(emit.type)
            elif f.label == label and other.column and not other.value and other.column in columns:
                out.add(emit.type)
    return out


def _goods(column: str, level_param: str | None = None, level: int = 6) -> PartKey:
    """The first ``params[level_param]`` (else ``level``) digits of ``column``: one part per
    heading of goods ('' when unknown)."""
    def key(frame: "DataFrame", params: Mapping[str, Any]) -> "Column":
        from pyspark.sql import functions as F

        n = int(params[level_param]) if level_param else level
        return F.coalesce(F.substring(F.col(column).cast("string"), 1, n), F.lit(""))
    return key


# mirror_discrepancy, undervaluation, overvaluation: the goods code merged across codes where
# mirror pairing can cross them (graphiff.spark.declaration_parts)
def _mirror_parts(frame: "DataFrame", params: Mapping[str, Any]) -> "DataFrame":
    """Mirror pairing's goods code (at ``match_hs``), merged where a document key can pair or
    count declarations of two codes: a pair's candidates, its greedy choice and an invoice's
    reuse count never span two parts (:func:`graphiff.spark.declaration_parts.mirror_parts`)."""
    from graphiff.spark.declaration_parts import mirror_parts

    return mirror_parts(frame, params)


def _valuation_parts(frame: "DataFrame", params: Mapping[str, Any]) -> "DataFrame":
    """The HS heading, merged like :func:`_mirror_parts`: the peer groups (HS6 x unit [x
    origin]), a round trip's legs (one heading as written) and a flagged export's mirror pair
    stay in one part (:func:`graphiff.spark.declaration_parts.valuation_parts`)."""
    from graphiff.spark.declaration_parts import valuation_parts

    return valuation_parts(frame, params)


# cash_structuring, third_party_payment: connected components of the records and what they
# share (graphiff.spark.link_parts)
def _cash_parts(frame: "DataFrame", params: Mapping[str, Any]) -> "DataFrame":
    """The component of each cash report in the graph of reports and their subjects (person,
    trader, account, the person's employers, the report id): the detector's groups are
    components of a subgraph of it (:func:`graphiff.spark.link_parts.cash_parts`)."""
    from graphiff.spark.link_parts import cash_parts

    return cash_parts(frame, params)


def _payment_parts(label: str) -> PartKey:
    """The component of each payment or declaration in the graph of payments, the declarations
    they settle, their payment ids and payer accounts: a verdict and an alert never leave one
    (:func:`graphiff.spark.link_parts.payment_parts`)."""
    from graphiff.spark.link_parts import payment_parts

    return payment_parts(label)


def _trade_cycle_candidates(frame: "DataFrame", params: Mapping[str, Any], view: SnapshotView) -> "DataFrame":
    """circular_trade: the declarations that may be hops of a cycle
    (:func:`graphiff.spark.trade_windows.cycle_candidates`, windowed by trader, goods and day)."""
    from graphiff.spark.trade_windows import cycle_candidates, spark_frame, trade_nodes

    nodes = trade_nodes(view.snapshot, view.manifest, params, resolved=view.resolved, labels=view.context_nodes,
                        rel_types=view.context_rels)
    return cycle_candidates(frame, spark_frame(view.spark, nodes), params)


# circular_payment: windowed-join pruning of the payments, then connected components of the
# payments left and the declarations they settle (graphiff.spark.cycles)
def _payment_cycle_parts(frame: "DataFrame", params: Mapping[str, Any]) -> "DataFrame":
    """The payments that may lie on a ring, keyed by their component: a ring's payments all
    survive the windowed pruning and are connected, so one part holds each ring
    (:func:`graphiff.spark.cycles.payment_cycle_part`)."""
    from graphiff.spark.cycles import payment_cycle_part

    return payment_cycle_part(frame, params)


def _settled_declaration_parts(frame: "DataFrame", params: Mapping[str, Any]) -> "DataFrame":
    """The declarations a kept payment settles, in that payment's component (the payments
    settling one declaration share a component): a ring's trade test reads them
    (:func:`graphiff.spark.cycles.settled_declaration_part`)."""
    from graphiff.spark.cycles import settled_declaration_part

    return settled_declaration_part(frame, params)


# shell_intermediary: a trader's declarations and payments (graphiff.spark.entity_parts)
def _trader_parts(label: str) -> PartKey:
    """The records of each trader, a record of two traders in both their parts: a trader's
    indicators read only its own purchases, sales and payments
    (:mod:`graphiff.spark.entity_parts`)."""
    def key(frame: "DataFrame", params: Mapping[str, Any]) -> "DataFrame":
        from graphiff.spark import entity_parts

        fn = {"Declaration": entity_parts.trader_declarations, "Payment": entity_parts.trader_payments,
              "Trader": entity_parts.trader_owner}[label]
        return fn(frame, params)
    return key


# linked_carriers: components of linked carriers, given their shipments, declaration counts and
# shared conveyances and containers (graphiff.spark.entity_parts)
def _carrier_parts(label: str) -> PartKey:
    """The owner of a carrier is its component of linked carriers; declarations go to no part
    (the parts are given :func:`_carrier_features`), unless they do not name their carrier and
    parties by column (:mod:`graphiff.spark.entity_parts`)."""
    def key(frame: "DataFrame", params: Mapping[str, Any]) -> "DataFrame | None":
        from graphiff.spark import entity_parts

        fn = {"Declaration": entity_parts.carrier_declaration_parts, "Carrier": entity_parts.carrier_owner}[label]
        return fn(frame, params)
    return key


def _carrier_features(view: SnapshotView, params: Mapping[str, Any]) -> "Mapping[str, DataFrame] | None":
    """Per component of linked carriers: its carriers' shipments by trader, their clients'
    total shipments, their declaration counts and first keys, the conveyances and containers
    linking them
    (:func:`graphiff.spark.entity_parts.carrier_features`)."""
    from graphiff.spark.entity_parts import carrier_features

    return carrier_features(view, params)


def _max_evidence(params: Mapping[str, Any]) -> tuple:
    return (int(params["max_evidence"]),)


def _cash_shared(frames: Mapping[str, "DataFrame"], params: Mapping[str, Any]) -> Mapping[str, Any]:
    """cash_structuring's ``rates`` over every report (its ``report_rates``: a median per
    currency), so that no part converts with the rates of its own reports only."""
    from graphiff.spark.link_parts import cash_rates

    return cash_rates(frames["CashReport"], params) if "CashReport" in frames else {}


PARTITIONINGS: dict[str, Partitioning] = {
    "circular_trade": Partitioning(
        records={"Declaration": _goods("hs6", "hs_level")},
        context=("Trader", "Person"),
        rel_context=("OFFICER_OF",),
        narrow={"Declaration": _trade_cycle_candidates},
        why="every hop of a cycle carries the same goods (HS code at hs_level digits), and a "
            "shipment merges declarations of one HS6 only: a cycle never leaves its heading"),
    "mirror_discrepancy": Partitioning(
        records={"Declaration": _mirror_parts},
        context=(),
        why="a mirror pair's two declarations name the same goods code or share a document key "
            "with one that names none, and an invoice number's reuse is counted across codes: "
            "the parts are the codes merged along those keys"),
    **{name: Partitioning(
        records={"Declaration": _valuation_parts},
        context=("Trader", "Person"),
        rel_context=("OFFICER_OF",),
        why="peer statistics are per HS6, a round trip's legs share an HS heading and a flagged "
            "pair is mirror pairing's: the parts are headings merged where pairing crosses them")
       for name in ("undervaluation", "overvaluation")},
    "cash_structuring": Partitioning(
        records={"CashReport": _cash_parts},
        shared=_cash_shared,
        context=("Rate",),
        rel_context=("OFFICER_OF",),
        why="a group is a connected component of just-below reports through shared subjects "
            "(person, trader, account, the person's employers); the parts are the components "
            "of all reports through those subjects"),
    "third_party_payment": Partitioning(
        records={"Payment": _payment_parts("Payment"), "Declaration": _payment_parts("Declaration")},
        context=("Trader",),
        rel_context=("OFFICER_OF",),
        why="a payment is judged on the declarations it settles and with the payments of its "
            "payment id, and alerted with its payer account's: the parts are the components "
            "of payments, settled declarations, payment ids and payer accounts"),
    "circular_payment": Partitioning(
        records={"Payment": _payment_cycle_parts, "Declaration": _settled_declaration_parts},
        context=(),
        rel_context=("HOLDS",),
        why="a ring's payments each have ring neighbours within the window at both ends and are "
            "connected, and its trade test reads only the declarations they settle: the parts "
            "are the components of the windowed-pruned payments and their settled declarations"),
    "shell_intermediary": Partitioning(
        records={"Declaration": _trader_parts("Declaration"), "Payment": _trader_parts("Payment")},
        owners={"Trader": _trader_parts("Trader")},
        context=("Trader", "Person", "Carrier", "BankAccount"),
        rel_context=("HOLDS", "LOCATED_AT", "HAS_PHONE", "HAS_EMAIL", "OFFICER_OF"),
        why="a trader's indicators read only its own purchases, sales and payments: a declaration "
            "goes to its exporter's and its importer's part, a payment to its payer's and payee's, "
            "and each part keeps the alerts of its own trader"),
    "linked_carriers": Partitioning(
        records={"Declaration": _carrier_parts("Declaration")},
        owners={"Carrier": _carrier_parts("Carrier")},
        features=GivenFeatures(rows=_carrier_features,
                               args={"carrier_shipments": lambda p: (), "trader_carried": lambda p: (),
                                     "carrier_declarations": _max_evidence,
                                     "carrier_identifiers": lambda p: ()}),
        context=("CashReport",),
        rel_context=("OFFICER_OF", "LOCATED_AT", "HAS_PHONE", "HAS_EMAIL", "FILED_BY"),
        why="a group of carriers never leaves its component of linked carriers, and reads "
            "declarations only through its carriers' shipments by trader, their clients' total "
            "shipments, their declaration counts and the values they share: each part is given "
            "those of its component; values too common to link are not given, as the detector "
            "drops them"),
}


def partitioning(pattern: str) -> Partitioning:
    """The partitioning of detector ``pattern``; :class:`GraphiffError` when it is not on Spark."""
    try:
        return PARTITIONINGS[pattern]
    except KeyError:
        raise GraphiffError(f"{pattern} does not run on Spark yet; on Spark: {', '.join(sorted(PARTITIONINGS))} "
                            f"(run the others with the embedded engine)") from None

"""Time-respecting payment cycles on Spark: windowed-join pruning, then connected components.

The circular payment family (:mod:`graphiff.detectors.circular_payment`) looks for rings of
payments in time order, all within ``window_days`` of the first, each amount within a band of
the previous one. A ring only relates the payments on it, plus the declarations those
payments settle (a ring made only of trade settlements is dropped). Spark does not search
rings itself: it finds which payments **can** be on one and splits them into independent
parts, and each part runs the family's own search (:func:`graphiff.graph.algorithms.temporal_cycles`)
on an executor.

1. :func:`payment_edges`: one row per payment that the family would read (amount, date and
   both accounts known), between **nodes** that contain the family's own cycle nodes (the
   account, or its holder, as entity resolution merges them): the connected components of the
   ``SAME_AS`` links that can merge records and, with ``by="holder"``, of the account-holder
   links. A node of Spark never splits a node of the family, so a ring of the family is a
   closed walk here.
2. :func:`prune_payments`: a windowed self-join, repeated: a payment is kept only if some
   payment enters its sender and some payment leaves its receiver at the times (and amounts)
   a ring would need them. The joins are equi-joins on (node, time bucket of ``window_days``
   days), so they shuffle by node and time, never a cross join, never a collect.
3. :func:`components`: weakly connected components of the payments left, joined with the
   declarations they settle (a declaration settled by payments of two components joins them),
   by min-label propagation with pointer jumping.

Every ring of the family survives step 2 (each of its payments has its neighbours on the ring)
and lies inside one component of step 3 (it is connected), together with every declaration
its payments settle: so the family's alerts are the union of its alerts on the parts
(``tests/spark`` checks it against the embedded engine). Steps 2 and 3 only ever keep too
much, never too little.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import pandas as pd

from graphiff.errors import GraphiffError
from graphiff.graph.resolution import LINKING

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

__all__ = ["snapshot_of", "payment_edges", "prune_payments", "components", "settlement_links",
           "cycle_parts", "payment_cycle_part", "settled_declaration_part"]

PART = "__part"
#: the characters ``str.strip`` removes (Java's Unicode white space plus the ASCII separators)
_STRIP = r"(?U)^[\s\x1c-\x1f]+|[\s\x1c-\x1f]+$"
#: relative slack on the amount band: float rounding may only keep a payment, never drop one
_SLACK = 1e-9


# ---------------------------------------------------------------------------------------------
# reading the snapshot
# ---------------------------------------------------------------------------------------------

def snapshot_of(frame: "DataFrame") -> str:
    """The snapshot folder a record table was read from
    (:func:`graphiff.spark.link_parts.snapshot_root`); :class:`GraphiffError` when it read none."""
    from graphiff.spark.link_parts import snapshot_root

    root = snapshot_root(frame)
    if root is None:
        raise GraphiffError("the record table was not read from a snapshot folder")
    return root


def _read(spark: "SparkSession", snapshot: str, kind: str, name: str) -> "DataFrame | None":
    """A kind of the snapshot as a Spark frame (None when the snapshot has none)."""
    from graphiff.graph.snapshot import read_manifest

    if name not in read_manifest(snapshot).get(kind, {}) or not (Path(snapshot) / kind / name).exists():
        return None
    return spark.read.parquet(str(Path(snapshot) / kind / name))


def _text(c: "Column") -> "Column":
    """:func:`graphiff.graph.columns.text_objects` in Spark: stripped text, blanks null."""
    from pyspark.sql import functions as F

    s = F.regexp_replace(c.cast("string"), _STRIP, "")
    return F.when(s != "", s)


def _number(c: "Column") -> "Column":
    """:func:`graphiff.graph.columns.num` in Spark: a double, null when not a number (NaN too)."""
    from pyspark.sql import functions as F

    x = c.try_cast("double")
    return F.when(~F.isnan(x), x)


def _day_numbers(c: "Column") -> "Column":
    """The day number of a payment date exactly as :func:`graphiff.graph.features.money_edges`
    reads it (the first ten characters, :func:`graphiff.graph.columns.day_numbers`), on the
    executors (a vectorised pandas function); null when it is no date."""
    from pyspark.sql.functions import pandas_udf

    from graphiff.graph.columns import day_numbers, text_objects

    @pandas_udf("long")  # type: ignore[call-overload]
    def days(s: pd.Series) -> pd.Series:
        d = text_objects(s).map(lambda v: None if v is None else v[:10])
        t = day_numbers(d) if len(d) else np.zeros(0, dtype=np.int64)
        out = pd.Series(t, dtype="Int64")
        return out.mask(out == np.iinfo(np.int64).min)

    return days(c.cast("string"))


# ---------------------------------------------------------------------------------------------
# 1. the payment edges between (over-approximating) nodes
# ---------------------------------------------------------------------------------------------

def _node_links(spark: "SparkSession", snapshot: str, by: str) -> "DataFrame | None":
    """Pairs of vertex ids (``a``, ``b``) that one cycle node of the family may contain together:
    accounts that ``SAME_AS`` may merge and, with ``by="holder"``, an account and its holder
    (``holder_id`` or ``HOLDS``) and holders that ``SAME_AS`` may merge. Accounts are ``a:<key>``,
    holders ``h:<key>`` (a holder named ``acct:<key>`` is also the holderless account's node).
    None when there are no such pairs."""
    from pyspark.sql import functions as F

    pairs: list[DataFrame] = []
    same = _read(spark, snapshot, "rels", "SAME_AS")
    if same is not None:
        same = same.where(F.col("status").isin(*LINKING))
        labels = ["BankAccount"] if by == "account" else ["BankAccount", "Trader", "Person"]
        for label in labels:
            p = "a:" if label == "BankAccount" else "h:"
            pairs.append(same.where((F.col("src_label") == label) & (F.col("dst_label") == label))
                         .select(F.concat(F.lit(p), _text(F.col("src"))).alias("a"),
                                 F.concat(F.lit(p), _text(F.col("dst"))).alias("b")))
    if by == "holder":
        held: list[DataFrame] = []  # account -> holder
        acc = _read(spark, snapshot, "nodes", "BankAccount")
        if acc is not None and "holder_id" in acc.columns:
            held.append(acc.select(F.concat(F.lit("a:"), _text(F.col("key"))).alias("a"),
                                   F.concat(F.lit("h:"), _text(F.col("holder_id"))).alias("b")))
        holds = _read(spark, snapshot, "rels", "HOLDS")
        if holds is not None:
            held.append(holds.select(F.concat(F.lit("a:"), _text(F.col("dst"))).alias("a"),
                                     F.concat(F.lit("h:"), _text(F.col("src"))).alias("b")))
        for h in held:  # a holder key that reads like the node of a holderless account is it too
            pairs.append(h)
            pairs.append(h.where(F.col("b").startswith("h:acct:"))
                         .select(F.concat(F.lit("a:"), F.expr("substring(b, 8)")).alias("a"), F.col("b")))
    if not pairs:
        return None
    out = pairs[0]
    for more in pairs[1:]:
        out = out.unionByName(more)
    return out.where(F.col("a").isNotNull() & F.col("b").isNotNull() & (F.col("a") != F.col("b"))).distinct()


def payment_edges(payments: "DataFrame", params: Mapping[str, Any], snapshot: str) -> "DataFrame":
    """The payments the circular payment family reads, as edges between nodes.

    Parameters
    ----------
    payments : DataFrame
        The snapshot's ``Payment`` table.
    params : mapping
        The family's parameters (``by``, ``min_amount_usd``).
    snapshot : str
        The snapshot folder (for ``SENT``/``RECEIVED_BY`` when the payments name no accounts,
        ``SAME_AS``, ``BankAccount`` and ``HOLDS``).

    Returns
    -------
    DataFrame
        ``payment`` (key), ``u``, ``v`` (node ids), ``t`` (day number), ``amt`` (USD), one row
        per payment (one per account named when a payment is known only from several ``SENT``
        or ``RECEIVED_BY`` relationships): the rows
        of :func:`graphiff.detectors.circular_payment.circular_payment_edges` (the same amount,
        date and account rules), except that a node is a connected component of
        :func:`_node_links` (it contains the family's node, resolved or not, and may contain
        more), so payments whose two ends share a node here are kept.

    Notes
    -----
    Cost: one scan of the payments, the day numbers computed on the executors, and with
    ``SAME_AS`` links (or ``by="holder"``) the components of the links (:func:`components`,
    over accounts and holders only) and one join per end.
    """
    from pyspark.sql import functions as F

    by = str(params.get("by", "account"))
    if by not in ("account", "holder"):
        raise GraphiffError(f"circular_payment.by must be 'account' or 'holder', not {by!r}")
    spark = payments.sparkSession
    p = payments.select(
        _text(F.col("key")).alias("payment"),
        *(_text(F.col(c)).alias(c) for c in ("from_account", "to_account") if c in payments.columns),
        F.col("date"), *(F.col(c) for c in ("amount", "amount_usd", "currency") if c in payments.columns))
    if "from_account" not in payments.columns or "to_account" not in payments.columns:  # as money_edges
        for c, rel, own, other in (("from_account", "SENT", "dst", "src"), ("to_account", "RECEIVED_BY", "src", "dst")):
            if c in p.columns:
                continue
            r = _read(spark, snapshot, "rels", rel)
            if r is None:
                p = p.withColumn(c, F.lit(None).cast("string"))
                continue
            # every account a relationship names (money_edges takes one of them: keeping them
            # all only keeps more)
            ends = r.select(_text(F.col(own)).alias("__k"), F.col(other).cast("string").alias("__o"))
            p = (p.join(ends, p["payment"] == ends["__k"], "left")
                 .withColumn(c, _text(F.col("__o"))).drop("__k", "__o"))
    amt = _number(F.col("amount_usd")) if "amount_usd" in p.columns else F.lit(None).cast("double")
    if "amount" in p.columns and "currency" in p.columns:
        usd = F.upper(_text(F.col("currency"))) == "USD"
        amt = F.coalesce(amt, F.when(usd, _number(F.col("amount"))))
    e = p.select("payment", F.col("from_account").alias("src"), F.col("to_account").alias("dst"),
                 _day_numbers(F.col("date")).alias("t"), amt.alias("amt"))
    keep = F.col("src").isNotNull() & F.col("dst").isNotNull() & F.col("t").isNotNull() & (F.col("amt") > 0)
    low = float(params.get("min_amount_usd") or 0.0)
    if low > 0:
        keep = keep & (F.col("amt") >= F.lit(low))
    e = e.where(keep)
    links = _node_links(spark, snapshot, by)
    e = e.withColumn("src", F.concat(F.lit("a:"), F.col("src"))).withColumn("dst", F.concat(F.lit("a:"), F.col("dst")))
    if links is None:
        return e.select("payment", F.col("src").alias("u"), F.col("dst").alias("v"), "t", "amt")
    node = components(links)
    for end, out in (("src", "u"), ("dst", "v")):
        m = node.select(F.col("vertex").alias(end), F.col("comp").alias(out))
        e = e.join(m, end, "left").withColumn(out, F.coalesce(F.col(out), F.col(end)))
    return e.select("payment", "u", "v", "t", "amt")


# ---------------------------------------------------------------------------------------------
# 2. windowed-join pruning
# ---------------------------------------------------------------------------------------------

def _neighbour_flags(e: "DataFrame", probe_end: str, other_end: str, window: int, lo: float, hi: float,
                     probe_is_later: bool) -> "DataFrame":
    """Per payment of ``e``: whether a payment of ``e`` meets it at its ``probe_end`` node
    (``other_end`` of the other payment = ``probe_end`` of this one), ``before`` (within
    ``window`` days before or on its day) and ``after`` (on its day or within ``window`` days
    after), each with the amount band when the neighbour is the ring's next or previous hop.
    An equi-join on (node, time bucket): each payment probes its bucket and the two next to it."""
    from pyspark.sql import functions as F

    w = max(int(window), 0)
    size = max(w, 1)
    probe = (e.select(F.col("payment"), F.col(probe_end).alias("n"), F.col("t"), F.col("amt"))
             .withColumn("b", F.explode(F.array(*[F.floor(F.col("t") / size) + F.lit(d) for d in (-1, 0, 1)]))))
    other = e.select(F.col(other_end).alias("n"), F.col("t").alias("t2"), F.col("amt").alias("amt2"),
                     F.floor(F.col("t") / size).alias("b"))
    j = probe.join(other, ["n", "b"]).where(F.abs(F.col("t2") - F.col("t")) <= w)
    before = (F.col("t2") <= F.col("t")) & (F.col("t2") >= F.col("t") - w)
    after = (F.col("t2") >= F.col("t")) & (F.col("t2") <= F.col("t") + w)
    if probe_is_later:  # the neighbour is the previous hop: this amount is in its band
        band = (F.col("amt") >= F.col("amt2") * lo) & (F.col("amt") <= F.col("amt2") * hi)
    else:  # the neighbour is the next hop: its amount is in this one's band
        band = (F.col("amt2") >= F.col("amt") * lo) & (F.col("amt2") <= F.col("amt") * hi)
    banded, free = (before, after) if probe_is_later else (after, before)
    return j.groupBy("payment").agg(F.max((banded & band).cast("int")).alias("banded"),
                                    F.max(free.cast("int")).alias("free"))


def prune_payments(e: "DataFrame", params: Mapping[str, Any], max_rounds: int = 8,
                   counts: list[int] | None = None) -> "DataFrame":
    """The payments of ``e`` (:func:`payment_edges`) that may lie on a ring of the family.

    A payment ``x -> y`` on day ``t`` is kept when the ring can go on at both ends:

    - first hop: a payment leaves ``y`` within ``window_days`` after ``t`` with an amount in
      the band of this one, and one enters ``x`` within ``window_days`` after ``t`` (the
      closing hop);
    - a middle hop: a payment in whose band this amount is entered ``x`` within
      ``window_days`` before ``t``, and one in this one's band leaves ``y`` after;
    - last hop: a payment in whose band this amount is entered ``x`` before, and one left
      ``y`` within ``window_days`` before ``t`` (the first hop).

    Every hop of a ring of the family is one of these, with its ring neighbours as witnesses
    (same-day hops included, a small slack on the band), so no ring loses a payment. Repeated
    on what is left until nothing changes or ``max_rounds``.

    Parameters
    ----------
    e : DataFrame
        ``payment``, ``u``, ``v``, ``t``, ``amt``.
    params : mapping
        ``window_days``, ``max_decay``, ``max_growth``.
    max_rounds : int, default 8
        Rounds of pruning at most (stopping early only keeps more).
    counts : list, optional
        Appended with the payment count before the first round and after each one.

    Returns
    -------
    DataFrame
        The rows of ``e`` kept (checkpointed).

    Notes
    -----
    Cost per round: two equi-joins of the payments with themselves on (node, bucket of
    ``window_days`` days), each payment probing three buckets: O(P + pairs of payments that
    meet at a node within the window), shuffled by node and time; then a count.
    """
    from pyspark.sql import functions as F

    w = int(params["window_days"])
    lo = (1.0 - float(params["max_decay"])) * (1.0 - _SLACK)
    hi = (1.0 + float(params["max_growth"])) * (1.0 + _SLACK)
    cur = e.localCheckpoint(eager=True)
    n = cur.count()
    if counts is not None:
        counts.append(n)
    for _ in range(max_rounds):
        if n == 0:
            break
        into = _neighbour_flags(cur, "u", "v", w, lo, hi, probe_is_later=True)  # payments entering u
        out = _neighbour_flags(cur, "v", "u", w, lo, hi, probe_is_later=False)  # payments leaving v
        f = (into.select("payment", F.col("banded").alias("in_band"), F.col("free").alias("in_after"))
             .join(out.select("payment", F.col("banded").alias("out_band"), F.col("free").alias("out_before")),
                   "payment"))
        ok = ((F.col("in_after") == 1) & (F.col("out_band") == 1)) | (
            (F.col("in_band") == 1) & ((F.col("out_band") == 1) | (F.col("out_before") == 1)))
        nxt = cur.join(f.where(ok).select("payment"), "payment", "left_semi").localCheckpoint(eager=True)
        m = nxt.count()
        if counts is not None:
            counts.append(m)
        cur = nxt
        if m == n:
            break
        n = m
    return cur


# ---------------------------------------------------------------------------------------------
# 3. connected components
# ---------------------------------------------------------------------------------------------

def components(pairs: "DataFrame", max_rounds: int = 100) -> "DataFrame":
    """Weakly connected components of an undirected graph given as its edges.

    Parameters
    ----------
    pairs : DataFrame
        ``a``, ``b``: string vertex ids, one row per edge (either direction; repeats are fine).
    max_rounds : int, default 100
        Rounds at most; a graph that has not settled by then raises :class:`GraphiffError`
        (never a wrong answer).

    Returns
    -------
    DataFrame
        ``vertex``, ``comp`` (the smallest vertex id of its component), one row per vertex of
        an edge (checkpointed).

    Notes
    -----
    Min-label propagation with pointer jumping: each round every vertex takes the smallest
    label among its own and its neighbours', then the label of that label (a label is always a
    vertex of the same component, no larger than the vertex). It settles when no label
    changes, after about the logarithm of the component diameters in rounds in practice (the
    diameter at most). Cost per round: a join of the edges with the labels, one of the labels
    with themselves, a count of the changes; O(E + V) shuffled. The rounds run on integers:
    the vertices are numbered first in the order of their ids (a sort of V, two joins of E)
    and named back at the end (two joins of V), 17 % faster than on the ids themselves for
    third-party payments' 1.7M vertices (BENCHMARKS.md).
    """
    from pyspark.sql import functions as F

    both = pairs.select("a", "b").unionByName(pairs.select(F.col("b").alias("a"), F.col("a").alias("b")))
    both = both.where(F.col("a").isNotNull() & F.col("b").isNotNull())
    # number the vertices in sorted order (monotonically_increasing_id rises with the sort), so
    # that the rounds join and compare integers, and the smallest number is the smallest id
    names = (both.select(F.col("a").alias("name")).distinct().orderBy("name")
             .withColumn("vertex", F.monotonically_increasing_id()).localCheckpoint(eager=True))
    both = (both.join(names.select(F.col("name").alias("a"), F.col("vertex").alias("va")), "a")
            .join(names.select(F.col("name").alias("b"), F.col("vertex").alias("vb")), "b")
            .select(F.col("va").alias("a"), F.col("vb").alias("b")).distinct().localCheckpoint(eager=True))
    label = names.select("vertex", F.col("vertex").alias("comp"))
    for _ in range(max_rounds):
        nb = (both.join(label.select(F.col("vertex").alias("b"), F.col("comp").alias("c")), "b")
              .groupBy(F.col("a").alias("vertex")).agg(F.min("c").alias("c")))
        step = (label.join(nb, "vertex", "left")
                .select("vertex", F.col("comp").alias("old"),
                        F.least(F.col("comp"), F.coalesce(F.col("c"), F.col("comp"))).alias("comp")))
        jump = step.select(F.col("vertex").alias("comp"), F.col("comp").alias("c2"))
        step = (step.join(jump, "comp", "left")
                .select("vertex", "old", F.least(F.col("comp"), F.coalesce(F.col("c2"), F.col("comp"))).alias("comp"))
                .localCheckpoint(eager=True))
        label = step.select("vertex", "comp")
        if step.where(F.col("comp") != F.col("old")).limit(1).count() == 0:
            return (label.join(names, "vertex")
                    .join(names.select(F.col("vertex").alias("comp"), F.col("name").alias("comp_name")), "comp")
                    .select(F.col("name").alias("vertex"), F.col("comp_name").alias("comp"))
                    .localCheckpoint(eager=True))
    raise GraphiffError(f"connected components did not settle in {max_rounds} rounds")


# ---------------------------------------------------------------------------------------------
# settlements and the parts
# ---------------------------------------------------------------------------------------------

def _settles_props() -> tuple[str, ...]:
    """The properties a payment's ``SETTLES`` is matched on, from the input contract
    (:func:`graphiff.graph.features.settlements`)."""
    from graphiff.model import model

    for emit in model().files["payments"].emits:
        if emit.type == "SETTLES":
            return tuple(emit.target.lookup)
    return ()


def settlement_links(payments: "DataFrame", declarations: "DataFrame | None", kept: "DataFrame") -> "DataFrame | None":
    """Which declarations the ``kept`` payments settle and the family may read: the pairs of
    :func:`graphiff.graph.features.settlements_of` (the lookup rule of the input contract,
    :func:`graphiff.model.lookup.match_by_lookup`: a payment's first lookup property that it
    has, matched on equal stripped text), of declarations with an exporter, an importer and a
    positive value (:func:`graphiff.detectors.circular_payment.trade_settlements` reads no
    other).

    Returns ``payment``, ``declaration`` (keys), or None when nothing can match. Cost: one
    equi-join of the kept payments' lookup values with the declarations'."""
    from pyspark.sql import functions as F

    props = [c for c in _settles_props() if c in payments.columns]
    if declarations is None or not props:
        return None
    chosen = None  # (property, value) of the first lookup property the payment has
    for c in reversed(props):
        here = F.when(_text(F.col(c)).isNotNull(), F.struct(F.lit(c).alias("prop"), _text(F.col(c)).alias("val")))
        chosen = here if chosen is None else F.coalesce(here, chosen)
    pay = (payments.select(_text(F.col("key")).alias("payment"), chosen.alias("m"))  # type: ignore[union-attr]
           .join(kept.select("payment"), "payment", "left_semi")
           .select("payment", F.col("m.prop").alias("prop"), F.col("m.val").alias("val"))
           .where(F.col("prop").isNotNull()))
    d = declarations
    need = all(c in d.columns for c in ("exporter_id", "importer_id", "value_usd"))
    if not need:
        return None
    d = d.where(_text(F.col("exporter_id")).isNotNull() & _text(F.col("importer_id")).isNotNull()
                & (_number(F.col("value_usd")) > 0))
    sides = [d.select(_text(F.col("key")).alias("declaration"), F.lit(c).alias("prop"), _text(F.col(c)).alias("val"))
             for c in props if c in d.columns]
    if not sides:
        return None
    dv = sides[0]
    for s in sides[1:]:
        dv = dv.unionByName(s)
    dv = dv.where(F.col("val").isNotNull() & F.col("declaration").isNotNull())
    return pay.join(dv, ["prop", "val"]).select("payment", "declaration").distinct()


_PARTS: dict[tuple, tuple["DataFrame", "DataFrame | None", dict[str, Any]]] = {}


def cycle_parts(payments: "DataFrame", params: Mapping[str, Any]
                ) -> tuple["DataFrame", "DataFrame | None", dict[str, Any]]:
    """The parts of the circular payment family: each payment that may lie on a ring, and each
    declaration such a payment settles, with the part it runs in.

    Parameters
    ----------
    payments : DataFrame
        The snapshot's ``Payment`` table (the snapshot is found from its files).
    params : mapping
        The family's parameters (defaults merged).

    Returns
    -------
    (payments, declarations, stats)
        ``key``, ``__part`` per kept payment; the same per declaration to send along (None
        when ``trade_match`` is None: no declaration is read); ``stats``: ``payments`` (read),
        ``rounds`` (payment counts after each pruning round), ``kept``, ``parts``,
        ``largest_part`` (payments). Computed once per snapshot and parameters in a session.

    Notes
    -----
    Cost: :func:`payment_edges`, :func:`prune_payments`, :func:`settlement_links` and
    :func:`components` over the kept payments and their declarations; a few small actions
    (counts) on the driver, no rows collected.
    """
    from pyspark.sql import functions as F

    snapshot = snapshot_of(payments)
    spark = payments.sparkSession
    keyed = (snapshot, id(spark), *sorted((k, repr(v)) for k, v in params.items()))
    if keyed in _PARTS:
        return _PARTS[keyed]
    counts: list[int] = []
    kept = prune_payments(payment_edges(payments, params, snapshot), params, counts=counts)
    pairs = kept.select(F.col("u").alias("a"), F.col("v").alias("b"))
    links = None
    if params.get("trade_match") is not None:
        links = settlement_links(payments, _read(spark, snapshot, "nodes", "Declaration"), kept)
    if links is not None:
        links = links.localCheckpoint(eager=True)
        settled = links.join(kept.select("payment", "u"), "payment")
        pairs = pairs.unionByName(settled.select(F.col("u").alias("a"),
                                                 F.concat(F.lit("d:"), F.col("declaration")).alias("b")))
    comp = components(pairs)
    pay = (kept.join(comp.select(F.col("vertex").alias("u"), F.col("comp").alias(PART)), "u")
           .select(F.col("payment").alias("key"), PART).distinct().localCheckpoint(eager=True))
    dec = None
    if links is not None:
        dec = (links.select(F.concat(F.lit("d:"), F.col("declaration")).alias("vertex"),
                            F.col("declaration").alias("key")).distinct()
               .join(comp, "vertex").select("key", F.col("comp").alias(PART)).localCheckpoint(eager=True))
    sizes = pay.groupBy(PART).count()
    top = sizes.agg(F.count("*").alias("parts"), F.max("count").alias("largest")).first()
    stats = {"payments": counts[0], "rounds": counts[1:], "kept": counts[-1],
             "parts": int(top["parts"] or 0) if top else 0, "largest_part": int(top["largest"] or 0) if top else 0,
             "declarations": dec.count() if dec is not None else 0}
    _PARTS.clear()  # one family run at a time: keep one result
    _PARTS[keyed] = (pay, dec, stats)
    return _PARTS[keyed]


def payment_cycle_part(frame: "DataFrame", params: Mapping[str, Any]) -> "DataFrame":
    """Part key of the circular payment family's ``Payment`` records: the payments that may
    lie on a ring (:func:`prune_payments`) with ``__part``, the connected component of the
    kept payments and the declarations they settle (:func:`cycle_parts`). The parts are
    independent: a ring's payments are all kept and connected, and the declarations judging
    them go with them; a payment left out is on no ring. Cost: :func:`cycle_parts`."""
    from pyspark.sql import functions as F

    pay, _, _ = cycle_parts(frame, params)
    return frame.withColumn("__k", _text(F.col("key"))).join(
        pay.withColumnRenamed("key", "__k"), "__k").drop("__k")


def settled_declaration_part(frame: "DataFrame", params: Mapping[str, Any]) -> "DataFrame":
    """Part key of the ``Declaration`` records the circular payment family reads: each
    declaration a kept payment settles goes to that payment's part (all the payments settling
    it are in one part, :func:`cycle_parts`); the others, and all of them when ``trade_match``
    is None, are read by no part. Needs the payments of the same snapshot (read from its
    folder). Cost: :func:`cycle_parts`, shared with :func:`payment_cycle_part`."""
    from pyspark.sql import functions as F

    snapshot = snapshot_of(frame)
    payments = _read(frame.sparkSession, snapshot, "nodes", "Payment")
    if payments is None:
        return frame.limit(0).withColumn(PART, F.lit(None).cast("string"))
    _, dec, _ = cycle_parts(payments, params)
    if dec is None:
        return frame.limit(0).withColumn(PART, F.lit(None).cast("string"))
    return frame.withColumn("__k", _text(F.col("key"))).join(
        dec.withColumnRenamed("key", "__k"), "__k").drop("__k")

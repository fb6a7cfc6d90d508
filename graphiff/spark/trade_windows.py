"""Circular trade on Spark: the shipments that can lie on a time-respecting cycle, found with
windowed joins partitioned by trader and goods, before the search itself.

A hop of a cycle needs a hop into its exporter and a hop out of its importer, in the same goods
heading, within the cycle's span of days (the hop into the exporter of the first hop is the
cycle's last hop: later, not earlier). :func:`cycle_candidates` keeps the declarations whose
shipment has both (or is a related-party hop, which the related-party search reads as is), in
rounds until nothing more drops, as Spark window aggregates over ``(node, heading)`` ordered by
day: no pair of shipments is ever materialised, so a trader with thousands of shipments costs
a sort, not a square. Only the survivors are shipped to the executors that run the family's own
search (:func:`graphiff.detectors.circular_trade.circular_trade`) per heading.

The pruning is conservative, so the alerts do not change:

* nodes are the search's own (:func:`trade_nodes`: the resolved trader, then its related-party
  group, computed by the family's functions on the snapshot's entities);
* the day range is the search's window either side of the hop (``window_days`` from the first
  hop to the last, ``import_lag_days`` of an import-only shipment) widened by two lags and two
  days;
* declarations are kept or dropped by ``(exporter node, importer node, HS6)``, the unit inside
  which the family merges declarations into one shipment (same document; one-sided export and
  import), so every merge it makes on the whole data it makes on the survivors.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

import pandas as pd

from graphiff.graph.parties import related_party_groups
from graphiff.graph.snapshot import read_kind
from graphiff.graph.tables import Tables

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["trade_nodes", "cycle_candidates", "spark_frame"]

MAX_ROUNDS = 12


def trade_nodes(snapshot: str, manifest: dict, params: Mapping[str, Any], *, resolved: bool,
                labels: tuple[str, ...], rel_types: tuple[str, ...]) -> pd.DataFrame:
    """Trader record key -> the node the circular-trade search puts it on: its resolved id
    (with ``resolved``), then its related-party group when ``related_parties`` (the family's
    own :func:`graphiff.graph.parties.related_party_groups`). Columns ``key``, ``node``.

    Read from the snapshot's entity kinds ``labels`` / ``rel_types`` (the family's context).
    Cost: one read of the context and the family's grouping, O(entities + officers)."""
    nodes = {n: read_kind(snapshot, manifest, "nodes", n) for n in labels}
    rels = {r: read_kind(snapshot, manifest, "rels", r) for r in rel_types}
    tables = Tables.from_frames(nodes=nodes, rels=rels, resolved=resolved)
    keys = nodes.get("Trader", pd.DataFrame(columns=["key"]))["key"].astype(str)
    res = tables.resolution
    ids = [res.of("Trader", k) for k in keys] if res else list(keys)
    groups: dict[str, str] = {}
    if bool(params.get("related_parties", True)):
        groups = related_party_groups(tables, tuple(params["related_roles"]), int(params["max_related"]))
    return pd.DataFrame({"key": list(keys), "node": [str(groups.get(i, i)) for i in ids]}, dtype=object)


def cycle_candidates(decl: "DataFrame", nodes: "DataFrame", params: Mapping[str, Any],
                     max_rounds: int = MAX_ROUNDS) -> "DataFrame":
    """The declarations of ``decl`` (a snapshot's Declaration table) that may be hops of a
    time-respecting trade cycle, as defined by the circular-trade parameters ``params``.

    Parameters
    ----------
    decl : pyspark DataFrame
        Declarations: ``key``, ``exporter_id``, ``importer_id``, ``hs6``, ``date``.
    nodes : pyspark DataFrame
        ``key`` -> ``node`` (:func:`trade_nodes`); a trader not in it is its own node.
    params : mapping
        ``hs_level``, ``window_days``, ``import_lag_days`` of the detector.
    max_rounds : int
        Pruning rounds at most; stopping early keeps more, never less.

    Returns
    -------
    pyspark DataFrame
        The rows of ``decl`` kept (same columns). Declarations without both parties, an HS6
        code or a date are dropped (the search never reads them).

    Cost: per round, two window aggregates (a sort of the shipments by node, heading and day)
    and two joins; the rounds stop when a round drops nothing.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    level = int(params["hs_level"])
    lag = int(params["import_lag_days"]) + 1
    window = int(params["window_days"])
    n = nodes.select(F.col("key").alias("_k"), F.col("node").alias("_n"))
    d = (decl.select("key", "exporter_id", "importer_id", "hs6", "date")
         .join(n, F.col("exporter_id") == F.col("_k"), "left")
         .withColumn("u", F.coalesce(F.col("_n"), F.col("exporter_id"))).drop("_k", "_n")
         .join(n, F.col("importer_id") == F.col("_k"), "left")
         .withColumn("v", F.coalesce(F.col("_n"), F.col("importer_id"))).drop("_k", "_n")
         .withColumn("hs", F.substring(F.col("hs6"), 1, level))
         .withColumn("t", F.datediff(F.to_date(F.substring(F.col("date"), 1, 10)), F.lit("1970-01-01")))
         .where(F.col("u").isNotNull() & F.col("v").isNotNull() & F.col("hs6").isNotNull()
                & F.col("t").isNotNull()))
    edges = d.select("u", "v", "hs6", "hs", "t").distinct().localCheckpoint()
    count = edges.count()
    for _ in range(max_rounds):
        out_rows = edges.select(F.col("u").alias("n"), "hs", "t", "u", "v", "hs6",
                                F.lit(0).alias("is_in"), F.lit(1).alias("is_out"), F.lit("out").alias("side"))
        in_rows = edges.select(F.col("v").alias("n"), "hs", "t", "u", "v", "hs6",
                               F.lit(1).alias("is_in"), F.lit(0).alias("is_out"), F.lit("in").alias("side"))
        span = Window.partitionBy("n", "hs").orderBy("t").rangeBetween(-(window + 2 * lag), window + 2 * lag)
        ev = (out_rows.unionByName(in_rows).withColumn("pred", F.sum("is_in").over(span))
              .withColumn("succ", F.sum("is_out").over(span)))
        keys = ["u", "v", "hs6", "hs", "t"]
        has_pred = ev.where((F.col("side") == "out") & (F.col("pred") > 0)).select(*keys)
        has_succ = ev.where((F.col("side") == "in") & (F.col("succ") > 0)).select(*keys)
        kept = has_pred.join(has_succ, keys, "inner").unionByName(
            edges.where(F.col("u") == F.col("v")).select(*keys))
        alive = kept.select("u", "v", "hs6").distinct()
        edges = edges.join(alive, ["u", "v", "hs6"], "left_semi").localCheckpoint()
        now = edges.count()
        if now == count:
            break
        count = now
    alive = edges.select("u", "v", "hs6").distinct()
    keep = d.join(alive, ["u", "v", "hs6"], "left_semi").select("key")
    return decl.join(keep, "key", "left_semi")


def spark_frame(spark: "SparkSession", frame: pd.DataFrame) -> "DataFrame":
    """A small pandas frame of text columns as a Spark DataFrame (an empty one keeps its columns)."""
    from pyspark.sql.types import StringType, StructField, StructType

    schema = StructType([StructField(c, StringType()) for c in frame.columns])
    return spark.createDataFrame(frame.astype(object).where(frame.notna(), None), schema=schema)

"""Running detector families on Spark: each family's own function over the parts of its records.

:func:`run_spark_detectors` is the Spark twin of :func:`graphiff.detectors.runner.run_detectors`:
same detectors, same parameters, same alerts, same write-back. For each family it reads the
snapshot's record tables into Spark, gives every record its part key
(:mod:`graphiff.spark.parts`), sends each relationship touching a record to the record's part
(a join on the record key), ships the rows of a part to one executor (``groupBy`` +
``applyInPandas``: a shuffle, not a collect), and runs the registered detector there on a
:class:`~graphiff.graph.tables.Tables` of the part's rows and the family's context (read by
the executor from the snapshot, once per Python worker). Only the alerts come back to the
driver.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

import pandas as pd

import graphiff.detectors  # noqa: F401  (importing registers every family)
from graphiff.alerts import Alert
from graphiff.detectors.registry import Detector
from graphiff.detectors.runner import (
    Progress,
    check_params,
    finish_alerts,
    resolve_detectors,
    write_back_alerts,
)
from graphiff.graph import features
from graphiff.graph.features import give_feature
from graphiff.graph.snapshot import MONTH, frame_from_json, read_kind, read_manifest, schema_of
from graphiff.graph.tables import Tables
from graphiff.spark.parts import Partitioning, SnapshotView, column_rels, partitioning

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["run_spark_detectors", "spark_patterns", "spark_detectors", "default_buckets", "ROWS_PER_BUCKET"]

PART = "__part"
OWNER = "owner"  # the kind of the rows naming the entities a part owns (Partitioning.owners)
FEATURE = "feature"  # the kind of the rows of a feature given to the parts (Partitioning.features)
ALERT_SCHEMA = "alert string"


def spark_patterns() -> list[str]:
    """The detector names that run on Spark."""
    from graphiff.spark.parts import PARTITIONINGS

    return sorted(PARTITIONINGS)


def spark_detectors(patterns: Iterable[str] | None = None) -> list[Detector]:
    """The detectors ``patterns`` names (default: every one on Spark); a name that is unknown,
    or whose family is not on Spark, raises :class:`GraphiffError` before anything starts."""
    dets = resolve_detectors(patterns or spark_patterns())
    for det in dets:
        partitioning(det.pattern)
    return dets


# ---------------------------------------------------------------------------------------------
# executor side
# ---------------------------------------------------------------------------------------------

_CONTEXT: dict[tuple, tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]] = {}
_SHARED: dict[tuple, dict] = {}


def _shared_memo(snapshot: str, pattern: str, params: dict[str, Any], resolved: bool) -> dict:
    """The memo a family's buckets share in one Python worker (:meth:`Tables.from_frames`,
    ``shared``): what a detector computes from the context alone (every account's holder,
    every company's officers...) is computed by the worker's first bucket, not by each."""
    key = (snapshot, pattern, json.dumps(params, sort_keys=True, default=str), resolved)
    if key not in _SHARED:
        _SHARED.clear()  # one family at a time
        _SHARED[key] = {}
    return _SHARED[key]


def _context(snapshot: str, manifest: dict, nodes: tuple[str, ...], rels: tuple[str, ...]
             ) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """The context tables of a family, read from the snapshot once per Python worker."""
    key = (snapshot, nodes, rels)
    if key not in _CONTEXT:
        _CONTEXT.clear()  # one family at a time: keep one context in memory
        _CONTEXT[key] = ({n: read_kind(snapshot, manifest, "nodes", n) for n in nodes},
                         {r: read_kind(snapshot, manifest, "rels", r) for r in rels})
    return _CONTEXT[key]


def _part_runner(pattern: str, params: dict[str, Any], snapshot: str, manifest: dict, plan: Partitioning,
                 resolved: bool):
    """The function ``applyInPandas`` runs per part: rows (``kind``, ``name``, ``payload`` JSON)
    -> the part's alerts as JSON. Rows repeated (a record of several parts in this bucket) are
    read once; with ``plan.owners``, only the alerts whose entities this bucket owns are kept
    (another part's entity may have only some of its records here). What the detector
    computes from the context alone is shared by the buckets a worker runs (:func:`_shared_memo`)."""
    def run(rows: pd.DataFrame) -> pd.DataFrame:
        from graphiff.detectors.registry import REGISTRY

        ctx_nodes, ctx_rels = _context(snapshot, manifest, plan.context_nodes(), plan.context_rels())
        nodes, rels = dict(ctx_nodes), dict(ctx_rels)
        owned: set[tuple[str, str]] = set()
        given: dict[str, pd.DataFrame] = {}
        own: set[tuple[str, str]] = set()
        # a record in several parts that share this bucket came once per part: keep one
        rows = rows.drop_duplicates(["kind", "name", "payload"])
        for (kind, name), g in rows.groupby(["kind", "name"], sort=False):
            if kind == OWNER:
                owned.update((str(name), str(k)) for k in g["payload"])
            elif kind == FEATURE:
                given[str(name)] = pd.DataFrame.from_records([json.loads(x) for x in g["payload"]])
            else:
                frame = frame_from_json(g["payload"], schema_of(manifest, kind, name))
                (nodes if kind == "nodes" else rels)[name] = frame
                own.add((str(kind), str(name)))
        det = REGISTRY[pattern]
        tables = Tables.from_frames(nodes=nodes, rels=rels, resolved=resolved, own=own,
                                    shared=_shared_memo(snapshot, pattern, params, resolved))
        if plan.features is not None:
            for name, frame in given.items():
                give_feature(tables, getattr(features, name), frame, *plan.features.args[name](params))
        found = det.fn(tables, **{**det.defaults, **params})
        if plan.owners:  # only the alerts of this bucket's own parts: the others saw part of their records
            found = [a for a in found if a.entities and all((e["label"], str(e["id"])) in owned for e in a.entities)]
        return pd.DataFrame({"alert": [json.dumps(a.to_dict(), sort_keys=True) for a in found]}, dtype=object)
    return run


# ---------------------------------------------------------------------------------------------
# driver side
# ---------------------------------------------------------------------------------------------

def _packed(spark: "SparkSession", snapshot: str, manifest: dict, plan: Partitioning,
            params: dict[str, Any], buckets: int | None, cores: int, resolved: bool, kept: list[Any]) -> Any:
    """One row per record or relationship of the family's record kinds: ``__part`` (the part
    key hashed into one of ``buckets``, by default :func:`default_buckets` of the records'
    part rows and ``cores``: parts that share a bucket run together, which the
    partitioning allows, as they never relate), ``kind``, ``name``, ``payload`` (the row as
    JSON). A record in several parts (its key function gave it several rows) comes once per
    part, with the relationships touching it, but for those its columns already say
    (:func:`graphiff.spark.parts.column_rels`). With ``plan.owners``, one more row per owned
    entity: kind ``owner``, its label as ``name`` and its key as ``payload``, in its part's
    bucket. With ``plan.features``, one row per row of a given feature in its part's bucket:
    kind ``feature``, the feature's name, the row as JSON (these rows count for the default
    buckets too). The rows come in as many Spark partitions as buckets (two buckets may share
    one), so the detector runs are that many tasks. The tables it persists are added to ``kept``
    (the caller unpersists them)."""
    from pyspark import StorageLevel
    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F

    def pack(frame: DataFrame, kind: str, name: str) -> DataFrame:
        cols = [c for c in frame.columns if c not in (MONTH, PART)]
        return frame.select(F.col(PART), F.lit(kind).alias("kind"), F.lit(name).alias("name"),
                            F.to_json(F.struct(*[F.col(f"`{c}`") for c in cols])).alias("payload"))

    frames: dict[str, DataFrame] = {}
    parted: dict[str, DataFrame] = {}
    view = SnapshotView(spark, snapshot, manifest, resolved, plan.context_nodes(), plan.context_rels())
    given = dict((plan.features.rows(view, params) or {}) if plan.features is not None else {})
    for name in given:
        given[name] = given[name].persist(StorageLevel.MEMORY_AND_DISK)
        kept.append(given[name])
    for label, key_of in plan.records.items():
        if label not in manifest["nodes"]:
            continue
        frame = spark.read.parquet(str(Path(snapshot) / "nodes" / label))
        if label in plan.narrow:
            frame = plan.narrow[label](frame, params, view)
        keyed = key_of(frame, params)
        if keyed is None:  # given as features instead
            continue
        frames[label] = keyed if isinstance(keyed, DataFrame) else frame.withColumn(PART, keyed)
        # the part of every record, computed once (a part key can be a long plan: windows,
        # components, clients): it sizes the buckets, and every relationship type touching the
        # label joins it
        parted[label] = (frames[label].select(F.col("key").alias("__key"), F.col(PART))
                         .persist(StorageLevel.MEMORY_AND_DISK))
        kept.append(parted[label])
    if not frames and not given:
        return None
    if buckets is None:
        buckets = default_buckets(sum(k.count() for k in (*parted.values(), *given.values())), cores)

    def bucket(column: str) -> Any:
        return F.pmod(F.xxhash64(F.col(column)), F.lit(buckets))

    keys = {label: k.withColumn(PART, bucket(PART)) for label, k in parted.items()}
    parts = [pack(frame.withColumn(PART, bucket(PART)), "nodes", label) for label, frame in frames.items()]
    parts += [pack(frame.withColumn(PART, bucket(PART)), FEATURE, name) for name, frame in given.items()]
    for label, key_of in plan.owners.items():
        if label not in manifest["nodes"]:
            continue
        frame = spark.read.parquet(str(Path(snapshot) / "nodes" / label))
        keyed = key_of(frame, params)
        if keyed is None:
            continue
        frame = keyed if isinstance(keyed, DataFrame) else frame.withColumn(PART, keyed)
        parts.append(frame.select(bucket(PART).alias(PART),
                                  F.lit(OWNER).alias("kind"), F.lit(label).alias("name"),
                                  F.col("key").cast("string").alias("payload")))
    said = {label: column_rels(label, set(schema_of(manifest, "nodes", label).names)) for label in keys}
    for rel_type in manifest["rels"]:
        ends = manifest["rels"][rel_type].get("ends", [])
        touched = [(end, label) for i, end in enumerate(("src", "dst")) for label in keys
                   if any(pair[i] == label for pair in ends) and rel_type not in said[label]]
        if not touched:
            continue
        frame = spark.read.parquet(str(Path(snapshot) / "rels" / rel_type))
        joined = None
        for end, label in touched:
            side = frame.where(F.col(f"{end}_label") == label).join(
                keys[label], F.col(end) == F.col("__key"), "inner").drop("__key")
            if joined is not None:  # a relationship between two record kinds goes with its source
                side = side.join(joined.select("src", "dst", "_line"), ["src", "dst", "_line"], "left_anti")
            joined = side if joined is None else joined.unionByName(side)
        if joined is not None:
            parts.append(pack(joined, "rels", rel_type))
    out = parts[0]
    for p in parts[1:]:
        out = out.unionByName(p)
    # as many partitions as buckets, whatever their size: Spark's adaptive execution would merge
    # the partitions of a small shuffle (a family given features, or pruned to a few percent of
    # its records) into one task, and every detector run would then wait for one core
    return out.repartition(buckets, PART)


#: the records one detector run should hold, about: with buckets of this size the 10M world's
#: Python workers held up to 3 GB each, with the family's context (BENCHMARKS.md, "Detectors on Spark")
ROWS_PER_BUCKET = 150_000


def default_buckets(rows: int, cores: int) -> int:
    """How many buckets a family's parts are hashed into by default: 4 per core (``cores``: the
    session's ``spark.default.parallelism``), or one per :data:`ROWS_PER_BUCKET` of its
    ``rows`` (its records counted once per part they are in) when that is more.

    >>> default_buckets(1_000_000, 2), default_buckets(4_700_000, 2)
    (8, 32)
    """
    return max(4 * cores, -(-rows // ROWS_PER_BUCKET))


def run_spark_detectors(snapshot: str | Path, patterns: Iterable[str] | None = None,
                        params: dict[str, dict[str, Any]] | None = None, *, master: str | None = None,
                        conf: dict[str, str] | None = None, store: Any = None, write_back: bool = True,
                        resolved: bool = True, progress: Progress | None = None,
                        spark: "SparkSession | None" = None, buckets: int | None = None) -> list[Alert]:
    """Run detector families on Spark over a snapshot and return their alerts.

    Parameters
    ----------
    snapshot : path
        A snapshot folder (:func:`graphiff.graph.snapshot.write_snapshot`), readable by the
        driver and every executor (on a cluster: a shared file system, HDFS or object store
        mounted at the same path).
    patterns : list of str, optional
        Detector names; by default every family that runs on Spark
        (:func:`spark_patterns`). A family not on Spark raises :class:`GraphiffError`.
    params : dict, optional
        ``{detector: {param: value}}``, as for the embedded engine.
    master, conf : optional
        The Spark master (``local[*]`` by default) and settings
        (:func:`graphiff.spark.session.spark_session`); or pass a ready ``spark`` session.
    store : Store, optional
        Where the alerts are written back (as :func:`graphiff.detectors.runner.run_detectors`
        does) when ``write_back``.
    resolved : bool, default True
        Run on resolved entities (the snapshot's ``SAME_AS``), as the embedded engine does.
    progress : callable, optional
        ``progress(detector, "start" | "done", info)``, as for the embedded engine.
    buckets : int, optional
        Each family's parts are hashed into this many groups, each one detector run on an
        executor (default: :func:`default_buckets` of the family's records, counted once per
        part they are in). More buckets: smaller runs, more context rebuilt; the alerts are the
        same.

    Returns
    -------
    list of Alert
        Highest score first, ids made unique as the embedded engine makes them.

    Cost: per family, one scan of its record tables and of the relationships that touch them,
    one shuffle of those rows by part, and the family's own cost per part on the executors
    (parts run in parallel); each Python worker reads the family's context once.
    """
    snapshot = str(Path(snapshot).resolve())
    manifest = read_manifest(snapshot)
    dets = spark_detectors(patterns)
    plans = {d.pattern: partitioning(d.pattern) for d in dets}
    params = check_params(params)
    own = False
    if spark is None:
        from graphiff.spark.session import active_session, spark_session

        own = active_session() is None  # a session this call starts, it stops
        spark = spark_session(master, conf)
    cores = spark.sparkContext.defaultParallelism
    alerts: list[Alert] = []
    ran: list[str] = []
    try:
        for det in dets:
            if progress:
                progress(det.pattern, "start", {})
            t0 = time.perf_counter()
            p = {**det.defaults, **params.get(det.pattern, {})}
            plan = plans[det.pattern]
            if plan.shared is not None:
                frames = {label: spark.read.parquet(str(Path(snapshot) / "nodes" / label))
                          for label in plan.records if label in manifest["nodes"]}
                p = {**p, **plan.shared(frames, p)}
            found = list(_run_family(spark, snapshot, manifest, det.pattern, plans[det.pattern], p, resolved,
                                     buckets, cores))
            alerts.extend(found)
            ran.extend(det.patterns)
            if progress:
                progress(det.pattern, "done", {"alerts": len(found), "seconds": time.perf_counter() - t0})
    finally:
        if own:
            spark.stop()
    alerts = finish_alerts(alerts)
    if write_back and store is not None:
        write_back_alerts(store, alerts, ran, progress)
    return alerts


def _run_family(spark: "SparkSession", snapshot: str, manifest: dict, pattern: str, plan: Partitioning,
                params: dict[str, Any], resolved: bool, buckets: int | None, cores: int) -> Iterator[Alert]:
    kept: list[Any] = []
    try:
        packed = _packed(spark, snapshot, manifest, plan, params, buckets, cores, resolved, kept)
        if packed is None:
            return
        runner = _part_runner(pattern, dict(params), snapshot, manifest, plan, resolved)
        out = packed.groupBy(PART).applyInPandas(runner, ALERT_SCHEMA)
        # collect, not toLocalIterator: that runs one job per partition, one after another, so
        # the parts would run on one core; the alerts are small beside the records
        for row in out.collect():
            yield Alert.from_dict(json.loads(row["alert"]))
    finally:
        for frame in kept:
            frame.unpersist()

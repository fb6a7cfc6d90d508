"""What part keys that follow links need: the snapshot a record table was read from, the
family's context as the detectors see it, and connected components on Spark.

A family that groups records through what they share (a cash report's person, trader and
account; a payment's account and the declarations it settles) is split into the **connected
components** of the graph of records and the values they share: no group of the family can
span two components, however the family walks that graph. :func:`connected_components`
computes them on Spark DataFrames (min-label propagation with pointer jumping; no GraphFrames
jar). The links are made with the family's own functions on its own resolved view of the
records (:func:`resolved_batches`), so a part key never disagrees with the detector about
which values are equal.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping
from urllib.parse import unquote, urlparse

import pandas as pd

from graphiff.errors import GraphiffError
from graphiff.graph.columns import text_objects
from graphiff.graph.resolution import RESOLVABLE, Resolution, resolve_nodes
from graphiff.graph.snapshot import read_kind, read_manifest
from graphiff.graph.tables import Tables

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["snapshot_root", "context_tables", "resolved_batches", "connected_components", "part_of", "cash_parts",
           "payment_parts", "cash_rates", "EDGE_SCHEMA"]

#: the schema of an edge list: two node ids
EDGE_SCHEMA = "a string, b string"


def snapshot_root(frame: "DataFrame") -> str | None:
    """The snapshot folder a node or relationship table was read from (``.../nodes/<label>``
    or ``.../rels/<type>``), as a local path: the driver reads the context there, as the
    executors do (on a cluster, a shared file system mounted at the same path). None when the
    frame read no file (a kind without rows); :class:`GraphiffError` when the folder is not a
    snapshot the driver can read."""
    files = frame.inputFiles()
    if not files:
        return None
    uri = files[0]
    path = unquote(urlparse(uri).path) if uri.startswith("file:") else uri
    parts = Path(path).parts
    for i in range(len(parts) - 1, 0, -1):
        if parts[i] in ("nodes", "rels") and (Path(*parts[:i]) / "snapshot.json").exists():
            return str(Path(*parts[:i]))
    raise GraphiffError(f"{uri} is not in a snapshot folder the Spark driver can read: give the snapshot "
                        "as a path mounted at the same place on the driver and every executor")


def context_tables(root: str, nodes: tuple[str, ...] = (), rels: tuple[str, ...] = ()) -> Tables:
    """The resolved :class:`Tables` of a snapshot's context kinds (``nodes`` and ``rels``, plus
    the resolvable labels and ``SAME_AS``), as every part of a family sees them: read whole,
    as each executor reads them (the context is what one process holds)."""
    manifest = read_manifest(root)
    labels = tuple(dict.fromkeys((*nodes, *RESOLVABLE)))
    types = tuple(dict.fromkeys((*rels, "SAME_AS")))
    return Tables.from_frames(nodes={n: read_kind(root, manifest, "nodes", n) for n in labels},
                              rels={r: read_kind(root, manifest, "rels", r) for r in types})


def resolved_batch(b: pd.DataFrame, label: str, res: Resolution, columns: list[str]) -> pd.DataFrame:
    """A batch of ``label`` rows as the detector reads them: every one of ``columns`` (missing
    ones null), reference columns rewritten to resolved ids (the resolved view's own
    :func:`graphiff.graph.resolution.resolve_nodes`), index reset."""
    for c in columns:
        if c not in b.columns:
            b[c] = None
    return (resolve_nodes(label, b, res) if res else b).reset_index(drop=True)


def resolved_batches(frame: "DataFrame", label: str, res: Resolution, columns: list[str],
                     edges: Callable[[pd.DataFrame], pd.DataFrame]) -> "DataFrame":
    """``edges(batch)`` over ``frame`` in Arrow batches, where ``batch`` holds ``columns`` of
    the rows as the detector reads them: reference columns rewritten to resolved ids
    (:func:`graphiff.graph.resolution.resolve_nodes`, the resolved view's own function). Returns
    the union of the edge lists (:data:`EDGE_SCHEMA`)."""
    present = [c for c in columns if c in frame.columns]

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for b in batches:
            yield edges(resolved_batch(b, label, res, columns))[["a", "b"]].astype(object)
    return frame.select(*present).mapInPandas(run, EDGE_SCHEMA)


def connected_components(edges: "DataFrame", max_rounds: int = 200) -> "DataFrame":
    """``node``, ``comp`` for every node of the undirected graph ``edges`` (columns ``a``,
    ``b``): ``comp`` is the smallest node id of the node's component
    (:func:`graphiff.spark.cycles.components`, min-label propagation with pointer jumping).
    Cost: O((V + E) * rounds) shuffled rows, rounds about the log of the components' diameter.
    """
    from pyspark.sql import functions as F

    from graphiff.spark.cycles import components

    return components(edges, max_rounds).select(F.col("vertex").alias("node"), "comp")


def part_of(frame: "DataFrame", node: Any, comps: "DataFrame", part: str = "__part") -> "DataFrame":
    """``frame`` with ``part`` = the component of each row's node (the column expression
    ``node``); rows whose node is in no component are left out."""
    from pyspark.sql import functions as F

    keyed = frame.withColumn("__node", node)
    return (keyed.join(comps.select(F.col("node").alias("__node"), F.col("comp").alias(part)), "__node", "inner")
            .drop("__node"))


# ---------------------------------------------------------------------------------------------
# the families
# ---------------------------------------------------------------------------------------------

_NS = "\x1f"  # between a node's kind and its value in a node id


def cash_parts(frame: "DataFrame", params: Mapping[str, Any]) -> "DataFrame":
    """``CashReport`` rows with ``__part``: the connected component of the report in the graph
    of reports and their subjects, the detector's own union-find over every report (not only
    the just-below ones): the subject keys of :func:`graphiff.detectors.cash_structuring.subject_keys`
    (person, trader, account as ``link_by`` names them, and the companies the person is an
    officer of, :func:`~graphiff.detectors.cash_structuring.officer_employers` on the context) and
    the report id (reports sharing one are one node of the detector's union-find).

    Why exact: the detector's groups are connected components of a subgraph of this graph
    (just-below reports and their subject keys), a report at or above the threshold joins the
    group of one of its own keys, and every filter before the grouping counts reports per
    subject key; so a group, its filters and its alert read reports of one component only.
    """
    from pyspark.sql import functions as F

    from graphiff.detectors.cash_structuring import officer_employers, subject_keys

    root = snapshot_root(frame)
    if root is None:
        return frame.withColumn("__part", F.col("key"))
    link_by = list(params.get("link_by") or ())
    links = [c for c in link_by if c in ("person_id", "trader_id", "account_id")]
    ctx = context_tables(root, rels=("OFFICER_OF",))
    employers: dict[str, list[str]] = {}
    if "officers" in link_by:
        off = ctx.rels("OFFICER_OF")
        if len(off):
            employers = officer_employers(ctx, set(off["src"].dropna().astype(str)))
    res = ctx.resolution

    def edges(b: pd.DataFrame) -> pd.DataFrame:
        from graphiff.graph.columns import text

        d = pd.DataFrame({"person_id": text(b["person_id"]), "trader_id": text(b["trader_id"]),
                          "account_id": text(b["account_id"], upper=True)})
        me = ("CashReport" + _NS) + b["key"].astype(str)
        rid = text(b["report_id"]).fillna(text(b["key"]))
        out = [pd.DataFrame({"a": me, "b": ("R" + _NS + rid.astype(object)).where(rid.notna(), me)})]
        keys = subject_keys(d, links, employers)
        if len(keys):
            rows = keys["row"].to_numpy()
            out.append(pd.DataFrame({"a": me.to_numpy(dtype=object)[rows],
                                     "b": [f"{c}{_NS}{v}" for c, v in keys["key"]]}))
        return pd.concat(out, ignore_index=True)

    cols = ["key", "report_id", "person_id", "trader_id", "account_id"]
    comps = connected_components(resolved_batches(frame, "CashReport", res, cols, edges))
    return part_of(frame, F.concat(F.lit("CashReport" + _NS), F.col("key").cast("string")), comps)


_PAYMENT_COMPONENTS: dict[tuple, "DataFrame"] = {}


def _lookup_values(b: pd.DataFrame, label: str, props: list[str], first_only: bool) -> pd.DataFrame:
    """``node`` (``label`` and key), ``prop``, ``value`` (as text): the values of the lookup
    properties ``props`` of a batch of records with a key; with ``first_only``, only each
    record's first property that has one (how a payment is matched:
    :func:`graphiff.model.lookup.match_by_lookup`)."""
    earlier = text_objects(b["key"]).isna().to_numpy()  # no key: matches nothing
    out = []
    for c in props:
        if c in b.columns:
            v = text_objects(b[c])
            has = v.notna().to_numpy()
            take = has & ~earlier
            out.append(pd.DataFrame({"node": (label + _NS) + b["key"][take].astype(str), "prop": c,
                                     "value": v[take]}, dtype=object))
            if first_only:
                earlier = earlier | has
    if not out:
        return pd.DataFrame({"node": [], "prop": [], "value": []}, dtype=object)
    return pd.concat(out, ignore_index=True)


def _payment_components(spark: Any, root: str) -> "DataFrame":
    """The components of the settlement graph (see :func:`payment_parts`), computed once per
    snapshot and Spark application for both record labels."""
    from pyspark.sql import functions as F

    from graphiff.detectors.third_party_payment import account_key
    from graphiff.graph.columns import text
    from graphiff.graph.features import settles_lookup

    stamp = (Path(root) / "snapshot.json").stat().st_mtime_ns
    memo = (root, stamp, spark.sparkContext.applicationId)
    if memo in _PAYMENT_COMPONENTS:
        return _PAYMENT_COMPONENTS[memo]
    _PAYMENT_COMPONENTS.clear()
    props = list(settles_lookup())
    res = context_tables(root).resolution
    pay = spark.read.parquet(str(Path(root) / "nodes" / "Payment"))
    dec = spark.read.parquet(str(Path(root) / "nodes" / "Declaration"))
    lookup = "node string, prop string, value string"

    def pay_lookup(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        # match_by_lookup: a payment is matched on the first lookup property it has
        return (_lookup_values(b, "Payment", props, first_only=True) for b in batches)

    def dec_lookup(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        return (_lookup_values(b, "Declaration", props, first_only=False) for b in batches)

    pcols = [c for c in ("key", *props) if c in pay.columns]
    dcols = [c for c in ("key", *props) if c in dec.columns]
    pairs = (pay.select(*pcols).mapInPandas(pay_lookup, lookup).alias("p")
             .join(dec.select(*dcols).mapInPandas(dec_lookup, lookup).alias("d"), ["prop", "value"])
             .select(F.col("p.node").alias("a"), F.col("d.node").alias("b")))

    def own(b: pd.DataFrame) -> pd.DataFrame:
        # what one payment groups with: its payment id (the verdict and the finding are per
        # payment id) and its payer account (the alert is per payer account)
        me = ("Payment" + _NS) + b["key"].astype(str)
        pid = text(b["payment_id"]).fillna(text(b["key"]))
        acct = account_key(b["from_account"])
        return pd.concat([
            pd.DataFrame({"a": me, "b": ("I" + _NS + pid.astype(object)).where(pid.notna(), me)}),
            pd.DataFrame({"a": me, "b": ("A" + _NS + acct.astype(object)).where(acct.notna(), me)}),
        ], ignore_index=True)

    settling = pay.join(pairs.select(F.col("a").alias("__node")).distinct(),
                        F.concat(F.lit("Payment" + _NS), F.col("key").cast("string")) == F.col("__node"),
                        "left_semi")
    edges = pairs.unionByName(resolved_batches(settling, "Payment", res,
                                               ["key", "payment_id", "from_account"], own))
    comps = connected_components(edges)
    _PAYMENT_COMPONENTS[memo] = comps
    return comps


def payment_parts(label: str) -> Callable[["DataFrame", Mapping[str, Any]], "DataFrame"]:
    """``Payment`` or ``Declaration`` rows (``label``) with ``__part``: the connected component
    of the record in the settlement graph: a payment is linked to the declarations it settles
    (:func:`graphiff.graph.features.settlements`' lookup rule, on the same normalised values),
    to its payment id and to its payer account (resolved, as the detector compares accounts).
    A payment that settles nothing and a declaration no payment settles are in no part: the
    detector reads neither.

    Why exact: the detector reads only settled pairs; a payment's verdict reads its own pairs
    and those of payments with its payment id; its finding goes to the alert of its payer
    account; the rest (holders, officers, trader countries) is context. Each of these stays in
    one component. Payment and Declaration get the same keys, so ``SETTLES`` (with its source
    payment) lands with its declaration.
    """
    def key(frame: "DataFrame", params: Mapping[str, Any]) -> "DataFrame":
        from pyspark.sql import functions as F

        root = snapshot_root(frame)
        if root is None:
            return frame.withColumn("__part", F.col("key")).limit(0)
        comps = _payment_components(frame.sparkSession, root)
        return part_of(frame, F.concat(F.lit(label + _NS), F.col("key").cast("string")), comps)
    return key


def cash_rates(frame: "DataFrame", params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters of ``cash_structuring`` read over every cash report (``frame``): its
    ``rates`` (:func:`graphiff.detectors.cash_structuring.report_rates`, the median of
    ``amount_usd / amount`` per currency), unless ``params`` give them. Each part passes them
    to the detector, which would otherwise take the median over its own reports only.

    The ratios are the detector's own (``report_amounts_usd`` per Arrow batch); the median is Spark's
    exact ``median`` (the mean of the two middle values of an even count, as pandas takes it).
    Cost: one scan and one aggregation by currency (each currency's distinct ratios in one task).
    """
    from pyspark.sql import functions as F

    from graphiff.detectors.cash_structuring import report_amounts_usd
    from graphiff.graph.columns import col, num, text

    if params.get("rates") is not None:
        return {}

    def ratios(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for b in batches:
            amt = num(col(b, "amount"))
            usd = report_amounts_usd(b)
            cur = text(col(b, "currency"), upper=True)
            ok = ((amt > 0) & (usd > 0) & cur.notna()).to_numpy(dtype=bool)
            yield pd.DataFrame({"currency": cur[ok].astype(str).to_numpy(dtype=object),
                                "ratio": (usd[ok] / amt[ok]).to_numpy(dtype="float64")})

    cols = [c for c in ("amount", "amount_usd", "usd_status", "currency") if c in frame.columns]
    med = (frame.select(*cols).mapInPandas(ratios, "currency string, ratio double")
           .groupBy("currency").agg(F.median("ratio").alias("rate")).collect())
    rates = {str(r["currency"]): float(r["rate"]) for r in med if r["rate"] is not None and r["rate"] > 0}
    rates["USD"] = 1.0
    return {"rates": rates}

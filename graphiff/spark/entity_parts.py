"""Part keys of the families whose alerts are about one entity or one group of entities:
``shell_intermediary`` (a trader) and ``linked_carriers`` (a group of carriers).

Their records are not split by goods or documents but by **whose** they are: a declaration is
the exporter's and the importer's, a payment its payer's and its payee's. Such a record goes
to several parts (:class:`graphiff.spark.parts.Partitioning` ``owners``), and each part keeps
only the alerts of the entities it owns, whose records it holds in full.

Every key is computed on the records as the detector reads them: reference columns rewritten
to resolved ids by the resolved view's own function
(:func:`graphiff.graph.resolution.resolve_nodes`, with the resolution of the snapshot's
``SAME_AS``, as every part computes it from its context), values folded by the detector's own
helpers, so a part key never disagrees with the detector about which ids or values are equal.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Mapping

import pandas as pd

from graphiff.graph.algorithms import UnionFind
from graphiff.graph.columns import text_objects
from graphiff.graph.resolution import Resolution, resolve_nodes
from graphiff.graph.snapshot import read_manifest, schema_of
from graphiff.spark.link_parts import context_tables, resolved_batch, snapshot_root

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["trader_declarations", "trader_payments", "trader_owner", "carrier_declarations", "carrier_owner",
           "CarrierPlan"]

PART = "__part"
KEYS_SCHEMA = "key string, __part string"


def _columns(root: str, kind: str, name: str) -> set[str]:
    """The columns of a snapshot kind (none when it is not in the snapshot)."""
    manifest = read_manifest(root)
    return set(schema_of(manifest, kind, name).names) if name in manifest.get(kind, {}) else set()


def _keyed(frame: "DataFrame", label: str, res: Resolution, columns: list[str],
           parts: Any) -> "DataFrame":
    """``frame`` with ``__part``, one row per part of each record: ``parts(batch)`` gives the
    ``key``, ``__part`` pairs of a batch of ``columns`` as the detector reads them (reference
    columns resolved); a record with no part is left out."""
    from pyspark.sql import functions as F

    present = [c for c in columns if c in frame.columns]

    def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for b in batches:
            keys = b["key"].astype(str).to_numpy(dtype=object)
            out = parts(resolved_batch(b, label, res, columns), keys)
            yield out[out[PART].notna()].drop_duplicates().astype(object)
    pairs = frame.select(*present).mapInPandas(run, KEYS_SCHEMA)
    return frame.join(pairs.withColumnRenamed("key", "__rkey"), F.col("key").cast("string") == F.col("__rkey"),
                      "inner").drop("__rkey")


# ---------------------------------------------------------------------------------------------
# shell_intermediary: a trader's purchases, sales and money
# ---------------------------------------------------------------------------------------------

def _one_part(frame: "DataFrame") -> "DataFrame":
    from pyspark.sql import functions as F

    return frame.withColumn(PART, F.lit(""))


def _traders_named(root: str) -> bool:
    """Whether declarations name their parties and payments their accounts by column (else the
    detector reads them from relationships, EXPORTED / IMPORTED_BY / SENT / RECEIVED_BY, and
    everything is one part)."""
    pay = _columns(root, "nodes", "Payment")
    return ({"exporter_id", "importer_id"} <= _columns(root, "nodes", "Declaration")
            and (not pay or {"from_account", "to_account"} <= pay))


def trader_declarations(frame: "DataFrame", params: Mapping[str, Any]) -> "DataFrame":
    """``Declaration`` rows with ``__part``: the resolved exporter and the resolved importer,
    a declaration naming two traders in both their parts.

    Why exact: every indicator of a trader reads the trader's own shipments only: its
    purchases (it is the importer) and sales (the exporter), merged into shipments of one
    exporter, importer and goods (:func:`graphiff.graph.features.trade_edges`), its
    pass-through pairs (a purchase and a sale of its own), its re-invoiced sales (it is the
    exporter), its sales count, its first trade and the country a shipment names for it;
    the rest is context (traders, accounts, addresses, officers). A declaration naming no
    trader is in no shipment and no re-invoiced sale: it is in no part."""
    root = snapshot_root(frame)
    if root is None or not _traders_named(root):
        return _one_part(frame)
    res = context_tables(root).resolution

    def parts(b: pd.DataFrame, keys: Any) -> pd.DataFrame:
        return pd.concat([pd.DataFrame({"key": keys, PART: text_objects(b[c]).to_numpy(dtype=object)})
                          for c in ("exporter_id", "importer_id")], ignore_index=True)
    return _keyed(frame, "Declaration", res, ["key", "exporter_id", "importer_id"], parts)


def trader_payments(frame: "DataFrame", params: Mapping[str, Any]) -> "DataFrame":
    """``Payment`` rows with ``__part``: the resolved holders of the paying and the paid
    account (:func:`graphiff.graph.features.account_holders`, on the context), a payment
    between two holders in both their parts.

    Why exact: a trader's money indicators (payments out within days of a payment in, the share
    of the money received that leaves fast, its outgoing payments) read the payments into and
    out of its own accounts only. A payment whose accounts have no holder is in no part."""
    from graphiff.graph.features import account_holders

    root = snapshot_root(frame)
    if root is None or not _traders_named(root):
        return _one_part(frame)
    ctx = context_tables(root, rels=("HOLDS",))
    res = ctx.resolution
    holders = account_holders(ctx)

    def parts(b: pd.DataFrame, keys: Any) -> pd.DataFrame:
        return pd.concat([pd.DataFrame({"key": keys, PART: text_objects(b[c]).map(holders).to_numpy(dtype=object)})
                          for c in ("from_account", "to_account")], ignore_index=True)
    return _keyed(frame, "Payment", res, ["key", "from_account", "to_account"], parts)


def trader_owner(frame: "DataFrame", params: Mapping[str, Any]) -> "DataFrame":
    """``Trader`` rows with ``__part``: the trader's resolved id, the part that owns its alert
    (the part holding all of its declarations and payments)."""
    root = snapshot_root(frame)
    if root is None or not _traders_named(root):
        return _one_part(frame)
    res = context_tables(root).resolution

    def parts(b: pd.DataFrame, keys: Any) -> pd.DataFrame:
        return pd.DataFrame({"key": keys, PART: [res.of("Trader", k) for k in keys]})
    return _keyed(frame, "Trader", Resolution(), ["key"], parts)


# ---------------------------------------------------------------------------------------------
# linked_carriers: components of carriers linked by what they share, with their clients
# ---------------------------------------------------------------------------------------------

ROWS_SCHEMA = "key string, carrier string, exporter string, importer string, kind string, value string"
_CARRIER_PLANS: dict[tuple, "CarrierPlan"] = {}


class CarrierPlan:
    """What the parts of ``linked_carriers`` are, for one snapshot and parameters.

    ``comp``: resolved carrier -> its component (the smallest resolved carrier id of it) in the
    graph of carriers linked by an identifier the detector can link on: a shared officer,
    phone, e-mail or address (:func:`graphiff.detectors.linked_carriers.carrier_links` on the
    context, as every part computes it), or a conveyance or container named on declarations of
    two to ``max_identifier_carriers`` carriers (counted over all declarations). ``rows``:
    per declaration with a carrier, the resolved carrier, exporter and importer, and its
    conveyance and container values as the detector folds them (rows with ``kind``).
    ``common``: the conveyance and container values named by more than
    ``max_identifier_carriers`` carriers: they link nothing, and are removed from the
    declarations sent to the parts (a part sees only some of their carriers, and would count
    too few)."""

    def __init__(self, frame: "DataFrame", root: str, params: Mapping[str, Any]):
        from pyspark.sql import functions as F

        from graphiff.detectors.linked_carriers import DEFAULTS, carrier_links

        p = {**DEFAULTS, **params}
        kinds = [k for k in p["link_kinds"] if k in ("conveyance", "container")]
        most = int(p["max_identifier_carriers"])
        ctx = context_tables(root, rels=("OFFICER_OF", "LOCATED_AT", "HAS_PHONE", "HAS_EMAIL"))
        self.res = res = ctx.resolution
        ent = carrier_links(ctx, link_kinds=tuple(p["link_kinds"]), max_identifier_carriers=most)

        def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            for b in batches:
                for c in ("key", "carrier_id", "exporter_id", "importer_id", "conveyance_id", "container_ids"):
                    if c not in b.columns:
                        b[c] = None
                b = resolve_nodes("Declaration", b, res) if res else b
                yield declaration_rows(b.reset_index(drop=True), kinds)
        cols = [c for c in ("key", "carrier_id", "exporter_id", "importer_id", "conveyance_id", "container_ids")
                if c in frame.columns]
        self.rows = frame.select(*cols).mapInPandas(run, ROWS_SCHEMA).localCheckpoint()
        ids = self.rows.where(F.col("kind").isNotNull())
        per = ids.groupBy("kind", "value").agg(F.countDistinct("carrier").alias("n"),
                                                F.collect_set("carrier").alias("carriers"))
        linking = [sorted(r["carriers"]) for r in per.where((F.col("n") >= 2) & (F.col("n") <= most))
                   .select("carriers").distinct().collect()]
        self.common = per.where(F.col("n") > most).select("kind", "value").localCheckpoint()
        uf = UnionFind()
        for x, y in zip(ent["a"], ent["b"]):
            uf.union(str(x), str(y))
        for group in linking:
            for c in group[1:]:
                uf.union(group[0], c)
        self.comp = {x: uf.find(x) for x in uf.parent}

    def of(self, carrier: str) -> str:
        """The component of a resolved carrier (its own id when it links to none)."""
        return self.comp.get(carrier, carrier)


def declaration_rows(b: pd.DataFrame, kinds: list[str]) -> pd.DataFrame:
    """Per declaration of a resolved batch with a carrier: one row ``key, carrier, exporter,
    importer``, and one row ``key, carrier, kind, value`` per conveyance or container value
    (``kinds``) it names, folded as :func:`graphiff.detectors.linked_carriers.carrier_links`
    folds them."""
    key = b["key"].astype(str)
    car = text_objects(b["carrier_id"])
    m = car.notna().to_numpy()
    out = [pd.DataFrame({"key": key[m], "carrier": car[m], "exporter": text_objects(b["exporter_id"])[m],
                         "importer": text_objects(b["importer_id"])[m], "kind": None, "value": None})]
    if "conveyance" in kinds:
        conv = text_objects(b["conveyance_id"])
        c = car.notna() & conv.notna()
        out.append(pd.DataFrame({"key": key[c], "carrier": car[c], "exporter": None, "importer": None,
                                 "kind": "conveyance", "value": conv[c].str.upper()}))
    if "container" in kinds:
        cont = text_objects(b["container_ids"])
        c = car.notna() & cont.notna()
        if c.any():
            x = pd.DataFrame({"key": key[c], "carrier": car[c],
                              "value": cont[c].astype(str).str.upper().str.split(r"[;,\s]+")}).explode("value")
            x = x[x["value"].notna() & (x["value"] != "")]
            out.append(pd.DataFrame({"key": x["key"], "carrier": x["carrier"], "exporter": None, "importer": None,
                                     "kind": "container", "value": x["value"]}))
    return pd.concat(out, ignore_index=True).astype(object)


def _carrier_plan(frame: "DataFrame", root: str, params: Mapping[str, Any]) -> CarrierPlan:
    """The :class:`CarrierPlan` of a snapshot and parameters, computed once per Spark
    application (the declarations and the carriers' owners both read it)."""
    import json
    from pathlib import Path

    stamp = (Path(root) / "snapshot.json").stat().st_mtime_ns
    memo = (root, stamp, frame.sparkSession.sparkContext.applicationId,
            json.dumps(dict(params), sort_keys=True, default=str))
    if memo not in _CARRIER_PLANS:
        _CARRIER_PLANS.clear()
        _CARRIER_PLANS[memo] = CarrierPlan(frame.sparkSession.read.parquet(str(Path(root) / "nodes" / "Declaration")),
                                           root, params)
    return _CARRIER_PLANS[memo]


def _carriers_named(root: str) -> bool:
    """Whether declarations name their carrier and parties by column (else the detector reads
    them from CARRIED_BY / EXPORTED / IMPORTED_BY, and everything is one part)."""
    return {"carrier_id", "exporter_id", "importer_id"} <= _columns(root, "nodes", "Declaration")


def carrier_declarations(frame: "DataFrame", params: Mapping[str, Any]) -> "DataFrame":
    """``Declaration`` rows with ``__part``: the component (:class:`CarrierPlan`) of its
    carrier, and the components whose clients' totals need it (:func:`_client_rows`); the
    conveyance and container values too common to link anything are removed. A declaration
    without a carrier is in no part.

    Why exact: a group of carriers is a connected component of linked pairs, and two carriers
    are linked only through an identifier that puts them in one component; a pair's and a
    group's clientele read the shipments of its carriers (all in the part of their component)
    and, for a trader that can be a client, its total shipments (exact in the part, or for one
    that is never a client, enough to keep it out, :func:`_client_rows`); the identifiers and
    cash reports are context. The values removed are those the detector drops as too common
    over all declarations; a part would see only some of their carriers. Other components'
    declarations in a part never link to its carriers (an identifier they share is either too
    common or puts them in one component)."""
    from pyspark.sql import functions as F

    root = snapshot_root(frame)
    if root is None or not _carriers_named(root):
        return _one_part(frame)
    plan = _carrier_plan(frame, root, params)
    spark = frame.sparkSession
    comp = spark.createDataFrame(pd.DataFrame({"carrier": list(plan.comp), "comp": list(plan.comp.values())},
                                              dtype=object), "carrier string, comp string")
    d = plan.rows.where(F.col("kind").isNull())
    d = (d.join(F.broadcast(comp), "carrier", "left")
         .select("key", "exporter", "importer", F.coalesce(F.col("comp"), F.col("carrier")).alias(PART)))
    parts = d.select("key", PART).unionByName(_client_rows(d, params)).distinct()
    # the declarations naming a value too common to link: the values they lose
    drop = (plan.rows.where(F.col("kind").isNotNull()).join(plan.common, ["kind", "value"], "left_semi")
            .groupBy("key").agg(F.collect_set(F.concat_ws("\x1f", "kind", "value")).alias("__drop")))
    keyed = frame.join(drop.withColumnRenamed("key", "__dkey"), F.col("key").cast("string") == F.col("__dkey"),
                       "left").drop("__dkey")
    if "conveyance_id" in frame.columns or "container_ids" in frame.columns:
        keyed = _without_common(keyed)
    keyed = keyed.drop("__drop")
    return keyed.join(parts.withColumnRenamed("key", "__pkey"), F.col("key").cast("string") == F.col("__pkey"),
                      "inner").drop("__pkey")


def _client_rows(d: "DataFrame", params: Mapping[str, Any]) -> "DataFrame":
    """``key``, ``__part``: the declarations of other components a component's part needs for
    its clients' total shipments (:func:`graphiff.graph.features.carrier_use_table`: one per
    declaration naming the trader as exporter or importer and a carrier; ``d`` has ``key``,
    ``exporter``, ``importer`` and the component of its carrier as ``__part``).

    A trader with ``via`` shipments through a component's carriers and ``total`` in all is a
    client of a set of them (the detector's ``clientele``) only if ``via >= min_client_shipments``
    and ``via >= min_dependency * total``; a subset of the carriers carries at most ``via``.
    So the part of the component gets: nothing more for a trader below
    ``min_client_shipments`` (it never is a client there, whatever its total); every declaration
    of a trader that passes both (its total is exact, its dependency is in the alert); and for
    one that passes only the first, just enough of its other declarations (by key) that it fails
    the dependency in the part as it does over all declarations."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from graphiff.detectors.linked_carriers import DEFAULTS

    p = {**DEFAULTS, **params}
    least, dep = int(p["min_client_shipments"]), float(p["min_dependency"])
    roles = (d.select(F.col("exporter").alias("trader"), "key", PART)
             .unionAll(d.select(F.col("importer").alias("trader"), "key", PART))
             .where(F.col("trader").isNotNull()).groupBy("trader", "key", PART).agg(F.count("*").alias("w")))
    roles = roles.localCheckpoint()
    total = roles.groupBy("trader").agg(F.sum("w").alias("total"))
    via = (roles.groupBy("trader", PART).agg(F.sum("w").alias("via")).join(total, "trader")
           .where(F.col("via") >= F.lit(least)).withColumnRenamed(PART, "__client_of"))
    dependent = F.col("via") >= F.lit(dep) * F.col("total")
    full = (via.where(dependent).join(roles, "trader")
            .select("key", F.col("__client_of").alias(PART)))
    others = (via.where(~dependent).join(roles, "trader").where(F.col(PART) != F.col("__client_of")))
    w = Window.partitionBy("trader", "__client_of").orderBy("key").rowsBetween(Window.unboundedPreceding, -1)
    before = F.coalesce(F.sum("w").over(w), F.lit(0))
    enough = (others.withColumn("__before", before)
              .where(F.col("via") >= F.lit(dep) * (F.col("via") + F.col("__before")))
              .select("key", F.col("__client_of").alias(PART)))
    return full.unionByName(enough)


def _without_common(frame: "DataFrame") -> "DataFrame":
    """``frame`` (with ``__drop``: the ``kind\\x1fvalue`` pairs a declaration loses) with those
    conveyance and container values removed: ``conveyance_id`` missing, ``container_ids`` the
    remaining values joined with ``;`` (missing when none remains), as the detector splits and
    folds them."""
    import re

    from pyspark.sql import functions as F

    split = re.compile(r"[;,\s]+")

    def conveyance(conv: pd.Series, drop: pd.Series) -> pd.Series:
        v = text_objects(conv)
        gone = [d is not None and x is not None and f"conveyance\x1f{x.upper()}" in set(d)
                for x, d in zip(v, drop)]
        return conv.where(~pd.Series(gone, index=conv.index), None)

    def containers(cont: pd.Series, drop: pd.Series) -> pd.Series:
        v = text_objects(cont)
        out = []
        for raw, x, d in zip(cont, v, drop):
            if d is None or x is None or not any(s.startswith("container\x1f") for s in d):
                out.append(raw)
                continue
            lost = set(d)
            keep = [t for t in split.split(str(x).upper()) if t and f"container\x1f{t}" not in lost]
            out.append(";".join(keep) if keep else None)
        return pd.Series(out, index=cont.index, dtype=object)

    has = F.col("__drop").isNotNull()
    if "conveyance_id" in frame.columns:
        udf = F.pandas_udf(conveyance, "string")  # type: ignore[call-overload]
        frame = frame.withColumn("conveyance_id", F.when(has, udf(F.col("conveyance_id").cast("string"),
                                                                  F.col("__drop"))).otherwise(F.col("conveyance_id")))
    if "container_ids" in frame.columns:
        udf = F.pandas_udf(containers, "string")  # type: ignore[call-overload]
        frame = frame.withColumn("container_ids", F.when(has, udf(F.col("container_ids").cast("string"),
                                                                  F.col("__drop"))).otherwise(F.col("container_ids")))
    return frame


def carrier_owner(frame: "DataFrame", params: Mapping[str, Any]) -> "DataFrame":
    """``Carrier`` rows with ``__part``: the component of the resolved carrier, the part that
    owns the alerts of the groups it is in (a group never leaves its component)."""
    root = snapshot_root(frame)
    if root is None or not _carriers_named(root):
        return _one_part(frame)
    plan = _carrier_plan(frame, root, params)
    comp, res = plan.comp, plan.res  # not the plan: it holds Spark tables

    def parts(b: pd.DataFrame, keys: Any) -> pd.DataFrame:
        return pd.DataFrame({"key": keys, PART: [comp.get(r, r) for r in (res.of("Carrier", k) for k in keys)]})
    return _keyed(frame, "Carrier", Resolution(), ["key"], parts)

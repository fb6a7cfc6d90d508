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
from graphiff.graph.resolution import Resolution
from graphiff.graph.snapshot import read_manifest, schema_of
from graphiff.spark.link_parts import context_tables, resolved_batch, snapshot_root

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["trader_declarations", "trader_payments", "trader_owner", "carrier_declaration_parts", "carrier_features",
           "carrier_owner", "CarrierPlan"]

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
# linked_carriers: components of linked carriers, given their features, not their declarations
# ---------------------------------------------------------------------------------------------

ROWS_SCHEMA = "key string, carrier string, exporter string, importer string, kind string, value string"
_CARRIER_PLANS: dict[tuple, "CarrierPlan"] = {}


class CarrierPlan:
    """What the parts of ``linked_carriers`` are, for one snapshot and parameters.

    ``comp``: resolved carrier -> its component (the smallest resolved carrier id of it) in the
    graph of carriers linked by an identifier the detector can link on: a shared officer,
    phone, e-mail or address (:func:`graphiff.detectors.linked_carriers.carrier_links` on the
    context, as every part computes it), or a conveyance or container named on declarations of
    two to ``max_identifier_carriers`` carriers (counted over all declarations). A carrier
    linked to none is in no component: it is in no group. ``rows``: per declaration with a
    carrier, its key and resolved carrier, exporter and importer; and per conveyance or
    container value linking two to ``max_identifier_carriers`` carriers, one row ``kind,
    value, carrier`` per carrier naming it (:func:`graphiff.graph.features.carrier_identifiers`
    on each batch, then counted over all of them)."""

    def __init__(self, frame: "DataFrame", root: str, params: Mapping[str, Any]):
        from pyspark.sql import functions as F

        from graphiff.detectors.linked_carriers import DEFAULTS, carrier_links

        p = {**DEFAULTS, **params}
        kinds = [k for k in p["link_kinds"] if k in ("conveyance", "container")]
        most = int(p["max_identifier_carriers"])
        ctx = context_tables(root, rels=("OFFICER_OF", "LOCATED_AT", "HAS_PHONE", "HAS_EMAIL"))
        self.res = res = ctx.resolution
        ent = carrier_links(ctx, link_kinds=tuple(p["link_kinds"]), max_identifier_carriers=most)
        cols = ["key", "carrier_id", "exporter_id", "importer_id", "conveyance_id", "container_ids"]

        def run(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
            for b in batches:
                yield declaration_rows(resolved_batch(b, "Declaration", res, cols), kinds)
        rows = frame.select(*[c for c in cols if c in frame.columns]).mapInPandas(run, ROWS_SCHEMA).localCheckpoint()
        self.uses = rows.where(F.col("kind").isNull()).select("key", "carrier", "exporter", "importer")
        idents = rows.where(F.col("kind").isNotNull()).select("kind", "value", "carrier").distinct()
        n = idents.groupBy("kind", "value").agg(F.count("*").alias("n"))
        self.idents = idents.join(n.where((F.col("n") >= 2) & (F.col("n") <= most)), ["kind", "value"]).drop("n")
        uf = UnionFind()
        for x, y in zip(ent["a"], ent["b"]):
            uf.union(str(x), str(y))
        for r in self.idents.groupBy("kind", "value").agg(F.collect_list("carrier").alias("c")).collect():
            for c in r["c"][1:]:
                uf.union(r["c"][0], c)
        self.comp = {x: uf.find(x) for x in uf.parent}

    def components(self, spark: Any) -> "DataFrame":
        """``carrier``, ``__part``: each linked carrier's component, as a Spark table."""
        return spark.createDataFrame(pd.DataFrame({"carrier": list(self.comp), PART: list(self.comp.values())},
                                                  dtype=object), f"carrier string, {PART} string")


def declaration_rows(b: pd.DataFrame, kinds: list[str]) -> pd.DataFrame:
    """Of a resolved batch of declarations: one row ``key, carrier, exporter, importer`` per
    declaration with a carrier, and one row ``kind, value, carrier`` per conveyance or container
    value (``kinds``) a carrier names
    (:func:`graphiff.graph.features.carrier_identifiers`, the detector's own folding)."""
    from graphiff.graph.features import carrier_identifiers
    from graphiff.graph.tables import Tables

    car = text_objects(b["carrier_id"])
    m = car.notna().to_numpy()
    out = [pd.DataFrame({"key": b["key"].astype(str)[m], "carrier": car[m],
                         "exporter": text_objects(b["exporter_id"])[m], "importer": text_objects(b["importer_id"])[m],
                         "kind": None, "value": None})]
    ids = carrier_identifiers(Tables.from_frames(nodes={"Declaration": b}, resolved=False))
    ids = ids[ids["kind"].isin(kinds).to_numpy()]
    out.append(pd.DataFrame({"key": None, "carrier": ids["carrier"], "exporter": None, "importer": None,
                             "kind": ids["kind"], "value": ids["value"]}))
    return pd.concat(out, ignore_index=True).astype(object)


def _carrier_plan(frame: "DataFrame", root: str, params: Mapping[str, Any]) -> CarrierPlan:
    """The :class:`CarrierPlan` of a snapshot and parameters, computed once per Spark
    application (the features and the carriers' owners all read it)."""
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


def carrier_declaration_parts(frame: "DataFrame", params: Mapping[str, Any]) -> "DataFrame | None":
    """``Declaration`` rows with ``__part``, only when declarations do not name their carrier
    and parties by column: then they all go to one part, with their relationships. Otherwise
    None: the parts get the carriers' features instead (:func:`carrier_features`)."""
    root = snapshot_root(frame)
    if root is not None and _carriers_named(root):
        return None
    return _one_part(frame)


def carrier_features(view: Any, params: Mapping[str, Any]) -> "dict[str, DataFrame] | None":
    """What each component's part is given instead of declarations, each feature's rows with
    ``__part`` (None when declarations do not name carrier and parties by column, see
    :func:`carrier_declaration_parts`):

    - ``carrier_shipments`` (:func:`graphiff.graph.features.carrier_shipments`): every
      (trader, carrier, shipments) row of the component's carriers, so their clienteles are
      exact in the part;
    - ``trader_carried`` (:func:`graphiff.graph.features.trader_carried`): the total
      shipments of every trader those carriers carry for, over all carriers (a trader's
      dependency on a group is measured against it);
    - ``carrier_declarations`` (at ``max_evidence``): per carrier of the component, how many
      declarations name it and a trader, and the first ``max_evidence`` of their keys;
    - ``carrier_identifiers``: the conveyance and container values linking two to
      ``max_identifier_carriers`` carriers, with the component's carriers naming them.

    Why exact: a group of carriers is a connected component of linked pairs, and two carriers
    are linked only through an identifier that puts them in one component; the detector reads
    declarations only through these four features, and for the component's carriers and
    their traders each holds the rows it holds over all declarations. A value named by more
    than ``max_identifier_carriers`` carriers is not given, as the detector drops it (a part
    would see only some of its carriers). Other components' rows in the same bucket only
    decide alerts the part does not own.
    Cost: one pass over the declarations, a shuffle of their (trader, carrier) pairs and of
    the linked carriers' declaration keys; a part holds no declaration, and at most two rows
    per client of its carriers (a component of carriers that carry for every trader once held
    every trader's every carrier: 4.5M rows at 10M declarations)."""
    from pathlib import Path

    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from graphiff.detectors.linked_carriers import DEFAULTS

    root = view.snapshot
    if "Declaration" not in view.manifest["nodes"] or not _carriers_named(root):
        return None
    frame = view.spark.read.parquet(str(Path(root) / "nodes" / "Declaration"))
    plan = _carrier_plan(frame, root, params)
    comp = F.broadcast(plan.components(view.spark))
    u = plan.uses
    roles = (u.select(F.col("exporter").alias("trader_id"), F.col("carrier").alias("carrier_id"))
             .unionAll(u.select(F.col("importer").alias("trader_id"), F.col("carrier").alias("carrier_id")))
             .where(F.col("trader_id").isNotNull()))
    ships = roles.groupBy("trader_id", "carrier_id").agg(F.count("*").cast("long").alias("shipments"))
    shipments = ships.join(comp, F.col("carrier_id") == F.col("carrier")).drop("carrier")
    totals = ships.groupBy("trader_id").agg(F.sum("shipments").cast("long").alias("shipments"))
    carried = totals.join(shipments.select("trader_id", PART).distinct(), "trader_id")

    limit = int({**DEFAULTS, **params}["max_evidence"])
    named = (u.where(F.col("exporter").isNotNull() | F.col("importer").isNotNull())
             .join(comp, "carrier").select(F.col("carrier").alias("carrier_id"), "key", PART).distinct())
    rank = F.row_number().over(Window.partitionBy("carrier_id").orderBy("key"))
    declarations = (named.withColumn("__rank", rank)
                    .groupBy("carrier_id", PART)
                    .agg(F.count("*").cast("long").alias("declarations"),
                         F.array_sort(F.collect_list(F.when(F.col("__rank") <= limit, F.col("key")))).alias("first")))
    identifiers = plan.idents.join(comp, "carrier")
    return {"carrier_shipments": shipments, "trader_carried": carried, "carrier_declarations": declarations,
            "carrier_identifiers": identifiers}


def carrier_owner(frame: "DataFrame", params: Mapping[str, Any]) -> "DataFrame":
    """``Carrier`` rows with ``__part``: the component of the resolved carrier, the part that
    owns the alerts of the groups it is in (a group never leaves its component); a carrier
    linked to none is in no group and no part."""
    root = snapshot_root(frame)
    if root is None or not _carriers_named(root):
        return _one_part(frame)
    plan = _carrier_plan(frame, root, params)
    comp, res = plan.comp, plan.res  # not the plan: it holds Spark tables

    def parts(b: pd.DataFrame, keys: Any) -> pd.DataFrame:
        return pd.DataFrame({"key": keys, PART: [comp.get(r) for r in (res.of("Carrier", k) for k in keys)]},
                            dtype=object)
    return _keyed(frame, "Carrier", Resolution(), ["key"], parts)

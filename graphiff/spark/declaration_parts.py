"""Part keys of the declaration families that pair mirror declarations: ``mirror_discrepancy``,
``undervaluation`` and ``overvaluation``.

Mirror pairing (:func:`graphiff.graph.mirror.pair_declarations`) relates an export and an
import declaration when they share a transport document, an invoice number, a container or
their parties, and their goods agree (the HS code at ``match_hs`` digits) *where both name
them*. So the goods code alone is not a part key: a declaration without a code pairs with a
declaration of any code, and an invoice number found on declarations of several codes is
"reused", which changes how the declarations of each code pair. The valuation detectors add
their own relations: the peer statistics of an HS6 group and the round-trip test
(:func:`graphiff.detectors.valuation.round_trip_returns`, which joins declarations of one
4-character HS heading as written).

:func:`linked_parts` keys each declaration by the goods code (a *node* ``h:CODE``; a
declaration without a code is a node of its own, ``k:KEY``), then merges the nodes that a
relation can cross: the codes a declaration carries in two forms (valuation: its heading as
written and its digits), and the nodes sharing a document key that an export and an import
both carry, when one of them has no code (transport document, container) or whatever the
codes (invoice number: its reuse count spans codes). The merging is a connected components
pass on the driver over the few cross-node edges (nodes, not declarations: clean data gives
none at all); the part of a declaration is its node's component. The codes and document keys
are computed by the embedded detectors' own column helpers (a ``mapInPandas`` over the
declarations), so a part's declarations read exactly as they do in the embedded engine.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from graphiff.graph.algorithms import UnionFind
from graphiff.graph.columns import col, text, upper_text
from graphiff.graph.mirror import PAIR_DEFAULTS, explode_containers, fold_document_no

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

__all__ = ["linked_parts", "mirror_parts", "valuation_parts", "components"]

PART = "__part"
NODE_SCHEMA = ("key string, node string, nodes array<string>, links array<string>, nohs boolean, flow string, "
               "did string")
#: the document keys of ``match_on`` and their link prefixes
_DOCS = {"transport_doc_no": "t:", "invoice_no": "i:", "container_ids": "c:"}


def _digits(hs: pd.Series) -> pd.Series:
    """The goods code as :func:`graphiff.graph.mirror.mirror_declarations` reads it: digits of
    the upper-cased text, at most 6, missing when none (``valuation_scores`` reads the same
    digits and drops codes shorter than 6)."""
    d = upper_text(hs).str.replace(r"\D", "", regex=True).str.slice(0, 6)
    return d.mask(d == "")


def node_frame(pdf: pd.DataFrame, *, hs_from: str, level: int | None, headings: bool,
               match_on: Sequence[str]) -> pd.DataFrame:
    """Per declaration of a batch: ``key``, ``node`` (its first node), ``nodes`` (every node
    its goods code makes: ``h:`` + the code at ``level`` digits, and with ``headings`` the
    4-character heading as written; ``k:KEY`` when none; ``*`` when ``level`` is None: the
    goods never separate declarations), ``links`` (its document keys among ``match_on``, when
    it is an export or an import), ``nohs`` (no code at the pairing level), ``flow`` and
    ``did`` (the declaration id, as pairing counts an invoice number's reuse)."""
    key = col(pdf, "key").astype("string")
    code = _digits(col(pdf, hs_from))
    nohs = code.isna().to_numpy(dtype=bool)
    found: list[pd.Series] = []
    if level is None:
        found.append(pd.Series("*", index=pdf.index, dtype="string"))
    else:
        found.append("h:" + code.str.slice(0, 4 if headings else level))
    if headings:  # round_trip_returns: the heading as written, hs6 else hs_code
        raw4 = text(col(pdf, "hs6")).fillna(text(col(pdf, "hs_code"))).str.slice(0, 4)
        found.append("h:" + raw4)
    own = "k:" + key
    cells = np.array([[None if v is pd.NA else v for v in s.astype(object)] for s in found], dtype=object)
    nodes = []
    for i in range(len(pdf)):
        ns = list(dict.fromkeys(v for v in cells[:, i] if v is not None))
        nodes.append(ns or [own.iloc[i]])
    flow = upper_text(col(pdf, "flow"))
    flow = flow.where(flow.isin(["EXPORT", "IMPORT"]))
    paired = flow.notna().to_numpy(dtype=bool)
    links: list[list[str]] = [[] for _ in range(len(pdf))]
    rid = np.arange(len(pdf), dtype="int64")
    for field in match_on:
        prefix = _DOCS.get(field)
        if prefix is None:
            continue
        if field == "container_ids":
            e = explode_containers(rid[paired], col(pdf, field)[paired])
            for r, c in zip(e["rid"].tolist(), e["c"].tolist()):
                links[r].append(prefix + str(c))
        else:
            v = fold_document_no(col(pdf, field))
            for r, x in zip(rid[paired].tolist(), v[paired].astype(object).tolist()):
                if x is not None and x is not pd.NA:
                    links[r].append(prefix + str(x))
    return pd.DataFrame({
        "key": key.astype(object), "node": [n[0] for n in nodes], "nodes": nodes,
        "links": [sorted(set(x)) for x in links], "nohs": nohs, "flow": flow.astype(object),
        "did": text(col(pdf, "declaration_id")).fillna(key.str.replace(r"/[^/]*$", "", regex=True)).astype(object),
    })


def components(edges: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Union-find: every node of ``edges`` -> the smallest node of its connected component.

    >>> components([("b", "a"), ("c", "d"), ("d", "b")])
    {'b': 'a', 'a': 'a', 'c': 'a', 'd': 'a'}
    """
    uf = UnionFind()
    for a, b in edges:
        uf.union(a, b)
    return {x: uf.find(x) for x in list(uf.parent)}


def _hs_source(frame: "DataFrame") -> str:
    """``hs6``, or ``hs_code`` when no declaration has an ``hs6`` (the embedded detectors'
    table-wide fallback), decided over the whole table with the same text helper."""
    from pyspark.sql import functions as F

    if "hs6" not in frame.columns:
        return "hs_code"

    def any_code(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in batches:
            yield pd.DataFrame({"n": [int(upper_text(pdf["hs6"]).notna().sum())]})

    row = frame.select("hs6").mapInPandas(any_code, "n long").agg(F.sum("n")).first()
    return "hs6" if row is not None and row[0] else "hs_code"


def linked_parts(frame: "DataFrame", *, level: int | None, headings: bool,
                 match_on: Sequence[str]) -> "DataFrame":
    """``frame`` (the snapshot's declarations) with ``__part``: the component of its goods node
    among the nodes that mirror pairing (and with ``headings``, the valuation round trip) can
    relate (see the module docstring). Cost: one pass of the helpers over the declarations,
    a group-by of their document keys, a collect of the cross-node edges (nodes, not
    declarations) and a join back."""
    from pyspark.sql import functions as F

    hs_from = _hs_source(frame)
    cols = [c for c in ("key", "declaration_id", "hs6", "hs_code", "flow", *_DOCS) if c in frame.columns]
    spark = frame.sparkSession

    def batches(it: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in it:
            yield node_frame(pdf, hs_from=hs_from, level=level, headings=headings, match_on=match_on)

    recs = frame.select(*cols).mapInPandas(batches, NODE_SCHEMA).cache()
    # a declaration carrying two codes ties them
    own = recs.where(F.size("nodes") > 1).select(
        F.col("node").alias("a"), F.explode(F.slice("nodes", 2, 1 << 20)).alias("b"))
    # a document key an export and an import both carry, across nodes: when one of them has no
    # code (it pairs with any), or an invoice number on several declarations of one side
    # (reused: its reuse, which decides how the others pair on it, is counted across codes)
    def dids(flow: str) -> Any:
        return F.size(F.collect_set(F.when(F.col("flow") == flow, F.col("did"))))

    docs = (recs.where(F.col("flow").isNotNull() & (F.size("links") > 0))
            .select("node", "nohs", "flow", "did", F.explode("links").alias("v"))
            .groupBy("v").agg(F.collect_set("node").alias("ns"), F.max(F.col("nohs").cast("int")).alias("na"),
                              dids("EXPORT").alias("ne"), dids("IMPORT").alias("ni"))
            .where((F.size("ns") > 1) & (F.col("ne") > 0) & (F.col("ni") > 0)
                   & ((F.col("na") == 1) | (F.col("v").startswith("i:") & ((F.col("ne") > 1) | (F.col("ni") > 1)))))
            .select(F.array_min("ns").alias("a"), F.explode("ns").alias("b")).where(F.col("a") != F.col("b")))
    edges = [(r["a"], r["b"]) for r in own.unionByName(docs).distinct().collect()]
    keyed = recs.select("key", F.col("node").alias(PART))
    comp = components(edges)
    if comp:
        rep = spark.createDataFrame(list(comp.items()), "n string, rep string")
        keyed = (keyed.join(F.broadcast(rep), F.col(PART) == F.col("n"), "left")
                 .select("key", F.coalesce(F.col("rep"), F.col(PART)).alias(PART)))
    return frame.join(keyed, "key", "inner")


def mirror_parts(frame: "DataFrame", params: Mapping[str, Any]) -> "DataFrame":
    """Part key of ``mirror_discrepancy``: mirror pairing's goods code (at ``match_hs``; one
    part when ``match_hs`` is None), merged across codes where a document key can pair or
    count declarations of two codes (:func:`linked_parts`)."""
    match_hs = params.get("match_hs", PAIR_DEFAULTS["match_hs"])
    level = None if not match_hs else (4 if match_hs == "hs4" else 6)
    return linked_parts(frame, level=level, headings=False,
                        match_on=tuple(params.get("match_on", PAIR_DEFAULTS["match_on"])))


def valuation_parts(frame: "DataFrame", params: Mapping[str, Any]) -> "DataFrame":
    """Part key of ``undervaluation`` / ``overvaluation``: the HS heading (4 digits: the peer
    groups are HS6 x unit [x origin], a round trip's legs share the heading as written), merged
    across headings where the default mirror pairing (which reports a flagged export and its
    mirrored import as one shipment) can relate declarations of two (:func:`linked_parts`)."""
    return linked_parts(frame, level=6, headings=True, match_on=tuple(PAIR_DEFAULTS["match_on"]))

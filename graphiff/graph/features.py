"""Features: the facts every detector, explorer and chart reads, computed once per Tables.

Each feature is a tidy DataFrame (or dict) derived from the store's tables and memoised in the
one cache of :class:`~graphiff.graph.tables.Tables` (:meth:`Tables.memo`); callers get a shallow
copy, so adding a column never changes what the next caller gets. Missing columns are
tolerated: small in-memory examples only need the columns they use.

* :func:`trade_edges`: shipments exporter -> importer (mirror declarations merged);
* :func:`money_edges`: payments account -> account, with their holders;
* :func:`settlements`: which declaration(s) a payment settles (the ``SETTLES`` rule;
  :func:`settlements_of` for a few payments);
* :func:`account_holders`, :func:`trader_countries`, :func:`carrier_use_table` (and its
  parts :func:`carrier_shipments`, :func:`trader_carried`, :func:`carrier_declarations`),
  :func:`carrier_identifiers`,
  :func:`identifier_links`, :func:`officer_table`;
* :func:`give_feature`: a feature computed elsewhere (on Spark), given to a part's tables.

Mirror pairs live in :mod:`graphiff.graph.mirror`, officer-based relations (ownership groups,
officer neighbourhoods) in :mod:`graphiff.graph.parties`, the igraph builders in
:mod:`graphiff.graph.graphs`.
"""
from __future__ import annotations

import functools
from collections.abc import Collection
from typing import Any, Callable

import numpy as np
import pandas as pd

from graphiff.graph.columns import (
    col,
    day_numbers,
    fold_document,
    hs_prefix,
    num,
    text_objects,
)
from graphiff.graph.tables import Tables
from graphiff.model import model, values
from graphiff.model.lookup import match_by_lookup


def _memoised(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Compute a feature once per Tables (and arguments) in :meth:`Tables.memo`; hand out
    shallow copies, so a caller adding columns never changes what the next caller gets."""

    @functools.wraps(fn)
    def wrapper(tables: Tables, *args: Any, **kwargs: Any) -> Any:
        v = tables.memo(feature_key(fn, *args, **kwargs), lambda: fn(tables, *args, **kwargs))
        if isinstance(v, pd.DataFrame):
            return v.copy(deep=False)
        if isinstance(v, dict):
            return dict(v)
        return v

    return wrapper


def trade_edges(tables: Tables, hs_level: int = 6) -> pd.DataFrame:
    """Shipments: one row per shipment exporter -> importer (mirror declarations merged).

    The export declaration in one administration and the import declaration of the same
    shipment in the partner administration are two Declaration nodes; for trade-flow purposes
    they are one shipment. Rows are merged on ``(exporter_id, importer_id, hs6, document)``
    where the document is ``transport_doc_no``, else ``invoice_no`` (compared in upper case,
    letters and digits only; rows with neither stay single). Items of one declaration with
    the same key are summed. The export side's date and values are kept when there is one
    (else the import side's).

    This shipment grouping is deliberately not the mirror pairing of
    :func:`graphiff.graph.mirror.pair_declarations`: a shipment groups any number of
    declarations (items, repeated filings) of the same parties, goods and document, whatever
    their dates and reporting countries, so that a cycle or pass-through never counts one
    movement of goods twice; a mirror pair is one export and one import declaration of
    different administrations within a date window, matched one-to-one (also on containers),
    so that their values can be compared.

    The shipment table is computed once per ``Tables`` at HS6 (later calls return a shallow
    copy with ``hs`` cut to ``hs_level``). Cost: O(D log D) for D declaration rows.

    Returns columns ``edge`` (0..n-1), ``src``, ``dst`` (trader keys), ``decl`` (the
    representative declaration key), ``decls`` (all keys merged, a tuple), ``date`` (ISO),
    ``t`` (day number), ``hs`` (first ``hs_level`` digits), ``hs6``, ``net_mass_kg``,
    ``value_usd``, ``quantity``, ``carrier_id``, ``src_country``, ``dst_country``, ``flow``
    (the representative declaration's flow, upper case), ``one_flow`` (the flow all the
    shipment's declarations share, None when they differ or one has none: ``EXPORT`` or
    ``IMPORT`` for a shipment declared on one side only), sorted by ``(t, decl)``.
    Declarations without both parties or a date are left out.
    """
    e = _shipments(tables)
    if int(hs_level) < 6 and len(e):
        e["hs"] = e["hs6"].str[: int(hs_level)].astype(object)
    return e


@_memoised
def _shipments(tables: Tables) -> pd.DataFrame:
    d = tables.nodes("Declaration")
    cols = ["edge", "src", "dst", "decl", "decls", "date", "t", "hs", "hs6", "net_mass_kg", "value_usd",
            "quantity", "carrier_id", "src_country", "dst_country", "flow", "one_flow"]
    if d is None or not len(d):
        return pd.DataFrame(columns=cols)
    key = text_objects(col(d, "key"))
    flow = col(d, "flow").astype(object)
    flow = flow.where(flow.isna(), flow.astype(str).str.upper())
    exp = text_objects(col(d, "exporter_id"))
    imp = text_objects(col(d, "importer_id"))
    if "exporter_id" not in d.columns or "importer_id" not in d.columns:
        exp, imp = _parties_from_rels(tables, key, exp, imp)
    hs6 = text_objects(col(d, "hs6"))
    if hs6.isna().any():
        miss = hs6.isna()
        hs6[miss] = hs_prefix(col(d, "hs_code")[miss], 6)
    doc = fold_document(col(d, "transport_doc_no"))
    if doc.isna().any():
        miss = doc.isna()
        inv = fold_document(col(d, "invoice_no")[miss])
        doc[miss] = ("inv:" + inv.where(inv.notna(), "")).where(inv.notna(), None)
    date = text_objects(col(d, "date"))
    f = pd.DataFrame({
        "key": key, "src": exp, "dst": imp, "hs6": hs6, "doc": doc, "date": date,
        "flow_rank": text_objects(col(d, "flow")).map({"EXPORT": 0, "IMPORT": 1}).fillna(2).astype("int64"),
        "flow_u": flow,
        "value_usd": num(col(d, "value_usd")), "net_mass_kg": num(col(d, "net_mass_kg")),
        "quantity": num(col(d, "quantity")), "carrier_id": text_objects(col(d, "carrier_id")),
        "src_country": text_objects(col(d, "exporter_country")),
        "dst_country": text_objects(col(d, "importer_country")),
    })
    f = f[f["src"].notna() & f["dst"].notna() & f["date"].notna() & f["hs6"].notna() & f["key"].notna()]
    if not len(f):
        return pd.DataFrame(columns=cols)
    f = f.reset_index(drop=True)
    f["t"] = day_numbers(f["date"])
    f = f[f["t"] > np.iinfo(np.int64).min].reset_index(drop=True)
    docpart = f["doc"].where(f["doc"].notna(), "key:" + f["key"].astype(object))
    ship = pd.DataFrame({"a": f["src"], "b": f["dst"], "c": f["hs6"], "d": docpart}).groupby(
        ["a", "b", "c", "d"], sort=False).ngroup().to_numpy(np.int64)
    order = np.lexsort((f["t"].to_numpy(), f["flow_rank"].to_numpy(), ship))
    f = f.iloc[order].reset_index(drop=True)
    f["ship"] = ship[order]
    # every key of each shipment (both administrations' declarations)
    sh = f["ship"].to_numpy()
    starts = np.flatnonzero(np.r_[True, sh[1:] != sh[:-1]])
    ends = np.r_[starts[1:], len(sh)]
    keys = f["key"].tolist()
    decls = [tuple(keys[a:b]) for a, b in zip(starts.tolist(), ends.tolist())]
    # the flow all declarations of each shipment share (None when they differ or one is missing)
    fq = f["flow_u"].fillna("?").to_numpy(dtype=object)
    all_same = np.logical_and.reduceat(fq == np.repeat(fq[starts], ends - starts), starts) if len(fq) else fq
    one_flow = np.where(all_same & (fq[starts] != "?"), fq[starts], None) if len(fq) else fq
    # the preferred side (export, else import) of each shipment
    first_flow = np.repeat(f["flow_rank"].to_numpy()[starts], ends - starts)
    side = f[f["flow_rank"].to_numpy() == first_flow]
    g = side.groupby("ship", sort=True)
    agg = pd.DataFrame({
        "decl": g["key"].first(),
        "t": g["t"].min(),
        "value_usd": g["value_usd"].sum(min_count=1),
        "net_mass_kg": g["net_mass_kg"].sum(min_count=1),
        "quantity": g["quantity"].sum(min_count=1),
        "src": g["src"].first(), "dst": g["dst"].first(), "hs6": g["hs6"].first(),
        "carrier_id": g["carrier_id"].first(),
        "src_country": g["src_country"].first(), "dst_country": g["dst_country"].first(),
    })
    agg["decls"] = pd.Series(decls, index=sh[starts], dtype=object).reindex(agg.index)
    head = side.drop_duplicates("ship")  # each shipment's representative declaration
    agg["flow"] = pd.Series(head["flow_u"].to_numpy(dtype=object), index=head["ship"].to_numpy()).reindex(agg.index)
    agg["one_flow"] = pd.Series(one_flow, index=sh[starts], dtype=object).reindex(agg.index)
    agg["date"] = (agg["t"].to_numpy().astype("datetime64[D]")).astype(str)
    agg["hs"] = agg["hs6"]
    agg = agg.sort_values(["t", "decl"], kind="stable").reset_index(drop=True)
    agg["edge"] = np.arange(len(agg), dtype="int64")
    for c in ("src", "dst", "decl", "hs", "hs6", "carrier_id", "src_country", "dst_country", "flow", "one_flow"):
        agg[c] = agg[c].astype(object).where(agg[c].notna(), None)
    return agg[cols]


def _parties_from_rels(tables: Tables, key: pd.Series, exp: pd.Series, imp: pd.Series):
    """Exporter/importer from EXPORTED / IMPORTED_BY relationships (stores that do not keep the
    party ids as declaration properties)."""
    ex = tables.rels("EXPORTED")
    im = tables.rels("IMPORTED_BY")
    if len(ex):
        m = dict(zip(ex["dst"].astype(str), ex["src"].astype(str)))
        exp = exp.where(exp.notna(), key.map(m))
    if len(im):
        m = dict(zip(im["src"].astype(str), im["dst"].astype(str)))
        imp = imp.where(imp.notna(), key.map(m))
    return exp, imp


def trader_countries_of(tables: Tables, e: pd.DataFrame | None = None) -> dict[str, str]:
    """Trader key -> country: ``Trader.country`` first, else the country named for the trader
    on the shipments ``e`` (a :func:`trade_edges` table; the last one named wins). Prefer
    :func:`trader_countries`, which is computed once. Cost: O(T + E)."""
    parts = []
    if e is not None and len(e):
        parts += [pd.DataFrame({"k": e["src"].to_numpy(dtype=object), "c": e["src_country"].to_numpy(dtype=object)}),
                  pd.DataFrame({"k": e["dst"].to_numpy(dtype=object), "c": e["dst_country"].to_numpy(dtype=object)})]
    tr = tables.nodes("Trader")
    if len(tr) and "country" in tr.columns:  # traders.csv wins: last
        parts.append(pd.DataFrame({"k": tr["key"].astype(str).to_numpy(dtype=object),
                                   "c": text_objects(tr["country"]).to_numpy(dtype=object)}))
    if not parts:
        return {}
    f = pd.concat(parts, ignore_index=True)
    f = f[f["k"].notna() & f["c"].notna()].drop_duplicates("k", keep="last")
    return dict(zip(f["k"], f["c"]))


@_memoised
def trader_countries(tables: Tables) -> dict[str, str]:
    """Trader key -> country (traders.csv first, else the country named on declarations)."""
    return trader_countries_of(tables, trade_edges(tables))


@_memoised
def account_holders(tables: Tables) -> dict[str, str]:
    """BankAccount key -> holder key (``holder_id``, else the HOLDS relationship)."""
    acc = tables.nodes("BankAccount")
    out: dict[str, str] = {}
    h = tables.rels("HOLDS")
    if len(h):
        out.update(dict(zip(h["dst"].astype(str), h["src"].astype(str))))
    if len(acc) and "holder_id" in acc.columns:
        out.update({str(k): v for k, v in zip(acc["key"], text_objects(acc["holder_id"])) if v is not None})
    return out


@_memoised
def money_edges(tables: Tables) -> pd.DataFrame:
    """One row per payment from_account -> to_account.

    Columns ``edge``, ``src``, ``dst`` (account keys), ``payment`` (key), ``date``, ``t``,
    ``amount_usd`` (``amount`` when the currency is USD and no conversion is stored; else
    missing), ``src_holder``, ``dst_holder``, ``invoice_no``, ``declaration_id``, sorted by
    ``(t, payment)``.
    """
    p = tables.nodes("Payment")
    cols = ["edge", "src", "dst", "payment", "date", "t", "amount_usd", "src_holder", "dst_holder",
            "invoice_no", "declaration_id"]
    if p is None or not len(p):
        return pd.DataFrame(columns=cols)
    src = text_objects(col(p, "from_account"))
    dst = text_objects(col(p, "to_account"))
    if "from_account" not in p.columns or "to_account" not in p.columns:
        sent, recv = tables.rels("SENT"), tables.rels("RECEIVED_BY")
        key = text_objects(col(p, "key"))
        if len(sent):
            src = src.where(src.notna(), key.map(dict(zip(sent["dst"].astype(str), sent["src"].astype(str)))))
        if len(recv):
            dst = dst.where(dst.notna(), key.map(dict(zip(recv["src"].astype(str), recv["dst"].astype(str)))))
    amt = num(col(p, "amount_usd"))
    usd = text_objects(col(p, "currency")).map(lambda v: v is not None and v.upper() == "USD").astype(bool)
    amt = amt.where(amt.notna(), num(col(p, "amount")).where(usd))
    f = pd.DataFrame({
        "src": src, "dst": dst, "payment": text_objects(col(p, "key")),
        "date": text_objects(col(p, "date")).map(lambda v: None if v is None else v[:10]),
        "amount_usd": amt, "invoice_no": text_objects(col(p, "invoice_no")),
        "declaration_id": text_objects(col(p, "declaration_id")),
    })
    f = f[f["src"].notna() & f["dst"].notna() & f["date"].notna()].copy()
    f["t"] = day_numbers(f["date"])
    f = f[f["t"] > np.iinfo(np.int64).min]
    holders = account_holders(tables)
    f["src_holder"] = f["src"].map(holders)
    f["dst_holder"] = f["dst"].map(holders)
    f = f.sort_values(["t", "payment"], kind="stable").reset_index(drop=True)
    f["edge"] = np.arange(len(f), dtype="int64")
    return f[cols]


SETTLEMENT_COLUMNS = ["payment", "declaration", "matched_on"]


@_memoised
def settlements(tables: Tables) -> pd.DataFrame:
    """Which declaration(s) each payment settles: ``Payment -[:SETTLES]-> Declaration``.

    One rule, declared once in the input contract (``model/files.yaml``: the payments row's
    ``SETTLES`` with ``lookup: [declaration_id, invoice_no]``) and applied by one function,
    :func:`graphiff.model.lookup.match_by_lookup`: a payment naming a ``declaration_id``
    settles every item (Declaration node) of that declaration; a payment naming none settles
    the declarations with its ``invoice_no``. Ingest writes the ``SETTLES`` relationships
    with it; this feature applies it to the stored ``Payment`` and ``Declaration`` properties,
    so it gives the same pairs and also covers payments loaded before their declarations.
    Invoice numbers are not unique across traders: an invoice match may name several
    declarations, and callers that need one choose among them.

    Returns
    -------
    DataFrame
        ``payment`` (Payment key), ``declaration`` (Declaration key), ``matched_on``
        (``"declaration_id"`` or ``"invoice_no"``), one row per distinct pair, sorted by
        payment then declaration key. Cost: one hash join per lookup property, O(P + D + matches).
    """
    return settlements_of(tables)


def settlements_of(tables: Tables, payments: Collection[str] | None = None) -> pd.DataFrame:
    """:func:`settlements` of the payments whose keys are in ``payments`` (all with ``None``),
    for callers that need a few payments only: only the declarations sharing a lookup value
    with those payments enter the join. Not memoised. Cost: one pass over the key and lookup
    columns, O(P + D), plus the joins of the selected rows."""
    p, d = tables.nodes("Payment"), tables.nodes("Declaration")
    if p is None or d is None or not len(p) or not len(d):
        return pd.DataFrame(columns=SETTLEMENT_COLUMNS)
    props = settles_lookup()
    pkey = text_objects(col(p, "key"))
    chosen = (pkey.notna() if payments is None else pkey.isin(set(payments))).to_numpy()
    pay = pd.DataFrame({"key": pkey[chosen], **{c: text_objects(col(p, c)[chosen]) for c in props}})
    pay = pay.reset_index(drop=True)
    dec = pd.DataFrame({"key": text_objects(col(d, "key")), **{c: text_objects(col(d, c)) for c in props}})
    dec = dec[dec["key"].notna()]
    if payments is not None:
        near = np.zeros(len(dec), dtype=bool)
        for c in props:
            near |= dec[c].isin(set(pay[c].dropna())).to_numpy()
        dec = dec[near]
    hit = match_by_lookup(pay, dec, props)
    if not len(hit):
        return pd.DataFrame(columns=SETTLEMENT_COLUMNS)
    out = pd.DataFrame({"payment": pay["key"].to_numpy(dtype=object)[hit["row"].to_numpy()],
                        "declaration": hit["key"].to_numpy(dtype=object),
                        "matched_on": hit["matched_on"].to_numpy(dtype=object)})
    return out.sort_values(["payment", "declaration"], kind="stable", ignore_index=True)


def settles_lookup() -> tuple[str, ...]:
    """The properties a payment's ``SETTLES`` is matched on, from the input contract."""
    for emit in model().files["payments"].emits:
        if emit.type == "SETTLES":
            return emit.target.lookup
    return ()


def _carried(tables: Tables) -> pd.DataFrame:
    """``decl, carrier_id, exporter_id, importer_id`` per declaration: its carrier (its
    ``carrier_id``, or ``CARRIED_BY`` for stores without the column) and parties (``EXPORTED``
    / ``IMPORTED_BY`` for stores without the columns)."""
    d = tables.nodes("Declaration")
    if d is None or not len(d):
        return pd.DataFrame(columns=["decl", "carrier_id", "exporter_id", "importer_id"])
    key = text_objects(col(d, "key"))
    car = text_objects(col(d, "carrier_id"))
    if "carrier_id" not in d.columns or car.isna().all():
        cb = tables.rels("CARRIED_BY")
        if len(cb):
            car = car.where(car.notna(), key.map(dict(zip(cb["src"].astype(str), cb["dst"].astype(str)))))
    exp, imp = text_objects(col(d, "exporter_id")), text_objects(col(d, "importer_id"))
    if "exporter_id" not in d.columns or "importer_id" not in d.columns:
        exp, imp = _parties_from_rels(tables, key, exp, imp)
    return pd.DataFrame({"decl": key, "carrier_id": car, "exporter_id": exp, "importer_id": imp})


def _carrier_use_rows(tables: Tables) -> pd.DataFrame:
    """``trader_id, carrier_id, decl``: one row per declaration and party (exporter, importer)
    naming a carrier (:func:`_carried`), in no particular order."""
    c = _carried(tables)
    f = pd.concat([
        pd.DataFrame({"trader_id": c["exporter_id"], "carrier_id": c["carrier_id"], "decl": c["decl"]}),
        pd.DataFrame({"trader_id": c["importer_id"], "carrier_id": c["carrier_id"], "decl": c["decl"]}),
    ], ignore_index=True)
    return f[(f["trader_id"].notna() & f["carrier_id"].notna() & f["decl"].notna()).to_numpy()]


@_memoised
def carrier_use_table(tables: Tables) -> pd.DataFrame:
    """Trader-carrier use: one row per (trader, carrier) with ``shipments`` (declarations
    naming the trader as exporter or importer and the carrier) and ``decls`` (their keys).
    Mirror declarations count once per declaration, i.e. a shipment seen by two
    administrations counts twice for both parties alike."""
    cols = ["trader_id", "carrier_id", "shipments", "decls"]
    f = _carrier_use_rows(tables)
    if not len(f):
        return pd.DataFrame(columns=cols)
    f = f.sort_values(["trader_id", "carrier_id", "decl"], kind="stable").reset_index(drop=True)
    tr, ca = f["trader_id"].to_numpy(dtype=object), f["carrier_id"].to_numpy(dtype=object)
    starts = np.flatnonzero(np.r_[True, (tr[1:] != tr[:-1]) | (ca[1:] != ca[:-1])])
    ends = np.r_[starts[1:], len(f)]
    keys = f["decl"].tolist()
    return pd.DataFrame({
        "trader_id": tr[starts], "carrier_id": ca[starts], "shipments": (ends - starts).astype("int64"),
        "decls": pd.Series([tuple(keys[a:b]) for a, b in zip(starts.tolist(), ends.tolist())], dtype=object),
    })[cols]


@_memoised
def carrier_shipments(tables: Tables) -> pd.DataFrame:
    """``trader_id, carrier_id, shipments``: :func:`carrier_use_table` without the declaration
    keys (what a clientele is measured on, and all a Spark part is given of it)."""
    f = _carrier_use_rows(tables)
    if not len(f):
        return pd.DataFrame({"trader_id": pd.Series(dtype=object), "carrier_id": pd.Series(dtype=object),
                             "shipments": pd.Series(dtype="int64")})
    return (f.groupby(["trader_id", "carrier_id"], sort=True).size().rename("shipments").astype("int64")
            .reset_index())


@_memoised
def trader_carried(tables: Tables) -> pd.DataFrame:
    """``trader_id, shipments``: per trader, its shipments with any carrier (the sum of its
    :func:`carrier_shipments` rows), what its dependency on a group of carriers is measured
    against. Cost: one group-by of :func:`carrier_shipments`."""
    use = carrier_shipments(tables)
    return use.groupby("trader_id", sort=True)["shipments"].sum().astype("int64").reset_index()


@_memoised
def carrier_declarations(tables: Tables, limit: int) -> pd.DataFrame:
    """Per carrier: ``declarations``, how many declarations name it and a trader (exporter or
    importer), and ``first``, the first ``limit`` of their keys in sorted order (a tuple): the
    evidence a group of carriers cites (a declaration has one carrier, so a group's count is
    the sum of its carriers' and its first keys are among theirs). Cost: one sort of the
    declarations with a carrier."""
    c = _carried(tables)
    cols = ["carrier_id", "declarations", "first"]
    c = c[(c["carrier_id"].notna() & c["decl"].notna() & (c["exporter_id"].notna() | c["importer_id"].notna()))
          .to_numpy()]
    if not len(c):
        return pd.DataFrame(columns=cols)
    c = c.drop_duplicates(["carrier_id", "decl"]).sort_values("decl", kind="stable")
    n = c.groupby("carrier_id", sort=True).size()
    first = c.groupby("carrier_id", sort=True).head(limit).groupby("carrier_id", sort=True)["decl"].agg(tuple)
    return pd.DataFrame({"carrier_id": n.index.to_numpy(dtype=object), "declarations": n.to_numpy(dtype="int64"),
                         "first": first.reindex(n.index).map(lambda v: v if isinstance(v, tuple) else ())
                         .to_numpy(dtype=object)})[cols]


@_memoised
def carrier_identifiers(tables: Tables) -> pd.DataFrame:
    """``kind, value, carrier``: the conveyances (``kind`` conveyance) and containers
    (``container``; ``container_ids`` split on ``;``, ``,`` and spaces) named on declarations
    with their ``carrier_id``, values upper-cased, one row per distinct triple: what two
    carriers can share through their declarations. Cost: one pass over the declarations."""
    d = tables.nodes("Declaration")
    cols = ["kind", "value", "carrier"]
    if d is None or not len(d):
        return pd.DataFrame(columns=cols)
    car = text_objects(col(d, "carrier_id"))
    conv = text_objects(col(d, "conveyance_id"))
    m = car.notna() & conv.notna()
    parts = [pd.DataFrame({"kind": "conveyance", "value": conv[m].str.upper(), "carrier": car[m]})]
    cont = text_objects(col(d, "container_ids"))
    m = car.notna() & cont.notna()
    if m.any():
        c = pd.DataFrame({"carrier": car[m], "value": cont[m].astype(str).str.upper().str.split(r"[;,\s]+")})
        c = c.explode("value")
        c = c[c["value"].notna() & (c["value"] != "")]
        parts.append(pd.DataFrame({"kind": "container", "value": c["value"], "carrier": c["carrier"]}))
    f = pd.concat(parts, ignore_index=True)[cols]
    return f.drop_duplicates(ignore_index=True).astype(object)


def feature_key(feature: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple:
    """The :meth:`Tables.memo` key under which the memoised ``feature`` keeps its result for
    these arguments."""
    return ("graph.features", feature.__name__, args, tuple(sorted(kwargs.items())))


def give_feature(tables: Tables, feature: Callable[..., Any], value: Any, *args: Any, **kwargs: Any) -> None:
    """Give ``tables`` the result of a memoised ``feature`` for these arguments, computed
    elsewhere (a Spark aggregate over every record, for a part that holds only some of them):
    calls of the feature on ``tables`` return it instead of computing it from their records."""
    tables.give(feature_key(feature, *args, **kwargs), value)


ID_RELS = {"LOCATED_AT": ("Address", "address"), "HAS_PHONE": ("Phone", "phone"), "HAS_EMAIL": ("Email", "email")}


# the rules ingest stores identifier nodes by (graphiff.model.values)
_IDENTIFIER_RULES: dict[str, Callable[..., pd.Series]] = {
    "address": values.normalise_address, "phone": values.normalise_phone, "email": values.normalise_email}


def identifier_links(tables: Tables, labels: tuple[str, ...] = ("Trader", "Person", "Carrier"),
                     shared_with: str | None = None) -> pd.DataFrame:
    """Who holds which shared identifier: rows ``(id_label, id_key, label, key)`` for
    Address/Phone/Email nodes linked by LOCATED_AT / HAS_PHONE / HAS_EMAIL. When a store has
    no such relationships, the identifiers are read from the entities' own ``address``,
    ``phone``, ``email`` columns (normalised as ingest does). With ``shared_with`` (a label),
    only the identifiers an entity of that label holds too: the rows a question about those
    entities reads (the carriers' identifiers and who else gives them), without building the
    table of every identifier. Cost: one pass over the three relationship types."""
    return _identifier_links(tables, tuple(labels), shared_with)


@_memoised
def _identifier_links(tables: Tables, labels: tuple[str, ...], shared_with: str | None = None) -> pd.DataFrame:
    rows = []
    for rel, (id_label, prop) in ID_RELS.items():
        r = tables.rels(rel)
        if len(r):
            src = r["src_label"]
            if shared_with is not None:
                held = r["dst"][(src == shared_with).to_numpy()].astype(str).unique()
                r = r[r["dst"].astype(str).isin(held).to_numpy()]
                src = r["src_label"]
            r = r[src.isin(labels).to_numpy()]
            rows.append(pd.DataFrame({"id_label": id_label, "id_key": r["dst"].astype(str).to_numpy(),
                                      "label": r["src_label"].astype(str).to_numpy(),
                                      "key": r["src"].astype(str).to_numpy()}))
        else:
            found: dict[str, pd.DataFrame] = {}
            for label in dict.fromkeys((*labels, *([shared_with] if shared_with else []))):
                n = tables.nodes(label)
                if len(n) and prop in n.columns:
                    v = _IDENTIFIER_RULES[prop](n[prop]).astype(object)
                    m = v.notna()
                    found[label] = pd.DataFrame({"id_label": id_label, "id_key": v[m].to_numpy(), "label": label,
                                                 "key": n.loc[m, "key"].astype(str).to_numpy()})
            if shared_with is not None:
                held = set(found[shared_with]["id_key"]) if shared_with in found else set()
                found = {label: f[f["id_key"].isin(held).to_numpy()] for label, f in found.items()}
            rows.extend(f for label, f in found.items() if label in labels)
    if not rows:
        return pd.DataFrame(columns=["id_label", "id_key", "label", "key"])
    return pd.concat(rows, ignore_index=True).drop_duplicates(ignore_index=True)


@_memoised
def officer_table(tables: Tables) -> pd.DataFrame:
    """OFFICER_OF as a table: ``officer_label, officer, company_label, company, role, share_pct``."""
    r = tables.rels("OFFICER_OF")
    cols = ["officer_label", "officer", "company_label", "company", "role", "share_pct"]
    if not len(r):
        return pd.DataFrame(columns=cols)
    return pd.DataFrame({
        "officer_label": r["src_label"].astype(str).to_numpy(), "officer": r["src"].astype(str).to_numpy(),
        "company_label": r["dst_label"].astype(str).to_numpy(), "company": r["dst"].astype(str).to_numpy(),
        "role": text_objects(col(r, "role")).fillna("").str.upper().to_numpy(),
        "share_pct": num(col(r, "share_pct")).to_numpy(),
    })



@_memoised
def usd_rates(tables: Tables) -> pd.DataFrame:
    """The exchange rates loaded (``Rate`` nodes): ``currency`` (upper case), ``month``
    (``YYYY-MM``), ``usd_per_unit`` (positive float), one row per currency and month, sorted."""
    r = tables.nodes("Rate")
    cols = ["currency", "month", "usd_per_unit"]
    if r is None or not len(r):
        return pd.DataFrame(columns=cols)
    f = pd.DataFrame({"currency": text_objects(col(r, "currency")).str.upper(),
                      "month": text_objects(col(r, "month")).str.slice(0, 7),
                      "usd_per_unit": num(col(r, "usd_per_unit"))})
    f = f[f["currency"].notna() & f["month"].notna() & (f["usd_per_unit"] > 0)]
    return f.drop_duplicates(["currency", "month"], keep="last").sort_values(cols[:2], ignore_index=True)[cols]


def usd_per_unit(tables: Tables, currency: str, dates: pd.Series) -> np.ndarray:
    """USD per one unit of ``currency`` in the month of each date (ISO strings): that month's
    rate, else the nearest month's; 1 for USD; NaN where the currency has no rate at all or the
    date is missing. What converts a threshold set in one currency into USD the way ingest
    converts amounts into USD (the rate of the declaration's month).

    Cost: O(n log m) for n dates and m months of rates.
    """
    cur = str(currency).upper()
    n = len(dates)
    if cur == "USD":
        return np.ones(n, dtype="float64")
    r = usd_rates(tables)
    r = r[r["currency"] == cur]
    if not len(r) or not n:
        return np.full(n, np.nan)
    months = pd.to_datetime(r["month"] + "-01", errors="coerce")
    ok = months.notna().to_numpy()
    m = months[ok].to_numpy().astype("datetime64[M]").astype("int64")
    v = r["usd_per_unit"].to_numpy(dtype="float64")[ok]
    if not len(m):
        return np.full(n, np.nan)
    d = pd.to_datetime(pd.Series(dates, dtype="object").astype("string").str.slice(0, 7) + "-01",
                       format="%Y-%m-%d", errors="coerce")
    q = d.to_numpy().astype("datetime64[M]").astype("int64")
    i = np.clip(np.searchsorted(m, q), 0, len(m) - 1)
    j = np.clip(i - 1, 0, len(m) - 1)
    pick = np.where(np.abs(m[j] - q) <= np.abs(m[i] - q), j, i)
    out = v[pick]
    out[d.isna().to_numpy()] = np.nan
    return out

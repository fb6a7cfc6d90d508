"""Store tables -> graphs.

:class:`Tables` hands detectors and explorers the node and relationship tables of a store,
read once and cached. The graph projections (trade flow, money flow, carrier use, ownership and
shared identifiers) are built from these tables, so every detector runs the same on the
embedded store and on Neo4j.
"""
from __future__ import annotations

import weakref

import numpy as np
import pandas as pd

from graphiff.graph.tables import Tables

# ---------------------------------------------------------------------------------------------
# Projections: tables -> graphs
# ---------------------------------------------------------------------------------------------
# Every projection comes in two forms: a ``*_edges``/``*_table`` function returning a tidy
# DataFrame (what detectors use, vectorised) and a graph function returning a python-igraph
# graph built from it (what explorers and the cycle search use). Missing columns are tolerated:
# small in-memory examples only need the columns they use.


#: projection tables computed once per Tables (weakly keyed: they go with the Tables)
_CACHE: "weakref.WeakKeyDictionary[Tables, dict]" = weakref.WeakKeyDictionary()


def _cached(fn):
    """Compute a projection once per Tables (and arguments); hand out shallow copies, so a
    caller adding columns never changes what the next caller gets."""
    import functools

    @functools.wraps(fn)
    def wrapper(tables, *args, **kwargs):
        key = (fn.__name__, args, tuple(sorted(kwargs.items())))
        try:
            cache = _CACHE.setdefault(tables, {})
        except TypeError:  # not weak-referenceable: no cache
            return fn(tables, *args, **kwargs)
        if key not in cache:
            cache[key] = fn(tables, *args, **kwargs)
        v = cache[key]
        if isinstance(v, pd.DataFrame):
            return v.copy(deep=False)
        if isinstance(v, dict):
            return dict(v)
        return v

    return wrapper


def col(df: pd.DataFrame, name: str, default=None) -> pd.Series:
    """``df[name]`` or a column of ``default`` when the table has no such column."""
    if name in df.columns:
        return df[name]
    return pd.Series([default] * len(df), index=df.index, dtype="object" if default is None else None)


def _str(s: pd.Series) -> pd.Series:
    """A string column as Python objects, stripped, with missing values and blanks as None."""
    if isinstance(s.dtype, pd.StringDtype):
        st = s.str.strip()
        bad = (st.isna() | (st.str.len() == 0)).to_numpy(dtype=bool, na_value=True)
        arr = st.to_numpy(dtype=object, na_value=None)
    else:
        m = s.notna().to_numpy()
        arr = np.full(len(s), None, dtype=object)
        if m.any():
            arr[m] = s[m].astype(str).str.strip().to_numpy(dtype=object)
        bad = ~m
        bad[m] = np.array([len(x) == 0 for x in arr[m]], dtype=bool)
    arr[bad] = None
    return pd.Series(arr, index=s.index, dtype="object")


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s, errors="coerce").astype("float64")


def day_numbers(dates: pd.Series) -> np.ndarray:
    """ISO date strings -> int64 day numbers since 1970-01-01 (missing dates -> ``INT64_MIN``)."""
    dt = pd.to_datetime(dates, errors="coerce", format="mixed") if len(dates) else pd.to_datetime(dates)
    return dt.values.astype("datetime64[D]").astype("int64")


def _hs(code: pd.Series, level: int) -> pd.Series:
    s = _str(code)
    m = s.notna()
    if m.any():
        v = s[m].astype(str).str.replace(r"\D", "", regex=True).str[:level]
        v = v.astype(object)
        v[v == ""] = None
        s[m] = v
    return s


def _doc(s: pd.Series) -> pd.Series:
    """Document numbers compared loosely: upper case, letters and digits only."""
    v = _str(s)
    m = v.notna()
    if m.any():
        v[m] = v[m].astype(str).str.upper().str.replace(r"[^0-9A-Z]", "", regex=True)
        v[m & (v.astype(str) == "")] = None
    return v


def trade_edges(tables: Tables, hs_level: int = 6) -> pd.DataFrame:
    """One row per shipment exporter -> importer (mirror declarations merged).

    The export declaration in one administration and the import declaration of the same
    shipment in the partner administration are two Declaration nodes; for trade-flow purposes
    they are one shipment. Rows are merged on ``(exporter_id, importer_id, hs6, document)``
    where the document is ``transport_doc_no``, else ``invoice_no`` (compared in upper case,
    letters and digits only; rows with neither stay single). Items of one declaration with
    the same key are summed. The export side's date and values are kept when there is one
    (else the import side's).

    Computed once per ``Tables`` (later calls return a shallow copy of the cached table).
    Cost: O(D log D) for D declaration rows.

    Returns columns ``edge`` (0..n-1), ``src``, ``dst`` (trader keys), ``decl`` (the
    representative declaration key), ``decls`` (all keys merged, a tuple), ``date`` (ISO),
    ``t`` (day number), ``hs`` (first ``hs_level`` digits), ``hs6``, ``net_mass_kg``,
    ``value_usd``, ``quantity``, ``carrier_id``, ``src_country``, ``dst_country``, sorted by
    ``(t, decl)``. Declarations without both parties or a date are left out.
    """
    return _trade_edges(tables, int(hs_level))


@_cached
def _trade_edges(tables: Tables, hs_level: int) -> pd.DataFrame:
    d = tables.nodes("Declaration")
    cols = ["edge", "src", "dst", "decl", "decls", "date", "t", "hs", "hs6", "net_mass_kg", "value_usd",
            "quantity", "carrier_id", "src_country", "dst_country"]
    if d is None or not len(d):
        return pd.DataFrame(columns=cols)
    key = _str(col(d, "key"))
    exp = _str(col(d, "exporter_id"))
    imp = _str(col(d, "importer_id"))
    if "exporter_id" not in d.columns or "importer_id" not in d.columns:
        exp, imp = _parties_from_rels(tables, key, exp, imp)
    hs6 = _str(col(d, "hs6"))
    if hs6.isna().any():
        miss = hs6.isna()
        hs6[miss] = _hs(col(d, "hs_code")[miss], 6)
    doc = _doc(col(d, "transport_doc_no"))
    if doc.isna().any():
        miss = doc.isna()
        inv = _doc(col(d, "invoice_no")[miss])
        doc[miss] = ("inv:" + inv.where(inv.notna(), "")).where(inv.notna(), None)
    date = _str(col(d, "date"))
    f = pd.DataFrame({
        "key": key, "src": exp, "dst": imp, "hs6": hs6, "doc": doc, "date": date,
        "flow_rank": _str(col(d, "flow")).map({"EXPORT": 0, "IMPORT": 1}).fillna(2).astype("int64"),
        "value_usd": _num(col(d, "value_usd")), "net_mass_kg": _num(col(d, "net_mass_kg")),
        "quantity": _num(col(d, "quantity")), "carrier_id": _str(col(d, "carrier_id")),
        "src_country": _str(col(d, "exporter_country")), "dst_country": _str(col(d, "importer_country")),
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
    agg["date"] = (agg["t"].to_numpy().astype("datetime64[D]")).astype(str)
    agg["hs"] = agg["hs6"].str[:hs_level] if hs_level < 6 else agg["hs6"]
    agg = agg.sort_values(["t", "decl"], kind="stable").reset_index(drop=True)
    agg["edge"] = np.arange(len(agg), dtype="int64")
    for c in ("src", "dst", "decl", "hs", "hs6", "carrier_id", "src_country", "dst_country"):
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


def _trader_countries(tables: Tables, e: pd.DataFrame | None = None) -> dict[str, str]:
    parts = []
    if e is not None and len(e):
        parts += [pd.DataFrame({"k": e["src"].to_numpy(dtype=object), "c": e["src_country"].to_numpy(dtype=object)}),
                  pd.DataFrame({"k": e["dst"].to_numpy(dtype=object), "c": e["dst_country"].to_numpy(dtype=object)})]
    tr = tables.nodes("Trader")
    if len(tr) and "country" in tr.columns:  # traders.csv wins: last
        parts.append(pd.DataFrame({"k": tr["key"].astype(str).to_numpy(dtype=object),
                                   "c": _str(tr["country"]).to_numpy(dtype=object)}))
    if not parts:
        return {}
    f = pd.concat(parts, ignore_index=True)
    f = f[f["k"].notna() & f["c"].notna()].drop_duplicates("k", keep="last")
    return dict(zip(f["k"], f["c"]))


@_cached
def trader_countries(tables: Tables) -> dict[str, str]:
    """Trader key -> country (traders.csv first, else the country named on declarations)."""
    return _trader_countries(tables, trade_edges(tables))


@_cached
def account_holders(tables: Tables) -> dict[str, str]:
    """BankAccount key -> holder key (``holder_id``, else the HOLDS relationship)."""
    acc = tables.nodes("BankAccount")
    out: dict[str, str] = {}
    h = tables.rels("HOLDS")
    if len(h):
        out.update(dict(zip(h["dst"].astype(str), h["src"].astype(str))))
    if len(acc) and "holder_id" in acc.columns:
        out.update({str(k): v for k, v in zip(acc["key"], _str(acc["holder_id"])) if v is not None})
    return out


@_cached
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
    src = _str(col(p, "from_account"))
    dst = _str(col(p, "to_account"))
    if "from_account" not in p.columns or "to_account" not in p.columns:
        sent, recv = tables.rels("SENT"), tables.rels("RECEIVED_BY")
        key = _str(col(p, "key"))
        if len(sent):
            src = src.where(src.notna(), key.map(dict(zip(sent["dst"].astype(str), sent["src"].astype(str)))))
        if len(recv):
            dst = dst.where(dst.notna(), key.map(dict(zip(recv["src"].astype(str), recv["dst"].astype(str)))))
    amt = _num(col(p, "amount_usd"))
    usd = _str(col(p, "currency")).map(lambda v: v is not None and v.upper() == "USD").astype(bool)
    amt = amt.where(amt.notna(), _num(col(p, "amount")).where(usd))
    f = pd.DataFrame({
        "src": src, "dst": dst, "payment": _str(col(p, "key")),
        "date": _str(col(p, "date")).map(lambda v: None if v is None else v[:10]),
        "amount_usd": amt, "invoice_no": _str(col(p, "invoice_no")),
        "declaration_id": _str(col(p, "declaration_id")),
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


@_cached
def carrier_use_table(tables: Tables) -> pd.DataFrame:
    """Trader-carrier use: one row per (trader, carrier) with ``shipments`` (declarations
    naming the trader as exporter or importer and the carrier) and ``decls`` (their keys).
    Mirror declarations count once per declaration, i.e. a shipment seen by two
    administrations counts twice for both parties alike."""
    d = tables.nodes("Declaration")
    cols = ["trader_id", "carrier_id", "shipments", "decls"]
    if d is None or not len(d):
        return pd.DataFrame(columns=cols)
    key = _str(col(d, "key"))
    car = _str(col(d, "carrier_id"))
    if "carrier_id" not in d.columns or car.isna().all():
        cb = tables.rels("CARRIED_BY")
        if len(cb):
            car = car.where(car.notna(), key.map(dict(zip(cb["src"].astype(str), cb["dst"].astype(str)))))
    exp, imp = _str(col(d, "exporter_id")), _str(col(d, "importer_id"))
    if "exporter_id" not in d.columns or "importer_id" not in d.columns:
        exp, imp = _parties_from_rels(tables, key, exp, imp)
    f = pd.concat([
        pd.DataFrame({"trader_id": exp, "carrier_id": car, "decl": key}),
        pd.DataFrame({"trader_id": imp, "carrier_id": car, "decl": key}),
    ], ignore_index=True)
    f = f[f["trader_id"].notna() & f["carrier_id"].notna() & f["decl"].notna()]
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


_ID_RELS = {"LOCATED_AT": ("Address", "address"), "HAS_PHONE": ("Phone", "phone"), "HAS_EMAIL": ("Email", "email")}


def _norm_identifier(kind: str, v: str) -> str | None:
    if v is None:
        return None
    if kind == "phone":
        digits = "".join(ch for ch in v if ch.isdigit())
        return ("+" + digits) if digits else None
    if kind == "email":
        return v.strip().lower() or None
    return " ".join(v.upper().replace(",", " ").split()) or None


def identifier_links(tables: Tables, labels: tuple[str, ...] = ("Trader", "Person", "Carrier")) -> pd.DataFrame:
    """Who holds which shared identifier: rows ``(id_label, id_key, label, key)`` for
    Address/Phone/Email nodes linked by LOCATED_AT / HAS_PHONE / HAS_EMAIL. When a store has
    no such relationships, the identifiers are read from the entities' own ``address``,
    ``phone``, ``email`` columns (lightly normalised)."""
    return _identifier_links(tables, tuple(labels))


@_cached
def _identifier_links(tables: Tables, labels: tuple[str, ...]) -> pd.DataFrame:
    rows = []
    for rel, (id_label, prop) in _ID_RELS.items():
        r = tables.rels(rel)
        if len(r):
            r = r[r["src_label"].isin(labels)]
            rows.append(pd.DataFrame({"id_label": id_label, "id_key": r["dst"].astype(str).to_numpy(),
                                      "label": r["src_label"].astype(str).to_numpy(),
                                      "key": r["src"].astype(str).to_numpy()}))
        else:
            for label in labels:
                n = tables.nodes(label)
                if len(n) and prop in n.columns:
                    v = _str(n[prop]).map(lambda x, p=prop: _norm_identifier(p, x))
                    m = v.notna()
                    rows.append(pd.DataFrame({"id_label": id_label, "id_key": v[m].to_numpy(), "label": label,
                                              "key": n.loc[m, "key"].astype(str).to_numpy()}))
    if not rows:
        return pd.DataFrame(columns=["id_label", "id_key", "label", "key"])
    return pd.concat(rows, ignore_index=True).drop_duplicates(ignore_index=True)


@_cached
def officer_table(tables: Tables) -> pd.DataFrame:
    """OFFICER_OF as a table: ``officer_label, officer, company_label, company, role, share_pct``."""
    r = tables.rels("OFFICER_OF")
    cols = ["officer_label", "officer", "company_label", "company", "role", "share_pct"]
    if not len(r):
        return pd.DataFrame(columns=cols)
    return pd.DataFrame({
        "officer_label": r["src_label"].astype(str).to_numpy(), "officer": r["src"].astype(str).to_numpy(),
        "company_label": r["dst_label"].astype(str).to_numpy(), "company": r["dst"].astype(str).to_numpy(),
        "role": _str(col(r, "role")).fillna("").str.upper().to_numpy(),
        "share_pct": _num(col(r, "share_pct")).to_numpy(),
    })


"""Candidate pairs: which records are worth comparing at all (blocking).

Two records become a candidate pair when they share a blocking value of one kind: the same
tax id (passport for persons), phone, email, address, bank account held or officer (a person
directing both, or a company both direct), the same name core,
or the same name core with one word left out (catches a typo or a dropped word in one of
them) in the same country (for persons: with the same birth date). Accounts pair on their
national number. An identifier shared by more than ``max_block`` records is a placeholder or a
registered agent (a clerk's "123456789", a formation agent's address), not an identity: it
makes no pair, and scoring counts it as no evidence (:func:`value_counts`). A name blocks up to
:data:`NAME_BLOCK_FACTOR` times larger (a company known to every administration has as many
records under its name).
"""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

#: a trader's or carrier's name (core) blocks up to this many times ``max_block`` records ...
NAME_BLOCK_FACTOR = 5
#: ... a block larger than ``max_block`` pairing each record with the next this many of it
NAME_WINDOW = 6
#: identifier fields: ``;``-joined values, any one shared makes a candidate pair
ID_FIELDS = ("tin", "phone", "email", "address", "accounts")


def _explode(recs: pd.DataFrame, field: str) -> pd.DataFrame:
    if field not in recs.columns:
        return pd.DataFrame({"i": np.empty(0, dtype=np.int64), "v": np.empty(0, dtype=object)})
    s = recs[field]
    has = s.notna().to_numpy() & (s.astype("string").fillna("") != "").to_numpy()
    e = pd.DataFrame({"i": np.flatnonzero(has), "v": s[has].astype(str).str.split(";").to_numpy()}).explode("v")
    return e[e["v"].astype(str) != ""]


def value_counts(recs: pd.DataFrame, field: str) -> dict[str, int]:
    """How many records carry each value of an identifier field (``;``-joined values count
    one each): what tells a placeholder from an identity."""
    e = _explode(recs, field)
    return e.groupby("v")["i"].nunique().to_dict() if len(e) else {}


def _name_keys(recs: pd.DataFrame, label: str) -> pd.DataFrame:
    """``(i, v)`` name blocking values: the core, and the core minus one word + country (or
    birth date for persons)."""
    core = recs["core"].fillna("").astype(str).to_numpy()
    ctx = (recs["birth_date"] if label == "Person" and "birth_date" in recs.columns else recs["country"])
    ctx = ctx.astype("string").fillna("").to_numpy()
    idx, vals = [], []
    for i, (c, x) in enumerate(zip(core, ctx)):
        if not c:
            continue
        idx.append(i)
        vals.append("=" + c)
        words = c.split()
        if x:
            idx.append(i)
            vals.append("-" + c + "|" + str(x))
        if len(words) >= 2 and x:
            for k in range(len(words)):
                idx.append(i)
                vals.append("-" + " ".join(words[:k] + words[k + 1:]) + "|" + str(x))
    return pd.DataFrame({"i": np.asarray(idx, dtype=np.int64), "v": np.asarray(vals, dtype=object)})


def candidate_pairs(recs: pd.DataFrame, label: str, *, max_block: int = 20) -> tuple[pd.DataFrame, dict[str, int]]:
    """The candidate pairs of one label's records (:func:`graphiff.resolve.records.records`).

    Parameters
    ----------
    recs : DataFrame
        The records, in row order (pairs name rows by position).
    label : str
        Their label (persons block names with their birth date, accounts on their number).
    max_block : int, default 20
        A blocking value shared by more records than this makes no pair.

    Returns
    -------
    (DataFrame, dict)
        Pairs ``i < j`` (row positions) with ``blocks`` (the kinds of value they share,
        ``,``-joined), and ``{kind: values skipped as too common}``.

    Cost: O(n) to make the blocking values, plus O(b²) per block of b ≤ ``max_block``
    records (one DuckDB self-join on the blocking values).

    >>> r = pd.DataFrame({"core": ["acme metal", "acme metal", "acme mineral", ""], "country": ["KE"] * 4,
    ...                   "tin": [None, None, None, "X1"], "phone": [None, None, "1", "1"]})
    >>> pairs, skipped = candidate_pairs(r, "Trader")
    >>> pairs.to_dict("records")
    [{'i': 0, 'j': 1, 'blocks': 'name'}, {'i': 0, 'j': 2, 'blocks': 'name'}, {'i': 1, 'j': 2, 'blocks': 'name'}, \
{'i': 2, 'j': 3, 'blocks': 'phone'}]
    """
    if label == "BankAccount":
        kinds = [("number", _explode(recs, "number"))]
    else:
        kinds = [(f, _explode(recs, f)) for f in (*ID_FIELDS, "officers")] + [("name", _name_keys(recs, label))]
    skipped: dict[str, int] = {}
    names = [k for k, _ in kinds]
    parts = []
    for bit, (kind, e) in enumerate(kinds):
        if not len(e):
            continue
        e = e.drop_duplicates()
        size = e.groupby("v")["i"].transform("size").to_numpy()
        # a company's name is no placeholder: its records under many administrations' ids share
        # it, so a trader's or carrier's name blocks up to NAME_BLOCK_FACTOR times larger, each
        # record paired with the next few of the block only (a chain joins them all)
        wide = kind == "name" and label != "Person"
        big = size > (max_block * NAME_BLOCK_FACTOR if wide else max_block)
        if big.any():
            skipped[kind] = int(e.loc[big, "v"].nunique())
        keep = (size >= 2) & ~big
        e = e[keep]
        if len(e):
            parts.append(pd.DataFrame({"i": e["i"].to_numpy(dtype=np.int64),
                                       "v": (str(bit) + ":" + e["v"].astype(str)).to_numpy(),
                                       "bit": np.int64(1 << bit), "size": size[keep].astype(np.int64)}))
    if not parts:
        return pd.DataFrame({"i": np.empty(0, np.int64), "j": np.empty(0, np.int64), "blocks": []}), skipped
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")  # DuckDB's own bar goes to stdout
    try:
        con.register("e", pd.concat(parts, ignore_index=True))
        p = con.execute(
            "WITH r AS (SELECT *, row_number() OVER (PARTITION BY v ORDER BY i) AS rn FROM e) "
            "SELECT a.i AS i, b.i AS j, bit_or(a.bit) AS bits FROM r a JOIN r b ON a.v = b.v AND a.i < b.i "
            "AND (a.size <= ? OR b.rn - a.rn <= ?) GROUP BY a.i, b.i ORDER BY a.i, b.i",
            [max_block, NAME_WINDOW]).df()
    finally:
        con.close()
    labels = {b: ",".join(n for k, n in enumerate(names) if int(b) >> k & 1) for b in p["bits"].unique()}
    p["blocks"] = p["bits"].map(labels)
    return p[["i", "j", "blocks"]].astype({"i": np.int64, "j": np.int64}), skipped

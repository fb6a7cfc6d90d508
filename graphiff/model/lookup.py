"""The lookup rule of the input contract (``lookup:`` in files.yaml): which stored nodes a row
names by a property rather than by key."""
from __future__ import annotations

import numpy as np
import pandas as pd


def match_by_lookup(rows: pd.DataFrame, stored: pd.DataFrame, props: tuple[str, ...]) -> pd.DataFrame:
    """The lookup rule of the input contract (``lookup:`` in files.yaml): match each row to the
    stored nodes whose property equals the row's, trying ``props`` in order and using a later
    property only for rows that have none of the earlier ones (``SETTLES``: a payment's
    ``declaration_id``, else its ``invoice_no``). Ingest writes ``SETTLES`` with it (through
    :meth:`graphiff.stores.base.Store.lookup_nodes`) and
    :func:`graphiff.graph.features.settlements` reads settlements with it.

    Parameters
    ----------
    rows : DataFrame
        ``key`` plus (some of) ``props``; missing values are ``None``/NA.
    stored : DataFrame
        ``key`` plus (some of) ``props`` of the stored nodes.
    props : tuple of str
        The properties to match on, in order of preference.

    Returns
    -------
    DataFrame
        ``row`` (position in ``rows``), ``key`` (matched stored key), ``matched_on`` (the
        property), one row per distinct (row, key), in order of ``props``. Cost: one hash join
        per property, O(R + S + matches).

    >>> rows = pd.DataFrame({"key": ["P1", "P2"], "declaration_id": ["D1", None], "invoice_no": ["I9", "I9"]})
    >>> stored = pd.DataFrame({"key": ["D1/1", "D2/1"], "declaration_id": ["D1", "D2"], "invoice_no": [None, "I9"]})
    >>> match_by_lookup(rows, stored, ("declaration_id", "invoice_no")).values.tolist()
    [[0, 'D1/1', 'declaration_id'], [1, 'D2/1', 'invoice_no']]
    """
    earlier = np.zeros(len(rows), dtype=bool)
    links = []
    for prop in props:
        if prop not in rows:
            continue
        has = rows[prop].notna().to_numpy()
        if prop in stored and has.any():
            m = pd.DataFrame({"row": np.flatnonzero(has & ~earlier), prop: rows[prop].to_numpy()[has & ~earlier]})
            hit = m.merge(stored[["key", prop]].dropna(), on=prop)[["row", "key"]]
            links.append(hit.assign(matched_on=prop))
        earlier |= has
    if not links:
        return no_matches()
    return pd.concat(links, ignore_index=True).drop_duplicates(["row", "key"], ignore_index=True)


def no_matches() -> pd.DataFrame:
    """The result of :func:`match_by_lookup` when no row matches: ``row``, ``key``,
    ``matched_on`` with no rows."""
    return pd.DataFrame({"row": pd.Series(dtype="int64"), "key": pd.Series(dtype=object),
                         "matched_on": pd.Series(dtype=object)})

"""Provenance-stamped writes into a store: every node and relationship row a load writes
carries the file, line, load id and load time it came from.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from graphiff.stores import Store

PROVENANCE_COLUMNS = ("_source", "_line", "_load_id", "_loaded_at")


@dataclass(frozen=True)
class Provenance:
    """Where rows come from: the file name, the load, its time and the line of each row.

    Parameters
    ----------
    source : str
        The input file name (no folder), stored as ``_source``.
    load_id : str
        The load's id, stored as ``_load_id``.
    loaded_at : str
        The load's start time (UTC, ISO 8601), stored as ``_loaded_at``.
    lines : array of int, optional
        The input line of each row to stamp, stored as ``_line``; when not given, the rows'
        own ``_line`` column is kept. See :meth:`at`.
    """

    source: str
    load_id: str
    loaded_at: str
    lines: np.ndarray | None = None

    def at(self, lines: np.ndarray) -> Provenance:
        """The same provenance for rows read at ``lines`` (one per row)."""
        return replace(self, lines=np.asarray(lines))

    def stamp(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A copy of ``frame`` with the provenance columns added. Cost: one copy of the frame.

        >>> p = Provenance("traders.csv", "L1", "2024-01-01T00:00:00Z")
        >>> p.at(np.array([2])).stamp(pd.DataFrame({"key": ["T1"]})).iloc[0].to_dict()
        {'key': 'T1', '_source': 'traders.csv', '_line': 2, '_load_id': 'L1', '_loaded_at': '2024-01-01T00:00:00Z'}
        """
        out = frame.copy()
        out["_source"] = self.source
        if self.lines is not None:
            out["_line"] = self.lines.astype("int64")
        elif "_line" not in out.columns:
            raise ValueError("rows need their input lines: Provenance.at(lines) or a _line column")
        out["_load_id"] = self.load_id
        out["_loaded_at"] = self.loaded_at
        return out


def write_nodes(store: Store, label: str, frame: pd.DataFrame, prov: Provenance, *,
                on_conflict: Literal["update", "keep"] = "update") -> int:
    """Upsert node rows of ``label`` stamped with their provenance.

    Parameters
    ----------
    store : Store
        Where to write.
    label : str
        A node label of the model.
    frame : DataFrame
        One row per node, with a ``key`` column and the node's properties.
    prov : Provenance
        Where the rows come from (with their lines, or ``frame`` has a ``_line`` column).
    on_conflict : {"update", "keep"}
        ``update`` overwrites properties of existing nodes, ``keep`` leaves them as they are
        (nodes derived from another file's rows never overwrite a node of its own file).

    Returns
    -------
    int
        The number of rows written. Cost: one frame copy and one store upsert.
    """
    if not len(frame):
        return 0
    store.upsert_nodes(label, prov.stamp(frame), on_conflict=on_conflict)
    return len(frame)


def rel_rows(src_label: object, src: pd.Series, dst_label: object, dst: pd.Series, prov: Provenance,
             **props: pd.Series) -> pd.DataFrame:
    """Relationship rows ``src_label, src, dst_label, dst, props..., provenance``, without the
    rows whose ``src`` or ``dst`` is missing. Labels are one string or one per row; ``prov``
    carries the line of each row."""
    df = pd.DataFrame({"src_label": src_label, "src": src.to_numpy(), "dst_label": dst_label, "dst": dst.to_numpy(),
                       **{k: v.to_numpy() for k, v in props.items()}})
    df = prov.stamp(df)
    return df[df["src"].notna() & df["dst"].notna()].reset_index(drop=True)


def write_rels(store: Store, rel_type: str, frame: pd.DataFrame, prov: Provenance | None = None) -> int:
    """Upsert relationship rows of ``rel_type``.

    Parameters
    ----------
    store : Store
        Where to write.
    rel_type : str
        A relationship type of the model.
    frame : DataFrame
        Rows with ``src_label, src, dst_label, dst`` and properties; rows with a missing end
        are dropped.
    prov : Provenance, optional
        When given, the rows are stamped with it; when not, ``frame`` already carries the
        provenance columns (as :func:`rel_rows` makes them).

    Returns
    -------
    int
        The number of rows written. Cost: one frame copy and one store upsert.
    """
    if prov is not None:
        frame = prov.stamp(frame)
    frame = frame[frame["src"].notna() & frame["dst"].notna()].reset_index(drop=True)
    store.upsert_rels(rel_type, frame)
    return len(frame)

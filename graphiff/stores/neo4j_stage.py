"""Units of work on the Neo4j store (:meth:`graphiff.stores.base.Store.atomic`): stage, then
publish, or roll back.

While a unit is open, every batch the store would MERGE is kept instead as a staging record
``(:_Stage {unit, seq, stmt, names, label, rows})`` (``rows`` as JSON text), under a marker
``(:_Unit {unit, load_id, state})``. Labels starting with ``_`` are bookkeeping: no read the
store offers (``nodes``, ``rels``, ``counts``, ``loads``) sees them, so nothing of the unit is
visible. The unit's own reads of nodes fold its staged batches over the stored nodes
(:func:`fold_nodes`), so the loader's lookups see what the load wrote.

Commit: the unit's new columns are registered, the marker turns ``publishing`` (the commit
point, carrying the load record), then each staged batch is applied with the ordinary MERGE
statement and deleted in the same transaction, in write order, and finally the load is recorded
and the marker dropped. Rollback: the staging records and the marker are deleted.

A process killed while staging leaves invisible records only: they are removed when the same
load runs again (its unit is rolled back), or by ``wipe``. A process killed while publishing
leaves part of the load visible and no load record: the next process to open the store rolls
the unit forward (the remaining batches, then the load record), and so does a re-run, so the
store converges to the committed load. Each apply transaction first writes the marker (a lock),
so two processes publishing one unit apply each batch once, in order.
"""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

from graphiff.errors import StoreError
from graphiff.stores.cypher import cypher

#: statements a staging record may name, and the parameter holding their rows
STAGEABLE = {"merge_nodes": "rows", "merge_nodes_keep": "rows", "merge_keys": "keys", "merge_rels": "rows"}
#: staging records written per transaction
RECORDS_PER_TX = 4
#: staging records deleted per transaction on rollback
DROP_BATCH = 500

Work = Callable[[Any], Any]
Runner = Callable[[Work, str], Any]


class Unit:
    """One open unit of work of a Neo4j store.

    Parameters
    ----------
    write, read : callable
        ``write(work, what)`` / ``read(work, what)`` run ``work(tx)`` in a managed write / read
        transaction of the store (retried on transient errors).
    load_id : str
        The load the unit writes.
    """

    def __init__(self, write: Runner, read: Runner, load_id: str):
        self.write, self.read = write, read
        self.load_id = load_id
        self.unit = f"{load_id}:{uuid.uuid4().hex[:12]}"
        self.seq = 0
        self.info: dict[str, Any] | None = None
        #: columns this unit adds, per column registry id ("node:Trader"), in first-seen order
        self.columns: dict[str, dict[str, str]] = {}
        #: labels with staged node batches (their reads fold the staged rows)
        self.labels: set[str] = set()

    # ---- staging ------------------------------------------------------------------------
    def begin(self) -> None:
        """Roll back units of the same load left staging by earlier runs, then open this one."""
        stale = self.read(lambda tx: [r["unit"] for r in tx.run(cypher("unit_stale"), load_id=self.load_id)],
                          "looking for earlier runs of the load")
        for unit in stale:
            drop(self.write, unit)
        started = datetime.now(timezone.utc).isoformat()
        q = cypher("unit_begin")
        self.write(lambda tx: tx.run(q, unit=self.unit, load_id=self.load_id, started=started).consume(),
                   "starting the load")

    def stage(self, stmt: str, names: dict[str, str], batches: Iterable[dict[str, Any]],
              send: Callable[[str, Iterable[dict[str, Any]], str, int], None], what: str, workers: int) -> None:
        """Keep ``batches`` (the parameters ``stmt`` would run with) as staging records.

        ``send(query, params, what, workers)`` writes parameter sets in managed transactions
        (the store's batch sender). Cost: one JSON encoding and one write per batch."""
        if stmt not in STAGEABLE:
            raise StoreError(f"cannot stage {stmt!r}")
        label = names.get("label")
        if label is not None:
            self.labels.add(label)
        names_text = json.dumps(names, sort_keys=True)

        def records() -> Iterable[dict[str, Any]]:
            group: list[dict[str, Any]] = []
            for params in batches:
                group.append({"unit": self.unit, "seq": self.seq, "stmt": stmt, "names": names_text,
                              "label": label, "rows": json.dumps(params[STAGEABLE[stmt]], allow_nan=True)})
                self.seq += 1
                if len(group) >= RECORDS_PER_TX:
                    yield {"records": group}
                    group = []
            if group:
                yield {"records": group}

        # seq numbers are taken as the sender draws the batches, in order: publishing follows them
        send(cypher("stage_write"), records(), what, workers)

    def staged_rows(self, label: str) -> list[tuple[str, list[Any]]]:
        """The staged batches of node ``label``: ``(stmt, rows)`` in write order."""
        q = cypher("stage_rows")
        out = self.read(lambda tx: [(r["stmt"], r["rows"]) for r in tx.run(q, unit=self.unit, label=label)],
                        f"reading the staged {label} nodes")
        return [(stmt, json.loads(rows)) for stmt, rows in out]

    # ---- commit and rollback ---------------------------------------------------------------
    def commit(self) -> None:
        """The commit point: the unit turns publishing, with its load record. From here on it
        is published to the end (:func:`apply`), by this process or the next to open the store."""
        info = None if self.info is None else json.dumps(self.info, sort_keys=True, default=str)
        q = cypher("unit_publishing")
        ok = self.write(lambda tx: tx.run(q, unit=self.unit, info=info).single() is not None, "committing the load")
        if not ok:
            raise StoreError(f"load {self.load_id} was rolled back by another run of the same load "
                             "while it was being written; run it again")

    def rollback(self) -> None:
        """Delete the unit's staging records and its marker (nothing of it was visible)."""
        drop(self.write, self.unit)

    def rollback_quietly(self) -> None:
        """:meth:`rollback`, for when another error is being handled (the one to report): when
        the server is gone, the invisible records stay until the same load runs again."""
        try:
            self.rollback()
        except StoreError:
            pass


def apply(write: Runner, unit: str) -> int:
    """Publish a committed unit: apply its remaining staging records in order, each in one
    transaction with its deletion, then record its load and drop its marker. Returns the
    records applied. Safe to run again after a crash, and from two processes at once."""
    nxt, done = cypher("stage_next"), cypher("stage_done")

    def one(tx: Any) -> bool:
        rec = tx.run(nxt, unit=unit).single()
        if rec is None:
            return False
        stmt = rec["stmt"]
        if stmt not in STAGEABLE:
            raise StoreError(f"unknown staged statement {stmt!r}")
        names = json.loads(rec["names"])
        tx.run(cypher(stmt, **names), {STAGEABLE[stmt]: json.loads(rec["rows"])}).consume()
        tx.run(done, unit=unit, seq=rec["seq"]).consume()
        return True

    n = 0
    while write(one, "publishing the load"):
        n += 1
    finish = cypher("unit_finish")
    write(lambda tx: tx.run(finish, unit=unit).consume(), "recording the load")
    return n


def drop(write: Runner, unit: str) -> None:
    """Roll a unit back: its staging records, then its marker."""
    q = cypher("stage_drop_batch")
    while write(lambda tx: tx.run(q, unit=unit, batch=DROP_BATCH).single()["n"], "rolling back the load"):
        pass
    last = cypher("unit_drop")
    write(lambda tx: tx.run(last, unit=unit).consume(), "rolling back the load")


def recover(write: Runner, read: Runner) -> list[str]:
    """Roll forward every unit killed while publishing (run when the store opens). Returns their ids."""
    q = cypher("units_publishing")
    units = read(lambda tx: [r["unit"] for r in tx.run(q)], "looking for interrupted loads")
    for unit in units:
        apply(write, unit)
    return units


def fold_nodes(stored: dict[str, dict[str, Any]], staged: list[tuple[str, list[Any]]], cols: list[str]) -> None:
    """Apply staged node batches to ``stored`` (key -> {column: value}) in place, with the MERGE
    semantics: ``merge_nodes`` sets the given (non-null) properties, ``merge_nodes_keep`` only
    creates missing nodes, ``merge_keys`` creates missing nodes bare. Only ``cols`` are kept.
    Cost: O(staged rows).

    >>> nodes = {"T1": {"name": "Old"}}
    >>> fold_nodes(nodes, [("merge_nodes_keep", [{"key": "T1", "props": {"name": "Keep"}}]),
    ...                    ("merge_nodes", [{"key": "T2", "props": {"name": "New"}}]),
    ...                    ("merge_keys", ["T3", "T1"])], ["name"])
    >>> nodes
    {'T1': {'name': 'Old'}, 'T2': {'name': 'New'}, 'T3': {}}
    """
    want = set(cols)
    for stmt, rows in staged:
        if stmt == "merge_keys":
            for k in rows:
                stored.setdefault(k, {})
        elif stmt == "merge_nodes_keep":
            for row in rows:
                if row["key"] not in stored:
                    stored[row["key"]] = {c: v for c, v in row["props"].items() if c in want}
        else:
            for row in rows:
                d = stored.setdefault(row["key"], {})
                d.update({c: v for c, v in row["props"].items() if c in want})

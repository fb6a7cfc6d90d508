"""The Neo4j store's column registry: each node label and relationship type remembers its
columns and their types (``(:_Columns {id, names, types})``), so tables read back with the same
columns and dtypes as the embedded store's typed tables. The first type a column was seen with
wins, as in the embedded store's ``ALTER TABLE ADD COLUMN``."""
from __future__ import annotations

from typing import Any, Callable

from graphiff.stores.cypher import cypher

Columns = tuple[list[str], list[str]]
Runner = Callable[[Callable[[Any], Any], str], Any]


def stored_columns(read: Runner, cid: str, extra: dict[str, str] | None = None) -> Columns | None:
    """The stored columns and types of ``cid`` ("node:Trader", "rel:HOLDS"), read fresh
    (another process may have added some), followed by the ``extra`` ones not stored yet (the
    columns an open unit of work adds). None when neither has any. Cost: one small read."""
    q = cypher("columns_one")

    def work(tx: Any) -> Columns | None:
        rec = tx.run(q, id=cid).single()
        return None if rec is None else (list(rec["names"] or []), list(rec["types"] or []))

    have = read(work, "reading the column registry")
    if extra:
        names, types = have if have is not None else ([], [])
        new = [(c, t) for c, t in extra.items() if c not in names]
        have = (names + [c for c, _ in new], types + [t for _, t in new])
    return have


def register_columns(write: Runner, cid: str, wanted: dict[str, str]) -> dict[str, str]:
    """Add the ``wanted`` columns missing from the registry of ``cid`` (one write transaction
    holding the registry's lock, so concurrent loads never lose a column). Returns column name
    -> type after the change."""

    def work(tx: Any) -> Columns:
        rec = tx.run(cypher("columns_lock"), id=cid).single()
        names, types = list(rec["names"] or []), list(rec["types"] or [])
        changed = False
        for c, t in wanted.items():
            if c not in names:
                names.append(c)
                types.append(t)
                changed = True
        if changed:
            tx.run(cypher("columns_set"), id=cid, names=names, types=types).consume()
        return names, types

    names, types = write(work, f"column registry of {cid}")
    return dict(zip(names, types))

"""The case book of a Neo4j store: nodes in the store's own database.

Documents are ``:_CaseDoc {kind, id, body}`` nodes (body: the JSON text), chain entries
``:_CaseChain {name, seq, body}``; both are bookkeeping (labels starting with ``_``), never
part of the graph, and ``wipe`` spares them. Atomic steps take a Neo4j write lock first (on the
document, or on the chain's ``:_CaseChainHead``) inside one managed write transaction, so two
servers or a server and the CLI never interleave. Statements: ``cypher/book_*.cypher``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from graphiff.stores.book import Book, check_kind, decode, encode
from graphiff.stores.cypher import cypher, statements

if TYPE_CHECKING:
    from graphiff.stores.neo4j import Neo4jStore

__all__ = ["Neo4jBook"]


class Neo4jBook(Book):
    """The case book inside the database of an open :class:`~graphiff.stores.neo4j.Neo4jStore`
    (closing the book leaves the store open unless ``owns_store``)."""

    def __init__(self, store: Neo4jStore, *, owns_store: bool = False):
        self._store = store
        self._owns = owns_store
        self.uri = store.uri
        for q in statements("book_schema"):
            store._auto(q, "setting up the case book")

    def put(self, kind: str, docs: Sequence[Mapping[str, Any]]) -> int:
        rows = [{"id": str(d["id"]), "body": encode(d)} for d in docs]
        q = cypher("book_put")
        kind = check_kind(kind)

        def work(tx: Any) -> None:
            for i in range(0, len(rows), 2000):
                tx.run(q, kind=kind, rows=rows[i:i + 2000]).consume()
        if rows:
            self._store._write(work, "writing the case book")
        return len(rows)

    def docs(self, kind: str, ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        q = cypher("book_docs")
        want = None if ids is None else sorted({str(i) for i in ids})
        kind = check_kind(kind)

        def work(tx: Any) -> list[str]:
            return [r["body"] for r in tx.run(q, kind=kind, ids=want)]
        return [d for b in self._store._read(work, "reading the case book") if b and (d := decode(b)) is not None]

    def delete(self, kind: str, ids: Iterable[str]) -> int:
        q = cypher("book_delete")
        want = sorted({str(i) for i in ids})
        kind = check_kind(kind)

        def work(tx: Any) -> int:
            return int(tx.run(q, kind=kind, ids=want).single()["n"])
        return int(self._store._write(work, "deleting from the case book")) if want else 0

    def update(self, kind: str, doc_id: str,
               change: Callable[[dict[str, Any] | None], dict[str, Any] | None]) -> dict[str, Any] | None:
        kind = check_kind(kind)
        lock, put, drop = cypher("book_lock_doc"), cypher("book_set_doc"), cypher("book_drop_doc")

        def work(tx: Any) -> dict[str, Any] | None:
            body = tx.run(lock, kind=kind, id=doc_id).single()["body"]
            new = change(decode(body) if body else None)
            if new is None:
                tx.run(drop, kind=kind, id=doc_id).consume()
                return None
            new = {**new, "id": doc_id}
            tx.run(put, kind=kind, id=doc_id, body=encode(new)).consume()
            return new
        return self._store._write(work, "updating the case book")

    def append(self, chain: str, build: Callable[[dict[str, Any] | None], Sequence[Mapping[str, Any]]]
               ) -> list[dict[str, Any]]:
        chain = check_kind(chain)
        last_q, add_q = cypher("book_chain_last"), cypher("book_chain_add")

        def work(tx: Any) -> list[dict[str, Any]]:
            body = tx.run(last_q, name=chain).single()["body"]
            new = [dict(e) for e in build(decode(body) if body else None)]
            tx.run(add_q, name=chain, rows=[{"seq": int(e["seq"]), "body": encode(e)} for e in new]).consume()
            return new
        return self._store._write(work, "appending to the audit log")

    def entries(self, chain: str, since: int = 0) -> list[dict[str, Any]]:
        q = cypher("book_chain_entries")
        chain = check_kind(chain)

        def work(tx: Any) -> list[str]:
            return [r["body"] for r in tx.run(q, name=chain, since=int(since))]
        out = []
        for body in self._store._read(work, "reading the audit log"):
            try:
                d = decode(body)
            except ValueError:
                d = None
            out.append(d if d is not None else {"_unreadable": body})
        return out

    def close(self) -> None:
        """Close the store too when the book was opened on its own (:func:`graphiff.stores.open_book`)."""
        if self._owns:
            self._store.close()

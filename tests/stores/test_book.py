"""The case book's primitives (graphiff.stores.book) on both stores: documents put, read, deleted
and updated atomically, chains appended to in one unbroken run (also from many threads and two
connections at once), and a wiped store that keeps its book."""
from __future__ import annotations

import threading

import pytest

from graphiff.errors import GraphiffError, StoreError
from graphiff.stores import open_book


def test_put_docs_get_delete(store):
    book = store.book()
    assert book.docs("thing") == []
    assert book.put("thing", [{"id": "b", "v": 2}, {"id": "a", "v": 1, "nested": {"x": [1, "é"]}}]) == 2
    assert [d["id"] for d in book.docs("thing")] == ["a", "b"]          # ordered by id
    assert book.get("thing", "a") == {"id": "a", "v": 1, "nested": {"x": [1, "é"]}}
    assert book.get("thing", "zz") is None
    assert book.docs("thing", ["b", "zz"]) == [{"id": "b", "v": 2}]
    assert book.docs("other") == []                                     # kinds are apart
    book.put("thing", [{"id": "a", "v": 10}])                           # replaced, not merged
    assert book.get("thing", "a") == {"id": "a", "v": 10}
    assert book.delete("thing", ["a", "zz"]) == 1
    assert [d["id"] for d in book.docs("thing")] == ["b"]


def test_a_kind_must_be_a_plain_name(store):
    with pytest.raises(StoreError, match="bad case-book kind"):
        store.book().put("Bad Kind", [{"id": "x"}])


def test_update_creates_changes_and_removes(store):
    book = store.book()
    assert book.update("counter", "c", lambda old: {"n": (old or {}).get("n", 0) + 1}) == {"id": "c", "n": 1}
    assert book.update("counter", "c", lambda old: {**(old or {}), "n": old["n"] + 1})["n"] == 2
    assert book.get("counter", "c") == {"id": "c", "n": 2}
    assert book.update("counter", "c", lambda old: None) is None
    assert book.get("counter", "c") is None


def test_a_change_that_raises_leaves_the_document_as_it_was(store):
    book = store.book()
    book.put("doc", [{"id": "x", "v": 1}])

    def bad(old):
        if old is not None:
            old["v"] = 99                   # even a change made in place before raising is not kept
        raise GraphiffError("refused")
    with pytest.raises(GraphiffError, match="refused"):
        book.update("doc", "x", bad)
    assert book.get("doc", "x") == {"id": "x", "v": 1}
    with pytest.raises(GraphiffError):
        book.update("doc", "missing", bad)
    assert book.get("doc", "missing") is None      # nothing created for a refused change


def _append(book, n=1, tag=""):
    def build(last):
        seq = int(last["seq"]) if last else 0
        return [{"seq": seq + i + 1, "tag": tag} for i in range(n)]
    return book.append("log", build)


def test_append_and_entries_in_order(store):
    book = store.book()
    assert book.entries("log") == []
    got = _append(book, 3, "a")
    assert [e["seq"] for e in got] == [1, 2, 3]
    _append(book, 2, "b")
    assert [(e["seq"], e["tag"]) for e in book.entries("log")] == [(1, "a"), (2, "a"), (3, "a"), (4, "b"), (5, "b")]
    assert [e["seq"] for e in book.entries("log", since=3)] == [4, 5]
    assert book.entries("other") == []                   # chains are apart


def test_concurrent_appends_keep_one_unbroken_run(store, store_uri):
    """Threads append through the store's book and through a second connection (as the workbench
    and the CLI do): every entry gets its own seq and each is built from the one before."""
    other = open_book(store_uri)
    books = [store.book(), other]
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for _ in range(15):
                def build(last, i=i):
                    seq = int(last["seq"]) if last else 0
                    return [{"seq": seq + 1, "after": last["seq"] if last else 0, "thread": i}]
                books[i % 2].append("log", build)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    assert not errors, errors
    entries = store.book().entries("log")
    assert [e["seq"] for e in entries] == list(range(1, 91))
    assert all(e["after"] == e["seq"] - 1 for e in entries)        # no fork: each built on the one before
    assert {e["thread"] for e in entries} == set(range(6))


def test_wiping_the_store_spares_the_book(store, store_uri):
    book = store.book()
    book.put("case", [{"id": "C-0001", "name": "kept"}])
    _append(book, 2)
    store.wipe()
    assert store.book().get("case", "C-0001") == {"id": "C-0001", "name": "kept"}
    with open_book(store_uri) as again:                 # and from a fresh connection
        assert [e["seq"] for e in again.entries("log")] == [1, 2]
        assert again.get("case", "C-0001")["name"] == "kept"

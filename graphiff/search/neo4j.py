"""Search on a Neo4j store: the database's full-text index (Lucene) finds the candidates.

The index ``graphiff_search`` (``cypher/search_index.cypher``, created on first use, idempotent)
covers the names and addresses of the labels with text fields, with the ``standard-folding``
analyzer (accents and case folded). A query is a Lucene query of the folded words, each as an
exact term (boosted), a fuzzy term (``word~1`` / ``word~2``) and, for the last word, a prefix
(``word*``); Lucene's special characters are escaped (the folded words hold none anyway). The
query text is always a parameter of the statement (:meth:`Neo4jStore.fulltext`). The answers
are mapped back to the documents of the :class:`Tables` snapshot and scored by the same
:mod:`graphiff.search.rank` as the embedded index, so both stores answer alike.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from graphiff.graph.tables import Tables
from graphiff.search.base import SearchIndex
from graphiff.search.normalise import fuzzy_distance

if TYPE_CHECKING:
    from graphiff.stores.neo4j import Neo4jStore

_LUCENE_SPECIAL = re.compile(r'([+\-&|!(){}\[\]^"~*?:\\/])')


def lucene_escape(text: str) -> str:
    """``text`` with Lucene's query syntax characters escaped, and its operator words lowered.

    >>> lucene_escape('AND ( "~* a:b')
    'and \\\\( \\\\"\\\\~\\\\* a\\\\:b'
    """
    escaped = _LUCENE_SPECIAL.sub(r"\\\1", text)
    return re.sub(r"\b(AND|OR|NOT|TO)\b", lambda m: m.group(1).lower(), escaped)


def lucene_query(tokens: list[str], typed: str = "") -> str:
    """The Lucene query of folded query words -- each exact (boosted) and fuzzy, the last also as
    a prefix -- and of the words as ``typed``, escaped, which Lucene's analyzer splits its own way
    (an apostrophe inside a word, a script ASCII folding leaves alone).

    >>> lucene_query(["perl", "modrn", "re"])
    'perl^2 perl~1 modrn^2 modrn~1 re^2 re*'
    >>> lucene_query(["o", "brien"], "O'Brien")
    "o^2 brien^2 brien~1 brien* O'Brien"
    """
    parts = []
    last = len(tokens) - 1
    for k, word in enumerate(tokens):
        w = lucene_escape(word)
        parts.append(f"{w}^2")
        d = fuzzy_distance(word)
        if d:
            parts.append(f"{w}~{d}")
        if k == last and len(word) >= 2:
            parts.append(f"{w}*")
    folded = set(tokens)
    parts += [lucene_escape(w) for w in typed.split() if w.lower() not in folded]
    return " ".join(parts)


class Neo4jSearch(SearchIndex):
    """Search whose text candidates come from the Neo4j full-text index of ``store``.

    Cost: building reads the documents from ``tables`` (as the embedded index does, without
    indexing them: Neo4j keeps its index up to date itself) and creates the full-text index
    when missing (seconds for a large store, once). A search is one round trip to the server
    plus the re-ranking.
    """

    def __init__(self, store: "Neo4jStore", tables: Tables):
        super().__init__(tables)
        self.store = store
        self.text_labels = self.docs.text_labels()
        for label in self.text_labels:          # the key index of the labels answers come from
            self.docs.find(label, [])
        store.ensure_fulltext()

    def text_candidates(self, tokens: list[str], typed: str, labels: tuple[str, ...], n: int) -> list[int]:
        wanted = [x for x in labels if x in self.text_labels]
        if not wanted:
            return []
        found = self.store.fulltext(lucene_query(tokens, typed), wanted, n)
        labels, keys = found["label"].astype(str).tolist(), found["key"].astype(str).tolist()
        docs = [-1] * len(keys)
        for label in dict.fromkeys(labels):
            at = [n for n, x in enumerate(labels) if x == label]
            for n, doc in zip(at, self.docs.find(label, [keys[n] for n in at])):
                docs[n] = doc
        return [d for d in docs if d >= 0]

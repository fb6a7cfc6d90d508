"""The in-memory search index (tantivy): the default for every store.

The text fields of the documents (:mod:`graphiff.search.documents`: names and addresses,
folded) go into a tantivy index held in RAM, one tantivy document per graphiff document with
text, with its label as an exact-match field for the ``types`` filter. A query asks, for each
word, the exact term (boosted, so exact words rank first among tantivy's candidates) or the
word within 1 edit (3 to 5 letters) or 2 edits (longer; a transposition counts as one), and
the last word also as a prefix (as typed: what Lucene's ``word*`` finds on Neo4j); the clauses
are OR'ed, the fuzzy ones weighed by the word's rarity among the indexed texts (tantivy scores a
fuzzy match flat; Lucene weighs it by its terms' frequencies). The candidates are
then scored by :mod:`graphiff.search.rank`.
"""
from __future__ import annotations

import math
from collections import Counter

import tantivy

from graphiff.graph.tables import Tables
from graphiff.search.base import SearchIndex
from graphiff.search.normalise import fuzzy_distance

#: indexing memory budget of the writer (bytes)
WRITER_HEAP = 64_000_000


class TantivySearch(SearchIndex):
    """Search over a tantivy index built in RAM from ``tables``.

    Cost: building reads the documents (:func:`graphiff.search.documents.build_documents`) and
    indexes their text, about 5 microseconds per document with text (7 s for the million
    documents with text of a world of 1M declarations); memory, tantivy's index (about 50 bytes
    per document with text) and the words' document frequencies. A search is one tantivy query
    (sub-millisecond to a few milliseconds) and the re-ranking.
    """

    def __init__(self, tables: Tables):
        super().__init__(tables)
        builder = tantivy.SchemaBuilder()
        builder.add_integer_field("doc", stored=True, indexed=False, fast=True)
        builder.add_text_field("label", stored=False, tokenizer_name="raw")
        builder.add_text_field("text", stored=False, tokenizer_name="default")
        self.schema = builder.build()
        self.index = tantivy.Index(self.schema)
        # one indexing thread: documents keep one order, so answers tied at the candidate cut
        # are the same from one build to the next (several threads made ~10% of name queries differ)
        writer = self.index.writer(heap_size=WRITER_HEAP, num_threads=1)
        docs = self.docs
        self.doc_freq: Counter[str] = Counter()
        for doc, text in docs.joined_texts():
            self.doc_freq.update(set(text.split()))
            writer.add_document(tantivy.Document(doc=doc, label=docs.label_of(doc), text=text))
        self.n_docs = max(1, len(docs.text_docs()))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        self.searcher = self.index.searcher()
        self.text_labels = docs.text_labels()

    def text_candidates(self, tokens: list[str], typed: str, labels: tuple[str, ...], n: int) -> list[int]:
        wanted = [x for x in labels if x in self.text_labels]
        if not wanted:
            return []
        Q, Occur = tantivy.Query, tantivy.Occur
        schema = self.schema
        clauses = []
        last = len(tokens) - 1
        for k, word in enumerate(tokens):
            clauses.append((Occur.Should, Q.boost_query(Q.term_query(schema, "text", word), 2.0)))
            # tantivy scores fuzzy matches flat: weigh them by how rare the word is (a misspelt
            # word is rare), so names sharing the distinctive words come before the common ones
            rarity = max(0.1, math.log(1.0 + self.n_docs / (1.0 + self.doc_freq.get(word, 0))))
            d = fuzzy_distance(word)
            if d:
                clauses.append((Occur.Should, Q.boost_query(Q.fuzzy_term_query(
                    schema, "text", word, distance=d, transposition_cost_one=True), rarity)))
            if k == last and len(word) >= 2:
                clauses.append((Occur.Should, Q.boost_query(Q.fuzzy_term_query(
                    schema, "text", word, distance=0, prefix=True), rarity)))
        query = Q.boolean_query(clauses)
        if len(wanted) < len(self.text_labels):
            query = Q.boolean_query([(Occur.Must, query), (Occur.Must, Q.term_set_query(schema, "label", wanted))])
        result = self.searcher.search(query, limit=n)
        return [int(self.searcher.doc(addr)["doc"][0]) for _, addr in result.hits]

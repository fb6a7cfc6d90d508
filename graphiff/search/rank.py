"""The one scorer of search: how well a query matches a document, the same on every backend.

Backends only *find* candidates (tantivy's fuzzy terms, Neo4j's Lucene index); their scores are
flat or not comparable between stores, so every candidate is scored again here, on the folded
text (:func:`graphiff.search.normalise.fold`), and records are gathered into their entities.

How a name is scored (:func:`text_score`): each query word is paired with its most similar word
of the name (Indel similarity, i.e. rapidfuzz's ``ratio``; the last query word may be the start
of a name word, as while typing), within the edits the backends search for (1 up to five
letters, 2 beyond, a transposition counting as one; words of two letters only when equal). The query
words' similarities, weighted by their length, are averaged (a word found nowhere counts 0);
the result is scaled from 0.8 to 1 by how many of the name's own words (legal forms such as
``Ltd``, ``GmbH`` aside) the query covered, so the closer name ranks first. Word order does not
matter. Identifiers score 1 when equal, 0.5 to 0.9 when typed in part (a prefix).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz.distance import OSA, Indel
from rigour.names import remove_org_types

from graphiff.model import model
from graphiff.model.identity import node_id
from graphiff.search.documents import Documents
from graphiff.search.normalise import fuzzy_distance

#: results scoring below this are not returned
MIN_SCORE = 0.4
#: ``matched`` entries per hit at most
MAX_MATCHED = 5
#: legal-form words rigour does not strip, ignored when measuring how much of a name was covered
FILLER = frozenset({"pvt", "pte", "private", "co", "and", "the", "of", "fzco", "fzc", "fze", "llp", "sdn", "bhd"})


@dataclass
class Hit:
    """One search result: an entity (a resolved entity when entity resolution joined records).

    ``id`` is its node id ``Label:key``; ``caption`` what it is called; ``score`` in [0, 1];
    ``matched`` the fields that matched, best first, as ``{"field": ..., "value": ...}`` (a
    record joined into the entity shows as ``alias_names`` / ``aliases``).
    """

    id: str
    label: str
    caption: str
    score: float
    matched: list[dict[str, str]]


@lru_cache(maxsize=200_000)
def _significant(folded: str) -> tuple[tuple[str, ...], frozenset[int]]:
    """The words of a folded name and the positions of those that are not legal forms."""
    words = tuple(folded.split())
    kept = set((remove_org_types(folded) or "").split()) - FILLER
    return words, frozenset(n for n, w in enumerate(words) if w in kept)


def _word_similarity(q: str, w: str, last: bool) -> float:
    """Similarity of a query word to a name word: 1 when equal; 0.85 to 0.95 when the query's
    last word starts the name word; else Indel similarity when the words are within the edits
    the backends search (:func:`graphiff.search.normalise.fuzzy_distance`: 1 edit up to 5 letters,
    2 beyond, a transposition counting as one), 0 otherwise."""
    if q == w:
        return 1.0
    if last and len(q) >= 2 and w.startswith(q):
        return 0.85 + 0.1 * len(q) / len(w)
    allowed = fuzzy_distance(q)
    if not allowed or abs(len(q) - len(w)) > allowed or OSA.distance(q, w, score_cutoff=allowed) > allowed:
        return 0.0
    return Indel.normalized_similarity(q, w)


def text_score(tokens: list[str], folded: str, cache: dict[tuple[str, str, bool], float] | None = None) -> float:
    """How well the query words ``tokens`` match a folded text, in [0, 1] (module docstring).
    ``cache`` keeps word similarities across the texts of one query (names share many words).
    Cost: O(query words x text words) similarities, most of them looked up in ``cache``.

    >>> round(text_score("perl modrn resources".split(), "pearl modern resources pvt ltd"), 2)
    0.95
    >>> text_score(["muller"], "muller gmbh"), text_score(["resources", "modern", "pearl"], "pearl modern resources")
    (1.0, 1.0)
    >>> text_score(["pearl", "mod"], "pearl modern resources") > text_score(["pearl", "mod"], "pearl acacia paper")
    True
    """
    words, significant = _significant(folded)
    if not tokens or not words:
        return 0.0
    memo = {} if cache is None else cache
    total = acc = 0.0
    used: set[int] = set()
    last = len(tokens) - 1
    for n, q in enumerate(tokens):
        best, at = 0.0, -1
        is_last = n == last
        for j, w in enumerate(words):
            s = memo.get((q, w, is_last))
            if s is None:
                s = memo[(q, w, is_last)] = _word_similarity(q, w, is_last)
            if s > best:
                best, at = s, j
        total += len(q)
        if at >= 0:
            acc += len(q) * best
            used.add(at)
    base = significant or frozenset(range(len(words)))
    coverage = len(used & base) / len(base)
    return min(1.0, acc / total * (0.8 + 0.2 * coverage))


def rank(docs: Documents, tokens: list[str], candidates: list[int], ids: list[tuple[int, str, str, float]],
         limit: int) -> list[Hit]:
    """Score the candidate documents, gather them into their entities and keep the best.

    Parameters
    ----------
    docs : Documents
        The documents the candidates number.
    tokens : list of str
        The folded query words (text fields are scored against them).
    candidates : list of int
        Documents a backend found for the words (any order, repeats allowed).
    ids : list of (doc, field, value, score)
        Identifier matches (:meth:`Documents.lookup_ids`).
    limit : int
        Entities returned at most.

    Returns
    -------
    list of Hit
        Best first: score, then the model's label order, caption and id; scores below
        :data:`MIN_SCORE` are left out.

    Cost: O(candidates x fields x words) similarity computations (a few thousand for 200
    candidates; about a millisecond).
    """
    scored: list[tuple[int, str, str, float]] = []
    if tokens:
        cache: dict[tuple[str, str, bool], float] = {}
        for doc, fname, value, folded in docs.texts_of_many(list(dict.fromkeys(candidates))):
            scored.append((doc, fname, value, text_score(tokens, folded, cache)))
    scored += ids
    scored = [s for s in scored if s[3] >= MIN_SCORE]
    found: dict[tuple[str, str], list[tuple[float, str, str]]] = {}
    for (_, fname, value, score), entity in zip(scored, docs.entities([s[0] for s in scored])):
        found.setdefault(entity, []).append((score, fname, value))
    order = {label: n for n, label in enumerate(model().nodes)}
    caption: dict[tuple[str, str], str] = {}
    for label in {lab for lab, _ in found}:
        keys = [k for lab, k in found if lab == label]
        caption.update(zip(((label, k) for k in keys), docs.captions(label, keys)))
    hits = []
    for (label, key), matches in found.items():
        matches.sort(key=lambda m: (-m[0], m[1], m[2]))
        seen: set[tuple[str, str]] = set()
        matched = []
        for _, fname, value in matches:
            if (fname, value) not in seen:
                seen.add((fname, value))
                matched.append({"field": fname, "value": value})
        hits.append(Hit(id=node_id(label, key), label=label, caption=caption[(label, key)],
                        score=round(min(1.0, max(0.0, matches[0][0])), 4), matched=matched[:MAX_MATCHED]))
    hits.sort(key=lambda h: (-h.score, order.get(h.label, len(order)), h.caption.casefold(), h.id))
    return hits[:limit]

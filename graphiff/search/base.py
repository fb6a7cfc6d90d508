"""The search interface: :class:`SearchIndex`, what every backend answers ``search`` with.

A backend finds the documents whose text may match the query words
(:meth:`SearchIndex.text_candidates`); everything else -- checking the query, identifier
lookups, scoring, gathering records into entities -- is done here and in
:mod:`graphiff.search.rank`, once for every backend, so both stores answer alike.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

from graphiff.errors import GraphiffError
from graphiff.graph.tables import Tables
from graphiff.search.documents import Documents, build_documents, check_types
from graphiff.search.normalise import fold, query_id_forms
from graphiff.search.rank import Hit, rank

#: the most results one search returns
MAX_LIMIT = 200
#: the longest query accepted (characters) and the most words of it used
MAX_QUERY = 200
MAX_WORDS = 12
#: candidates a backend is asked for (re-ranked by the one scorer)
CANDIDATES = 200


class SearchIndex(ABC):
    """Names and identifiers of one :class:`Tables` snapshot, searchable.

    Build one per snapshot (:func:`graphiff.search.open_search`) and build a new one when the
    store changes; a built index only reads, so threads may share it.
    """

    def __init__(self, tables: Tables):
        self.tables = tables
        self.docs: Documents = build_documents(tables)

    def search(self, q: str, types: list[str] | None = None, limit: int = 20) -> list[Hit]:
        """The entities best matching ``q``, best first.

        Parameters
        ----------
        q : str
            What the analyst typed: a name (any case, accents, word order, a typo or two per
            word; the last word may be unfinished) or an identifier (a key, tax id, passport,
            IBAN or account id with or without spaces, phone number, e-mail, container,
            conveyance, declaration, payment or cash report id, or the start of one).
        types : list of str, optional
            Only these labels (default: every searchable label).
        limit : int, default 20
            Results at most (1 to 200).

        Returns
        -------
        list of Hit
            Entities with ``score`` in [0, 1] and the fields that ``matched``; a record that
            entity resolution joined to others is returned as its entity.

        Raises
        ------
        GraphiffError
            ``q`` is blank or longer than 200 characters, ``limit`` is out of range, or
            ``types`` names an unknown label.

        Cost: the backend's candidate search, then O(200) scorings and an O(log I) lookup
        among the I identifiers; milliseconds.
        """
        if not isinstance(q, str) or not q.strip():
            raise GraphiffError("the search query is empty: type a name or an identifier")
        if len(q) > MAX_QUERY:
            raise GraphiffError(f"the search query is too long ({len(q)} characters; at most {MAX_QUERY})")
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise GraphiffError(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {limit!r}")
        labels = check_types(types)
        tokens = fold(q).split()[:MAX_WORDS]
        typed = " ".join(q.split()[:MAX_WORDS])
        candidates = self.text_candidates(tokens, typed, labels, CANDIDATES) if tokens else []
        ids = self.docs.lookup_ids(query_id_forms(q), labels)
        return rank(self.docs, tokens, candidates, ids, limit)

    @abstractmethod
    def text_candidates(self, tokens: list[str], typed: str, labels: tuple[str, ...], n: int) -> list[int]:
        """At most ``n`` documents of ``labels`` whose text fields may match the folded query
        words ``tokens`` (each word with typos, the last also as a prefix), most likely first;
        ``typed`` is the query as typed (its first words), for a backend that analyses text its
        own way."""

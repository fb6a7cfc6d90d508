"""What search looks through: one document per record of the store, with its searchable fields.

A **document** is one node as loaded (``tables.raw``): a trader, person or carrier record, a
declaration item, an account, a payment, a cash report, a container... Its fields come from the
graph model (``graphiff/model/model.yaml``) and the input contract (``files.yaml``), never from a
list of labels written here:

* **text fields** (matched fuzzily, any word order): the caption of labels captioned by a
  ``name`` (Trader, Person, Carrier) and the columns whose identifier rule is ``address``, and
  the key of the node that rule makes (``Address``);
* **identifier fields** (matched exactly after :func:`compact_id`, or by prefix): the key of every
  searchable label (``trader_id``, ``decl_key``, ``account_id``, ``container_id``...), the first
  column of a composite key (``declaration_id``), the columns whose identifier rule is ``phone``
  or ``email`` (and the keys of the ``Phone`` / ``Email`` nodes), and the document numbers of
  :data:`IDENTIFIER_COLUMNS` (tax ids, passports, transport documents, invoices).

Each document maps to its **entity**: the resolved id entity resolution gives the record
(``GraphIndex.alias``), else its own key. A text or key match on a record that is not its
entity's representative is reported as ``alias_names`` / ``aliases``, the columns of the
resolved view that hold those values.

The same :class:`Documents` serve both backends: the embedded one indexes their text in
tantivy, the Neo4j one asks the database's full-text index and maps its answers back here.
"""
from __future__ import annotations

import bisect
import ctypes
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from graphiff.errors import GraphiffError
from graphiff.graph.columns import text_objects
from graphiff.graph.tables import Tables
from graphiff.model import model
from graphiff.search.normalise import ID_DROP_ARROW, compact_id, fold_text, national_digits, phone_digits

#: labels that are bookkeeping or reference data, never search results
NOT_SEARCHED = ("Country", "Rate", "Alert")
#: document numbers an analyst types (when a file kind has the column)
IDENTIFIER_COLUMNS = ("tin", "passport_no", "transport_doc_no", "invoice_no")
#: identifier rules of files.yaml (``value:`` ends) and how search treats their values
RULE_KIND = {"address": "text", "phone": "phone", "email": "id"}
#: the field name of a text / key match on a record that is not its entity's representative
ALIAS_FIELD = {"name": "alias_names", "key": "aliases"}
#: the shortest compacted query that is also looked up as an identifier prefix
MIN_PREFIX = 4
#: identifier postings returned for one prefix at most
PREFIX_CAP = 200

# =============================================================================================
# Which fields each label has (read from the model)
# =============================================================================================

@dataclass(frozen=True)
class FieldSpec:
    """One searchable field of a label: the node ``column`` it reads (``key`` for the key), the
    ``name`` reported in ``matched``, and its ``kind`` (``text``, ``id`` or ``phone``)."""

    column: str
    name: str
    kind: str


@lru_cache(maxsize=1)
def field_specs() -> dict[str, tuple[FieldSpec, ...]]:
    """The searchable fields of every searchable label, read from ``model.yaml`` and ``files.yaml``.

    >>> [(f.column, f.kind) for f in field_specs()["Trader"]][:3]
    [('key', 'id'), ('name', 'text'), ('tin', 'id')]
    >>> [(f.name, f.kind) for f in field_specs()["Address"]]
    [('address', 'text')]
    """
    m = model()
    specs: dict[str, dict[str, FieldSpec]] = {}
    for label, nt in m.nodes.items():
        if label in NOT_SEARCHED:
            continue
        specs[label] = {"key": FieldSpec("key", nt.key, "id")}
        if nt.caption == "name":
            specs[label]["name"] = FieldSpec("name", "name", "text")
    for fk in m.files.values():
        if fk.label is None or fk.label not in specs:
            continue
        own = specs[fk.label]
        if len(fk.key) > 1:
            own[fk.key[0]] = FieldSpec(fk.key[0], fk.key[0], "id")
        for column in IDENTIFIER_COLUMNS:
            if column in fk.columns:
                own[column] = FieldSpec(column, column, "id")
        for emit in fk.emits:
            end = emit.target
            rule = end.value
            if rule not in RULE_KIND:
                continue
            if rule in fk.columns:                       # the record's own column (raw text)
                own[rule] = FieldSpec(rule, rule, RULE_KIND[rule])
            for target in end.labels:                    # the identifier node the rule makes
                if target in specs:
                    name = m.nodes[target].key
                    specs[target]["key"] = FieldSpec("key", name, RULE_KIND[rule])
    return {label: tuple(s.values()) for label, s in specs.items()}


def searchable_labels() -> tuple[str, ...]:
    """Every label search returns, in model order."""
    return tuple(field_specs())


def check_types(types: list[str] | None) -> tuple[str, ...]:
    """The labels a ``types`` filter names (all searchable labels for ``None`` or an empty
    list). Raises :class:`GraphiffError` naming an unknown or unsearchable label.

    >>> check_types(["Trader", " Person "])
    ('Trader', 'Person')
    >>> check_types(["Trader", "Boat"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    graphiff.errors.GraphiffError: unknown type 'Boat' in types: give labels among Trader, Person, Carrier, ...
    """
    allowed = searchable_labels()
    if not types:
        return allowed
    out: list[str] = []
    for t in types:
        label = str(t).strip()
        if label not in allowed:
            kind = "not searchable" if label in model().nodes else "unknown"
            raise GraphiffError(f"{kind} type {label!r} in types: give labels among {', '.join(allowed)}")
        if label not in out:
            out.append(label)
    return tuple(out)


# =============================================================================================
# The documents
# =============================================================================================

class StringColumn:
    """Strings held as one Arrow string array (no Python object per value): value ``i`` as
    ``str`` (:meth:`text`) or as its UTF-8 bytes (``column[i]``, what a binary search compares:
    UTF-8 bytes sort as the strings do). Cost: O(1) per value read."""

    def __init__(self, arr: pa.Array | pa.ChunkedArray):
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks() if arr.num_chunks else pa.array([], type=arr.type)
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            arr = arr.cast(pa.large_string())
        self.arr = arr
        _, offsets, data = arr.buffers()
        width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
        self._off = (np.frombuffer(offsets, dtype=width)[arr.offset:arr.offset + len(arr) + 1]
                     if offsets is not None else np.zeros(1, dtype=width))
        self._data = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, dtype=np.uint8)

    def __len__(self) -> int:
        return len(self.arr)

    def __getitem__(self, i: int) -> bytes:
        return self._data[self._off[i]:self._off[i + 1]].tobytes()

    def text(self, i: int) -> str:
        """Value ``i`` (``""`` for a missing one)."""
        return self[i].decode("utf-8")

    @property
    def nbytes(self) -> int:
        return int(self.arr.nbytes)


def _strings(values: list[str] | pa.Array | pa.ChunkedArray) -> StringColumn:
    return StringColumn(values if isinstance(values, (pa.Array, pa.ChunkedArray))
                        else pa.array(values, type=pa.large_string()))


def _concat(parts: list[pa.Array]) -> pa.Array:
    """One Arrow string array of ``parts`` (32-bit offsets when its text fits, else 64-bit)."""
    if not parts:
        return pa.array([], type=pa.string())
    size = sum(int(p.nbytes) for p in parts)
    kind = pa.string() if size < 2**31 - 2**20 else pa.large_string()
    return pa.concat_arrays([p.cast(kind) for p in parts])


class Documents:
    """The searchable documents of one :class:`Tables` snapshot, held column-wise.

    Documents are numbered ``0..n-1``, a block per label (``labels[c]`` owns ``starts[c]`` to
    ``starts[c + 1] - 1``). Per document: its label code, its record's key (Arrow strings) and,
    for the records entity resolution joined to another, the entity's key (``entity_of``).
    Text fields (names, addresses) are rows ``(doc, field code, value, folded)`` sorted by
    document, for the documents that have text only. Identifiers are one sorted Arrow array of
    compacted values with parallel arrays of document, field code and value as written (``""``
when written as compacted), so an
    exact or prefix lookup is a binary search. Captions (the resolved view's names) and the
    document of a ``(label, key)`` (:meth:`find`) are looked up through a hash index per label
(a dict for the captioned labels; for :meth:`find`, a pandas index made on first use).

    Memory: a few dozen bytes per document and per identifier, and no Python object per value
    (no garbage-collector load). Reading one value costs about a microsecond.
    """

    def __init__(self, labels: tuple[str, ...], starts: np.ndarray, keys: StringColumn,
                 alias_doc: np.ndarray, alias_rep: StringColumn, fields: tuple[str, ...],
                 text_doc: np.ndarray, text_field: np.ndarray, text_value: StringColumn, text_folded: StringColumn,
                 id_form: StringColumn, id_doc: np.ndarray, id_field: np.ndarray, id_value: StringColumn,
                 captions: dict[str, tuple[dict[str, int], StringColumn]]):
        self.labels = labels
        self.starts = starts
        self.label_code = np.repeat(np.arange(len(labels), dtype=np.int8), np.diff(starts))
        self.keys = keys
        self.alias_doc = alias_doc
        self.alias_rep = alias_rep
        self.fields = fields
        self.text_doc = text_doc
        self.text_field = text_field
        self.text_value = text_value
        self.text_folded = text_folded
        self.id_form = id_form
        self.id_doc = id_doc
        self.id_field = id_field
        self.id_value = id_value
        self._captions = captions
        self._key_index: dict[str, pd.Index] = {}
        self._key_docs: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()
        self._text_docs = np.unique(text_doc)

    def __len__(self) -> int:
        return int(self.starts[-1])

    @property
    def n_identifiers(self) -> int:
        return len(self.id_form)

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays (not the hash indexes of captions and :meth:`find`)."""
        arrays = (self.starts, self.label_code, self.alias_doc, self.text_doc, self.text_field,
                  self.id_doc, self.id_field, self._text_docs)
        strings = (self.keys, self.alias_rep, self.text_value, self.text_folded, self.id_form, self.id_value)
        return sum(int(a.nbytes) for a in arrays) + sum(s.nbytes for s in strings)

    # ---- one document ------------------------------------------------------------------------

    def label_of(self, doc: int) -> str:
        """The label of document ``doc``."""
        return self.labels[self.label_code[doc]]

    def key_of(self, doc: int) -> str:
        """The key of the record document ``doc`` is."""
        return self.keys.text(doc)

    def entity_of(self, doc: int) -> str:
        """The key of the entity document ``doc`` belongs to (its own key unless entity
        resolution joined it to another record). Cost: O(log aliases)."""
        k = int(self.alias_doc.searchsorted(self.alias_doc.dtype.type(doc)))   # same dtype: no copy
        if k < len(self.alias_doc) and self.alias_doc[k] == doc:
            return self.alias_rep.text(k)
        return self.key_of(doc)

    def texts_of(self, doc: int) -> list[tuple[str, str, str]]:
        """The text fields of document ``doc`` as ``(field, value, folded)``. Cost: O(log T)."""
        at = self.text_doc.dtype.type(doc)                          # same dtype: no copy of the array
        lo = int(self.text_doc.searchsorted(at, side="left"))
        hi = int(self.text_doc.searchsorted(at, side="right"))
        return [(self.fields[self.text_field[j]], self.text_value.text(j), self.text_folded.text(j))
                for j in range(lo, hi)]

    # ---- many documents ----------------------------------------------------------------------

    def texts_of_many(self, docs: list[int]) -> list[tuple[int, str, str, str]]:
        """The text fields of ``docs`` as ``(doc, field, value, folded)``, in the order of
        ``docs``. Cost: O(len(docs) log T), vectorised (what ranking reads for its candidates)."""
        if not docs or not len(self.text_doc):
            return []
        want = np.asarray(docs, dtype=self.text_doc.dtype)
        lo = self.text_doc.searchsorted(want, side="left")
        hi = self.text_doc.searchsorted(want, side="right")
        count = hi - lo
        if not count.sum():
            return []
        rows = np.repeat(lo - np.cumsum(count) + count, count) + np.arange(int(count.sum()))
        taken = pa.array(rows)
        values = self.text_value.arr.take(taken).to_pylist()
        folded = self.text_folded.arr.take(taken).to_pylist()
        fields = [self.fields[c] for c in self.text_field[rows].tolist()]
        return list(zip(self.text_doc[rows].tolist(), fields, values, folded))

    def entities(self, docs: list[int]) -> list[tuple[str, str]]:
        """``(label, entity key)`` of each of ``docs`` (:meth:`label_of`, :meth:`entity_of`).
        Cost: O(len(docs) log aliases), vectorised."""
        if not docs:
            return []
        at = np.asarray(docs, dtype=np.int64)
        keys = self.keys.arr.take(pa.array(at)).to_pylist()
        if len(self.alias_doc):
            k = np.minimum(self.alias_doc.searchsorted(at.astype(self.alias_doc.dtype)), len(self.alias_doc) - 1)
            hit = np.flatnonzero(self.alias_doc[k] == at)
            if len(hit):
                reps = self.alias_rep.arr.take(pa.array(k[hit])).to_pylist()
                for n, rep in zip(hit.tolist(), reps):
                    keys[n] = rep
        return [(self.labels[c], key) for c, key in zip(self.label_code[at].tolist(), keys)]

    def text_docs(self) -> np.ndarray:
        """The documents with at least one text field (what a full-text index holds), ascending."""
        return self._text_docs

    def text_labels(self) -> tuple[str, ...]:
        """The labels that have documents with text, in model order."""
        return tuple(self.labels[c] for c in np.unique(self.label_code[self._text_docs]))

    def joined_texts(self, chunk: int = 65_536) -> Iterator[tuple[int, str]]:
        """``(doc, folded text fields joined by spaces)`` of every document with text, in document
        order (what a full-text index is built from). Cost: O(text fields), read ``chunk`` fields
        at a time (the strings are made here and dropped by the caller)."""
        doc, parts = -1, list[str]()
        for lo in range(0, len(self.text_doc), chunk):
            folded = self.text_folded.arr.slice(lo, chunk).to_pylist()
            for d, text in zip(self.text_doc[lo:lo + chunk].tolist(), folded):
                if d != doc:
                    if parts:
                        yield doc, " ".join(parts)
                    doc, parts = d, []
                parts.append(text)
        if parts:
            yield doc, " ".join(parts)

    def captions(self, label: str, keys: list[str]) -> list[str]:
        """What the entities ``keys`` of ``label`` are called (the resolved view's caption; the
        key when there is none). Cost: a hash lookup per key."""
        if label not in self._captions or not keys:
            return list(keys)
        index, names = self._captions[label]
        return [names.text(p) if (p := index.get(k, -1)) >= 0 else k for k in keys]

    def find(self, label: str, keys: list[str]) -> list[int]:
        """The documents of the records ``keys`` of ``label`` (``-1`` for an unknown one).
        Cost: the first call per label builds a hash index of its keys (O(records)), then
        one lookup of ``keys``."""
        if label not in self.labels:
            return [-1] * len(keys)
        index = self._key_index.get(label)
        if index is None:
            with self._lock:
                index = self._key_index.get(label)
                if index is None:
                    c = self.labels.index(label)
                    lo, hi = int(self.starts[c]), int(self.starts[c + 1])
                    values = pd.Index(self.keys.arr.slice(lo, hi - lo).to_pylist(), dtype=object)
                    keep = ~values.duplicated(keep="last")            # as a dict: the last record wins
                    index = pd.Index(values[keep], dtype=object)
                    index.get_indexer([])                               # build the hash table now
                    self._key_docs[label] = lo + np.flatnonzero(keep)
                    self._key_index[label] = index
        pos = index.get_indexer(list(keys))
        docs = self._key_docs[label]
        return [int(docs[p]) if p >= 0 else -1 for p in pos]

    def lookup_ids(self, forms: list[str], labels: tuple[str, ...]) -> list[tuple[int, str, str, float]]:
        """Identifier matches of the query forms: ``(doc, field, value, score)``.

        An identifier equal to a form scores 1; one that starts with a form of at least
        :data:`MIN_PREFIX` characters scores 0.5 to 0.9 by how much of it was typed (at most
        :data:`PREFIX_CAP` per form, among the first ``20 * PREFIX_CAP`` identifiers that start
        with it). Cost: O(log I + matches) for I identifiers (binary searches of the sorted forms).
        """
        wanted = np.zeros(len(self.labels), dtype=bool)
        wanted[[self.labels.index(x) for x in labels if x in self.labels]] = True
        out: list[tuple[int, str, str, float]] = []
        ids = self.id_form
        end = len(ids)
        for form in forms:
            b = form.encode("utf-8", "surrogatepass")
            lo = bisect.bisect_left(ids, b)
            hi = bisect.bisect_right(ids, b, lo)
            for j in np.arange(lo, hi)[wanted[self.label_code[self.id_doc[lo:hi]]]]:
                out.append(self._posting(int(j), 1.0))
            if len(form) < MIN_PREFIX:
                continue
            stop = bisect.bisect_left(ids, b + b"\xff", hi, min(end, hi + 20 * PREFIX_CAP))
            take = np.arange(hi, stop)[wanted[self.label_code[self.id_doc[hi:stop]]]][:PREFIX_CAP]
            for j in take:
                value = ids.text(int(j))
                out.append(self._posting(int(j), 0.5 + 0.4 * len(form) / len(value)))
        return out

    def _posting(self, j: int, score: float) -> tuple[int, str, str, float]:
        value = self.id_value.text(j) or self.id_form.text(j)     # "": written as compacted
        return int(self.id_doc[j]), self.fields[self.id_field[j]], value, score


def _arrow_text(nodes: pd.DataFrame, column: str) -> tuple[pa.Array, np.ndarray] | None:
    """A column as stripped text in Arrow (``""`` where missing or blank) and where it has text
    (as :func:`graphiff.graph.columns.text_objects` reads it); ``None`` when absent."""
    if column not in nodes.columns:
        return None
    s = nodes[column]
    if isinstance(s.dtype, pd.StringDtype):
        st = s.str.strip()
        has = ~(st.isna() | (st.str.len() == 0)).to_numpy(dtype=bool, na_value=True)
        arr = pa.array(st.array, from_pandas=True)
    else:
        obj = text_objects(s)
        has = obj.notna().to_numpy(dtype=bool)
        arr = pa.array(obj.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return pc.fill_null(arr.cast(pa.large_string()), ""), has


def _by_unique(values: pa.Array, fn: Callable[[str], str | None]) -> pa.Array:
    """``fn`` of every value, computed once per distinct value (names and phones repeat)."""
    enc = pc.dictionary_encode(values)
    done = pa.array([fn(v) for v in enc.dictionary.to_pylist()], type=pa.large_string())
    return done.take(enc.indices)


def _compact_ids(values: pa.Array) -> pa.Array:
    """:func:`compact_id` of Arrow text (vectorised; non-ASCII values one by one)."""
    out = pc.ascii_upper(pc.replace_substring_regex(values, pattern=ID_DROP_ARROW, replacement=""))
    ascii_ = pc.string_is_ascii(values).to_numpy(zero_copy_only=False)
    if not ascii_.all():
        odd = np.flatnonzero(~ascii_)
        fixed = pa.array([compact_id(v) for v in values.take(pa.array(odd)).to_pylist()], type=out.type)
        out = pc.replace_with_mask(out, pa.array(~ascii_), fixed)
    return out


def build_documents(tables: Tables) -> Documents:
    """The documents of every searchable label of ``tables`` (cached on the tables).

    Reads the records as loaded (``tables.raw``), the clusters of entity resolution and the
    resolved node tables for captions. Cost: O(records + identifiers), vectorised in Arrow per
    column; names, addresses and phones normalised once per distinct value; one sort of the
    identifiers. About 1 second per 100,000 declarations besides reading the tables; memory
    about 80 bytes per identifier.
    """
    return tables.memo(("search", "documents"), lambda: _build_compact(tables))


_POOL_LOCK = threading.Lock()


@contextmanager
def _system_memory() -> Iterator[None]:
    """Arrow allocates from the C library's ``malloc`` meanwhile, and the freed memory is handed
    back to the system after: Arrow's default pool (mimalloc) keeps the blocks it frees, and a
    build frees hundreds of megabytes of temporary columns (they stayed in the process's RSS)."""
    with _POOL_LOCK:
        before = pa.default_memory_pool()
        pa.set_memory_pool(pa.system_memory_pool())
        try:
            yield
        finally:
            pa.set_memory_pool(before)
            _malloc_trim()


def _malloc_trim() -> None:
    """Return the free pages of ``malloc``'s heap to the system (glibc; elsewhere nothing)."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (AttributeError, OSError):
        pass


def _build_compact(tables: Tables) -> Documents:
    with _system_memory():
        return _build(tables)


def _build(tables: Tables) -> Documents:
    alias = tables.resolution.rep if tables.resolved else {}
    raw = tables.raw
    m = model()
    fields: dict[str, int] = {}
    labels: list[str] = []
    starts = [0]
    key_parts: list[pa.Array] = []
    alias_docs: list[np.ndarray] = []
    alias_reps: list[pa.Array] = []
    texts: list[tuple[np.ndarray, np.ndarray, pa.Array, pa.Array]] = []
    ids: list[tuple[pa.Array, np.ndarray, np.ndarray, pa.Array]] = []
    captions: dict[str, tuple[dict[str, int], StringColumn]] = {}

    def code(name: str) -> int:
        return fields.setdefault(name, len(fields))

    for label, specs in field_specs().items():
        nodes = raw.nodes(label)
        if not len(nodes):
            continue
        nodes = nodes.reset_index(drop=True)
        keys = pa.array(nodes["key"].astype(str).array, from_pandas=True)
        if isinstance(keys, pa.ChunkedArray):
            keys = keys.combine_chunks()
        keys = pc.fill_null(keys.cast(pa.large_string()), "")
        n, start = len(keys), starts[-1]
        doc_no = np.arange(start, start + n, dtype=np.int32)
        labels.append(label)
        starts.append(start + n)
        key_parts.append(keys)
        reps = alias.get(label, {})
        is_alias = np.zeros(n, dtype=bool)
        if reps:
            pos = pc.index_in(keys, value_set=pa.array([str(k) for k in reps], type=pa.large_string()))
            rep = pa.array([str(v) for v in reps.values()], type=pa.large_string()).take(pos)
            entity = pc.coalesce(rep, keys)
            is_alias = pc.not_equal(entity, keys).to_numpy(zero_copy_only=False)
            alias_docs.append(doc_no[is_alias])
            alias_reps.append(entity.filter(pa.array(is_alias)))
        for spec in specs:
            if spec.column == "key":
                values, has = keys, pc.not_equal(keys, "").to_numpy(zero_copy_only=False)
            else:
                got = _arrow_text(nodes, spec.column)
                if got is None:
                    continue
                values, has = got
            if not has.any():
                continue
            alias_name = ALIAS_FIELD.get(spec.column)
            names = (np.where(is_alias, code(alias_name), code(spec.name)) if alias_name
                     else np.full(n, code(spec.name))).astype(np.int16)
            vals = values.filter(pa.array(has))
            docs_has, names_has = doc_no[has], names[has]
            if spec.kind == "text":
                folded = _by_unique(vals, fold_text)
                keep = pc.not_equal(folded, "").to_numpy(zero_copy_only=False)
                mask = pa.array(keep)
                texts.append((docs_has[keep], names_has[keep], vals.filter(mask), folded.filter(mask)))
            if spec.kind == "phone":
                forms = _by_unique(vals, phone_digits)
            elif spec.kind == "id" or spec.column == "key":
                forms = _compact_ids(vals)
            else:
                continue
            ok = pc.and_(pc.is_valid(forms), pc.not_equal(pc.fill_null(forms, ""), "")).to_numpy(zero_copy_only=False)
            mask = pa.array(ok)
            if spec.kind == "phone":                 # also under its national number (0785... for +254785...)
                national = _by_unique(vals, national_digits)
                ok_n = pc.and_(pc.is_valid(national),
                               pc.not_equal(pc.fill_null(national, ""), "")).to_numpy(zero_copy_only=False)
                mask_n = pa.array(ok_n)
                ids.append((national.filter(mask_n), docs_has[ok_n], names_has[ok_n], vals.filter(mask_n)))
            forms, vals = forms.filter(mask), vals.filter(mask)
            vals = pc.if_else(pc.equal(forms, vals), "", vals)     # kept only when not as compacted
            ids.append((forms, docs_has[ok], names_has[ok], vals))
        # captions of the entities, from the resolved view (the representative's name)
        nt = m.nodes[label]
        resolved = tables.nodes(label) if tables.resolved else nodes
        if nt.caption != nt.key and nt.caption in resolved.columns:
            rkeys = resolved["key"].astype(str).to_numpy(dtype=object)
            got = _arrow_text(resolved, nt.caption)
            assert got is not None
            caps, has_cap = got
            named = pc.if_else(pa.array(has_cap), caps, pa.array(rkeys, type=pa.large_string()))
            captions[label] = ({k: n for n, k in enumerate(rkeys.tolist())},   # the last row of a key wins
                               _strings(_concat([named])))

    if texts:
        t_doc = np.concatenate([t[0] for t in texts])
        order = np.argsort(t_doc, kind="stable")
        idx = pa.array(order)
        text_doc = t_doc[order]
        text_field = np.concatenate([t[1] for t in texts])[order]
        text_value = _concat([t[2] for t in texts]).take(idx)
        text_folded = _concat([t[3] for t in texts]).take(idx)
    else:
        text_doc, text_field = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int16)
        text_value = text_folded = _concat([])
    if ids:
        forms = _concat([i[0] for i in ids])
        order_ids = pc.array_sort_indices(forms)                    # a stable sort
        order = order_ids.to_numpy()
        id_form = forms.take(order_ids)
        id_doc = np.concatenate([i[1] for i in ids])[order]
        id_field = np.concatenate([i[2] for i in ids])[order]
        id_value = _concat([i[3] for i in ids]).take(order_ids)
    else:
        id_form = id_value = _concat([])
        id_doc, id_field = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int16)
    docs = Documents(
        labels=tuple(labels), starts=np.asarray(starts, dtype=np.int64), keys=_strings(_concat(key_parts)),
        alias_doc=np.concatenate(alias_docs) if alias_docs else np.zeros(0, dtype=np.int32),
        alias_rep=_strings(_concat(alias_reps)), fields=tuple(fields),
        text_doc=text_doc, text_field=text_field, text_value=_strings(text_value),
        text_folded=_strings(text_folded), id_form=_strings(id_form), id_doc=id_doc, id_field=id_field,
        id_value=_strings(id_value), captions=captions)
    return docs

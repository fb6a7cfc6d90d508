"""Search (graphiff.search): names and identifiers, the same answers on both stores.

The world: Pearl Modern Resources (T1, with a partner's record T9 of it that entity resolution
links), three look-alike decoys, Müller GmbH, persons, an account with an IBAN, a declaration
with a container and a conveyance, a payment, a cash report, and a trader named with markup.
"""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from graphiff.errors import GraphiffError
from graphiff.graph.tables import Tables
from graphiff.ingest.loader import load_paths
from graphiff.search import Hit, SearchIndex, open_search
from graphiff.search.documents import build_documents, field_specs
from graphiff.search.embedded import TantivySearch
from graphiff.search.neo4j import lucene_escape, lucene_query
from graphiff.search.normalise import compact_id, fold, fold_text
from graphiff.stores import Store, open_store
from tests.world import HOSTILE, write_world

ROOT = Path(__file__).resolve().parents[2]

TABLES: dict[str, list[dict]] = {
    "traders": [
        {"trader_id": "T1", "name": "Pearl Modern Resources Pvt Ltd", "country": "IN", "tin": "AAACP1234Q",
         "address": "12 Marine Drive", "city": "Mumbai", "phone": "+91 22 4000 1234",
         "email": "Info@PearlModern.example", "legal_form": "Private limited company"},
        {"trader_id": "T2", "name": "Pearl Modern Foods Ltd", "country": "IN", "tin": "AAACP9999Z"},
        {"trader_id": "T3", "name": "Modern Pearl Jewellers", "country": "IN"},
        {"trader_id": "T5", "name": "Perle Moderne SARL", "country": "FR"},
        {"trader_id": "T4", "name": "Müller GmbH", "country": "DE", "address": "Hafenstraße 3", "city": "Hamburg"},
        {"trader_id": "T9", "name": "PEARL MODERN RESOURCES", "country": "IN"},
        {"trader_id": "T7", "name": HOSTILE[0], "country": "KE"},
    ],
    "persons": [
        {"person_id": "P1", "name": "Jane Doe", "passport_no": "AK123456", "email": "jane@example.org"},
        {"person_id": "P2", "name": "John Mueller", "phone": "0049 40 1234567"},
    ],
    "carriers": [{"carrier_id": "C1", "name": "Lake Freight Ltd", "country": "KE"}],
    "accounts": [
        {"account_id": "DE89 3704 0044 0532 0130 00", "holder_id": "T4", "bank_country": "DE"},
        {"account_id": "GB29NWBK60161331926819", "holder_id": "P1", "bank_country": "GB"},
    ],
    "declarations": [
        {"declaration_id": "D100", "item_no": "1", "flow": "EXPORT", "reporting_country": "IN", "date": "2024-01-10",
         "exporter_id": "T1", "importer_id": "T4", "hs_code": "710239", "invoice_value": "1000", "currency": "USD",
         "carrier_id": "C1", "conveyance_id": "IMO9746806", "container_ids": "MSCU1234567",
         "transport_doc_no": "BL-77", "invoice_no": "INV-5001"},
        {"declaration_id": "D100", "item_no": "2", "flow": "EXPORT", "reporting_country": "IN", "date": "2024-01-10",
         "exporter_id": "T1", "importer_id": "T4", "hs_code": "710239", "invoice_value": "500", "currency": "USD"},
    ],
    "payments": [
        {"payment_id": "PAY1", "date": "2024-01-25", "from_account": "DE89370400440532013000",
         "to_account": "GB29NWBK60161331926819", "amount": "1000", "currency": "USD", "invoice_no": "INV-5001"},
    ],
    "cash_reports": [
        {"report_id": "CR1", "report_type": "BORDER", "date": "2024-02-01", "amount": "9500", "currency": "USD",
         "person_id": "P1", "direction": "OUT"},
    ],
}


def same_as(a: str, b: str, label: str = "Trader", status: str = "linked") -> pd.DataFrame:
    """One SAME_AS row as ``graphiff resolve`` writes it (ends ordered)."""
    src, dst = sorted((a, b))
    return pd.DataFrame([{"src_label": label, "src": src, "dst_label": label, "dst": dst, "score": 0.97,
                          "status": status, "evidence": "{}", "method": "test", "version": "1",
                          "decided_by": "test", "decided_at": "2026-11-30T00:00:00+00:00",
                          "_source": "graphiff resolve", "_line": 0, "_load_id": "L1",
                          "_loaded_at": "2026-11-30T00:00:00+00:00"}])


@pytest.fixture(scope="module", params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def world(request, tmp_path_factory) -> Store:
    """The module's world, loaded once per backend (as the ``store`` fixture of tests/conftest.py
    chooses them; nothing here writes to it)."""
    tmp = tmp_path_factory.mktemp("search")
    uri = str(tmp / "graph.duckdb") if request.param == "embedded" else request.getfixturevalue("neo4j_uri")
    store = open_store(uri)
    if request.param == "neo4j":
        store.wipe()
    load_paths(store, [write_world(tmp / "in", tables=TABLES)], quarantine_dir=tmp / "q")
    store.upsert_rels("SAME_AS", same_as("T1", "T9"))
    yield store
    store.close()


@pytest.fixture(scope="module")
def index(world: Store) -> SearchIndex:
    return open_search(world, Tables(world))


def ids(hits: list[Hit]) -> list[str]:
    return [h.id for h in hits]


# ---- names ---------------------------------------------------------------------------------

def test_misspelt_name_found_first_and_decoys_lower(index):
    hits = index.search("perl modrn resources")
    assert hits[0].id == "Trader:T1"
    assert hits[0].caption == "Pearl Modern Resources Pvt Ltd"
    assert 0.85 <= hits[0].score <= 1.0
    scores = {h.id: h.score for h in hits}
    for decoy in ("Trader:T2", "Trader:T3", "Trader:T5"):
        assert scores.get(decoy, 0.0) < hits[0].score
    assert all(0.0 <= h.score <= 1.0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_word_order_and_unfinished_last_word(index):
    assert index.search("resources modern pearl")[0].id == "Trader:T1"
    assert index.search("pearl modern res")[0].id == "Trader:T1"
    assert index.search("pearl modern foo")[0].id == "Trader:T2"


def test_accents_and_case(index):
    for q in ("MÜLLER", "muller", "Muller gmbh", "mÜlLeR"):
        hits = index.search(q, types=["Trader"])
        assert hits[0].id == "Trader:T4", q
        assert hits[0].matched[0] == {"field": "name", "value": "Müller GmbH"}
    assert "Person:P2" in ids(index.search("mueller"))


def test_address_text(index):
    hits = index.search("marine drive mumbai")
    assert hits[0].label in ("Address", "Trader")
    assert "Address:12 MARINE DRIVE MUMBAI IN" in ids(hits)
    assert "Trader:T1" in ids(hits)


# ---- identifiers ---------------------------------------------------------------------------

@pytest.mark.parametrize("q,expected,field", [
    ("aaacp1234q", "Trader:T1", "tin"),
    ("AAACP 1234 Q", "Trader:T1", "tin"),
    ("de89 3704 0044 0532 0130 00", "BankAccount:DE89370400440532013000", "account_id"),
    ("GB29NWBK60161331926819", "BankAccount:GB29NWBK60161331926819", "account_id"),
    ("+91 22 4000 1234", "Trader:T1", "phone"),
    ("0091 22 4000-1234", "Trader:T1", "phone"),
    ("022 4000 1234", "Trader:T1", "phone"),          # as written inside India (trunk 0)
    ("040 1234567", "Person:P2", "phone"),            # 0049 40 1234567 as written in Germany
    ("info@pearlmodern.example", "Trader:T1", "email"),
    ("MSCU 123456-7", "Container:MSCU1234567", "container_id"),
    ("imo9746806", "Conveyance:IMO9746806", "conveyance_id"),
    ("D100/2", "Declaration:D100/2", "decl_key"),
    ("BL-77", "Declaration:D100/1", "transport_doc_no"),
    ("PAY1", "Payment:PAY1", "payment_id"),
    ("CR1", "CashReport:CR1", "report_id"),
    ("ak123456", "Person:P1", "passport_no"),
])
def test_identifier_found_exactly(index, q, expected, field):
    hits = index.search(q)
    top = [h for h in hits if h.score == 1.0]
    assert expected in ids(top), (q, hits[:3])
    hit = next(h for h in hits if h.id == expected)
    assert hit.matched[0]["field"] == field


def test_identifier_nodes_and_holders(index):
    got = ids(index.search("+91 22 4000 1234"))
    assert {"Trader:T1", "Phone:+912240001234"} <= set(got)
    got = ids(index.search("INFO@PEARLMODERN.EXAMPLE"))
    assert {"Trader:T1", "Email:info@pearlmodern.example"} <= set(got)


def test_declaration_id_finds_its_items_and_prefix_typing(index):
    assert ids(index.search("D100", types=["Declaration"])) == ["Declaration:D100/1", "Declaration:D100/2"]
    hits = index.search("DE89 3704")                     # the start of an IBAN
    assert hits[0].id == "BankAccount:DE89370400440532013000" and 0.5 <= hits[0].score < 1.0
    invoice = ids(index.search("INV-5001"))
    assert {"Declaration:D100/1", "Payment:PAY1"} <= set(invoice)


# ---- filters and limits ---------------------------------------------------------------------

def test_types_filter_and_limit(index):
    hits = index.search("pearl", types=["Trader"], limit=2)
    assert len(hits) == 2 and all(h.label == "Trader" for h in hits)
    assert all(h.label == "Person" for h in index.search("mueller", types=["Person"]))
    assert index.search("perl modrn resources", types=["Person", "Carrier"]) == []
    assert ids(index.search("lake freight", types=["Carrier"])) == ["Carrier:C1"]


@pytest.mark.parametrize("kwargs,message", [
    ({"q": ""}, "empty"), ({"q": "   \t"}, "empty"),
    ({"q": "pearl", "types": ["Trader", "Boat"]}, "'Boat'"),
    ({"q": "pearl", "types": ["Country"]}, "'Country'"),
    ({"q": "pearl", "limit": 0}, "limit"), ({"q": "pearl", "limit": 201}, "limit"),
    ({"q": "x" * 201}, "too long"),
])
def test_bad_requests_are_clear_errors(index, kwargs, message):
    with pytest.raises(GraphiffError, match=re.escape(message)):
        index.search(**kwargs)


# ---- entity resolution -------------------------------------------------------------------------

def test_alias_record_found_as_its_entity(world, index):
    hits = index.search("PEARL MODERN RESOURCES")
    assert hits[0].id == "Trader:T1"
    assert "Trader:T9" not in ids(hits)                       # one entity, not two records
    assert {"field": "alias_names", "value": "PEARL MODERN RESOURCES"} in hits[0].matched
    assert len(ids(hits)) == len(set(ids(hits)))
    by_key = index.search("T9", types=["Trader"])
    assert by_key[0].id == "Trader:T1" and by_key[0].matched[0] == {"field": "aliases", "value": "T9"}
    # the records as loaded: the partner's record is its own hit
    raw = open_search(world, Tables(world, resolved=False))
    assert raw.search("T9", types=["Trader"])[0].id == "Trader:T9"


# ---- hostile text ---------------------------------------------------------------------------

@pytest.mark.parametrize("q", ['<script>alert(1)</script>', 'AND ( "~*', "*", "~", "\\", "title:foo OR bar",
                               '"unclosed', "a^2 b~3 [x TO y] {z}", "'; DROP TABLE x; --", "?", "ab" * 100,
                               "\u0000\u200b", "ООО «Ромашка»", "名前"])
def test_hostile_text_does_not_crash(index, q):
    hits = index.search(q)
    assert isinstance(hits, list) and all(0.0 <= h.score <= 1.0 for h in hits)


def test_markup_found_and_returned_as_text(index):
    hits = index.search("script alert", types=["Trader"])
    assert hits[0].id == "Trader:T7" and hits[0].caption == HOSTILE[0]


# ---- both stores alike ------------------------------------------------------------------------

QUERIES = ["perl modrn resources", "MÜLLER", "pearl", "jane doe", "marine drive", "T9", "D100", "de89 3704",
           "+91 22 4000 1234", "lake fre", "modern pearl jewelers"]


def test_backend_answers_like_the_embedded_index(world, index):
    tables = index.tables
    embedded = TantivySearch(tables)
    assert type(index).__name__ == ("Neo4jSearch" if world.__class__.__name__ == "Neo4jStore" else "TantivySearch")
    for q in QUERIES:
        assert index.search(q) == embedded.search(q), q


# ---- no store needed --------------------------------------------------------------------------

def test_normalisation():
    assert fold("Müller GmbH") == "muller gmbh"
    assert compact_id("de89 3704-0044 (0532) 013000") == "DE89370400440532013000"
    assert lucene_escape('a AND (b) "c" ~d *e: \\ /') == 'a and \\(b\\) \\"c\\" \\~d \\*e\\: \\\\ \\/'
    assert lucene_query(["pearl", "mo"]) == "pearl^2 pearl~1 mo^2 mo*"


def test_fold_of_ascii_text_is_normalitys():
    """The ASCII fast path of folding gives what ``normality`` gives, for every pair of ASCII
    characters and some names."""
    from normality import normalize

    chars = [chr(c) for c in range(128)]
    texts = [a + b for a in chars for b in chars] + ["  Pearl  Modern\tRes. (Pvt) Ltd ", "O'Brien & Sons", "A\x1fB"]
    assert [fold_text(t) for t in texts] == [normalize(t, ascii=True) or "" for t in texts]


def test_documents_are_columns(index):
    """The documents read back per document and per candidate as the tables hold them."""
    docs = build_documents(index.tables)
    t9 = docs.find("Trader", ["T9", "nope"])
    assert t9[1] == -1 and docs.key_of(t9[0]) == "T9" and docs.label_of(t9[0]) == "Trader"
    assert docs.entity_of(t9[0]) == "T1" and docs.entities(t9[:1]) == [("Trader", "T1")]
    assert docs.texts_of(t9[0]) == [("alias_names", "PEARL MODERN RESOURCES", "pearl modern resources")]
    t1 = docs.find("Trader", ["T1"])[0]
    assert [(d, f, v) for d, f, v, _ in docs.texts_of_many([t9[0], t1])] == [
        (t9[0], "alias_names", "PEARL MODERN RESOURCES"), (t1, "name", "Pearl Modern Resources Pvt Ltd"),
        (t1, "address", "12 Marine Drive")]
    assert docs.captions("Trader", ["T1", "T404"]) == ["Pearl Modern Resources Pvt Ltd", "T404"]
    forms = [docs.id_form.text(j) for j in range(docs.n_identifiers)]
    assert forms == sorted(forms)
    exact = docs.lookup_ids(["AAACP1234Q"], ("Trader",))
    assert [(docs.key_of(d), f, v, s) for d, f, v, s in exact] == [("T1", "tin", "AAACP1234Q", 1.0)]
    prefix = docs.lookup_ids(["DE89370"], ("BankAccount",))
    assert [(f, v) for _, f, v, _ in prefix] == [("account_id", "DE89370400440532013000")]
    assert docs.lookup_ids(["DE89370"], ("Trader",)) == []
    assert len(docs.text_docs()) == len(set(docs.text_docs().tolist())) and "Address" in docs.text_labels()


def test_full_text_index_covers_the_text_fields():
    """cypher/search_index.cypher names every label and property that has a text field."""
    text = (ROOT / "cypher" / "search_index.cypher").read_text("utf-8")
    labels = set(re.search(r"FOR \(n:([A-Za-z|]+)\)", text).group(1).split("|"))
    props = set(re.findall(r"n\.(\w+)", re.search(r"ON EACH \[([^\]]*)\]", text).group(1)))
    for label, specs in field_specs().items():
        columns = {s.column for s in specs if s.kind == "text"}
        if columns:
            assert label in labels, label
            assert columns <= props, (label, columns)

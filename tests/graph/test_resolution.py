"""The resolved view (graphiff.graph.resolution, Tables): records that SAME_AS joins read as one
entity, on both stores.

The world: trader T1 exports to T2 (declaration D1), and T2' -- another record of T2, under
the id a partner administration gave it -- exports back to T1 (D2). A linked SAME_AS says T2
and T2' are one trader, so the resolved view shows a 2-cycle T1 -> T2 -> T1 that the records
as loaded do not.
"""
from __future__ import annotations

import json

import pandas as pd
import pytest

from graphiff.explore import neighbourhood, paths
from graphiff.graph.features import money_edges, trade_edges
from graphiff.graph.index import graph_index
from graphiff.graph.resolution import Resolution, resolution_from_tables
from graphiff.graph.select import select
from graphiff.graph.tables import Tables
from graphiff.stores import Store, open_store
from tests._clikit import run_cli_streams

LOADED_AT = "2026-11-30T00:00:00+00:00"
T2B = "T2'"
T2B_NAME = "MARA LEGACY METALS LIMITED"


def prov(source: str, line: int = 2) -> dict:
    """Provenance columns of one row of a load."""
    return {"_source": source, "_line": line, "_load_id": "L1", "_loaded_at": LOADED_AT}


def same_as(rows: list[tuple], *, label: str = "Trader") -> pd.DataFrame:
    """SAME_AS rows ``(a, b, status, score)`` of ``label``, ends ordered (src < dst), as
    ``graphiff resolve`` writes them."""
    out = []
    for a, b, status, score in rows:
        src, dst = sorted((a, b))
        out.append({"src_label": label, "src": src, "dst_label": label, "dst": dst, "score": score,
                    "status": status, "evidence": '{"tin": "equal", "name": 0.82}', "method": "graphiff-resolve",
                    "version": "1", "decided_by": "graphiff resolve", "decided_at": LOADED_AT,
                    **prov("graphiff resolve", 0)})
    return pd.DataFrame(out)


def rels(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame([{"src_label": a, "src": b, "dst_label": c, "dst": d, **prov("declarations.csv")}
                         for a, b, c, d in rows])


def build_world(store: Store, *, status: str = "linked") -> Store:
    """The module docstring's world in ``store`` (SAME_AS T2 -- T2' with ``status``)."""
    store.upsert_nodes("Trader", pd.DataFrame([
        {"key": "T1", "trader_id": "T1", "name": "ACME EXPORTS", "country": "KE", **prov("traders.csv", 2)},
        {"key": "T2", "trader_id": "T2", "name": "MARA METALS LTD", "country": "UG", "tin": "UG100200",
         "legal_form": "Limited", **prov("traders.csv", 3)},
        {"key": T2B, "trader_id": T2B, "name": T2B_NAME, "country": "UG", "tin": "UG100200",
         "city": "KAMPALA", **prov("partner_traders.csv", 2)},
    ]))
    store.upsert_nodes("Declaration", pd.DataFrame([
        {"key": "D1/1", "declaration_id": "D1", "item_no": 1, "flow": "EXPORT", "reporting_country": "KE",
         "date": "2024-01-10", "exporter_id": "T1", "importer_id": "T2", "hs_code": "74031100", "hs6": "740311",
         "value_usd": 250000.0, "transport_doc_no": "BL-1", **prov("declarations.csv", 2)},
        {"key": "D2/1", "declaration_id": "D2", "item_no": 1, "flow": "EXPORT", "reporting_country": "UG",
         "date": "2024-03-01", "exporter_id": T2B, "importer_id": "T1", "hs_code": "74031100", "hs6": "740311",
         "value_usd": 240000.0, "transport_doc_no": "BL-2", **prov("declarations.csv", 3)},
    ]))
    store.upsert_rels("EXPORTED", rels([("Trader", "T1", "Declaration", "D1/1"),
                                        ("Trader", T2B, "Declaration", "D2/1")]))
    store.upsert_rels("IMPORTED_BY", rels([("Declaration", "D1/1", "Trader", "T2"),
                                           ("Declaration", "D2/1", "Trader", "T1")]))
    store.upsert_rels("SAME_AS", same_as([("T2", T2B, status, 0.97)]))
    return store


@pytest.fixture
def world(store) -> Store:
    return build_world(store)


def by_key(frame: pd.DataFrame) -> dict[str, dict]:
    return {str(r["key"]): r for r in frame.to_dict("records")}


# ---- the resolved view ------------------------------------------------------------------------

def test_resolved_tables_show_one_trader_with_aliases(world):
    t = Tables(world)
    traders = by_key(t.nodes("Trader"))
    assert set(traders) == {"T1", "T2"}
    assert traders["T2"]["aliases"] == T2B and traders["T2"]["alias_names"] == T2B_NAME
    assert traders["T2"]["name"] == "MARA METALS LTD"          # the representative's own values
    assert traders["T2"]["city"] == "KAMPALA"                  # a gap filled from the other record
    assert traders["T2"]["filled_from"] == f"city: {T2B}"       # ... and it says which
    assert pd.isna(traders["T1"].get("filled_from"))
    assert pd.isna(traders["T1"]["aliases"])
    decls = by_key(t.nodes("Declaration"))
    assert (decls["D2/1"]["exporter_id"], decls["D2/1"]["importer_id"]) == ("T2", "T1")
    assert (decls["D1/1"]["exporter_id"], decls["D1/1"]["importer_id"]) == ("T1", "T2")
    exported = t.rels("EXPORTED")
    assert sorted(zip(exported["src"], exported["dst"])) == [("T1", "D1/1"), ("T2", "D2/1")]
    assert len(t.rels("SAME_AS")) == 0                         # the aliases are on the node
    assert t.resolution.members["Trader"] == {"T2": ["T2", T2B]}
    assert t.resolution.of("Trader", T2B) == "T2"


def test_trade_edges_close_a_two_cycle_only_when_resolved(world):
    e = trade_edges(Tables(world))
    assert sorted(zip(e["src"], e["dst"])) == [("T1", "T2"), ("T2", "T1")]
    raw = trade_edges(Tables(world, resolved=False))
    assert sorted(zip(raw["src"], raw["dst"])) == [("T1", "T2"), (T2B, "T1")]


def test_unresolved_view_shows_both_records_and_the_same_as_edge(world):
    for t in (Tables(world, resolved=False), Tables(world).raw):
        traders = by_key(t.nodes("Trader"))
        assert set(traders) == {"T1", "T2", T2B}
        assert "aliases" not in t.nodes("Trader").columns
        s = t.rels("SAME_AS")
        assert list(zip(s["src"], s["dst"], s["status"])) == [("T2", T2B, "linked")]
        assert by_key(t.nodes("Declaration"))["D2/1"]["exporter_id"] == T2B
        assert not t.resolution
    # explore walks SAME_AS as an ordinary relationship in the unresolved view
    nb = neighbourhood(Tables(world, resolved=False), "T2")
    links = {n["key"]: [(lk["how"], lk.get("status")) for lk in n["links"]] for n in nb["neighbours"]}
    assert links[T2B] == [("-[SAME_AS]->", "linked")]
    assert all(st is None for how, st in links["T1"])


def test_a_record_key_finds_its_resolved_entity(world):
    t = Tables(world)
    idx = graph_index(t)
    assert idx.find("Trader", T2B) == idx.find("Trader", "T2") >= 0
    assert idx.resolve(T2B) == idx.resolve("T2") == idx.resolve(f"Trader:{T2B}")
    nb = neighbourhood(t, T2B)
    assert nb["entity"]["key"] == "T2" and nb["entity"]["props"]["aliases"] == T2B
    assert [n["key"] for n in nb["neighbours"]] == ["T1"]
    assert sorted(r["key"] for r in nb["records"]) == ["D1/1", "D2/1"]
    sub = select(t, seeds=[T2B], hops=1)
    assert {n.id for n in sub.nodes} == {"Trader:T2", "Trader:T1", "Declaration:D1/1", "Declaration:D2/1"}
    assert paths(t, T2B, "T1")[0]["nodes"][0]["key"] == "T2"
    # the records as loaded keep T2' as its own node
    raw = graph_index(Tables(world, resolved=False))
    assert raw.find("Trader", T2B) != raw.find("Trader", "T2")


@pytest.mark.parametrize("status", ["review", "unsure", "rejected"])
def test_statuses_that_do_not_join(store, status):
    build_world(store, status=status)
    t = Tables(store)
    assert not t.resolution
    assert set(t.nodes("Trader")["key"]) == {"T1", "T2", T2B}
    assert len(t.rels("SAME_AS")) == 0                         # SAME_AS is never a relationship when resolved
    e = trade_edges(t)
    assert sorted(zip(e["src"], e["dst"])) == [("T1", "T2"), (T2B, "T1")]
    # the records as loaded: explore and path say what the SAME_AS they walk is
    raw = Tables(store, resolved=False)
    [link] = [n for n in neighbourhood(raw, T2B)["neighbours"] if n["key"] == "T2"][0]["links"]
    assert (link["how"], link["status"]) == ("<-[SAME_AS]-", status)
    [hop] = paths(raw, "T2", T2B)[0]["hops"]
    assert hop["same_as"] == status


def test_confirmed_joins(store):
    build_world(store, status="confirmed")
    assert set(Tables(store).nodes("Trader")["key"]) == {"T1", "T2"}


def test_rejected_keeps_apart_records_that_linked_chains_would_join(store):
    store.upsert_nodes("Trader", pd.DataFrame([{"key": k, "name": f"Trader {k}", **prov("traders.csv", i)}
                                               for i, k in enumerate(["A", "B", "C", "D"], start=2)]))
    # A-B-C chain by linked pairs (B-C the weaker); an analyst said A and C are not the same
    store.upsert_rels("SAME_AS", same_as([("A", "B", "linked", 0.95), ("B", "C", "linked", 0.90),
                                          ("A", "C", "rejected", 0.40), ("C", "D", "linked", 0.93)]))
    t = Tables(store)
    assert t.resolution.clusters("Trader") == [["A", "B"], ["C", "D"]]
    traders = by_key(t.nodes("Trader"))
    assert set(traders) == {"A", "C"}
    assert traders["A"]["aliases"] == "B" and traders["C"]["aliases"] == "D"


def test_a_confirmed_link_wins_over_a_higher_scored_linked_one(store):
    store.upsert_nodes("Trader", pd.DataFrame([{"key": k, "name": k} for k in ("A", "B", "C")]))
    store.upsert_rels("SAME_AS", same_as([("A", "B", "linked", 0.99), ("B", "C", "confirmed", 0.60),
                                          ("A", "C", "rejected", 0.10)]))
    assert Tables(store).resolution.clusters("Trader") == [["B", "C"]]


def test_own_record_represents_a_cluster_with_partner_records(store):
    """A record imported from a partner package (``source = partner:...``) never becomes the
    resolved id while the cluster has a record of its own."""
    store.upsert_nodes("Trader", pd.DataFrame([
        {"key": "HMRC:A1", "name": "PARTNER NAME", "source": "partner:HMRC"},
        {"key": "Z9", "name": "OWN NAME"},
    ]))
    store.upsert_rels("SAME_AS", same_as([("HMRC:A1", "Z9", "linked", 0.95)]))
    t = Tables(store)
    assert t.resolution.members["Trader"] == {"Z9": ["Z9", "HMRC:A1"]}
    assert by_key(t.nodes("Trader"))["Z9"]["aliases"] == "HMRC:A1"


def test_accounts_and_payments_resolve(store):
    store.upsert_nodes("Trader", pd.DataFrame([{"key": "T1", "name": "ACME"}, {"key": "T9", "name": "OTHER"}]))
    store.upsert_nodes("BankAccount", pd.DataFrame([
        {"key": "KE01", "account_id": "KE01", "holder_id": "T1"},
        {"key": "KE01-OLD", "account_id": "KE01-OLD", "holder_id": "T1"},
        {"key": "UG02", "account_id": "UG02", "holder_id": "T9"},
    ]))
    store.upsert_nodes("Payment", pd.DataFrame([
        {"key": "PAY1", "payment_id": "PAY1", "from_account": "KE01-OLD", "to_account": "UG02", "date": "2024-02-01",
         "amount": 10.0, "currency": "USD", "amount_usd": 10.0},
        {"key": "PAY2", "payment_id": "PAY2", "from_account": "UG02", "to_account": "KE01", "date": "2024-02-05",
         "amount": 9.0, "currency": "USD", "amount_usd": 9.0},
    ]))
    store.upsert_rels("HOLDS", rels([("Trader", "T1", "BankAccount", "KE01"),
                                     ("Trader", "T1", "BankAccount", "KE01-OLD"),
                                     ("Trader", "T9", "BankAccount", "UG02")]))
    store.upsert_rels("SENT", rels([("BankAccount", "KE01-OLD", "Payment", "PAY1"),
                                    ("BankAccount", "UG02", "Payment", "PAY2")]))
    store.upsert_rels("RECEIVED_BY", rels([("Payment", "PAY1", "BankAccount", "UG02"),
                                           ("Payment", "PAY2", "BankAccount", "KE01")]))
    store.upsert_rels("SAME_AS", same_as([("KE01", "KE01-OLD", "linked", 0.99)], label="BankAccount"))
    t = Tables(store)
    assert set(t.nodes("BankAccount")["key"]) == {"KE01", "UG02"}
    assert by_key(t.nodes("Payment"))["PAY1"]["from_account"] == "KE01"
    holds = t.rels("HOLDS")
    assert sorted(zip(holds["src"], holds["dst"])) == [("T1", "KE01"), ("T9", "UG02")]   # duplicates merged
    m = money_edges(t)
    assert sorted(zip(m["src"], m["dst"])) == [("KE01", "UG02"), ("UG02", "KE01")]


def test_resolution_from_tables_ignores_mixed_labels_and_empty():
    assert not resolution_from_tables(pd.DataFrame())
    mixed = pd.DataFrame({"src_label": ["Trader"], "src": ["A"], "dst_label": ["Person"], "dst": ["B"],
                          "status": ["linked"], "score": [0.9]})
    assert not resolution_from_tables(mixed)
    r = Resolution.from_links([("Trader", "A", "A", "linked", 1.0)])
    assert not r


# ---- the CLI: --unresolved ------------------------------------------------------------------

def test_cli_explore_resolved_and_unresolved(store_uri):
    with open_store(store_uri) as st:
        build_world(st)
    code, out, err = run_cli_streams("explore", T2B, "--store", store_uri)
    assert code == 0, err
    assert f"same as: {T2B} ({T2B_NAME})" in out
    assert "2 records joined; --unresolved shows them" in out
    code, out, err = run_cli_streams("explore", T2B, "--store", store_uri, "--unresolved")
    assert code == 0, err
    assert "same as:" not in out and "<-[SAME_AS]- [linked] (0)" in out and "MARA METALS LTD" in out
    code, out, err = run_cli_streams("explore", "T1", "--store", store_uri, "--json")
    assert code == 0, err
    nb = json.loads(out)
    [t2] = [n for n in nb["neighbours"] if n["key"] == "T2"]
    assert t2["aliases"] == [T2B]
    code, out, err = run_cli_streams("explore", T2B, "--store", store_uri, "--json")
    entity = json.loads(out)["entity"]
    assert entity["props"]["aliases"] == T2B and entity["props"]["alias_names"] == T2B_NAME
    assert entity["same_as"] == [{"id": f"Trader:{T2B}", "key": T2B, "caption": T2B_NAME}]
    code, out, err = run_cli_streams("explore", "T2", "--store", store_uri, "--json", "--unresolved")
    entity = json.loads(out)["entity"]
    assert "same_as" not in entity and "aliases" not in entity and "aliases" not in entity["props"]
    code, out, err = run_cli_streams("path", T2B, "T1", "--store", store_uri, "--json")
    assert code == 0, err
    found = json.loads(out)
    assert found[0]["nodes"][0]["key"] == "T2" and found[0]["nodes"][0]["aliases"] == [T2B]
    code, out, err = run_cli_streams("path", "T1", T2B, "--store", store_uri)
    assert code == 0, err
    assert f"Trader T2 (MARA METALS LTD; same as {T2B})" in " ".join(out.split())


def test_a_loaded_aliases_column_is_not_read_as_resolution(world):
    world.upsert_nodes("Trader", pd.DataFrame([{"key": "T5", "name": "ACME", "aliases": "ACME CORP; ACME KE"}]))
    traders = by_key(Tables(world).nodes("Trader"))
    assert traders["T2"]["aliases"] == T2B
    assert pd.isna(traders["T5"]["aliases"])       # T5 is joined to nothing


def test_records_show_their_references_as_filed(world):
    # the detectors read D2's exporter as the resolved entity T2; an investigator reading D2
    # sees the id its line holds, and the link to the entity that lists it among its aliases
    tables = Tables(world)
    assert by_key(tables.nodes("Declaration"))["D2/1"]["exporter_id"] == "T2"
    nb = neighbourhood(tables, "Declaration:D2/1", hops=1)
    assert nb["entity"]["props"]["exporter_id"] == T2B
    assert "T2" in {n["key"] for n in nb["neighbours"]}

"""Sharing packages and entity resolution: a resolved entity goes out as its records with the
SAME_AS among them (score, status, evidence, method, decided_by, decided_at; linked, confirmed and
rejected only), in edges.csv and in judgements.json; personal values inside the evidence are
redacted; the partner's graphiff joins the records again, and a partner's SAME_AS never joins a
local record.

The world is tests/graph/test_resolution.py's (T1 exports to T2, T2' -- another record of T2 --
exports back), plus T3, a record an analyst said is *not* T2 (rejected), T9 waiting for review
against T1, and a director known under two person records P7 and P7' (linked on the passport).
"""
from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from followthemoney import model as ftm_model

from graphiff.errors import PackageError
from graphiff.graph.features import trade_edges
from graphiff.graph.select import select
from graphiff.graph.tables import Tables
from graphiff.resolve.run import resolve
from graphiff.share.ftm import ftm_id
from graphiff.share.importer import import_package
from graphiff.share.package import make_package
from graphiff.stores import Store, open_store
from tests.graph.test_resolution import T2B, build_world, prov, rels, same_as
from tests.share.test_import_hardening import edit_csv, refused, repack

KEY = b"team-key-for-tests-0123456789abcdef"
PRODUCER = "KRA Team B"
P = f"{PRODUCER}:"
PASSPORT = "MK4471902"
PERSON_EVIDENCE = json.dumps({
    "blocked_on": "passport",
    "name": {"a": "IVANKA PETROVSKA", "b": "IVANKA PETROVSCA", "match": "typo (94)", "weight": 4.0},
    "passport": {"a": PASSPORT, "b": PASSPORT, "match": "equal", "weight": 10.0},
    "nationality": {"a": "MK", "b": "MK", "match": "equal", "weight": 0.5},
    "prior": -4.0, "total": 10.5})


def build_case(store: Store) -> Store:
    """The module docstring's world in ``store``."""
    build_world(store)
    store.upsert_nodes("Trader", pd.DataFrame([
        {"key": "T3", "trader_id": "T3", "name": "MARA METALS (FRONT)", "country": "UG", **prov("traders.csv", 4)},
        {"key": "T9", "trader_id": "T9", "name": "ACME EXPORTS LTD", "country": "KE", **prov("traders.csv", 5)},
    ]))
    store.upsert_nodes("Declaration", pd.DataFrame([
        {"key": "D3/1", "declaration_id": "D3", "item_no": 1, "flow": "EXPORT", "reporting_country": "UG",
         "date": "2024-04-01", "exporter_id": "T3", "importer_id": "T1", "hs_code": "74031100", "hs6": "740311",
         "value_usd": 1000.0, **prov("declarations.csv", 4)},
        {"key": "D9/1", "declaration_id": "D9", "item_no": 1, "flow": "EXPORT", "reporting_country": "KE",
         "date": "2024-05-01", "exporter_id": "T9", "importer_id": "T2", "hs_code": "74031100", "hs6": "740311",
         "value_usd": 900.0, **prov("declarations.csv", 5)},
    ]))
    store.upsert_rels("EXPORTED", rels([("Trader", "T3", "Declaration", "D3/1"),
                                        ("Trader", "T9", "Declaration", "D9/1")]))
    store.upsert_rels("IMPORTED_BY", rels([("Declaration", "D3/1", "Trader", "T1"),
                                           ("Declaration", "D9/1", "Trader", "T2")]))
    store.upsert_rels("SAME_AS", same_as([("T2", "T3", "rejected", 0.62), ("T1", "T9", "review", 0.55)]))
    store.upsert_nodes("Person", pd.DataFrame([
        {"key": "P7", "person_id": "P7", "name": "Ivanka Petrovska", "passport_no": PASSPORT, "nationality": "MK",
         "birth_date": "1971-03-14", **prov("persons.csv", 2)},
        {"key": "P7'", "person_id": "P7'", "name": "Ivanka Petrovsca", "passport_no": PASSPORT, "nationality": "MK",
         **prov("partner_persons.csv", 2)},
    ]))
    store.upsert_rels("OFFICER_OF", pd.DataFrame([
        {"src_label": "Person", "src": "P7", "dst_label": "Trader", "dst": "T2", "role": "DIRECTOR",
         **prov("officers.csv", 2)},
        {"src_label": "Person", "src": "P7'", "dst_label": "Trader", "dst": T2B, "role": "DIRECTOR",
         **prov("officers.csv", 3)},
    ]))
    store.upsert_rels("SAME_AS", same_as([("P7", "P7'", "linked", 0.99)], label="Person").assign(
        evidence=PERSON_EVIDENCE, decided_by="analyst.k", decided_at="2026-11-29T10:00:00+00:00"))
    return store


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Store:
    st = open_store(str(tmp_path_factory.mktemp("source") / "source.duckdb"))
    yield build_case(st)
    st.close()


def package(store: Store, out: Path, *, resolved: bool = True, redact: str = "none", hops: int = 2,
            seeds: tuple[str, ...] = ("T1",)) -> dict:
    tables = Tables(store, resolved=resolved)
    sub = select(tables, seeds=list(seeds), hops=hops)
    return make_package(sub, out, purpose="Operation Copper", marking="TLP:AMBER", producer=PRODUCER,
                        redact=redact, key=KEY if redact != "none" else None, store=tables)  # type: ignore[arg-type]


def files_of(zpath: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(zpath) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


# ---- what goes out ---------------------------------------------------------------------------

def test_package_carries_member_records_and_same_as_with_evidence(source, tmp_path):
    manifest = package(source, tmp_path / "p.zip")
    files = files_of(tmp_path / "p.zip")
    nodes = {(r["label"], r["key"]): r for r in csv_rows(files["nodes.csv"])}
    # the resolved entity T2 goes out as its two records, with their own values; no resolved-view columns
    assert {k for lab, k in nodes if lab == "Trader"} == {"T1", "T2", T2B, "T3", "T9"}
    assert nodes[("Trader", T2B)]["name"] == "MARA LEGACY METALS LIMITED" and nodes[("Trader", "T2")]["city"] == ""
    assert {k for lab, k in nodes if lab == "Person"} == {"P7", "P7'"}
    assert "aliases" not in csv_rows(files["nodes.csv"])[0] and "alias_names" not in csv_rows(files["nodes.csv"])[0]
    # relationships on their original ends, reference columns as loaded
    assert nodes[("Declaration", "D2/1")]["exporter_id"] == T2B
    edges = csv_rows(files["edges.csv"])
    exported = {(e["src"], e["dst"]) for e in edges if e["type"] == "EXPORTED"}
    assert {("T1", "D1/1"), (T2B, "D2/1"), ("T3", "D3/1")} <= exported
    assert {(e["src"], e["dst"]) for e in edges if e["type"] == "OFFICER_OF"} == {("P7", "T2"), ("P7'", T2B)}
    same = {(e["src"], e["dst"]): e for e in edges if e["type"] == "SAME_AS"}
    assert set(same) == {("T2", T2B), ("T2", "T3"), ("P7", "P7'")}          # the review pair stays home
    t2 = same[("T2", T2B)]
    assert (t2["status"], float(t2["score"]), t2["method"], t2["decided_by"]) == (
        "linked", 0.97, "graphiff-resolve", "graphiff resolve")
    assert json.loads(t2["evidence"]) == {"tin": "equal", "name": 0.82} and t2["decided_at"]
    assert same[("T2", "T3")]["status"] == "rejected"
    assert json.loads(same[("P7", "P7'")]["evidence"])["passport"]["a"] == PASSPORT      # redact="none"
    # judgements.json: the same three, nomenklatura-style, between the FtM entity ids
    judged = json.loads(files["judgements.json"])
    by_pair = {frozenset((j["source"], j["target"])): j for j in judged}
    j = by_pair[frozenset((ftm_id("Trader", "T2"), ftm_id("Trader", T2B)))]
    assert (j["judgement"], j["score"], j["user"], j["graphiff"]["status"]) == (
        "positive", 0.97, "graphiff resolve", "linked")
    assert j["target"] > j["source"] and j["evidence"] == {"tin": "equal", "name": 0.82}
    assert by_pair[frozenset((ftm_id("Trader", "T2"), ftm_id("Trader", "T3")))]["judgement"] == "negative"
    entities = [json.loads(line) for line in files["entities.ftm.json"].decode().splitlines()]
    entity_ids = {e["id"] for e in entities}
    assert all({j["source"], j["target"]} <= entity_ids for j in judged)
    # FtM's own "presumed to be the same" link for the pairs that join (not for the rejected one)
    similar = {frozenset((e["properties"]["candidate"][0], e["properties"]["match"][0])): e["properties"]
               for e in entities if e["schema"] == "Similar"}
    assert set(similar) == {frozenset((ftm_id("Trader", "T2"), ftm_id("Trader", T2B))),
                            frozenset((ftm_id("Person", "P7"), ftm_id("Person", "P7'")))}
    t2_similar = similar[frozenset((ftm_id("Trader", "T2"), ftm_id("Trader", T2B)))]
    assert t2_similar["confidenceScore"] == ["0.97"] and t2_similar["criteria"] == ["linked; tin equal; name 0.82"]
    assert t2_similar["matcher"] == ["graphiff-resolve / graphiff resolve"]
    for e in entities:
        ftm_model.get(e["schema"]).validate(e)
    assert manifest["counts"]["judgements"] == 3 and manifest["counts"]["relationships"]["SAME_AS"] == 3
    assert "judgements.json" in manifest["files"]


def test_unresolved_package_drops_review_same_as(source, tmp_path):
    package(source, tmp_path / "u.zip", resolved=False, hops=1, seeds=("T1", "T2"))
    files = files_of(tmp_path / "u.zip")
    edges = csv_rows(files["edges.csv"])
    statuses = {(e["src"], e["dst"]): e["status"] for e in edges if e["type"] == "SAME_AS"}
    assert statuses == {("T2", T2B): "linked", ("T2", "T3"): "rejected"}         # T1-T9 review left out
    assert {r["key"] for r in csv_rows(files["nodes.csv"]) if r["label"] == "Trader"} >= {"T1", "T2", T2B, "T9"}


def test_package_without_same_as_has_no_judgements_file(tmp_path):
    with open_store(str(tmp_path / "plain.duckdb")) as st:
        build_world(st)
        st.delete_rels("SAME_AS")
        manifest = package(st, tmp_path / "plain.zip")
    assert "judgements.json" not in files_of(tmp_path / "plain.zip")
    assert "judgements" not in manifest["counts"]


@pytest.mark.parametrize("policy", ["pseudonymise", "remove"])
def test_personal_evidence_is_redacted(source, tmp_path, policy):
    package(source, tmp_path / "r.zip", redact=policy)
    files = files_of(tmp_path / "r.zip")
    everything = b"\n".join(files.values()).decode("utf-8").casefold()
    for secret in (PASSPORT, "Ivanka", "Petrovska", "Petrovsca", "1971-03-14"):
        assert secret.casefold() not in everything, (policy, secret)
    edges = csv_rows(files["edges.csv"])
    [person] = [e for e in edges if e["type"] == "SAME_AS" and e["src_label"] == "Person"]
    assert person["src"].startswith(("psn-", "anon-")) and person["dst"].startswith(("psn-", "anon-"))
    ev = json.loads(person["evidence"])
    assert ev["passport"]["match"] == "equal" and ev["passport"]["weight"] == 10.0 and ev["total"] == 10.5
    assert ev["name"]["match"] == "typo (94)" and ev["blocked_on"] == "passport"
    assert ev["nationality"]["a"] == "MK"                            # not a personal identifier
    if policy == "pseudonymise":
        assert ev["passport"]["a"] == ev["passport"]["b"] and ev["passport"]["a"].startswith("psn-")
        assert ev["name"]["a"] != ev["name"]["b"]
    else:
        assert ev["passport"]["a"] is None and ev["name"]["b"] is None
    # the judgement carries the same redacted evidence; the traders' evidence is company data and stays
    judged = {j["graphiff"]["label"]: j for j in json.loads(files["judgements.json"])
              if j["graphiff"]["status"] == "linked"}
    assert judged["Person"]["evidence"] == ev
    assert judged["Trader"]["evidence"] == {"tin": "equal", "name": 0.82}


# ---- what comes in --------------------------------------------------------------------------

def test_round_trip_the_partner_sees_one_entity(source, store, tmp_path):
    package(source, tmp_path / "p.zip")
    result = import_package(store, tmp_path / "p.zip")
    assert result["same_as"]["count"] == 3 and result["same_as"]["statuses"] == {"linked": 2, "rejected": 1}
    assert result["same_as"]["naming_local_ids"] == 0 and result["same_as"]["skipped"] == 0
    raw = Tables(store, resolved=False)
    s = raw.rels("SAME_AS").set_index(["src", "dst"])
    row = s.loc[(P + "T2", P + T2B)]
    assert (row["status"], float(row["score"]), row["source"]) == ("linked", 0.97, f"partner:{PRODUCER}")
    assert json.loads(row["evidence"]) == {"tin": "equal", "name": 0.82} and row["decided_by"] == "graphiff resolve"
    assert s.loc[(P + "T2", P + "T3"), "status"] == "rejected"
    t = Tables(store)
    traders = t.nodes("Trader").set_index("key")
    assert set(traders.index) == {P + "T1", P + "T2", P + "T3", P + "T9"}
    assert traders.loc[P + "T2", "aliases"] == P + T2B
    assert set(t.nodes("Person")["key"]) == {P + "P7"}
    e = trade_edges(t)
    pairs = set(zip(e["src"], e["dst"]))
    assert {(P + "T1", P + "T2"), (P + "T2", P + "T1")} <= pairs                # the 2-cycle, at the partner's
    assert (P + "T3", P + "T1") in pairs                                        # the rejected record stays apart
    # a local resolve keeps the partner's judgements as they came: not rescored, rewritten or deleted
    before = raw.rels("SAME_AS").set_index(["src", "dst"]).sort_index()
    resolve(store)
    after = Tables(store, resolved=False).rels("SAME_AS").set_index(["src", "dst"]).sort_index()
    for pair in before.index:
        assert after.loc[pair, "status"] == before.loc[pair, "status"]
        assert after.loc[pair, "evidence"] == before.loc[pair, "evidence"]
        assert after.loc[pair, "_source"] == before.loc[pair, "_source"]
    assert Tables(store).nodes("Trader").set_index("key").loc[P + "T2", "aliases"] == P + T2B


def test_round_trip_from_ftm_entities_and_judgements_only(source, tmp_path):
    good = tmp_path / "p.zip"
    package(source, good)
    ftm = repack(good, tmp_path / "ftm.zip", change={"nodes.csv": None, "edges.csv": None})
    with open_store(str(tmp_path / "partner.duckdb")) as st:
        result = import_package(st, ftm)
        assert result["read_from"] == "ftm" and result["same_as"]["count"] == 3
        s = Tables(st, resolved=False).rels("SAME_AS")
        assert set(zip(s["src"], s["dst"], s["status"])) == {
            (P + "T2", P + T2B, "linked"), (P + "T2", P + "T3", "rejected"), (P + "P7", P + "P7'", "linked")}
        assert Tables(st).nodes("Trader").set_index("key").loc[P + "T2", "aliases"] == P + T2B


def test_partner_same_as_never_joins_local_records(store, tmp_path):
    """The partner's package says its T1 and X5 are one trader; our store has its own T1 and X5
    (other traders under the same ids). Only the partner's records are joined."""
    with open_store(str(tmp_path / "partner-source.duckdb")) as src:
        src.upsert_nodes("Trader", pd.DataFrame([{"key": "T1", "trader_id": "T1", "name": "THEIR ONE"},
                                                 {"key": "X5", "trader_id": "X5", "name": "THEIR FIVE"}]))
        src.upsert_rels("SAME_AS", same_as([("T1", "X5", "confirmed", 1.0)]))
        package(src, tmp_path / "hostile.zip", hops=0, seeds=("T1", "X5"))
    store.upsert_nodes("Trader", pd.DataFrame([{"key": "T1", "trader_id": "T1", "name": "OUR ONE"},
                                               {"key": "X5", "trader_id": "X5", "name": "OUR FIVE"}]))
    result = import_package(store, tmp_path / "hostile.zip")
    assert result["same_as"]["naming_local_ids"] == 1
    assert result["same_as"]["listed"] == [{"label": "Trader", "src": "T1", "dst": "X5", "local_ids": ["T1", "X5"]}]
    assert result["collisions"]["count"] == 2
    t = Tables(store)
    traders = t.nodes("Trader").set_index("key")
    assert set(traders.index) == {"T1", "X5", P + "T1"}                     # ours apart, the partner's joined
    assert pd.isna(traders.loc["T1", "aliases"]) and pd.isna(traders.loc["X5", "aliases"])
    assert traders.loc[P + "T1", "aliases"] == P + "X5"
    assert t.resolution.of("Trader", "T1") == "T1"


def test_partner_same_as_cannot_reach_a_local_key_through_the_producer_name(tmp_path):
    """A producer name crafted so that "<producer>:<id>" is one of our keys: refused, nothing written."""
    with open_store(str(tmp_path / "src.duckdb")) as src:
        src.upsert_nodes("Trader", pd.DataFrame([{"key": "A1", "name": "X"}, {"key": "A2", "name": "Y"}]))
        src.upsert_rels("SAME_AS", same_as([("A1", "A2", "linked", 0.99)]))
        sub = select(Tables(src), seeds=["A1", "A2"], hops=0)
        make_package(sub, tmp_path / "evil.zip", purpose="x", marking="x", producer="ACME", redact="none",
                     store=Tables(src))
    with open_store(str(tmp_path / "local.duckdb")) as st:
        st.upsert_nodes("Trader", pd.DataFrame([{"key": "ACME:A1", "name": "OURS"}, {"key": "B", "name": "B"}]))
        refused(st, tmp_path / "evil.zip", "already held by a record of another source")


@pytest.mark.parametrize("edit, match", [
    (lambda h, rows: (h, [[*r[:4], "Person", *r[5:]] if r[1] == "SAME_AS" else r for r in rows]),
     "SAME_AS joins two records of one label"),
    (lambda h, rows: (h, [[c if i != h.index("status") or r[1] != "SAME_AS" else "maybe" for i, c in enumerate(r)]
                          for r in rows]), "status must be one of"),
    (lambda h, rows: (h, [[c if i != h.index("score") or r[1] != "SAME_AS" else "7" for i, c in enumerate(r)]
                          for r in rows]), "score must be a number from 0 to 1"),
    (lambda h, rows: (h, [[c if i != h.index("evidence") or r[1] != "SAME_AS" else "[1, 2, 3]"
                           for i, c in enumerate(r)] for r in rows]), "evidence must be a JSON object"),
    (lambda h, rows: (h, [[c if i != h.index("evidence") or r[1] != "SAME_AS" else "[" * 5000 + "]" * 5000
                           for i, c in enumerate(r)] for r in rows]), "SAME_AS evidence"),
    (lambda h, rows: (h, [[c if i != h.index("evidence") or r[1] != "SAME_AS" else '{"tin": {"weight": "heavy"}}'
                           for i, c in enumerate(r)] for r in rows]), "weight must be a number"),
    (lambda h, rows: (h, [[c if i != h.index("dst") or r[1] != "SAME_AS" else "LOCAL-1" for i, c in enumerate(r)]
                          for r in rows]), "which is not a record of the package"),
    (lambda h, rows: (h, rows + [[c if i != h.index("status") else "rejected" for i, c in enumerate(r)]
                                 for r in rows if r[1] == "SAME_AS"][:1]), "a second SAME_AS between"),
])
def test_malformed_same_as_refused(source, tmp_path, edit, match):
    good = tmp_path / "p.zip"
    package(source, good, hops=1)
    bad = repack(good, tmp_path / "bad.zip", change={"edges.csv": edit_csv(files_of(good)["edges.csv"], edit)})
    with open_store(str(tmp_path / "dst.duckdb")) as st:
        refused(st, bad, match)


def test_partner_aliases_column_refused(source, tmp_path):
    good = tmp_path / "p.zip"
    package(source, good, hops=1)

    def add_aliases(h, rows):
        return [*h, "aliases"], [[*r, "LOCAL-KEY"] for r in rows]
    bad = repack(good, tmp_path / "bad.zip", change={"nodes.csv": edit_csv(files_of(good)["nodes.csv"], add_aliases)})
    with open_store(str(tmp_path / "dst.duckdb")) as st:
        refused(st, bad, "aliases")


@pytest.mark.parametrize("judged, match", [
    ([{"source": "gf-x", "target": "gf-y", "judgement": "positive"}], "not a trader, person"),
    ([{"source": "gf-x", "target": "gf-y", "judgement": "probably"}], "judgement must be one of"),
    ({"source": "gf-x"}, "must be a list"),
])
def test_malformed_judgements_refused(source, tmp_path, judged, match):
    good = tmp_path / "p.zip"
    package(source, good, hops=1)
    bad = repack(good, tmp_path / "bad.zip", change={"nodes.csv": None, "edges.csv": None,
                                                      "judgements.json": json.dumps(judged).encode()})
    with open_store(str(tmp_path / "dst.duckdb")) as st:
        refused(st, bad, match)
    assert PackageError  # (the refusal is a PackageError: see refused())


def test_resolved_view_columns_never_travel(tmp_path):
    """A record written with its own ``aliases`` value (the load refuses such a column; a direct
    store write can still make one), and a package made without the store: the resolved view never
    reads that value as aliases, and the package holds no aliases/alias_names (names of the
    resolved view), so the partner can import it."""
    with open_store(str(tmp_path / "src.duckdb")) as src:
        build_world(src)
        src.upsert_nodes("Trader", pd.DataFrame([{"key": "T1", "aliases": "ACME CORP"}]))
        sub = select(Tables(src), seeds=["T1"], hops=1)
        assert {n.key: n.props.get("aliases") for n in sub.nodes if n.label == "Trader"} == {
            "T1": None, "T2": T2B}
        for name, store in (("with.zip", Tables(src)), ("without.zip", None)):
            make_package(sub, tmp_path / name, purpose="x", marking="x", producer=PRODUCER, redact="none",
                         store=store)
            header = files_of(tmp_path / name)["nodes.csv"].decode().splitlines()[0].split(",")
            assert "aliases" not in header and "alias_names" not in header
            with open_store(str(tmp_path / f"dst-{name}.duckdb")) as dst:
                import_package(dst, tmp_path / name)


def test_the_import_summary_counts_the_partners_judgements(source, tmp_path):
    from _clikit import run_cli

    package(source, tmp_path / "p.zip")
    code, out = run_cli("import-package", str(tmp_path / "p.zip"), "--store", str(tmp_path / "dst.duckdb"))
    assert code == 0, out
    assert "3 SAME_AS judgement(s) of the partner (linked 2, rejected 1)" in out

"""Alias worlds (``generate_world(..., aliases=True)``): the same entities under other ids and
spellings across administrations, the true clusters and the decoys of truth.json, and a plain
world that is exactly what it was before alias worlds existed."""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _clikit import run_cli
from rapidfuzz import fuzz

from graphiff.ingest import load_paths
from graphiff.model.values import clean_account, clean_address, clean_email, clean_phone, looks_like_iban
from graphiff.samples import generate_world
from graphiff.samples.aliases import JUNK_TINS, LEGAL_ONLY, PLACEHOLDER_TIN
from graphiff.samples.spellings import name_variant, name_variants
from graphiff.stores.embedded import EmbeddedStore

SCALE, SEED = 0.2, 11
#: sha256 of each file of generate_world(d, scale=0.05, seed=3): an alias world leaves the plain
#: world's files as they are (recomputed when the plain world's plants change: the second phase of
#: docs/typologies.md added rows at the end of each file, and changed none before them)
PLAIN_DIGESTS = {
    "accounts.csv": "7eb4098432ffc0841b83f35cbba97cc14d290f54551a01bedccbf6b1a875a7ad",
    "carriers.csv": "ee8c0730625a3136c65c043c0aaebc662701c2fd6d9e23fd8d7796b6fe429726",
    "cash_reports.csv": "ea3295922318e6b9563d49eaa2b34a50daa9e88061b4e4c8a9a2f286f16bef84",
    "declarations.csv": "697bee6df43d7c190ffb70f83291ca9b4561f928b4ac02f66442f9b0887ef16f",
    "officers.csv": "c90098503bb551a9b4a716bc8562a39190f1cf84ec5c459b7adde520a3ad33b6",
    "payments.csv": "5048b9548c777e8fe914edb4730f73fc25d22a5c7883042100c01ff4afbcad3f",
    "persons.csv": "dae29181d36e05ac0d913b9e1956b86e1346be2ea6128c6bb6cd296c3e2e0d94",
    "rates.csv": "12798f45dba3366ccf6519d5b334af95f169c3e1b3d9557a68b98be1193e975e",
    "traders.csv": "5ff702c535ca10ac475de7c95f4d418d88cfb5650c49c2a20add0728e87d8ecd",
    "truth.json": "2174427642a1e25ae43036cbdbad7433e5519c70e6401b7de3166c369704603c",
}
FILE_OF = {"Trader": ("traders", "trader_id"), "Person": ("persons", "person_id"),
           "Carrier": ("carriers", "carrier_id"), "BankAccount": ("accounts", "account_id")}


@pytest.fixture(scope="module")
def worlds(tmp_path_factory) -> tuple[Path, dict, Path]:
    """(alias world, its summary, the plain world of the same scale and seed)."""
    alias = tmp_path_factory.mktemp("alias")
    plain = tmp_path_factory.mktemp("plain")
    summary = generate_world(alias, scale=SCALE, seed=SEED, aliases=True)
    generate_world(plain, scale=SCALE, seed=SEED)
    return alias, summary, plain


def read(folder: Path, kind: str) -> pd.DataFrame:
    return pd.read_csv(folder / f"{kind}.csv", dtype=str, keep_default_na=False)


def resolution(folder: Path) -> dict:
    return json.loads((folder / "truth.json").read_text(encoding="utf-8"))["resolution"]


def canonical_of(folder: Path, label: str) -> dict[str, str]:
    return {i: c[0] for c in resolution(folder)["clusters"][label] for i in c[1:]}


def norm(name: str) -> str:
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", " ", plain.lower()).strip()


def test_plain_world_unchanged(tmp_path):
    generate_world(tmp_path, scale=0.05, seed=3)
    got = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(tmp_path.iterdir())}
    assert got == PLAIN_DIGESTS


def test_same_seed_same_alias_world(worlds, tmp_path):
    folder, summary, _ = worlds
    again = generate_world(tmp_path / "again", scale=SCALE, seed=SEED, aliases=True)
    for f in sorted(folder.iterdir()):
        assert (tmp_path / "again" / f.name).read_bytes() == f.read_bytes(), f.name
    assert again["aliases"] == summary["aliases"]
    other = generate_world(tmp_path / "other", scale=SCALE, seed=SEED + 1, aliases=True)
    assert (tmp_path / "other" / "traders.csv").read_bytes() != (folder / "traders.csv").read_bytes()
    assert other["aliases"] != summary["aliases"]


def test_summary_counts_aliases_and_clusters(worlds):
    folder, summary, plain = worlds
    a = summary["aliases"]
    clusters = resolution(folder)["clusters"]
    assert set(a) == {"Trader", "Person", "Carrier", "BankAccount", "clusters"}
    for label in FILE_OF:
        assert a[label] == sum(len(c) - 1 for c in clusters[label]) > 0, label
    assert a["clusters"] == sum(len(v) for v in clusters.values())
    assert "aliases" not in generate_world(plain / "x", scale=0.02, seed=1)


def test_clusters_partition_ids_and_aliases_are_written(worlds):
    folder, _, _ = worlds
    clusters = resolution(folder)["clusters"]
    seen: set[tuple[str, str]] = set()
    for label, (kind, key) in FILE_OF.items():
        written = set(read(folder, kind)[key])
        for c in clusters[label]:
            assert len(c) >= 2 and len(set(c)) == len(c)
            for i in c:
                assert (label, i) not in seen, (label, i)
                seen.add((label, i))
                assert i in written, (label, i)
    # canonical ids first: the plain world's ids
    for c in clusters["Trader"]:
        assert "-X" not in c[0] and all(re.fullmatch(r"[A-Z]{2}-X\d{6}", i) for i in c[1:])
    for c in clusters["Carrier"]:
        assert all(re.fullmatch(r"[A-Z]{2}-C\d{5}", i) for i in c[1:])
    for c in clusters["Person"]:
        assert all(re.fullmatch(r"[A-Z]{2}-P\d{6}", i) for i in c[1:])


def test_only_party_ids_and_names_change(worlds):
    """Declarations, payments and cash reports are the plain world's, row for row, except the
    parties' and carriers' ids and names, the accounts given by their BBAN and the persons
    given by their alias; the decoys' records come after."""
    folder, _, plain = worlds
    for kind, changing in (("declarations", ["exporter_id", "exporter_name", "importer_id", "importer_name",
                                             "carrier_id", "carrier_name"]),
                           ("payments", ["from_account", "to_account"]),
                           ("cash_reports", ["person_id", "person_name"])):
        a, p = read(folder, kind), read(plain, kind)
        assert len(a) > len(p) or kind == "payments", kind
        head = a.iloc[: len(p)]
        fixed = [c for c in p.columns if c not in changing]
        pd.testing.assert_frame_equal(head[fixed], p[fixed])
        assert (head[changing] != p[changing]).any(axis=None), kind
    # the rewritten ids are the true ones, through the clusters
    a, p = read(folder, "declarations").iloc[: len(read(plain, "declarations"))], read(plain, "declarations")
    traders, carriers = canonical_of(folder, "Trader"), canonical_of(folder, "Carrier")
    for col, back in (("exporter_id", traders), ("importer_id", traders), ("carrier_id", carriers)):
        assert (a[col].map(lambda x, b=back: b.get(x, x)) == p[col]).all(), col
    pay, ppay = read(folder, "payments"), read(plain, "payments")
    bban = canonical_of(folder, "BankAccount")
    for col in ("from_account", "to_account"):
        assert (pay[col].map(lambda x: bban.get(x, x)) == ppay[col]).all()
    cash, pcash = read(folder, "cash_reports"), read(plain, "cash_reports")
    persons = canonical_of(folder, "Person")
    assert (cash["person_id"].iloc[: len(pcash)].map(lambda x: persons.get(x, x)) == pcash["person_id"]).all()


def test_foreign_parties_use_the_administrations_ids(worlds):
    folder, _, _ = worlds
    d = read(folder, "declarations")
    traders = canonical_of(folder, "Trader")
    names = dict(zip(read(folder, "traders")["trader_id"], read(folder, "traders")["name"]))
    pairs: dict[tuple[str, str], set[str]] = {}
    for side in ("exporter", "importer"):
        foreign = d[d[f"{side}_country"] != d["reporting_country"]]
        domestic = d[d[f"{side}_country"] == d["reporting_country"]]
        assert not domestic[f"{side}_id"].isin(traders.keys()).any()
        for rep, pid, name in zip(foreign["reporting_country"], foreign[f"{side}_id"], foreign[f"{side}_name"]):
            if pid in traders:
                assert pid.startswith(rep + "-X") and name == names[pid]
            pairs.setdefault((rep, traders.get(pid, pid)), set()).add(pid)
    assert all(len(v) == 1 for v in pairs.values())  # always the same id for one administration
    share = np.mean([next(iter(v)) in traders for v in pairs.values()])
    assert 0.8 <= share <= 0.9, share
    # carriers: half of the (administration, foreign carrier) pairs
    carriers = canonical_of(folder, "Carrier")
    aliased = d[d["carrier_id"].isin(carriers.keys())]
    assert (aliased["carrier_id"].str.slice(0, 2) == aliased["reporting_country"]).all()
    cpairs = {(r, carriers.get(c, c)): c for r, c in zip(d["reporting_country"], d["carrier_id"]) if c}
    assert 0.3 <= np.mean([c in carriers for c in cpairs.values()]) <= 0.7


def test_mirror_pairs_keep_documents(worlds):
    folder, _, _ = worlds
    d = read(folder, "declarations")
    ex = d[d["flow"] == "EXPORT"].set_index("transport_doc_no")
    im = d[d["flow"] == "IMPORT"].set_index("transport_doc_no")
    both = ex.index.intersection(im.index)
    assert len(both) > 100
    assert (ex.loc[both, "invoice_no"] == im.loc[both, "invoice_no"]).all()
    traders = canonical_of(folder, "Trader")
    for side in ("exporter_id", "importer_id"):
        e = ex.loc[both, side].map(lambda x: traders.get(x, x))
        i = im.loc[both, side].map(lambda x: traders.get(x, x))
        assert (e == i).all()


def test_name_variants_differ_but_stay_similar(worlds):
    folder, _, _ = worlds
    for label, (kind, key) in (("Trader", ("traders", "trader_id")), ("Carrier", ("carriers", "carrier_id")),
                               ("Person", ("persons", "person_id"))):
        names = dict(zip(read(folder, kind)[key], read(folder, kind)["name"]))
        n = 0
        for c in resolution(folder)["clusters"][label]:
            for alias in c[1:]:
                if names[alias] in LEGAL_ONLY:
                    continue
                assert names[alias] != names[c[0]]
                score = fuzz.token_set_ratio(norm(names[alias]), norm(names[c[0]]))
                assert score >= 70, (names[c[0]], names[alias], score)
                n += 1
        assert n > 0, label


@pytest.mark.parametrize("name, person", [
    ("Mara Legacy Metals Ltd", False), ("Pearl Zenith Industries Co., Ltd", False), ("Acme & Sons LLC", False),
    ("Société Générale de Café S.A.", False), ("Nile Apex Trading (Pty) Ltd", False), ("Delta", False),
    ("John K. Okello", True), ("Zoë M. de Vries", True), ("Ann Li", True)])
def test_name_variant_examples(name, person):
    rng = np.random.default_rng(5)
    out = name_variants([name] * 200, rng, person=person)
    assert all(v != name for v in out)
    assert all(fuzz.token_set_ratio(norm(v), norm(name)) >= 70 for v in out if norm(v) != norm(name))
    assert len(set(out)) > 2
    assert name_variant(name, np.random.default_rng(1), person=person) == \
        name_variant(name, np.random.default_rng(1), person=person)
    if person:
        assert any(v.split(" ")[0] == v.split(" ")[0].upper() and v != v.upper() for v in out)  # "OKELLO John"


def test_name_variant_transformations():
    out = set(name_variants(["Mara Legacy Metals Ltd"] * 400, np.random.default_rng(2)))
    assert {"Mara Legacy Metals Limited", "Mara Legacy Metals", "Mara Legacy Metal Ltd",
            "MARA LEGACY METALS LTD"} <= out
    assert any(len(v) == len("Mara Legacy Metals Ltd") - 1 and v.endswith(" Ltd") for v in out)  # a dropped letter
    amp = set(name_variants(["Acme & Sons LLC"] * 200, np.random.default_rng(2)))
    assert "Acme and Sons LLC" in amp and "Acme & Sons L.L.C." in amp
    assert "Societe Generale de Cafe S.A." in set(name_variants(["Société Générale de Café S.A."] * 200,
                                                                np.random.default_rng(2)))
    persons = set(name_variants(["John K. Okello"] * 200, np.random.default_rng(2), person=True))
    assert {"OKELLO John", "John Okello", "JOHN K. OKELLO"} <= persons


def test_alias_trader_rows(worlds):
    folder, _, _ = worlds
    t = read(folder, "traders").set_index("trader_id")
    traders = canonical_of(folder, "Trader")
    al = t.loc[list(traders)]
    can = t.loc[[traders[i] for i in al.index]]
    can.index = al.index
    assert (al["country"] == can["country"]).all()
    assert (al[["registration_date", "legal_form", "employees", "activity_code"]] == "").all(axis=None)
    tin = al["tin"]
    true_tin = tin == can["tin"]
    assert 0.3 <= true_tin.mean() <= 0.5
    assert tin[~true_tin].isin(("", PLACEHOLDER_TIN, *JUNK_TINS)).all()
    assert 0.05 <= tin.isin(JUNK_TINS).mean() <= 0.11
    has = al["address"] != ""
    assert 0.25 <= has.mean() <= 0.45
    assert (al.loc[has, "address"] != can.loc[has, "address"]).all()
    assert (al.loc[has, "postcode"] == can.loc[has, "postcode"]).all() and (al.loc[~has, "postcode"] == "").all()
    # the same plot number and street, spelt another way
    assert (al.loc[has, "address"].str.extract(r"(\d+/\d+)")[0] == can.loc[has, "address"].str.extract(
        r"(\d+/\d+)")[0]).all()
    assert any(clean_address(a) != clean_address(c) for a, c in zip(al.loc[has, "address"], can.loc[has, "address"]))
    city = al["city"] != ""
    assert 0.5 <= city.mean() <= 0.7 and (al.loc[city, "city"] == can.loc[city, "city"]).all()
    phone = al["phone"] != ""
    assert 0.2 <= phone.mean() <= 0.4
    assert all(p != c and clean_phone(p) == clean_phone(c) for p, c in zip(al.loc[phone, "phone"],
                                                                          can.loc[phone, "phone"]))
    mail = al["email"] != ""
    assert 0.1 <= mail.mean() <= 0.3
    assert all(clean_email(a) == clean_email(c) for a, c in zip(al.loc[mail, "email"], can.loc[mail, "email"]))


def test_alias_carrier_and_person_rows(worlds):
    folder, _, _ = worlds
    c = read(folder, "carriers").set_index("carrier_id")
    for canon, *aliases in resolution(folder)["clusters"]["Carrier"]:
        for a in aliases:
            assert c.at[a, "country"] == c.at[canon, "country"]
            assert c.at[a, "carrier_type"] == c.at[canon, "carrier_type"]
            assert c.at[a, "tin"] in ("", c.at[canon, "tin"])
            assert c.at[a, "phone"] == "" or clean_phone(c.at[a, "phone"]) == clean_phone(c.at[canon, "phone"])
    p = read(folder, "persons").set_index("person_id")
    cash = read(folder, "cash_reports")
    filed = set(cash["person_id"])
    n_reports = cash["person_id"].value_counts()
    for canon, alias in resolution(folder)["clusters"]["Person"]:
        assert p.at[alias, "passport_no"] != p.at[canon, "passport_no"]
        assert p.at[alias, "birth_date"] in ("", p.at[canon, "birth_date"])
        assert p.at[alias, "nationality"] in ("", p.at[canon, "nationality"])
        assert alias[:2] != p.at[canon, "nationality"]  # a second administration
        # the alias names about half of the reports: never all of two or more
        if n_reports.get(canon, 0) + n_reports.get(alias, 0) >= 2:
            assert canon in filed and alias in filed
        names = set(cash.loc[cash["person_id"] == alias, "person_name"])
        assert names <= {p.at[alias, "name"]}
    people = read(folder, "persons")
    assert not people["passport_no"].duplicated().any()


def test_structuring_couriers_sometimes_aliased(worlds):
    folder, _, _ = worlds
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    couriers = {e["id"] for i in truth["instances"] if i["family"] == "cash_structuring" for e in i["entities"]}
    aliased = {c[0] for c in truth["resolution"]["clusters"]["Person"]}
    assert couriers & aliased
    assert couriers - aliased


def test_bban_accounts(worlds):
    folder, _, _ = worlds
    acc = read(folder, "accounts").set_index("account_id")
    pay = read(folder, "payments")
    used = set(pay["from_account"]) | set(pay["to_account"])
    clusters = resolution(folder)["clusters"]["BankAccount"]
    assert clusters
    for iban, bban in clusters:
        assert bban == iban[4:] and not looks_like_iban(bban) and clean_account(bban) == bban != iban
        for col in ("holder_id", "bank_name", "bic", "bank_country"):
            assert acc.at[bban, col] == acc.at[iban, col]
    assert sum(b in used for _, b in clusters) >= len(clusters) / 2


def test_resolution_decoys(worlds):
    folder, summary, _ = worlds
    decoys = resolution(folder)["decoys"]
    kinds = pd.Series([d["kind"] for d in decoys]).value_counts()
    t = read(folder, "traders").set_index("trader_id")
    p = read(folder, "persons").set_index("person_id")
    traders = canonical_of(folder, "Trader")
    d = read(folder, "declarations")
    parties = set(d["exporter_id"]) | set(d["importer_id"])
    assert kinds["similar_name_same_city"] >= 10 and kinds["common_person_name"] >= 10
    for dec in decoys:
        a, b = dec["ids"]
        assert a != b and traders.get(a, a) != traders.get(b, b)
        if dec["kind"] == "similar_name_same_city":
            ta, tb = t.loc[a], t.loc[b]
            assert ta["city"] == tb["city"] != "" and ta["country"] == tb["country"]
            for col in ("tin", "address", "phone", "email"):
                assert ta[col] != tb[col], col
            wa, wb = ta["name"].split(" "), tb["name"].split(" ")
            assert len(wa) == len(wb) and sum(x != y for x, y in zip(wa, wb)) == 1
        elif dec["kind"] == "common_person_name":
            pa, pb = p.loc[a], p.loc[b]
            assert pa["name"] == pb["name"]
            assert pa["birth_date"] != pb["birth_date"] and pa["passport_no"] != pb["passport_no"]
        elif dec["kind"] in ("placeholder_tin", "junk_tin"):
            assert t.at[a, "tin"] == t.at[b, "tin"]
            assert t.at[a, "tin"] in ((PLACEHOLDER_TIN,) if dec["kind"] == "placeholder_tin" else JUNK_TINS)
        else:
            assert dec["kind"] == "legal_form_only"
            assert t.at[a, "name"] in LEGAL_ONLY and t.at[b, "name"] in LEGAL_ONLY
    similar = [dec["ids"][1] for dec in decoys if dec["kind"] == "similar_name_same_city"]
    assert np.mean([i in parties for i in similar]) > 0.8  # the decoys trade too
    # the placeholder TIN on max(10, 200 x scale) rows of different companies
    ph = t.index[t["tin"] == PLACEHOLDER_TIN]
    assert len(ph) >= max(10, round(200 * SCALE)) and len({traders.get(i, i) for i in ph}) == len(ph)
    legal = t[t["name"].isin(LEGAL_ONLY)]
    assert len(legal) >= 4 and legal["country"].is_unique
    assert kinds["placeholder_tin"] >= 5 and kinds["junk_tin"] >= 5 and kinds["legal_form_only"] >= 6


def test_alias_world_loads_without_quarantine(worlds, tmp_path):
    folder, summary, _ = worlds
    with EmbeddedStore(tmp_path / "s.duckdb") as store:
        result = load_paths(store, [folder], quarantine_dir=tmp_path / "q")
        traders = store.nodes("Trader")
    assert sum(result.quarantined.values()) == 0, result.quarantined
    assert not any(f.get("warnings") for f in result.files)
    for kind, n in summary["files"].items():
        assert result.loaded[kind] == n, kind
    assert (traders["origin"] == "file").all()  # every party of a declaration has its register row


def test_cli_samples_aliases(tmp_path):
    code, out = run_cli("samples", str(tmp_path / "w"), "--scale", "0.05", "--aliases", "--json")
    assert code == 0, out
    assert json.loads(out)["aliases"]["Trader"] > 0
    code, out = run_cli("samples", str(tmp_path / "v"), "--scale", "0.05", "--aliases")
    assert code == 0 and "aliases and clusters" in out
    code, out = run_cli("samples", "--help")
    assert "--aliases" in out

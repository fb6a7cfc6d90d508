"""Redaction covers every field and every text (issue: "Redaction leaks person ids through alert
text"): packages built around person-heavy alerts of a sample world, pseudonymised or with
personal data removed, hold no original person identifier of the world in any byte of any file;
replacements are whole tokens and consistent with the fields; ``package --alert`` is repeatable."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from graphiff.alerts import make_alert_id, stored_alerts
from graphiff.detectors import run_detectors
from graphiff.graph.select import select
from graphiff.graph.subgraph import SubEdge, Subgraph, SubNode
from graphiff.ingest import load_paths
from graphiff.samples import generate_world
from graphiff.share.named import personal_index
from graphiff.share.package import make_package
from graphiff.share.redact import Redactor
from graphiff.stores import open_store

KEY = b"team-key-for-tests-0123456789abcdef"
PERSON_HEAVY = ("shell_intermediary", "linked_carriers", "cash_structuring")


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """A small sample world, loaded and detected; the identifiers of its persons."""
    root = tmp_path_factory.mktemp("redaction")
    generate_world(root / "world", scale=0.1, seed=7)
    db = root / "store.duckdb"
    with open_store(str(db)) as st:
        load_paths(st, [root / "world"], quarantine_dir=root / "q")
        run_detectors(st)
    persons = pd.read_csv(root / "world" / "persons.csv", dtype=str, keep_default_na=False)
    accounts = pd.read_csv(root / "world" / "accounts.csv", dtype=str, keep_default_na=False)
    person_ids = set(persons["person_id"])
    held = accounts[accounts["holder_id"].isin(person_ids)]["account_id"]
    ident = {"person_id": set(person_ids), "name": set(persons["name"]), "passport_no": set(persons["passport_no"]),
             "account": {a for a in held if a}, "email": set(persons["email"])}
    ident = {k: {v for v in vs if len(v.strip()) >= 4} for k, vs in ident.items()}
    return {"root": root, "db": db, "ident": ident, "person_ids": person_ids}


def _person_seeds(alerts) -> list[str]:
    """40 person / account seeds: the Person and BankAccount entities of the alerts, person-heavy
    patterns first (the persons their evidence and explanations name are not seeds)."""
    ordered = sorted(alerts, key=lambda a: a.pattern not in PERSON_HEAVY)
    seeds = [f"{e['label']}:{e['id']}" for a in ordered for e in a.entities if e["label"] in ("Person", "BankAccount")]
    return list(dict.fromkeys(seeds))[:40]


def _org_seeds(alerts) -> list[str]:
    """The traders, carriers and accounts of the person-heavy alerts (their persons only in the text)."""
    seeds = [f"{e['label']}:{e['id']}" for a in alerts if a.pattern in PERSON_HEAVY
             for e in a.entities if e["label"] in ("Trader", "Carrier", "BankAccount")]
    return list(dict.fromkeys(seeds))[:40]


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _leaks(files: dict[str, bytes], ident: dict[str, set[str]]) -> list[str]:
    out = []
    for name, data in files.items():
        folded = data.decode("utf-8").casefold().encode("utf-8")
        for kind, values in ident.items():
            for v in values:
                if v.encode("utf-8") in data or v.casefold().encode("utf-8") in folded:
                    out.append(f"{name}: {kind} {v}")
    return out


@pytest.mark.parametrize("policy", ["pseudonymise", "remove"])
@pytest.mark.parametrize("around", ["persons", "companies"])
def test_person_heavy_packages_hold_no_person_identifier(sample, tmp_path, policy, around):
    """Every byte of every member (decompressed) is searched for every person id, name, passport
    number, e-mail and person-held account of the world: none may appear."""
    with open_store(str(sample["db"])) as st:
        alerts = stored_alerts(st)
        if around == "persons":      # 40 person/account seeds, two hops: alerts in scope name persons left out
            seeds, hops, cap = _person_seeds(alerts), 2, 1000
        else:                        # the companies only: their directors and filers are named in alert text only
            seeds, hops, cap = _org_seeds(alerts), 0, 500
        assert len(seeds) >= 20
        sub = select(st, seeds=seeds, hops=hops, max_nodes=cap)
        out = tmp_path / f"{policy}.zip"
        make_package(sub, out, purpose="Operation Redaction", marking="TLP:AMBER", producer="Team A",
                     redact=policy, key=KEY if policy == "pseudonymise" else None, alerts=alerts, store=st)
    files = _members(out)
    scoped = json.loads(files["alerts.json"])
    assert {a["pattern"] for a in scoped} & set(PERSON_HEAVY)
    assert _leaks(files, sample["ident"]) == []


def test_alert_text_pseudonyms_match_the_fields(sample, tmp_path):
    """A director named only in a shell-company alert's text gets the same pseudonym as a Person
    node of that id would; the alert's id no longer hashes the original values."""
    with open_store(str(sample["db"])) as st:
        alerts = stored_alerts(st)
        shell = [a for a in alerts if a.pattern == "shell_intermediary"
                 and a.evidence["indicators"]["mass_director"]["value"] >= 1]
        assert shell
        a = shell[0]
        director = re.search(r"director (\S+) directs", a.evidence["indicators"]["mass_director"]["detail"]).group(1)
        sub = select(st, seeds=[f"{e['label']}:{e['id']}" for e in a.entities], hops=0)
        assert f"Person:{director}" not in {n.id for n in sub.nodes}
        out = tmp_path / "p.zip"
        make_package(sub, out, purpose="p", marking="m", producer="T", redact="pseudonymise", key=KEY,
                     alerts=[a], store=st)
    got = json.loads(_members(out)["alerts.json"])[0]
    pseudonym = Redactor("pseudonymise", KEY).token("Person", director)
    assert got["evidence"]["indicators"]["mass_director"]["detail"].startswith(f"director {pseudonym} directs")
    assert f"director {pseudonym} directs" in got["explanation"]
    assert got["id"] != a.id and got["id"] == make_alert_id(got["pattern"], got["entities"], got["evidence"])


def _tiny(person: str, text: str) -> Subgraph:
    props = {"person_id": person, "name": "Ann Example", "nationality": "GB"}
    return Subgraph(nodes=[SubNode(f"Person:{person}", "Person", person, "Ann Example", props),
                           SubNode("Trader:T1", "Trader", "T1", "T1", {"trader_id": "T1", "name": text})],
                    edges=[SubEdge("e1", f"Person:{person}", "Trader:T1", "OFFICER_OF", {"role": "DIRECTOR"})])


@pytest.mark.parametrize("person, text, kept, replaced", [
    ("P12", "owes P123 and P12", "P123", True),
    ("PER-1", "see PER-1-2, not PER-1.", "PER-1-2", True),
    ("P12", "XP12 and P12X", "XP12 and P12X", False),
])
def test_whole_tokens_only(person, text, kept, replaced):
    """An id is replaced as a whole token only: P12 does not corrupt P123."""
    r = Redactor("pseudonymise", KEY)
    sub = _tiny(person, text)
    r.plan(sub, [])
    name = next(n for n in r.subgraph(sub).nodes if n.label == "Trader").props["name"]
    assert kept in name
    assert (r.token("Person", person) in name) == replaced


def test_structure_without_a_store():
    """Without the store, persons named in alert text are found by the text and evidence shape."""
    sub = Subgraph(nodes=[SubNode("Trader:T1", "Trader", "T1", "T1", {"trader_id": "T1"})])
    alert = {"id": "shell_intermediary:0", "pattern": "shell_intermediary", "score": 1.0,
             "entities": [{"label": "Trader", "id": "T1"}],
             "explanation": "trader T1 resold; director P0001924 directs 12 companies",
             "evidence": {"indicators": {"mass_director": {"detail": "director P0001924 directs 12 companies"}},
                          "cash_reports": [{"person": "P0000425", "report": "CR1"}], "holder_id": "T1"}}
    for policy in ("pseudonymise", "remove"):
        r = Redactor(policy, KEY)
        r.plan(sub, [alert])
        text = json.dumps(r.alert(alert))
        assert "P0001924" not in text and "P0000425" not in text, text
        assert "T1" in text and "CR1" in text          # company data and record ids stay


def test_index_finds_persons_by_every_identifier(sample):
    with open_store(str(sample["db"])) as st:
        idx = personal_index(st)
        row = st.nodes("Person").iloc[0]
    pid = f"Person:{row['key']}"
    for text in (f"paid {row['key']}.", f"consulting {row['name']} today", f"passport {row['passport_no']}",
                 f"mail {str(row['email']).upper()}"):
        assert pid in idx.named([text]), text
    assert pid not in idx.named([f"paid X{row['key']}"])


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("GRAPHIFF_PACKAGE_KEY", "GRAPHIFF_STORE")}
    return subprocess.run([sys.executable, "-m", "graphiff.cli", *args], capture_output=True, text=True, env=env)


def test_cli_package_uses_every_alert(sample, tmp_path):
    """`graphiff package --alert A --alert B` packages the subgraph around both alerts."""
    with open_store(str(sample["db"])) as st:
        alerts = stored_alerts(st)
    a = next(x for x in alerts if x.pattern == "circular_trade")
    b = next(x for x in alerts if x.pattern == "cash_structuring")
    out = tmp_path / "two.zip"
    r = _cli("package", "--alert", a.id, "--alert", b.id, "--hops", "0", "--redact", "none", "--purpose", "op",
             "--marking", "TLP:AMBER", "--out", str(out), "--store", str(sample["db"]), "--json")
    assert r.returncode == 0, r.stderr
    files = _members(out)
    assert {x["id"] for x in json.loads(files["alerts.json"])} >= {a.id, b.id}
    nodes = files["nodes.csv"].decode()
    for e in (*a.entities, *b.entities):
        assert f"{e['label']}:{e['id']}" in nodes, e
    assert {f"Alert:{a.id}", f"Alert:{b.id}"} <= set(json.loads(files["manifest.json"])["seeds"])

"""Alert triage survives detection, on both stores, through the command line: three `graphiff
detect` runs over a small generated world, with one alert disappearing (new cash reports at or
above the threshold make its structuring no longer the rule) and one changing (a new report just
below the threshold) between runs 1 and 2, and the one that went coming back in run 3 (a lower
``min_below_share``) with the status and notes an analyst gave it."""
from __future__ import annotations

import json

import pandas as pd

from graphiff.stores import open_book
from tests.casework._casekit import ok


def detect(uri: str, *extra: str) -> dict:
    return json.loads(ok("detect", "cash_structuring", "--store", uri, "--json", *extra))


def listing(uri: str, *extra: str) -> dict[str, dict]:
    data = json.loads(ok("alerts", "--store", uri, "--json", "--limit", "10000", *extra))
    assert data["total"] == len(data["alerts"])
    return {a["id"]: a for a in data["alerts"]}


def _single_person(a: dict) -> str | None:
    ents = a["entities"]
    if len(ents) == 1 and ents[0]["label"] == "Person" and not a["evidence"]["reports_at_or_above_threshold"]:
        return ents[0]["id"]
    return None


def test_triage_kept_across_three_detect_runs(world, store_uri, tmp_path):
    ok("load", str(world), "--store", store_uri)

    # run 1: everything is new
    run1 = detect(store_uri)
    assert run1["alerts"] >= 3
    assert run1["triage"] == {"new": run1["alerts"], "updated": 0, "found_again": 0, "no_longer_detected": 0}
    first = listing(store_uri)
    assert len(first) == run1["alerts"] and {a["status"] for a in first.values()} == {"new"}
    singles = [(aid, p) for aid, a in first.items() if (p := _single_person(a))]
    (gone_id, gone_person), (changed_id, changed_person), (kept_id, _) = singles[:3]
    assert gone_person != changed_person

    ok("alerts", "set", gone_id, "--status", "dismissed", "--note", "savings of a market trader", "--store", store_uri,
       "--user", "ann")
    ok("alerts", "set", changed_id, "--status", "in_review", "--note", "asked the bank", "--assignee", "bob",
       "--store", store_uri, "--user", "ann")
    ok("alerts", "set", kept_id, "--status", "escalated", "--store", store_uri, "--user", "cy")

    # between runs: reports at or above the threshold for one person (its structuring is no longer the rule:
    # the alert goes), and one more report just below it for another (new evidence: the alert changes)
    gone_reports = first[gone_id]["evidence"]["reports"]
    changed_reports = first[changed_id]["evidence"]["reports"]
    rows = [{"report_id": f"CRX{i:04d}", "report_type": "BORDER", "date": gone_reports[0]["date"], "amount": 12500.0,
             "currency": "USD", "person_id": gone_person} for i in range(len(gone_reports) + 1)]
    rows.append({"report_id": "CRX9999", "report_type": "BORDER", "date": changed_reports[-1]["date"],
                 "amount": 9300.0, "currency": "USD", "person_id": changed_person})
    extra = tmp_path / "extra"
    extra.mkdir()
    pd.DataFrame(rows).to_csv(extra / "cash_reports.csv", index=False)
    ok("load", str(extra), "--store", store_uri)

    # run 2: one gone, one updated, the rest found again unchanged
    run2 = detect(store_uri)
    assert run2["triage"] == {"new": 0, "updated": 1, "found_again": 0, "no_longer_detected": 1}
    second = listing(store_uri)
    assert set(second) == set(first)                       # the alert that went is still listed
    gone = second[gone_id]
    assert gone["status"] == "no_longer_detected" and gone["decision"] == "dismissed"
    assert gone["no_longer_detected_at"] and gone["notes"][0]["text"] == "savings of a market trader"
    changed = second[changed_id]
    assert (changed["status"], changed["assignee"], changed["updated"]) == ("in_review", "bob", True)
    assert [n["text"] for n in changed["notes"]] == ["asked the bank"]
    assert "CRX9999" in changed["evidence"]["cash_reports"]
    assert (second[kept_id]["status"], second[kept_id]["updated"]) == ("escalated", False)
    assert all(a["status"] == "new" and not a["updated"] for k, a in second.items()
               if k not in (gone_id, changed_id, kept_id))
    assert set(listing(store_uri, "--status", "no_longer_detected")) == {gone_id}
    assert set(listing(store_uri, "--updated")) == {changed_id}

    # the analyst reads the new evidence: no longer flagged as updated
    ok("alerts", "set", changed_id, "--note", "the new report fits", "--store", store_uri, "--user", "bob")
    assert listing(store_uri, "--updated") == {}

    # run 3: the one that went is found again (fewer reports below the threshold suffice) with its status
    run3 = detect(store_uri, "--set", "cash_structuring.min_below_share=0.2")
    assert run3["triage"]["found_again"] == 1 and run3["triage"]["no_longer_detected"] == 0
    third = listing(store_uri)
    assert set(first) <= set(third)
    back = third[gone_id]
    assert (back["status"], back["no_longer_detected_at"]) == ("dismissed", None)
    assert back["updated"] is True                         # found with the new reports: new evidence
    assert [n["text"] for n in back["notes"]] == ["savings of a market trader"]
    assert [h["status"] for h in back["history"]] == ["dismissed"]
    again = third[changed_id]
    assert (again["status"], again["updated"]) == ("in_review", False)
    assert [n["text"] for n in again["notes"]] == ["asked the bank", "the new report fits"]
    assert third[kept_id]["status"] == "escalated"

    # nothing was deleted: every alert ever found and every triage stays in the case book
    with open_book(store_uri) as book:
        assert set(first) <= {d["id"] for d in book.docs("alert")}
        assert {d["id"] for d in book.docs("triage")} == {gone_id, changed_id, kept_id}
        detects = [e["detail"] for e in book.entries("audit") if e["action"] == "detect"]
    assert detects == [run1["triage"], run2["triage"], run3["triage"]]


def test_detect_prints_the_triage_line(tmp_path, world):
    uri = str(tmp_path / "g.duckdb")
    ok("load", str(world), "--store", uri)
    out = ok("detect", "cash_structuring", "--store", uri)
    n = len(listing(uri))
    assert f"triage: {n} new, 0 updated, 0 found again, 0 no longer detected" in out
    no_write = json.loads(ok("detect", "cash_structuring", "--store", uri, "--json", "--no-write"))
    assert no_write["triage"] is None


def test_new_evidence_in_the_same_second_as_a_note_is_still_flagged(store):
    """Updated is judged by content: a run whose time equals (or, on another machine's clock, precedes)
    the analyst's last action still flags the evidence the analyst has not seen."""
    from graphiff.alerts import Alert
    from graphiff.casework.triage import reconcile, set_status, triaged_one

    book = store.book()

    def found(n: int) -> Alert:
        return Alert(pattern="cash_structuring", score=0.5, entities=[{"label": "Person", "id": "P1"}],
                     explanation=f"{n} reports", evidence={"n": n})
    reconcile(book, [found(3)], ["cash_structuring"], run_id="r1", at="2026-01-01T10:00:00+00:00")
    aid = found(3).id
    seen = set_status(book, aid, user="ann", note="looked")["seen_at"]
    reconcile(book, [found(4)], ["cash_structuring"], run_id="r2", at="2000-01-01T00:00:00+00:00")  # a slow clock
    assert triaged_one(book, aid, found(4))["updated"] is True
    set_status(book, aid, user="ann", status="in_review")
    assert triaged_one(book, aid, found(4))["updated"] is False
    reconcile(book, [found(4)], ["cash_structuring"], run_id="r3", at=seen)                       # nothing new
    assert triaged_one(book, aid, found(4))["updated"] is False
    reconcile(book, [found(5)], ["cash_structuring"], run_id="r4", at=seen)                       # same second
    assert triaged_one(book, aid, found(5))["updated"] is True

"""``Tables``: the memo knows what each result read, and parts of one context share what they
compute from the context alone (how a Spark worker's buckets stop recomputing it)."""
from __future__ import annotations

import pandas as pd

from graphiff.graph.features import account_holders, give_feature, trader_carried
from graphiff.graph.tables import GIVEN, Tables

CONTEXT = {"BankAccount": pd.DataFrame({"key": ["A1", "A2"], "holder_id": ["T1", "T2"]}),
           "Trader": pd.DataFrame({"key": ["T1", "T2", "T3"]})}


def _part(decls: list[str], shared: dict, resolved: bool = True, same_as: pd.DataFrame | None = None) -> Tables:
    nodes = dict(CONTEXT)
    nodes["Declaration"] = pd.DataFrame({"key": decls})
    rels = {} if same_as is None else {"SAME_AS": same_as}
    own = {("nodes", "Declaration")} | ({("rels", "SAME_AS")} if same_as is not None else set())
    return Tables.from_frames(nodes=nodes, rels=rels, resolved=resolved, shared=shared, own=own)


def _counted(calls: list[str], name: str, fn):
    def compute():
        calls.append(name)
        return fn()
    return compute


def test_memo_records_what_a_result_read_including_the_results_it_used():
    t = Tables.from_frames(nodes=CONTEXT)
    inner = t.memo("inner", lambda: len(t.nodes("BankAccount")))
    outer = t.memo("outer", lambda: t.memo("inner", lambda: -1) + len(t.nodes("Trader")))
    assert (inner, outer) == (2, 5)
    # the resolved view read the resolution, which read SAME_AS
    assert t.reads("inner") == {("nodes", "BankAccount"), ("rels", "SAME_AS")}
    # "inner" was a memo hit inside "outer": its reads count for "outer" too
    assert t.reads("outer") == {("nodes", "BankAccount"), ("nodes", "Trader"), ("rels", "SAME_AS")}
    raw = Tables.from_frames(nodes=CONTEXT, resolved=False)
    raw.memo("inner", lambda: len(raw.nodes("BankAccount")))
    assert raw.reads("inner") == {("nodes", "BankAccount")}


def test_parts_share_what_reads_the_context_only_and_recompute_what_reads_their_own():
    shared: dict = {}
    calls: list[str] = []
    results = []
    for decls in (["D1"], ["D2", "D3"], ["D4", "D5", "D6"]):
        t = _part(decls, shared)
        holders = t.memo("holders", _counted(calls, "holders", lambda: dict(
            zip(t.nodes("BankAccount")["key"], t.nodes("BankAccount")["holder_id"]))))
        n_decls = t.memo("decls", _counted(calls, "decls", lambda: len(t.nodes("Declaration"))))
        # built from a shared result and an own one: its own, every part
        both = t.memo("both", _counted(calls, "both", lambda: (len(t.memo("holders", dict)),
                                                                 t.memo("decls", lambda: -1))))
        results.append((holders, n_decls, both))
    assert calls.count("holders") == 1
    assert calls.count("decls") == 3 and calls.count("both") == 3
    assert results == [({"A1": "T1", "A2": "T2"}, n, (2, n)) for n in (1, 2, 3)]


def test_features_through_the_shared_memo_equal_features_computed_alone():
    shared: dict = {}
    first, second = _part(["D1"], shared), _part(["D2"], shared)
    assert account_holders(first) == {"A1": "T1", "A2": "T2"}
    assert account_holders(second) == account_holders(Tables.from_frames(nodes=CONTEXT))
    assert (True, ("graph.features", "account_holders", (), ())) in shared
    assert not any(key[1][1] == "trade_edges" for key in shared)  # nothing read from Declarations


def test_given_results_and_what_uses_them_are_never_shared():
    shared: dict = {}
    t = _part(["D1"], shared)
    give_feature(t, trader_carried, pd.DataFrame({"trader_id": ["T1"], "shipments": [3]}))
    t.memo("from_given", lambda: len(trader_carried(t)))
    assert t.reads("from_given") == {GIVEN}
    assert not any("from_given" in key for key in shared)
    u = _part(["D2"], shared)
    assert u.memo("from_given", lambda: -1) == -1


def test_a_part_with_its_own_same_as_does_not_take_the_context_resolution():
    shared: dict = {}
    t = _part(["D1"], shared)
    assert t.memo("traders", lambda: len(t.nodes("Trader"))) == 3
    u = _part(["D2"], shared)
    assert u.memo("traders", lambda: -1) == 3  # shared: it read no table of the part's own
    same_as = pd.DataFrame({"src": ["T1"], "dst": ["T2"], "src_label": ["Trader"], "dst_label": ["Trader"],
                            "status": ["linked"]})
    v = _part(["D3"], shared, same_as=same_as)
    # its resolved Traders read its own SAME_AS: computed here, not taken from the other parts
    assert v.memo("traders", lambda: len(v.nodes("Trader"))) == 2


def test_raw_and_resolved_results_under_one_key_are_kept_apart():
    shared: dict = {}
    a = _part(["D1"], shared, resolved=False)
    a.memo("k", lambda: "raw")
    b = _part(["D1"], shared)
    assert b.memo("k", lambda: "resolved") == "resolved"

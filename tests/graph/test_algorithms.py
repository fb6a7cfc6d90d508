"""The temporal cycle search equals networkx.simple_cycles + filter on random temporal
multigraphs; the windowed join and union-find behave as documented."""
from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphiff.graph.algorithms import (
    UnionFind,
    temporal_cycles,
    temporal_cycles_bruteforce,
    window_join,
)

# ---- property: the search equals networkx.simple_cycles + filter on random temporal multigraphs --------------

edge_st = st.tuples(st.integers(0, 5), st.integers(0, 5), st.integers(0, 40), st.sampled_from(["a", "b"]),
                    st.sampled_from([100.0, 130.0, 180.0, 400.0, float("nan")]),
                    st.sampled_from([10.0, 12.0, 40.0, float("nan")]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edges=st.lists(edge_st, max_size=28), k=st.integers(2, 5), window=st.integers(1, 45),
       tol=st.sampled_from([1.2, 1.5, 3.0]))
def test_search_equals_networkx_bruteforce(edges, k, window, tol):
    e = pd.DataFrame([{"edge": i, "src": f"n{a}", "dst": f"n{b}", "t": t, "hs": hs, "value_usd": v,
                       "net_mass_kg": m, "quantity": float("nan")} for i, (a, b, t, hs, v, m) in enumerate(edges)],
                     columns=["edge", "src", "dst", "t", "hs", "value_usd", "net_mass_kg", "quantity"])
    fast = temporal_cycles(e, max_len=k, window=window, ratio_tol=tol)
    assert len(fast) == len(set(fast))  # each cycle once (canonical form)
    assert set(fast) == set(temporal_cycles_bruteforce(e, max_len=k, window=window, ratio_tol=tol))
    for c in fast:  # every cycle is time-respecting, closed, within the window
        rows = e.set_index("edge").loc[list(c)]
        assert list(rows["t"]) == sorted(set(rows["t"]))
        assert rows["t"].iloc[-1] - rows["t"].iloc[0] <= window
        assert list(rows["src"].iloc[1:]) == list(rows["dst"].iloc[:-1]) and rows["dst"].iloc[-1] == rows["src"].iloc[0]
        assert rows["hs"].nunique() == 1 and 2 <= len(c) <= k


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edges=st.lists(edge_st, max_size=28), k=st.integers(2, 5), window=st.integers(1, 45),
       budget=st.integers(0, 4))
def test_truncated_pruning_changes_nothing(edges, k, window, budget):
    import graphiff.graph.algorithms as alg

    e = pd.DataFrame([{"edge": i, "src": f"n{a}", "dst": f"n{b}", "t": t, "hs": hs, "value_usd": v,
                       "net_mass_kg": m, "quantity": float("nan")} for i, (a, b, t, hs, v, m) in enumerate(edges)],
                     columns=["edge", "src", "dst", "t", "hs", "value_usd", "net_mass_kg", "quantity"])
    full = set(temporal_cycles(e, max_len=k, window=window))
    old = alg.BFS_BUDGET
    alg.BFS_BUDGET = budget
    try:
        assert set(temporal_cycles(e, max_len=k, window=window)) == full
    finally:
        alg.BFS_BUDGET = old


def test_window_join_keeps_only_pairs_inside_the_window():
    later = pd.DataFrame({"k": ["a", "a", "b"], "t": [10, 20, 10], "id": [1, 2, 3]})
    earlier = pd.DataFrame({"k": ["a", "a", "b"], "u": [5, 10, 11], "eid": [7, 8, 9]})
    m = window_join(later, earlier, ["k"], "t", "u", 5)
    got = sorted(zip(m["id"], m["eid"], m["days"]))
    assert got == [(1, 7, 5), (1, 8, 0)]  # b: the earlier row is later; a/20: 10 days apart


def test_union_find_roots_are_smallest():
    uf = UnionFind()
    for a, b in [("d", "c"), ("b", "a"), ("c", "b")]:
        uf.union(a, b)
    assert {x: uf.find(x) for x in "abcd"} == dict.fromkeys("abcd", "a")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edges=st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4), st.integers(0, 12),
                                st.sampled_from([100.0, 95.0, 90.0, 70.0, 104.0])), max_size=22),
       k=st.integers(2, 5), window=st.integers(0, 15), lag=st.sampled_from([None, 1, 3]))
def test_hop_test_lags_and_unique_sets_equal_networkx_bruteforce(edges, k, window, lag):
    """A directed hop test (an amount that may shrink by up to 10 % or grow by 2 %) and lags
    (1: same-day hops): the search equals the brute force; ``unique_sets`` keeps one rotation
    per set of edges, the one from the earliest hop."""
    e = pd.DataFrame([{"edge": i, "src": a, "dst": b, "t": t, "amount": v, "lag": lag}
                      for i, (a, b, t, v) in enumerate(edges)], columns=["edge", "src", "dst", "t", "amount", "lag"])

    def band(prev, nxt):
        return prev[0] * 0.9 <= nxt[0] <= prev[0] * 1.02

    kw = {"max_len": k, "window": window, "measures": ("amount",), "group_col": None, "hop_ok": band,
          "lag_col": "lag" if lag else None}
    fast = temporal_cycles(e, **kw)
    brute = temporal_cycles_bruteforce(e, **kw)
    assert set(fast) == set(brute)
    once = temporal_cycles(e, unique_sets=True, **kw)
    assert len({frozenset(c) for c in once}) == len(once)
    assert {frozenset(c) for c in once} == {frozenset(c) for c in brute}
    t = dict(zip(e["edge"], e["t"]))
    for c in once:
        assert min((t[r[0]], r[0]) for r in brute if frozenset(r) == frozenset(c)) == (t[c[0]], c[0])

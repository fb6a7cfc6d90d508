"""Measuring a resolution against true clusters (graphiff.resolve.evaluate): pairwise and
B-cubed precision/recall/F1 on examples computed by hand."""
from __future__ import annotations

import pytest

from graphiff.errors import InvalidInput
from graphiff.resolve.evaluate import compare_clusters, evaluate_resolution, true_clusters

PREDICTED = [["a", "b", "c"], ["d", "e"]]
TRUE = [["a", "b"], ["c", "d", "e"], ["f", "g"]]


def test_pairwise_by_hand():
    # predicted pairs ab ac bc de; true pairs ab cd ce de fg; right: ab de
    m = compare_clusters(PREDICTED, TRUE)["pairwise"]
    assert (m["predicted_pairs"], m["true_pairs"], m["correct_pairs"]) == (4, 5, 2)
    assert (m["precision"], m["recall"], m["f1"]) == (0.5, 0.4, 0.444)      # F1 = 2 * .5 * .4 / .9


def test_bcubed_by_hand():
    # per record (precision, recall): a, b (2/3, 1); c (1/3, 1/3); d, e (1, 2/3); f, g (1, 1/2) as singletons
    # precision 17/21 = 0.8095, recall 14/21 = 0.6667, F1 = 68/93 = 0.7312
    m = compare_clusters(PREDICTED, TRUE)["bcubed"]
    assert (m["precision"], m["recall"], m["f1"], m["records"]) == (0.81, 0.667, 0.731, 7)


def test_a_perfect_resolution():
    m = compare_clusters([["x", "y"], ["z", "w", "v"]], [["y", "x"], ["v", "w", "z"]])
    assert m["pairwise"]["precision"] == m["pairwise"]["recall"] == m["pairwise"]["f1"] == 1.0
    assert m["bcubed"]["precision"] == m["bcubed"]["recall"] == m["bcubed"]["f1"] == 1.0


def test_nothing_predicted():
    m = compare_clusters([], [["a", "b"], ["c", "d"]])
    assert m["pairwise"]["precision"] is None and m["pairwise"]["recall"] == 0.0 and m["pairwise"]["f1"] is None
    assert (m["bcubed"]["precision"], m["bcubed"]["recall"], m["bcubed"]["f1"]) == (1.0, 0.5, 0.667)


def test_one_giant_cluster_is_caught_by_bcubed():
    # four true entities of two records each, all put into one cluster
    true = [["a1", "a2"], ["b1", "b2"], ["c1", "c2"], ["d1", "d2"]]
    m = compare_clusters([[k for c in true for k in c]], true)
    assert m["pairwise"]["precision"] == round(4 / 28, 3) and m["pairwise"]["recall"] == 1.0
    assert m["bcubed"]["precision"] == 0.25 and m["bcubed"]["recall"] == 1.0 and m["bcubed"]["f1"] == 0.4


TRUTH = {"instances": [], "decoys": [],
         "resolution": {"clusters": {"Trader": [["KE-100", "UG-88231", "TZ-0042"]], "Person": [["P-1", "P-9"]]},
                        "decoys": [{"label": "Trader", "ids": ["KE-100", "KE-200"], "kind": "similar_name"},
                                   {"label": "Person", "ids": ["P-1", "P-2"], "kind": "common_name"}]}}


def test_evaluate_resolution_per_label_overall_and_decoys():
    predicted = {"Trader": [["KE-100", "KE-200", "UG-88231"]], "Person": [["P-1", "P-9"]]}
    m = evaluate_resolution(predicted, TRUTH)
    trader = m["labels"]["Trader"]
    # predicted pairs: KE-100/KE-200, KE-100/UG-88231, KE-200/UG-88231; true: the three of the Mara cluster
    assert (trader["pairwise"]["precision"], trader["pairwise"]["recall"]) == (0.333, 0.333)
    assert m["labels"]["Person"]["pairwise"]["f1"] == 1.0
    assert m["overall"]["pairwise"]["correct_pairs"] == 2 and m["overall"]["pairwise"]["predicted_pairs"] == 4
    assert m["overall"]["pairwise"]["true_pairs"] == 4
    assert m["decoys"]["total"] == 2 and m["decoys"]["joined"] == 1
    assert m["decoys"]["joined_decoys"][0]["ids"] == ["KE-100", "KE-200"]


def test_labels_only_on_one_side_are_measured_too():
    m = evaluate_resolution({"Carrier": [["C1", "C2"]]}, TRUTH)
    assert set(m["labels"]) == {"Carrier", "Person", "Trader"}
    carrier = m["labels"]["Carrier"]["pairwise"]
    assert carrier["precision"] == 0.0 and carrier["recall"] is None
    assert m["labels"]["Trader"]["pairwise"]["recall"] == 0.0


@pytest.mark.parametrize("truth", [{"instances": []}, {"resolution": {}}, {"resolution": {"clusters": []}}, []])
def test_a_truth_without_clusters_is_refused(truth):
    with pytest.raises(InvalidInput, match="no resolution clusters"):
        true_clusters(truth)

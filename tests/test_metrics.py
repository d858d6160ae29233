import numpy as np
import pytest

from graphattn import metrics
from graphattn.metrics import best_threshold, chance_f1, pair_metrics


def test_pair_metrics_on_a_hand_made_case():
    y = np.array([1, 1, 0, 0, 0, 1])
    scores = np.array([0.9, 0.4, 0.6, 0.1, 0.2, 0.8])
    m = pair_metrics(y, scores, threshold=0.5)
    # predicted positive: 0.9, 0.6, 0.8 -> tp 2, fp 1, fn 1
    assert m["precision"] == pytest.approx(2 / 3) and m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3) and m["acc"] == pytest.approx(4 / 6)
    assert m["auroc"] == pytest.approx(8 / 9) and m["positive_rate"] == 0.5 and m["n_pairs"] == 6


def test_best_threshold_separates_when_possible():
    y = np.array([0, 0, 1, 1, 0])
    scores = np.array([0.1, 0.3, 0.7, 0.8, 0.2])
    t = best_threshold(y, scores)
    assert 0.3 < t <= 0.7 and pair_metrics(y, scores, t)["f1"] == 1.0


def test_one_class_gives_no_auroc_and_no_crash():
    m = pair_metrics(np.zeros(4), np.array([0.1, 0.2, 0.3, 0.4]), 0.5)
    assert m["auroc"] is None and m["f1"] == 0.0
    assert best_threshold(np.zeros(3), np.array([0.1, 0.2, 0.3])) == 0.5


def test_chance_f1():
    assert chance_f1(0.25) == pytest.approx(0.4)


@pytest.mark.parametrize("seed", range(5))
def test_ranking_metrics_match_scikit_learn_with_ties(seed):
    from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

    rng = np.random.default_rng(seed)
    y = rng.random(200) < 0.3
    scores = np.round(rng.random(200) + 0.4 * y, 1)  # rounded: many ties
    m = pair_metrics(y, scores, 0.5)
    assert m["auroc"] == pytest.approx(roc_auc_score(y, scores), abs=1e-12)
    assert m["auprc"] == pytest.approx(average_precision_score(y, scores), abs=1e-12)
    # No threshold does better than the chosen one.
    t = best_threshold(y, scores)
    assert pair_metrics(y, scores, t)["f1"] == pytest.approx(max(f1_score(y, scores >= c) for c in np.unique(scores)))


def test_top1_keeps_each_groups_best_score_first_on_ties():
    scores = np.array([0.2, 0.9, 0.5, 0.5, 0.1, 0.4])
    groups = np.array([0, 0, 1, 1, 2, 2])
    assert metrics.top1(scores, groups).tolist() == [False, True, True, False, False, True]


def test_top1_decoding_rules_out_all_but_each_childs_best_candidate():
    y = np.array([1, 1, 0, 0, 1, 0])  # child 0 has two parents
    scores = np.array([0.9, 0.8, 0.1, 0.7, 0.6, 0.2])
    groups = np.array([0, 0, 0, 1, 1, 1])
    decoded = metrics.decode(scores, groups, "top1")
    assert np.isneginf(decoded).tolist() == [False, True, True, False, True, True]
    threshold = metrics.best_threshold(y, decoded)
    assert np.isfinite(threshold)
    m = metrics.pair_metrics(y, scores, threshold, decoded)
    # Child 0 keeps one of its two parents; child 1's best candidate (0.7) is not its parent.
    assert (m["precision"], m["recall"]) == (1.0, 1 / 3)
    assert m["auroc"] == metrics.pair_metrics(y, scores, 0.5)["auroc"]  # areas use the raw scores
    with pytest.raises(ValueError, match="unknown decoding 'top2'; accepted"):
        metrics.decode(scores, groups, "top2")


def test_parent_accuracy_counts_children_whose_best_candidate_is_a_parent():
    y = np.array([0, 1, 1, 0, 0, 0])
    scores = np.array([0.3, 0.2, 0.9, 0.1, 0.5, 0.4])
    groups = np.array([7, 7, 3, 3, 5, 5])  # group 5 has no parent: not counted
    assert metrics.parent_accuracy(y, scores, groups) == 0.5
    assert metrics.parent_accuracy(np.zeros(2), np.ones(2), np.array([0, 0])) is None

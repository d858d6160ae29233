"""Attention statistics on hand-made patterns whose values are known."""

import numpy as np
import pytest

from graphattn.attention_metrics import MetricAccumulator, entropy, js_divergence


def test_one_hot_has_entropy_zero_and_uniform_has_log_n():
    assert entropy(np.eye(5)) == pytest.approx(np.zeros(5), abs=1e-9)
    for n in (2, 7, 30):
        assert entropy(np.full(n, 1 / n)) == pytest.approx(np.log(n))


def test_js_divergence_is_zero_for_equal_and_one_for_disjoint_rows():
    p = np.array([0.2, 0.3, 0.5])
    assert js_divergence(p, p) == pytest.approx(0, abs=1e-9)
    assert js_divergence(np.array([1.0, 0, 0]), np.array([0, 0.5, 0.5])) == pytest.approx(1)
    assert 0 < js_divergence(p, np.array([0.5, 0.3, 0.2])) < 1


def causal_uniform(n):
    return np.tril(np.ones((n, n))) / np.arange(1, n + 1)[:, None]


def test_metrics_of_a_previous_token_head_and_a_uniform_causal_head():
    n = 6
    previous = np.eye(n, k=-1)
    previous[0, 0] = 1  # the first token can only look at itself
    pattern = np.stack([np.stack([previous, causal_uniform(n)])])  # [1 layer, 2 heads, n, n]
    acc = MetricAccumulator(1, 2)
    acc.add(pattern)
    heads, similarity = acc.tables()
    prev, uniform = heads.iloc[0], heads.iloc[1]
    assert prev.entropy == pytest.approx(0, abs=1e-9)
    assert uniform.entropy == pytest.approx(np.mean(np.log(np.arange(1, n + 1))))
    assert prev.span == pytest.approx((n - 1) / n)  # distance 1 for every query but the first
    assert prev.first_token_mass == pytest.approx(2 / n)  # queries 0 and 1 look at token 0
    assert uniform.first_token_mass == pytest.approx(np.mean(1 / np.arange(1, n + 1)))
    assert 0 < prev.head_diversity == uniform.head_diversity < 1
    assert similarity.js_similarity.tolist() == pytest.approx([1.0])


def test_identical_layers_have_similarity_one_and_different_layers_less():
    n = 5
    same = np.stack([np.stack([causal_uniform(n)] * 3)] * 2)  # 2 identical layers, 3 identical heads
    acc = MetricAccumulator(2, 3)
    acc.add(same)
    heads, similarity = acc.tables()
    assert similarity.js_similarity.to_numpy() == pytest.approx(np.ones(4))
    assert heads.head_diversity.to_numpy() == pytest.approx(np.zeros(6), abs=1e-9)

    other = same.copy()
    other[1] = np.eye(n)  # layer 1 attends to itself only
    acc = MetricAccumulator(2, 3)
    acc.add(other)
    sim = acc.tables()[1].set_index(["layer_a", "layer_b"]).js_similarity
    assert sim[(0, 0)] == pytest.approx(1) and sim[(0, 1)] == sim[(1, 0)] < 0.9


def test_node_mass_is_the_attention_on_node_tokens_and_absent_without_them():
    n = 4
    nodes = np.array([False, True, False, True])
    acc = MetricAccumulator(1, 2)
    acc.add(np.stack([np.stack([causal_uniform(n), np.eye(n)])]), nodes)
    heads = acc.tables()[0]
    # Uniform: rows 1/1 (no node), 1/2, 1/3 (token 1), 2/4 (tokens 1, 3); self: the node queries only.
    assert heads.node_mass.tolist() == pytest.approx([(0 + 1 / 2 + 1 / 3 + 2 / 4) / 4, 2 / 4])
    acc = MetricAccumulator(1, 2)
    acc.add(np.stack([np.stack([causal_uniform(n), np.eye(n)])]))
    assert "node_mass" not in acc.tables()[0]


def test_statistics_are_weighted_by_tokens_over_prompts():
    acc = MetricAccumulator(1, 1)
    acc.add(np.eye(2)[None, None])  # 2 queries with entropy 0
    acc.add(np.full((1, 1, 4, 4), 0.25))  # 4 queries with entropy ln 4
    assert acc.tables()[0].entropy[0] == pytest.approx(4 * np.log(4) / 6)

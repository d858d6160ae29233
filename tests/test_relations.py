"""The relations a probe is asked to recover, on a hand-made DAG, and their labels in a dataset."""

import numpy as np
import pytest

from graphattn.pairs import pair_index
from graphattn.relations import RELATIONS, relation_matrix

# 0 -> 1 -> 3 -> 4, 0 -> 2 -> 3, 0 -> 3 (also a direct edge), 5 alone.
EDGES = [(0, 1), (1, 3), (3, 4), (0, 2), (2, 3), (0, 3)]
N = 6


def adjacency(edges=EDGES, n=N):
    adj = np.zeros((n, n), dtype=np.int8)
    for i, j in edges:
        adj[i, j] = 1
    return adj


def pairs_of(matrix):
    return sorted(zip(*map(list, np.nonzero(matrix))))


def test_parent_is_the_adjacency_matrix():
    assert pairs_of(relation_matrix(adjacency(), "parent")) == sorted(EDGES)


def test_ancestor_is_the_transitive_closure():
    expected = {(0, 1), (0, 2), (0, 3), (0, 4), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4)}
    assert set(pairs_of(relation_matrix(adjacency(), "ancestor"))) == expected
    # A path of 5 edges needs more than one squaring.
    chain = relation_matrix(adjacency([(i, i + 1) for i in range(5)]), "ancestor")
    assert chain[0, 5] == 1 and chain.sum() == 15 and np.triu(chain, 1).sum() == chain.sum()


def test_grandparent_is_the_pairs_at_shortest_distance_two():
    # 0 reaches 3 in two steps (via 1 or 2) but also directly: not a grandparent. 0 -> 4 via 3,
    # 1 -> 4 and 2 -> 4 via 3.
    assert pairs_of(relation_matrix(adjacency(), "grandparent")) == [(0, 4), (1, 4), (2, 4)]


def test_sibling_is_symmetric_with_an_empty_diagonal():
    sibling = relation_matrix(adjacency(), "sibling")
    # Children of 0: 1, 2, 3; 3's parents 0, 1, 2 share no other child with it but 0's.
    assert set(pairs_of(sibling)) == {(1, 2), (2, 1), (1, 3), (3, 1), (2, 3), (3, 2)}
    assert np.array_equal(sibling, sibling.T) and not np.diagonal(sibling).any()


def test_a_stack_of_padded_graphs_keeps_its_padding_empty():
    stack = np.zeros((2, 7, 7), dtype=np.int8)
    stack[0, :N, :N] = adjacency()
    stack[1, :3, :3] = adjacency([(0, 1), (1, 2)], 3)
    for relation in RELATIONS:
        out = relation_matrix(stack, relation)
        assert np.array_equal(out[0, :N, :N], relation_matrix(adjacency(), relation))
        assert not out[:, N:, :].any() and not out[:, :, N:].any() and not out[1, 3:, :].any()
    assert relation_matrix(stack, "ancestor")[1, 0, 2] == 1


def test_pair_labels_follow_the_relation():
    data = {"adj": adjacency()[None], "n_nodes": np.array([N]), "split": np.array([0])}
    for relation in RELATIONS:
        pairs = pair_index(data, relation)
        expected = relation_matrix(adjacency(), relation)[pairs.src, pairs.dst]
        assert np.array_equal(pairs.label, expected)
    assert pair_index(data, "ancestor").label.sum() == 9


def test_an_unknown_relation_is_refused_naming_the_accepted_ones():
    with pytest.raises(ValueError, match=r"unknown relation 'cousin'; accepted: \['parent', 'ancestor'"):
        relation_matrix(adjacency(), "cousin")


def test_the_schema_accepts_exactly_these_relations():
    from pathlib import Path

    import yaml

    schema = yaml.safe_load((Path(__file__).resolve().parents[1] / "config/schema.yaml").read_text())
    assert schema["properties"]["relations"]["items"]["enum"] == list(RELATIONS)
    assert schema["properties"]["relations"]["default"] == ["parent"]

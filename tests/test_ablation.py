"""Mean-attention ablation of the toy model, through the same TransformerBridge hooks as the dump."""

import pytest
import torch

from graphattn import toy
from graphattn.toy import ablation
from graphattn.models import load_bridge

SETTINGS = dict(min_nodes=3, max_nodes=5, edge_prob=0.4, naming="letters")


def toy_settings(**changes):
    settings = dict(notations=["arrow"], steps=6, batch_size=8, questions=2, parent_share=0.5, lr=1e-3, seed=1,
                    eval_every=3, n_heldout=32, layers=2, heads=2, hidden=16)
    return {**settings, **changes}


def test_graph_blind_accuracy_answers_each_question_with_its_commonest_answer():
    tokenizer = toy.build_tokenizer("letters")
    ids = tokenizer.convert_tokens_to_ids

    def example(question, answer):
        graph = ["<bos>", "A", "->", "B", "."]
        tokens = graph + question + answer
        return toy.Example(ids(tokens), [False] * (len(graph) + len(question)) + [True] * len(answer))

    parents_b = ["Parents", "of", "B", ":"]
    examples = [example(parents_b, ["A", "."]), example(parents_b, ["A", "."]), example(parents_b, ["C", "."]),
                example(["Parents", "of", "A", ":"], ["none", "."])]
    assert ablation.graph_blind_accuracy(examples, ids(".")) == pytest.approx(3 / 4)


def test_mean_patterns_are_distributions_and_no_ablation_is_the_models_own_accuracy(tmp_path):
    settings = toy_settings()
    metrics = toy.train_toy(str(tmp_path / "model"), str(tmp_path / "h.csv"), str(tmp_path / "m.json"),
                            SETTINGS, settings)
    table = ablation.mean_ablation(str(tmp_path / "model"), SETTINGS, settings)
    assert table["ablated"].tolist() == ["none", "L0H0", "L0H1", "L1H0", "L1H1", "all", "graph_blind"]
    assert table["accuracy"][0] == pytest.approx(metrics["val_accuracy"])  # bridge == training's model

    bridge = load_bridge(str(tmp_path / "model"))
    tokenizer = toy.build_tokenizer("letters")
    examples = toy.heldout_examples(tokenizer, SETTINGS, settings, settings["seed"] + 1, 1.0)
    batch = toy.collate(examples, tokenizer.pad_token_id)
    means = ablation.mean_patterns(bridge, batch)
    longest = batch["attention_mask"].sum(dim=1).max()
    rows = means[..., :longest, :].sum(-1)
    assert torch.allclose(rows, torch.ones_like(rows), atol=1e-4) and (means.triu(1) == 0).all()


# A toy trained for 1,200 steps, every head ablated: benchmarks/toy_ablation.py (an accuracy
# study of 1.5 to 3 minutes, out of the test suite).

"""The embedded causal model: tokenizer, answer-only loss, determinism, and loading through
the same TransformerBridge path as every other model."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from graphattn import toy
from graphattn.graphs import Graph
from graphattn.models import load_bridge
from graphattn.toy.muon import Muon

GRAPH = Graph(id=0, nodes=["D", "A", "C", "B"], edges=[(1, 2), (3, 2), (2, 0)])  # A->C, B->C, C->D
SETTINGS = dict(min_nodes=3, max_nodes=5, edge_prob=0.4, naming="letters")


def test_tokenizer_keeps_node_names_whole_with_offsets():
    tokenizer = toy.build_tokenizer("letters")
    text = "A -> C, B -> C. Parents of C:"
    enc = tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)
    pieces = [text[a:b] for a, b in enc["offset_mapping"]]
    assert pieces == ["A", "->", "C", ",", "B", "->", "C", ".", "Parents", "of", "C", ":"]
    assert tokenizer.unk_token_id not in enc["input_ids"]


def test_questions_and_answers():
    assert toy.question(GRAPH, "Parents", 2) == (" Parents of C:", " A, B.")
    assert toy.question(GRAPH, "Children", 2) == (" Children of C:", " D.")
    assert toy.question(GRAPH, "Parents", 1) == (" Parents of A:", " none.")


def test_loss_only_on_answer_tokens():
    tokenizer = toy.build_tokenizer("letters")
    example = toy.make_example(tokenizer, GRAPH, "arrow", [("Parents", 2), ("Children", 1)], np.random.default_rng(0))
    text = tokenizer.convert_ids_to_tokens(example.ids)
    assert text[0] == "<bos>"
    assert text[-14:] == ["Parents", "of", "C", ":", "A", ",", "B", ".", "Children", "of", "A", ":", "C", "."]
    batch = toy.collate([example], tokenizer.pad_token_id)
    answer = [tokenizer.convert_ids_to_tokens(int(i)) for i in batch["labels"][0] if i != -100]
    assert answer == ["A", ",", "B", ".", "C", "."]


def test_training_loss_without_the_mask_equals_the_masked_loss_on_a_padded_batch():
    """collate pads on the right, so the causal model's loss needs no attention mask."""
    tokenizer = toy.build_tokenizer("letters")
    rng = np.random.default_rng(0)
    short = toy.make_example(tokenizer, GRAPH, "arrow", [("Parents", 2)], rng)
    long = toy.make_example(tokenizer, GRAPH, "to", [("Parents", 2), ("Children", 1), ("Parents", 0)], rng)
    batch = toy.collate([short, long], tokenizer.pad_token_id)
    assert batch["attention_mask"][0].sum() < batch["attention_mask"].shape[1]  # the short one is padded
    model = toy.build_model(len(tokenizer), layers=2, heads=2, hidden=32, seed=0)
    masked = model(**batch).loss
    assert torch.allclose(toy.training_loss(model, batch), masked, atol=1e-6)
    # Left padding would move the short example's tokens: then the mask would matter.
    flipped = {key: value.clone() for key, value in batch.items()}
    n = int(batch["attention_mask"][0].sum())
    for key in flipped:
        flipped[key][0] = torch.roll(batch[key][0], batch[key].shape[1] - n)
    assert not torch.allclose(toy.training_loss(model, flipped), masked, atol=1e-4)


def test_training_questions_are_distinct_and_follow_parent_share():
    stream = toy.ExampleStream(toy.build_tokenizer("letters"), SETTINGS, ["arrow"], seed=0)
    asked = [stream.questions(GRAPH, 8, 0.75) for _ in range(200)]
    assert all(len(q) == 8 and len(set(q)) == 8 for q in asked)  # 8 of the graph's 8 (kind, node) pairs
    assert all(len(q) == 4 and {kind for kind, _ in q} == {"Parents"} for q in
               (stream.questions(GRAPH, 8, 1.0) for _ in range(20)))
    share = np.mean([kind == "Parents" for q in (stream.questions(GRAPH, 2, 0.75) for _ in range(500)) for kind, _ in q])
    assert 0.6 < share < 0.8


def test_training_is_seeded_and_loads_through_the_bridge(tmp_path):
    def run(name):
        settings = dict(notations=["arrow"], steps=6, batch_size=8, questions=2, parent_share=0.5, lr=1e-3, seed=1,
                        eval_every=3, n_heldout=16, layers=1, heads=2, hidden=16)
        return toy.train_toy(str(tmp_path / name / "model"), str(tmp_path / name / "h.csv"),
                             str(tmp_path / name / "m.json"), SETTINGS, settings)

    first, second = run("a"), run("b")
    assert first == second and 0 <= first["heldout_accuracy"] <= 1
    from safetensors.torch import load_file

    weights_a, weights_b = (load_file(tmp_path / n / "model/model.safetensors") for n in ("a", "b"))
    assert weights_a.keys() == weights_b.keys() and all(torch.equal(weights_a[k], weights_b[k]) for k in weights_a)
    assert json.loads((tmp_path / "a/m.json").read_text())["steps"] == 6
    assert (tmp_path / "a/h.csv").read_text().splitlines()[0] == "step,loss,val_accuracy"

    bridge = load_bridge(str(tmp_path / "a/model"))
    assert bridge.cfg.n_layers == 1 and bridge.cfg.n_heads == 2
    enc = bridge.tokenizer(["A -> C, B -> C"], return_offsets_mapping=True, return_tensors="pt")
    patterns = []
    bridge.run_with_hooks(enc["input_ids"], fwd_hooks=[("blocks.0.attn.hook_pattern", lambda p, hook: patterns.append(p))])
    assert patterns[0].shape[1] == 2 and (patterns[0][0].triu(1) == 0).all()


def test_the_controls_folder_is_the_toy_before_training(tmp_path):
    """The random-init control is built from the untrained toy's folder: the same architecture
    and tokenizer as the trained toy's, so the same random weights for the same init_seed; and
    its weights are the ones training starts from."""
    settings = dict(notations=["arrow"], steps=4, batch_size=8, questions=2, parent_share=0.5, lr=1e-2, seed=1,
                    eval_every=2, n_heldout=16, layers=1, heads=2, hidden=16)
    toy.train_toy(str(tmp_path / "trained"), str(tmp_path / "h.csv"), str(tmp_path / "m.json"), SETTINGS, settings)
    toy.save_untrained(str(tmp_path / "init"), SETTINGS, settings)
    from safetensors.torch import load_file

    assert json.loads((tmp_path / "init/config.json").read_text()) == json.loads((tmp_path / "trained/config.json").read_text())
    assert (tmp_path / "init/tokenizer.json").read_text() == (tmp_path / "trained/tokenizer.json").read_text()
    start = toy.build_model(len(toy.build_tokenizer("letters")), 1, 2, 16, seed=1).state_dict()
    untrained, trained = load_file(tmp_path / "init/model.safetensors"), load_file(tmp_path / "trained/model.safetensors")
    assert all(torch.equal(untrained[k], start[k]) for k in untrained)
    assert not all(torch.equal(untrained[k], trained[k]) for k in untrained)  # training moved the weights

    controls = [load_bridge(str(tmp_path / name), random_init=True, init_seed=0) for name in ("init", "trained")]
    weights = [dict(bridge.original_model.named_parameters()) for bridge in controls]
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_training_records_the_probe_sets_attention_at_every_evaluation(tmp_path):
    settings = dict(notations=["arrow"], steps=6, batch_size=8, questions=2, parent_share=0.5, lr=1e-3, seed=1,
                    eval_every=3, n_heldout=16, layers=2, heads=2, hidden=16, probe_prompts=5)
    metrics = toy.train_toy(str(tmp_path / "model"), str(tmp_path / "h.csv"), str(tmp_path / "m.json"), SETTINGS,
                            settings, str(tmp_path / "d.npz"), str(tmp_path / "roles.csv"))
    assert "step_99" in metrics
    snapshots = np.load(tmp_path / "d.npz")
    assert snapshots["steps"].tolist() == [0, 3, 6]  # before training and at each evaluation
    attention = snapshots["node_attention"].astype(np.float32)
    assert attention.shape == (3, 5, 2, 2, 5, 5)  # snapshot, prompt, layer, head, node, node
    assert snapshots["adjacency"].shape == (5, 5, 5)
    # A causal model: a node's first mention attends to nothing later, so each node row carries
    # at most one unit of mass, and training moves the attention.
    assert (attention.sum(-1) <= 1 + 1e-2).all() and not np.allclose(attention[0], attention[-1])
    scores = pd.read_csv(tmp_path / "roles.csv")
    assert len(scores) == 3 * 2 * 2 and scores[["parent-finder", "sink"]].apply(lambda c: c.between(0, 1)).all().all()


def test_first_step_at_99_percent():
    from graphattn.toy.dynamics import first_step_at

    history = [{"step": 100, "val_accuracy": 0.5}, {"step": 200, "val_accuracy": 0.991}, {"step": 300, "val_accuracy": 1}]
    assert first_step_at(history) == 200 and first_step_at(history[:1]) is None


def test_llama_fields_reach_the_model_config():
    untied = toy.build_model(40, 1, 2, 16, 0)
    tied = toy.build_model(40, 1, 2, 16, 0, {"tie_word_embeddings": True, "rope_theta": 100.0})
    assert tied.lm_head.weight is tied.model.embed_tokens.weight
    assert untied.lm_head.weight is not untied.model.embed_tokens.weight
    assert tied.config.rope_parameters["rope_theta"] == 100.0
    assert sum(p.numel() for p in untied.parameters()) == sum(p.numel() for p in tied.parameters()) + 40 * 16


def test_saving_replaces_the_folder_whole_and_removes_a_killed_runs_temporaries(tmp_path):
    tokenizer = toy.build_tokenizer("letters")
    out = tmp_path / "models" / "toy"
    stale = tmp_path / "models" / ".toy.k1ll3d"  # what a run killed inside save_pretrained leaves
    (stale / "half").mkdir(parents=True)
    out.mkdir()
    (out / "old.bin").write_text("an earlier model")
    toy.save_folder(out, toy.build_model(len(tokenizer), 1, 2, 16, 0), tokenizer)
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["toy"]
    assert not (out / "old.bin").exists() and (out / "model.safetensors").exists() and (out / "tokenizer.json").exists()


def test_muon_takes_the_blocks_matrices_and_adamw_the_rest():
    model = toy.build_model(40, 2, 2, 16, 0)
    muon, adamw = toy.build_optimisers(model, "muon", 0.003)
    assert isinstance(muon, Muon) and isinstance(adamw, torch.optim.AdamW)
    in_muon = {id(p) for group in muon.param_groups for p in group["params"]}
    in_adamw = {id(p) for group in adamw.param_groups for p in group["params"]}
    names = {id(p): name for name, p in model.named_parameters()}
    # q, k, v, o, gate, up and down of both layers; embeddings, output layer and norms elsewhere
    assert sorted(names[i].split(".")[-2] for i in in_muon) == sorted(
        ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] * 2)
    assert in_muon.isdisjoint(in_adamw) and in_muon | in_adamw == set(names)
    assert "model.embed_tokens.weight" in {names[i] for i in in_adamw} and "lm_head.weight" in {names[i] for i in in_adamw}
    (only,) = toy.build_optimisers(model, "adamw", 0.003)
    assert {id(p) for group in only.param_groups for p in group["params"]} == set(names)
    with pytest.raises(ValueError, match="'sgd'.*accepted: muon, adamw"):
        toy.build_optimisers(model, "sgd", 0.003)


def test_training_batches_are_cut_from_length_sorted_pools():
    stream = toy.ExampleStream(toy.build_tokenizer("letters"), SETTINGS, ["arrow", "to"], seed=0)
    batches = stream.batches(8, 3, 0.75, pool=4)
    pool = [next(batches) for _ in range(4)]
    assert all(len(batch) == 8 for batch in pool)
    spans = sorted((min(len(e.ids) for e in b), max(len(e.ids) for e in b)) for b in pool)
    # Each batch holds a run of the sorted lengths: no batch's span overlaps the next one's.
    assert all(high <= next_low for (_, high), (next_low, _) in zip(spans, spans[1:]))
    assert spans[0][0] < spans[-1][1]  # the pool did hold different lengths


@pytest.mark.parametrize("stop_accuracy, stop_evaluations, stopped_at", [(0.99, 2, 10), (0.98, 3, 8), (0.99, 3, 18)])
def test_training_stops_once_validation_has_held_for_the_configured_evaluations(tmp_path, monkeypatch,
                                                                               stop_accuracy, stop_evaluations, stopped_at):
    # Validation accuracies scripted so that the rules disagree on when they hold; the training
    # loop, its evaluation schedule and the metrics are the real ones. The held-out
    # evaluations after the loop read the rest of the script.
    script = iter([0.5, 0.995, 0.985, 0.995, 0.995, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    monkeypatch.setattr(toy.training, "exact_accuracy", lambda model, batch: next(script))
    settings = dict(notations=["arrow"], steps=30, batch_size=4, questions=1, parent_share=0.5, lr=1e-3, seed=1,
                    eval_every=2, n_heldout=4, layers=1, heads=2, hidden=16,
                    stop_accuracy=stop_accuracy, stop_evaluations=stop_evaluations)
    metrics = toy.train_toy(str(tmp_path / "model"), str(tmp_path / "h.csv"), str(tmp_path / "m.json"), SETTINGS, settings)
    assert metrics["steps"] == stopped_at
    assert len((tmp_path / "h.csv").read_text().splitlines()) == 1 + stopped_at // 2


def default_toy_and_graph_sets():
    """The default config's toy settings and its graph sets' graphs, generated as generate_graphs does."""
    import yaml

    from graphattn import graphs
    from graphattn.config import toy_graph_settings

    with open("config/config.yaml") as fh:
        config = yaml.safe_load(fh)
    drawn = [graphs.generate(**{key: gs[key] for key in ("min_nodes", "max_nodes", "edge_prob", "count", "seed",
                                                         "naming")})
             for gs in config["graph_sets"].values()]
    return config, toy_graph_settings(config), [g for gs in drawn for g in gs]


def test_the_training_stream_of_a_whole_run_holds_no_graph_of_the_graph_sets_or_the_heldout_sets():
    """As many training graphs as the default's longest run draws (steps x batch_size): none is a graph
    of the graph set (all splits, so every validation and test graph) nor of the toy's held-out sets."""
    from graphattn.datasets import split_graphs
    from graphattn.graphs import edge_set

    config, graph_settings, graph_set = default_toy_and_graph_sets()
    settings = config["toy"]
    graph_sets = frozenset(edge_set(g) for g in graph_set)
    heldout, stream = toy.toy_data(toy.build_tokenizer(graph_settings["naming"]), graph_settings, settings, graph_sets)
    split = split_graphs(len(graph_set), config["split"]["train"], config["split"]["val"], config["split"]["seed"])
    evaluated = {edge_set(g) for g, s in zip(graph_set, split) if s > 0}
    heldout_sets = stream.exclude - graph_sets
    assert len(heldout_sets) > 0.9 * 3 * settings["n_heldout"]  # three sets of n_heldout questions, one graph each
    assert not heldout_sets & graph_sets  # the held-out sets avoid the graph sets too

    seen = {edge_set(stream.graph()) for _ in range(settings["steps"] * settings["batch_size"])}
    assert not seen & evaluated and not seen & heldout_sets and not seen & graph_sets
    # The exclusion did work: without it, this many draws meet graph-set and held-out graphs.
    assert stream.redrawn > 0


def test_a_graph_planted_in_the_streams_source_is_redrawn():
    tokenizer = toy.build_tokenizer("letters")
    first = toy.ExampleStream(tokenizer, SETTINGS, ["arrow"], seed=3).graph()
    from graphattn.graphs import edge_set

    planted = frozenset({edge_set(first)})
    stream = toy.ExampleStream(tokenizer, SETTINGS, ["arrow"], seed=3, exclude=planted)
    drawn = [stream.graph() for _ in range(50)]
    assert stream.redrawn == 1 and all(edge_set(g) != edge_set(first) for g in drawn)
    # A renamed copy of the planted graph is a different graph: names are what the toy reads.
    renamed = Graph(id=0, nodes=[chr(ord(n) + 1) if n != "Z" else "A" for n in first.nodes], edges=first.edges)
    assert edge_set(renamed) not in planted


def test_settings_whose_graphs_are_all_excluded_are_refused_naming_them():
    settings = dict(min_nodes=2, max_nodes=2, edge_prob=1.0, naming="letters")
    stream = toy.ExampleStream(None, settings, ["arrow"], seed=0)
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    stream.exclude = frozenset(frozenset({(a, b)}) for a in letters for b in letters if a != b)
    with pytest.raises(ValueError, match="draws in a row were all graphs.*accepted: settings with more"):
        stream.graph()

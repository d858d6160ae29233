"""The model's own answers (graphattn.behaviour): the answer parser, the questions, greedy
decoding through the TransformerBridge, SLASH-style sink redistribution and head mean-ablation.
Models are tiny random-weight toys built here (real Llama architecture, real bridge)."""


import numpy as np
import pandas as pd
import pytest
import torch

from graphattn import graphs, prompts, toy
from graphattn.attention import drop_first_token
from graphattn.behaviour import answers, decode, interventions, questions, runs
from graphattn.datasets import split_graphs
from graphattn.models import load_bridge

NAMES = ["A", "B", "C", "D"]


@pytest.fixture(scope="module")
def bridge(toy_folder):
    return load_bridge(toy_folder)


def test_the_parser_reads_lists_in_any_order_and_none_and_counts_what_it_cannot_read():
    assert answers.parse_answer(" A, B.", NAMES) == {"A", "B"}
    assert answers.parse_answer(" B and A", NAMES) == {"A", "B"}
    assert answers.parse_answer(" C, A and B.\nParents of D:", NAMES) == {"A", "B", "C"}
    assert answers.parse_answer(" none.", NAMES) == frozenset()
    for unreadable in [" E", " the parents are A", "", " A B", " ,"]:
        assert answers.parse_answer(unreadable, NAMES) is None, unreadable
    scored = answers.score([frozenset("AB"), None, frozenset(), frozenset("A")],
                           [frozenset("AB"), frozenset("C"), frozenset("A"), frozenset("AB")], [False, False, False, True])
    assert scored == {"n_questions": 4, "accuracy": 0.25, "f1": pytest.approx((1 + 0 + 0 + 2 / 3) / 4), "unparseable": 1,
                      "repeats": 1}


def test_the_parser_reads_as_a_person_would_skipping_a_leading_newline_and_counting_repeats():
    assert answers.read_answer("\n A, B.", NAMES) == (frozenset("AB"), False)
    assert answers.read_answer("\n\nnone.\nParents of D:", NAMES) == (frozenset(), False)
    assert answers.read_answer(" A, A", NAMES) == (frozenset("A"), True)  # SmolLM2's way: {A}, the repeat counted
    assert answers.read_answer(" B, A and B.", NAMES) == (frozenset("AB"), True)
    assert answers.read_answer(" none", NAMES) == (frozenset(), False)
    assert answers.read_answer("\n", NAMES) == (None, False)
    assert answers.read_answer(" A, A, E", NAMES) == (None, False)  # unreadable: unparseable, not a repeat


def test_the_summary_counts_repeated_names_beside_unparseable_answers():
    asked = [questions.Question(0, 0, "parents", "C", f"t{i}", "Parents of C:", frozenset("AB"), tuple(NAMES))
             for i in range(4)] + [questions.Question(0, 0, "children", "A", "t", "Children of A:", frozenset("C"),
                                                      tuple(NAMES))]
    texts = ["\n A, B.", " A, A.", " none.", " the parents are A", " C, C."]
    table = runs.answer_table(asked, texts)
    assert table["repeated"].tolist() == [False, True, False, False, True]
    assert table["unparseable"].tolist() == [False, False, False, True, False]
    assert table["exact"].tolist() == [True, False, False, False, True]
    rows = {row["kind"]: row for row in runs.by_kind(asked, texts)}
    assert (rows["parents"]["repeats"], rows["parents"]["unparseable"], rows["parents"]["accuracy"]) == (1, 1, 0.25)
    assert (rows["children"]["repeats"], rows["children"]["unparseable"]) == (1, 0)


def test_an_answer_begun_on_a_new_line_is_not_cut_at_that_line_end():
    assert not decode.ended("\n") and not decode.ended("\n A, B")
    assert decode.ended("\n A, B.") and decode.ended(" A\n") and decode.ended(".")


def test_the_graph_blind_reader_answers_each_question_text_with_its_commonest_answer_on_other_graphs():
    reference = [("Parents of B:", frozenset("A")), ("Parents of B:", frozenset("A")), ("Parents of B:", frozenset("C")),
                 ("Parents of A:", frozenset()), ("Parents of C:", frozenset()), ("Parents of E:", frozenset())]
    asked = ["Parents of B:", "Parents of A:", "Parents of D:"]  # D is never asked in the reference
    blind = answers.graph_blind(asked, reference)
    assert blind == [frozenset("A"), frozenset(), frozenset()]  # D: the commonest answer of all, "none"
    assert answers.score(blind, [frozenset("A"), frozenset("B"), frozenset()])["accuracy"] == pytest.approx(2 / 3)


def test_the_reference_is_every_node_of_the_training_graphs():
    made = made_graphs()
    rendered = [{"graph_id": p.graph_id, "ordering": p.ordering, "text": p.text} for p in prompts.render_all(made, "arrow", 2, 0)]
    reference = questions.reference_answers(made, rendered, ["parents"], {"train": 0.5, "val": 0.25, "seed": 0})
    train = [g for g, part in zip(made, split_graphs(len(made), 0.5, 0.25, 0)) if part == 0]
    assert len(reference) == sum(g.n_nodes for g in train)  # once per graph, not per ordering
    assert reference[0] == (f"Parents of {train[0].nodes[0]}:", questions.related(train[0], "parents", 0))


def made_graphs(n=12):
    return graphs.generate(3, 4, 0.5, n, seed=0, naming="letters")


def test_questions_follow_the_probes_test_split_with_one_fixed_prefix_of_training_examples():
    made = made_graphs()
    rendered = [{"graph_id": p.graph_id, "ordering": p.ordering, "text": p.text} for p in prompts.render_all(made, "arrow", 2, 0)]
    split = {"train": 0.5, "val": 0.25, "seed": 0}
    settings = {"format": "few_shot", "kinds": ["parents", "children"], "shots": 2, "seed": 0, "max_prompts": None}
    asked = questions.build(made, rendered, settings, split)
    parts = split_graphs(len(made), 0.5, 0.25, 0)  # graph ids are 0..11, in order
    test_ids = {g.id for g, part in zip(made, parts) if part == 2}
    train_texts = {r["text"] for r in rendered if parts[r["graph_id"]] == 0}
    assert {q.graph_id for q in asked} == test_ids
    assert len(asked) == sum(2 * 2 * made[i].n_nodes for i in test_ids)  # 2 orderings x 2 kinds x nodes
    for q in asked:
        graph = made[q.graph_id]
        adj = graph.adjacency()
        node = graph.nodes.index(q.node)
        truth = adj[:, node] if q.kind == "parents" else adj[node]
        assert q.gold == {graph.nodes[i] for i in np.nonzero(truth)[0]}
        *shots, last = q.text.split("\n")
        assert len(shots) == 2 and all(s.split(". ")[0] + "." in {t + "." for t in train_texts} for s in shots)
        assert last.endswith(f". {q.question}")
    prefixes = {(q.kind, q.text.rsplit("\n", 1)[0]) for q in asked}
    assert len(prefixes) == 2  # one prefix per kind
    trained = questions.build(made, rendered, {**settings, "format": "trained"}, split)
    assert all("\n" not in q.text for q in trained)
    with pytest.raises(ValueError, match="has no chat template; accepted for this model: few_shot"):
        questions.build(made, rendered, {**settings, "format": "chat"}, split, toy.build_tokenizer("letters"))


def test_left_padded_batches_give_each_prompt_the_logits_it_has_alone(bridge):
    texts = ["A -> B. Parents of B:", "A -> B, B -> C, A -> C, C -> D. Children of A:"]
    rows = [decode.token_ids(bridge.tokenizer, t) for t in texts]
    ids, mask = decode.left_pad(rows, 0)
    with torch.inference_mode():
        batched = bridge(ids, attention_mask=mask, return_type="logits")[:, -1]
        for row, tokens in enumerate(rows):
            alone = bridge(torch.tensor([tokens]), return_type="logits")[0, -1]
            torch.testing.assert_close(batched[row], alone, atol=1e-5, rtol=1e-4)


HAND = torch.tensor([[1.0, 0.0, 0.0, 0.0],
                     [0.6, 0.4, 0.0, 0.0],
                     [0.5, 0.3, 0.2, 0.0],
                     [0.1, 0.2, 0.3, 0.4]])[None, None]  # [batch 1, head 1, q, k]


def test_sink_redistribution_follows_the_formula_and_keeps_rows_distributions():
    g = 0.6
    out = interventions.redistribute_sink(HAND, g, torch.tensor([0]))
    for q in range(1, 4):
        p = HAND[0, 0, q]
        expected = p * (1 + (1 - g) * p[0] / p[1:].sum())
        expected[0] = g * p[0]
        torch.testing.assert_close(out[0, 0, q], expected)
    torch.testing.assert_close(out[0, 0, 0], HAND[0, 0, 0])  # only the sink to give to: unchanged
    torch.testing.assert_close(out.sum(-1), torch.ones(1, 1, 4))
    torch.testing.assert_close(out[0, 0, 2], torch.tensor([0.3, 0.42, 0.28, 0.0]))  # by hand
    assert interventions.redistribute_sink(HAND, 1.0, torch.tensor([0])) is HAND


def test_g_zero_is_the_renormalisation_that_sink_drop_applies_when_reading():
    out = interventions.redistribute_sink(HAND, 0.0, torch.tensor([0]))
    torch.testing.assert_close(out[..., 1:, :], drop_first_token(HAND)[..., 1:, :])
    # A left-padded row: its sink is its first real token, not position 0.
    padded = torch.tensor([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.25, 0.75]])[None, None]
    sink = interventions.sink_positions(torch.tensor([[0, 1, 1]]))
    assert sink.tolist() == [1]
    torch.testing.assert_close(interventions.redistribute_sink(padded, 0.0, sink)[0, 0, 2], torch.tensor([0.0, 0.0, 1.0]))


def test_g_one_gives_the_outputs_of_no_intervention_and_other_gs_change_them(bridge):
    texts = ["A -> B, B -> C. Parents of C:", "C -> A. Children of C:"]
    ids, mask = decode.left_pad([decode.token_ids(bridge.tokenizer, t) for t in texts], 0)
    with torch.inference_mode():
        plain = bridge(ids, attention_mask=mask, return_type="logits")
        same = bridge.run_with_hooks(ids, attention_mask=mask, return_type="logits",
                                     fwd_hooks=interventions.sink_hooks(2, 1.0, "all", mask))
        moved = bridge.run_with_hooks(ids, attention_mask=mask, return_type="logits",
                                      fwd_hooks=interventions.sink_hooks(2, 0.3, "all", mask))
    assert torch.equal(plain, same)
    assert not torch.allclose(plain, moved, atol=1e-4)
    assert runs.greedy_answers(bridge, texts, 2, 3, progress=False) == runs.greedy_answers(
        bridge, texts, 2, 3, lambda m: interventions.sink_hooks(2, 1.0, "all", m), progress=False)
    with pytest.raises(ValueError, match=r"behaviour.sink.layers: layers \[5\] are out of range for the model "
                                         r"\(2 layers: 0..1\); accepted: all, or layers 0..1"):
        interventions.sink_hooks(2, 0.5, [5], mask)


def test_sink_redistribution_touches_only_the_prompts_query_rows(bridge):
    seen = {}
    text = "A -> B, B -> C. Parents of C:"
    ids = torch.tensor([decode.token_ids(bridge.tokenizer, text)])
    prompt = ids.shape[1] - 3  # the last three positions play generated tokens
    capture = [("blocks.0.attn.hook_pattern", lambda p, hook: seen.setdefault(len(seen), p.clone()))]
    with torch.inference_mode():
        bridge.run_with_hooks(ids, fwd_hooks=capture)
        hooks = interventions.sink_hooks(2, 0.0, [0], torch.ones(1, prompt, dtype=torch.long))
        bridge.run_with_hooks(ids, fwd_hooks=hooks + capture)
    before, after = seen[0], seen[1]  # capture runs after the edit
    torch.testing.assert_close(after[..., prompt:, :], before[..., prompt:, :])
    assert (after[..., 1:prompt, 0] == 0).all() and (before[..., 1:prompt, 0] > 0).all()


def no_bos_tokenizer():
    """tiny_models' byte-level tokenizer with no start token at all, as Qwen 2.5's: the bridge makes
    a tokenizer that has a bos_token add it (add_bos_token=True), and leaves one without as it is."""
    import tiny_models
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_object=tiny_models.byte_tokenizer().backend_tokenizer, pad_token="<pad>",
                                   eos_token="<eos>", unk_token="<unk>")


def test_the_sink_must_be_a_special_token_and_a_refusal_names_the_token_and_the_model():
    text = "A -> B. Parents of B:"
    with_bos = toy.build_tokenizer("letters")  # adds <bos>, as in training
    ids = decode.token_ids(with_bos, text)
    assert ids[0] == with_bos.bos_token_id
    interventions.check_sink_token(with_bos, ids, "toy (pipeline:toy)")
    plain = no_bos_tokenizer()  # the "sink" would be the node A
    ids = decode.token_ids(plain, text)
    assert plain.convert_ids_to_tokens(ids[0]) == "A"
    with pytest.raises(ValueError) as refusal:
        interventions.check_sink_token(plain, ids, "tiny (/models/tiny)", "models.tiny.sink: drop",
                                       "models.tiny.sink: keep")
    message = str(refusal.value)
    assert message.startswith("models.tiny.sink: drop needs a model whose prompts start with a special token")
    assert f"model tiny (/models/tiny)'s first prompt token is 'A' (id {ids[0]})" in message
    assert message.endswith("for this model, models.tiny.sink: keep")


def sweep_questions():
    made = made_graphs()
    rendered = [{"graph_id": p.graph_id, "ordering": p.ordering, "text": p.text} for p in prompts.render_all(made, "arrow", 1, 0)]
    settings = {"format": "trained", "kinds": ["parents"], "shots": 0, "seed": 0, "max_prompts": 1, "batch_size": 4,
                "max_new_tokens": 2}
    return questions.build(made, rendered, settings, {"train": 0.5, "val": 0.25, "seed": 0}), settings


def test_the_sink_sweep_runs_on_a_model_whose_prompts_start_with_bos(bridge):
    asked, settings = sweep_questions()
    sweep = runs.sink_sweep(bridge, asked, settings, [1.0, 0.5], "all", "toy (test)")
    assert sweep["g"].tolist() == [1.0, 0.5] and (sweep["n_questions"] == len(asked)).all()


def test_the_sink_sweep_refuses_a_model_without_a_start_token_before_any_answer(tmp_path, monkeypatch):
    import tiny_models

    folder = tiny_models.build("qwen2", tmp_path / "qwen2")
    no_bos_tokenizer().save_pretrained(folder)
    model = load_bridge(str(folder))
    asked, settings = sweep_questions()
    first = decode.token_ids(model.tokenizer, asked[0].text)[0]
    monkeypatch.setattr(runs, "answer", lambda *a, **kw: pytest.fail("answered before the check"))
    with pytest.raises(ValueError) as refusal:
        runs.sink_sweep(model, asked, settings, [1.0, 0.5], "all", "qwen2 (/models/qwen2)")
    message = str(refusal.value)
    assert message.startswith("the sink sweep (behaviour.sink.g below 1) needs a model whose prompts start with a "
                              "special token")
    assert (f"model qwen2 (/models/qwen2)'s first prompt token is {model.tokenizer.convert_ids_to_tokens(first)!r} "
            f"(id {first})") in message
    assert "behaviour.sink.g: [1.0] (no intervention), or the model left out of behaviour.models" in message
    # g = 1 alone moves nothing: nothing to refuse.
    monkeypatch.setattr(runs, "answer", lambda bridge, questions, *a, **kw: [" A."] * len(questions))
    assert runs.sink_sweep(model, asked, settings, [1.0], "all", "qwen2")["g"].tolist() == [1.0]
    # The sink probes' dump reads the prompts alone: their first token is checked too.
    rendered = prompts.render_all(made_graphs(), "arrow", 1, 0)
    prompts.save(str(tmp_path / "arrow.jsonl"), rendered)
    assert runs.first_prompt(str(tmp_path / "arrow.jsonl")) == rendered[0].text
    with pytest.raises(ValueError, match=r"model qwen2's first prompt token is"):
        runs.check_sink(model.tokenizer, [rendered[0].text], "qwen2")
    runs.check_sink(toy.build_tokenizer("letters"), [rendered[0].text], "toy")


def test_head_means_by_token_class_replace_only_the_chosen_heads_output_and_spare_the_start_token(bridge):
    texts = ["A -> B. Parents of B:", "B -> C, A -> C. Children of B:"]
    tokenizer = bridge.tokenizer
    classes = interventions.token_classes(tokenizer, ["A", "B", "C"])
    node, other, special = (interventions.CLASSES.index(c) for c in ("node", "other", "special"))
    assert classes[tokenizer.convert_tokens_to_ids("A")] == node and classes[tokenizer.bos_token_id] == special
    assert classes[tokenizer.convert_tokens_to_ids("->")] == other
    batches = [decode.left_pad([decode.token_ids(tokenizer, t) for t in texts], 0)]
    means = interventions.head_output_means(bridge, batches, classes)
    assert means.shape == (3, 2, 2, bridge.cfg.d_head)
    seen = {}
    capture = [("blocks.1.attn.hook_z", lambda z, hook: seen.setdefault(len(seen), interventions.as_heads(z, 2).clone()))]
    ids, mask = batches[0]
    kinds = classes[ids]
    with torch.inference_mode():
        bridge.run_with_hooks(ids, attention_mask=mask, fwd_hooks=capture)
        bridge.run_with_hooks(ids, attention_mask=mask,
                              fwd_hooks=interventions.ablation_hooks(means, [(1, 0)], classes) + capture)
        bridge.run_with_hooks(ids, attention_mask=mask,
                              fwd_hooks=interventions.ablation_hooks(means, [(1, 0)], classes, True) + capture)
    plain, ablated, everywhere = seen[0], seen[1], seen[2]
    assert torch.equal(ablated[:, :, 1], plain[:, :, 1])  # the other head of the layer is untouched
    for c in (node, other):
        at = kinds == c
        assert torch.allclose(ablated[at][:, 0], means[c, 1, 0].expand_as(ablated[at][:, 0]))
        real = mask.bool() & at  # each class's mean is the mean of that class's real tokens
        torch.testing.assert_close(plain[real][:, 0].mean(0), means[c, 1, 0], atol=1e-5, rtol=1e-4)
    start = kinds == special
    assert torch.equal(ablated[start][:, 0], plain[start][:, 0])  # <bos> and pads keep their own output
    assert torch.allclose(everywhere[start & mask.bool()][:, 0], means[special, 1, 0].expand(int((start & mask.bool()).sum()), -1))


def test_the_same_config_draws_the_same_random_heads_and_the_same_curve(bridge, monkeypatch):
    every = [(layer, head) for layer in range(2) for head in range(2)]
    assert runs.random_heads(every, 2, 0, seed=7) == runs.random_heads(every, 2, 0, seed=7)
    draws = {tuple(runs.random_heads(every, 2, d, seed=7)) for d in range(6)}
    assert len(draws) > 1  # the draws differ from each other
    assert runs.head_counts(4) == [1, 2, 4] and runs.head_counts(270)[-3:] == [128, 256, 270]
    assert runs.head_counts(270, [64, 1, "all", 16]) == [1, 16, 64, 270]
    with pytest.raises(ValueError, match=r"counts \[300\]: the model has 270 heads; accepted: 1..270 or all"):
        runs.head_counts(270, [300])
    scores = pd.DataFrame({"layer": [0, 0, 1, 1], "head": [0, 1, 0, 1], "parent_acc_child_to_parent": [0.1, 0.9, 0.5, 0.5],
                           "parent_acc_parent_to_child": [0.2, 0.0, 0.6, 0.5]})
    assert runs.ranked_heads(scores) == [(0, 1), (1, 0), (1, 1), (0, 0)]
    made = made_graphs()
    rendered = [{"graph_id": p.graph_id, "ordering": p.ordering, "text": p.text} for p in prompts.render_all(made, "arrow", 1, 0)]
    settings = {"format": "trained", "kinds": ["parents"], "shots": 0, "seed": 0, "max_prompts": 2, "batch_size": 4,
                "max_new_tokens": 3}
    asked = questions.build(made, rendered, settings, {"train": 0.5, "val": 0.25, "seed": 0})
    reference = questions.build(made, rendered, settings, {"train": 0.5, "val": 0.25, "seed": 0}, part="val")
    ablation = {"draws": 2, "seed": 3, "counts": None}
    real_answer, calls = runs.answer, []
    monkeypatch.setattr(runs, "answer", lambda *a, **kw: calls.append(1) or real_answer(*a, **kw))  # counts, then answers
    first = runs.ablation_curve(bridge, asked, reference, scores, settings, ablation)
    # one decoding per distinct set of heads: at n = 4 (every head) the top and both draws are one set
    head_sets = {frozenset(ablated.split()) for ablated in first["ablated"]}
    assert len(calls) == len(head_sets) <= len(first) - 2
    second = runs.ablation_curve(bridge, asked, reference, scores, settings, ablation)
    pd.testing.assert_frame_equal(first, second)
    assert first["heads"].tolist() == ["none"] + ["top", "random", "random"] * 3
    assert first["n_ablated"].tolist() == [0] + [1] * 3 + [2] * 3 + [4] * 3
    assert first.loc[1, "ablated"] == "L0H1"
    blind = questions.reference_answers(made, rendered, ["parents"], {"train": 0.5, "val": 0.25, "seed": 0})
    beside = runs.ablation_curve(bridge, asked, reference, scores, settings, ablation, blind)
    pd.testing.assert_frame_equal(beside.drop(columns=["graph_blind_accuracy", "graph_blind_f1"]), first)
    expected = answers.score(answers.graph_blind([q.question for q in asked], blind), [q.gold for q in asked])
    assert (beside["graph_blind_accuracy"] == expected["accuracy"]).all()
    # Beside exact answers, the same read from the logits: with nothing ablated, the plain scores.
    from graphattn.behaviour import candidates
    plain = candidates.by_kind(asked, candidates.candidate_logprobs(bridge, asked, 4, progress=False))["parents"]
    assert first.loc[0, "top_true"] == pytest.approx(plain["top_true"])
    assert first.loc[0, "logit_diff"] == pytest.approx(plain["logit_diff"], abs=1e-5)
    assert first["logit_diff"].nunique() > 1  # ablating heads moves the logits


def test_a_dump_under_g_one_is_the_plain_dump_and_a_lower_g_moves_node_matrices(bridge, toy_folder, tmp_path):
    from graphattn import datasets
    from graphattn.attention import dump_attention
    from graphattn.behaviour.sink_probes import dataset_under

    made = made_graphs()
    prompts.save(tmp_path / "p.jsonl", prompts.render_all(made, "arrow", 2, 0))
    split = {"train": 0.5, "val": 0.25, "seed": 0}
    dump_attention(str(tmp_path / "p.jsonl"), str(tmp_path / "d.npy"), str(tmp_path / "d.json"), toy_folder,
                   max_nodes=4, batch_size=5)
    plain = datasets.combine(str(tmp_path / "d.npy"), str(tmp_path / "d.json"), str(tmp_path / "p.jsonl"), made, 4, "all",
                             0.5, 0.25, 0)
    same = dataset_under(bridge, str(tmp_path / "p.jsonl"), made, 4, 5, split, 1.0, [0, 1], tmp_path)
    moved = dataset_under(bridge, str(tmp_path / "p.jsonl"), made, 4, 5, split, 0.3, [0, 1], tmp_path)
    np.testing.assert_array_equal(same["x"], plain["x"])
    assert np.abs(moved["x"] - plain["x"]).max() > 1e-2
    np.testing.assert_array_equal(moved["adj"], plain["adj"])


@pytest.mark.parametrize("architecture", ["llama", "qwen2", "gemma2"])
def test_cached_greedy_steps_equal_a_full_recomputation(architecture, tmp_path):
    # The seed's architectures (tiny random weights): each cached decoding step must give the
    # logits of the whole left-padded sequence run again, with and without a prompt-pass hook.
    import tiny_models
    from transformers import DynamicCache

    folder = tmp_path / architecture
    tiny_models.build(architecture, folder)
    model = load_bridge(str(folder))
    texts = ["A -> B. Parents of B:", "A -> B, B -> C, A -> C, C -> D. Children of A:"]
    ids, mask = decode.left_pad([decode.token_ids(model.tokenizer, t) for t in texts], decode.pad_id(model.tokenizer))
    for hooks in ([], interventions.sink_hooks(model.cfg.n_layers, 0.4, "all", mask)):
        cache, seq, seq_mask = DynamicCache(), ids, mask
        with torch.inference_mode(), model.hooks(fwd_hooks=hooks), decode.cache_kwarg_adapter(model):
            cached = model(ids, attention_mask=mask, return_type="logits", cache=cache, use_cache=True)[:, -1]
            for _ in range(3):
                full = model(seq, attention_mask=seq_mask, return_type="logits")[:, -1]
                torch.testing.assert_close(cached, full, atol=1e-4, rtol=1e-4)
                token = full.argmax(-1, keepdim=True)
                seq, seq_mask = torch.cat([seq, token], 1), torch.cat([seq_mask, torch.ones_like(token)], 1)
                cached = model(token, attention_mask=seq_mask, return_type="logits", cache=cache, use_cache=True)[:, -1]
        answers = decode.greedy_batch(model, ids, mask, 3, hooks)
        for row, answer in enumerate(answers):
            assert model.tokenizer.decode(seq[row, ids.shape[1]:], skip_special_tokens=True).startswith(answer)


def test_the_behaviour_table_puts_each_model_beside_its_control_with_both_curves_and_the_models_sweep():
    from graphattn.behaviour.tables import Answered, Swept, behaviour_table

    def summary(accuracy):
        return pd.DataFrame([{"kind": "parents", "n_questions": 10, "accuracy": accuracy, "f1": accuracy,
                              "unparseable": 0, "graph_blind_accuracy": 0.2, "graph_blind_f1": 0.2}])

    curve = pd.DataFrame({"kind": "parents", "n_ablated": [0, 1, 1, 1, 2, 2, 2, 4, 4, 4],
                          "heads": ["none"] + ["top", "random", "random"] * 3,
                          "accuracy": [0.9, 0.5, 0.7, 0.8, 0.3, 0.6, 0.4, 0.2, 0.2, 0.2]})
    sweep = pd.DataFrame({"g": [1.0, 0.5], "kind": "parents", "accuracy": [0.9, 0.95]})
    probed = pd.DataFrame({"g": [1.0, 1.0, 0.5, 0.5], "probe": "mlp", "seed": [0, 1, 0, 1], "f1": [0.8, 0.9, 0.7, 0.7]})
    runs_ = [dict(model="toy", graph_set="s", notation="arrow"), dict(model="toy-random", graph_set="s", notation="arrow")]
    control_curve = curve.assign(accuracy=[0.1, 0.1, 0.2, 0.0, 0.1, 0.1, 0.1, 0.0, 0.1, 0.1])
    # Both are ablated; only the model is sink-swept.
    table = behaviour_table([Answered(runs_[0], summary(0.9), curve), Answered(runs_[1], summary(0.1), control_curve)],
                            [Swept(runs_[0], sweep, probed)], {"toy": "toy-random"})
    toy = table.iloc[0]
    assert (toy["accuracy"], toy["control_accuracy"], toy["graph_blind_accuracy"]) == (0.9, 0.1, 0.2)
    assert pd.isna(table.iloc[1]["control_accuracy"])  # a control has no control
    assert (toy["n_mid"], toy["accuracy_top_mid"], toy["accuracy_random_mid"]) == (2, 0.3, 0.5)
    assert (toy["n_max"], toy["accuracy_top_max"]) == (4, 0.2)
    assert (toy["accuracy_g0.5"], toy["mlp_f1_g1"], toy["mlp_f1_g0.5"]) == (0.95, pytest.approx(0.85), 0.7)
    control = table.iloc[1]
    assert (control["n_mid"], control["accuracy_top_mid"], control["accuracy_random_mid"]) == (2, 0.1, 0.1)
    assert control[["accuracy_g0.5", "mlp_f1_g1"]].isna().all()

"""Answers read from the logits (graphattn.behaviour.candidates): candidate scoring through the
real TransformerBridge on tiny random-weight models built here, the per-question figures
against brute-force enumeration, the relabelled graph and the summary's intervals."""

import itertools

import numpy as np
import pandas as pd
import pytest
import torch

from graphattn import graphs, plots, prompts
from graphattn.behaviour import candidates, questions
from graphattn.behaviour.decode import logits_at
from graphattn.behaviour.questions import Question
from graphattn.models import load_bridge

from tiny_models import build as build_tiny


def question(text="A -> C, B -> C. Parents of C:", node="C", gold="AB", names="ABCD", kind="parents", graph_id=0):
    return Question(graph_id, 0, kind, node, text, f"{kind.title()} of {node}:", frozenset(gold), tuple(names))


def test_the_candidates_are_the_other_nodes_and_none_and_none_is_true_without_parents():
    q = question()
    assert candidates.candidates(q) == ["A", "B", "D", "none"]
    assert candidates.true_candidates(q) == {"A", "B"}
    assert candidates.true_candidates(question(node="A", gold="")) == {"none"}


def test_a_planted_answer_is_ranked_first_on_a_model_whose_output_is_fixed_by_hand(toy_bridge):
    """The unembedding's output is overwritten by a hook: every position's logits favour one
    token by 50. The scorer must rank that candidate first, with log-probability about 0."""
    tokenizer = toy_bridge.tokenizer
    planted = tokenizer(" B", add_special_tokens=False)["input_ids"][0]

    def fix(logits, hook):
        fixed = torch.zeros_like(logits)
        fixed[..., planted] = 50.0
        return fixed

    asked = [question(), question(node="D", gold="", text="A -> C, B -> C. Parents of D:")]
    scores = candidates.candidate_logprobs(toy_bridge, asked, batch_size=2, hooks=[("unembed.hook_out", fix)],
                                           progress=False)
    first = scores[0]
    assert candidates.candidates(asked[0])[int(np.argmax(first))] == "B"
    assert first[1] == pytest.approx(0.0, abs=1e-6)
    assert (np.delete(first, 1) < -40).all()
    rows = candidates.question_rows(asked, scores, scores, [("Parents of C:", frozenset("AB"))])
    model = rows[rows["reader"] == "model"].set_index("node")
    assert model.loc["C", "top_true"] == 1.0 and model.loc["C", "reciprocal_rank"] == 1.0
    assert model.loc["C", "logit_diff"] == pytest.approx(50.0, abs=1e-3)
    # D has no parents: B outscores the true answer (none), which ties with A and C for places 2 to 4.
    assert model.loc["D", "top_true"] == 0.0
    assert model.loc["D", "reciprocal_rank"] == pytest.approx((1 / 2 + 1 / 3 + 1 / 4) / 3)


@pytest.mark.parametrize("architecture", ["llama", "gemma2"])
def test_logits_at_gives_the_full_logits_of_the_positions_asked_for(tmp_path, architecture):
    """Only the rows read are unembedded (Gemma 2 adds its final soft-capping after the
    unembedding); one position per row or several, and inside run_with_hooks, as patching runs it."""
    bridge = load_bridge(str(build_tiny(architecture, tmp_path / architecture)))
    ids = torch.tensor([[1, 40, 41, 42, 43, 44], [1, 50, 51, 52, 53, 54]])
    with torch.inference_mode():
        full = bridge(ids, return_type="logits")
        last = torch.tensor([3, 5])
        with logits_at(bridge, last):
            one = bridge(ids, return_type="logits")
            hooked = bridge.run_with_hooks(ids, fwd_hooks=[])
        several = torch.tensor([[0, 2, 2], [1, 4, 5]])
        with logits_at(bridge, several):
            more = bridge(ids, return_type="logits")
        after = bridge(ids, return_type="logits")
    assert one.shape == (2, 1, full.shape[-1]) and more.shape == (2, 3, full.shape[-1])
    rows = torch.arange(2)
    torch.testing.assert_close(one[:, 0], full[rows, last], atol=1e-5, rtol=0)
    torch.testing.assert_close(hooked, one, atol=1e-5, rtol=0)
    torch.testing.assert_close(more, full[rows[:, None], several], atol=1e-5, rtol=0)
    torch.testing.assert_close(after, full, atol=1e-5, rtol=0)  # the hook is gone on leaving


def test_a_name_of_several_tokens_scores_the_sum_of_its_tokens_log_probabilities(tmp_path):
    """The byte-level tokenizer without merges writes "Bob" as three tokens; the scorer's sum
    must equal the log-probabilities read off one forward pass of the whole answer."""
    bridge = load_bridge(str(build_tiny("llama", tmp_path / "llama")))
    tokenizer = bridge.tokenizer
    asked = [question(text="Al -> Bob, Cy -> Bob. Parents of Bob:", node="Bob", gold=["Al", "Cy"],
                      names=("Al", "Bob", "Cy", "Dee")),
             question(text="Al -> Bob. Parents of Al:", node="Al", gold=[], names=("Al", "Bob"))]
    scores = candidates.candidate_logprobs(bridge, asked, batch_size=3, progress=False)
    for q, got in zip(asked, scores):
        prompt = tokenizer(q.text)["input_ids"]
        for cand, value in zip(candidates.candidates(q), got):
            tokens = tokenizer(" " + cand, add_special_tokens=False)["input_ids"]
            assert len(tokens) == len(cand) + 1  # the space and every letter: several tokens
            with torch.inference_mode():
                logits = bridge(torch.tensor([prompt + tokens]), return_type="logits")[0]
            logp = torch.log_softmax(logits.float(), -1)
            expected = sum(float(logp[len(prompt) - 1 + k, t]) for k, t in enumerate(tokens))
            assert value == pytest.approx(expected, abs=1e-4), cand


def brute_force(scores, is_true):
    """Top-true and reciprocal rank averaged over every order that sorts the scores (ties in
    every order), and the AUROC from every (true, false) pair."""
    tops, rrs = [], []
    for order in itertools.permutations(range(len(scores))):
        if all(scores[a] >= scores[b] for a, b in zip(order, order[1:])):
            ranks = [r for r, i in enumerate(order, 1) if is_true[i]]
            tops.append(ranks[0] == 1)
            rrs.append(1 / ranks[0])
    pairs = [(s, f) for s, t in zip(scores, is_true) if t for f, u in zip(scores, is_true) if not u]
    auroc = np.mean([1.0 if s > f else 0.5 if s == f else 0.0 for s, f in pairs]) if pairs else np.nan
    return np.mean(tops), np.mean(rrs), auroc


@pytest.mark.parametrize("scores,is_true", [
    ([3.0, 2.0, 1.0, 0.0], [False, True, False, True]),
    ([1.0, 1.0, 1.0, 1.0, 1.0], [False, True, False, True, False]),  # chance
    ([2.0, 2.0, 2.0, 1.0, 1.0], [False, False, False, True, True]),
    ([5.0, 1.0, 1.0, 1.0, 0.0], [False, False, True, False, True]),
    ([0.0, 0.0], [True, True]),
])
def test_rank_figures_with_ties_equal_the_average_over_every_tie_order(scores, is_true):
    scores, is_true = np.array(scores), np.array(is_true)
    got = candidates.rank_metrics(scores, is_true)
    top, rr, auroc = brute_force(scores, is_true)
    assert got["top_true"] == pytest.approx(top)
    assert got["reciprocal_rank"] == pytest.approx(rr)
    assert got["auroc"] == pytest.approx(auroc, nan_ok=True)


def test_the_graph_blind_reader_scores_a_candidate_by_how_often_it_answers_the_same_question():
    reference = [("Parents of C:", frozenset("A")), ("Parents of C:", frozenset("AB")), ("Parents of C:", frozenset()),
                 ("Parents of D:", frozenset("B"))]
    np.testing.assert_array_equal(candidates.blind_scores(question(), candidates.answers_by_text(reference)),
                                  [2, 1, 0, 1])  # A, B, D, none


def test_the_relabelled_graph_keeps_layout_and_names_and_changes_the_edges():
    made = graphs.generate(3, 6, 0.5, 20, seed=1, naming="letters")
    for graph in made:
        for notation in prompts.NOTATIONS:
            rendered = prompts.render(graph, notation, 0, np.random.default_rng(graph.id))
            p = {"graph_id": graph.id, "ordering": 0, "text": rendered.text,
                 "mentions": [vars(m) for m in rendered.mentions]}
            other = questions.relabelled(p, graph, seed=0)
            assert other == questions.relabelled(p, graph, seed=0)  # seeded
            # Same layout: the text without the names is unchanged, and every name is a node of the graph.
            skeleton = lambda text: "".join(c if not c.isupper() else "_" for c in text)  # noqa: E731
            assert skeleton(other) == skeleton(rendered.text)
            # The relabelled text's edges (read back from the arrow notation) are another edge set.
            if notation == "arrow":
                edges = {tuple(e.split(" -> ")) for e in other.split(", ")}
                assert edges != set(graphs.edge_set(graph))
                assert {n for e in edges for n in e} <= set(graph.nodes)


def test_questions_after_the_relabelled_graph_keep_their_own_gold_answers():
    made = graphs.generate(3, 4, 0.5, 12, seed=0, naming="letters")
    rendered = [{"graph_id": p.graph_id, "ordering": p.ordering, "text": p.text,
                 "mentions": [vars(m) for m in p.mentions]} for p in prompts.render_all(made, "arrow", 2, 0)]
    split = {"train": 0.5, "val": 0.25, "seed": 0}
    settings = {"format": "trained", "kinds": ["parents"], "shots": 0, "seed": 0, "max_prompts": None}
    plain = questions.build(made, rendered, settings, split)
    other = questions.build(made, rendered, settings, split, relabel_seed=3)
    assert [(q.graph_id, q.node, q.gold, q.question) for q in plain] == [(q.graph_id, q.node, q.gold, q.question)
                                                                         for q in other]
    assert all(a.text != b.text for a, b in zip(plain, other))


def test_the_summary_gives_means_over_questions_and_intervals_over_graphs_on_shared_draws():
    rng = np.random.default_rng(0)
    rows = pd.DataFrame([{"graph_id": g, "kind": "parents", "reader": reader, "top_true": float(rng.random() < p),
                          "reciprocal_rank": 1.0, "auroc": 0.5, "logit_diff": np.nan if reader == "chance" else 1.0}
                         for g in range(30) for _ in range(4) for reader, p in (("model", 0.9), ("chance", 0.3))])
    summary = candidates.summarise(rows, resamples=500, seed=0).set_index("reader")
    for reader in ("model", "chance"):
        row = summary.loc[reader]
        assert row["top_true"] == pytest.approx(rows[rows.reader == reader]["top_true"].mean())
        assert row["top_true_ci_low"] < row["top_true"] < row["top_true_ci_high"]
        assert row["n_graphs"] == 30 and row["n_questions"] == 120
    assert np.isnan(summary.loc["chance", "logit_diff"]) and summary.loc["model", "logit_diff"] == 1.0
    # The same seed gives the same intervals; another seed other ones.
    again = candidates.summarise(rows, resamples=500, seed=0).set_index("reader")
    assert again.loc["model", "top_true_ci_low"] == summary.loc["model", "top_true_ci_low"]


def test_the_logit_answer_figure_draws_a_bar_per_reader_and_metric_with_its_interval(tmp_path):
    def summary(shift):
        return pd.DataFrame([{"kind": k, "reader": r, **{m: v + shift for m in plots.LOGIT_METRICS},
                              **{f"{m}_ci_low": v + shift - 0.05 for m in plots.LOGIT_METRICS},
                              **{f"{m}_ci_high": v + shift + 0.05 for m in plots.LOGIT_METRICS}}
                             for k in ("parents", "children")
                             for r, v in (("model", 0.9), ("other_graph", 0.5), ("graph_blind", 0.4), ("chance", 0.3))])
    fig = plots.logit_answers(summary(0.0), summary(-0.2), tmp_path / "logits.png", "toy")
    assert (tmp_path / "logits.png").exists()
    ax = fig.axes[0]
    heights = sorted(round(p.get_height(), 3) for p in ax.patches)
    # 5 bars (model, other graph, control, graph-blind, chance) x 3 metrics.
    assert heights == sorted([0.9, 0.5, 0.7, 0.4, 0.3] * 3)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "model", "other graph, same nodes", "random-init control", "graph-blind reader", "chance"]

"""Activation patching (graphattn.behaviour.patching) on tiny random-weight models built here,
through the real TransformerBridge and transformer_lens.patching: the corrupted prompts, the
normalised metric's two ends, and the per-head maps against an independent hook computation."""


import numpy as np
import pandas as pd
import pytest
import torch

from graphattn import graphs, plots, prompts
from graphattn.behaviour import patching, questions
from graphattn.models import load_bridge

from tiny_models import build as build_tiny

SPLIT = {"train": 0.5, "val": 0.25, "seed": 0}


def rendered(made, notation):
    return [{"graph_id": p.graph_id, "ordering": p.ordering, "text": p.text, "mentions": [vars(m) for m in p.mentions]}
            for p in prompts.render_all(made, notation, 2, 0)]


def pairs_for(tokenizer, notation="arrow", fmt="trained", n_graphs=16):
    made = graphs.generate(3, 6, 0.5, n_graphs, seed=2, naming="letters")
    listed = rendered(made, notation)
    settings = {"format": fmt, "kinds": ["parents", "children"], "shots": 2, "seed": 0, "max_prompts": None}
    asked = questions.build(made, listed, settings, SPLIT, tokenizer)
    pairs, skipped = patching.make_pairs(asked, listed, {g.id: g.nodes for g in made}, notation, tokenizer, seed=0)
    return made, asked, pairs, skipped


def parents_in(text: str, node: str) -> set[str]:
    """The parents of ``node`` read back from an arrow-notation graph sentence."""
    graph = text.rsplit(". Parents of", 1)[0].rsplit("\n", 1)[-1]
    return {a for a, b in (edge.split(" -> ") for edge in graph.split(", ")) if b == node}


@pytest.mark.parametrize("notation,fmt", [("arrow", "trained"), ("arrow", "few_shot"), ("to", "trained"),
                                          ("parents", "trained")])
def test_a_corrupted_prompt_has_as_many_tokens_differs_only_at_one_name_and_changes_the_answer(toy_bridge, notation,
                                                                                              fmt):
    made, asked, pairs, skipped = pairs_for(toy_bridge.tokenizer, notation, fmt)
    with_parents = sum(1 for q in asked if q.kind == "parents" and q.gold)
    assert len(pairs) + skipped["no other node"] + skipped["tokens differ"] == with_parents
    assert skipped["tokens differ"] == 0 and len(pairs) >= with_parents // 2
    by_id = {g.id: g for g in made}
    for pair in pairs:
        assert len(pair.clean_ids) == len(pair.corrupt_ids)
        differ = [i for i, (a, b) in enumerate(zip(pair.clean_ids, pair.corrupt_ids)) if a != b]
        assert len(differ) == 1  # one letter, one token
        assert toy_bridge.tokenizer.decode([pair.clean_ids[differ[0]]]).strip() == pair.clean_answer
        assert toy_bridge.tokenizer.decode([pair.corrupt_ids[differ[0]]]).strip() == pair.corrupt_answer
        graph = by_id[pair.graph_id]
        gold = questions.related(graph, "parents", graph.nodes.index(pair.node))
        assert pair.clean_answer in gold and pair.corrupt_answer not in gold and pair.corrupt_answer != pair.node
        if notation == "arrow":
            clean, corrupt = parents_in(pair.clean_text, pair.node), parents_in(pair.corrupt_text, pair.node)
            assert clean == gold and corrupt == gold - {pair.clean_answer} | {pair.corrupt_answer}


def test_a_pair_is_left_out_when_its_answers_share_a_first_token_or_the_prompt_changes_length(tmp_path):
    """Byte-level BPE without merges writes every answer " Al", " Bob" from the same first token,
    the space: no logit difference can tell them apart, so no pair is made, and each is counted."""
    bridge = load_bridge(str(build_tiny("llama", tmp_path / "llama")))
    made = [graphs.Graph(0, ["Al", "Bob", "Cy"], [(0, 2)]), graphs.Graph(1, ["Al", "Bob", "Dee"], [(0, 2)])]
    listed = rendered(made, "arrow")
    asked = [questions.Question(p["graph_id"], p["ordering"], "parents", made[p["graph_id"]].nodes[2],
                                p["text"] + ". Parents of " + made[p["graph_id"]].nodes[2] + ":",
                                "", frozenset(["Al"]), tuple(made[p["graph_id"]].nodes)) for p in listed]
    pairs, skipped = patching.make_pairs(asked, listed, {g.id: g.nodes for g in made}, "arrow", bridge.tokenizer, 0)
    assert pairs == [] and skipped["no other node"] == len(asked)
    # A swap that changes the number of tokens, or changes tokens in two places, is refused.
    assert patching.changed_only_at([1, 2, 3], [1, 5, 3], allowed=1)
    assert not patching.changed_only_at([1, 2, 3], [1, 5, 6, 3], allowed=3)
    assert not patching.changed_only_at([1, 2, 3, 4], [7, 2, 3, 8], allowed=2)
    assert not patching.changed_only_at([1, 2, 3], [1, 2, 3], allowed=1)


def test_patching_nothing_gives_0_and_the_final_residual_stream_at_the_answer_gives_1(toy_bridge):
    _, _, pairs, _ = pairs_for(toy_bridge.tokenizer)
    pairs = pairs[:6]
    last = f"blocks.{toy_bridge.cfg.n_layers - 1}.hook_resid_post"
    clean_ld, corrupt_ld, patched = [], [], []
    for chunk, clean, corrupt, positions in patching.batches(pairs, 4, 0):
        metric = patching.logit_diff_metric(chunk, positions)
        _, cache = toy_bridge.run_with_cache(clean, names_filter=lambda name: name == last)
        rows = torch.arange(len(chunk))

        def final_resid(resid, hook, cache=cache, positions=positions, rows=rows):
            resid = resid.clone()
            resid[rows, positions] = cache[last][rows, positions]
            return resid

        clean_ld.append(patching.run_metric(toy_bridge, clean, metric))
        corrupt_ld.append(patching.run_metric(toy_bridge, corrupt, metric))
        patched.append(patching.run_metric(toy_bridge, corrupt, metric, [(last, final_resid)]))
    clean_ld, corrupt_ld, patched = (torch.cat(x).numpy() for x in (clean_ld, corrupt_ld, patched))
    assert np.abs(clean_ld - corrupt_ld).max() > 1e-3  # the random toy's answer does depend on the edge
    assert patching.normalised(corrupt_ld, clean_ld, corrupt_ld).mean() == pytest.approx(0.0, abs=1e-6)
    assert patching.normalised(patched, clean_ld, corrupt_ld).mean() == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(patched, clean_ld, atol=1e-5)


def independent_map(bridge, pairs, activation, direction):
    """Each head patched with the bridge's own hooks, written here without transformer_lens.patching."""
    n_layers, n_heads = bridge.cfg.n_layers, bridge.cfg.n_heads
    out = np.zeros((n_layers, n_heads, len(pairs)))
    done = 0
    for chunk, clean, corrupt, positions in patching.batches(pairs, 4, 0):
        metric = patching.logit_diff_metric(chunk, positions)
        source, target = (clean, corrupt) if direction == "denoising" else (corrupt, clean)
        hook_name = "hook_z" if activation == "out" else "hook_pattern"
        _, cache = bridge.run_with_cache(source, names_filter=lambda name: name.endswith(hook_name))
        for layer in range(n_layers):
            name = f"blocks.{layer}.attn.{hook_name}"
            for head in range(n_heads):
                def swap(act, hook, name=name, head=head):
                    act = act.clone()
                    if activation == "out":  # [batch, pos, head, d_head]
                        act[:, :, head] = cache[name][:, :, head]
                    else:  # [batch, head, q, k]
                        act[:, head] = cache[name][:, head]
                    return act
                out[layer, head, done:done + len(chunk)] = patching.run_metric(bridge, target, metric,
                                                                              [(name, swap)]).numpy()
        done += len(chunk)
    return out


@pytest.mark.parametrize("architecture", ["toy", "llama"])
def test_the_per_head_maps_equal_an_independent_hook_computation(toy_bridge, tmp_path, architecture):
    if architecture == "toy":
        bridge, tokenizer = toy_bridge, toy_bridge.tokenizer
        _, _, pairs, _ = pairs_for(tokenizer)
    else:  # a Llama with grouped-query attention (4 heads, 2 key/value heads); " A" is one token
        bridge = load_bridge(str(build_tiny("llama", tmp_path / "llama", letter_merges=True)))
        _, _, pairs, _ = pairs_for(bridge.tokenizer)
    pairs = pairs[:7]
    sweeps = patching.head_sweeps(bridge, pairs, batch_size=4, progress=False)
    assert sweeps["clean"].shape == (len(pairs),)
    for activation in patching.ACTIVATIONS:
        for direction in patching.DIRECTIONS:
            got = sweeps[activation, direction]
            assert got.shape == (bridge.cfg.n_layers, bridge.cfg.n_heads, len(pairs))
            np.testing.assert_allclose(got, independent_map(bridge, pairs, activation, direction), atol=1e-5)
    # Patching a head's output moves the metric somewhere: not every cell is the unpatched run's.
    assert np.abs(sweeps["out", "denoising"] - sweeps["corrupt"]).max() > 1e-4


def test_the_head_table_normalises_ranks_and_bootstraps_by_graph():
    """A hand-made sweep: 2 layers x 2 heads, 4 pairs on 2 graphs; clean LD 2, corrupted -2."""
    pairs = [patching.Pair(g, 0, "C", "", "", "A", "B", (), (), 0, 0) for g in (0, 0, 1, 1)]
    clean, corrupt = np.full(4, 2.0), np.full(4, -2.0)
    restored = np.array([[[2.0, 2.0, 2.0, 2.0], [-2.0, -2.0, -2.0, -2.0]],    # L0H0 all, L0H1 nothing
                         [[-2.0, -2.0, 2.0, 2.0], [-1.0, -1.0, -1.0, -1.0]]])  # L1H0 half (graph 1 only), L1H1 a quarter
    kept = 2.0 - (restored + 2.0)  # noising: what restoring gave, lost
    sweeps = {"clean": clean, "corrupt": corrupt, ("out", "denoising"): restored, ("out", "noising"): kept}
    table = patching.head_table(sweeps, pairs, resamples=400, seed=0)
    den = table[table["direction"] == "denoising"].set_index(["layer", "head"])
    assert den["normalised"].to_dict() == {(0, 0): 1.0, (0, 1): 0.0, (1, 0): 0.5, (1, 1): 0.25}
    assert den["rank"].to_dict() == {(0, 0): 1, (1, 0): 2, (1, 1): 3, (0, 1): 4}
    noi = table[table["direction"] == "noising"].set_index(["layer", "head"])
    assert noi["effect"].to_dict() == pytest.approx(den["effect"].to_dict())  # the mirror image: same effects
    # L1H0 restores all on graph 1 and nothing on graph 0: resampling graphs spans 0 to 1.
    assert den.loc[(1, 0), "ci_low"] == 0.0 and den.loc[(1, 0), "ci_high"] == 1.0
    assert den.loc[(0, 0), "ci_low"] == den.loc[(0, 0), "ci_high"] == 1.0
    assert (table["n_pairs"] == 4).all() and (table["n_graphs"] == 2).all()
    # A model without a clean-corrupted gap has no normalised metric, only raw logit differences.
    flat = patching.head_table({**sweeps, "clean": corrupt}, pairs, resamples=10, seed=0)
    assert flat["normalised"].isna().all() and flat["raw_mean"].notna().all()


def test_a_control_is_measured_in_its_models_gap_and_its_pairs_must_be_the_models():
    """A control's own gap (0.02 here) would blow its noise up 50-fold; its model's gap (4) puts
    it on the model's scale: a head that moves the control's LD by 0.4 carries 0.1 of the answer."""
    pairs = [patching.Pair(g, 0, "C", "", "", "A", "B", (5, 6), (5, 7), 0, 0) for g in (0, 0, 1, 1)]
    clean, corrupt = np.full(4, 0.01), np.full(4, -0.01)
    moved = corrupt + np.array([0.4, 0.0])[None, :, None] * np.ones((2, 2, 4))  # head 0 of each layer moves 0.4
    sweeps = {"clean": clean, "corrupt": corrupt, ("out", "denoising"): moved, ("out", "noising"): clean - (moved - corrupt)}
    own = patching.head_table(sweeps, pairs, resamples=10, seed=0)
    assert own.loc[own["head"] == 0, "effect"].to_numpy() == pytest.approx(20.0)
    reference = patching.pair_table(pairs, {"clean": np.full(4, 2.5), "corrupt": np.full(4, -1.5)})
    gap = patching.reference_gap(pairs, reference, "toy")
    assert gap == pytest.approx(4.0)
    scaled = patching.head_table(sweeps, pairs, resamples=10, seed=0, gap=gap).set_index(["direction", "layer", "head"])
    assert scaled["effect"].to_dict() == pytest.approx({(d, layer, head): 0.1 if head == 0 else 0.0
                                                        for d in patching.DIRECTIONS for layer in range(2)
                                                        for head in range(2)})
    assert (scaled["gap"] == 4.0).all() and own["gap"].to_numpy() == pytest.approx(0.02)
    with pytest.raises(ValueError, match="differ from toy's"):
        patching.reference_gap(pairs, reference.assign(node=["C", "C", "C", "D"]), "toy")
    with pytest.raises(ValueError, match="4 against 3 pairs"):
        patching.reference_gap(pairs, reference.iloc[:3], "toy")


def test_the_patching_figure_draws_a_map_per_activation_and_direction_and_frames_the_top_head(tmp_path):
    rows = [{"activation": a, "direction": d, "layer": layer, "head": head,
             "effect": 0.9 if (layer, head) == (1, 0) else 0.1 * head, "rank": 1 if (layer, head) == (1, 0) else 2}
            for a in patching.ACTIVATIONS for d in patching.DIRECTIONS for layer in range(2) for head in range(3)]
    fig = plots.patching_maps(pd.DataFrame(rows), tmp_path / "patching.png", "toy")
    maps = [ax for ax in fig.axes if ax.images]
    assert len(maps) == 4
    for ax in maps:
        grid = ax.images[0].get_array()
        assert grid.shape == (2, 3) and grid[1, 0] == pytest.approx(0.9)
        (frame,) = ax.patches
        assert frame.get_xy() == (-0.5, 0.5)  # head 0, layer 1
        assert ax.images[0].get_clim() == (-1.0, 1.0)
    # A control on its model's gap: effects of 1e-4 stay pale on the same scale, not stretched to it.
    faint = plots.patching_maps(pd.DataFrame(rows).assign(effect=lambda t: t["effect"] * 1e-4), tmp_path / "c.png", "c")
    assert {ax.images[0].get_clim() for ax in faint.axes if ax.images} == {(-1.0, 1.0)}


def test_attribution_patching_is_the_directional_derivative_of_exact_patching(toy_bridge):
    """Patching a fraction eps of the way from corrupted to clean changes the metric by eps times
    the attribution estimate, to first order: checked by finite differences for every head."""
    _, _, pairs, _ = pairs_for(toy_bridge.tokenizer)
    pairs = pairs[:4]
    approx = patching.attribution_sweeps(toy_bridge, pairs, batch_size=4, progress=False)
    exact = patching.head_sweeps(toy_bridge, pairs, batch_size=4, progress=False)
    np.testing.assert_allclose(approx["clean"], exact["clean"], atol=1e-4)
    np.testing.assert_allclose(approx["corrupt"], exact["corrupt"], atol=1e-4)
    eps = 1e-3
    (chunk, clean, corrupt, positions), = list(patching.batches(pairs, 4, 0))
    metric = patching.logit_diff_metric(chunk, positions)
    _, cache = toy_bridge.run_with_cache(clean, names_filter=lambda name: name.endswith("hook_z"))
    _, corrupt_cache = toy_bridge.run_with_cache(corrupt, names_filter=lambda name: name.endswith("hook_z"))
    base = patching.run_metric(toy_bridge, corrupt, metric).double().numpy()
    for layer in range(toy_bridge.cfg.n_layers):
        name = f"blocks.{layer}.attn.hook_z"
        for head in range(toy_bridge.cfg.n_heads):
            def nudge(z, hook, name=name, head=head):
                z = z.clone()
                z[:, :, head] = corrupt_cache[name][:, :, head] + eps * (cache[name][:, :, head] - corrupt_cache[name][:, :, head])
                return z
            moved = patching.run_metric(toy_bridge, corrupt, metric, [(name, nudge)]).double().numpy()
            slope = (moved - base) / eps
            estimate = approx["out", "denoising"][layer, head] - approx["corrupt"]
            np.testing.assert_allclose(slope, estimate, atol=2e-2 * max(1.0, np.abs(estimate).max()))


def test_with_both_methods_the_figures_read_exact_patching_and_the_log_compares_them():
    rows = [{"method": m, "activation": "out", "direction": "denoising", "layer": 0, "head": h,
             "effect": e} for m, effects in (("exact", [0.9, 0.1, 0.5]), ("attribution", [0.7, 0.2, 0.1]))
            for h, e in enumerate(effects)]
    table = pd.DataFrame(rows)
    assert set(patching.primary(table)["method"]) == {"exact"}
    assert patching.method_agreement(table) == {("out", "denoising"): pytest.approx(0.5)}
    alone = table[table["method"] == "attribution"]
    assert patching.primary(alone).equals(alone) and patching.method_agreement(alone) == {}


def test_exact_patching_of_a_sample_of_heads_equals_the_full_sweep_there_and_checks_attribution(toy_bridge):
    _, _, pairs, _ = pairs_for(toy_bridge.tokenizer)
    pairs = pairs[:5]
    sample = patching.sample_heads(2, 2, 3, seed=0)
    assert len(sample) == 3 and sample == patching.sample_heads(2, 2, 3, seed=0)
    assert patching.sample_heads(2, 2, 4, seed=0) is None and patching.sample_heads(2, 2, None, seed=0) is None
    full = patching.head_sweeps(toy_bridge, pairs, 4, progress=False)
    part = patching.head_sweeps(toy_bridge, pairs, 4, progress=False, heads=sample)
    for key in [(a, d) for a in patching.ACTIVATIONS for d in patching.DIRECTIONS]:
        for layer, head in sample:
            np.testing.assert_allclose(part[key][layer, head], full[key][layer, head], atol=1e-6)
        left_out = [(layer, head) for layer in range(2) for head in range(2) if (layer, head) not in sample]
        assert all(np.isnan(part[key][layer, head]).all() for layer, head in left_out)
    attribution = patching.attribution_sweeps(toy_bridge, pairs, 4, progress=False)
    table = pd.concat([patching.head_table(part, pairs, 50, 0).assign(method="exact"),
                       patching.head_table(attribution, pairs, 50, 0).assign(method="attribution")])
    assert table.loc[table["method"] == "exact", "rank"].isna().sum() == 4  # 1 head x 2 activations x 2 directions
    assert set(patching.primary(table)["method"]) == {"attribution"}  # the sample only checks it
    assert set(patching.method_agreement(table)) == {(a, d) for a in patching.ACTIVATIONS for d in patching.DIRECTIONS}


def test_with_both_methods_exact_patching_covers_the_sample_and_attributions_top_heads(toy_bridge):
    _, _, pairs, _ = pairs_for(toy_bridge.tokenizer)
    pairs = pairs[:5]
    patch = {"method": "both", "exact_sample": 2, "exact_top": 1, "seed": 0, "activations": ["out", "pattern"]}
    intervals = {"resamples": 20, "seed": 0}
    table, sweeps, chosen = patching.patch_table(toy_bridge, pairs, 4, patch, intervals, progress=False)
    assert chosen["sample"] == patching.sample_heads(2, 2, 2, seed=0)
    attribution = table[table["method"] == "attribution"]
    first = attribution[attribution["rank"] == 1]
    assert chosen["top"] == sorted(set(zip(first["layer"], first["head"])))
    exact = table[table["method"] == "exact"]
    measured = set(zip(exact.loc[exact["effect"].notna(), "layer"], exact.loc[exact["effect"].notna(), "head"]))
    assert measured == set(chosen["sample"]) | set(chosen["top"])
    assert set(zip(table.loc[table["sampled"], "layer"], table.loc[table["sampled"], "head"])) == set(chosen["sample"])
    # The rank correlation is read over the random sample only (two heads: +1 or -1), not the chosen top heads.
    agreement = patching.method_agreement(table, chosen["sample"])
    assert set(np.round(np.abs(list(agreement.values())), 6)) <= {1.0}
    np.testing.assert_allclose(sweeps["exact"]["clean"], sweeps["attribution"]["clean"], atol=1e-4)
    only_sample, _, chosen = patching.patch_table(toy_bridge, pairs, 4, {**patch, "exact_top": 0}, intervals,
                                                  progress=False)
    exact = only_sample[only_sample["method"] == "exact"]
    assert chosen["top"] == [] and set(zip(exact.loc[exact["effect"].notna(), "layer"],
                                           exact.loc[exact["effect"].notna(), "head"])) == set(chosen["sample"])
    alone, sweeps, chosen = patching.patch_table(toy_bridge, pairs, 4, {**patch, "method": "exact"}, intervals,
                                                 progress=False)
    assert set(alone["method"]) == {"exact"} and chosen["sample"] is None and alone["effect"].notna().all()

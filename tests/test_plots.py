"""Figures: each is a real PNG, written whole (no temporary file left behind)."""

import numpy as np
import pandas as pd
import pytest

from graphattn import heads, plots

PNG = b"\x89PNG\r\n\x1a\n"


def written_png(folder, name):
    path = folder / name
    assert path.read_bytes()[:8] == PNG
    assert [p.name for p in folder.iterdir()] == [name]  # no temporary file left
    return path


@pytest.mark.parametrize("n_layers, n_heads", [(3, 4), (17, 20)])  # annotated and too large to annotate
def test_plot_heatmaps_writes_a_png(tmp_path, n_layers, n_heads):
    rng = np.random.default_rng(0)
    channel = np.arange(n_layers * n_heads)
    table = {"layer": channel // n_heads, "head": channel % n_heads}
    table.update({f"parent_acc_{d}": rng.random(len(channel)) for d in heads.DIRECTIONS})
    plots.head_heatmaps(pd.DataFrame(table), tmp_path / "heads.png", "m / g / arrow")
    written_png(tmp_path, "heads.png")


def test_f1_bars_draw_one_panel_per_dataset(tmp_path):
    rows = [dict(graph_set="g", notation=n, selection="all", k=k, relation="parent", probe=p, f1_mean=0.5, f1_std=0.1)
            for n in ("arrow", "to") for k in ("none", "3") for p in ("mlp", "gcn", "best_head")]
    plots.f1_bars(pd.DataFrame(rows), tmp_path / "f1.png", "m")
    written_png(tmp_path, "f1.png")


def baseline_rows(graph_sets=("g",)):
    """Ablation-table rows of a model and its control, two relations, a position baseline."""
    return pd.DataFrame([
        dict(model=m, graph_set=g, relation=r, probe=p, f1_mean=0.8, f1_std=0.05,
             control_f1_mean=0.6 if m == "m" else float("nan"), position_f1_mean=0.7)
        for m in ("m", "m-random") for g in graph_sets for r in ("parent", "sibling")
        for p in ("mlp", "best_head", "position")])


def test_selectivity_draws_each_model_and_relation_but_not_the_controls(tmp_path):
    rows = baseline_rows().sort_values("relation", ascending=False)
    titles = plots.selectivity(rows, {"m": "m-random"}, "position", tmp_path / "s.png", "t")
    assert titles == ["m / parent", "m / sibling"]  # in the order of graphattn.relations, not the table's
    written_png(tmp_path, "s.png")


def test_f1_by_size_draws_a_line_per_probe_with_its_baselines(tmp_path):
    rows = baseline_rows(("n4", "n8", "n12"))
    panels = plots.f1_by_size(rows, {"n4": 4, "n8": 8, "n12": 12}, {"m": "m-random"}, "position", tmp_path / "f.png", "t")
    assert list(panels) == ["m / parent (dashed: control)", "m / sibling (dashed: control)"]
    # Each probe and its control (the dashed line has no label of its own), then the position baseline.
    assert [label for label in panels["m / parent (dashed: control)"] if not label.startswith("_")] == [
        "mlp", "best_head", "position"]
    written_png(tmp_path, "f.png")


def test_training_curves_and_toy_history(tmp_path):
    history = pd.DataFrame({"epoch": [1, 2, 3], "val_f1": [0.2, 0.5, 0.6]})
    plots.training_curves({"mlp: g/arrow/all/knone": history, "gcn: g/arrow/all/knone": history},
                          tmp_path / "curves.png", "m")
    written_png(tmp_path, "curves.png")
    (tmp_path / "curves.png").unlink()
    plots.toy_history(pd.DataFrame({"step": [100, 200], "loss": [1.0, 0.5], "val_accuracy": [0.3, 0.7]}),
                      tmp_path / "toy.png")
    written_png(tmp_path, "toy.png")


def layer_head_table(n_layers, n_heads, columns, rng):
    channel = np.arange(n_layers * n_heads)
    return pd.DataFrame({"layer": channel // n_heads, "head": channel % n_heads,
                         **{c: rng.random(len(channel)) for c in columns}})


def test_role_and_attention_metric_plots(tmp_path):
    from graphattn.roles import TAG_SCORES

    rng = np.random.default_rng(0)
    plots.role_heatmaps(layer_head_table(3, 4, TAG_SCORES, rng), list(TAG_SCORES), tmp_path / "roles.png", "m")
    written_png(tmp_path, "roles.png").unlink()
    metrics = layer_head_table(3, 4, ["entropy", "span", "first_token_mass", "head_diversity"], rng)
    a, b = np.meshgrid(range(3), range(3), indexing="ij")
    similarity = pd.DataFrame({"layer_a": a.ravel(), "layer_b": b.ravel(), "js_similarity": rng.random(9)})
    plots.attention_metric_plots(metrics, similarity, tmp_path / "metrics.png", "m")
    written_png(tmp_path, "metrics.png")


@pytest.mark.parametrize("step_99", [200, None])
def test_toy_dynamics_and_ablation_plots(tmp_path, step_99):
    rng = np.random.default_rng(0)
    scores = pd.concat([layer_head_table(2, 2, ["parent-finder", "child-finder", "arrow-to-source", "sink"], rng)
                        .assign(step=step) for step in (0, 100, 200)])
    plots.toy_dynamics(scores, step_99, tmp_path / "dynamics.png")
    written_png(tmp_path, "dynamics.png").unlink()
    table = pd.DataFrame({"ablated": ["none", "L0H0", "L0H1", "all", "graph_blind"],
                          "layer": [None, 0, 0, None, None], "head": [None, 0, 1, None, None],
                          "accuracy": [0.8, 0.7, 0.3, 0.3, 0.25], "tags": ["", "sink", "parent-finder self", "", ""]})
    table["drop"] = 0.8 - table["accuracy"]
    plots.toy_ablation(table, tmp_path / "ablation.png")
    written_png(tmp_path, "ablation.png")

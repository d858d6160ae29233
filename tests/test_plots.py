"""Figures: each is a real PNG, written whole (no temporary file left behind), and draws what its
table says: the tests read the returned Figure's bars, error bars, lines and heatmap cells back
and compare them with the hand-made table they were drawn from."""

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.container import BarContainer, ErrorbarContainer

from graphattn import heads, plots

PNG = b"\x89PNG\r\n\x1a\n"


def written_png(folder, name):
    path = folder / name
    assert path.read_bytes()[:8] == PNG
    assert [p.name for p in folder.iterdir()] == [name]  # no temporary file left
    return path


# What a figure draws, read back from its artists.

def bar_containers(ax):
    return [c for c in ax.containers if isinstance(c, BarContainer)]


def bar_heights(container):
    return [patch.get_height() for patch in container]


def bar_centres(container):
    return [patch.get_x() + patch.get_width() / 2 for patch in container]


def error_bars(ax):
    """(x, low, high, colour) of every vertical error bar of the axes."""
    found = []
    for container in ax.containers:
        if isinstance(container, ErrorbarContainer):
            (segments,) = container.lines[2]  # the vertical bars' LineCollection
            colours = segments.get_colors()
            for n, ((x0, y0), (x1, y1)) in enumerate(segments.get_segments()):
                assert x0 == x1
                found.append((x0, min(y0, y1), max(y0, y1), to_hex(colours[n % len(colours)])))
    return found


def labelled_lines(ax):
    """label -> (xdata, ydata) of the lines that have a label of their own (not error bar caps)."""
    return {line.get_label(): (floats(line.get_xdata()), floats(line.get_ydata()))
            for line in ax.get_lines() if not line.get_label().startswith("_")}


def unlabelled_lines(ax):
    return [floats(line.get_ydata()) for line in ax.get_lines()
            if line.get_label().startswith("_child")]  # not the caps of error bars ("_nolegend_")


def panels_by_title(fig):
    return {ax.get_title(): ax for ax in fig.axes if ax.get_title()}


def floats(values):
    return [float(v) for v in np.asarray(values, dtype=float).ravel()]


def level(values):
    """The one value of a horizontal line's points."""
    (value,) = set(floats(values))
    return value


def approx(values):
    return pytest.approx(list(values), nan_ok=True, abs=1e-9)


def same_intervals(found, expected):
    """The error bars found equal the expected (x, low, high, colour) ones, in any order."""
    key = lambda bar: (round(bar[0], 6), round(bar[1], 6), round(bar[2], 6), bar[3])  # noqa: E731
    assert sorted(map(key, found)) == sorted(map(key, expected))


BLACK = to_hex("black")


# Heatmaps: every cell holds the table's value.

@pytest.mark.parametrize("n_layers, n_heads", [(3, 4), (17, 20)])  # annotated and too large to annotate
def test_head_heatmaps_draw_the_table_cell_by_cell(tmp_path, n_layers, n_heads):
    rng = np.random.default_rng(0)
    channel = np.arange(n_layers * n_heads)
    table = {"layer": channel // n_heads, "head": channel % n_heads}
    table.update({f"parent_acc_{d}": rng.random(len(channel)) for d in heads.DIRECTIONS})
    table = pd.DataFrame(table).sample(frac=1, random_state=0)  # rows in any order
    fig = plots.head_heatmaps(table, tmp_path / "heads.png", "m / g / arrow")
    written_png(tmp_path, "heads.png")
    panels = panels_by_title(fig)
    assert sorted(panels) == sorted(d.replace("_", " ") for d in heads.DIRECTIONS)
    for direction in heads.DIRECTIONS:
        ax = panels[direction.replace("_", " ")]
        (mesh,) = ax.collections
        grid = table.pivot(index="layer", columns="head", values=f"parent_acc_{direction}").sort_index()
        assert np.asarray(mesh.get_array()).reshape(n_layers, n_heads) == pytest.approx(grid.to_numpy())
        annotated = n_layers <= 16 and n_heads <= 16
        assert [t.get_text() for t in ax.texts] == ([f"{v:.2f}" for v in grid.to_numpy().ravel()] if annotated else [])


def layer_head_table(n_layers, n_heads, columns, rng):
    channel = np.arange(n_layers * n_heads)
    return pd.DataFrame({"layer": channel // n_heads, "head": channel % n_heads,
                         **{c: rng.random(len(channel)) for c in columns}})


def image_of(ax):
    (image,) = ax.images
    return np.asarray(image.get_array())


def test_role_and_attention_metric_plots_draw_the_tables(tmp_path):
    from graphattn.roles import TAG_SCORES

    rng = np.random.default_rng(0)
    scores = layer_head_table(3, 4, TAG_SCORES, rng)
    fig = plots.role_heatmaps(scores, list(TAG_SCORES), tmp_path / "roles.png", "m")
    written_png(tmp_path, "roles.png").unlink()
    panels = panels_by_title(fig)
    assert sorted(panels) == sorted(TAG_SCORES)
    for tag in TAG_SCORES:
        assert image_of(panels[tag]) == pytest.approx(scores.pivot(index="layer", columns="head", values=tag).to_numpy())

    metrics = layer_head_table(3, 4, ["entropy", "span", "first_token_mass", "head_diversity"], rng)
    metrics["head_diversity"] = metrics["layer"].map({0: 0.1, 1: 0.5, 2: 0.3})  # one value per layer
    a, b = np.meshgrid(range(3), range(3), indexing="ij")
    similarity = pd.DataFrame({"layer_a": a.ravel(), "layer_b": b.ravel(), "js_similarity": rng.random(9)})
    fig = plots.attention_metric_plots(metrics, similarity, tmp_path / "metrics.png", "m")
    written_png(tmp_path, "metrics.png")
    panels = panels_by_title(fig)
    for title, column in [("entropy (nats)", "entropy"), ("effective span (tokens)", "span"),
                          ("first-token mass", "first_token_mass")]:
        assert image_of(panels[title]) == pytest.approx(metrics.pivot(index="layer", columns="head", values=column).to_numpy())
    (diversity,) = bar_containers(panels["head diversity"])
    assert [patch.get_width() for patch in diversity] == pytest.approx([0.1, 0.5, 0.3])  # layers 0, 1, 2
    grid = similarity.pivot(index="layer_a", columns="layer_b", values="js_similarity").to_numpy()
    assert image_of(panels["layer similarity (1 - JS)"]) == pytest.approx(grid)


# The figures of the ablation table: bars at f1_mean, error bars spanning the interval over graphs.

F1_PROBES, F1_KS = ("mlp", "gcn", "position"), ("none", "3")


def f1_table():
    """Rows of one model: two notations x k x probe, each its own F1 and an asymmetric interval;
    the position row of ("to", k 3) without an interval, the gcn row of ("arrow", k 3) missing."""
    rows = []
    for a, notation in enumerate(("arrow", "to")):
        for b, k in enumerate(F1_KS):
            for c, probe in enumerate(F1_PROBES):
                if (notation, k, probe) == ("arrow", "3", "gcn"):
                    continue
                mean = 0.3 + 0.2 * a + 0.1 * b + 0.05 * c
                low, high = (np.nan, np.nan) if (notation, k, probe) == ("to", "3", "position") else (mean - 0.08 + 0.01 * c, mean + 0.03)
                rows.append(dict(model="m", graph_set="g", notation=notation, selection="all", k=k, relation="parent",
                                 probe=probe, f1_mean=mean, f1_std=0.01, f1_ci_low=low, f1_ci_high=high))
    return pd.DataFrame(rows)


def test_f1_bars_draw_f1_mean_with_the_interval_over_graphs(tmp_path):
    table = f1_table()
    fig = plots.f1_bars(table, tmp_path / "f1.png", "m")
    written_png(tmp_path, "f1.png")
    panels = panels_by_title(fig)
    assert sorted(panels) == ["g / arrow / all / parent", "g / to / all / parent"]
    for notation in ("arrow", "to"):
        ax = panels[f"g / {notation} / all / parent"]
        mine = table[table["notation"] == notation].set_index(["probe", "k"])
        expected = []
        # One group of bars per k (none first), one bar per probe in the table's order.
        assert [c.get_label() for c in bar_containers(ax)] == [f"k={k}" for k in F1_KS]
        for k, container in zip(F1_KS, bar_containers(ax)):
            means = [mine["f1_mean"].get((p, k), np.nan) for p in F1_PROBES]
            assert bar_heights(container) == approx(means)
            for x, p in zip(bar_centres(container), F1_PROBES):
                if (p, k) in mine.index and np.isfinite(mine.loc[(p, k), "f1_ci_low"]):
                    expected.append((x, mine.loc[(p, k), "f1_ci_low"], mine.loc[(p, k), "f1_ci_high"], BLACK))
        same_intervals(error_bars(ax), expected)
    # A missing row draws no bar and a row without an interval no error bar: 5 and 5 of 6.
    assert len(error_bars(panels["g / arrow / all / parent"])) == len(error_bars(panels["g / to / all / parent"])) == 5


def test_an_interval_need_not_contain_the_mean(tmp_path):
    # A percentile bootstrap interval may miss the seed mean: drawn as it is, not refused.
    table = f1_table().iloc[:1].assign(f1_mean=0.9, f1_ci_low=0.5, f1_ci_high=0.8)
    ax = plots.f1_bars(table, tmp_path / "f1.png", "m").axes[0]
    assert [bar[1:3] for bar in error_bars(ax)] == [(0.5, 0.8)]


def test_a_table_without_intervals_draws_bars_alone(tmp_path):
    table = f1_table().drop(columns=["f1_ci_low", "f1_ci_high"])
    fig = plots.f1_bars(table, tmp_path / "f1.png", "m")
    assert all(bar_containers(ax) and not error_bars(ax) for ax in panels_by_title(fig).values())


def baseline_rows(graph_sets=("g",)):
    """Ablation-table rows of a model and its control, two relations, a position baseline; every
    row its own F1 and interval, the control's F1 on the model's rows, the position baseline's on all."""
    rows = []
    for m, model in enumerate(("m", "m-random")):
        for g, graph_set in enumerate(graph_sets):
            for r, relation in enumerate(("parent", "sibling")):
                position = 0.5 + 0.1 * g + 0.02 * r
                for p, probe in enumerate(("mlp", "best_head", "position")):
                    trained = 0.6 + 0.1 * g + 0.05 * r + 0.04 * p
                    mean = position if probe == "position" else trained - 0.2 * m
                    rows.append(dict(model=model, graph_set=graph_set, relation=relation, probe=probe, f1_mean=mean,
                                     f1_std=0.05, f1_ci_low=mean - 0.1 + 0.01 * p, f1_ci_high=mean + 0.04,
                                     control_f1_mean=(mean - 0.2 if probe != "position" else position) if m == 0 else np.nan,
                                     position_f1_mean=position))
    return pd.DataFrame(rows)


def test_selectivity_draws_each_probe_beside_both_baselines_with_intervals(tmp_path):
    table = baseline_rows()
    table.loc[(table.model == "m") & (table.relation == "sibling") & (table.probe == "mlp"), "f1_ci_low"] = np.nan
    rows = table.sort_values("relation", ascending=False)
    fig = plots.selectivity(rows, {"m": "m-random"}, "position", tmp_path / "s.png", "t")
    written_png(tmp_path, "s.png")
    # In the order of graphattn.relations, not the table's; no panel of the control.
    assert [ax.get_title() for ax in fig.axes] == ["m / parent", "m / sibling"]
    for ax in fig.axes:
        relation = ax.get_title().split(" / ")[1]
        mine = table[(table.model == "m") & (table.relation == relation)].set_index("probe")
        probes = ["mlp", "best_head"]  # the position baseline's own row is a line, not a bar
        (bars,) = bar_containers(ax)
        assert bar_heights(bars) == approx(mine.loc[probes, "f1_mean"])
        same_intervals(error_bars(ax), [(x, mine.loc[p, "f1_ci_low"], mine.loc[p, "f1_ci_high"], BLACK)
                                        for x, p in zip(bar_centres(bars), probes) if mine.loc[p].notna()["f1_ci_low"]])
        (ticks,) = [c for c in ax.collections if c.get_label() == "random-init control"]
        assert floats(np.ma.getdata(ticks.get_offsets())[:, 1]) == approx(mine.loc[probes, "control_f1_mean"])
        (line,) = [line for line in ax.get_lines() if line.get_label() == "position baseline"]
        assert level(line.get_ydata()) == pytest.approx(mine.loc["position", "f1_mean"])
        (band,) = [patch for patch in ax.patches if patch.get_gid() == "position interval"]
        assert (band.get_y(), band.get_y() + band.get_height()) == approx(mine.loc["position", ["f1_ci_low", "f1_ci_high"]])
    assert len(error_bars(fig.axes[1])) == 1  # sibling's mlp row has no interval


def test_f1_by_size_draws_a_line_per_probe_with_intervals_and_its_baselines(tmp_path):
    sizes = {"n4": 4, "n8": 8, "n12": 12}
    table = baseline_rows(tuple(sizes))
    fig = plots.f1_by_size(table, sizes, {"m": "m-random"}, "position", tmp_path / "f.png", "t")
    written_png(tmp_path, "f.png")
    panels = panels_by_title(fig)
    assert list(panels) == ["m / parent (dashed: control)", "m / sibling (dashed: control)"]
    for relation in ("parent", "sibling"):
        ax = panels[f"m / {relation} (dashed: control)"]
        mine = table[(table.model == "m") & (table.relation == relation)].assign(nodes=lambda t: t.graph_set.map(sizes))
        mine = mine.sort_values("nodes")
        lines = labelled_lines(ax)
        # Each probe (its control dashed, without a label of its own), then the position baseline.
        assert list(lines) == ["mlp", "best_head", "position"]
        expected = []
        for i, probe in enumerate(["mlp", "best_head", "position"]):
            rows = mine[mine.probe == probe]
            assert lines[probe][0] == approx(rows["nodes"]) and lines[probe][1] == approx(rows["f1_mean"])
            colour = to_hex("grey") if probe == "position" else to_hex(f"C{i}")
            expected += [(n, lo, hi, colour) for n, lo, hi in zip(rows["nodes"], rows["f1_ci_low"], rows["f1_ci_high"])]
        same_intervals(error_bars(ax), expected)
        controls = unlabelled_lines(ax)
        assert [list(c) for c in controls] == [approx(mine[mine.probe == p]["control_f1_mean"]) for p in ("mlp", "best_head")]


def test_training_curves_and_toy_history_draw_their_series(tmp_path):
    first = pd.DataFrame({"epoch": [1, 2, 3], "val_f1": [0.2, 0.5, 0.6]})
    second = pd.DataFrame({"epoch": [1, 2], "val_f1": [0.3, 0.4]})
    fig = plots.training_curves({"mlp: g/arrow/all/knone": first, "gcn: g/arrow/all/knone": second,
                                 "mlp: g/arrow/all/k3": second}, tmp_path / "curves.png", "m")
    written_png(tmp_path, "curves.png").unlink()
    panels = panels_by_title(fig)
    assert sorted(panels) == ["gcn", "mlp"]
    mlp = labelled_lines(panels["mlp"])
    assert list(mlp) == ["g/arrow/all/knone", "g/arrow/all/k3"]
    assert list(mlp["g/arrow/all/knone"][1]) == [0.2, 0.5, 0.6] and list(mlp["g/arrow/all/k3"][0]) == [1, 2]
    assert list(labelled_lines(panels["gcn"])["g/arrow/all/knone"][1]) == [0.3, 0.4]

    history = pd.DataFrame({"step": [100, 200], "loss": [1.0, 0.5], "val_accuracy": [0.3, 0.7]})
    fig = plots.toy_history(history, tmp_path / "toy.png")
    written_png(tmp_path, "toy.png")
    loss_ax, acc_ax = fig.axes
    assert [list(line.get_ydata()) for line in loss_ax.get_lines()] == [[1.0, 0.5]]
    assert [list(line.get_ydata()) for line in acc_ax.get_lines()] == [[0.3, 0.7]]


@pytest.mark.parametrize("step_99", [200, None])
def test_toy_dynamics_and_ablation_plots_draw_their_tables(tmp_path, step_99):
    tags = ("parent-finder", "child-finder", "arrow-to-source", "sink")
    rng = np.random.default_rng(0)
    scores = pd.concat([layer_head_table(2, 2, tags, rng).assign(step=step) for step in (0, 100, 200)])
    fig = plots.toy_dynamics(scores, step_99, tmp_path / "dynamics.png")
    written_png(tmp_path, "dynamics.png").unlink()
    panels = panels_by_title(fig)
    assert list(panels) == list(tags)
    for tag in tags:
        lines = labelled_lines(panels[tag])
        marks = [line for line in panels[tag].get_lines() if line.get_label().startswith("_")]
        assert list(lines) == ["L0H0", "L0H1", "L1H0", "L1H1"]
        for name, (x, y) in lines.items():
            head = scores[(scores["layer"] == int(name[1])) & (scores["head"] == int(name[3]))]
            assert list(x) == [0, 100, 200] and y == approx(head[tag])
        assert [list(line.get_xdata()) for line in marks] == ([[200, 200]] if step_99 else [])

    table = pd.DataFrame({"ablated": ["none", "L0H0", "L0H1", "all", "graph_blind"],
                          "layer": [None, 0, 0, None, None], "head": [None, 0, 1, None, None],
                          "accuracy": [0.8, 0.7, 0.3, 0.3, 0.25], "tags": ["", "sink", "parent-finder self", "", ""]})
    table["drop"] = 0.8 - table["accuracy"]
    ax = plots.toy_ablation(table, tmp_path / "ablation.png").axes[0]
    written_png(tmp_path, "ablation.png")
    (bars,) = bar_containers(ax)
    assert bar_heights(bars) == approx([0.1, 0.5])  # one bar per head, its drop
    references = labelled_lines(ax)
    assert level(references["all heads at once"][1]) == pytest.approx(0.5)
    assert level(references["down to the graph-blind answer"][1]) == pytest.approx(0.55)


def test_ablation_curve_draws_top_heads_random_draws_and_references(tmp_path):
    rows = []
    for kind, offset in (("parents", 0.0), ("children", 0.1)):
        rows.append(dict(kind=kind, n_ablated=0, heads="none", draw=None, accuracy=0.9 - offset))
        for n, top, draws in ((1, 0.6, (0.85, 0.75)), (2, 0.3, (0.7, 0.5))):
            rows.append(dict(kind=kind, n_ablated=n, heads="top", draw=None, accuracy=top - offset))
            rows += [dict(kind=kind, n_ablated=n, heads="random", draw=d, accuracy=a - offset) for d, a in enumerate(draws)]
    curve = pd.DataFrame(rows).assign(graph_blind_accuracy=lambda t: t["kind"].map({"parents": 0.2, "children": 0.15}))
    fig = plots.ablation_curve(curve, tmp_path / "curve.png", "t")
    written_png(tmp_path, "curve.png")
    panels = panels_by_title(fig)
    assert list(panels) == ["parents questions", "children questions"]
    for kind, offset, blind in (("parents", 0.0, 0.2), ("children", 0.1, 0.15)):
        lines = labelled_lines(panels[f"{kind} questions"])
        assert list(lines["top-ranked heads"][0]) == [1, 2]
        assert lines["top-ranked heads"][1] == approx([0.6 - offset, 0.3 - offset])
        assert lines["random heads (mean)"][1] == approx([0.8 - offset, 0.6 - offset])
        assert level(lines["nothing ablated"][1]) == pytest.approx(0.9 - offset)
        assert level(lines["graph-blind reader"][1]) == pytest.approx(blind)
        (band,) = [c for c in panels[f"{kind} questions"].collections if c.get_label() == "random heads (range)"]
        y = band.get_paths()[0].vertices[:, 1]
        assert (y.min(), y.max()) == pytest.approx((0.5 - offset, 0.85 - offset))  # the draws' range
    # Read from the logits too: a row of panels per metric the curve has, without the graph-blind line.
    logits = curve.assign(top_true=curve["accuracy"] / 2, logit_diff=curve["accuracy"] * 10 - 5)
    panels = panels_by_title(plots.ablation_curve(logits, tmp_path / "logits.png", "t"))
    assert len(panels) == 6
    lines = labelled_lines(panels["children: top candidate true (logits)"])
    assert lines["top-ranked heads"][1] == approx([0.25, 0.1])
    assert "graph-blind reader" not in lines
    lines = labelled_lines(panels["parents: logit difference"])
    assert lines["random heads (mean)"][1] == approx([3.0, 1.0])
    assert level(lines["nothing ablated"][1]) == pytest.approx(4.0)


def test_sink_sweep_draws_accuracy_and_probe_f1_against_g(tmp_path):
    table = pd.DataFrame([dict(graph_set="g", notation="arrow", kind=kind, model=model, g=g,
                               accuracy=round(base - 0.3 * (1 - g), 3))
                          for kind, base in (("parents", 0.9), ("children", 0.8)) for model in ("toy",)
                          for g in (1.0, 0.5, 0.2)])
    probed = pd.DataFrame([dict(graph_set="g", notation="arrow", model="toy", probe="best_head", g=g, seed=s,
                                f1=0.7 * g + 0.1 * s) for g in (0.5, 1.0) for s in (0, 1)])
    fig = plots.sink_sweep(table, probed, tmp_path / "sink.png")
    written_png(tmp_path, "sink.png")
    top_row = panels_by_title(fig)
    assert list(top_row) == ["g / arrow / parents", "g / arrow / children"]
    for kind, ax in zip(("parents", "children"), top_row.values()):
        line = table[table.kind == kind].sort_values("g")
        (x, y), = labelled_lines(ax).values()
        assert list(x) == list(line["g"]) and y == approx(line["accuracy"])
    bottom = [ax for ax in fig.axes if ax.get_ylabel() == "probe test F1 under g"]
    for ax in bottom:  # each column draws the probe's seed-mean F1 of its graph set and notation
        (x, y), = labelled_lines(ax).values()
        assert list(x) == [0.5, 1.0] and y == approx([0.35 + 0.05, 0.7 + 0.05])


def test_layer_f1_draws_a_line_per_probe_and_its_control(tmp_path):
    table = pd.DataFrame([dict(model=model, graph_set="g", notation="arrow", probe=probe, layer=layer,
                               f1=0.5 + 0.1 * layer - 0.3 * (model == "m-random") + 0.05 * (probe == "mlp"))
                          for model in ("m", "m-random") for probe in ("best_head", "mlp") for layer in range(3)])
    fig = plots.layer_f1(table, {"m": "m-random"}, tmp_path / "layers.png")
    written_png(tmp_path, "layers.png")
    (ax,) = fig.axes
    assert ax.get_title() == "m / g / arrow"
    lines = labelled_lines(ax)
    assert list(lines) == ["best_head", "best_head (control)", "mlp", "mlp (control)"]
    for label, (x, y) in lines.items():
        probe, model = label.split(" ")[0], "m-random" if "control" in label else "m"
        rows = table[(table.model == model) & (table.probe == probe)]
        assert list(x) == [0, 1, 2] and y == approx(rows["f1"])

"""Figures for the report, drawn on matplotlib Figures with their own Agg canvas
(no pyplot state, no display) and written under a temporary name, then renamed.

matplotlib and seaborn are imported inside the functions: they take seconds, which
the modules that import this one (and their jobs) need not pay.

Every plot function returns the Figure it wrote, so that a test can read what is drawn.
The figures of the ablation table draw each row's 95% interval over test graphs
(``f1_ci_low``, ``f1_ci_high``) as its error bar.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .atomic import atomic_path
from .heads import DIRECTIONS
from .relations import RELATIONS
from .tables import probe_rows


def new_figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save(fig, path):
    """Write the figure (format from the path's suffix) and return it, so that a caller (a test)
    can read what is drawn."""
    with atomic_path(path) as tmp:  # the temporary name keeps the suffix, so the format is inferred from it
        fig.savefig(tmp, dpi=120)
    return fig


def interval_columns(rows: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The rows' 95% interval over test graphs (``f1_ci_low``, ``f1_ci_high``; NaN where missing)."""
    missing = pd.Series(float("nan"), index=rows.index)
    return rows.get("f1_ci_low", missing), rows.get("f1_ci_high", missing)


def interval_bars(ax, x, low, high, color="black") -> None:
    """An error bar from ``low`` to ``high`` at each ``x``; none where either end is missing.

    Drawn about the interval's midpoint: the segments span [low, high] exactly, as
    ``yerr=[mean - low, high - mean]`` would, but a percentile bootstrap interval that does
    not contain the mean (it need not) is drawn as it is instead of refused by matplotlib.
    """
    import numpy as np

    x, low, high = (np.asarray(values, dtype=float) for values in (x, low, high))
    keep = np.isfinite(x) & np.isfinite(low) & np.isfinite(high)
    if keep.any():
        ax.errorbar(x[keep], (low[keep] + high[keep]) / 2, yerr=(high[keep] - low[keep]) / 2, fmt="none",
                    ecolor=color, elinewidth=1, capsize=2, zorder=4)


def head_heatmaps(table: pd.DataFrame, path, title: str):
    """Layer x head heatmaps of parent accuracy, one panel per direction."""
    import seaborn as sns

    n_layers, n_heads = table["layer"].nunique(), table["head"].nunique()
    annotate = n_layers <= 16 and n_heads <= 16  # numbers stay readable only on small grids
    panel = (max(3.5, 0.45 * n_heads + 1.5), max(2.5, 0.35 * n_layers + 1.2))
    fig = new_figure(2 * panel[0], panel[1])
    axes = fig.subplots(1, len(DIRECTIONS))
    for ax, direction in zip(axes, DIRECTIONS):
        grid = table.pivot(index="layer", columns="head", values=f"parent_acc_{direction}")
        sns.heatmap(grid, ax=ax, vmin=0, vmax=1, cmap="viridis", annot=annotate, fmt=".2f",
                    annot_kws={"fontsize": 7}, cbar=ax is axes[-1], cbar_kws={"label": "parent accuracy"})
        ax.set_title(direction.replace("_", " "))
    fig.suptitle(title)
    return save(fig, path)


def f1_bars(table: pd.DataFrame, path, title: str):
    """Test F1 by probe (bars grouped by k, the 95% interval over test graphs as error bars),
    one panel per graph set x notation x selection x relation of the table's rows."""
    panels = list(table.groupby(["graph_set", "notation", "selection", "relation"], sort=True))
    probes = list(dict.fromkeys(table["probe"]))  # config order
    ks = sorted(table["k"].astype(str).unique(), key=lambda k: (k != "none", k))
    width = 0.8 / len(ks)
    fig = new_figure(max(6.0, 0.7 * len(probes) + 2), 2.6 * len(panels))
    axes = fig.subplots(len(panels), 1, squeeze=False)[:, 0]
    for ax, ((graph_set, notation, selection, relation), rows) in zip(axes, panels):
        rows = rows.set_index(["probe", rows["k"].astype(str)])
        low, high = interval_columns(rows)
        for n, k in enumerate(ks):
            x = [i + (n - (len(ks) - 1) / 2) * width for i in range(len(probes))]
            ax.bar(x, [rows["f1_mean"].get((p, k), float("nan")) for p in probes], width, color=f"C{n}", label=f"k={k}")
            interval_bars(ax, x, [low.get((p, k), float("nan")) for p in probes],
                          [high.get((p, k), float("nan")) for p in probes])
        ax.set_xticks(range(len(probes)), probes, rotation=30, ha="right")
        ax.set_ylim(0, 1)
        ax.set_ylabel("test F1")
        ax.set_title(f"{graph_set} / {notation} / {selection} / {relation}", fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(title)
    return save(fig, path)


def training_curves(histories: dict[str, pd.DataFrame], path, title: str):
    """Validation F1 per epoch, one panel per probe, one line per dataset (label "probe: dataset")."""
    by_probe: dict[str, list[tuple[str, pd.DataFrame]]] = {}
    for label, history in histories.items():
        probe, _, dataset = label.partition(": ")
        by_probe.setdefault(probe, []).append((dataset, history))
    fig, axes = _panels(len(by_probe))
    for ax, (probe, curves) in zip(axes, by_probe.items()):
        for dataset, history in curves:
            ax.plot(history["epoch"], history["val_f1"], label=dataset, linewidth=1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("epoch")
        ax.set_ylabel("validation F1")
        ax.set_title(probe, fontsize=9)
        ax.legend(fontsize=6)
    fig.suptitle(title)
    return save(fig, path)


def toy_history(history: pd.DataFrame, path):
    """The toy model's training loss and validation answer accuracy over steps."""
    return save(_history_figure(history, "toy model training"), path)


def finetune_history(history: pd.DataFrame, metrics: dict, name: str, path):
    """A taught model's training loss and validation parent accuracy over steps (step 0: the base
    model, before any update), its held-out accuracies in the title."""
    title = (f"{name} ({metrics['method']}): held-out parents {metrics['heldout_accuracy']:.2f}, "
             f"children {metrics['heldout_accuracy_children']:.2f} after {metrics['steps']} steps "
             f"({metrics['train_seconds'] / 60:.0f} min)")
    return save(_history_figure(history, title), path)


def _history_figure(history: pd.DataFrame, title: str):
    fig = new_figure(6.0, 3.0)
    loss_ax = fig.subplots()
    loss_ax.plot(history["step"], history["loss"], color="tab:gray", linewidth=1)
    loss_ax.set_xlabel("step")
    loss_ax.set_ylabel("training loss (answer tokens)")
    acc_ax = loss_ax.twinx()
    acc_ax.plot(history["step"], history["val_accuracy"], color="tab:blue")
    acc_ax.set_ylim(0, 1)
    acc_ax.set_ylabel("validation parent accuracy", color="tab:blue")
    fig.suptitle(title, fontsize=9)
    return fig


def _heatmap(ax, grid: pd.DataFrame, title: str, vmax: float | None = None) -> None:
    """A plain imshow heatmap with a colour bar (seaborn's costs seconds per panel)."""
    image = ax.imshow(grid.to_numpy(), vmin=0, vmax=vmax, cmap="viridis", aspect="auto", interpolation="nearest")
    ax.figure.colorbar(image, ax=ax)
    ax.set_xticks(range(grid.shape[1]), grid.columns, fontsize=7)
    ax.set_yticks(range(grid.shape[0]), grid.index, fontsize=7)
    ax.set_xlabel(grid.columns.name)
    ax.set_ylabel(grid.index.name)
    ax.set_title(title, fontsize=9)


def _layer_head_grid(ax, table: pd.DataFrame, column: str, title: str, vmax: float | None = None) -> None:
    _heatmap(ax, table.pivot(index="layer", columns="head", values=column), title, vmax)


def _panels(n_panels: int, cols: int = 3, size: tuple[float, float] = (4.0, 3.2)):
    """A figure of n_panels axes, up to ``cols`` to a row (the spare ones hidden), flattened."""
    cols = min(cols, n_panels)
    rows = -(-n_panels // cols)
    fig = new_figure(size[0] * cols, size[1] * rows)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[n_panels:]:
        ax.set_axis_off()
    return fig, axes


def _grid_figure(n_panels: int, table: pd.DataFrame, cols: int = 4):
    n_layers, n_heads = table["layer"].nunique(), table["head"].nunique()
    return _panels(n_panels, cols, (max(3.0, 0.3 * n_heads + 1.5), max(2.2, 0.25 * n_layers + 1.2)))


def role_heatmaps(scores: pd.DataFrame, tags: list[str], path, title: str):
    """One layer x head heatmap per role tag: the score behind the tag (0 to 1)."""
    fig, axes = _grid_figure(len(tags), scores)
    for ax, tag in zip(axes, tags):
        _layer_head_grid(ax, scores, tag, tag, vmax=1)
    fig.suptitle(title)
    return save(fig, path)


def attention_metric_plots(heads: pd.DataFrame, similarity: pd.DataFrame, path, title: str):
    """Entropy, effective span and first-token mass per layer x head; head diversity per
    layer; Jensen-Shannon similarity between layers."""
    fig, axes = _grid_figure(5, heads, cols=3)
    _layer_head_grid(axes[0], heads, "entropy", "entropy (nats)")
    _layer_head_grid(axes[1], heads, "span", "effective span (tokens)")
    _layer_head_grid(axes[2], heads, "first_token_mass", "first-token mass", vmax=1)
    diversity = heads.groupby("layer")["head_diversity"].first()
    axes[3].barh(diversity.index, diversity.to_numpy())
    axes[3].invert_yaxis()
    axes[3].set_xlim(0, 1)
    axes[3].set_xlabel("mean JS divergence between heads")
    axes[3].set_ylabel("layer")
    axes[3].set_title("head diversity", fontsize=9)
    grid = similarity.pivot(index="layer_a", columns="layer_b", values="js_similarity")
    _heatmap(axes[4], grid, "layer similarity (1 - JS)", vmax=1)
    fig.suptitle(title)
    return save(fig, path)


def toy_ablation(table: pd.DataFrame, path):
    """Accuracy drop per mean-ablated head, labelled with its role tags; all heads and the
    graph-blind answer as reference lines."""
    heads = table.dropna(subset=["layer"])
    reference = table.set_index("ablated")["accuracy"]
    fig = new_figure(max(6.0, 0.5 * len(heads) + 2), 4.0)
    ax = fig.subplots()
    ax.bar(range(len(heads)), heads["drop"])
    labels = [f"{name}\n{tags}".replace(" ", "\n") for name, tags in zip(heads["ablated"], heads["tags"])]
    ax.set_xticks(range(len(heads)), labels, fontsize=6)
    ax.axhline(reference["none"] - reference["all"], color="tab:red", linestyle="--", label="all heads at once")
    ax.axhline(reference["none"] - reference["graph_blind"], color="tab:gray", linestyle=":",
               label="down to the graph-blind answer")
    ax.set_ylabel("validation accuracy drop")
    ax.legend(fontsize=7)
    ax.set_title(f"toy model: mean-attention ablation (unablated accuracy {reference['none']:.3f})", fontsize=9)
    return save(fig, path)


def toy_dynamics(scores: pd.DataFrame, step_99: int | None, path,
                 tags: tuple[str, ...] = ("parent-finder", "child-finder", "arrow-to-source", "sink")) -> None:
    """Role scores of every toy head over training, one panel per tag, the step at which
    validation accuracy first reached 99% marked (if it did)."""
    fig = new_figure(3.6 * len(tags), 3.2)
    axes = fig.subplots(1, len(tags), squeeze=False)[0]
    for ax, tag in zip(axes, tags):
        for (layer, head), rows in scores.groupby(["layer", "head"]):
            ax.plot(rows["step"], rows[tag], linewidth=1, label=f"L{layer}H{head}")
        if step_99 is not None:
            ax.axvline(step_99, color="black", linestyle="--", linewidth=1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("step")
        ax.set_title(tag, fontsize=9)
    axes[0].set_ylabel("score (share of attention)")
    axes[-1].legend(fontsize=6, ncol=2)
    reached = f"99% validation accuracy at step {step_99}" if step_99 is not None else "99% validation accuracy not reached"
    fig.suptitle(f"toy model: head roles over training ({reached})")
    return save(fig, path)


ABLATION_METRICS = {  # curve column -> axis label; a row of panels for each the curve has
    "accuracy": "exact-match accuracy",
    "top_true": "top candidate true (logits)",
    "logit_diff": "logit difference",  # best true minus best false candidate
}


def ablation_curve(curve: pd.DataFrame, path, title: str):
    """Each metric against the number of heads mean-ablated: the top-ranked heads, and the mean of
    the random draws with their range; a column per kind of question, a row per metric (exact
    answers, then those read from the logits where the curve has them). The graph-blind reader
    is drawn where it has the metric (exact answers)."""
    kinds = list(dict.fromkeys(curve["kind"]))
    metrics = [m for m in ABLATION_METRICS if m in curve]
    fig = new_figure(4.2 * len(kinds), 3.2 * len(metrics))
    grid = fig.subplots(len(metrics), len(kinds), squeeze=False)
    for row, metric in zip(grid, metrics):
        for ax, kind in zip(row, kinds):
            rows = curve[(curve["kind"] == kind) & (curve["n_ablated"] > 0)]
            none = curve[(curve["kind"] == kind) & (curve["heads"] == "none")][metric].mean()
            top = rows[rows["heads"] == "top"].sort_values("n_ablated")
            rand = rows[rows["heads"] == "random"].groupby("n_ablated")[metric].agg(["mean", "min", "max"])
            ax.plot(top["n_ablated"], top[metric], "o-", label="top-ranked heads")
            ax.plot(rand.index, rand["mean"], "s--", label="random heads (mean)")
            ax.fill_between(rand.index, rand["min"], rand["max"], alpha=0.2, label="random heads (range)")
            ax.axhline(none, color="grey", lw=0.8, ls=":", label="nothing ablated")
            if metric == "accuracy" and "graph_blind_accuracy" in curve:
                blind = curve.loc[curve["kind"] == kind, "graph_blind_accuracy"].iloc[0]
                ax.axhline(blind, color="black", lw=0.8, ls="-.", label="graph-blind reader")
            ax.set_xscale("log", base=2)
            if metric != "logit_diff":
                ax.set_ylim(-0.02, 1.02)
            ax.set_xlabel("heads mean-ablated")
            ax.set_ylabel(ABLATION_METRICS[metric])
            ax.set_title(f"{kind} questions" if metric == "accuracy" else f"{kind}: {ABLATION_METRICS[metric]}")
    grid[0][0].legend(fontsize=7)
    fig.suptitle(title)
    return save(fig, path)


LOGIT_METRICS = {"top_true": "top candidate true", "reciprocal_rank": "reciprocal rank", "auroc": "AUROC"}


def logit_answers(summary: pd.DataFrame, control: pd.DataFrame | None, path, title: str):
    """Answers read from the logits: per kind of question (a panel each) and metric (a group of
    bars), the model on its graph, on another graph on the same nodes, its random-init control,
    the graph-blind reader and chance, each with its 95% interval over graphs."""
    import numpy as np

    bars = [("model", summary, "model"), ("other_graph", summary, "other graph, same nodes")]
    if control is not None:
        bars.append(("model", control, "random-init control"))
    bars += [("graph_blind", summary, "graph-blind reader"), ("chance", summary, "chance")]
    kinds = list(dict.fromkeys(summary["kind"]))
    fig = new_figure(4.8 * len(kinds), 3.7)
    axes = fig.subplots(1, len(kinds), squeeze=False)[0]
    width = 0.8 / len(bars)
    for ax, kind in zip(axes, kinds):
        for i, (reader, table, label) in enumerate(bars):
            row = table[(table["kind"] == kind) & (table["reader"] == reader)].iloc[0]
            x = np.arange(len(LOGIT_METRICS)) + (i - (len(bars) - 1) / 2) * width
            ax.bar(x, [row[m] for m in LOGIT_METRICS], width, label=label)
            interval_bars(ax, x, [row[f"{m}_ci_low"] for m in LOGIT_METRICS],
                          [row[f"{m}_ci_high"] for m in LOGIT_METRICS])
        ax.set_xticks(np.arange(len(LOGIT_METRICS)), list(LOGIT_METRICS.values()))
        ax.set_ylim(0, 1.05)
        ax.set_title(f"{kind} questions")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=len(bars), fontsize=7)
    fig.suptitle(title)
    return save(fig, path)


PATCH_TITLES = {("out", "denoising"): "head output, clean into corrupted:\nshare of the answer restored",
                ("out", "noising"): "head output, corrupted into clean:\nshare of the answer lost",
                ("pattern", "denoising"): "head pattern, clean into corrupted:\nshare restored",
                ("pattern", "noising"): "head pattern, corrupted into clean:\nshare lost"}


def _patch_panels(table: pd.DataFrame) -> list[tuple[str, str]]:
    """The (activation, direction) maps a patching table has, in PATCH_TITLES' order."""
    return [key for key in PATCH_TITLES if ((table["activation"] == key[0]) & (table["direction"] == key[1])).any()]


def patching_maps(table: pd.DataFrame, path, title: str):
    """Each head's patching effect (layer x head), a panel per activation and direction, on one
    diverging scale centred on 0 that reaches at least 1 (the whole clean-corrupted gap), so a
    control's map on its model's gap stays as pale as its effects are; the head of rank 1 framed."""
    import numpy as np
    from matplotlib.patches import Rectangle

    panels = _patch_panels(table)
    fig, axes = _grid_figure(len(panels), table, cols=2)
    limit = max(float(np.nanmax(np.abs(table["effect"]))), 1.0) if table["effect"].notna().any() else 1.0
    for ax, (activation, direction) in zip(axes, panels):
        rows = table[(table["activation"] == activation) & (table["direction"] == direction)]
        grid = rows.pivot(index="layer", columns="head", values="effect")
        image = ax.imshow(grid.to_numpy(), vmin=-limit, vmax=limit, cmap="RdBu_r", aspect="auto",
                          interpolation="nearest")
        fig.colorbar(image, ax=ax, label="share of the gap")
        ax.set_xticks(range(grid.shape[1]), grid.columns, fontsize=7)
        ax.set_yticks(range(grid.shape[0]), grid.index, fontsize=7)
        ax.set_xlabel("head")
        ax.set_ylabel("layer")
        ax.set_title(PATCH_TITLES[activation, direction], fontsize=8)
        top = rows[rows["rank"] == 1]
        if len(top) and np.isfinite(top["effect"].iloc[0]):
            layer, head = int(top["layer"].iloc[0]), int(top["head"].iloc[0])
            ax.add_patch(Rectangle((head - 0.5, layer - 0.5), 1, 1, fill=False, edgecolor="black", lw=1.5))
    fig.suptitle(title, fontsize=9)
    return save(fig, path)


ROLE_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">")


def encoding_use(table: pd.DataFrame, stats: pd.DataFrame, path, title: str):
    """Encoding (parent accuracy read alone, training and validation graphs) against use (the
    patching effect of the head's output, then of its pattern; each direction a panel): a point per
    head, coloured by layer, its role tag as the marker; in each panel title Spearman's rho and
    where the best encoder ranks by use, its point labelled."""
    panels = _patch_panels(table)
    fig, axes = _panels(len(panels), 2, (4.6, 3.8))
    roles = sorted(table["role"].dropna().unique()) if "role" in table else []
    n_layers = int(table["layer"].max()) + 1
    for ax, (activation, direction) in zip(axes, panels):
        part = table[(table["activation"] == activation) & (table["direction"] == direction)]
        groups = [(role, part[part["role"] == role]) for role in roles] if roles else [(None, part)]
        for i, (role, group) in enumerate(groups):
            points = ax.scatter(group["parent_acc"], group["effect"], c=group["layer"], cmap="viridis", vmin=0,
                                vmax=max(n_layers - 1, 1), marker=ROLE_MARKERS[i % len(ROLE_MARKERS)], s=28,
                                edgecolors="black", linewidths=0.3, label=role)
        bar = fig.colorbar(points, ax=ax, label="layer")
        if n_layers <= 12:
            bar.set_ticks(range(n_layers))
        stat = stats[(stats["activation"] == activation) & (stats["direction"] == direction)
                     & (stats["encoding"] == "parent_acc")]
        rho = ""
        if len(stat):
            best = stat.iloc[0]
            rho = (f"Spearman {best['spearman']:.2f}; best encoder {best['best_encoder']} "
                   f"rank {best['best_encoder_rank']} of {best['n_heads']}")
            if pd.notna(best["best_encoder_effect"]):
                ax.annotate(best["best_encoder"], (part["parent_acc"].max(), best["best_encoder_effect"]),
                            xytext=(-14, 12), textcoords="offset points", ha="right", fontsize=7,
                            arrowprops={"arrowstyle": "-", "lw": 0.5})
        ax.axhline(0, color="grey", lw=0.6)
        ax.set_xlabel("encoding: parent accuracy read alone")
        ax.set_ylabel(f"use: patching effect of the head's {'output' if activation == 'out' else 'pattern'}")
        ax.set_title(f"{activation}, {direction}\n({rho})", fontsize=8)
        if roles:
            ax.legend(fontsize=6, title="role", title_fontsize=6)
    fig.suptitle(title, fontsize=9)
    return save(fig, path)


def sink_sweep(table: pd.DataFrame, probed: pd.DataFrame, path):
    """Against g (the share of attention the sink keeps): the answers' exact-match accuracy (top
    row, one line per model) and each probe's test F1 on the dump taken under g (bottom row, mean
    over seeds); one column per graph set x notation x kind."""
    panels = list(table.groupby(["graph_set", "notation", "kind"], sort=False))
    fig = new_figure(4.0 * len(panels), 6.2)
    axes = fig.subplots(2, len(panels), squeeze=False)
    for column, ((graph_set, notation, kind), rows) in enumerate(panels):
        top, bottom = axes[0, column], axes[1, column]
        for model, line in rows.groupby("model", sort=False):
            line = line.sort_values("g")
            top.plot(line["g"], line["accuracy"], "o-", label=model)
        top.set_ylabel("exact-match accuracy")
        top.set_title(f"{graph_set} / {notation} / {kind}", fontsize=9)
        if len(probed):
            mine = probed[(probed["graph_set"] == graph_set) & (probed["notation"] == notation)]
            for (model, probe), line in mine.groupby(["model", "probe"], sort=False):
                line = line.groupby("g")["f1"].mean()
                bottom.plot(line.index, line.values, "o-" if probe == "mlp" else "s--", label=f"{model} {probe}")
        bottom.set_ylabel("probe test F1 under g")
        for ax in (top, bottom):
            ax.set_xlabel("g (the sink keeps g x its attention)")
            ax.set_ylim(-0.02, 1.02)
            ax.legend(fontsize=6)
    return save(fig, path)


def layer_f1(table: pd.DataFrame, controls: dict[str, str], path):
    """Test F1 by layer, one panel per model (that is not a control) x graph set x notation,
    a line per probe, the control's dashed beside it."""
    from matplotlib.ticker import MaxNLocator

    is_control = set(controls.values())
    panels = [(key, rows) for key, rows in table.groupby(["model", "graph_set", "notation"], sort=False)
              if key[0] not in is_control]
    fig = new_figure(3.6 * len(panels), 3.2)
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, ((model, graph_set, notation), rows) in zip(axes, panels):
        control = table[(table["model"] == controls.get(model)) & (table["graph_set"] == graph_set)
                        & (table["notation"] == notation)]
        for i, (probe, line) in enumerate(rows.groupby("probe", sort=False)):
            colour = f"C{i}"
            ax.plot(line["layer"], line["f1"], "o-", color=colour, label=probe)
            theirs = control[control["probe"] == probe]
            if len(theirs):
                ax.plot(theirs["layer"], theirs["f1"], "x--", color=colour, alpha=0.7, label=f"{probe} (control)")
        ax.set_ylim(-0.02, 1.02)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("layer")
        ax.set_ylabel("test F1")
        ax.set_title(f"{model} / {graph_set} / {notation}", fontsize=9)
    axes[0].legend(fontsize=7)
    return save(fig, path)


def selectivity(table: pd.DataFrame, controls: dict[str, str], position_probe: str | None, path,
                title: str):
    """One panel per model (column) x relation (row): each probe's test F1 as a bar (its 95%
    interval over test graphs as error bar), the same probe on the random-init control as a black
    tick, the position baseline as a dashed line (its interval, where its rows are in the table,
    as a grey band). Returns the Figure."""
    rows = probe_rows(table, controls, position_probe)
    models = list(dict.fromkeys(rows["model"]))
    relations = [r for r in RELATIONS if r in set(table["relation"])]  # parent first
    probes = list(dict.fromkeys(rows["probe"]))
    fig = new_figure(max(4.0, (0.45 * len(probes) + 1.2) * len(models)), 2.6 * len(relations))
    axes = fig.subplots(len(relations), len(models), squeeze=False, sharey=True)
    for r, relation in enumerate(relations):
        for m, model in enumerate(models):
            ax, mine = axes[r, m], rows[(rows["model"] == model) & (rows["relation"] == relation)].set_index("probe")
            f1 = [mine["f1_mean"].get(p, float("nan")) for p in probes]
            ax.bar(range(len(probes)), f1, 0.7, color=[f"C{i}" for i in range(len(probes))])
            low, high = interval_columns(mine)
            interval_bars(ax, range(len(probes)), [low.get(p, float("nan")) for p in probes],
                          [high.get(p, float("nan")) for p in probes])
            control = [mine["control_f1_mean"].get(p, float("nan")) for p in probes]
            ax.scatter(range(len(probes)), control, marker="_", s=300, color="black", zorder=3,
                       label="random-init control")
            position = mine["position_f1_mean"].dropna()
            if len(position):
                ax.axhline(position.iloc[0], color="grey", linestyle="--", linewidth=1, label="position baseline")
            band = position_rows(table, position_probe, model=model, relation=relation)
            if len(band) and band[["f1_ci_low", "f1_ci_high"]].notna().all(axis=1).iloc[0]:
                ax.axhspan(band["f1_ci_low"].iloc[0], band["f1_ci_high"].iloc[0], color="grey", alpha=0.15,
                           linewidth=0, gid="position interval")
            ax.set_xticks(range(len(probes)), probes, rotation=40, ha="right", fontsize=7)
            ax.set_ylim(0, 1.05)
            ax.set_title(f"{model} / {relation}", fontsize=9)
        axes[r, 0].set_ylabel("test F1")
    axes[0, 0].legend(fontsize=7, loc="lower left")
    fig.suptitle(title, fontsize=10)
    return save(fig, path)


def position_rows(table: pd.DataFrame, position_probe: str | None, **where) -> pd.DataFrame:
    """The position baseline's own rows of the table where each column equals its value in
    ``where`` (none without a baseline or without interval columns)."""
    if position_probe is None or not {"f1_ci_low", "f1_ci_high"} <= set(table.columns):
        return table.iloc[:0]
    mask = table["probe"] == position_probe
    for column, value in where.items():
        mask &= table[column] == value
    return table[mask]


def f1_by_size(table: pd.DataFrame, sizes: dict[str, float], controls: dict[str, str], position_probe: str | None,
               path, title: str):
    """Test F1 against graph size (the graph set's mean node count), one panel per model x
    relation, a line per probe with each point's 95% interval over test graphs; the same probe on
    the control dashed (no interval), the position baseline grey (with its interval where its rows
    are in the table). Returns the Figure."""
    table = table[table["graph_set"].isin(sizes)].assign(nodes=lambda t: t["graph_set"].map(sizes))
    rows = probe_rows(table, controls, position_probe)
    panels = list(rows.groupby(["model", "relation"], sort=False))
    fig, axes = _panels(len(panels))
    for ax, ((model, relation), mine) in zip(axes, panels):
        for i, (probe, line) in enumerate(mine.groupby("probe", sort=False)):
            line = line.sort_values("nodes")
            ax.plot(line["nodes"], line["f1_mean"], "o-", color=f"C{i}", label=probe)
            interval_bars(ax, line["nodes"], *interval_columns(line), color=f"C{i}")
            ax.plot(line["nodes"], line["control_f1_mean"], "x--", color=f"C{i}", alpha=0.6)
        position = mine.drop_duplicates("nodes").sort_values("nodes")
        ax.plot(position["nodes"], position["position_f1_mean"], "s:", color="grey", label="position")
        low, high = interval_columns(position_rows(table, position_probe, model=model, relation=relation)
                                     .drop_duplicates("nodes").set_index("nodes"))
        interval_bars(ax, position["nodes"], position["nodes"].map(low), position["nodes"].map(high), color="grey")
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("nodes per graph (mean of the graph set)")
        ax.set_ylabel("test F1")
        ax.set_title(f"{model} / {relation} (dashed: control)", fontsize=9)
    axes[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return save(fig, path)


def head_changes(table: pd.DataFrame, stats: pd.DataFrame, path, title: str,
                 activation: str = "out", direction: str = "noising"):
    """A taught model against its base, a point per head (one patching map): parent accuracy read
    alone before and after; the taught model's patching effect against the base's parent accuracy
    (its top-k used heads outlined in red); the patching effect before and after; and the mean
    attention to node tokens and share of node-to-node attention on edges, before and after
    (dashed: the taught model's random-init control)."""
    part = table[(table["activation"] == activation) & (table["direction"] == direction)]
    stat = stats[(stats["activation"] == activation) & (stats["direction"] == direction)].iloc[0]
    k = int(stat["top_k"])
    from .behaviour.encoding import ranked

    top = ranked(part, "effect_after").head(k)
    fig, axes = _panels(4, 4, (3.6, 3.4))
    n_layers = int(part["layer"].max()) + 1
    style = dict(c=part["layer"], cmap="viridis", vmin=0, vmax=max(n_layers - 1, 1), s=18,
                 edgecolors="black", linewidths=0.3)
    pairs = [("parent_acc_before", "parent_acc_after", "parent accuracy before", "parent accuracy after",
              f"encoding (Spearman {stat['spearman_encoding_after_before']:.2f})"),
             ("parent_acc_before", "effect_after", "parent accuracy before", "patching effect after",
              f"use after vs encoding before\n(top {k} used: {int(stat['overlap_used_encoded_before'])} "
              f"were top encoders; chance {stat['chance_overlap']:.1f})"),
             ("effect_before", "effect_after", "patching effect before", "patching effect after",
              f"use (Spearman {stat['spearman_use_after_use_before']:.2f})")]
    for ax, (x, y, xlabel, ylabel, name) in zip(axes, pairs):
        points = ax.scatter(part[x], part[y], **style)
        if y == "effect_after":
            ax.scatter(top[x], top[y], s=40, facecolors="none", edgecolors="red", linewidths=0.8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(name, fontsize=8)
    fig.colorbar(points, ax=axes[2], label="layer")
    bars = axes[3]
    names = ["node_mass", "edge_share"]
    for i, stage in enumerate(("before", "after")):
        bars.bar(np.arange(2) + 0.38 * (i - 0.5), [stat[f"{n}_{stage}"] for n in names], width=0.38, label=stage)
    if pd.notna(stat["edge_share_control"]):
        bars.hlines(stat["edge_share_control"], 0.6, 1.4, colors="black", linestyles="dashed", label="control")
    bars.set_xticks(range(2), ["attention to\nnode tokens", "node-to-node\non edges"], fontsize=8)
    bars.set_ylim(0, 1)
    bars.set_ylabel("mean over heads")
    bars.legend(fontsize=7)
    fig.suptitle(f"{title} ({activation}, {direction})", fontsize=9)
    return save(fig, path)

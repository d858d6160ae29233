"""The real snakemake CLI on a tiny config: every rule runs, the table is complete, and
a second invocation or a probe hyperparameter edit re-runs exactly what it should."""

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import E2E_CONFIG as CONFIG
from conftest import TINY_CONFIG, planned_jobs
from graphattn.tables import COLUMNS

pytestmark = pytest.mark.e2e

MODELS = ("minilm", "minilm-random", "toy")
# Probes that read attention train per model and k; the position baseline once per graph set
# and notation (rule train_baseline).
ATTENTION_PROBES = [name for name, probe in CONFIG["probes"].items() if probe["type"] != "position"]


def test_tiny_run_writes_the_ablation_table(tiny_run):
    table = pd.read_csv(tiny_run / "results/tables/ablation.csv", dtype={"k": str})
    assert list(table.columns) == COLUMNS
    assert sorted(zip(table.model, table.k, table.probe)) == sorted(
        (model, k, probe) for model in MODELS for k in ("1", "none") for probe in CONFIG["probes"])
    assert table[["acc_mean", "f1_mean", "auroc_mean", "parent_acc_mean"]].notna().all().all()
    # Only minilm has a control: its rows carry the control's F1, the others none.
    has_control = table["control_f1_mean"].notna()
    assert (has_control == (table["model"] == "minilm")).all()
    margin = (table["f1_mean"] - table["control_f1_mean"])[has_control]
    assert table["f1_over_control"][has_control].to_numpy() == pytest.approx(margin.to_numpy(), abs=2e-4)  # rounded
    assert (tiny_run / "results/tables/ablation.md").read_text().count("\n") == 2 + len(table)
    for name in ("metrics.json", "history.csv", "best_model.pt"):
        assert (tiny_run / f"results/probes/minilm/tiny/arrow/all/knone/parent/mlp/seed0/{name}").is_file()
        assert (tiny_run / f"results/baselines/tiny/arrow/parent/position/seed0/{name}").is_file()


def test_the_position_baseline_trains_once_and_every_model_row_shows_that_run(tiny_run):
    table = pd.read_csv(tiny_run / "results/tables/ablation.csv", dtype={"k": str})
    position = table[table.probe == "position"]
    assert len(position) == len(MODELS) * len(CONFIG["k"]) and position["f1_mean"].nunique() == 1
    metrics = json.loads((tiny_run / "results/baselines/tiny/arrow/parent/position/seed0/metrics.json").read_text())
    for column, key in (("f1_mean", "f1"), ("acc_mean", "acc"), ("auroc_mean", "auroc"), ("parent_acc_mean", "parent_acc")):
        assert position[column].to_numpy() == pytest.approx([metrics[key]] * len(position), abs=1e-4), column
    # Every row carries it as its position baseline, and its margin over it.
    assert table["position_f1_mean"].to_numpy() == pytest.approx([metrics["f1"]] * len(table), abs=1e-4)
    margin = table["f1_mean"] - table["position_f1_mean"]
    assert table["f1_over_position"].to_numpy() == pytest.approx(margin.to_numpy(), abs=2e-4)
    # The one run, its one interval over the same test graphs, on every model's row.
    assert position[["f1_ci_low", "f1_ci_high", "n_test_graphs"]].nunique().tolist() == [1, 1, 1]
    assert not list(tiny_run.glob("results/probes/*/tiny/arrow/all/k*/*/position"))
    edited = copy.deepcopy(CONFIG)
    edited["probes"]["position"]["hidden"] = 24
    assert planned_jobs(tiny_run, edited) == {
        "train_baseline": 1, "ablation_table": 1, "probe_plots": len(MODELS), "selectivity_plot": 1,
        "front_page": 1, "all": 1}


def run_folder(run: Path, row, seed: int) -> Path:
    """The folder of one seed of an ablation-table row's run (rules PROBE_RUN, BASELINE_RUN)."""
    if row.probe == "position":
        return run / f"results/baselines/{row.graph_set}/{row.notation}/{row.relation}/position/seed{seed}"
    return run / (f"results/probes/{row.model}/{row.graph_set}/{row.notation}/{row.selection}/k{row.k}/"
                  f"{row.relation}/{row.probe}/seed{seed}")


def dataset_of(run: Path, row) -> dict:
    if row.probe == "position":
        return dict(np.load(run / f"results/datasets/positions/{row.graph_set}/{row.notation}.npz"))
    return dict(np.load(run / f"results/datasets/{row.model}/{row.graph_set}/{row.notation}/{row.selection}/k{row.k}.npz"))


def test_every_table_row_is_the_mean_of_its_seeds_runs_with_an_interval_around_it(tiny_run):
    table = pd.read_csv(tiny_run / "results/tables/ablation.csv", dtype={"k": str})
    assert len(table) == len(MODELS) * len(CONFIG["k"]) * len(CONFIG["probes"])
    for row in table.itertuples(index=False):
        runs = [json.loads((run_folder(tiny_run, row, seed) / "metrics.json").read_text()) for seed in CONFIG["seeds"]]
        where = f"{row.model} k{row.k} {row.probe}"
        for column, key in (("f1_mean", "f1"), ("acc_mean", "acc"), ("auroc_mean", "auroc"),
                            ("parent_acc_mean", "parent_acc"), ("precision_mean", "precision"), ("recall_mean", "recall")):
            assert getattr(row, column) == pytest.approx(np.mean([r[key] for r in runs]), abs=1e-4), (where, column)
        assert row.n_seeds == len(CONFIG["seeds"]) == 1 and np.isnan(row.f1_std), where  # one seed: no spread
        data = dataset_of(tiny_run, row)
        test_ids = sorted(data["graph_id"][data["split"] == 2].tolist())
        for r in runs:
            counts = r["test_graphs"]
            # Tested on the dataset's test split, every test graph counted, the counts adding up to the run's F1.
            assert counts["graph_id"] == test_ids, where
            tp, fp, fn = (sum(counts[name]) for name in ("tp", "fp", "fn"))
            assert r["f1"] == pytest.approx(2 * tp / max(2 * tp + fp + fn, 1), abs=1e-9), where
        assert row.n_test_graphs == len(test_ids), where
        assert 0 <= row.f1_ci_low <= row.f1_mean <= row.f1_ci_high <= 1, where


def argmax_parent_accuracy(data: dict, channel: int, direction: str, graphs) -> float:
    """Plain numpy, graph by graph: the share of nodes with a parent whose most-attended other
    node (the lowest on ties) is a parent; child_to_parent reads the child's query row."""
    hits, children = 0, 0
    for g in graphs:
        n, adj = int(data["n_nodes"][g]), data["adj"][g]
        attention = data["x"][g, channel, :n, :n].astype(np.float64)
        for child in range(n):
            if not adj[:n, child].any():
                continue
            scores = attention[child] if direction == "child_to_parent" else attention[:, child]
            scores = np.where(np.arange(n) == child, -np.inf, scores)
            hits += int(adj[int(np.argmax(scores)), child])
            children += 1
    return hits / children


def test_head_scores_and_the_best_head_agree_with_an_argmax_per_child(tiny_run):
    from sklearn.metrics import roc_auc_score

    directions = ("child_to_parent", "parent_to_child")
    for model in ("minilm", "toy"):
        data = dict(np.load(tiny_run / f"results/datasets/{model}/tiny/arrow/all/knone.npz"))
        n_heads = int(data["n_heads"])
        scores = pd.read_csv(tiny_run / f"results/heads/{model}/tiny/arrow.csv")
        every = np.flatnonzero(np.isin(data["split"], (0, 1)))  # training and validation graphs: no test graph
        for row in scores.itertuples(index=False):
            channel = row.layer * n_heads + row.head
            for direction in directions:
                mine = argmax_parent_accuracy(data, channel, direction, every)
                assert getattr(row, f"parent_acc_{direction}") == pytest.approx(mine, abs=6e-5), (model, channel, direction)
                labels, values = [], []
                for g in every:
                    n = int(data["n_nodes"][g])
                    for i in range(n):
                        for j in range(n):
                            if i != j:  # "i is a parent of j" against the attention between them
                                labels.append(data["adj"][g, i, j])
                                values.append(data["x"][g, channel, j, i] if direction == "child_to_parent"
                                              else data["x"][g, channel, i, j])
                assert getattr(row, f"auroc_{direction}") == pytest.approx(roc_auc_score(labels, values), abs=6e-5)
        # The best head, chosen on validation graphs, dense and sparsified: no head parses them better,
        # and its test parent accuracy is its argmax rule on the test graphs.
        for k in CONFIG["k"]:
            data = dict(np.load(tiny_run / f"results/datasets/{model}/tiny/arrow/all/k{k}.npz"))
            folder = tiny_run / f"results/probes/{model}/tiny/arrow/all/k{k}/parent/best_head/seed0"
            choice = pd.read_csv(folder / "history.csv").iloc[0]
            val, test = (np.flatnonzero(data["split"] == s) for s in (1, 2))
            on_val = {(c, d): argmax_parent_accuracy(data, c, d, val) for c in range(data["x"].shape[1]) for d in directions}
            chosen = (int(choice["layer"]) * n_heads + int(choice["head"]), choice["direction"])
            assert on_val[chosen] == max(on_val.values()) == pytest.approx(choice["val_parent_acc"]), (model, k)
            metrics = json.loads((folder / "metrics.json").read_text())
            assert metrics["parent_acc"] == pytest.approx(argmax_parent_accuracy(data, *chosen, test)), (model, k)


def test_tiny_run_scores_every_head_and_draws_the_plots(tiny_run):
    heads = pd.read_csv(tiny_run / "results/heads/minilm/tiny/arrow.csv")
    assert len(heads) == 6 * 12 and heads.notna().all().all()  # all-MiniLM-L6-v2: 6 layers x 12 heads
    assert len(pd.read_csv(tiny_run / "results/heads/toy/tiny/arrow.csv")) == 1 * 2
    for model in MODELS:
        for name in ("f1", "training_curves"):
            assert (tiny_run / f"results/plots/{model}/{name}.png").stat().st_size > 0
    assert (tiny_run / "results/plots/toy_history.png").stat().st_size > 0
    assert (tiny_run / "results/plots/toy_dynamics.png").stat().st_size > 0


def test_tiny_run_tags_every_head_and_measures_its_attention(tiny_run):
    from graphattn.roles import TAG_SCORES

    analysis = tiny_run / "results/analysis/minilm/tiny/arrow"
    roles = json.loads((analysis / "head_roles.json").read_text())
    assert sorted((h["layer"], h["head"]) for h in roles["heads"]) == [(l, h) for l in range(6) for h in range(12)]
    assert all(h["tags"] and set(h["scores"]) == set(TAG_SCORES) for h in roles["heads"])
    metrics = pd.read_csv(analysis / "attention_metrics.csv")
    assert len(metrics) == 72 and metrics.notna().all().all()
    # Entropy is at most ln(prompt length); the tiny prompts have fewer than 40 tokens.
    assert ((metrics.entropy >= 0) & (metrics.entropy < np.log(40))).all()
    similarity = pd.read_csv(analysis / "layer_similarity.csv")
    assert (similarity.query("layer_a == layer_b").js_similarity == 1).all()
    toy = json.loads((tiny_run / "results/analysis/toy/tiny/arrow/head_roles.json").read_text())
    assert len(toy["heads"]) == 2


def test_tiny_run_mean_ablates_every_toy_head_beside_its_tags(tiny_run):
    table = pd.read_csv(tiny_run / "results/models/toy_ablation.csv", keep_default_na=False)
    assert table["ablated"].tolist() == ["none", "L0H0", "L0H1", "all", "graph_blind"]
    roles = json.loads((tiny_run / "results/analysis/toy/tiny/arrow/head_roles.json").read_text())["heads"]
    assert table["tags"][1:3].tolist() == [" ".join(h["tags"]) for h in roles]
    accuracy = table.set_index("ablated")["accuracy"].astype(float)
    metrics = json.loads((tiny_run / "results/models/toy_metrics.json").read_text())
    # Unablated, through TransformerBridge, the toy answers as in training's last evaluation.
    assert accuracy["none"] == pytest.approx(metrics["val_accuracy"], abs=1e-4)


def test_second_run_has_nothing_to_do(tiny_run):
    assert planned_jobs(tiny_run, CONFIG) == {}


def test_probe_hyperparameter_edit_reruns_only_that_probe_and_the_table(tiny_run):
    edited = copy.deepcopy(CONFIG)
    edited["probes"]["mlp"]["hidden"] = 24
    n_mlp_jobs = len(MODELS) * len(edited["k"])  # a job trains every seed
    assert planned_jobs(tiny_run, edited) == {
        "train_probe": n_mlp_jobs, "ablation_table": 1, "probe_plots": len(MODELS), "selectivity_plot": 1,
        "front_page": 1, "all": 1}


def test_new_relation_runs_only_its_probe_jobs_and_the_tables(tiny_run):
    edited = copy.deepcopy(CONFIG)
    edited["relations"] = ["parent", "sibling"]
    # Every attention probe on every model and k, the position baseline once, for "sibling" alone.
    assert planned_jobs(tiny_run, edited) == {
        "train_probe": len(MODELS) * len(edited["k"]) * len(ATTENTION_PROBES), "train_baseline": 1,
        "ablation_table": 1, "probe_plots": len(MODELS), "selectivity_plot": 1, "front_page": 1, "all": 1}
    edited["relations"] = ["sibling", "parent"]  # the order of the list is not an edit of a job
    assert planned_jobs(tiny_run, edited)["train_probe"] == len(MODELS) * len(edited["k"]) * len(ATTENTION_PROBES)


def test_toy_model_is_trained_and_dumped_through_the_common_path(tiny_run):
    import json

    from graphattn.models import load_bridge

    metrics = json.loads((tiny_run / "results/models/toy_metrics.json").read_text())
    assert metrics["steps"] == 10 and 0 <= metrics["heldout_accuracy"] <= 1
    bridge = load_bridge(str(tiny_run / "results/models/toy"))
    meta = json.loads((tiny_run / "results/attention/toy/tiny/arrow/dense.json").read_text())
    assert (meta["n_layers"], meta["n_heads"]) == (bridge.cfg.n_layers, bridge.cfg.n_heads) == (1, 2)


def test_toy_setting_edit_retrains_the_toy_and_reruns_only_its_downstream_jobs(tiny_run):
    edited = copy.deepcopy(CONFIG)
    edited["toy"]["lr"] = 0.001
    n_probe_jobs = len(edited["k"]) * len(ATTENTION_PROBES)
    # Every model's plots redraw from the new table; only the toy's dump, datasets and probes re-run.
    assert planned_jobs(tiny_run, edited) == {
        "train_toy_model": 1, "toy_history_plot": 1, "dump_attention": 1, "sparsify": 1, "combine": 2,
        "head_scores": 1, "analyse_attention": 1, "toy_mean_ablation": 1, "train_probe": n_probe_jobs,
        "ablation_table": 1, "selectivity_plot": 1,
        "front_page": 1, "probe_plots": len(MODELS), "layer_probes": 1, "layer_table": 1,
        "behaviour": 1, "head_ablation": 1, "ablation_plot": 1, "sink_sweep": 1, "behaviour_table": 1,
        "logit_answers": 1, "logit_plot": 1, "logit_table": 1, "patch_heads": 1, "encoding_use": 1, "all": 1}


def test_edit_that_restates_defaults_or_reorders_keys_reruns_nothing(tiny_run):
    edited = copy.deepcopy(CONFIG)
    # The schema's defaults, filled in at load anyway, now written out.
    edited["probes"]["mlp"]["dropout"] = 0.1
    edited["models"]["toy"]["batch_size"] = 16
    edited["models"]["minilm"]["control_seed"] = 0
    edited["graph_sets"]["tiny"]["naming"] = "letters"
    edited["toy"] = dict(reversed(list(edited["toy"].items())))
    assert planned_jobs(tiny_run, edited) == {}


def test_new_k_value_runs_only_its_sparsify_combine_and_probe_jobs(tiny_run):
    edited = copy.deepcopy(CONFIG)
    edited["k"] = ["none", 1, 2]
    n = len(MODELS)  # one notation and one selection per model
    assert planned_jobs(tiny_run, edited) == {
        "sparsify": n, "combine": n, "train_probe": n * len(ATTENTION_PROBES),
        "ablation_table": 1, "selectivity_plot": 1, "front_page": 1, "probe_plots": n, "all": 1}


def test_new_graph_set_runs_its_whole_chain(tiny_run):
    edited = copy.deepcopy(CONFIG)
    edited["graph_sets"]["tiny2"] = {"min_nodes": 3, "max_nodes": 5, "edge_prob": 0.5, "count": 12, "seed": 4}
    n, k = len(MODELS), len(edited["k"])
    # Every model's chain on the new prompts; and the toy trains again, since no graph of any graph
    # set may be in its training stream (toy.toy_data): its jobs on `tiny` re-run too (as after an
    # edit of a toy setting), its untrained control's do not.
    assert planned_jobs(tiny_run, edited) == {
        "generate_graphs": 1, "render_prompts": 1, "train_toy_model": 1, "toy_history_plot": 1, "toy_mean_ablation": 1,
        "dump_attention": n + 1, "sparsify": n + 1, "combine": k * (n + 1),
        "train_probe": k * (n + 1) * len(ATTENTION_PROBES), "position_dataset": 1, "train_baseline": 1,
        "head_scores": n + 1, "analyse_attention": n + 1, "layer_probes": n + 1, "layer_table": 1,
        "behaviour": 2, "head_ablation": 2, "ablation_plot": 2, "sink_sweep": 2, "behaviour_table": 1,  # the toy's on both
        "logit_answers": 2, "logit_plot": 2, "logit_table": 1, "patch_heads": 2, "encoding_use": 2,
        # Two graph sets: F1 against graph size joins the report.
        "ablation_table": 1, "selectivity_plot": 1, "front_page": 1, "size_plot": 1, "probe_plots": n, "all": 1}


def test_new_model_runs_its_chain_and_redraws_the_shared_outputs(tiny_run):
    edited = copy.deepcopy(CONFIG)
    edited["models"]["minilm2"] = dict(TINY_CONFIG["models"]["minilm"], batch_size=4)
    assert planned_jobs(tiny_run, edited) == {
        "dump_attention": 1, "sparsify": 1, "combine": 2, "train_probe": 2 * len(ATTENTION_PROBES),
        "head_scores": 1, "analyse_attention": 1, "ablation_table": 1, "selectivity_plot": 1,
        "front_page": 1, "probe_plots": len(MODELS) + 1,
        "layer_probes": 1, "layer_table": 1, "all": 1}


def test_tiny_run_answers_the_questions_and_measures_ablation_and_sink(tiny_run):
    folder = tiny_run / "results/behaviour/toy/tiny/arrow"
    answers = pd.read_csv(folder / "answers.csv", keep_default_na=False)
    nodes = {g["id"]: len(g["nodes"]) for g in json.loads((tiny_run / "results/graphs/tiny.json").read_text())["graphs"]}
    asked = answers.groupby(["graph_id", "ordering"]).size()
    assert len(asked) == 2  # behaviour.max_prompts
    assert all(n == 2 * nodes[graph_id] for (graph_id, _), n in asked.items())  # both kinds, every node
    summary = pd.read_csv(folder / "summary.csv")
    assert summary["n_questions"].sum() == len(answers)
    assert summary["unparseable"].sum() == answers["unparseable"].sum()
    curve = pd.read_csv(folder / "head_ablation.csv")
    assert sorted(set(curve["n_ablated"])) == [0, 1, 2]  # the toy has 1 layer x 2 heads
    assert (curve[curve["heads"] == "random"].groupby(["n_ablated", "kind"]).size() == 2).all()
    sweep = pd.read_csv(folder / "sink_sweep.csv")
    assert sorted(set(sweep["g"])) == [0.5, 1.0]
    unchanged = sweep[sweep["g"] == 1.0].set_index("kind")["accuracy"]
    assert (unchanged == summary.set_index("kind").loc[unchanged.index, "accuracy"]).all()  # g = 1 is no intervention
    probes = pd.read_csv(folder / "sink_probes.csv")
    assert sorted(set(zip(probes["g"], probes["probe"]))) == [(0.5, "best_head"), (1.0, "best_head")]
    table = pd.read_csv(tiny_run / "results/tables/behaviour.csv")
    assert list(table["model"]) == ["toy", "toy"] and table["control_accuracy"].isna().all()  # no toy control here
    layers = pd.read_csv(tiny_run / "results/tables/layers.csv")
    assert sorted(set(layers["model"])) == sorted(MODELS) and set(layers["probe"]) == {"best_head"}
    assert layers.groupby("model")["layer"].nunique().to_dict() == {"minilm": 6, "minilm-random": 6, "toy": 1}
    # Answers read from the logits: four readers per question, in the order the answers were asked;
    # the summary's means are the rows' means, and chance is the share of true candidates.
    logits = pd.read_csv(folder / "logit_answers.csv", keep_default_na=False, na_values=[""])
    assert logits.groupby("reader").size().to_dict() == {r: len(answers) for r in
                                                          ("model", "other_graph", "graph_blind", "chance")}
    own = logits[logits["reader"] == "model"]
    assert list(own["node"]) == list(answers["node"]) and list(own["kind"]) == list(answers["kind"])
    n_true = own["gold"].str.split(", ").str.len()
    chance = logits[logits["reader"] == "chance"]
    assert chance["top_true"].to_numpy() == pytest.approx((n_true / own["n_candidates"]).to_numpy(), abs=1e-4)
    logit_summary = pd.read_csv(folder / "logit_summary.csv").set_index(["kind", "reader"])
    for (kind, reader), rows in logits.groupby(["kind", "reader"]):
        assert logit_summary.loc[(kind, reader), "top_true"] == pytest.approx(rows["top_true"].mean(), abs=1e-4)
        assert logit_summary.loc[(kind, reader), "top_true_ci_low"] <= rows["top_true"].mean() + 1e-4
    # Patching: every head of the toy (1 layer x 2 heads) in both activations and directions, on
    # the pairs listed, whose logit differences average to the table's clean and corrupted ones.
    patched = pd.read_csv(folder / "patching.csv")
    patch_pairs = pd.read_csv(folder / "patching_pairs.csv")
    assert 1 <= len(patch_pairs) <= 3 and (patch_pairs["clean_answer"] != patch_pairs["corrupt_answer"]).all()
    assert len(patched) == 2 * 2 * 2 and set(patched["rank"]) == {1, 2}
    assert patched["clean_ld"].iloc[0] == pytest.approx(patch_pairs["clean_ld"].mean(), abs=1e-3)
    assert patched["corrupt_ld"].iloc[0] == pytest.approx(patch_pairs["corrupt_ld"].mean(), abs=1e-3)
    # Encoding against use: the head scores' parent accuracy beside each head's patching effect.
    use = pd.read_csv(folder / "encoding_use_heads.csv")
    scores = pd.read_csv(tiny_run / "results/heads/toy/tiny/arrow.csv")
    best = scores[["parent_acc_child_to_parent", "parent_acc_parent_to_child"]].max(axis=1)
    merged = use.merge(scores.assign(best=best)[["layer", "head", "best"]], on=["layer", "head"])
    assert len(merged) == len(patched) and (merged["parent_acc"] == merged["best"]).all()
    assert len(pd.read_csv(folder / "encoding_use.csv")) == 2 * 2 * 2  # activations x directions x scores
    logit_table = pd.read_csv(tiny_run / "results/tables/logit_answers.csv")
    assert len(logit_table) == len(logit_summary) and set(logit_table["model"]) == {"toy"}
    for png in ("results/plots/layers.png", "results/plots/behaviour/sink_sweep.png",
                "results/plots/behaviour/toy/tiny/arrow/head_ablation.png",
                "results/plots/behaviour/toy/tiny/arrow/logit_answers.png",
                "results/plots/behaviour/toy/tiny/arrow/patching.png",
                "results/plots/behaviour/toy/tiny/arrow/encoding_use.png"):
        assert (tiny_run / png).stat().st_size > 0


def test_a_sink_sweep_edit_reruns_only_the_sweep_and_the_behaviour_table(tiny_run):
    edited = copy.deepcopy(CONFIG)
    edited["behaviour"]["sink"]["g"] = [1.0, 0.5, 0.2]
    assert planned_jobs(tiny_run, edited) == {"sink_sweep": 1, "behaviour_table": 1, "all": 1}

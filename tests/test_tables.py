import json

import pandas as pd
import pytest

from graphattn import tables


def write_metrics(tmp_path, name, **metrics):
    path = tmp_path / f"{name}.json"
    base = dict(acc=0.5, f1=0.5, precision=0.5, recall=0.5, auroc=0.5, auprc=0.5, parent_acc=0.5, positive_rate=0.3,
                converged=True)
    path.write_text(json.dumps({**base, **metrics}))
    return str(path)


def test_ablation_table_mean_and_spread_over_seeds(tmp_path):
    run = dict(model="m", graph_set="g", notation="arrow", selection="all", k="none", relation="parent", probe="mlp")
    paths = [write_metrics(tmp_path, "a", f1=0.8, acc=0.9), write_metrics(tmp_path, "b", f1=0.6, acc=0.7, converged=False),
             write_metrics(tmp_path, "c", f1=0.1)]
    runs = [dict(run, seed=0), dict(run, seed=1), dict(run, k=3, seed=0)]
    table = tables.ablation_table(tables.load_runs(paths, runs))
    assert list(table.columns) == tables.COLUMNS
    assert table["k"].tolist() == ["3", "none"]
    row = table.set_index("k").loc["none"]
    # The spread over seeds with ddof=1: two seeds 0.8 and 0.6 give 0.1414; one seed gives NaN.
    assert row.n_seeds == 2 and row.f1_mean == pytest.approx(0.7) and row.f1_std == pytest.approx(0.02 ** 0.5, abs=1e-4)
    assert pd.isna(table.set_index("k").loc["3", "f1_std"])
    # Metrics without per-graph counts (written before they existed) leave the interval empty.
    assert pd.isna(row.f1_ci_low) and row.n_test_graphs == 0
    assert row.acc_mean == pytest.approx(0.8) and row.not_converged == 1
    tables.write(table, tmp_path / "t.csv", tmp_path / "t.md", tmp_path / "t.html")
    assert (tmp_path / "t.md").read_text().startswith("| model")
    html = (tmp_path / "t.html").read_text()
    assert html.count("<tr") == 1 + len(table) and html.count("<th>") == len(tables.COLUMNS)
    assert "<td>0.700</td>" in html  # f1_mean of the k=none row


def test_rows_of_a_model_show_its_controls_f1(tmp_path):
    run = dict(graph_set="g", notation="arrow", selection="all", k="none", relation="parent", probe="mlp", seed=0)
    runs = [dict(run, model="m"), dict(run, model="m-random"), dict(run, model="m", probe="gcn"), dict(run, model="other")]
    paths = [write_metrics(tmp_path, str(i), f1=f1) for i, f1 in enumerate([0.9, 0.3, 0.8, 0.7])]
    table = tables.ablation_table(tables.load_runs(paths, runs), controls={"m": "m-random"}).set_index(["model", "probe"])
    assert table.loc[("m", "mlp"), "control_f1_mean"] == pytest.approx(0.3)
    assert table.loc[("m", "mlp"), "f1_over_control"] == pytest.approx(0.6)
    # No control run for the gcn, no control configured for "other", none for a control itself.
    assert table.loc[[("m", "gcn"), ("other", "mlp"), ("m-random", "mlp")], "f1_over_control"].isna().all()


def test_rows_show_the_position_baselines_f1_on_the_same_dataset_and_relation(tmp_path):
    run = dict(model="m", graph_set="g", notation="arrow", selection="all", k="none", seed=0)
    runs = [dict(run, relation=relation, probe=probe) for relation in ("parent", "sibling") for probe in ("mlp", "pos")]
    runs.append(dict(run, relation="parent", probe="mlp", graph_set="h"))  # no baseline on graph set h
    paths = [write_metrics(tmp_path, str(i), f1=f1) for i, f1 in enumerate([0.9, 0.8, 0.5, 0.2, 0.7])]
    table = tables.ablation_table(tables.load_runs(paths, runs), position_probe="pos")
    table = table.set_index(["graph_set", "relation", "probe"])
    assert table.loc[("g", "parent", "mlp"), "position_f1_mean"] == pytest.approx(0.8)
    assert table.loc[("g", "parent", "mlp"), "f1_over_position"] == pytest.approx(0.1)
    assert table.loc[("g", "sibling", "mlp"), "f1_over_position"] == pytest.approx(0.3)
    assert table.loc[("g", "sibling", "pos"), "f1_over_position"] == pytest.approx(0.0)
    assert pd.isna(table.loc[("h", "parent", "mlp"), "f1_over_position"])
    # Without a baseline configured the columns are there, empty.
    assert tables.ablation_table(tables.load_runs(paths, runs))["f1_over_position"].isna().all()


def test_load_runs_refuses_mismatched_lists(tmp_path):
    with pytest.raises(ValueError, match="1 metrics files but 0 run descriptions"):
        tables.load_runs([write_metrics(tmp_path, "a")], [])


# Two seeds' counts on four test graphs (true positives, false positives, false negatives per graph).
COUNTS = [
    {"graph_id": [3, 5, 8, 9], "tp": [2, 0, 3, 1], "fp": [0, 1, 1, 0], "fn": [1, 2, 0, 0]},
    {"graph_id": [3, 5, 8, 9], "tp": [1, 1, 3, 1], "fp": [1, 0, 0, 2], "fn": [2, 1, 0, 0]},
]


def exact_bootstrap_quantiles(counts_by_seed, level=0.95):
    """Every one of the G^G equally likely resamples of G graphs, enumerated: the exact bootstrap
    distribution of the seed-mean F1, and its quantiles (an independent computation)."""
    import itertools

    import numpy as np

    n = len(counts_by_seed[0]["graph_id"])
    values = []
    for draw in itertools.product(range(n), repeat=n):
        f1s = []
        for counts in counts_by_seed:
            tp, fp, fn = (sum(counts[name][g] for g in draw) for name in ("tp", "fp", "fn"))
            f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
        values.append(sum(f1s) / len(f1s))
    return np.quantile(values, [(1 - level) / 2, (1 + level) / 2])


def test_the_interval_over_test_graphs_matches_the_exact_bootstrap_distribution(tmp_path):
    run = dict(model="m", graph_set="g", notation="arrow", selection="all", k="none", relation="parent", probe="mlp")
    paths = [write_metrics(tmp_path, str(seed), f1=0.5, test_graphs=counts) for seed, counts in enumerate(COUNTS)]
    table = tables.ablation_table(tables.load_runs(paths, [dict(run, seed=0), dict(run, seed=1)]), resamples=20000)
    low, high = exact_bootstrap_quantiles(COUNTS)
    row = table.iloc[0]
    assert row.n_test_graphs == 4
    assert row.f1_ci_low == pytest.approx(low, abs=0.02) and row.f1_ci_high == pytest.approx(high, abs=0.02)
    assert 0.3 < high - low < 0.8  # four graphs: a wide interval, not a point
    # Seeded: the same table again.
    again = tables.ablation_table(tables.load_runs(paths, [dict(run, seed=0), dict(run, seed=1)]), resamples=20000)
    assert again.equals(table)


def test_a_margin_interval_pairs_the_two_rows_on_the_same_resampled_graphs(tmp_path):
    run = dict(model="m", graph_set="g", notation="arrow", selection="all", k="none", relation="parent", seed=0)
    better = {**COUNTS[0], "tp": [3, 2, 3, 1], "fn": [0, 0, 0, 0]}  # finds every edge of every graph
    paths = [write_metrics(tmp_path, "mlp", test_graphs=better), write_metrics(tmp_path, "pos", test_graphs=COUNTS[0]),
             write_metrics(tmp_path, "same", test_graphs=COUNTS[0])]
    runs = [dict(run, probe="mlp"), dict(run, probe="pos"), dict(run, probe="same")]
    table = tables.ablation_table(tables.load_runs(paths, runs), position_probe="pos").set_index("probe")
    # Recall 1 with the same false positives is never below the baseline on a resample (equal where
    # only graphs it already got right are drawn): the interval is [0, a clear margin].
    assert table.loc["mlp", "f1_over_position_ci_low"] >= 0 and table.loc["mlp", "f1_over_position_ci_high"] > 0.2
    # Paired: a row with the baseline's own counts has the margin 0 on every resample, so (0, 0),
    # though each row's own interval is wide.
    assert table.loc["same", "f1_over_position_ci_low"] == 0 == table.loc["same", "f1_over_position_ci_high"]
    assert table.loc["same", "f1_ci_high"] - table.loc["same", "f1_ci_low"] > 0.2


def test_seeds_tested_on_different_graphs_are_refused(tmp_path):
    run = dict(model="m", graph_set="g", notation="arrow", selection="all", k="none", relation="parent", probe="mlp")
    moved = {**COUNTS[1], "graph_id": [3, 5, 8, 10]}
    paths = [write_metrics(tmp_path, "a", test_graphs=COUNTS[0]), write_metrics(tmp_path, "b", test_graphs=moved)]
    with pytest.raises(ValueError, match="different graphs"):
        tables.ablation_table(tables.load_runs(paths, [dict(run, seed=0), dict(run, seed=1)]))

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
    assert row.n_seeds == 2 and row.f1_mean == pytest.approx(0.7) and row.f1_std == pytest.approx(0.1)
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

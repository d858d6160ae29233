"""config/paper.yaml: the seed's four models. Absent here, they must stop the run before
any job with a message that says how to get them; pointed at tiny random-weight models of
the same architectures, the same config plans and runs its whole grid."""

import copy
import itertools
import json

import pandas as pd
import pytest
import yaml

import tiny_models
from conftest import REPO, planned_jobs, run_snakemake
from graphattn.tables import KEYS

pytestmark = pytest.mark.e2e

PAPER = yaml.safe_load((REPO / "config/paper.yaml").read_text())
ARCH = {"llama-3.2-1b": "llama", "gemma-2-2b": "gemma2", "qwen2.5-0.5b": "qwen2", "qwen2.5-1.5b": "qwen2"}


def test_missing_models_stop_the_run_before_any_job(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    result = run_snakemake(tmp_path, "-n", config=PAPER, check=False)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    for name, entry in PAPER["models"].items():
        assert f"models.{name}.path: model {entry['path']!r} is neither a local folder nor in the Hugging Face cache" in out
        assert f"huggingface-cli download {entry['path']}" in out
    assert str(tmp_path / "empty-cache") in out
    assert not (tmp_path / "results").exists() and "Building DAG" not in out


def on_tiny_models(tmp_path) -> dict:
    """paper.yaml with each model entry pointed at a tiny random-weight model of its architecture, on the CPU."""
    config = copy.deepcopy(PAPER)
    for name, entry in config["models"].items():
        entry.update(path=str(tiny_models.build(ARCH[name], tmp_path / "models" / name)), device="cpu", dtype="float32", gpus=0)
    return config


def test_paper_grid_plans_on_tiny_models_of_each_architecture(tmp_path):
    config = on_tiny_models(tmp_path)
    jobs = planned_jobs(tmp_path, config)
    n = {key: len(config[key]) for key in ("models", "graph_sets", "notations", "selections", "k", "probes", "seeds")}
    sparse_k = sum(k != "none" for k in config["k"])
    assert jobs["dump_attention"] == n["models"] * n["graph_sets"] * n["notations"]
    assert jobs["sparsify"] == jobs["dump_attention"] * sparse_k
    assert jobs["combine"] == jobs["dump_attention"] * n["selections"] * n["k"]
    assert jobs["train_probe"] == jobs["combine"] * n["probes"]  # each job trains every seed
    assert jobs["analyse_attention"] == jobs["dump_attention"]


def test_paper_grid_runs_on_tiny_models_of_each_architecture(tmp_path):
    """Every cell of the paper's grid is run and lands in the table. Only the volume is cut
    (graphs per set, probe epochs) so that its ~500 jobs fit in CI on two cores."""
    config = on_tiny_models(tmp_path)
    for graph_set in config["graph_sets"].values():
        graph_set["count"] = 20
    for hyper in config["probes"].values():
        hyper.update(epochs=3, patience=3)
    run_snakemake(tmp_path, "--cores", "2", config=config, timeout=3600)

    table = pd.read_csv(tmp_path / "results/tables/ablation.csv", dtype={"k": str})
    grid = itertools.product(config["models"], config["graph_sets"], config["notations"], config["selections"],
                             [str(k) for k in config["k"]], config["probes"])
    assert sorted(map(tuple, table[KEYS].values.tolist())) == sorted(grid)
    assert (table.n_seeds == len(config["seeds"])).all()
    assert table[["acc_mean", "f1_mean", "auroc_mean"]].notna().all().all()
    for name in config["models"]:
        meta = json.loads((tmp_path / f"results/attention/{name}/max10/arrow/dense.json").read_text())
        assert meta["n_heads"] == tiny_models.COMMON["num_attention_heads"]
        roles = json.loads((tmp_path / f"results/analysis/{name}/max10/arrow/head_roles.json").read_text())
        assert len(roles["heads"]) == meta["n_layers"] * meta["n_heads"]

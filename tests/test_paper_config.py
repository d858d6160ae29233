"""config/paper.yaml: the seed's four models. Absent here, they must stop the run before
any job with a message that says how to get them; pointed at tiny random-weight models of
the same architectures, the same config plans its whole grid and runs a sample of it in
which every value of every axis occurs."""

import copy
import json

import pandas as pd
import pytest
import yaml

import tiny_models
from conftest import REPO, planned_jobs, run_snakemake
from graphattn.config import with_controls

pytestmark = pytest.mark.e2e

PAPER = yaml.safe_load((REPO / "config/paper.yaml").read_text())
PROBE_RUN = "results/probes/{model}/{graph_set}/{notation}/{selection}/k{k}/{relation}/{probe}/seed{seed}/{name}"
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


def test_paper_grid_plans_every_job_on_tiny_models_of_each_architecture(tmp_path):
    config = on_tiny_models(tmp_path)
    jobs = planned_jobs(tmp_path, config)
    n = {key: len(config[key]) for key in ("models", "graph_sets", "notations", "selections", "k", "probes", "seeds")}
    sparse_k = sum(k != "none" for k in config["k"])
    assert jobs["generate_graphs"] == n["graph_sets"]
    assert jobs["render_prompts"] == n["graph_sets"] * n["notations"]
    assert jobs["dump_attention"] == n["models"] * n["graph_sets"] * n["notations"]
    assert jobs["sparsify"] == jobs["dump_attention"] * sparse_k
    assert jobs["combine"] == jobs["dump_attention"] * n["selections"] * n["k"]
    assert jobs["train_probe"] == jobs["combine"] * n["probes"]  # each job trains every seed
    assert jobs["head_scores"] == jobs["analyse_attention"] == jobs["dump_attention"]
    assert jobs["probe_plots"] == n["models"] and jobs["ablation_table"] == 1
    assert jobs["layer_probes"] == jobs["dump_attention"] and jobs["layer_table"] == 1
    for rule in ("behaviour", "logit_answers", "head_ablation", "sink_sweep"):  # every model answers on every dump's prompts
        assert jobs[rule] == jobs["dump_attention"]
    assert jobs["behaviour_table"] == 1


def sample(config: dict) -> list[dict]:
    """Grid cells in which every value of every axis occurs at least once: cell i takes value
    i mod (its count) of each axis, so the longest axis sets the number of cells."""
    axes = {"model": list(config["models"]), "graph_set": list(config["graph_sets"]),
            "notation": config["notations"], "selection": config["selections"],
            "k": [str(k) for k in config["k"]], "relation": config.get("relations", ["parent"]),
            "probe": list(config["probes"])}
    longest = max(len(values) for values in axes.values())
    return [{axis: values[i % len(values)] for axis, values in axes.items()} for i in range(longest)]


def test_sample_covers_every_value_of_every_axis():
    cells = sample({**PAPER, "models": {**PAPER["models"], "extra": {}}})
    assert len(cells) == 5
    for axis, values in [("model", [*PAPER["models"], "extra"]), ("notation", PAPER["notations"]),
                         ("selection", PAPER["selections"]), ("probe", list(PAPER["probes"]))]:
        assert {cell[axis] for cell in cells} == set(values)
    assert {cell["k"] for cell in cells} == {"none", "3"}


def test_paper_grid_sample_runs_on_tiny_models_of_each_architecture(tmp_path):
    """A sample of the grid's cells in which every architecture, graph set, notation, selection,
    k, probe type and a random-init control occur, run to their probe metrics, head scores and
    head roles. The whole grid is planned above; only the volume is cut (graphs per set, probe
    epochs) so that it runs in CI on two cores."""
    config = on_tiny_models(tmp_path)
    config["models"]["qwen2.5-0.5b"]["control"] = "random_init"
    for graph_set in config["graph_sets"].values():
        graph_set["count"] = 20
    for hyper in config["probes"].values():
        hyper.update(epochs=3, patience=3)
    models = with_controls(config["models"])
    cells = sample({**config, "models": models})
    assert {ARCH[m.removesuffix("-random")] for m in (c["model"] for c in cells)} == set(tiny_models.ARCHITECTURES)
    assert any(models[c["model"]]["random_init"] for c in cells)
    assert {config["probes"][c["probe"]]["type"] for c in cells} == {p["type"] for p in config["probes"].values()}
    runs = [PROBE_RUN.format(name="metrics.json", seed=seed, **cell) for cell in cells for seed in config["seeds"]]
    dumps = sorted({"{model}/{graph_set}/{notation}".format(**cell) for cell in cells})
    targets = runs + [f"results/heads/{d}.csv" for d in dumps] + [f"results/analysis/{d}/head_roles.json" for d in dumps]
    run_snakemake(tmp_path, "--cores", "2", *targets, config=config, timeout=1800)

    for path in runs:
        metrics = json.loads((tmp_path / path).read_text())
        assert all(0 <= metrics[key] <= 1 for key in ("acc", "f1", "auroc")), path
    for dump in dumps:
        meta = json.loads((tmp_path / f"results/attention/{dump}/dense.json").read_text())
        assert meta["n_heads"] == tiny_models.COMMON["num_attention_heads"]
        assert meta["random_init"] == dump.startswith("qwen2.5-0.5b-random/")
        heads = pd.read_csv(tmp_path / f"results/heads/{dump}.csv")
        assert len(heads) == meta["n_layers"] * meta["n_heads"] and heads.notna().all().all()
        roles = json.loads((tmp_path / f"results/analysis/{dump}/head_roles.json").read_text())
        assert len(roles["heads"]) == meta["n_layers"] * meta["n_heads"]

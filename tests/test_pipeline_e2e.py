"""The real snakemake CLI on a tiny config: every rule runs, the table is complete, and
a second invocation or a probe hyperparameter edit re-runs exactly what it should."""

import re

import pandas as pd
import pytest

from conftest import run_snakemake
from graphattn.tables import COLUMNS

pytestmark = pytest.mark.e2e


def planned_jobs(workdir, config):
    """Rule -> job count of a dry run (`snakemake -n --quiet rules`)."""
    out = run_snakemake(workdir, "-n", "--quiet", "rules", config=config).stdout
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", out, flags=re.M))
    jobs.pop("total", None)
    return {rule: int(n) for rule, n in jobs.items()}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    from conftest import TINY_CONFIG

    workdir = tmp_path_factory.mktemp("tiny")
    run_snakemake(workdir, "--cores", "2", config=TINY_CONFIG)
    return workdir


def test_tiny_run_writes_the_ablation_table(tiny_run):
    table = pd.read_csv(tiny_run / "results/tables/ablation.csv", dtype={"k": str})
    assert list(table.columns) == COLUMNS
    assert sorted(zip(table.model, table.k, table.probe)) == [
        (model, k, probe) for model in ("minilm", "toy") for k in ("1", "none") for probe in ("gcn", "mlp")]
    assert table[["acc_mean", "f1_mean", "auroc_mean"]].notna().all().all()
    assert (tiny_run / "results/tables/ablation.md").read_text().count("\n") == 2 + len(table)
    for name in ("metrics.json", "history.csv", "best_model.pt"):
        assert (tiny_run / f"results/probes/minilm/tiny/arrow/all/knone/mlp/seed0/{name}").is_file()


def test_second_run_has_nothing_to_do(tiny_run):
    from conftest import TINY_CONFIG

    assert planned_jobs(tiny_run, TINY_CONFIG) == {}


def test_probe_hyperparameter_edit_reruns_only_that_probe_and_the_table(tiny_run):
    from conftest import TINY_CONFIG
    import copy

    edited = copy.deepcopy(TINY_CONFIG)
    edited["probes"]["mlp"]["hidden"] = 24
    n_mlp_jobs = len(edited["models"]) * len(edited["k"])  # a job trains every seed
    assert planned_jobs(tiny_run, edited) == {"train_probe": n_mlp_jobs, "ablation_table": 1, "all": 1}


def test_toy_model_is_trained_and_dumped_through_the_common_path(tiny_run):
    import json

    from graphattn.models import load_bridge

    metrics = json.loads((tiny_run / "results/models/toy_metrics.json").read_text())
    assert metrics["steps"] == 10 and 0 <= metrics["heldout_accuracy"] <= 1
    bridge = load_bridge(str(tiny_run / "results/models/toy"))
    meta = json.loads((tiny_run / "results/attention/toy/tiny/arrow/dense.json").read_text())
    assert (meta["n_layers"], meta["n_heads"]) == (bridge.cfg.n_layers, bridge.cfg.n_heads) == (1, 2)


def test_toy_setting_edit_retrains_the_toy_and_reruns_only_its_downstream_jobs(tiny_run):
    from conftest import TINY_CONFIG
    import copy

    edited = copy.deepcopy(TINY_CONFIG)
    edited["toy"]["lr"] = 0.001
    n_probe_jobs = len(edited["k"]) * len(edited["probes"])
    assert planned_jobs(tiny_run, edited) == {
        "train_toy_model": 1, "dump_attention": 1, "sparsify": 1, "combine": 2, "train_probe": n_probe_jobs,
        "ablation_table": 1, "all": 1}

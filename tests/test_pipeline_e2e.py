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
    assert sorted(zip(table.k, table.probe)) == [("1", "gcn"), ("1", "mlp"), ("none", "gcn"), ("none", "mlp")]
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
    n_mlp_runs = len(edited["k"]) * len(edited["seeds"])
    assert planned_jobs(tiny_run, edited) == {"train_probe": n_mlp_runs, "ablation_table": 1, "all": 1}

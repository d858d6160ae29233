"""scripts/cost_sheet.py: what a config costs on a cluster, read from its dry run, before it runs
and without its models."""

import subprocess
import sys
from textwrap import dedent

import pytest

from conftest import REPO, local_rules, planned_jobs
from graphattn import cost_sheet, dryrun

# A dry run as `snakemake -n --profile profiles/slurm` prints it: a model job, a local job and a
# group job of two probe trainings.
DRY_RUN = dedent("""\
    [Sun Dec  6 08:35:34 2026]
    rule dump_attention:
        input: results/prompts/s/arrow.jsonl
        output: results/attention/m/s/arrow/dense.npy
        jobid: 3
        benchmark: results/benchmarks/dump_attention/m/s/arrow.tsv
        wildcards: model=m, graph_set=s, notation=arrow
        threads: 2
        resources: tmpdir=/tmp, mem_mb=16000, mem=16 GB, slurm_account=a, runtime=120, gpu=1
    Shell command: None

    [Sun Dec  6 08:35:34 2026]
    rule ablation_table:
        jobid: 9
        resources: tmpdir=/tmp, mem_mb=4000, runtime=60
    Shell command: None
    [Sun Dec  6 08:35:34 2026] Group job probes (jobs in lexicogr. order):

        [Sun Dec  6 08:35:34 2026]
        rule train_probe:
            wildcards: model=m, probe=mlp
            resources: tmpdir=/tmp, mem_mb=2000, runtime=30
        Shell command: None

        [Sun Dec  6 08:35:34 2026]
        rule train_probe:
            wildcards: model=m, probe=gcn
            resources: tmpdir=/tmp, mem_mb=3000, runtime=30
        Shell command: None
    """)


def test_the_dry_run_is_read_into_jobs_and_group_jobs():
    alone, groups = dryrun.parse(DRY_RUN)
    assert [job.rule for job in alone] == ["dump_attention", "ablation_table"]
    dump = alone[0]
    assert dump.wildcards == {"model": "m", "graph_set": "s", "notation": "arrow"}
    assert (dump.threads, dump.resources["gpu"], dump.resources["mem_mb"], dump.resources["mem"]) == (2, 1, 16000, "16 GB")
    assert [(g.name, [j.wildcards["probe"] for j in g.jobs]) for g in groups] == [("probes", ["mlp", "gcn"])]
    assert all(job.group == "probes" for job in groups[0].jobs) and dump.group is None


@pytest.mark.parametrize("cores, group_mem", [(1, 3000), (2, 5000)])
def test_the_sheet_counts_submissions_and_hours_declared_or_measured(tmp_path, cores, group_mem):
    alone, groups = dryrun.parse(DRY_RUN)
    sheet = cost_sheet.cost_sheet(alone, groups, {"ablation_table"}, tmp_path, cores)
    assert "ablation_table" not in sheet.index  # runs on the submit host
    assert sheet.loc["dump_attention", ["jobs", "submissions", "gpu_hours", "cpu_hours"]].tolist() == [1, 1, 2.0, 0.0]
    assert sheet.loc["train_probe", ["jobs", "submissions", "cpu_hours"]].tolist() == [2, 0, 1.0]
    assert sheet.loc["probes (group)", ["jobs", "submissions", "max_mem_mb"]].tolist() == [2, 1, group_mem]
    assert sheet.loc["total", ["jobs", "submissions", "max_mem_mb", "measured"]].tolist() == [3, 2, 16000, 0]
    # An earlier run's benchmark replaces the declared runtime: 30 minutes, not 2 hours.
    benchmark = tmp_path / "results/benchmarks/dump_attention/m/s/arrow.tsv"
    benchmark.parent.mkdir(parents=True)
    benchmark.write_text("s\th:m:s\tmax_rss\n1800.0\t0:30:00\t900\n")
    measured = cost_sheet.cost_sheet(alone, groups, {"ablation_table"}, tmp_path, cores)
    assert measured.loc["dump_attention", ["gpu_hours", "measured"]].tolist() == [0.5, 1]
    assert "1 of 3 jobs measured" in cost_sheet.summary(measured)


@pytest.mark.e2e
def test_the_flagship_sheet_plans_without_its_models_and_counts_what_snakemake_plans(tmp_path, monkeypatch):
    """The seed's LLMs are not on this machine: the sheet still plans them (real CLI), and its
    job counts per rule are Snakemake's own (`snakemake -n` under the same profile)."""
    out = subprocess.run([sys.executable, str(REPO / "scripts/cost_sheet.py"), "--configfile",
                          str(REPO / "config/flagship.yaml"), "-d", str(tmp_path)],
                         capture_output=True, text=True, check=True).stdout
    rows = {cells[0]: cells[1:] for cells in ([c.strip() for c in line.strip("|").split("|")]
                                              for line in out.splitlines() if line.startswith("| "))}
    monkeypatch.setenv("GRAPHATTN_PLAN_WITHOUT_MODELS", "1")
    (tmp_path / "config.yaml").write_text((REPO / "config/flagship.yaml").read_text())
    planned = planned_jobs(tmp_path, None, ["--profile", str(REPO / "profiles/slurm")])
    cluster = {rule: n for rule, n in planned.items() if rule not in local_rules()}
    assert {rule: int(cells[0]) for rule, cells in rows.items()
            if rule in planned or rule in local_rules()} == cluster
    assert int(rows["total"][0]) == sum(cluster.values())
    total_submissions, gpu_hours = int(rows["total"][1]), float(rows["total"][2])
    assert total_submissions < sum(cluster.values()) / 4 and gpu_hours > 0
    assert f"{total_submissions} Slurm submissions for {sum(cluster.values())} jobs" in out

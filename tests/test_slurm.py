"""The tiny workflow (to its table) on a real Slurm: a one-node cluster (Debian's slurm-wlm and munge, started
by scripts/local_slurm.sh), driven by `snakemake --profile slurm` typed from the repository root,
as on a cluster. Every non-local job must run as a Slurm job, the short CPU jobs grouped as the
profile groups them (fewer submissions than jobs), and the table must equal the one of a local
run of the same config."""

import os
import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest

import yaml

from conftest import REPO, SNAKEMAKE, TINY_CONFIG, TINY_TARGETS, local_rules, planned_jobs, run_snakemake

pytestmark = [pytest.mark.slurm, pytest.mark.e2e]

LOCAL_SLURM = REPO / "scripts/local_slurm.sh"
# Rule -> its group in the profile: each group job is one Slurm submission.
GROUPS = dict(item.split("=") for item in yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())["groups"])


@pytest.fixture(scope="module")
def partition(tmp_path_factory):
    """A running one-node cluster; yields its partition."""
    if not Path("/etc/debian_version").is_file():
        pytest.skip("the test cluster is built from Debian's slurm-wlm package; this machine is not Debian")
    if os.geteuid() != 0:
        pytest.skip("starting slurmctld, slurmd and munged needs root")
    subprocess.run([LOCAL_SLURM, "install"], check=True, timeout=600)
    state = tmp_path_factory.mktemp("slurm")
    started = subprocess.run([LOCAL_SLURM, "start", state], capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stdout + started.stderr
    yield re.search(r"partition=(\S+)", started.stdout).group(1)
    subprocess.run([LOCAL_SLURM, "stop", state], check=True, timeout=60)


def run_on_slurm(workdir: Path, partition: str) -> str:
    """`snakemake --profile slurm` from the repository root, with the test cluster's settings."""
    cmd = [
        "timeout", "-k", "10", "900",
        SNAKEMAKE, "--profile", "slurm",
        "-s", "Snakefile", "-d", str(workdir), "--configfile", str(workdir / "config.yaml"),
        # The profile's site-specific block, replaced for the test cluster: its one partition
        # for every job (named, so partitions.yaml is not consulted), and no account (the
        # cluster has no accounting).
        "--default-resources", f"slurm_partition={partition}",
        "--slurm-no-account",
        # The profile's partition file is named relative to where snakemake is typed, but with
        # -d the executor reads it from the working directory: name it absolutely.
        "--slurm-partition-config", str(REPO / "profiles/slurm/partitions.yaml"),
        # Its one node has 2 CPUs: a group job runs its jobs 2 at a time (the profile says 8).
        "--cores", "2",
        # Without slurmdbd, `sacct` fails and the plugin would never see a job finish: ask squeue
        # (the cluster keeps finished jobs for an hour), and every 2 s instead of the defaults'
        # ~40 s per job.
        "--slurm-status-command", "squeue",
        "--slurm-init-seconds-before-status-checks", "2", "--seconds-between-status-checks", "2",
        *TINY_TARGETS,
    ]
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=960,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


def slurm_jobs() -> dict[str, tuple[str, str]]:
    """Slurm job id -> (state, rule) of every job the cluster remembers. The plugin names the rule
    in the job's comment: rule_<rule>[_wildcards_<values>]."""
    out = subprocess.run(["squeue", "--states=all", "--noheader", "--format=%i|%T|%k"],
                         capture_output=True, text=True, check=True).stdout
    jobs = {}
    for line in out.splitlines():
        job_id, state, comment = line.split("|")
        jobs[job_id] = (state, re.fullmatch(r"rule_(.+?)(_wildcards_.*)?", comment).group(1))
    return jobs


def test_tiny_workflow_runs_as_slurm_jobs_and_gives_the_local_table(tmp_path, partition, plain_tiny_run):
    on_slurm, local = tmp_path / "slurm", plain_tiny_run  # local: the same config run with --cores 2
    on_slurm.mkdir()
    run_snakemake(on_slurm, "-n", config=TINY_CONFIG)  # writes the config
    planned = planned_jobs(on_slurm, targets=TINY_TARGETS)

    log = run_on_slurm(on_slurm, partition)

    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", log)
    jobs = slurm_jobs()
    assert all(jobs[job_id][0] == "COMPLETED" for job_id in submitted), {i: jobs[i] for i in submitted}
    # A group job's comment names its group, then its rules: probes_layer_probes_train_probe.
    group_of = lambda name: next((g for g in set(GROUPS.values()) if name.startswith(g + "_")), name)  # noqa: E731
    remote = Counter(group_of(jobs[job_id][1]) for job_id in submitted)
    cluster_jobs = {rule: n for rule, n in planned.items() if rule not in local_rules()}
    # A job of its own for every rule that is not grouped; the grouped ones in a few group jobs.
    assert {rule: n for rule, n in remote.items() if rule not in GROUPS.values()} == {
        rule: n for rule, n in cluster_jobs.items() if rule not in GROUPS}
    assert {"dump_attention", "train_toy_model", "probes", "datasets"} <= set(remote)
    grouped = sum(n for rule, n in cluster_jobs.items() if rule in GROUPS)
    assert remote["probes"] + remote["datasets"] < grouped and len(submitted) < sum(cluster_jobs.values())
    assert (on_slurm / "results/tables/ablation.csv").read_bytes() == (local / "results/tables/ablation.csv").read_bytes()

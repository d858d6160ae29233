"""What a run costs on a cluster, before it runs, from its dry run (dryrun.parse): per rule, the
jobs and the Slurm submissions (a group job is one), the GPU-hours and the CPU-hours, and the
largest memory request. A job's hours are its benchmark file's mean where an earlier run left
one (measured), else its rule's declared `runtime` (an upper bound: the time Slurm is asked
for, not what the job is expected to take)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .dryrun import GroupJob, PlannedJob


def job_hours(job: PlannedJob, workdir: str | Path) -> tuple[float, bool]:
    """(hours, measured): the job's benchmark (seconds) where present, else its declared runtime (minutes)."""
    benchmark = job.fields.get("benchmark")
    if benchmark and Path(workdir, benchmark).is_file():
        return float(pd.read_csv(Path(workdir, benchmark), sep="\t")["s"].mean()) / 3600, True
    return float(job.resources.get("runtime", 0)) / 60, False


def cost_sheet(alone: list[PlannedJob], groups: list[GroupJob], local: set[str], workdir: str | Path,
               cores: int) -> pd.DataFrame:
    """One row per rule whose jobs go to the cluster, then one per group (its submissions and the
    memory one of them asks for: the `cores` largest members that run at once), then the total.
    Columns: jobs, submissions, gpu_hours (GPUs x hours of the jobs that ask for a GPU),
    cpu_hours (threads x hours of the others), measured (jobs with a benchmark), max_mem_mb."""
    rows: dict[str, dict] = {}

    def add(job: PlannedJob, submissions: int):
        row = rows.setdefault(job.rule, dict(jobs=0, submissions=0, gpu_hours=0.0, cpu_hours=0.0, measured=0,
                                             max_mem_mb=0))
        hours, measured = job_hours(job, workdir)
        gpus = int(job.resources.get("gpu", 0) or 0)
        row["jobs"] += 1
        row["submissions"] += submissions
        row["gpu_hours" if gpus else "cpu_hours"] += (gpus or job.threads) * hours
        row["measured"] += measured
        if submissions:  # a grouped job's memory is its group's request (below)
            row["max_mem_mb"] = max(row["max_mem_mb"], int(job.resources.get("mem_mb", 0)))

    for job in alone:
        if job.rule not in local:
            add(job, 1)
    for group in groups:
        for job in group.jobs:
            add(job, 0)
    table = pd.DataFrame.from_dict(rows, orient="index")
    for name in dict.fromkeys(group.name for group in groups):
        members = [g for g in groups if g.name == name]
        mem = max(sum(sorted((int(j.resources.get("mem_mb", 0)) for j in g.jobs), reverse=True)[:cores])
                  for g in members)
        table.loc[f"{name} (group)"] = dict(jobs=sum(len(g.jobs) for g in members), submissions=len(members),
                                            gpu_hours=0.0, cpu_hours=0.0, measured=0, max_mem_mb=mem)
    rules = table[~table.index.str.endswith("(group)")]
    table.loc["total"] = dict(jobs=rules["jobs"].sum(), submissions=table["submissions"].sum(),
                              gpu_hours=table["gpu_hours"].sum(), cpu_hours=table["cpu_hours"].sum(),
                              measured=rules["measured"].sum(), max_mem_mb=table["max_mem_mb"].max())
    return table.astype({"jobs": int, "submissions": int, "measured": int, "max_mem_mb": int})


INTS = ["jobs", "submissions", "measured", "max_mem_mb"]


def markdown(table: pd.DataFrame) -> str:
    """The sheet as a markdown table: counts as whole numbers, hours to one decimal."""
    shown = table.copy().astype(object)
    for column in table.columns:
        shown[column] = [f"{v:d}" if column in INTS else f"{v:.1f}" for v in table[column]]
    return shown.to_markdown(colalign=("left",) + ("right",) * len(table.columns), disable_numparse=True)


def summary(table: pd.DataFrame) -> str:
    """The sheet's bottom line in words."""
    total = {c: int(v) if c in INTS else float(v) for c, v in table.loc["total"].items()}
    others = table.drop(index="total")
    largest = ", ".join(others.index[others["max_mem_mb"] == total["max_mem_mb"]])
    source = "all measured" if total["measured"] == total["jobs"] else (
        f"{total['measured']} of {total['jobs']} jobs measured, the others at their declared runtime (an upper bound)")
    return (f"{total['submissions']} Slurm submissions for {total['jobs']} jobs; {total['gpu_hours']:.0f} GPU-hours "
            f"and {total['cpu_hours']:.0f} CPU-hours ({source}); largest memory request {total['max_mem_mb']} MB "
            f"({largest}).")

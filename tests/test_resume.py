"""Interrupted and repeated runs, with the real snakemake CLI on the tiny config
(TINY_CONFIG, to its table), compared with an uninterrupted run of it (the `plain_tiny_run` fixture).

The workflow is killed with SIGKILL to Snakemake's whole process group (what a node failure or
`kill -9` does: no job gets to clean up) while a job is writing, then resumed the way the README
says: `snakemake --unlock` (a killed Snakemake cannot remove its lock), then the same command
again; profiles/default sets rerun-incomplete. The writing job is caught mid-write through
graphattn.atomic's test hook, which holds a finished temporary file before its rename.
"""

import json
import os
import signal
import subprocess
import time

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from conftest import REPO, SNAKEMAKE, TINY_CONFIG, TINY_TARGETS, planned_jobs, run_snakemake

pytestmark = pytest.mark.e2e

# Files that record a run rather than its results: rewritten by every run.
RECORDS = ("logs", "benchmarks")


def start(workdir, hold: str) -> subprocess.Popen:
    """`snakemake --cores 1` in its own process group; writes to paths matching ``hold`` stall.
    One core: the held job is then the only one running when the kill comes, so every other
    output on disk belongs to a finished job."""
    (workdir / "config.yaml").write_text(yaml.safe_dump(TINY_CONFIG))
    cmd = [SNAKEMAKE, "-s", str(REPO / "Snakefile"), "-d", str(workdir), "--configfile", str(workdir / "config.yaml"),
           "--cores", "1", *TINY_TARGETS]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRAPHATTN_HOLD_WRITES": f"{hold}=900"}
    with open(workdir / "killed-run.log", "a") as log:
        return subprocess.Popen(cmd, env=env, start_new_session=True, stdout=log, stderr=subprocess.STDOUT)


def kill_while_writing(workdir, hold: str, temporary: str) -> str:
    """Start the run, wait until a temporary file matching the glob ``temporary`` is held, kill -9
    the group; return the held job's folder under results/."""
    run = start(workdir, hold)
    deadline = time.monotonic() + 600
    try:
        while not list(workdir.glob(temporary)):
            assert run.poll() is None, (workdir / "killed-run.log").read_text()
            assert time.monotonic() < deadline, "the held write never started"
            time.sleep(0.2)
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    deadline = time.monotonic() + 10  # SIGKILL is delivered at once; dying takes a moment
    while living(run.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert living(run.pid) == [], "jobs outlived the kill of their process group"
    held = list(workdir.glob(temporary))
    assert len(held) == 1  # written in full, never renamed
    return str(held[0].parent.relative_to(workdir / "results"))


def living(group: int) -> list[str]:
    """Processes of the group that are not zombies (a killed job's parent may not reap it at once)."""
    pids = subprocess.run(["pgrep", "-g", str(group)], capture_output=True, text=True).stdout.split()
    states = {}
    for pid in pids:
        try:
            states[pid] = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            pass
    return [pid for pid, state in states.items() if state != "Z"]


def finished(outputs: dict, held_folder: str) -> dict:
    """The outputs of finished jobs: all but those beside the held (killed) write."""
    return {name: stamp for name, stamp in outputs.items() if not name.startswith(held_folder + "/")}


def visible_outputs(workdir) -> dict[str, tuple[int, int]]:
    """Every result file under its final name (not a temporary, not a log) -> (size, mtime)."""
    results = workdir / "results"
    return {str(p.relative_to(results)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(results.rglob("*"))
            if p.is_file() and not p.name.startswith(".") and p.relative_to(results).parts[0] not in RECORDS}


def assert_whole(workdir, names) -> None:
    """A file visible under its final name reads completely: nothing half-written."""
    for name in names:
        path = workdir / "results" / name
        if path.suffix == ".npy":
            np.load(path, allow_pickle=False)
        elif path.suffix == ".npz":
            np.load(path, allow_pickle=False).close()
        elif path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".jsonl":
            [json.loads(line) for line in path.read_text().splitlines()]
        elif path.suffix == ".csv":
            pd.read_csv(path)
        elif path.suffix == ".pt":
            torch.load(path, weights_only=True)


def test_killed_runs_resume_and_give_the_uninterrupted_table(tmp_path, plain_tiny_run):
    """Also the reproducibility check: the resumed run computes everything again in a folder of
    its own, and its tables must be byte-identical to the uninterrupted run's."""
    workdir = tmp_path
    # 1. Killed while dump_attention writes the MiniLM dump.
    held = kill_while_writing(workdir, r"attention/minilm/tiny/arrow/dense\.npy$",
                              "results/attention/minilm/tiny/arrow/.dense.*.tmp.npy")
    assert not (workdir / "results/attention/minilm/tiny/arrow/dense.npy").exists()
    first = finished(visible_outputs(workdir), held)
    assert "graphs/tiny.json" in first
    assert_whole(workdir, first)

    # 2. Resumed, and killed again while train_probe writes a probe's metrics.
    run_snakemake(workdir, "--unlock")
    plan = planned_jobs(workdir, targets=TINY_TARGETS)
    assert plan.get("dump_attention", 0) >= 1 and "generate_graphs" not in plan  # only what is not done
    held = kill_while_writing(workdir, r"probes/.*/metrics\.json$", "results/probes/**/.metrics.*.tmp.json")
    assert not (workdir / "results" / held / "metrics.json").exists()
    assert_whole(workdir, visible_outputs(workdir))
    second = finished(visible_outputs(workdir), held)
    assert "attention/minilm/tiny/arrow/dense.npy" in second
    assert {name: second[name] for name in first} == first, "the resumed run redid jobs that were complete"

    # 3. Resumed to the end: nothing complete is redone, and the tables are the uninterrupted run's.
    run_snakemake(workdir, "--unlock")
    assert "train_probe" in planned_jobs(workdir, targets=TINY_TARGETS)
    run_snakemake(workdir, "--cores", "2", *TINY_TARGETS)
    final = visible_outputs(workdir)
    assert {name: final[name] for name in second} == second, "the resumed run redid jobs that were complete"
    assert set(final) == set(visible_outputs(plain_tiny_run))
    for table in ("ablation.csv", "ablation.md", "ablation.html"):
        again, first_run = (workdir / "results/tables" / table).read_bytes(), (plain_tiny_run / "results/tables" / table).read_bytes()
        assert again == first_run, table
    assert len(pd.read_csv(workdir / "results/tables/ablation.csv")) == 2 * 1 * 2  # models x k x probes
    assert planned_jobs(workdir, targets=TINY_TARGETS) == {}
    assert list((workdir / "results").rglob(".*.tmp.*")) == []  # the killed writes' leftovers are gone

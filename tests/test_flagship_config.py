"""config/flagship.yaml under the Slurm profile: the seed's four LLMs and their controls with
everything the pipeline measures. Planned with the real CLI (`snakemake -n --profile
profiles/slurm`) on tiny random-weight models of the same architectures, still on `device:
cuda`; each planned job is then placed by the Slurm executor plugin's own partition selection
(its reading of profiles/slurm/partitions.yaml), as it would be at submission. No GPU or Slurm
is needed for this: nothing runs."""

import copy
import logging
from collections import Counter
from types import SimpleNamespace

import pytest
import yaml

import tiny_models
from conftest import REPO, local_rules, run_snakemake
from graphattn import dryrun

pytestmark = pytest.mark.e2e

FLAGSHIP = yaml.safe_load((REPO / "config/flagship.yaml").read_text())
ARCH = {"llama-3.2-1b": "llama", "gemma-2-2b": "gemma2", "qwen2.5-0.5b": "qwen2", "qwen2.5-1.5b": "qwen2"}
# The rules whose jobs load a model.
MODEL_RULES = {"dump_attention", "analyse_attention", "behaviour", "logit_answers", "patch_heads", "head_ablation",
               "sink_sweep"}
PROFILE = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
GROUP_SIZE = dict(item.split("=") for item in PROFILE["group-components"])
# The bound on Slurm submissions of the whole flagship run, and per rule or group (221 and 48
# today: docs/methods.md).
MAX_SUBMISSIONS, MAX_PER_RULE = 250, 48


class Resources(dict):
    """A planned job's resources as the plugin reads them (``.get`` and attribute access)."""

    def __getattr__(self, name):
        return self.get(name)


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory) -> str:
    """`snakemake -n --profile profiles/slurm` of the flagship config on tiny models."""
    tmp = tmp_path_factory.mktemp("flagship")
    config = copy.deepcopy(FLAGSHIP)
    for name, entry in config["models"].items():
        entry["path"] = str(tiny_models.build(ARCH[name], tmp / "models" / name))
    config["behaviour"]["ablation"]["counts"] = [1, "all"]  # tiny models have 8 heads
    return run_snakemake(tmp, "-n", "--profile", str(REPO / "profiles/slurm"), config=config).stdout


@pytest.fixture(scope="module")
def planned(dry_run):
    """(rule, model, resources, partition) of every job the flagship config plans outside a group."""
    from snakemake_executor_plugin_slurm.partitions import get_best_partition, read_partition_file

    partitions = read_partition_file(REPO / "profiles/slurm/partitions.yaml")
    jobs = []
    for job in dryrun.parse(dry_run)[0]:
        resources = Resources(job.resources)
        placed = SimpleNamespace(name=job.rule, resources=resources, threads=job.threads)
        jobs.append((job.rule, job.wildcards.get("model"), resources,
                     get_best_partition(partitions, placed, logging.getLogger())))
    return jobs


def test_the_flagship_plans_every_model_and_control_in_every_rule_that_runs_a_model(planned):
    models = set(FLAGSHIP["models"]) | {f"{name}-random" for name in FLAGSHIP["models"]}
    for rule in MODEL_RULES - {"sink_sweep"}:
        assert {model for r, model, _, _ in planned if r == rule} == models, rule
    # A random-init control has no answer for the sink to move: the models alone are swept.
    assert {model for r, model, _, _ in planned if r == "sink_sweep"} == set(FLAGSHIP["models"])


def test_model_jobs_ask_for_a_gpu_and_go_to_a_gpu_partition_and_no_other_job_does(planned):
    for rule, model, resources, partition in planned:
        if rule in local_rules():
            continue  # run on the submit host
        if rule in MODEL_RULES:
            base = model.removesuffix("-random")
            assert resources.get("gpu") == FLAGSHIP["models"][base]["gpus"] >= 1, (rule, model, resources)
            assert resources["mem_mb"] == FLAGSHIP["models"][base]["mem_mb"], (rule, model)
            assert partition == "gpu", (rule, model, resources)
        else:
            assert not resources.get("gpu"), (rule, model, resources)
            assert partition == "cpu", (rule, model, resources)


def test_short_cpu_jobs_travel_in_groups_and_the_run_stays_within_its_stated_submissions(dry_run, planned):
    groups = [(group.name, [job.rule for job in group.jobs]) for group in dryrun.parse(dry_run)[1]]
    grouped = Counter(rule for _, rules in groups for rule in rules)
    # Every probe training is in a group (624 of them in the flagship), no job that loads a model is.
    assert grouped["train_probe"] == 576 and grouped["layer_probes"] == 48 and grouped["combine"] == 96
    assert not set(grouped) & MODEL_RULES
    assert all(len(rules) <= int(GROUP_SIZE[name]) * 2 for name, rules in groups)  # a component: 1-2 jobs
    alone = Counter(rule for rule, _, _, _ in planned if rule not in local_rules())
    assert not set(alone) & set(grouped)
    submissions = sum(alone.values()) + len(groups)
    per_rule = alone + Counter(name for name, _ in groups)
    assert submissions <= MAX_SUBMISSIONS and max(per_rule.values()) <= MAX_PER_RULE, (submissions, per_rule)
    assert submissions < (sum(alone.values()) + sum(grouped.values())) / 4

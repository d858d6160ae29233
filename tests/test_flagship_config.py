"""config/flagship.yaml under the Slurm profile: the seed's four LLMs and their controls with
everything the pipeline measures. Planned with the real CLI (`snakemake -n --profile
profiles/slurm`) on tiny random-weight models of the same architectures, still on `device:
cuda`; each planned job is then placed by the Slurm executor plugin's own partition selection
(its reading of profiles/slurm/partitions.yaml), as it would be at submission. No GPU or Slurm
is needed for this: nothing runs."""

import copy
import logging
from types import SimpleNamespace

import pytest
import yaml

import tiny_models
from conftest import REPO, job_model, planned_job_fields

pytestmark = pytest.mark.e2e

FLAGSHIP = yaml.safe_load((REPO / "config/flagship.yaml").read_text())
ARCH = {"llama-3.2-1b": "llama", "gemma-2-2b": "gemma2", "qwen2.5-0.5b": "qwen2", "qwen2.5-1.5b": "qwen2"}
# The rules whose jobs load a model.
MODEL_RULES = {"dump_attention", "analyse_attention", "behaviour", "logit_answers", "patch_heads", "head_ablation",
               "sink_sweep"}


class Resources(dict):
    """A planned job's resources as the plugin reads them (``.get`` and attribute access)."""

    def __getattr__(self, name):
        return self.get(name)


def job_resources(fields: dict[str, str]) -> Resources:
    """The "resources: name=value, ..." line of a dry run's job, numbers as numbers."""
    pairs = (item.split("=", 1) for item in fields["resources"].split(", "))
    return Resources({name: int(value) if value.isdigit() else value for name, value in pairs})


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """(rule, model, resources, partition) of every job the flagship config submits."""
    from snakemake_executor_plugin_slurm.partitions import get_best_partition, read_partition_file

    tmp = tmp_path_factory.mktemp("flagship")
    config = copy.deepcopy(FLAGSHIP)
    for name, entry in config["models"].items():
        entry["path"] = str(tiny_models.build(ARCH[name], tmp / "models" / name))
    config["behaviour"]["ablation"]["counts"] = [1, "all"]  # tiny models have 8 heads
    partitions = read_partition_file(REPO / "profiles/slurm/partitions.yaml")
    jobs = []
    for rule, fields in planned_job_fields(tmp, config, "--profile", str(REPO / "profiles/slurm")):
        resources = job_resources(fields)
        job = SimpleNamespace(name=rule, resources=resources, threads=int(fields.get("threads", 1)))
        jobs.append((rule, job_model(fields), resources, get_best_partition(partitions, job, logging.getLogger())))
    return jobs


def test_the_flagship_plans_every_model_and_control_in_every_rule_that_runs_a_model(planned):
    models = set(FLAGSHIP["models"]) | {f"{name}-random" for name in FLAGSHIP["models"]}
    for rule in MODEL_RULES - {"sink_sweep"}:
        assert {model for r, model, _, _ in planned if r == rule} == models, rule
    # A random-init control has no answer for the sink to move: the models alone are swept.
    assert {model for r, model, _, _ in planned if r == "sink_sweep"} == set(FLAGSHIP["models"])
    assert {r for r, _, _, _ in planned} >= {"train_probe", "train_baseline", "layer_probes", "combine"}


def test_model_jobs_ask_for_a_gpu_and_go_to_a_gpu_partition_and_no_other_job_does(planned):
    for rule, model, resources, partition in planned:
        if rule in MODEL_RULES:
            base = model.removesuffix("-random")
            assert resources.get("gpu") == FLAGSHIP["models"][base]["gpus"] >= 1, (rule, model, resources)
            assert resources["mem_mb"] == FLAGSHIP["models"][base]["mem_mb"], (rule, model)
            assert partition == "gpu", (rule, model, resources)
        else:
            assert not resources.get("gpu"), (rule, model, resources)
            assert partition == "cpu", (rule, model, resources)

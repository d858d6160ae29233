# Graph-attention probing pipeline: do a model's attention heads encode the
# edges of a graph written as text? See README.md and ../shared/DESIGN.md.

from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")


# A --configfile on the command line is a complete config (e.g. config/paper.yaml):
# it replaces the embedded default instead of being merged into it.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


import os

import graphattn.config

# Every job inherits this: PyTorch's OpenMP threads spin ~300,000 times waiting for work before
# they sleep, which on a machine with fewer cores than running jobs burns the CPU that the
# other jobs need (beside two busy cores, a 2-thread dump of SmolLM2 took 1.3 times the CPU
# of this setting; benchmarks/job_threads.py). 10,000 spins cost nothing when the job runs
# alone. A value set by the user wins.
os.environ.setdefault("GOMP_SPINCOUNT", "10000")

# Validated at load, before any job is planned: messages that name the key and what would be
# accepted. Fills the schema's defaults; random-init control twins ("<name>-random") join the
# grid as models of their own; a GGUF source becomes the path of the folder that the rule
# convert_gguf makes of it.
# GRAPHATTN_PLAN_WITHOUT_MODELS=1: plan a run for another machine (scripts/cost_sheet.py).
graphattn.config.load(config, Path(workflow.basedir, "config/schema.yaml"), workflow.configfiles,
                      require_models=os.environ.get("GRAPHATTN_PLAN_WITHOUT_MODELS") != "1")


# The report's introduction: the research question and the config of the run.
report: "workflow/report/workflow.rst"


include: "rules/common.smk"
include: "rules/graphs.smk"
include: "rules/toy.smk"
include: "rules/gguf.smk"
include: "rules/finetune.smk"
include: "rules/attention.smk"
include: "rules/datasets.smk"
include: "rules/probes.smk"
include: "rules/tables.smk"
include: "rules/heads.smk"
include: "rules/analysis.smk"
include: "rules/plots.smk"
include: "rules/behaviour.smk"


rule all:
    input:
        "results/tables/ablation.csv",
        "results/tables/ablation.md",
        head_score_files(),
        analysis_files(),
        plot_files(),
        summary_plot_files(),
        behaviour_targets(),
        layer_targets(),
    default_target: True

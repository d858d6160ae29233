import os

# Every job but the toy model's training yields the CPU to it: it is the default run's critical
# path, and Snakemake runs more jobs than a 2-core machine has cores. Before the imports.
os.nice(19)

import json

import pandas as pd

from graphattn import plots
from graphattn.rule_log import log_to

with log_to(snakemake.log[0]):
    plots.toy_history(pd.read_csv(snakemake.input.history), snakemake.output.history)
    with open(snakemake.input.metrics) as fh:
        step_99 = json.load(fh)["step_99"]
    plots.toy_dynamics(pd.read_csv(snakemake.input.role_scores), step_99, snakemake.output.dynamics)

import os

# Every job but the toy model's training yields the CPU to it: it is the default run's critical
# path, and Snakemake runs more jobs than a 2-core machine has cores. Before the imports.
os.nice(19)

import pandas as pd

from graphattn import plots
from graphattn.rule_log import log_to

with log_to(snakemake.log[0]):
    model = snakemake.wildcards.model
    table = pd.read_csv(snakemake.input.table, dtype={"k": str})
    plots.f1_bars(table[table["model"] == model], snakemake.output.f1, f"{model}: test F1 (mean over seeds, 95% interval over test graphs)")
    histories = {
        f"{run['probe']}: {run['graph_set']}/{run['notation']}/{run['selection']}/k{run['k']}/{run['relation']}": pd.read_csv(path)
        for run, path in zip(snakemake.params.runs, snakemake.input.histories)
    }
    plots.training_curves(histories, snakemake.output.curves, f"{model}: validation F1 while training (seed {snakemake.params.runs[0]['seed']})")

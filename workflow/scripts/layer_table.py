import os

# Every job but the toy model's training yields the CPU to it: it is the default run's critical
# path, and Snakemake runs more jobs than a 2-core machine has cores. Before the imports.
os.nice(19)

import pandas as pd

from graphattn import plots
from graphattn.atomic import write_text
from graphattn.rule_log import log_to

with log_to(snakemake.log[0]) as log:
    table = pd.concat([pd.read_csv(path).assign(**run) for run, path in zip(snakemake.params.runs, snakemake.input)])
    table = table.groupby(["model", "graph_set", "notation", "probe", "layer"], sort=False)["f1"].agg(["mean", "std"])
    table = table.rename(columns={"mean": "f1", "std": "f1_std"}).reset_index()
    write_text(snakemake.output.csv, table.to_csv(index=False, float_format="%.4f"))
    plots.layer_f1(table, snakemake.params.controls, snakemake.output.png)
    best = table.loc[table.groupby(["model", "probe"], sort=False)["f1"].idxmax()]
    for row in best.itertuples():
        log.info("%s %s: best layer %d (F1 %.3f)", row.model, row.probe, row.layer, row.f1)

import os

# Every job but the toy model's training yields the CPU to it: it is the default run's critical
# path, and Snakemake runs more jobs than a 2-core machine has cores. Before the imports.
os.nice(19)

import pandas as pd

from graphattn import plots
from graphattn.rule_log import log_to

with log_to(snakemake.log[0]):
    view = dict(snakemake.params.view)
    table = pd.read_csv(snakemake.input[0], dtype={"k": str})
    rows = table.loc[(table[list(view)] == pd.Series(view)).all(axis=1)]
    where = " / ".join(view[key] for key in ("notation", "selection")) + f" / k={view['k']}"
    controls, position = dict(snakemake.params.controls), snakemake.params.position_probe
    if snakemake.rule == "size_plot":
        plots.f1_by_size(rows, dict(snakemake.params.sizes), controls, position, snakemake.output[0],
                         f"Test F1 against graph size ({where})")
    else:
        plots.selectivity(rows, controls, position, snakemake.output[0],
                          f"Test F1 beside the control (tick) and position (dashed) baselines: {view['graph_set']} / {where}")

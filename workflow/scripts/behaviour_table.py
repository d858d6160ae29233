import os

# Every job but the toy model's training yields the CPU to it: it is the default run's critical
# path, and Snakemake runs more jobs than a 2-core machine has cores. Before the imports.
os.nice(19)

import pandas as pd

from graphattn import plots
from graphattn.atomic import write_text
from graphattn.behaviour.tables import behaviour_table
from graphattn.rule_log import log_to

with log_to(snakemake.log[0]) as log:
    runs, intervened = snakemake.params.runs, snakemake.params.intervened
    read = lambda paths: [pd.read_csv(p) for p in paths]  # noqa: E731
    table = behaviour_table(runs, read(snakemake.input.summaries), read(snakemake.input.curves), intervened,
                            read(snakemake.input.sweeps), read(snakemake.input.sink_probes), snakemake.params.controls)
    write_text(snakemake.output.csv, table.to_csv(index=False, float_format="%.4f"))
    write_text(snakemake.output.md, table.to_markdown(index=False, floatfmt=".3f"))
    sweeps = pd.concat([sweep.assign(**run) for run, sweep in zip(intervened, read(snakemake.input.sweeps))])
    probed = pd.concat([p.assign(**run) for run, p in zip(intervened, read(snakemake.input.sink_probes))])
    plots.sink_sweep(sweeps, probed, snakemake.output.sink_png)
    log.info("%d rows", len(table))

import os

# Every job but the toy model's training yields the CPU to it: it is the default run's critical
# path, and Snakemake runs more jobs than a 2-core machine has cores. Before the imports.
os.nice(19)

from graphattn import tables
from graphattn.rule_log import log_to

with log_to(snakemake.log[0]) as log:
    runs = tables.load_runs(list(snakemake.input), list(snakemake.params.runs))
    intervals = snakemake.params.intervals
    table = tables.ablation_table(runs, dict(snakemake.params.controls), snakemake.params.position_probe,
                                  resamples=intervals["resamples"], bootstrap_seed=intervals["seed"])
    tables.write(table, snakemake.output.csv, snakemake.output.md, snakemake.output.html)
    log.info("ablation table: %d rows from %d runs", len(table), len(runs))

import os

# Every job but the toy model's training yields the CPU to it: it is the default run's critical
# path, and Snakemake runs more jobs than a 2-core machine has cores. Before the imports.
os.nice(19)

from graphattn.gguf import fetch
from graphattn.rule_log import log_to

with log_to(snakemake.log[0]):
    fetch(dict(snakemake.params.source), snakemake.output[0])

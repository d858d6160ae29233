import os

# Every job but the toy model's training yields the CPU to it: it is the default run's critical
# path, and Snakemake runs more jobs than a 2-core machine has cores. Before the imports.
os.nice(19)

import json

from graphattn.rule_log import log_to
from graphattn.sparsify import sparsify_file

with log_to(snakemake.log[0]):
    with open(snakemake.input.meta) as fh:
        n_nodes = json.load(fh)["n_nodes"]
    sparsify_file(snakemake.input.dump, snakemake.output[0], n_nodes, snakemake.params.k)

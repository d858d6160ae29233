import json

from graphattn.rule_log import log_to
from graphattn.sparsify import sparsify_file

with log_to(snakemake.log[0]):
    with open(snakemake.input.meta) as fh:
        n_nodes = json.load(fh)["n_nodes"]
    sparsify_file(snakemake.input.dump, snakemake.output[0], n_nodes, snakemake.params.k)

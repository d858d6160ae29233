import os

# Every job but the toy model's training yields the CPU to it: it is the default run's critical
# path, and Snakemake runs more jobs than a 2-core machine has cores. Before the imports.
os.nice(19)

from graphattn import graphs
from graphattn.rule_log import log_to

with log_to(snakemake.log[0]) as log:
    settings = snakemake.params.graph_set
    generated = graphs.generate(
        settings["min_nodes"], settings["max_nodes"], settings["edge_prob"],
        settings["count"], settings["seed"], settings["naming"],
    )
    graphs.save(snakemake.output[0], generated, settings["max_nodes"])
    log.info("wrote %d graphs to %s", len(generated), snakemake.output[0])

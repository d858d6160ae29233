import os

# Every job but the toy model's training yields the CPU to it: it is the default run's critical
# path, and Snakemake runs more jobs than a 2-core machine has cores. Before the imports.
os.nice(19)

from graphattn import datasets, graphs
from graphattn.rule_log import log_to

with log_to(snakemake.log[0]) as log:
    loaded, max_nodes = graphs.load(snakemake.input.graphs)
    split = snakemake.params.split
    dataset = datasets.position_dataset(snakemake.input.prompts, loaded, max_nodes, split["train"], split["val"],
                                        split["seed"])
    datasets.save(snakemake.output[0], dataset)
    log.info("position dataset %s: %d graphs", snakemake.output[0], len(dataset["graph_id"]))

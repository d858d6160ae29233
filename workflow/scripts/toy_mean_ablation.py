import os

# Every job but the toy model's training yields the CPU to it: it is the default run's critical
# path, and Snakemake runs more jobs than a 2-core machine has cores. Before the imports.
os.nice(19)

import json

import torch

from graphattn import plots
from graphattn.ablation import mean_ablation, with_role_tags
from graphattn.atomic import write_text
from graphattn.rule_log import log_to
from graphattn.toy import graph_set_edge_sets

with log_to(snakemake.log[0]) as log:
    torch.set_num_threads(snakemake.threads)
    table = mean_ablation(snakemake.input.model, snakemake.params.graphs, snakemake.params.toy,
                          graph_set_edge_sets(list(snakemake.input.graph_sets)))
    with open(snakemake.input.roles) as fh:
        table = with_role_tags(table, json.load(fh)["heads"])
    write_text(snakemake.output.table, table.to_csv(index=False, float_format="%.4f"))
    plots.toy_ablation(table, snakemake.output.png)
    for row in table.dropna(subset=["layer"]).nlargest(3, "drop").itertuples():
        log.info("ablating %s costs %.3f accuracy (tags: %s)", row.ablated, row.drop, row.tags)

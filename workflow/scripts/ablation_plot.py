import pandas as pd

from graphattn import plots
from graphattn.rule_log import log_to

with log_to(snakemake.log[0]):
    plots.ablation_curve(pd.read_csv(snakemake.input[0]), snakemake.output[0],
                         "{model} / {graph_set} / {notation}: heads mean-ablated".format(**snakemake.wildcards))

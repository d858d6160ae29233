import pandas as pd

from graphattn import plots
from graphattn.rule_log import log_to

with log_to(snakemake.log[0]):
    plots.toy_history(pd.read_csv(snakemake.input[0]), snakemake.output[0])

import os

os.nice(19)  # many short jobs: yield to the critical path, as train_probe does

import torch

from graphattn.atomic import write_text
from graphattn.probes.layers import layer_probes
from graphattn.rule_log import log_to

with log_to(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    table = layer_probes(snakemake.input[0], dict(snakemake.params.probes), list(snakemake.params.seeds))
    write_text(snakemake.output[0], table.to_csv(index=False, float_format="%.4f"))

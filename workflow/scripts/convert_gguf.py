# Not niced, unlike the other jobs: SmolLM2's dumps wait for this file, and with the toy's
# training made faster they are the default run's other long chain (docs/results.md).

import torch

from graphattn.gguf import convert
from graphattn.rule_log import log_to

with log_to(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    convert(snakemake.input[0], snakemake.output[0], snakemake.params.sha256)

# Not niced, unlike the other jobs: SmolLM2's dumps wait for this file, and with the toy's
# training made faster they are the default run's other long chain (docs/results.md).

from graphattn.gguf import fetch
from graphattn.rule_log import log_to

with log_to(snakemake.log[0]):
    fetch(dict(snakemake.params.source), snakemake.output[0])

# Not niced, unlike the other jobs: SmolLM2's dumps wait for this file, and with the toy's
# training made faster they are the default run's other long chain (docs/benchmarks.md).
from graphattn.job import job

with job(snakemake, nice=False):
    from graphattn.gguf import fetch

    fetch(dict(snakemake.params.source), snakemake.output[0])

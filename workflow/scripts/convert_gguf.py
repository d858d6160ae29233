# Not niced, unlike the other jobs: SmolLM2's dumps wait for this file, and with the toy's
# training made faster they are the default run's other long chain (docs/benchmarks.md).
from graphattn.job import job

with job(snakemake, nice=False):
    import torch

    from graphattn.gguf import convert

    torch.set_num_threads(snakemake.threads)
    convert(snakemake.input[0], snakemake.output[0], snakemake.params.sha256)

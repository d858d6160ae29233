import os

# Probe jobs are many and short: they yield the CPU to the long jobs on the critical
# path (the toy model's training) when `--cores` exceeds the machine's cores. Before
# the imports, which are most of a probe job's CPU time.
os.nice(19)

from pathlib import Path

import torch

from graphattn.probes.train import train_seeds
from graphattn.rule_log import log_to

with log_to(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    train_seeds(
        dataset_path=snakemake.input[0],
        out_dirs={int(seed): Path(metrics).parent for seed, metrics in zip(snakemake.params.seeds, snakemake.output.metrics)},
        probe=snakemake.wildcards.probe,
        hyper=dict(snakemake.params.hyper),
        relation=snakemake.wildcards.relation,
    )

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
    )

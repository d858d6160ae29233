from pathlib import Path

import torch

from graphattn.probes.train import train_probe
from graphattn.rule_log import log_to

with log_to(snakemake.log[0]):
    torch.set_num_threads(snakemake.threads)
    for seed, metrics in zip(snakemake.params.seeds, snakemake.output.metrics):
        train_probe(
            dataset_path=snakemake.input[0],
            out_dir=Path(metrics).parent,
            probe=snakemake.wildcards.probe,
            hyper=dict(snakemake.params.hyper),
            seed=int(seed),
        )

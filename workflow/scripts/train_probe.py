from pathlib import Path

from graphattn.probes.train import train_probe
from graphattn.rule_log import log_to

with log_to(snakemake.log[0]):
    train_probe(
        dataset_path=snakemake.input[0],
        out_dir=Path(snakemake.output.metrics).parent,
        probe=snakemake.wildcards.probe,
        hyper=dict(snakemake.params.hyper),
        seed=int(snakemake.wildcards.seed),
    )

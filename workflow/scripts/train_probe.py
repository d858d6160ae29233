from graphattn.job import job

with job(snakemake):
    from pathlib import Path

    import torch

    from graphattn.probes.train import train_seeds

    torch.set_num_threads(snakemake.threads)
    train_seeds(
        dataset_path=snakemake.input[0],
        out_dirs={int(seed): Path(metrics).parent for seed, metrics in zip(snakemake.params.seeds, snakemake.output.metrics)},
        probe=snakemake.wildcards.probe,
        hyper=dict(snakemake.params.hyper),
        relation=snakemake.wildcards.relation,
    )

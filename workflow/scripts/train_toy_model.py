# Not niced: the toy's training is the default run's critical path.
from graphattn.job import job

with job(snakemake, nice=False):
    import torch

    from graphattn.toy import train_toy

    torch.set_num_threads(snakemake.threads)
    train_toy(
        model_dir=snakemake.output.model,
        history_path=snakemake.output.history,
        metrics_path=snakemake.output.metrics,
        graph_settings=snakemake.params.graphs,
        toy=snakemake.params.toy,
        dynamics_path=snakemake.output.dynamics,
        role_scores_path=snakemake.output.role_scores,
        graph_set_paths=list(snakemake.input.graph_sets),
    )

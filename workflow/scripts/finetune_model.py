# Not niced: the taught model's every job waits for it.
from graphattn.job import job

with job(snakemake, nice=False):
    import torch

    from graphattn.finetune import finetune

    torch.set_num_threads(snakemake.threads)
    finetune(
        base_folder=snakemake.input.base,
        model_dir=snakemake.output.model,
        history_path=snakemake.output.history,
        metrics_path=snakemake.output.metrics,
        settings=snakemake.params.settings,
        graph_settings=snakemake.params.graphs,
        graph_set_paths=list(snakemake.input.graph_sets),
    )

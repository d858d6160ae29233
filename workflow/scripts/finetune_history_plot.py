from graphattn.job import job

with job(snakemake):
    import json

    import pandas as pd

    from graphattn import plots

    with open(snakemake.input.metrics) as fh:
        metrics = json.load(fh)
    plots.finetune_history(pd.read_csv(snakemake.input.history), metrics, snakemake.wildcards.finetuned,
                           snakemake.output[0])

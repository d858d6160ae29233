from graphattn.job import job

with job(snakemake):
    import pandas as pd

    from graphattn import plots

    control = pd.read_csv(snakemake.input.control[0]) if snakemake.input.control else None
    plots.logit_answers(pd.read_csv(snakemake.input.summary), control, snakemake.output[0],
                        "{model} / {graph_set} / {notation}: answers read from the logits".format(**snakemake.wildcards))

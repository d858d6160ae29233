from graphattn.job import job

with job(snakemake):
    import pandas as pd

    from graphattn import plots

    plots.ablation_curve(pd.read_csv(snakemake.input[0]), snakemake.output[0],
                         "{model} / {graph_set} / {notation}: heads mean-ablated".format(**snakemake.wildcards))

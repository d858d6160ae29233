from graphattn.job import job

with job(snakemake):
    import json

    import pandas as pd

    from graphattn import plots

    plots.toy_history(pd.read_csv(snakemake.input.history), snakemake.output.history)
    with open(snakemake.input.metrics) as fh:
        step_99 = json.load(fh)["step_99"]
    plots.toy_dynamics(pd.read_csv(snakemake.input.role_scores), step_99, snakemake.output.dynamics)

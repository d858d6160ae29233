from graphattn.job import job

with job(snakemake):
    import pandas as pd

    from graphattn import plots

    model = snakemake.wildcards.model
    table = pd.read_csv(snakemake.input.table, dtype={"k": str})
    plots.f1_bars(table[table["model"] == model], snakemake.output.f1, f"{model}: test F1 (mean over seeds, 95% interval over test graphs)")
    histories = {
        f"{run['probe']}: {run['graph_set']}/{run['notation']}/{run['selection']}/k{run['k']}/{run['relation']}": pd.read_csv(path)
        for run, path in zip(snakemake.params.runs, snakemake.input.histories)
    }
    plots.training_curves(histories, snakemake.output.curves, f"{model}: validation F1 while training (seed {snakemake.params.runs[0]['seed']})")

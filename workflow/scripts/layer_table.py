from graphattn.job import job

with job(snakemake) as log:
    import pandas as pd

    from graphattn import plots
    from graphattn.atomic import write_text

    table = pd.concat([pd.read_csv(path).assign(**run) for run, path in zip(snakemake.params.runs, snakemake.input)])
    table = table.groupby(["model", "graph_set", "notation", "probe", "layer"], sort=False)["f1"].agg(["mean", "std"])
    table = table.rename(columns={"mean": "f1", "std": "f1_std"}).reset_index()
    write_text(snakemake.output.csv, table.to_csv(index=False, float_format="%.4f"))
    plots.layer_f1(table, snakemake.params.controls, snakemake.output.png)
    best = table.loc[table.groupby(["model", "probe"], sort=False)["f1"].idxmax()]
    for row in best.itertuples():
        log.info("%s %s: best layer %d (F1 %.3f)", row.model, row.probe, row.layer, row.f1)

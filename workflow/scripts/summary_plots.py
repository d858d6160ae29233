from graphattn.job import job

with job(snakemake):
    import pandas as pd

    from graphattn import plots
    from graphattn.tables import view_rows

    view = dict(snakemake.params.view)
    table = pd.read_csv(snakemake.input[0], dtype={"k": str})
    rows = view_rows(table, view)
    where = " / ".join(view[key] for key in ("notation", "selection")) + f" / k={view['k']}"
    controls, position = dict(snakemake.params.controls), snakemake.params.position_probe
    if snakemake.rule == "size_plot":
        plots.f1_by_size(rows, dict(snakemake.params.sizes), controls, position, snakemake.output[0],
                         f"Test F1 against graph size ({where})")
    else:
        plots.selectivity(rows, controls, position, snakemake.output[0],
                          f"Test F1 beside the control (tick) and position (dashed) baselines: {view['graph_set']} / {where}")

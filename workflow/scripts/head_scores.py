from graphattn.job import job

with job(snakemake) as log:
    from graphattn import heads, plots
    from graphattn.atomic import load_npz, write_text

    table = heads.head_scores(load_npz(snakemake.input[0]))
    write_text(snakemake.output.csv, table.to_csv(index=False, float_format="%.4f"))
    w = snakemake.wildcards
    plots.head_heatmaps(table, snakemake.output.png, f"{w.model} / {w.graph_set} / {w.notation}: parent accuracy")
    for direction in heads.DIRECTIONS:
        column = f"parent_acc_{direction}"
        best = table.loc[table[column].idxmax()]
        log.info("best %s head: layer %d head %d, parent accuracy %.3f", direction, best["layer"], best["head"], best[column])

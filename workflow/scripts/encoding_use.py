from graphattn.job import job

with job(snakemake) as log:
    import json

    import pandas as pd

    from graphattn import plots
    from graphattn.atomic import write_text
    from graphattn.behaviour import encoding, patching

    roles = json.loads(open(snakemake.input.roles).read())
    patched = patching.primary(pd.read_csv(snakemake.input.patching))  # exact patching where both were run
    table = encoding.per_head(pd.read_csv(snakemake.input.scores), patched, roles)
    stats = encoding.summary(table)
    for row in stats.itertuples():
        log.info("%s %s vs %s: Spearman %.3f (p %.3g), top-%d overlap %d (chance %.1f); used %s, encoded %s",
                 row.activation, row.direction, row.encoding, row.spearman, row.p_value, row.top_k, row.overlap,
                 row.chance_overlap, row.top_used, row.top_encoded)
    write_text(snakemake.output.heads, table.to_csv(index=False, float_format="%.4f"))
    write_text(snakemake.output.csv, stats.to_csv(index=False, float_format="%.4f"))
    plots.encoding_use(table, stats, snakemake.output.png,
                       "{model} / {graph_set} / {notation}: encoding against use".format(**snakemake.wildcards))

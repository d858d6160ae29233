from graphattn.job import job

with job(snakemake) as log:
    import pandas as pd

    from graphattn.atomic import write_text

    table = pd.concat([pd.read_csv(path).assign(**run)
                       for run, path in zip(snakemake.params.runs, snakemake.input, strict=True)])
    keys = ["model", "graph_set", "notation", "kind", "reader"]
    table = table[keys + [c for c in table.columns if c not in keys]]
    write_text(snakemake.output.csv, table.to_csv(index=False, float_format="%.4f"))
    write_text(snakemake.output.md, table.to_markdown(index=False, floatfmt=".3f"))
    log.info("%d rows", len(table))

from graphattn.job import job

with job(snakemake) as log:
    import json

    import torch

    from graphattn import plots
    from graphattn.toy.ablation import mean_ablation, with_role_tags
    from graphattn.atomic import write_text
    from graphattn.toy import graph_set_edge_sets

    torch.set_num_threads(snakemake.threads)
    table = mean_ablation(snakemake.input.model, snakemake.params.graphs, snakemake.params.toy,
                          graph_set_edge_sets(list(snakemake.input.graph_sets)))
    with open(snakemake.input.roles) as fh:
        table = with_role_tags(table, json.load(fh)["heads"])
    write_text(snakemake.output.table, table.to_csv(index=False, float_format="%.4f"))
    plots.toy_ablation(table, snakemake.output.png)
    for row in table.dropna(subset=["layer"]).nlargest(3, "drop").itertuples():
        log.info("ablating %s costs %.3f accuracy (tags: %s)", row.ablated, row.drop, row.tags)

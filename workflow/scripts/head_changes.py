from graphattn.job import job

with job(snakemake) as log:
    import pandas as pd

    from graphattn import plots
    from graphattn.atomic import write_text
    from graphattn.behaviour import head_changes

    inputs = snakemake.input
    use = {"before": pd.read_csv(inputs.before_use), "after": pd.read_csv(inputs.after_use)}
    attention = {stage: head_changes.attention_columns(pd.read_csv(inputs[f"{stage}_metrics"]),
                                                       pd.read_csv(inputs[f"{stage}_shares"]))
                 for stage in head_changes.STAGES}
    control = None
    if inputs.control_shares:
        control = float(head_changes.node_shares(pd.read_csv(inputs.control_shares))["edge_share"].mean())
    table = head_changes.per_head(use, attention)
    stats = head_changes.summary(table, control)
    for row in stats.to_dict("records"):
        log.info(head_changes.verdict(row))
    write_text(snakemake.output.heads, table.to_csv(index=False, float_format="%.4f"))
    write_text(snakemake.output.csv, stats.to_csv(index=False, float_format="%.4f"))
    w = snakemake.wildcards
    plots.head_changes(table, stats, snakemake.output.png,
                       f"{w.finetuned} against {snakemake.params.base} / {w.graph_set} / {w.notation}")

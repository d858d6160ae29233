from graphattn.job import job

with job(snakemake) as log:
    import pandas as pd
    import torch

    from graphattn import plots
    from graphattn.atomic import write_text
    from graphattn.behaviour import patching, runs

    torch.set_num_threads(snakemake.threads)
    model, settings, patch = snakemake.params.model, snakemake.params.settings, snakemake.params.patching
    intervals = snakemake.params.intervals
    bridge = runs.load_model(model)
    pairs, skipped = runs.patching_pairs(bridge, snakemake.input.graphs, snakemake.input.prompts, settings,
                                         snakemake.params.split, snakemake.wildcards.notation, patch)
    log.info("%d clean/corrupted pairs; questions left out: %s", len(pairs), skipped)
    if not pairs:
        raise ValueError(f"activation patching of {snakemake.wildcards.model}: no parents question gives a "
                         f"corrupted prompt of the same length ({skipped}); accepted: graphs whose nodes have parents "
                         f"and names of one token each")
    gap, of = None, "its own"
    if snakemake.input.reference:  # a control: measured in its model's clean-corrupted gap
        of = model["control_of"]
        gap = patching.reference_gap(pairs, pd.read_csv(snakemake.input.reference[0]), of)
        log.info("effects as shares of %s's clean-corrupted gap, %.3f", of, gap)
        of += "'s"
    table, sweeps, chosen = patching.patch_table(bridge, pairs, settings["batch_size"], patch, intervals, gap=gap)
    if chosen["sample"] is not None:
        log.info("exact patching of %d sampled heads and of attribution's top %d of each map: %s",
                 len(chosen["sample"]), patch["exact_top"], " ".join(f"L{l}H{h}" for l, h in chosen["top"]))
    log.info("logit difference, clean %.3f, corrupted %.3f (mean over pairs)", table["clean_ld"].iloc[0],
             table["corrupt_ld"].iloc[0])
    for (method, activation, direction), rows in table.groupby(["method", "activation", "direction"], sort=False):
        top = rows.sort_values("rank").head(3)
        log.info("%s, %s %s: top heads %s", method, activation, direction,
                 ", ".join(f"L{r.layer}H{r.head} {r.effect:.3g}" for r in top.itertuples()))
    for (activation, direction), rho in patching.method_agreement(table, chosen["sample"]).items():
        log.info("%s %s: Spearman correlation of attribution with exact patching over %s %.3f",
                 activation, direction, "the sampled heads" if chosen["sample"] else "every head", rho)
    # Significant digits, not decimals: a control's effects are 1e-5 of its model's gap, and
    # encoding_use ranks them.
    write_text(snakemake.output.csv, table.to_csv(index=False, float_format="%.6g"))
    pair_rows = patching.pair_table(pairs, sweeps.get("exact", sweeps.get("attribution")))
    write_text(snakemake.output.pairs, pair_rows.to_csv(index=False, float_format="%.4f"))
    shown = patching.primary(table)
    plots.patching_maps(shown, snakemake.output.png,
                        "{model} / {graph_set} / {notation}: activation patching per head ({method}; in {of} "
                        "clean-corrupted gap)".format(method=shown["method"].iloc[0], of=of, **snakemake.wildcards))

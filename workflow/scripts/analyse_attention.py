from graphattn.job import job

with job(snakemake) as log:
    from graphattn import plots, roles
    from graphattn.atomic import write_json, write_text
    from graphattn.token_attention import analyse

    model, settings = snakemake.params.model, snakemake.params.analysis
    role_acc, metric_acc = analyse(
        prompts_path=snakemake.input.prompts,
        graphs_path=snakemake.input.graphs,
        model_path=model["path"],
        n_prompts=settings["prompts"],
        batch_size=model["batch_size"],
        dtype=model["dtype"],
        device=model["device"],
        allow_download=model["allow_download"],
        trust_remote_code=model["trust_remote_code"],
        random_init=model["random_init"],
        init_seed=model["init_seed"],
    )
    w = snakemake.wildcards
    name = f"{w.model} / {w.graph_set} / {w.notation}"

    scores = role_acc.tag_scores()
    entries = roles.tag_heads(scores, settings["tag_threshold"])
    write_json(snakemake.output.roles, {"threshold": settings["tag_threshold"], "heads": entries})
    write_text(snakemake.output.shares, role_acc.shares().to_csv(index=False, float_format="%.4f"))
    plots.role_heatmaps(scores, list(roles.TAG_SCORES), snakemake.output.roles_png, f"{name}: head roles")

    heads, similarity = metric_acc.tables()
    write_text(snakemake.output.metrics, heads.to_csv(index=False, float_format="%.4f"))
    write_text(snakemake.output.similarity, similarity.to_csv(index=False, float_format="%.4f"))
    plots.attention_metric_plots(heads, similarity, snakemake.output.metrics_png, f"{name}: attention metrics")

    best = scores.loc[scores["parent-finder"].idxmax()]
    log.info("top parent-finder: layer %d head %d (%.3f of node queries' mass on parents)",
             best["layer"], best["head"], best["parent-finder"])

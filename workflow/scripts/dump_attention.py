from graphattn.job import job

with job(snakemake):
    from graphattn.attention import dump_attention
    from graphattn.resources import BatchTooLarge

    model = snakemake.params.model
    try:
        dump_attention(
            prompts_path=snakemake.input.prompts,
            out_path=snakemake.output.dump,
            meta_path=snakemake.output.meta,
            model_path=model["path"],
            max_nodes=snakemake.params.max_nodes,
            batch_size=model["batch_size"],
            dtype=model["dtype"],
            device=model["device"],
            allow_download=model["allow_download"],
            trust_remote_code=model["trust_remote_code"],
            random_init=model["random_init"],  # a control twin from graphattn.config.with_controls
            init_seed=model["init_seed"],
            sink=model["sink"],
        )
    except BatchTooLarge as err:  # name the config key to edit
        raise BatchTooLarge(f"models.{snakemake.wildcards.model}.{err}") from None

from graphattn.job import job

with job(snakemake) as log:
    from graphattn import graphs, prompts

    loaded, _ = graphs.load(snakemake.input[0])
    rendered = prompts.render_all(loaded, snakemake.wildcards.notation, snakemake.params.orderings, snakemake.params.seed)
    prompts.save(snakemake.output[0], rendered)
    log.info("wrote %d prompts; first: %s", len(rendered), rendered[0].text)

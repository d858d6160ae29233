from graphattn.job import job

with job(snakemake) as log:
    from graphattn import datasets, graphs

    loaded, max_nodes = graphs.load(snakemake.input.graphs)
    split = snakemake.params.split
    dataset = datasets.combine(
        snakemake.input.dump, snakemake.input.meta, snakemake.input.prompts, loaded, max_nodes,
        snakemake.wildcards.selection, split["train"], split["val"], split["seed"],
    )
    datasets.save(snakemake.output[0], dataset)
    log.info("dataset %s: x %s", snakemake.output[0], dataset["x"].shape)

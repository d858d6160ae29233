from graphattn.job import job

with job(snakemake) as log:
    from graphattn import datasets, graphs

    loaded, max_nodes = graphs.load(snakemake.input.graphs)
    split = snakemake.params.split
    dataset = datasets.position_dataset(snakemake.input.prompts, loaded, max_nodes, split["train"], split["val"],
                                        split["seed"])
    datasets.save(snakemake.output[0], dataset)
    log.info("position dataset %s: %d graphs", snakemake.output[0], len(dataset["graph_id"]))

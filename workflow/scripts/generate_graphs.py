from graphattn.job import job

with job(snakemake) as log:
    from graphattn import graphs

    settings = snakemake.params.graph_set
    generated = graphs.generate(
        settings["min_nodes"], settings["max_nodes"], settings["edge_prob"],
        settings["count"], settings["seed"], settings["naming"],
    )
    graphs.save(snakemake.output[0], generated, settings["max_nodes"])
    log.info("wrote %d graphs to %s", len(generated), snakemake.output[0])

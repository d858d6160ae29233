from graphattn.job import job

with job(snakemake):
    import json

    from graphattn.sparsify import sparsify_file

    with open(snakemake.input.meta) as fh:
        n_nodes = json.load(fh)["n_nodes"]
    sparsify_file(snakemake.input.dump, snakemake.output[0], n_nodes, snakemake.params.k)

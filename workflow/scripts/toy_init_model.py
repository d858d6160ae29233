# Not niced: the toy's random-init control waits for this folder.
from graphattn.job import job

with job(snakemake, nice=False):
    from graphattn.toy import save_untrained

    save_untrained(snakemake.output.model, snakemake.params.graphs, snakemake.params.toy)

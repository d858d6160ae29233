from graphattn.rule_log import log_to
from graphattn.toy import save_untrained

with log_to(snakemake.log[0]):
    save_untrained(snakemake.output.model, snakemake.params.graphs, snakemake.params.toy)

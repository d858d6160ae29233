from graphattn.gguf import fetch
from graphattn.rule_log import log_to

with log_to(snakemake.log[0]):
    fetch(dict(snakemake.params.source), snakemake.output[0])

import os

# Every job but the toy model's training yields the CPU to it: it is the default run's critical
# path, and Snakemake runs more jobs than a 2-core machine has cores. Before the imports.
os.nice(19)

from graphattn import graphs, prompts
from graphattn.rule_log import log_to

with log_to(snakemake.log[0]) as log:
    loaded, _ = graphs.load(snakemake.input[0])
    rendered = prompts.render_all(loaded, snakemake.wildcards.notation, snakemake.params.orderings, snakemake.params.seed)
    prompts.save(snakemake.output[0], rendered)
    log.info("wrote %d prompts; first: %s", len(rendered), rendered[0].text)

from graphattn.job import job

with job(snakemake) as log:
    from graphattn import tables

    runs = tables.load_runs(list(snakemake.input), list(snakemake.params.runs))
    intervals = snakemake.params.intervals
    table = tables.ablation_table(runs, dict(snakemake.params.controls), snakemake.params.position_probe,
                                  resamples=intervals["resamples"], bootstrap_seed=intervals["seed"])
    tables.write(table, snakemake.output.csv, snakemake.output.md, snakemake.output.html)
    log.info("ablation table: %d rows from %d runs", len(table), len(runs))

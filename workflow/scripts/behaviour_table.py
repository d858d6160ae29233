from graphattn.job import job

with job(snakemake) as log:
    import pandas as pd

    from graphattn import plots
    from graphattn.atomic import write_text
    from graphattn.behaviour.tables import Answered, Swept, behaviour_table

    runs, intervened = snakemake.params.runs, snakemake.params.intervened
    read = lambda paths: [pd.read_csv(p) for p in paths]  # noqa: E731
    answered = [Answered(*files) for files in zip(runs, read(snakemake.input.summaries), read(snakemake.input.curves),
                                                  strict=True)]
    swept = [Swept(*files) for files in zip(intervened, read(snakemake.input.sweeps), read(snakemake.input.sink_probes),
                                            strict=True)]
    table = behaviour_table(answered, swept, snakemake.params.controls)
    write_text(snakemake.output.csv, table.to_csv(index=False, float_format="%.4f"))
    write_text(snakemake.output.md, table.to_markdown(index=False, floatfmt=".3f"))
    sweeps = pd.concat([s.sweep.assign(**s.run) for s in swept])
    probed = pd.concat([s.probes.assign(**s.run) for s in swept])
    plots.sink_sweep(sweeps, probed, snakemake.output.sink_png)
    log.info("%d rows", len(table))

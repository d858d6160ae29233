from graphattn.job import job

with job(snakemake) as log:
    import pandas as pd

    from graphattn.atomic import write_text
    from graphattn.front_page import front_page, page
    from graphattn.tables import view_rows

    view = dict(snakemake.params.view)
    table = pd.read_csv(snakemake.input.table, dtype={"k": str})
    rows = view_rows(table, view)
    encodings = {model: pd.read_csv(path) for model, path in zip(snakemake.params.models, snakemake.input.encodings,
                                                                   strict=True)}
    where = " / ".join(view[key] for key in ("graph_set", "notation", "selection")) + f" / k={view['k']}"
    text = front_page(rows, encodings, dict(snakemake.params.controls), snakemake.params.position_probe, where)
    write_text(snakemake.output.answer, text)
    figures = dict(zip(snakemake.params.models, snakemake.input.use_figures, strict=True))
    write_text(snakemake.output.page, page(text, snakemake.input.selectivity, figures))
    log.info("front page:\n%s", text)

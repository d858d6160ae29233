from graphattn.job import job

with job(snakemake) as log:
    import torch

    from graphattn.atomic import write_text
    from graphattn.behaviour import runs

    torch.set_num_threads(snakemake.threads)
    model, settings = snakemake.params.model, snakemake.params.settings
    bridge = runs.load_model(model)
    questions = runs.load_questions(bridge, snakemake.input.graphs, snakemake.input.prompts, settings,
                                    snakemake.params.split)
    log.info("%d questions (%s format); the first reads:\n%s", len(questions), settings["format"], questions[0].text)
    texts = runs.answer(bridge, questions, settings)
    reference = runs.load_reference(snakemake.input.graphs, snakemake.input.prompts, settings["kinds"],
                                    snakemake.params.split)
    summary = runs.pd.DataFrame(runs.by_kind(questions, texts, reference))
    for row in summary.itertuples():
        log.info("%s: exact %.3f (graph-blind %.3f), F1 %.3f, unparseable %d and a name repeated in %d of %d",
                 row.kind, row.accuracy, row.graph_blind_accuracy, row.f1, row.unparseable, row.repeats,
                 row.n_questions)
    write_text(snakemake.output.answers, runs.answer_table(questions, texts).to_csv(index=False, float_format="%.4f"))
    write_text(snakemake.output.summary, summary.to_csv(index=False, float_format="%.4f"))

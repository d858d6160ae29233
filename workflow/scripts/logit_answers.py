from graphattn.job import job

with job(snakemake) as log:
    import torch

    from graphattn.atomic import write_text
    from graphattn.behaviour import candidates, runs

    torch.set_num_threads(snakemake.threads)
    model, settings, intervals = snakemake.params.model, snakemake.params.settings, snakemake.params.intervals
    bridge = runs.load_model(model)
    load = lambda seed: runs.load_questions(bridge, snakemake.input.graphs, snakemake.input.prompts,  # noqa: E731
                                            settings, snakemake.params.split, relabel_seed=seed)
    # The other graph: each test graph's names permuted, seeded by behaviour.seed.
    questions, relabelled = load(None), load(settings["seed"])
    reference = runs.load_reference(snakemake.input.graphs, snakemake.input.prompts, settings["kinds"],
                                    snakemake.params.split)
    rows = runs.logit_answers(bridge, questions, relabelled, reference, settings)
    summary = candidates.summarise(rows, intervals["resamples"], intervals["seed"])
    for kind, part in summary.groupby("kind", sort=False):
        top = part.set_index("reader")["top_true"]
        log.info("%s: top candidate true %.3f (other graph %.3f, graph-blind %.3f, chance %.3f) over %d questions",
                 kind, top["model"], top["other_graph"], top["graph_blind"], top["chance"], part["n_questions"].iloc[0])
    write_text(snakemake.output.rows, rows.to_csv(index=False, float_format="%.4f"))
    write_text(snakemake.output.summary, summary.to_csv(index=False, float_format="%.4f"))

from graphattn.job import job

with job(snakemake) as log:
    import pandas as pd
    import torch

    from graphattn.atomic import write_text
    from graphattn.behaviour import runs

    torch.set_num_threads(snakemake.threads)
    model, settings, ablation = snakemake.params.model, snakemake.params.settings, snakemake.params.ablation
    bridge = runs.load_model(model)
    load = lambda part: runs.load_questions(bridge, snakemake.input.graphs, snakemake.input.prompts,  # noqa: E731
                                            settings, snakemake.params.split, part, ablation["max_prompts"])
    # Head means from the validation prompts' questions; accuracy on the test prompts' questions.
    blind = runs.load_reference(snakemake.input.graphs, snakemake.input.prompts, settings["kinds"],
                                snakemake.params.split)
    curve = runs.ablation_curve(bridge, load("test"), load("val"), pd.read_csv(snakemake.input.scores), settings,
                                ablation, blind)
    write_text(snakemake.output.csv, curve.to_csv(index=False, float_format="%.4f"))
    top = curve[curve["heads"] == "top"].groupby("n_ablated")["accuracy"].mean()
    log.info("accuracy with the top-n heads ablated: %s", ", ".join(f"{n}: {a:.3f}" for n, a in top.items()))

from graphattn.job import job

with job(snakemake) as log:
    import pandas as pd
    import torch

    from graphattn import graphs as graph_io
    from graphattn.atomic import load_npz, write_text
    from graphattn.behaviour import runs
    from graphattn.behaviour.sink_probes import sink_probes

    torch.set_num_threads(snakemake.threads)
    model, settings, sink = snakemake.params.model, snakemake.params.settings, snakemake.params.sink
    bridge = runs.load_model(model)
    questions = runs.load_questions(bridge, snakemake.input.graphs, snakemake.input.prompts, settings,
                                    snakemake.params.split, "test", sink["max_prompts"])
    name = f"{snakemake.wildcards.model} ({model['path']})"
    if snakemake.params.probes and any(g != 1.0 for g in sink["g"]):
        # The probes' dump reads the prompt alone (a chat question may start with a special token its prompt lacks).
        runs.check_sink(bridge.tokenizer, [runs.first_prompt(snakemake.input.prompts)], name)
    sweep = runs.sink_sweep(bridge, questions, settings, sink["g"], sink["layers"], name)
    for row in sweep.itertuples():
        log.info("g=%.2f %s: exact %.3f, F1 %.3f, unparseable %d, repeats %d", row.g, row.kind, row.accuracy, row.f1,
                 row.unparseable, row.repeats)
    probes = pd.DataFrame(columns=["g", "probe", "seed", "f1", "auroc"])
    if snakemake.params.probes:
        graphs, _ = graph_io.load(snakemake.input.graphs)
        probes = sink_probes(bridge, snakemake.input.prompts, graphs, snakemake.params.max_nodes, model["batch_size"],
                             snakemake.params.split, sink["g"], sink["layers"], dict(snakemake.params.probes),
                             list(snakemake.params.seeds), unchanged=load_npz(snakemake.input.dataset))
    write_text(snakemake.output.csv, sweep.to_csv(index=False, float_format="%.4f"))
    write_text(snakemake.output.probes, probes.to_csv(index=False, float_format="%.4f"))

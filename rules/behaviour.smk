# Does the model use what its heads encode? (graphattn.behaviour) For each model of
# behaviour.models and its control: its answers to "Parents of X:" / "Children of X:" after
# every test-split prompt, its candidates scored on the logits, activation patching per head,
# the accuracy as heads are ablated (top-ranked against random), and the accuracy as the sink's
# attention moves to the other keys (SLASH-style, prompt pass). The controls are patched and
# ablated as baselines, not sink-swept.


def behaviour_params(wildcards):
    return canonical(graphattn.config.answer_settings(config, wildcards.model))


def logit_params(wildcards):
    """behaviour_params but the answer length: candidates are scored, not generated."""
    settings = graphattn.config.answer_settings(config, wildcards.model)
    return canonical({key: value for key, value in settings.items() if key != "max_new_tokens"})


def behaviour_model(wildcards):
    return canonical(config["models"][wildcards.model])


rule behaviour:
    input:
        graphs="results/graphs/{graph_set}.json",
        prompts="results/prompts/{graph_set}/{notation}.jsonl",
        model=model_folder_input,
    output:
        answers=BEHAVIOUR_DIR + "/answers.csv",
        summary=BEHAVIOUR_DIR + "/summary.csv",
    params:
        model=behaviour_model,
        settings=behaviour_params,
        split=lambda w: canonical(config["split"]),
    threads: model_threads
    resources:
        mem_mb=dump_mem_mb,
        gpu=model_gpus,
        runtime=120,
    log:
        "results/logs/behaviour/{model}/{graph_set}/{notation}.log",
    benchmark:
        "results/benchmarks/behaviour/{model}/{graph_set}/{notation}.tsv"
    conda:
        "../envs/models.yaml"
    script:
        "../workflow/scripts/behaviour.py"


# Answers read from the logits: every candidate answer scored at the answer position, beside
# the same model after another graph on the same nodes, the graph-blind reader and chance.
rule logit_answers:
    input:
        graphs="results/graphs/{graph_set}.json",
        prompts="results/prompts/{graph_set}/{notation}.jsonl",
        model=model_folder_input,
    output:
        rows=BEHAVIOUR_DIR + "/logit_answers.csv",
        summary=BEHAVIOUR_DIR + "/logit_summary.csv",
    params:
        model=behaviour_model,
        settings=logit_params,
        split=lambda w: canonical(config["split"]),
        intervals=lambda w: canonical(config["intervals"]),
    threads: model_threads
    resources:
        mem_mb=dump_mem_mb,
        gpu=model_gpus,
        runtime=60,
    log:
        "results/logs/logit_answers/{model}/{graph_set}/{notation}.log",
    benchmark:
        "results/benchmarks/logit_answers/{model}/{graph_set}/{notation}.tsv"
    conda:
        "../envs/models.yaml"
    script:
        "../workflow/scripts/logit_answers.py"


def control_logit_summary(wildcards):
    return counterpart_file(control_map().get(wildcards.model), wildcards, "logit_summary.csv")


rule logit_plot:
    input:
        summary=BEHAVIOUR_DIR + "/logit_summary.csv",
        control=control_logit_summary,
    output:
        report(
            "results/plots/behaviour/{model}/{graph_set}/{notation}/logit_answers.png",
            caption="../workflow/report/logit_answers.rst",
            category="Behaviour",
            subcategory="{model}",
        ),
    log:
        "results/logs/logit_plot/{model}/{graph_set}/{notation}.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../workflow/scripts/logit_plot.py"


def patching_settings(wildcards):
    return canonical(config["behaviour"]["patching"])


def reference_pairs(wildcards):
    """A control's patching is measured in its model's clean-corrupted gap: its own is near 0."""
    return counterpart_file(config["models"][wildcards.model]["control_of"], wildcards, "patching_pairs.csv")


# Activation patching per head (graphattn.behaviour.patching): the models of behaviour.models and
# their controls.
rule patch_heads:
    input:
        graphs="results/graphs/{graph_set}.json",
        prompts="results/prompts/{graph_set}/{notation}.jsonl",
        model=model_folder_input,
        reference=reference_pairs,
    output:
        csv=BEHAVIOUR_DIR + "/patching.csv",
        pairs=BEHAVIOUR_DIR + "/patching_pairs.csv",
        png=report(
            "results/plots/behaviour/{model}/{graph_set}/{notation}/patching.png",
            caption="../workflow/report/patching.rst",
            category="Behaviour",
            subcategory="{model}",
        ),
    params:
        model=behaviour_model,
        settings=logit_params,
        patching=patching_settings,
        split=lambda w: canonical(config["split"]),
        intervals=lambda w: canonical(config["intervals"]),
    threads: model_threads
    resources:
        mem_mb=dump_mem_mb,
        gpu=model_gpus,
        runtime=240,
    log:
        "results/logs/patch_heads/{model}/{graph_set}/{notation}.log",
    benchmark:
        "results/benchmarks/patch_heads/{model}/{graph_set}/{notation}.tsv"
    conda:
        "../envs/models.yaml"
    script:
        "../workflow/scripts/patch_heads.py"


# Encoding against use: head_scores (training and validation graphs) beside the patching effect.
rule encoding_use:
    input:
        scores="results/heads/{model}/{graph_set}/{notation}.csv",
        patching=BEHAVIOUR_DIR + "/patching.csv",
        roles="results/analysis/{model}/{graph_set}/{notation}/head_roles.json",
    output:
        heads=BEHAVIOUR_DIR + "/encoding_use_heads.csv",
        csv=BEHAVIOUR_DIR + "/encoding_use.csv",
        png=report(
            "results/plots/behaviour/{model}/{graph_set}/{notation}/encoding_use.png",
            caption="../workflow/report/encoding_use.rst",
            category="Behaviour",
            subcategory="{model}",
        ),
    log:
        "results/logs/encoding_use/{model}/{graph_set}/{notation}.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../workflow/scripts/encoding_use.py"


rule head_ablation:
    input:
        graphs="results/graphs/{graph_set}.json",
        prompts="results/prompts/{graph_set}/{notation}.jsonl",
        model=model_folder_input,
        # The ranking: the real model's own head scores (a control ranks its own heads).
        scores="results/heads/{model}/{graph_set}/{notation}.csv",
    output:
        csv=BEHAVIOUR_DIR + "/head_ablation.csv",
    params:
        model=behaviour_model,
        settings=behaviour_params,
        ablation=lambda w: canonical(config["behaviour"]["ablation"]),
        split=lambda w: canonical(config["split"]),
    threads: model_threads
    resources:
        mem_mb=dump_mem_mb,
        gpu=model_gpus,
        runtime=240,
    log:
        "results/logs/head_ablation/{model}/{graph_set}/{notation}.log",
    benchmark:
        "results/benchmarks/head_ablation/{model}/{graph_set}/{notation}.tsv"
    conda:
        "../envs/models.yaml"
    script:
        "../workflow/scripts/head_ablation.py"


# The curve's figure on its own, so that redrawing it does not re-run the ablation.
rule ablation_plot:
    input:
        BEHAVIOUR_DIR + "/head_ablation.csv",
    output:
        report(
            "results/plots/behaviour/{model}/{graph_set}/{notation}/head_ablation.png",
            caption="../workflow/report/head_ablation.rst",
            category="Behaviour",
            subcategory="{model}",
        ),
    log:
        "results/logs/ablation_plot/{model}/{graph_set}/{notation}.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../workflow/scripts/ablation_plot.py"


rule sink_sweep:
    input:
        graphs="results/graphs/{graph_set}.json",
        prompts="results/prompts/{graph_set}/{notation}.jsonl",
        model=model_folder_input,
        # The probes' g = 1 dataset: the run's own (g = 1 changes nothing).
        dataset="results/datasets/{model}/{graph_set}/{notation}/all/knone.npz",
    output:
        csv=BEHAVIOUR_DIR + "/sink_sweep.csv",
        probes=BEHAVIOUR_DIR + "/sink_probes.csv",
    params:
        model=behaviour_model,
        settings=behaviour_params,
        sink=lambda w: canonical(config["behaviour"]["sink"]),
        split=lambda w: canonical(config["split"]),
        probes=lambda w: canonical({name: config["probes"][name] for name in config["behaviour"]["sink"]["probes"]}),
        seeds=config["seeds"],
        max_nodes=lambda w: config["graph_sets"][w.graph_set]["max_nodes"],
    threads: model_threads
    resources:
        mem_mb=dump_mem_mb,
        gpu=model_gpus,
        runtime=240,
    log:
        "results/logs/sink_sweep/{model}/{graph_set}/{notation}.log",
    benchmark:
        "results/benchmarks/sink_sweep/{model}/{graph_set}/{notation}.tsv"
    conda:
        "../envs/models.yaml"
    script:
        "../workflow/scripts/sink_sweep.py"


localrules:
    ablation_plot,
    behaviour_table,
    encoding_use,
    logit_plot,
    logit_table,


rule logit_table:
    input:
        lambda w: behaviour_files("logit_summary.csv"),
    output:
        csv=report(
            "results/tables/logit_answers.csv",
            caption="../workflow/report/logit_table.rst",
            category="Behaviour",
        ),
        md="results/tables/logit_answers.md",
    params:
        runs=lambda w: behaviour_runs(),
    log:
        "results/logs/logit_table.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../workflow/scripts/logit_table.py"


rule behaviour_table:
    input:
        summaries=lambda w: behaviour_files("summary.csv"),
        sweeps=lambda w: behaviour_files("sink_sweep.csv", intervened_runs()),
        sink_probes=lambda w: behaviour_files("sink_probes.csv", intervened_runs()),
        curves=lambda w: behaviour_files("head_ablation.csv"),
    output:
        csv=report(
            "results/tables/behaviour.csv",
            caption="../workflow/report/behaviour.rst",
            category="Behaviour",
        ),
        md="results/tables/behaviour.md",
        sink_png=report(
            "results/plots/behaviour/sink_sweep.png",
            caption="../workflow/report/sink_sweep.rst",
            category="Behaviour",
        ),
    params:
        runs=lambda w: behaviour_runs(),
        intervened=lambda w: intervened_runs(),
        controls=control_map(),
    log:
        "results/logs/behaviour_table.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../workflow/scripts/behaviour_table.py"

# Fine-tuned models (graphattn.finetune, docs/taught.md): a configured causal model taught to
# answer "Parents of X:" and "Children of X:", saved under results/models/<name> as a Hugging
# Face folder that the dump, the analyses and the behaviour rules load like any model.


wildcard_constraints:
    # Only the configured fine-tuned models' names: results/models/toy is the toy's rule's.
    finetuned="|".join(map(re.escape, finetuned_models())) or "(?!)",


rule finetune_model:
    input:
        base=lambda w: finetune_base_input(w.finetuned),
        # Every graph set's graphs, all splits: none of them is drawn for training.
        graph_sets=graph_set_files(),
    output:
        model=directory("results/models/{finetuned}"),
        history="results/models/{finetuned}_history.csv",
        metrics="results/models/{finetuned}_metrics.json",
    params:
        settings=lambda w: canonical(config["models"][w.finetuned]["finetune"]),
        graphs=lambda w: finetune_graph_settings(w.finetuned),
    # The taught model's dumps, probes and behaviour rules wait for it: it starts first.
    priority: 20
    threads: 2
    resources:
        mem_mb=6000,
        runtime=90,
    log:
        "results/logs/finetune_model/{finetuned}.log",
    benchmark:
        "results/benchmarks/finetune_model/{finetuned}.tsv"
    conda:
        "../envs/models.yaml"
    script:
        "../workflow/scripts/finetune_model.py"


rule finetune_history_plot:
    input:
        history="results/models/{finetuned}_history.csv",
        metrics="results/models/{finetuned}_metrics.json",
    output:
        report(
            "results/plots/{finetuned}_history.png",
            caption="../workflow/report/finetune_history.rst",
            category="Taught models",
        ),
    log:
        "results/logs/finetune_history_plot/{finetuned}.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../workflow/scripts/finetune_history_plot.py"


# What fine-tuning changed, head by head (graphattn.behaviour.head_changes): the taught model
# against its base on the same graph set and notation; its random-init control gives the level
# of the node-to-node share on edges that attention knowing no graph reaches.
ANALYSIS_DIR = "results/analysis/{model}/{graph_set}/{notation}"


rule head_changes:
    input:
        before_use=lambda w: taught_file(w, "base", BEHAVIOUR_DIR + "/encoding_use_heads.csv"),
        after_use=lambda w: taught_file(w, "finetuned", BEHAVIOUR_DIR + "/encoding_use_heads.csv"),
        before_metrics=lambda w: taught_file(w, "base", ANALYSIS_DIR + "/attention_metrics.csv"),
        after_metrics=lambda w: taught_file(w, "finetuned", ANALYSIS_DIR + "/attention_metrics.csv"),
        before_shares=lambda w: taught_file(w, "base", ANALYSIS_DIR + "/role_shares.csv"),
        after_shares=lambda w: taught_file(w, "finetuned", ANALYSIS_DIR + "/role_shares.csv"),
        control_shares=lambda w: taught_file(w, "control", ANALYSIS_DIR + "/role_shares.csv"),
    output:
        heads="results/taught/{finetuned}/{graph_set}/{notation}/head_changes.csv",
        csv=report(
            "results/taught/{finetuned}/{graph_set}/{notation}/head_changes_summary.csv",
            caption="../workflow/report/head_changes_summary.rst",
            category="Taught models",
        ),
        png=report(
            "results/plots/taught/{finetuned}/{graph_set}/{notation}/head_changes.png",
            caption="../workflow/report/head_changes.rst",
            category="Taught models",
        ),
    log:
        "results/logs/head_changes/{finetuned}/{graph_set}/{notation}.log",
    params:
        base=lambda w: taught_model(w.finetuned, "base"),
    conda:
        "../envs/pipeline.yaml"
    script:
        "../workflow/scripts/head_changes.py"

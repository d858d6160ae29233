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

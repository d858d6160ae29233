rule train_toy_model:
    input:
        # Every graph set's graphs, all splits: none of them is drawn for training (toy.toy_data).
        graph_sets=graph_set_files(),
    output:
        model=directory("results/models/toy"),
        history=report(
            "results/models/toy_history.csv",
            caption="../workflow/report/toy_history.rst",
            category="Toy model",
        ),
        metrics="results/models/toy_metrics.json",
        dynamics="results/models/toy_dynamics.npz",
        role_scores="results/models/toy_role_scores.csv",
    params:
        toy=lambda w: toy_settings(),
        graphs=lambda w: canonical(toy_graph_settings()),
    # The toy model's training is the default run's critical path (its dumps and probes
    # wait for it). One thread: a second one gains only ~15% (11.1 vs 9.5 steps/s here),
    # and its OpenMP threads crawl when other jobs share the cores.
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
    log:
        "results/logs/train_toy_model.log",
    benchmark:
        "results/benchmarks/train_toy_model.tsv"
    conda:
        "../envs/models.yaml"
    script:
        "../workflow/scripts/train_toy_model.py"


# The toy before training: its architecture, tokenizer and initial weights. Its random-init
# control is built from this folder, so the control's dumps, probes and answers run while the
# toy trains (the training is the default run's critical path) and an edit of a training
# setting (lr, steps, ...) does not re-run them.
rule toy_init_model:
    output:
        model=directory("results/models/toy-init"),
    params:
        toy=lambda w: canonical({key: value for key, value in toy_settings().items()
                                     if key in graphattn.config.UNTRAINED_TOY_KEYS}),
        graphs=lambda w: canonical(toy_graph_settings()),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    log:
        "results/logs/toy_init_model.log",
    conda:
        "../envs/models.yaml"
    script:
        "../workflow/scripts/toy_init_model.py"


# Mean-attention ablation: each head's pattern replaced by its average over the toy's
# validation prompts, one head at a time and all at once, next to the heads' role tags.
rule toy_mean_ablation:
    input:
        model="results/models/toy",
        roles=toy_roles,
        # The validation questions are drawn apart from these graphs, as in training.
        graph_sets=graph_set_files(),
    output:
        table="results/models/toy_ablation.csv",
        png=report(
            "results/plots/toy_ablation.png",
            caption="../workflow/report/toy_ablation.rst",
            category="Toy model",
        ),
    params:
        toy=lambda w: toy_settings(),
        graphs=lambda w: canonical(toy_graph_settings()),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    log:
        "results/logs/toy_mean_ablation.log",
    benchmark:
        "results/benchmarks/toy_mean_ablation.tsv"
    conda:
        "../envs/models.yaml"
    script:
        "../workflow/scripts/toy_mean_ablation.py"

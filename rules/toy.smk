rule train_toy_model:
    output:
        model=directory("results/models/toy"),
        history=report(
            "results/models/toy_history.csv",
            caption="../workflow/report/toy_history.rst",
            category="Toy model",
        ),
        metrics="results/models/toy_metrics.json",
    params:
        toy=lambda w: canonical({key: value for key, value in config["toy"].items() if key != "graph_set"}),
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

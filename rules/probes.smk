# One job per dataset x probe trains every configured seed: a probe run on a small
# dataset takes less time than starting its Python process (torch alone ~1 s), and
# the paper grid has ~900 runs.
rule train_probe:
    input:
        "results/datasets/{model}/{graph_set}/{notation}/{selection}/k{k}.npz",
    output:
        metrics=probe_files("metrics.json"),
        history=probe_files("history.csv"),
        checkpoint=probe_files("best_model.pt"),
    params:
        hyper=lambda w: canonical(config["probes"][w.probe]),
        seeds=config["seeds"],
    threads: 1
    resources:
        mem_mb=2000,
        # Minutes: the longest measured (2 seeds, 7-10 nodes, a 2-core CPU) took 5.5 minutes.
        runtime=lambda w: 10 * len(config["seeds"]),
    log:
        "results/logs/train_probe/{model}/{graph_set}/{notation}/{selection}/k{k}/{relation}/{probe}.log",
    benchmark:
        "results/benchmarks/train_probe/{model}/{graph_set}/{notation}/{selection}/k{k}/{relation}/{probe}.tsv"
    conda:
        "../envs/probes.yaml"
    script:
        "../workflow/scripts/train_probe.py"


# Probes that read no attention (type position) train once per graph set and notation; the
# table gives each model's row the same run (see run_file).
rule train_baseline:
    input:
        "results/datasets/positions/{graph_set}/{notation}.npz",
    output:
        metrics=baseline_files("metrics.json"),
        history=baseline_files("history.csv"),
        checkpoint=baseline_files("best_model.pt"),
    params:
        hyper=lambda w: canonical(config["probes"][w.probe]),
        seeds=config["seeds"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=lambda w: 10 * len(config["seeds"]),
    log:
        "results/logs/train_baseline/{graph_set}/{notation}/{relation}/{probe}.log",
    benchmark:
        "results/benchmarks/train_baseline/{graph_set}/{notation}/{relation}/{probe}.tsv"
    conda:
        "../envs/probes.yaml"
    script:
        "../workflow/scripts/train_probe.py"


# Probes layer by layer (config `layer_probes`): each trained on one layer's heads at a time.
rule layer_probes:
    input:
        # Dense attention from every mention, built on demand as for head_scores.
        "results/datasets/{model}/{graph_set}/{notation}/all/knone.npz",
    output:
        "results/layers/{model}/{graph_set}/{notation}.csv",
    params:
        probes=lambda w: canonical({name: config["probes"][name] for name in config["layer_probes"]}),
        seeds=config["seeds"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    log:
        "results/logs/layer_probes/{model}/{graph_set}/{notation}.log",
    benchmark:
        "results/benchmarks/layer_probes/{model}/{graph_set}/{notation}.tsv"
    conda:
        "../envs/probes.yaml"
    script:
        "../workflow/scripts/layer_probes.py"


localrules:
    layer_table,


rule layer_table:
    input:
        lambda w: layer_files(),
    output:
        csv="results/tables/layers.csv",
        png=report(
            "results/plots/layers.png",
            caption="../workflow/report/layers.rst",
            category="Probes by layer",
        ),
    params:
        runs=lambda w: layer_runs(),
        controls=control_map(),
    log:
        "results/logs/layer_table.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../workflow/scripts/layer_table.py"

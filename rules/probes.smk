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
        runtime=lambda w: 30 * len(config["seeds"]),
    log:
        "results/logs/train_probe/{model}/{graph_set}/{notation}/{selection}/k{k}/{probe}.log",
    benchmark:
        "results/benchmarks/train_probe/{model}/{graph_set}/{notation}/{selection}/k{k}/{probe}.tsv"
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
        runtime=lambda w: 30 * len(config["seeds"]),
    log:
        "results/logs/train_baseline/{graph_set}/{notation}/{probe}.log",
    benchmark:
        "results/benchmarks/train_baseline/{graph_set}/{notation}/{probe}.tsv"
    conda:
        "../envs/probes.yaml"
    script:
        "../workflow/scripts/train_probe.py"

rule train_probe:
    input:
        "results/datasets/{model}/{graph_set}/{notation}/{selection}/k{k}.npz",
    output:
        metrics="results/probes/{model}/{graph_set}/{notation}/{selection}/k{k}/{probe}/seed{seed}/metrics.json",
        history="results/probes/{model}/{graph_set}/{notation}/{selection}/k{k}/{probe}/seed{seed}/history.csv",
        checkpoint="results/probes/{model}/{graph_set}/{notation}/{selection}/k{k}/{probe}/seed{seed}/best_model.pt",
    params:
        hyper=lambda w: config["probes"][w.probe],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    log:
        "results/logs/train_probe/{model}/{graph_set}/{notation}/{selection}/k{k}/{probe}/seed{seed}.log",
    benchmark:
        "results/benchmarks/train_probe/{model}/{graph_set}/{notation}/{selection}/k{k}/{probe}/seed{seed}.tsv"
    conda:
        "../envs/probes.yaml"
    script:
        "../workflow/scripts/train_probe.py"

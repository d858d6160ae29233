rule train_probe:
    input:
        "results/datasets/{model}/{graph_set}/{notation}/{selection}/k{k}.npz",
    output:
        metrics=PROBE_DIR + "/metrics.json",
        history=PROBE_DIR + "/history.csv",
        checkpoint=PROBE_DIR + "/best_model.pt",
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

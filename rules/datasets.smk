rule combine:
    input:
        dump=sparse_dump,
        meta="results/attention/{model}/{graph_set}/{notation}/dense.json",
        graphs="results/graphs/{graph_set}.json",
        prompts="results/prompts/{graph_set}/{notation}.jsonl",
    output:
        "results/datasets/{model}/{graph_set}/{notation}/{selection}/k{k}.npz",
    params:
        split=canonical(config["split"]),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    log:
        "results/logs/combine/{model}/{graph_set}/{notation}/{selection}/k{k}.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../workflow/scripts/combine.py"

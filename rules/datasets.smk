rule combine:
    input:
        dump=sparse_dump,
        meta="results/attention/{model}/{graph_set}/{notation}/dense.json",
        graphs="results/graphs/{graph_set}.json",
    output:
        "results/datasets/{model}/{graph_set}/{notation}/{selection}/k{k}.npz",
    params:
        split=config["split"],
    resources:
        mem_mb=2000,
        runtime=20,
    log:
        "results/logs/combine/{model}/{graph_set}/{notation}/{selection}/k{k}.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../workflow/scripts/combine.py"

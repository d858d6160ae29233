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


# The position baseline's inputs depend on the prompts alone: one dataset per graph set and
# notation, whatever the model, k or selection.
rule position_dataset:
    input:
        graphs="results/graphs/{graph_set}.json",
        prompts="results/prompts/{graph_set}/{notation}.jsonl",
    output:
        "results/datasets/positions/{graph_set}/{notation}.npz",
    params:
        split=canonical(config["split"]),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        "results/logs/position_dataset/{graph_set}/{notation}.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../workflow/scripts/position_dataset.py"

rule dump_attention:
    input:
        prompts="results/prompts/{graph_set}/{notation}.jsonl",
        model=model_folder_input,
    output:
        dump="results/attention/{model}/{graph_set}/{notation}/dense.npy",
        meta="results/attention/{model}/{graph_set}/{notation}/dense.json",
    params:
        model=lambda w: canonical(config["models"][w.model]),
        max_nodes=lambda w: config["graph_sets"][w.graph_set]["max_nodes"],
    priority: dump_priority
    threads: model_threads
    resources:
        mem_mb=dump_mem_mb,
        gpu=model_gpus,
        runtime=120,
    log:
        "results/logs/dump_attention/{model}/{graph_set}/{notation}.log",
    benchmark:
        "results/benchmarks/dump_attention/{model}/{graph_set}/{notation}.tsv"
    conda:
        "../envs/models.yaml"
    script:
        "../workflow/scripts/dump_attention.py"


rule sparsify:
    input:
        dump="results/attention/{model}/{graph_set}/{notation}/dense.npy",
        meta="results/attention/{model}/{graph_set}/{notation}/dense.json",
    output:
        "results/attention/{model}/{graph_set}/{notation}/k{k,[0-9]+}.npy",
    params:
        k=lambda w: int(w.k),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    log:
        "results/logs/sparsify/{model}/{graph_set}/{notation}/k{k}.log",
    benchmark:
        "results/benchmarks/sparsify/{model}/{graph_set}/{notation}/k{k}.tsv"
    conda:
        "../envs/pipeline.yaml"
    script:
        "../workflow/scripts/sparsify.py"

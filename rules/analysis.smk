# Token-level readings of attention: which token roles each head attends to (head roles,
# with tags such as parent-finder or sink) and descriptive statistics (entropy, span, sink
# mass, head diversity, layer similarity). One forward pass over a sample of prompts feeds both.
rule analyse_attention:
    input:
        prompts="results/prompts/{graph_set}/{notation}.jsonl",
        graphs="results/graphs/{graph_set}.json",
        model=model_folder_input,
    output:
        roles="results/analysis/{model}/{graph_set}/{notation}/head_roles.json",
        shares="results/analysis/{model}/{graph_set}/{notation}/role_shares.csv",
        roles_png=report(
            "results/analysis/{model}/{graph_set}/{notation}/head_roles.png",
            caption="../workflow/report/head_roles.rst",
            category="Head roles",
            subcategory="{model} / {graph_set}",
        ),
        metrics="results/analysis/{model}/{graph_set}/{notation}/attention_metrics.csv",
        similarity="results/analysis/{model}/{graph_set}/{notation}/layer_similarity.csv",
        metrics_png=report(
            "results/analysis/{model}/{graph_set}/{notation}/attention_metrics.png",
            caption="../workflow/report/attention_metrics.rst",
            category="Attention metrics",
            subcategory="{model} / {graph_set}",
        ),
    params:
        model=lambda w: canonical(config["models"][w.model]),
        analysis=canonical(config["analysis"]),
    threads: model_threads
    resources:
        mem_mb=dump_mem_mb,
        gpu=model_gpus,
        runtime=30,
    log:
        "results/logs/analyse_attention/{model}/{graph_set}/{notation}.log",
    benchmark:
        "results/benchmarks/analyse_attention/{model}/{graph_set}/{notation}.tsv"
    conda:
        "../envs/models.yaml"
    script:
        "../workflow/scripts/analyse_attention.py"

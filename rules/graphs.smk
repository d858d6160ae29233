# Seconds of work each: run on the submit host, not as cluster jobs.
localrules:
    generate_graphs,
    render_prompts,


rule generate_graphs:
    output:
        "results/graphs/{graph_set}.json",
    params:
        # Its notations are not the graphs' business: editing them re-renders, not redraws.
        graph_set=lambda w: canonical({key: value for key, value in config["graph_sets"][w.graph_set].items()
                                       if key != "notations"}),
    log:
        "results/logs/generate_graphs/{graph_set}.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../workflow/scripts/generate_graphs.py"


rule render_prompts:
    input:
        "results/graphs/{graph_set}.json",
    output:
        "results/prompts/{graph_set}/{notation}.jsonl",
    params:
        orderings=config["orderings"],
        seed=lambda w: config["graph_sets"][w.graph_set]["seed"],
    log:
        "results/logs/render_prompts/{graph_set}/{notation}.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../workflow/scripts/render_prompts.py"

rule head_scores:
    input:
        # Dense attention from every mention: the combine rule builds it on demand even
        # when selection "all" or k "none" is not in the configured grid.
        "results/datasets/{model}/{graph_set}/{notation}/all/knone.npz",
    output:
        csv=report(
            "results/heads/{model}/{graph_set}/{notation}.csv",
            caption="../workflow/report/head_scores.rst",
            category="Head scores",
            subcategory="{model} / {graph_set}",
        ),
        png=report(
            "results/heads/{model}/{graph_set}/{notation}.png",
            caption="../workflow/report/head_scores.rst",
            category="Head scores",
            subcategory="{model} / {graph_set}",
        ),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    log:
        "results/logs/head_scores/{model}/{graph_set}/{notation}.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../workflow/scripts/head_scores.py"

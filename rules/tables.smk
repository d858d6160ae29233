localrules:
    ablation_table,


rule ablation_table:
    input:
        metrics_files(),
    output:
        csv=report(
            "results/tables/ablation.csv",
            caption="../workflow/report/ablation.rst",
            category="Ablation table",
        ),
        md="results/tables/ablation.md",
        # The report shows HTML inline; the CSV above it is a download.
        html=report(
            "results/tables/ablation.html",
            caption="../workflow/report/ablation.rst",
            category="Ablation table",
        ),
    params:
        runs=grid(),
        # model -> its random-init control
        controls=control_map(),
        position_probe=position_probe(),
        intervals=canonical(config["intervals"]),
    log:
        "results/logs/ablation_table.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../workflow/scripts/ablation_table.py"

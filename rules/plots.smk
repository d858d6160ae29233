localrules:
    probe_plots,
    toy_history_plot,


rule probe_plots:
    input:
        table="results/tables/ablation.csv",
        histories=lambda w: [run_file(run, "history.csv") for run in curve_runs(w.model)],
    output:
        f1=report(
            "results/plots/{model}/f1.png",
            caption="../workflow/report/f1_bars.rst",
            category="Probes",
            subcategory="{model}",
        ),
        curves=report(
            "results/plots/{model}/training_curves.png",
            caption="../workflow/report/training_curves.rst",
            category="Probes",
            subcategory="{model}",
        ),
    params:
        runs=lambda w: curve_runs(w.model),
    log:
        "results/logs/probe_plots/{model}.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../workflow/scripts/probe_plots.py"


rule toy_history_plot:
    input:
        history="results/models/toy_history.csv",
        role_scores="results/models/toy_role_scores.csv",
        metrics="results/models/toy_metrics.json",
    output:
        history=report(
            "results/plots/toy_history.png",
            caption="../workflow/report/toy_history.rst",
            category="Toy model",
        ),
        dynamics=report(
            "results/plots/toy_dynamics.png",
            caption="../workflow/report/toy_dynamics.rst",
            category="Toy model",
        ),
    log:
        "results/logs/toy_history_plot.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../workflow/scripts/toy_history_plot.py"

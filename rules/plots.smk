localrules:
    probe_plots,
    selectivity_plot,
    front_page,
    size_plot,
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


def summary_view():
    """The slice of the table that the summary figures draw: the first notation and selection,
    k = none (the dense matrices) where configured, else the first k."""
    ks = [str(k) for k in config["k"]]
    return dict(notation=config["notations"][0], selection=config["selections"][0],
                k="none" if "none" in ks else ks[0])


def graph_set_sizes():
    """Graph set -> its mean node count, the x axis of F1 against graph size: the first graph set
    of each size (a second draw of the same size, another seed, would stack on it)."""
    sizes = {}
    for name, g in config["graph_sets"].items():
        sizes.setdefault((g["min_nodes"] + g["max_nodes"]) / 2, name)
    return {name: size for size, name in sizes.items()}


def summary_plot_files():
    files = ["results/plots/selectivity.png", "results/report/answer.rst"]
    return files + (["results/plots/f1_by_size.png"] if len(graph_set_sizes()) > 1 else [])


def front_page_view():
    """The table's slice that the selectivity figure and the front page read: the first graph set,
    with summary_view's notation, selection and k."""
    return dict(summary_view(), graph_set=next(iter(config["graph_sets"])))


def front_page_runs():
    """The patched runs of the models but the controls on the summary figures' graph set and
    notation: their encoding against use goes on the report's front page."""
    if not behaviour_runs() or config["behaviour"]["patching"]["method"] == "none":
        return []
    view = front_page_view()
    return [run for run in intervened_runs() if (run["graph_set"], run["notation"]) == (view["graph_set"], view["notation"])]


rule selectivity_plot:
    input:
        "results/tables/ablation.csv",
    output:
        report(
            "results/plots/selectivity.png",
            caption="../workflow/report/selectivity.rst",
            category="Probes",
            subcategory="Against the baselines",
        ),
    params:
        view=front_page_view(),
        controls=control_map(),
        position_probe=position_probe(),
    log:
        "results/logs/selectivity_plot.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../workflow/scripts/summary_plots.py"


# The report's front page: workflow/report/workflow.rst includes front_page.rst, the sentences
# of answer.rst with the summary figures embedded.
rule front_page:
    input:
        table="results/tables/ablation.csv",
        selectivity="results/plots/selectivity.png",
        encodings=[BEHAVIOUR_DIR.format(**run) + "/encoding_use.csv" for run in front_page_runs()],
        use_figures=["results/plots/behaviour/{model}/{graph_set}/{notation}/encoding_use.png".format(**run)
                     for run in front_page_runs()],
    output:
        answer=report(
            "results/report/answer.rst",
            caption="../workflow/report/answer.rst",
            category="Probes",
            subcategory="Against the baselines",
        ),
        page="results/report/front_page.rst",
    params:
        view=front_page_view(),
        models=[run["model"] for run in front_page_runs()],
        controls=control_map(),
        position_probe=position_probe(),
    log:
        "results/logs/front_page.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../workflow/scripts/front_page.py"


rule size_plot:
    input:
        "results/tables/ablation.csv",
    output:
        report(
            "results/plots/f1_by_size.png",
            caption="../workflow/report/f1_by_size.rst",
            category="Probes",
            subcategory="Against the baselines",
        ),
    params:
        view=summary_view(),
        sizes=graph_set_sizes(),
        controls=control_map(),
        position_probe=position_probe(),
    log:
        "results/logs/size_plot.log",
    conda:
        "../envs/pipeline.yaml"
    script:
        "../workflow/scripts/summary_plots.py"

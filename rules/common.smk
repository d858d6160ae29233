# Target helpers: which files the configured grid asks for.

import itertools
import re
from pathlib import Path

import graphattn.config
import graphattn.gguf
import graphattn.relations
from graphattn import resources
from graphattn.models import built_model_dir, resolve_model_path, source

NAME = "[A-Za-z0-9][A-Za-z0-9_.-]*"


wildcard_constraints:
    model=NAME,
    graph_set=NAME,
    notation="arrow|to|parents",
    selection="all|source|target",
    k=r"none|\d+",
    relation="|".join(graphattn.relations.RELATIONS),
    probe=NAME,


def canonical(value):
    """Dicts with their keys sorted, recursively. Snakemake compares params by their repr,
    so without this a reordered config entry or a restated default would look like an edit
    and re-run the jobs."""
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


def set_notations():
    """Every (graph set, notation) rendered: a graph set's own `notations`, else the config's."""
    return [(g, n) for g, section in config["graph_sets"].items() for n in section.get("notations") or config["notations"]]


def graph_set_files():
    """Every graph set's graph file: the toy's training and held-out questions are drawn apart from them."""
    return expand("results/graphs/{graph_set}.json", graph_set=config["graph_sets"])


def grid():
    """Every probe run of the config as a dict of wildcard values."""
    return [
        dict(model=m, graph_set=g, notation=n, selection=s, k=str(k), relation=r, probe=p, seed=seed)
        for m, (g, n), s, k, r, p, seed in itertools.product(
            config["models"],
            set_notations(),
            config["selections"],
            config["k"],
            config["relations"],
            config["probes"],
            config["seeds"],
        )
    ]


def model_set_files(pattern, **names):
    """``pattern`` for every model x rendered (graph set, notation), and every value of ``names``."""
    return [pattern.format(model=m, graph_set=g, notation=n, **dict(zip(names, values)))
            for m, (g, n) in itertools.product(config["models"], set_notations())
            for values in itertools.product(*names.values())]


PROBE_RUN = "results/probes/{model}/{graph_set}/{notation}/{selection}/k{k}/{relation}/{probe}/seed{seed}/{name}"
BASELINE_RUN = "results/baselines/{graph_set}/{notation}/{relation}/{probe}/seed{seed}/{name}"
MODEL_FREE = {"position"}  # probe types that read no attention


def run_file(run, name):
    """A run's file: its own, or for a model-free probe the one run its graph set and notation share."""
    if config["probes"][run["probe"]]["type"] in MODEL_FREE:
        return BASELINE_RUN.format(name=name, **run)
    return PROBE_RUN.format(name=name, **run)


def position_probe():
    """The first configured probe of a model-free type: the baseline beside every row."""
    return next((name for name, p in config["probes"].items() if p["type"] in MODEL_FREE), None)


def metrics_files():
    return [run_file(run, "metrics.json") for run in grid()]


def probe_files(name):
    """One file per configured seed of a train_probe job (its other wildcards left open)."""
    return expand(PROBE_RUN, name=name, seed=config["seeds"], allow_missing=True)


def baseline_files(name):
    return expand(BASELINE_RUN, name=name, seed=config["seeds"], allow_missing=True)


def model_folder_input(wildcards):
    """A model folder the run builds (the toy it trains, a converted GGUF file) is an input of its dump."""
    folder = built_model_dir(config["models"][wildcards.model]["path"])
    return [folder] if folder else []


def gguf_source(name):
    """The `gguf` section of the models whose converted folder is resources/models/<name>."""
    for entry in config["models"].values():
        if entry["path"] == graphattn.gguf.PREFIX + name:
            return canonical(entry["gguf"])
    raise ValueError(f"no model entry has a gguf source named {name!r}")


def dump_mem_mb(wildcards):
    """The model entry's mem_mb, else an estimate that grows with the model, its dtype, the
    batch size and the graph set's prompt length."""
    entry = config["models"][wildcards.model]
    if "mem_mb" in entry:
        return entry["mem_mb"]
    if source(entry["path"]) == "pipeline":
        shape = resources.shape_of_toy(config["toy"], toy_graph_settings()["naming"])
    else:
        folder = resolve_model_path(entry["path"], entry["allow_download"])
        if not Path(folder, "config.json").is_file():
            return 16000  # to be downloaded or converted first: size unknown at planning time
        shape = resources.shape_of_folder(folder)
    tokens = resources.prompt_tokens(config["graph_sets"][wildcards.graph_set]["max_nodes"])
    return resources.dump_mem_mb(shape, entry["dtype"], entry["batch_size"], tokens)


def model_gpus(wildcards):
    """GPUs of a job that loads the model: the entry's `gpus`, at least one on a cuda device, none
    on the CPU (a profile's partition file then sends the job to a GPU or a CPU partition)."""
    entry = config["models"][wildcards.model]
    return max(entry["gpus"], 1) if str(entry["device"]).startswith("cuda") else 0


def model_threads(wildcards):
    """Threads of a job that runs a model: one for the toy and its control, whose matrices are
    too small to share (two threads are barely faster alone, and beside other jobs their
    spinning costs 8 times the CPU of one: benchmarks/job_threads.py), two for any other model."""
    return 1 if source(config["models"][wildcards.model]["path"]) == "pipeline" else 2


def dump_priority(wildcards):
    """The dumps of models converted from GGUF (SmolLM2's here) start before other ready jobs:
    they waited for the fetch and conversion, and are the longest dumps of the run, whose end
    they otherwise were. Not every dump: four at once took the toy's spare core (docs/benchmarks.md)."""
    return 10 if source(config["models"][wildcards.model]["path"]) == "gguf" else 0


def control_map():
    """Model -> its random-init control, for the tables that put them side by side."""
    return canonical({m["control_of"]: name for name, m in config["models"].items() if m["control_of"]})


def toy_settings():
    """The toy section but its graph set (whose settings come through toy_graph_settings)."""
    return canonical({key: value for key, value in config["toy"].items() if key != "graph_set"})


def toy_graph_settings():
    return graphattn.config.toy_graph_settings(config)


def sparse_dump(wildcards):
    """k=none is the dense dump itself: no copy."""
    name = "dense" if wildcards.k == "none" else f"k{wildcards.k}"
    return "results/attention/{model}/{graph_set}/{notation}/{name}.npy".format(name=name, **wildcards)


def head_score_files():
    """The per-head table and heatmap of every model x graph set x notation."""
    return model_set_files("results/heads/{model}/{graph_set}/{notation}.{ext}", ext=["csv", "png"])


def analysis_files():
    """Head roles and attention metrics of every model x graph set x notation."""
    return model_set_files("results/analysis/{model}/{graph_set}/{notation}/{name}",
                           name=["head_roles.json", "head_roles.png", "attention_metrics.csv", "attention_metrics.png"])


def curve_runs(model):
    """The runs whose training curves are drawn: the model's gradient-trained probes, first seed."""
    fitted = {"logreg", "best_head"}  # no epochs, no curve
    return [
        run
        for run in grid()
        if run["model"] == model
        and run["seed"] == config["seeds"][0]
        and config["probes"][run["probe"]]["type"] not in fitted
    ]


def toy_model_name():
    """The grid's name for the model the pipeline trains (not its control), or None."""
    return next((name for name, m in config["models"].items() if m["path"] == "pipeline:toy" and not m["random_init"]), None)


def finetuned_models():
    """The models the run fine-tunes (their controls are built from the base's folder)."""
    return [name for name, m in config["models"].items() if "finetune" in m]


def finetune_base_input(name):
    """The folder of a fine-tuned model's base: one the run builds (a converted GGUF file), or a
    local folder or cached hub snapshot."""
    base = config["models"][config["models"][name]["finetune"]["base"]]
    return built_model_dir(base["path"]) or resolve_model_path(base["path"], base["allow_download"])


def finetune_graph_settings(name):
    """Its training graphs are drawn like the graphs of its graph set (count and seed aside)."""
    graph_set = config["graph_sets"][config["models"][name]["finetune"]["graph_set"]]
    return canonical({key: graph_set[key] for key in ("min_nodes", "max_nodes", "edge_prob", "naming")})


def taught_model(name, role):
    """A fine-tuned model's base, itself, or its control ("base", "finetuned", "control"); None if absent."""
    if role == "base":
        return config["models"][name]["finetune"]["base"]
    if role == "control":
        return next((m for m, e in config["models"].items() if e["control_of"] == name), None)
    return name


def taught_file(wildcards, role, pattern):
    """``pattern`` ({model}, {graph_set}, {notation}) for a fine-tuned model's base, itself or its
    control on the job's graph set and notation; none for an absent control."""
    model = taught_model(wildcards.finetuned, role)
    return pattern.format(model=model, graph_set=wildcards.graph_set, notation=wildcards.notation) if model else []


def head_change_targets():
    """The before/after comparison of every fine-tuned model whose base is asked and patched beside it."""
    if not config.get("behaviour") or config["behaviour"]["patching"]["method"] == "none":
        return []
    runs = {(r["model"], r["graph_set"], r["notation"]) for r in behaviour_runs()}
    return ["results/plots/taught/{m}/{g}/{n}/head_changes.png".format(m=m, g=g, n=n)
            for m in finetuned_models() for (model, g, n) in sorted(runs)
            if model == m and (config["models"][m]["finetune"]["base"], g, n) in runs]


def toy_roles(wildcards):
    """The toy's head roles on its own graph set, first notation: the tags beside its ablation."""
    return f"results/analysis/{toy_model_name()}/{config['toy']['graph_set']}/{config['notations'][0]}/head_roles.json"


def plot_files():
    files = expand("results/plots/{model}/{name}.png", model=config["models"], name=["f1", "training_curves"])
    if toy_model_name():
        files += ["results/plots/toy_history.png", "results/plots/toy_dynamics.png",
                  "results/models/toy_ablation.csv", "results/plots/toy_ablation.png"]
    return files + expand("results/plots/{finetuned}_history.png", finetuned=finetuned_models()) + head_change_targets()


def behaviour_runs():
    """Every (model, graph set, notation) whose answers the config asks for."""
    section = config.get("behaviour", {})
    graph_sets, notations = section.get("graph_sets"), section.get("notations")
    return [dict(model=m, graph_set=g, notation=n)
            for m, (g, n) in itertools.product(graphattn.config.behaviour_models(config), set_notations())
            if (not graph_sets or g in graph_sets) and (not notations or n in notations)]


def intervened_runs():
    """The behaviour runs of the models that are not controls: those sink-swept, and whose logit
    figure shows the control beside them. Controls are patched and ablated too, as baselines."""
    return [run for run in behaviour_runs() if not config["models"][run["model"]]["control_of"]]


BEHAVIOUR_DIR = "results/behaviour/{model}/{graph_set}/{notation}"


def behaviour_files(name, runs=None):
    return [BEHAVIOUR_DIR.format(**run) + "/" + name for run in (behaviour_runs() if runs is None else runs)]


def counterpart_file(model, wildcards, name):
    """`name` of another model (a control, or the model it controls) on the job's graph set and
    notation; none when there is no such model."""
    return behaviour_files(name, [dict(model=model, graph_set=wildcards.graph_set, notation=wildcards.notation)]) \
        if model else []


def behaviour_targets():
    """The behaviour table and every per-model figure, if the config has a behaviour section."""
    if not behaviour_runs():
        return []
    plot = "results/plots/behaviour/{model}/{graph_set}/{notation}/{plot}.png"
    patched = config["behaviour"]["patching"]["method"] != "none"
    every = ["head_ablation"] + (["patching", "encoding_use"] if patched else [])
    return ["results/tables/behaviour.csv", "results/tables/logit_answers.csv"] + [
        plot.format(plot=name, **run) for run in behaviour_runs() for name in every] + [
        plot.format(plot="logit_answers", **run) for run in intervened_runs()]


def layer_runs():
    if not config["layer_probes"]:
        return []
    return [dict(model=m, graph_set=g, notation=n) for m, (g, n) in itertools.product(config["models"], set_notations())]


def layer_files():
    return ["results/layers/{model}/{graph_set}/{notation}.csv".format(**run) for run in layer_runs()]


def layer_targets():
    return ["results/tables/layers.csv"] if layer_runs() else []

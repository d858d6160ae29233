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
    split = config["split"]
    if split["train"] + split["val"] >= 1:
        problems.append(f"split.train + split.val ({split['train']} + {split['val']}) must be below 1 to leave a test split")
    if problems:
        raise ConfigError("invalid config:\n  - " + "\n  - ".join(problems))

"""The config completed at load: GGUF sources get the folder they convert into as their path,
and every model asking for a random-init control gets its twin as a model of its own."""

from __future__ import annotations


def with_gguf_paths(models: dict) -> dict:
    """Entries with a `gguf` source get the path of the folder it converts into ("gguf:<name>")."""
    from .. import gguf

    return {name: {**entry, "path": gguf.PREFIX + gguf.resource_name(entry["gguf"])} if "gguf" in entry else entry
            for name, entry in models.items()}


def with_finetune_paths(models: dict) -> dict:
    """Entries with a `finetune` section get the path of the folder the rule finetune_model writes
    ("finetune:<name>"), the base's path in that section (what the rule reads, and the control's
    source) and, unless set, the answer format they are taught in (trained)."""
    from ..models import FINETUNE_PREFIX

    out = {}
    for name, entry in models.items():
        if "finetune" in entry:
            section = {**entry["finetune"], "base_path": models[entry["finetune"]["base"]]["path"]}
            entry = {"answer_format": "trained", **entry, "path": FINETUNE_PREFIX + name, "finetune": section}
        out[name] = entry
    return out


CONTROL_SUFFIX = "-random"


def with_controls(models: dict) -> dict:
    """The models of the grid: every configured entry, each followed by its control twin if it asks for one.

    Every entry comes out with ``random_init`` (bool), ``init_seed`` (the seed of the random
    weights, None for real weights) and ``control_of`` (the model it controls, or None), and
    without ``control``/``control_seed``: those only say which twins to add, so editing them
    changes the twin's entry (and re-runs its jobs), never the real model's. The toy's twin
    is built from the untrained toy's folder (models.CONTROL_SOURCE), not the trained one's;
    a fine-tuned model's from its base's folder (the same architecture and tokenizer), without
    its `finetune` section, so that a training setting does not re-run it.
    """
    from ..models import CONTROL_SOURCE

    grid = {}
    for name, entry in models.items():
        entry = dict(entry)
        control, seed = entry.pop("control", "none"), entry.pop("control_seed", 0)
        grid[name] = {**entry, "random_init": False, "init_seed": None, "control_of": None}
        if control == "random_init":
            twin = {key: value for key, value in entry.items() if key != "finetune"}
            path = entry["finetune"]["base_path"] if "finetune" in entry else CONTROL_SOURCE.get(entry["path"], entry["path"])
            grid[name + CONTROL_SUFFIX] = {**twin, "path": path, "random_init": True, "init_seed": seed, "control_of": name}
    return grid

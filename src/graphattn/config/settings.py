"""What the rules read of the config beyond single keys: the toy's training graphs, the
behaviour rules' question settings and models."""

from __future__ import annotations

from ..models import source

# The toy settings that make the untrained toy (its architecture and initial weights; its
# tokenizer follows the graph set's naming): all that the folder of its control depends on.
UNTRAINED_TOY_KEYS = ("layers", "heads", "hidden", "llama", "seed")


def toy_graph_settings(config: dict) -> dict:
    """The toy model's training graphs are drawn like the graphs of its graph set (count and seed aside)."""
    graph_set = config["graph_sets"][config["toy"]["graph_set"]]
    return {key: graph_set[key] for key in ("min_nodes", "max_nodes", "edge_prob", "naming")}


def answer_settings(config: dict, model: str) -> dict:
    """What the behaviour rules need of a model's questions: its prompt format and batch size,
    the kinds, examples, sample and answer length (its control answers in the base model's format)."""
    section, entry = config["behaviour"], config["models"][model]
    # The toy, trained or not; a fine-tuned model and its control carry answer_format trained (config.expand).
    default = "trained" if source(entry["path"]) == "pipeline" else section["format"]
    return {
        "format": entry.get("answer_format", default),
        "batch_size": entry["batch_size"],
        **{key: section[key] for key in ("kinds", "shots", "seed", "max_prompts", "max_new_tokens")},
    }


def behaviour_models(config: dict) -> list[str]:
    """The models named in behaviour.models and their controls, in the grid's order."""
    named = set(config.get("behaviour", {}).get("models", []))
    return [m for m, entry in config["models"].items() if m in named or entry.get("control_of") in named]

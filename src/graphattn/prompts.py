"""Render graphs as text in several notations, recording every node mention.

Each mention carries its character span and role: ``source`` (parent side of an
edge) or ``target`` (child side). Downstream, the tokenizer's offsets turn spans
into tokens, so node names of any tokenization align.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field

import numpy as np

from .atomic import atomic_path
from .graphs import Graph


@dataclass
class Mention:
    node: int
    start: int
    end: int
    role: str


@dataclass
class Prompt:
    graph_id: int
    ordering: int
    n_nodes: int
    text: str = ""
    mentions: list[Mention] = field(default_factory=list)

    def add(self, piece: str, node: int | None = None, role: str | None = None) -> None:
        """Append text; a node name is recorded as a mention at its span."""
        if node is not None:
            self.mentions.append(Mention(node, len(self.text), len(self.text) + len(piece), role))
        self.text += piece


def _edge_list(prompt: Prompt, graph: Graph, edges: list[tuple[int, int]], connective: str) -> None:
    for n, (parent, child) in enumerate(edges):
        if n:
            prompt.add(", ")
        prompt.add(graph.nodes[parent], parent, "source")
        prompt.add(f" {connective} ")
        prompt.add(graph.nodes[child], child, "target")


def render_arrow(prompt: Prompt, graph: Graph, edges: list[tuple[int, int]]) -> None:
    _edge_list(prompt, graph, edges, "->")


def render_to(prompt: Prompt, graph: Graph, edges: list[tuple[int, int]]) -> None:
    _edge_list(prompt, graph, edges, "to")


def render_parents(prompt: Prompt, graph: Graph, edges: list[tuple[int, int]]) -> None:
    """"Parents of C: A, B. Parents of D: C." Children follow their first edge in the ordering."""
    children: dict[int, list[int]] = {}
    for parent, child in edges:
        children.setdefault(child, []).append(parent)
    for n, (child, parents) in enumerate(children.items()):
        if n:
            prompt.add(" ")
        prompt.add("Parents of ")
        prompt.add(graph.nodes[child], child, "target")
        prompt.add(": ")
        for m, parent in enumerate(parents):
            if m:
                prompt.add(", ")
            prompt.add(graph.nodes[parent], parent, "source")
        prompt.add(".")


NOTATIONS = {"arrow": render_arrow, "to": render_to, "parents": render_parents}
# Words of each notation's template: a node with one of these names would be ambiguous.
NOTATION_WORDS = {"arrow": {"->"}, "to": {"to"}, "parents": {"parents", "of"}}


def render(graph: Graph, notation: str, ordering: int, rng: np.random.Generator) -> Prompt:
    if notation not in NOTATIONS:
        raise ValueError(f"unknown notation {notation!r}; accepted: {sorted(NOTATIONS)}")
    clashes = [name for name in graph.nodes if name.lower() in NOTATION_WORDS[notation] or not re.fullmatch(r"\w+", name)]
    if clashes:
        raise ValueError(
            f"graph {graph.id}: node name(s) {clashes} clash with notation {notation!r} "
            f"(names must be single words other than {sorted(NOTATION_WORDS[notation])})"
        )
    edges = [graph.edges[i] for i in rng.permutation(len(graph.edges))]
    prompt = Prompt(graph_id=graph.id, ordering=ordering, n_nodes=graph.n_nodes)
    NOTATIONS[notation](prompt, graph, edges)
    return prompt


def render_all(graphs: list[Graph], notation: str, orderings: int, seed: int) -> list[Prompt]:
    """Every graph in ``orderings`` edge orders; the orders depend on seed and graph, not notation."""
    prompts = []
    for graph in graphs:
        for r in range(orderings):
            rng = np.random.default_rng([seed, graph.id, r])
            prompts.append(render(graph, notation, r, rng))
    return prompts


def save(path: str, prompts: list[Prompt]) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "w") as fh:
            for prompt in prompts:
                fh.write(json.dumps(asdict(prompt)) + "\n")


def load(path: str) -> list[dict]:
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


class PromptFile:
    """Prompts of a .jsonl file read on demand: only each line's byte offset stays in memory."""

    def __init__(self, path: str):
        self.path = path
        self.offsets: list[int] = []
        with open(path, "rb") as fh:
            position = 0
            for line in fh:
                if line.strip():
                    self.offsets.append(position)
                position += len(line)

    def __len__(self) -> int:
        return len(self.offsets)

    def read(self, indices: list[int]) -> list[dict]:
        with open(self.path, "rb") as fh:
            out = []
            for i in indices:
                fh.seek(self.offsets[i])
                out.append(json.loads(fh.readline()))
            return out

    def __iter__(self):
        with open(self.path, "rb") as fh:
            yield from (json.loads(line) for line in fh if line.strip())

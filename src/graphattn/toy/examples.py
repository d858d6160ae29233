"""The toy's training and held-out examples: a rendered graph, then questions and their answers,
"<bos>A -> C, B -> C. Parents of C: A, B." with the loss on the answer tokens only. Training
graphs are drawn fresh for every example, never one that anything is evaluated on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import graphs
from ..attention import length_batches
from ..prompts import render

def question(graph: graphs.Graph, kind: str, node: int) -> tuple[str, str]:
    """(" Parents of C:", " A, B.") with the answer in alphabetical order, or " none."."""
    adj = graph.adjacency()
    related = np.nonzero(adj[:, node] if kind == "Parents" else adj[node])[0]
    names = sorted(graph.nodes[i] for i in related)
    return f" {kind} of {graph.nodes[node]}:", " " + (", ".join(names) if names else "none") + "."


@dataclass
class Example:
    ids: list[int]
    scored: list[bool]  # True on answer tokens: the loss and the accuracy look only there


def make_example(tokenizer, graph, notation, questions: list[tuple[str, int]], rng) -> Example:
    """"<bos>A -> C, B -> C. Parents of C: A, B. Children of A: C." for questions [(Parents, C), (Children, A)]."""
    parts = [part for kind, node in questions for part in question(graph, kind, node)]
    # The backend's single-text encode: a batch call hands these few short texts to a thread
    # pool whose start-up costs more than the encoding (3x here, more while other jobs run).
    encode = tokenizer.backend_tokenizer.encode
    encoded = [encode(text, add_special_tokens=False).ids for text in [render(graph, notation, 0, rng).text + "."] + parts]
    ids = [tokenizer.bos_token_id] + encoded[0]
    scored = [False] * len(ids)
    for i, part in enumerate(encoded[1:]):
        ids += part
        scored += [i % 2 == 1] * len(part)  # parts alternate question, answer
    return Example(ids, scored)


def collate(examples: list[Example], pad_id: int) -> dict[str, torch.Tensor]:
    width = max(len(e.ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id)
    labels = torch.full((len(examples), width), -100)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for row, e in enumerate(examples):
        tokens = torch.tensor(e.ids)
        ids[row, :len(e.ids)] = tokens
        labels[row, :len(e.ids)] = torch.where(torch.tensor(e.scored), tokens, -100)
        mask[row, :len(e.ids)] = 1
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}

# Consecutive draws that may all be excluded graphs before the stream gives up: settings whose
# graphs are nearly all in the graph sets (say 2-node graphs of 3 names) leave nothing to train on.
MAX_REDRAWS = 10_000


class ExampleStream:
    """Fresh random graphs for every example, seeded, none of them in ``exclude`` (edge sets over
    node names, ``graphs.edge_set``): the graph sets' graphs and the toy's held-out graphs are
    redrawn, so no graph that anything is evaluated on reaches training."""

    def __init__(self, tokenizer, settings: dict, notations: list[str], seed: int,
                 exclude: frozenset = frozenset()):
        self.tokenizer, self.settings, self.notations = tokenizer, settings, notations
        self.rng = np.random.default_rng(seed)
        self.exclude = exclude
        self.redrawn = 0  # excluded graphs drawn and thrown away
        self.drawn: list[frozenset] | None = None  # a list: the edge sets of the graphs given out are kept in it

    def graph(self) -> graphs.Graph:
        for _ in range(MAX_REDRAWS):
            g = graphs.random_sized_dag(0, self.settings, self.rng)
            key = graphs.edge_set(g)
            if key not in self.exclude:
                if self.drawn is not None:
                    self.drawn.append(key)
                return g
            self.redrawn += 1
        raise ValueError(
            f"toy training graphs {self.settings}: {MAX_REDRAWS} draws in a row were all graphs of the graph "
            f"sets or of the toy's held-out sets ({len(self.exclude)} excluded); accepted: settings with more "
            f"distinct graphs (more nodes, a larger naming scheme) or smaller graph sets")

    def batch(self, size: int, questions: int, parent_share: float) -> list[Example]:
        """Up to ``questions`` distinct questions per graph, parent questions weighted by ``parent_share``."""
        out = []
        for _ in range(size):
            g = self.graph()
            notation = self.notations[int(self.rng.integers(len(self.notations)))]
            out.append(make_example(self.tokenizer, g, notation, self.questions(g, questions, parent_share), self.rng))
        return out

    def batches(self, size: int, questions: int, parent_share: float, pool: int = 8):
        """Endless training batches of similar length: ``pool`` batches are drawn at once, sorted by
        length, cut and shuffled, so little of each batch is padding (a third otherwise)."""
        while True:
            examples = self.batch(size * pool, questions, parent_share)
            groups = length_batches([len(e.ids) for e in examples], size)
            for i in self.rng.permutation(pool):
                yield [examples[j] for j in groups[i]]

    def questions(self, g: graphs.Graph, count: int, parent_share: float) -> list[tuple[str, int]]:
        # Without repeats: a repeated question is answered by copying the earlier answer,
        # which teaches nothing about the graph.
        pairs = [(kind, node) for kind in ("Parents", "Children") for node in range(g.n_nodes)]
        weights = np.array([parent_share if kind == "Parents" else 1 - parent_share for kind, _ in pairs])
        count = min(count, int(np.count_nonzero(weights)))
        chosen = self.rng.choice(len(pairs), size=count, replace=False, p=weights / weights.sum())
        return [pairs[i] for i in chosen]


# The held-out sets' seeds, as offsets from the toy's seed. Validation stops training and chose the
# recipe (docs/toy.md); test and children were drawn anew (offsets 5 and 6, 2026-12-05) after the
# recipe was fixed, and are used for nothing but the reported accuracies.
VALIDATION_SEED_OFFSET = 1
HELDOUT_SEED_OFFSETS = {"val": VALIDATION_SEED_OFFSET, "test": 5, "children": 6}
HELDOUT_PARENT_SHARE = {"val": 1.0, "test": 1.0, "children": 0.0}


def heldout_examples(tokenizer, graph_settings: dict, toy: dict, stream_seed: int, parent_share: float,
                     exclude: frozenset = frozenset()) -> list[Example]:
    """One question per fresh graph outside ``exclude``: parent_share 1.0 asks about parents only,
    0.0 about children only."""
    return heldout_draw(tokenizer, graph_settings, toy, stream_seed, parent_share, exclude)[0]


def heldout_draw(tokenizer, graph_settings: dict, toy: dict, stream_seed: int, parent_share: float,
                 exclude: frozenset) -> tuple[list[Example], frozenset]:
    """(the examples, the edge sets of their graphs)."""
    stream = ExampleStream(tokenizer, graph_settings, toy["notations"], stream_seed, exclude)
    stream.drawn = []
    return stream.batch(toy["n_heldout"], 1, parent_share), frozenset(stream.drawn)


def graph_set_edge_sets(paths: list[str]) -> frozenset:
    """Every graph of the graph set files (results/graphs/*.json), all splits, as edge sets."""
    return frozenset(graphs.edge_set(g) for path in paths for g in graphs.load(path)[0])


def toy_data(tokenizer, graph_settings: dict, toy: dict, graph_sets: frozenset):
    """(held-out examples by set, the training stream). The held-out sets are drawn apart from the
    graph sets' graphs (``graph_sets``) and from each other, and the training stream is drawn
    apart from all of them: no graph is in two of these, compared as edge sets over node names.
    Not up to renaming: the toy has a token per name and must read each graph's edges from the
    text, and with renaming the few shapes of 3-node DAGs would leave no 3-node graph to train on."""
    seed, exclude, heldout = toy["seed"], graph_sets, {}
    for name, offset in HELDOUT_SEED_OFFSETS.items():
        heldout[name], drawn = heldout_draw(tokenizer, graph_settings, toy, seed + offset,
                                            HELDOUT_PARENT_SHARE[name], exclude)
        exclude = exclude | drawn
    return heldout, ExampleStream(tokenizer, graph_settings, toy["notations"], seed, exclude)

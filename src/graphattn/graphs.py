"""Random DAGs with named nodes and their ground-truth adjacency."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from . import naming
from .atomic import write_json


@dataclass(frozen=True)
class Graph:
    id: int
    nodes: list[str]  # node index -> name; the index order carries no topological information
    edges: list[tuple[int, int]]  # (parent, child) pairs of node indices

    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    def adjacency(self, size: int | None = None) -> np.ndarray:
        """adj[i, j] = 1 iff i -> j, padded with zeros to ``size``."""
        size = size or self.n_nodes
        adj = np.zeros((size, size), dtype=np.uint8)
        for parent, child in self.edges:
            adj[parent, child] = 1
        return adj


def edge_set(graph: Graph) -> frozenset[tuple[str, str]]:
    """The graph as its prompt states it: (parent, child) name pairs. Every node is in an edge, so
    two graphs with the same edge set are the same graph; node indices and ids do not count."""
    return frozenset((graph.nodes[parent], graph.nodes[child]) for parent, child in graph.edges)


def random_dag(graph_id: int, n_nodes: int, edge_prob: float, scheme: str, rng: np.random.Generator) -> Graph:
    """A weakly connected DAG: every node appears in an edge, so every node is mentioned."""
    order = rng.permutation(n_nodes)  # topological order over node indices
    upper = np.triu(rng.random((n_nodes, n_nodes)) < edge_prob, k=1)
    for pos in range(1, n_nodes):
        # Attach each node to an earlier one if it has no link yet to any earlier node.
        if not upper[:pos, pos].any():
            upper[rng.integers(pos), pos] = True
    edges = [(int(order[a]), int(order[b])) for a, b in zip(*np.nonzero(upper))]
    names = naming.draw_names(scheme, n_nodes, rng)
    return Graph(id=graph_id, nodes=names, edges=sorted(edges))


def random_sized_dag(graph_id: int, settings: dict, rng: np.random.Generator) -> Graph:
    """A DAG whose node count is drawn uniformly from settings' min_nodes..max_nodes."""
    n = int(rng.integers(settings["min_nodes"], settings["max_nodes"] + 1))
    return random_dag(graph_id, n, settings["edge_prob"], settings["naming"], rng)


def generate(min_nodes: int, max_nodes: int, edge_prob: float, count: int, seed: int, naming: str) -> list[Graph]:
    validate_settings(min_nodes, max_nodes, edge_prob, count, naming)
    rng = np.random.default_rng(seed)
    sizes = rng.integers(min_nodes, max_nodes + 1, size=count)
    return [random_dag(i, int(n), edge_prob, naming, rng) for i, n in enumerate(sizes)]


def validate_settings(min_nodes: int, max_nodes: int, edge_prob: float, count: int, naming_scheme: str) -> None:
    if min_nodes < 2:
        raise ValueError(f"min_nodes must be at least 2, got {min_nodes}")
    if min_nodes > max_nodes:
        raise ValueError(f"min_nodes ({min_nodes}) must not exceed max_nodes ({max_nodes})")
    if not 0.0 <= edge_prob <= 1.0:
        raise ValueError(f"edge_prob must lie in [0, 1], got {edge_prob}")
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    if max_nodes > naming.capacity(naming_scheme):
        raise ValueError(
            f"naming scheme {naming_scheme!r} can name at most {naming.capacity(naming_scheme)} nodes, "
            f"but max_nodes is {max_nodes}"
        )


def check_dag(graph: Graph) -> None:
    """Refuse what the prompts or the probes' ground truth cannot hold: a graph without edges (its
    prompt would be empty), a node in no edge (no prompt mentions it), self-loops and cycles."""
    if not graph.edges:
        raise ValueError(f"graph {graph.id}: no edges, so its prompt would be empty; accepted: at least one edge")
    for parent, child in graph.edges:
        if parent == child:
            raise ValueError(f"graph {graph.id}: self-loop on node {graph.nodes[parent]!r}; accepted: a DAG")
        if not (0 <= parent < graph.n_nodes and 0 <= child < graph.n_nodes):
            raise ValueError(f"graph {graph.id}: edge ({parent}, {child}) names a node outside 0..{graph.n_nodes - 1}")
    unmentioned = sorted(set(range(graph.n_nodes)) - {node for edge in graph.edges for node in edge})
    if unmentioned:
        raise ValueError(f"graph {graph.id}: node(s) {[graph.nodes[i] for i in unmentioned]} are in no edge, so no "
                         f"prompt mentions them; accepted: every node in at least one edge")
    indegree = graph.adjacency().sum(axis=0)
    ready = [i for i in range(graph.n_nodes) if indegree[i] == 0]
    seen = 0
    children = {i: [c for p, c in graph.edges if p == i] for i in range(graph.n_nodes)}
    while ready:
        node = ready.pop()
        seen += 1
        for child in children[node]:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    if seen < graph.n_nodes:
        stuck = [graph.nodes[i] for i in range(graph.n_nodes) if indegree[i] > 0]
        raise ValueError(f"graph {graph.id}: edges form a cycle (through nodes among {stuck}); accepted: a DAG")


def save(path: str, graphs: list[Graph], max_nodes: int) -> None:
    write_json(path, {
        "max_nodes": max_nodes,
        "graphs": [{"id": g.id, "nodes": g.nodes, "edges": [list(e) for e in g.edges]} for g in graphs],
    })


def load(path: str) -> tuple[list[Graph], int]:
    with open(path) as fh:
        data = json.load(fh)
    graphs = [Graph(id=g["id"], nodes=g["nodes"], edges=[tuple(e) for e in g["edges"]]) for g in data["graphs"]]
    for graph in graphs:
        check_dag(graph)
    return graphs, data["max_nodes"]

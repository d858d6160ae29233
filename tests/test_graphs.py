import numpy as np
import pytest

from graphattn import graphs, naming


def test_generate_is_seeded_and_sized():
    a = graphs.generate(3, 6, 0.4, 50, seed=7, naming="letters")
    b = graphs.generate(3, 6, 0.4, 50, seed=7, naming="letters")
    assert [(g.nodes, g.edges) for g in a] == [(g.nodes, g.edges) for g in b]
    assert {g.n_nodes for g in a} == {3, 4, 5, 6}


def test_graphs_are_weakly_connected_dags_with_distinct_names():
    for g in graphs.generate(3, 10, 0.2, 100, seed=1, naming="letters"):
        graphs.check_dag(g)
        assert len(set(g.nodes)) == g.n_nodes
        mentioned = {n for edge in g.edges for n in edge}
        assert mentioned == set(range(g.n_nodes))
        adj = g.adjacency(12)
        assert adj.shape == (12, 12) and adj.sum() == len(g.edges) and np.trace(adj) == 0


def test_node_index_carries_no_topological_order():
    # If index order were topological, every edge would go from a lower to a higher index.
    edges = [e for g in graphs.generate(5, 8, 0.5, 50, seed=3, naming="letters") for e in g.edges]
    assert any(p > c for p, c in edges) and any(p < c for p, c in edges)


def test_naming_scheme_refuses_graph_larger_than_it_can_name():
    with pytest.raises(ValueError, match="can name at most 20"):
        graphs.generate(3, 21, 0.3, 5, seed=0, naming="words")
    with pytest.raises(ValueError, match="unknown naming scheme 'greek'"):
        naming.capacity("greek")


BAD_GRAPHS = [
    ([(0, 0), (0, 1), (1, 2)], "graph 4: self-loop on node 'A'; accepted: a DAG"),
    ([(0, 1), (1, 2), (2, 0)], r"graph 4: edges form a cycle \(through nodes among \['A', 'B', 'C'\]\); accepted: a DAG"),
    ([], "graph 4: no edges, so its prompt would be empty; accepted: at least one edge"),
    ([(0, 1)], r"graph 4: node\(s\) \['C'\] are in no edge, so no prompt mentions them"),
    ([(0, 1), (1, 3)], r"graph 4: edge \(1, 3\) names a node outside 0..2"),
]


@pytest.mark.parametrize("edges, message", BAD_GRAPHS)
def test_a_graph_file_the_prompts_cannot_hold_is_refused_on_load(tmp_path, edges, message):
    # A graphs file edited by hand or written by another tool: the rules read it through load().
    good = graphs.Graph(id=3, nodes=["X", "Y"], edges=[(0, 1)])
    graphs.save(tmp_path / "g.json", [good, graphs.Graph(id=4, nodes=["A", "B", "C"], edges=edges)], 4)
    with pytest.raises(ValueError, match=message):
        graphs.load(tmp_path / "g.json")


def test_save_load_roundtrip(tmp_path):
    made = graphs.generate(3, 5, 0.5, 10, seed=2, naming="pairs")
    graphs.save(tmp_path / "g.json", made, 5)
    loaded, max_nodes = graphs.load(tmp_path / "g.json")
    assert max_nodes == 5 and loaded == made

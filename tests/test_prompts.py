import numpy as np
import pytest

from graphattn import prompts
from graphattn.graphs import Graph

GRAPH = Graph(id=3, nodes=["D", "A", "C", "B"], edges=[(1, 2), (3, 2), (2, 0)])  # A->C, B->C, C->D


def spans(prompt):
    return [(prompt.text[m.start:m.end], m.role) for m in prompt.mentions]


def test_arrow_notation_records_every_mention():
    p = prompts.render(GRAPH, "arrow", 0, np.random.default_rng(0))
    assert sorted(p.text.split(", ")) == ["A -> C", "B -> C", "C -> D"]
    assert sorted(spans(p)) == sorted([("A", "source"), ("C", "target"), ("B", "source"), ("C", "target"),
                                       ("C", "source"), ("D", "target")])
    for m in p.mentions:
        assert p.text[m.start:m.end] == GRAPH.nodes[m.node]


def test_to_and_parents_notations():
    to = prompts.render(GRAPH, "to", 0, np.random.default_rng(0))
    assert sorted(to.text.split(", ")) == ["A to C", "B to C", "C to D"]
    parents = prompts.render(GRAPH, "parents", 0, np.random.default_rng(0))
    assert sorted(parents.text.split(". ")) in (
        ["Parents of C: A, B", "Parents of D: C."], ["Parents of C: B, A", "Parents of D: C."],
        ["Parents of C: A, B.", "Parents of D: C"], ["Parents of C: B, A.", "Parents of D: C"],
    )
    roles = {(parents.text[m.start:m.end], m.role) for m in parents.mentions}
    assert roles == {("C", "target"), ("D", "target"), ("A", "source"), ("B", "source"), ("C", "source")}


def test_orderings_differ_and_are_shared_across_notations():
    graph = Graph(id=0, nodes=list("ABCDEFG"), edges=[(i, i + 1) for i in range(6)])
    arrow = prompts.render_all([graph], "arrow", 3, seed=5)
    to = prompts.render_all([graph], "to", 3, seed=5)
    assert len({p.text for p in arrow}) == 3
    assert [p.text.replace("->", "to") for p in arrow] == [p.text for p in to]


def test_node_name_that_is_a_notation_word_is_refused():
    graph = Graph(id=9, nodes=["to", "B"], edges=[(0, 1)])
    with pytest.raises(ValueError, match=r"graph 9: node name\(s\) \['to'\] clash with notation 'to'"):
        prompts.render(graph, "to", 0, np.random.default_rng(0))
    assert prompts.render(graph, "arrow", 0, np.random.default_rng(0)).text == "to -> B"


def test_unknown_notation():
    with pytest.raises(ValueError, match="unknown notation 'dot'; accepted"):
        prompts.render(GRAPH, "dot", 0, np.random.default_rng(0))

"""Head roles on a hand-tokenised prompt with planted heads whose shares are known."""

import re

import numpy as np
import pytest

from graphattn.roles import KEY_CATEGORIES, RoleAccumulator, key_categories, tag_heads, token_layout

# "A -> B, B -> C": A is B's parent, B is C's parent.
TEXT = "A -> B, B -> C"
EDGES = [(0, 1), (1, 2)]
MENTIONS = [{"node": 0, "start": 0, "end": 1, "role": "source"}, {"node": 1, "start": 5, "end": 6, "role": "target"},
            {"node": 1, "start": 8, "end": 9, "role": "source"}, {"node": 2, "start": 13, "end": 14, "role": "target"}]


def offsets():
    """A special first token (empty span, like <s> or [CLS]), then word tokens with their leading space."""
    spans = [(m.start(), m.end()) for m in re.finditer(r"\s*(\w+|->|,)", TEXT)]
    return np.array([(0, 0)] + spans)


TOKENS = ["<s>", "A", " ->", " B", ",", " B", " ->", " C"]


def test_token_layout_gives_roles_and_the_mentions_around_connectives():
    layout = token_layout(offsets(), TEXT, MENTIONS)
    assert layout["node"].tolist() == [-1, 0, -1, 1, -1, 1, -1, 2]
    assert layout["role"].tolist() == [2, 0, 1, 0, 2, 0, 1, 0]  # node, connective, other
    assert layout["previous"][[2, 6]].tolist() == [0, 2] and layout["following"][[2, 6]].tolist() == [1, 3]


def test_key_categories_of_the_second_mention_of_b():
    category = key_categories(token_layout(offsets(), TEXT, MENTIONS), EDGES)
    row = [KEY_CATEGORIES[c] for c in category[5]]  # query " B" (second mention)
    assert row == ["first", "parent", "elsewhere", "same_node", "elsewhere", "self", "elsewhere", "child"]
    arrow = [KEY_CATEGORIES[c] for c in category[6]]  # the second " ->": B -> C
    assert arrow == ["first", "elsewhere", "elsewhere", "elsewhere", "elsewhere", "source", "self", "target"]
    assert KEY_CATEGORIES[category[4, 1]] == "elsewhere"  # "," is not a node: no parent
    # C's query: B is its parent, A a node it has no edge with.
    assert [KEY_CATEGORIES[c] for c in category[7, [1, 3, 5]]] == ["other_node", "parent", "parent"]


def planted(rule) -> np.ndarray:
    """[1 layer, 1 head, T, T]: each query puts all its mass on the key ``rule(query)``."""
    n = len(TOKENS)
    pattern = np.zeros((1, 1, n, n))
    for q in range(n):
        pattern[0, 0, q, rule(q)] = 1.0
    return pattern


def test_a_planted_parent_finder_and_arrow_head_get_their_shares_and_tags():
    layout = token_layout(offsets(), TEXT, MENTIONS)
    # Node tokens look at their parent's first mention (A has none: the first token);
    # connectives at the mention before them; the rest at themselves.
    parent_token = {1: 0, 3: 1, 5: 1, 7: 3}
    connective = {2: 1, 6: 5}
    acc = RoleAccumulator(1, 1)
    acc.add(planted(lambda q: parent_token.get(q, connective.get(q, q))), layout, EDGES)
    scores = acc.tag_scores().iloc[0]
    assert scores["parent-finder"] == pytest.approx(3 / 4)  # 3 of the 4 node tokens have a parent
    assert scores["child-finder"] == 0 and scores["arrow-to-source"] == pytest.approx(1.0)
    # A's token looks at the first token; <s> and "," at themselves (self wins over first).
    assert scores["sink"] == pytest.approx(1 / 8) and scores["self"] == pytest.approx(2 / 8)
    [entry] = tag_heads(acc.tag_scores(), threshold=0.3)
    assert entry["tags"] == ["arrow-to-source", "parent-finder"]
    assert entry["scores"]["parent-finder"] == 0.75
    shares = acc.shares().set_index(["query_role", "key_category"]).share
    assert shares[("node", "first")] == pytest.approx(1 / 4)
    assert shares.groupby(level="query_role").sum().to_numpy() == pytest.approx(np.ones(3))


def test_a_uniform_head_is_mixed():
    layout = token_layout(offsets(), TEXT, MENTIONS)
    n = len(TOKENS)
    acc = RoleAccumulator(1, 1)
    acc.add(np.full((1, 1, n, n), 1 / n), layout, EDGES)
    [entry] = tag_heads(acc.tag_scores(), threshold=0.3)
    assert entry["tags"] == ["mixed"] and max(entry["scores"].values()) < 0.3

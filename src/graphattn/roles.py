"""What each head attends to, by the role of the query and key tokens in the graph.

Every token of a prompt gets a query role: ``node`` (a token of a node mention),
``connective`` (a word of the notation: "->", "to", "Parents of") or ``other``
(punctuation, special tokens). For a query, every key gets one category, the first
that applies:
  self (the query itself), first (the prompt's first token, the usual attention sink),
  parent / child / same_node / other_node (a node query: a mention of one of its parents,
  of one of its children, another mention of its own node, or a mention of a node it has
  no edge with),
  source / target (a connective query: the mention just before it, the mention just
  after it: in "A -> B" the edge's source and target),
  elsewhere (anything else).
A head's share for (query role, key category) is the attention mass its queries of
that role put on keys of that category, averaged over those queries.

Tags read the shares: a head is a ``parent-finder`` when its node queries put at
least ``threshold`` of their mass on their parents, and so on (TAG_SCORES); a head
with no tag above the threshold is ``mixed``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .alignment import mention_tokens

QUERY_ROLES = ("node", "connective", "other")
KEY_CATEGORIES = ("self", "first", "parent", "child", "same_node", "other_node", "source", "target", "elsewhere")
# tag -> (query role, key category); "all" pools the queries of every role.
TAG_SCORES = {
    "parent-finder": ("node", "parent"),
    "child-finder": ("node", "child"),
    "same-node": ("node", "same_node"),
    "arrow-to-source": ("connective", "source"),
    "arrow-to-target": ("connective", "target"),
    "sink": ("all", "first"),
    "self": ("all", "self"),
}
PUNCTUATION = set(",.:;")


def token_layout(offsets: np.ndarray, text: str, mentions: list[dict]) -> dict[str, np.ndarray]:
    """Per token: its node (-1 if none), its mention's index (-1), its query role, and for
    connective tokens the mentions just before and after it (-1 if none)."""
    n = len(offsets)
    node = np.full(n, -1)
    mention = np.full(n, -1)
    for index, m in enumerate(sorted(mentions, key=lambda m: m["start"])):
        tokens = mention_tokens(offsets, m["start"], m["end"])
        node[tokens], mention[tokens] = m["node"], index
    words = [text[start:end].strip() for start, end in offsets]
    connective = (mention < 0) & np.array([bool(w) and not set(w) <= PUNCTUATION for w in words])
    role = np.where(mention >= 0, 0, np.where(connective, 1, 2))
    previous, following = np.full(n, -1), np.full(n, -1)
    for t in np.nonzero(connective)[0]:
        before, after = mention[:t][mention[:t] >= 0], mention[t + 1:][mention[t + 1:] >= 0]
        previous[t] = before[-1] if len(before) else -1
        following[t] = after[0] if len(after) else -1
    return {"node": node, "mention": mention, "role": role, "previous": previous, "following": following}


def key_categories(layout: dict[str, np.ndarray], edges: list[tuple[int, int]]) -> np.ndarray:
    """[T, T] index into KEY_CATEGORIES of every (query, key) pair."""
    node, mention, role = layout["node"], layout["mention"], layout["role"]
    n = len(node)
    n_nodes = max([node.max() + 1] + [max(e) + 1 for e in edges])
    parent_of = np.zeros((n_nodes + 1, n_nodes + 1), dtype=bool)  # [child, parent]; row/col -1 -> last
    for parent, child in edges:
        parent_of[child, parent] = True
    q_node, k_node = node[:, None], node[None, :]
    is_node_query = (role == 0)[:, None] & (k_node >= 0)
    is_connective = (role == 1)[:, None]
    rules = [
        ("self", np.eye(n, dtype=bool)),
        ("first", np.broadcast_to(np.arange(n)[None, :] == 0, (n, n))),
        ("parent", is_node_query & parent_of[q_node, k_node]),
        ("child", is_node_query & parent_of[k_node, q_node]),
        ("same_node", is_node_query & (q_node == k_node) & (mention[:, None] != mention[None, :])),
        ("other_node", is_node_query & (q_node != k_node)),
        ("source", is_connective & (mention[None, :] >= 0) & (mention[None, :] == layout["previous"][:, None])),
        ("target", is_connective & (mention[None, :] >= 0) & (mention[None, :] == layout["following"][:, None])),
    ]
    category = np.full((n, n), KEY_CATEGORIES.index("elsewhere"))
    for name, applies in reversed(rules):  # the first rule that applies wins
        category[applies] = KEY_CATEGORIES.index(name)
    return category


class RoleAccumulator:
    """Attention mass by (query role, key category), summed over prompts."""

    def __init__(self, n_layers: int, n_heads: int):
        self.mass = np.zeros((n_layers, n_heads, len(QUERY_ROLES), len(KEY_CATEGORIES)))
        self.queries = np.zeros(len(QUERY_ROLES))

    def add(self, pattern: np.ndarray, layout: dict[str, np.ndarray], edges: list[tuple[int, int]]) -> None:
        """One prompt's ``[layer, head, T, T]`` pattern."""
        onehot = np.eye(len(KEY_CATEGORIES))[key_categories(layout, edges)]  # [T, T, C]
        per_query = np.einsum("lhqk,qkc->lhqc", pattern, onehot)
        by_role = np.eye(len(QUERY_ROLES))[layout["role"]]  # [T, R]
        self.mass += np.einsum("lhqc,qr->lhrc", per_query, by_role)
        self.queries += by_role.sum(axis=0)

    def shares(self) -> pd.DataFrame:
        """Long form: layer, head, query_role, key_category, share (NaN for a role with no query)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            share = self.mass / self.queries[None, None, :, None]
        layer, head, role, category = np.meshgrid(*(np.arange(s) for s in share.shape), indexing="ij")
        return pd.DataFrame({
            "layer": layer.ravel(), "head": head.ravel(),
            "query_role": np.array(QUERY_ROLES)[role.ravel()],
            "key_category": np.array(KEY_CATEGORIES)[category.ravel()],
            "share": share.ravel(),
        })

    def tag_scores(self) -> pd.DataFrame:
        """Per layer x head, one column per tag: its score."""
        n_layers, n_heads = self.mass.shape[:2]
        layer, head = np.meshgrid(np.arange(n_layers), np.arange(n_heads), indexing="ij")
        scores = pd.DataFrame({"layer": layer.ravel(), "head": head.ravel()})
        for tag, (role, category) in TAG_SCORES.items():
            c = KEY_CATEGORIES.index(category)
            if role == "all":
                mass, queries = self.mass[..., c].sum(axis=-1), self.queries.sum()
            else:
                r = QUERY_ROLES.index(role)
                mass, queries = self.mass[:, :, r, c], self.queries[r]
            scores[tag] = (mass / queries).ravel() if queries else np.nan
        return scores


def tag_heads(scores: pd.DataFrame, threshold: float) -> list[dict]:
    """One entry per head: its tags (score >= threshold, highest first; else ["mixed"]) and every score."""
    entries = []
    for row in scores.to_dict("records"):
        values = {tag: float(row[tag]) for tag in TAG_SCORES}
        passed = sorted((t for t, v in values.items() if v >= threshold), key=lambda t: -values[t])
        entries.append({"layer": int(row["layer"]), "head": int(row["head"]), "tags": passed or ["mixed"],
                        "scores": {t: round(v, 4) for t, v in values.items()}})
    return entries

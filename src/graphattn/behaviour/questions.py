"""The questions a model answers after a graph: "Parents of X:" and "Children of X:" for every node.

Three prompt formats:
- ``trained``: the format the toy was trained on, "<graph>. Parents of C:" (no examples);
- ``few_shot``: a fixed prefix of solved examples from training-split graphs (the same prefix
  for every question of a kind), then "<graph>. Parents of C:";
- ``chat``: the tokenizer's chat template, each example a user turn and its answer an
  assistant turn, then the question as a user turn.
Answers name nodes in alphabetical order, separated by ", ", or "none".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..datasets import SPLITS, split_graphs
from ..graphs import Graph
from .answers import answer_text

KINDS = {"parents": "Parents", "children": "Children"}
FORMATS = ("trained", "few_shot", "chat")


@dataclass(frozen=True)
class Question:
    graph_id: int
    ordering: int
    kind: str  # parents | children
    node: str
    text: str  # what the model reads (for chat: the rendered template)
    question: str  # "Parents of C:", what the graph-blind reader sees
    gold: frozenset[str]
    names: tuple[str, ...]  # the graph's node names, the only words an answer may use


def related(graph: Graph, kind: str, node: int) -> frozenset[str]:
    adj = graph.adjacency()
    hits = np.nonzero(adj[:, node] if kind == "parents" else adj[node])[0]
    return frozenset(graph.nodes[i] for i in hits)


def statement(text: str) -> str:
    """The rendered graph as a sentence ("A -> C, B -> C."; the parents notation already ends in ".")."""
    return text if text.endswith(".") else text + "."


def ask(kind: str, name: str) -> str:
    return f"{KINDS[kind]} of {name}:"


def chat_question(graph_text: str, kind: str, name: str) -> str:
    return (f"Graph: {statement(graph_text)}\nQuestion: {ask(kind, name)} Reply with the node names separated "
            f"by commas, or none.")


def shots(graphs: list[Graph], prompts: list[dict], split: dict[int, int], kind: str, n_shots: int,
          seed: int) -> list[tuple[str, str, str]]:
    """``n_shots`` solved examples (graph text, node name, answer) from training-split graphs'
    first ordering, drawn with ``seed``: the same for every question of ``kind``."""
    if n_shots == 0:
        return []
    by_id = {g.id: g for g in graphs}
    train = [p for p in prompts if p["ordering"] == 0 and split[p["graph_id"]] == SPLITS["train"]]
    if len(train) < n_shots:
        raise ValueError(f"behaviour shots: {n_shots} examples asked, the training split has {len(train)} graphs; "
                         f"accepted: at most {len(train)}")
    rng = np.random.default_rng([seed, list(KINDS).index(kind)])
    out = []
    for i in rng.choice(len(train), size=n_shots, replace=False):
        graph = by_id[train[i]["graph_id"]]
        node = int(rng.integers(graph.n_nodes))
        out.append((train[i]["text"], graph.nodes[node], answer_text(related(graph, kind, node))))
    return out


def question_text(fmt: str, graph_text: str, kind: str, name: str, examples: list[tuple[str, str, str]],
                  tokenizer=None) -> str:
    if fmt in ("trained", "few_shot"):
        solved = "".join(f"{statement(t)} {ask(kind, n)} {a}.\n" for t, n, a in examples)
        return f"{solved}{statement(graph_text)} {ask(kind, name)}"
    if fmt == "chat":
        if tokenizer is None or not getattr(tokenizer, "chat_template", None):
            raise ValueError("behaviour format chat: the model's tokenizer has no chat template; "
                             "accepted for this model: few_shot")
        messages = []
        for t, n, a in examples:
            messages += [{"role": "user", "content": chat_question(t, kind, n)}, {"role": "assistant", "content": a}]
        messages.append({"role": "user", "content": chat_question(graph_text, kind, name)})
        return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    raise ValueError(f"behaviour format {fmt!r}; accepted: {list(FORMATS)}")


def reference_answers(graphs: list[Graph], prompts: list[dict], kinds: list[str], split_settings: dict,
                      part: str = "train") -> list[tuple[str, frozenset[str]]]:
    """(question text, gold answer) of every node of every ``part``-split graph: what the
    graph-blind reader learns its answers from."""
    split = graph_split(prompts, split_settings)
    by_id = {g.id: g for g in graphs}
    return [(ask(kind, name), related(by_id[gid], kind, node))
            for gid in sorted({p["graph_id"] for p in prompts if split[p["graph_id"]] == SPLITS[part]})
            for kind in kinds for node, name in enumerate(by_id[gid].nodes)]


def graph_split(prompts: list[dict], split_settings: dict) -> dict[int, int]:
    """Graph id -> split, as the probes' datasets split them (datasets.position_dataset)."""
    graph_ids = sorted({p["graph_id"] for p in prompts})
    return dict(zip(graph_ids, split_graphs(len(graph_ids), split_settings["train"], split_settings["val"],
                                            split_settings["seed"])))


def relabelled(prompt: dict, graph: Graph, seed: int, tries: int = 100) -> str:
    """The prompt's text with its node names permuted: another graph on the same nodes, written
    in the same layout, its edges given to other names (the first of the seeded permutations
    whose edge set differs from the graph's; a graph without edges has no other)."""
    rng = np.random.default_rng([seed, prompt["graph_id"], prompt["ordering"]])
    edges = {(int(a), int(b)) for a, b in graph.edges}
    for _ in range(tries):
        perm = rng.permutation(graph.n_nodes)
        if {(int(perm[a]), int(perm[b])) for a, b in edges} != edges:
            break
    text, pieces, end = prompt["text"], [], 0
    for m in sorted(prompt["mentions"], key=lambda m: m["start"]):
        pieces += [text[end:m["start"]], graph.nodes[perm[m["node"]]]]
        end = m["end"]
    return "".join(pieces) + text[end:]


def build(graphs: list[Graph], prompts: list[dict], settings: dict, split_settings: dict,
          tokenizer=None, part: str = "test", relabel_seed: int | None = None) -> list[Question]:
    """Every question (kinds x nodes) after each ``part``-split prompt, at most
    ``settings["max_prompts"]`` prompts (a seeded sample; None: all). With ``relabel_seed``, each
    question follows its graph relabelled (``relabelled``) but keeps its own graph's gold answer:
    what the names and the question alone give a model.

    ``settings``: format, kinds, shots, seed, max_prompts."""
    split = graph_split(prompts, split_settings)  # the probes' test graphs are the test graphs here
    fmt = settings["format"]
    n_shots = 0 if fmt == "trained" else settings["shots"]
    examples = {kind: shots(graphs, prompts, split, kind, n_shots, settings["seed"]) for kind in settings["kinds"]}
    chosen = [p for p in prompts if split[p["graph_id"]] == SPLITS[part]]
    if settings.get("max_prompts") is not None and len(chosen) > settings["max_prompts"]:
        rng = np.random.default_rng(settings["seed"])
        keep = sorted(rng.choice(len(chosen), size=settings["max_prompts"], replace=False))
        chosen = [chosen[i] for i in keep]
    by_id = {g.id: g for g in graphs}
    out = []
    for p in chosen:
        graph = by_id[p["graph_id"]]
        text = p["text"] if relabel_seed is None else relabelled(p, graph, relabel_seed)
        for kind in settings["kinds"]:
            for node, name in enumerate(graph.nodes):
                out.append(Question(p["graph_id"], p["ordering"], kind, name,
                                    question_text(fmt, text, kind, name, examples[kind], tokenizer),
                                    ask(kind, name), related(graph, kind, node), tuple(graph.nodes)))
    return out

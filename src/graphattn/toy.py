"""The embedded causal model: a small Llama-style LM trained here on the pipeline's prompts.

Each training text is a rendered graph followed by a question and its answer,
"A -> C, B -> C, C -> D. Parents of C: A, B." with the loss on the answer tokens
only. The model and its word-level tokenizer are saved with ``save_pretrained`` so
the dump loads them through the same TransformerBridge path as any other model.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from . import graphs, naming
from .atomic import atomic_dir, write_json, write_text
from .attention import length_batches
from .muon import Muon
from .prefetch import Prefetched
from .prompts import render
from .toy_dynamics import DynamicsRecorder, first_step_at

log = logging.getLogger(__name__)

SPECIAL = {"pad_token": "<pad>", "bos_token": "<bos>", "eos_token": "<eos>", "unk_token": "<unk>"}
WORDS = ["->", "to", ",", ".", ":", "Parents", "of", "Children", "none"]


def build_tokenizer(scheme: str):
    """Word level: every node name, connective and punctuation mark is one token, with offsets.
    Encoding with special tokens prepends <bos>, as in training, so the dump sees what training saw."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(list(SPECIAL.values()) + WORDS + naming.pool(scheme))}
    tok = Tokenizer(models.WordLevel(vocab, unk_token=SPECIAL["unk_token"]))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.WhitespaceSplit(),
        pre_tokenizers.Split(Regex(r"->|[,.:]"), behavior="isolated"),
    ])
    tok.post_processor = processors.TemplateProcessing(
        single=f"{SPECIAL['bos_token']} $A", special_tokens=[(SPECIAL["bos_token"], vocab[SPECIAL["bos_token"]])])
    return PreTrainedTokenizerFast(tokenizer_object=tok, **SPECIAL)


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


def training_loss(model, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """The answer tokens' loss, without the attention mask: collate pads on the right, so in causal
    attention no real token sees a pad, and pads carry no label. Without a mask sdpa takes its
    causal kernel: the same loss, a training step about 13% faster on CPU."""
    return model(input_ids=batch["input_ids"], labels=batch["labels"]).loss


def exact_accuracy(model, batch: dict[str, torch.Tensor]) -> float:
    """Share of examples whose every answer token is the argmax next token (teacher forced).

    With teacher forcing this equals greedy decoding's exact match: greedy decoding
    reproduces the answer iff each answer token is the argmax given the correct prefix.
    """
    with torch.no_grad():
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    return exact_match(logits, batch["labels"])


def exact_match(logits: torch.Tensor, labels: torch.Tensor) -> float:
    pred = logits[:, :-1].argmax(-1)
    target = labels[:, 1:]
    scored = target != -100
    return float(((pred == target) | ~scored).all(dim=1).float().mean())


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


# The schema's defaults: training stops once validation accuracy has held at 99% for three
# evaluations in a row (one evaluation at 99% can be a lucky draw of the 512 questions).
STOP_ACCURACY, STOP_EVALUATIONS = 0.99, 3

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


def build_model(vocab_size: int, layers: int, heads: int, hidden: int, seed: int, llama: dict | None = None):
    """Input and output embeddings untied: with AdamW, tied ones cost 0.07 to 0.09 of held-out
    accuracy in every pair of runs compared. ``llama``: further LlamaConfig fields (e.g. ``tie_word_embeddings``,
    ``rope_theta``), for recipe experiments (scripts/toy_recipe.py); the config's toy section has none."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(**{
        **dict(vocab_size=vocab_size, hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
               num_attention_heads=heads, num_key_value_heads=heads, max_position_embeddings=512,
               pad_token_id=0, bos_token_id=1, eos_token_id=2, tie_word_embeddings=False),
        **(llama or {}),
    })
    return LlamaForCausalLM(config)


def build_optimisers(model, name: str, lr: float) -> list[torch.optim.Optimizer]:
    """``muon``: Muon (orthogonalised momentum) for the blocks' weight matrices and AdamW for the
    rest (embeddings, output layer, norms), as Muon is meant to be used; ``adamw``: AdamW for all.

    With Muon the parent lookup forms abruptly, near step 1,000 at batch 64 or 128 (default run:
    validation 0.73 at step 800, 0.92 at 1,000); with AdamW it had not after 3,000 steps of
    batch 128 (held-out 0.92).
    Muon's updates are scaled to AdamW's size (``match_rms_adamw``), so one ``lr`` serves both;
    graphattn.muon keeps its orthogonalisation in float32 (torch's bfloat16 one was a third of a
    training step on an AVX2 CPU).
    """
    decay = 0.01
    if name == "adamw":
        return [torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=decay)]
    if name != "muon":
        raise ValueError(f"toy optimizer {name!r}: accepted: muon, adamw")
    matrices = [p for key, p in model.named_parameters() if key.startswith("model.layers.") and p.ndim == 2]
    in_muon = {id(p) for p in matrices}
    rest = [p for p in model.parameters() if id(p) not in in_muon]
    return [Muon(matrices, lr=lr, weight_decay=decay),
            torch.optim.AdamW(rest, lr=lr, weight_decay=decay)]


def save_folder(out_dir: Path, model, tokenizer) -> None:
    """save_pretrained into a temporary folder beside out_dir, then swap it in."""
    with atomic_dir(out_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)



def build_untrained(graph_settings: dict, toy: dict):
    """The toy's tokenizer and its model before step 1 (weights seeded by ``toy["seed"]``)."""
    tokenizer = build_tokenizer(graph_settings["naming"])
    model = build_model(len(tokenizer), toy["layers"], toy["heads"], toy["hidden"], toy["seed"], toy.get("llama"))
    return model, tokenizer


def save_untrained(model_dir: str, graph_settings: dict, toy: dict) -> None:
    """The toy as it starts training. Its random-init control is built from this folder (it
    needs the architecture and the tokenizer, and draws its own weights), so the control's
    jobs need not wait for the training, nor re-run when a training setting changes."""
    save_folder(Path(model_dir), *build_untrained(graph_settings, toy))


def train_toy(model_dir: str, history_path: str, metrics_path: str, graph_settings: dict, toy: dict,
              dynamics_path: str | None = None, role_scores_path: str | None = None,
              graph_set_paths: list[str] = ()) -> dict:
    """Train on fresh graphs until validation parent accuracy holds at ``stop_accuracy`` for
    ``stop_evaluations`` evaluations in a row, or ``toy["steps"]`` run out.

    ``toy`` holds the config's ``toy`` section: notations, steps, batch_size, questions,
    parent_share, optimizer, lr, seed, eval_every, stop_accuracy, stop_evaluations, n_heldout,
    layers, heads, hidden, probe_prompts.
    No graph of ``graph_set_paths`` (the graph sets the toy is probed and asked on) nor of the
    held-out sets is trained on (``toy_data``).
    With ``dynamics_path``, the attention of a fixed probe set is recorded before training
    and at every evaluation (graphattn.toy_dynamics).
    """
    seed = toy["seed"]
    stop_accuracy = toy.get("stop_accuracy", STOP_ACCURACY)
    stop_evaluations = toy.get("stop_evaluations", STOP_EVALUATIONS)
    torch.manual_seed(seed)
    model, tokenizer = build_untrained(graph_settings, toy)
    pad = tokenizer.pad_token_id

    graph_sets = graph_set_edge_sets(graph_set_paths)
    heldout, stream = toy_data(tokenizer, graph_settings, toy, graph_sets)
    val, test, children = (collate(heldout[name], pad) for name in ("val", "test", "children"))
    log.info("training graphs exclude %d graphs of the graph sets and %d held-out graphs",
             len(graph_sets), len(stream.exclude) - len(graph_sets))

    steps = toy["steps"]
    optimisers = build_optimisers(model, toy.get("optimizer", "muon"), toy["lr"])
    warmup = max(1, steps // 20)
    schedules = [torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
        for optimiser in optimisers]
    recorder = None
    if dynamics_path:
        recorder = DynamicsRecorder(tokenizer, graph_settings, toy["notations"][0], toy["probe_prompts"], seed + 4)
        model.eval()
        recorder.record(model, 0)
    history, passes = [], 0
    # The training batches are drawn by a child process while the model trains: the same seeded
    # stream, a fifth of a step off the training's one thread (graphattn.prefetch).
    with Prefetched(stream.batches,
                    toy["batch_size"], toy["questions"], toy["parent_share"]) as train:
        for step in (bar := tqdm(range(1, steps + 1), desc="train_toy_model", unit="step")):
            model.train()
            batch = collate(next(train), pad)
            loss = training_loss(model, batch)
            model.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            for optimiser, schedule in zip(optimisers, schedules):
                optimiser.step()
                schedule.step()
            if step % toy["eval_every"] == 0 or step == steps:
                model.eval()
                accuracy = exact_accuracy(model, val)
                history.append({"step": step, "loss": loss.item(), "val_accuracy": accuracy})
                bar.set_postfix(loss=f"{loss.item():.3f}", val_acc=f"{accuracy:.3f}")
                if recorder:
                    recorder.record(model, step)
                # Stop once validation has held at stop_accuracy for stop_evaluations in a row.
                passes = passes + 1 if accuracy >= stop_accuracy else 0
                if passes == stop_evaluations:
                    break

    model.eval()
    metrics = {
        "heldout_accuracy": exact_accuracy(model, test),
        "heldout_accuracy_children": exact_accuracy(model, children),
        "val_accuracy": history[-1]["val_accuracy"],  # the loop ends on an evaluation
        "steps": step,
        "step_99": first_step_at(history),  # first evaluation at >= 99% validation accuracy, or None
        "seed": seed,
        "n_params": sum(p.numel() for p in model.parameters()),
        "n_heldout": toy["n_heldout"],
        "excluded_graphs": len(stream.exclude),
    }
    save_folder(Path(model_dir), model, tokenizer)
    write_text(history_path, pd.DataFrame(history).to_csv(index=False))
    write_json(metrics_path, metrics)
    if recorder:
        recorder.save(dynamics_path, role_scores_path)
    log.info("toy model: held-out parent accuracy %.3f after %d steps", metrics["heldout_accuracy"], step)
    return metrics

"""The toy's training: fresh graphs every step until validation accuracy holds, then the saved
model, its history and held-out accuracies."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pandas as pd
import torch
from tqdm import tqdm

from ..atomic import write_json, write_text
from .dynamics import DynamicsRecorder, first_step_at
from .examples import collate, graph_set_edge_sets, toy_data
from .model import build_untrained, save_folder
from .optimisers import build_optimisers
from .prefetch import Prefetched

log = logging.getLogger(__name__)


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


# The schema's defaults: training stops once validation accuracy has held at 99% for three
# evaluations in a row (one evaluation at 99% can be a lucky draw of the 512 questions).
STOP_ACCURACY, STOP_EVALUATIONS = 0.99, 3


def lr_schedules(optimisers: list[torch.optim.Optimizer], steps: int) -> list:
    """Linear warm-up over the first twentieth of the steps, then cosine decay to 0."""
    warmup = max(1, steps // 20)
    return [torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
        for optimiser in optimisers]


def train_step(model, batch: dict[str, torch.Tensor], optimisers: list, schedules: list) -> torch.Tensor:
    """One update on the batch's answer tokens (gradients clipped at norm 1); returns the loss."""
    model.train()
    loss = training_loss(model, batch)
    model.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    for optimiser, schedule in zip(optimisers, schedules):
        optimiser.step()
        schedule.step()
    return loss


class StopRule:
    """Stop once validation accuracy has held at ``accuracy`` for ``evaluations`` evaluations in a row."""

    def __init__(self, accuracy: float, evaluations: int):
        self.accuracy, self.evaluations, self.passes = accuracy, evaluations, 0

    def met(self, accuracy: float) -> bool:
        self.passes = self.passes + 1 if accuracy >= self.accuracy else 0
        return self.passes == self.evaluations


def train_loop(model, batches, pad: int, optimisers: list, schedules: list, val: dict[str, torch.Tensor],
               stop: StopRule, steps: int, eval_every: int, desc: str, on_evaluation=None) -> tuple[list[dict], int]:
    """Train on ``batches`` until ``stop`` is met at an evaluation (every ``eval_every`` steps and at
    the last) or ``steps`` run out. Returns (a row per evaluation: step, loss, val_accuracy; the last
    step). ``on_evaluation(step, row)`` runs after each evaluation, before the stop rule reads it."""
    history = []
    for step in (bar := tqdm(range(1, steps + 1), desc=desc, unit="step")):
        loss = train_step(model, collate(next(batches), pad), optimisers, schedules)
        if step % eval_every == 0 or step == steps:
            model.eval()
            row = {"step": step, "loss": loss.item(), "val_accuracy": exact_accuracy(model, val)}
            history.append(row)
            bar.set_postfix(loss=f"{row['loss']:.3f}", val_acc=f"{row['val_accuracy']:.3f}")
            if on_evaluation:
                on_evaluation(step, row)
            if stop.met(row["val_accuracy"]):
                break
    return history, step


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
    and at every evaluation (graphattn.toy.dynamics).
    """
    seed, steps = toy["seed"], toy["steps"]
    stop = StopRule(toy.get("stop_accuracy", STOP_ACCURACY), toy.get("stop_evaluations", STOP_EVALUATIONS))
    torch.manual_seed(seed)
    model, tokenizer = build_untrained(graph_settings, toy)
    pad = tokenizer.pad_token_id

    graph_sets = graph_set_edge_sets(graph_set_paths)
    heldout, stream = toy_data(tokenizer, graph_settings, toy, graph_sets)
    val, test, children = (collate(heldout[name], pad) for name in ("val", "test", "children"))
    log.info("training graphs exclude %d graphs of the graph sets and %d held-out graphs",
             len(graph_sets), len(stream.exclude) - len(graph_sets))

    optimisers = build_optimisers(model, toy.get("optimizer", "muon"), toy["lr"])
    schedules = lr_schedules(optimisers, steps)
    recorder = None
    if dynamics_path:
        recorder = DynamicsRecorder(tokenizer, graph_settings, toy["notations"][0], toy["probe_prompts"], seed + 4)
        model.eval()
        recorder.record(model, 0)
    # The training batches are drawn by a child process while the model trains: the same seeded
    # stream, a fifth of a step off the training's one thread (graphattn.toy.prefetch).
    with Prefetched(stream.batches, toy["batch_size"], toy["questions"], toy["parent_share"]) as train:
        history, step = train_loop(model, train, pad, optimisers, schedules, val, stop, steps, toy["eval_every"],
                                   "train_toy_model",
                                   on_evaluation=(lambda step, row: recorder.record(model, step)) if recorder else None)

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

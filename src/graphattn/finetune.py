"""A pretrained causal LM taught to answer "Parents of X:" and "Children of X:" after an edge list.

The examples are the toy's (graphattn.toy.examples): "<bos>A -> C, B -> C. Parents of C: A, B.
Children of A: C." with the loss on the answers only, on fresh graphs drawn like a graph set's,
none of them a graph of any configured graph set (all splits) nor of the held-out sets. The
behaviour rules ask a taught model in this format (``answer_format: trained``).

Two methods: ``lora`` trains low-rank adapters (peft) on the chosen projections and merges them
into the weights before saving; ``full`` trains every weight. Either way the saved folder is a
plain Hugging Face folder of the base's architecture, which every rule loads like any model.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pandas as pd
import torch

from .atomic import write_json, write_text
from .toy.examples import collate, graph_set_edge_sets, toy_data
from .toy.model import save_folder
from .toy.training import StopRule, exact_accuracy, lr_schedules, train_loop

log = logging.getLogger(__name__)

METHODS = ("lora", "full")


def load_base(folder: str):
    """(model in float32, tokenizer) of a local Hugging Face folder; the tokenizer gets a pad token
    (its eos) if it has none: collate pads with it, and pads carry no label."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(folder)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    return model, tokenizer


def trainable(model, settings: dict):
    """The model to train and its trainable parameters: low-rank adapters on ``targets`` (the
    base's weights frozen) for ``lora``, every weight for ``full``."""
    if settings["method"] == "full":
        return model, list(model.parameters())
    if settings["method"] != "lora":
        raise ValueError(f"finetune.method {settings['method']!r}; accepted: {list(METHODS)}")
    from peft import LoraConfig, get_peft_model

    names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    missing = [t for t in settings["targets"] if t not in names]
    if missing:
        raise ValueError(f"finetune.targets {missing} are not modules of {type(model).__name__}; accepted: names "
                         f"of its linear layers, e.g. {sorted(n for n in names if n.endswith('_proj'))}")
    adapted = get_peft_model(model, LoraConfig(r=settings["rank"], lora_alpha=settings["alpha"], lora_dropout=0.0,
                                               target_modules=list(settings["targets"])))
    return adapted, [p for p in adapted.parameters() if p.requires_grad]


def merged(model, settings: dict):
    """The plain base architecture with the adapters added into its weights."""
    return model.merge_and_unload() if settings["method"] == "lora" else model


def training_data(tokenizer, graph_settings: dict, settings: dict, graph_set_paths: list[str]):
    """(held-out examples by set, the training stream), none of their graphs in two of them nor a
    graph of ``graph_set_paths`` (every split of every configured graph set), compared as edge sets
    over node names (graphattn.toy.examples.toy_data)."""
    return toy_data(tokenizer, graph_settings, settings, graph_set_edge_sets(graph_set_paths))


def finetune(base_folder: str, model_dir: str, history_path: str, metrics_path: str, settings: dict,
             graph_settings: dict, graph_set_paths: list[str] = ()) -> dict:
    """Train until validation parent accuracy holds at ``stop_accuracy`` for ``stop_evaluations``
    evaluations in a row, or ``steps`` run out (the learning rate warms up and decays over
    ``steps``: graphattn.toy.training.lr_schedules); save the merged model, its history and
    held-out accuracies (test parents, test children: fresh graphs used for nothing else).

    ``settings``: the model entry's ``finetune`` section (method, rank, alpha, targets, lr,
    weight_decay, steps, batch_size, questions, parent_share, notations, eval_every,
    stop_accuracy, stop_evaluations, n_heldout, seed). ``graph_settings``: node counts, edge
    probability and naming of the graph set the training graphs are drawn like.
    """
    seed, steps = settings["seed"], settings["steps"]
    torch.manual_seed(seed)
    model, tokenizer = load_base(base_folder)
    pad = tokenizer.pad_token_id

    heldout, stream = training_data(tokenizer, graph_settings, settings, graph_set_paths)
    val, test, children = (collate(heldout[name], pad) for name in ("val", "test", "children"))
    log.info("training graphs exclude %d graphs: the graph sets' and the held-out sets'", len(stream.exclude))

    model, params = trainable(model, settings)
    log.info("%s: %d trainable parameters of %d", settings["method"], sum(p.numel() for p in params),
             sum(p.numel() for p in model.parameters()))
    optimiser = torch.optim.AdamW(params, lr=settings["lr"], weight_decay=settings["weight_decay"])
    schedules = lr_schedules([optimiser], steps)
    stop = StopRule(settings["stop_accuracy"], settings["stop_evaluations"])

    model.eval()
    before = {"step": 0, "loss": float("nan"), "val_accuracy": exact_accuracy(model, val), "seconds": 0.0}
    start = time.perf_counter()
    batches = stream.batches(settings["batch_size"], settings["questions"], settings["parent_share"])
    trained, step = train_loop(model, batches, pad, [optimiser], schedules, val, stop, steps, settings["eval_every"],
                               "finetune_model",
                               on_evaluation=lambda step, row: row.update(seconds=round(time.perf_counter() - start, 1)))
    history = [before] + trained

    model = merged(model, settings)
    model.eval()
    metrics = {
        "heldout_accuracy": exact_accuracy(model, test),
        "heldout_accuracy_children": exact_accuracy(model, children),
        "val_accuracy": history[-1]["val_accuracy"],
        "val_accuracy_before": history[0]["val_accuracy"],
        "steps": step,
        "train_seconds": history[-1]["seconds"],
        "method": settings["method"],
        "trainable_params": sum(p.numel() for p in params),
        "seed": seed,
        "n_heldout": settings["n_heldout"],
        "excluded_graphs": len(stream.exclude),
        "redrawn_graphs": stream.redrawn,
    }
    save_folder(Path(model_dir), model, tokenizer)
    write_text(history_path, pd.DataFrame(history).to_csv(index=False))
    write_json(metrics_path, metrics)
    log.info("taught model: held-out parent accuracy %.3f (%.3f before) after %d steps, %.0f s",
             metrics["heldout_accuracy"], metrics["val_accuracy_before"], step, metrics["train_seconds"])
    return metrics

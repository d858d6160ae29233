"""Train one probe on one dataset with one seed; write metrics.json, history.csv, best_model.pt."""

from __future__ import annotations

import copy
import logging
import random
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from .. import metrics
from ..atomic import atomic_path, load_npz, write_json, write_text
from ..pairs import pair_index
from . import FITTED, probe_class

log = logging.getLogger(__name__)
TRAIN, VAL, TEST = 0, 1, 2


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    # What torch.use_deterministic_algorithms(True, warn_only=True) does but for also setting
    # torch._inductor's flag: importing torch._inductor to do so costs every probe job 1.8 s of
    # CPU (half a best_head job), and probes are never compiled.
    torch._C._set_deterministic_algorithms(True, warn_only=True)


def evaluate(model, split: int, labels: torch.Tensor, loss_fn) -> tuple[float, np.ndarray]:
    model.eval()
    with torch.no_grad():
        logits = model(split)
    return float(loss_fn(logits, labels)), torch.sigmoid(logits).numpy()


def fit(model, labels: dict[int, torch.Tensor], hyper: dict, loss_fn) -> tuple[dict, pd.DataFrame]:
    """Full-batch Adam with early stopping on validation AUPRC; returns the best state and the history."""
    optimiser = torch.optim.Adam(model.parameters(), lr=hyper["lr"], weight_decay=hyper["weight_decay"])
    best = {"auprc": -1.0, "epoch": 0, "state": copy.deepcopy(model.state_dict())}
    history = []
    # mininterval and refresh=False: a bar line every few seconds in the log, not one per epoch.
    for epoch in (bar := tqdm(range(1, hyper["epochs"] + 1), desc="train_probe", unit="epoch", mininterval=5)):
        model.train()
        optimiser.zero_grad()
        loss = loss_fn(model(TRAIN), labels[TRAIN])
        loss.backward()
        optimiser.step()

        val_loss, val_scores = evaluate(model, VAL, labels[VAL], loss_fn)
        y_val = labels[VAL].numpy()
        val = metrics.pair_metrics(y_val, val_scores, metrics.best_threshold(y_val, val_scores))
        history.append({"epoch": epoch, "train_loss": loss.item(), "val_loss": val_loss,
                        "val_f1": val["f1"], "val_auroc": val["auroc"]})
        bar.set_postfix(loss=f"{loss.item():.3f}", val_f1=f"{val['f1']:.3f}", refresh=False)
        if (val["auprc"] or 0.0) > best["auprc"] + 1e-4:
            best = {"auprc": val["auprc"] or 0.0, "epoch": epoch, "state": copy.deepcopy(model.state_dict())}
        elif epoch - best["epoch"] >= hyper["patience"]:
            break
    return best, pd.DataFrame(history)


def trained_scores(model, labels: dict[int, torch.Tensor], hyper: dict, seed: int):
    """Gradient probes: (val and test scores, best state, its epoch, history)."""
    n_pos = float(labels[TRAIN].sum())
    # Edges are the minority class: weight positives by the negative/positive ratio.
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor((len(labels[TRAIN]) - n_pos) / n_pos))
    best, history = fit(model, labels, hyper, loss_fn)
    model.load_state_dict(best["state"])
    scores = {s: evaluate(model, s, labels[s], loss_fn)[1] for s in (VAL, TEST)}
    return scores, best["state"], best["epoch"], history


def fitted_scores(model, labels: dict[int, torch.Tensor], hyper: dict, seed: int):
    """Fitted probes (no epochs): (val and test scores, state, None, history)."""
    history = model.fit(labels, seed)
    return {s: model.scores(s) for s in (VAL, TEST)}, model.state_dict(), None, history


def train_probe(dataset_path: str, out_dir: str | Path, probe: str, hyper: dict, seed: int) -> dict:
    return train_seeds(dataset_path, {seed: out_dir}, probe, hyper)[0]


def train_seeds(dataset_path: str, out_dirs: dict[int, str | Path], probe: str, hyper: dict,
                relation: str = "parent") -> list[dict]:
    """One run per seed into its own folder; the dataset is read once for all of them.

    ``probe`` is the configured name; ``hyper`` its settings, with ``type`` and ``decoding``;
    ``relation`` the pairs it learns to find (relations.py).
    """
    cls = probe_class(hyper["type"])
    data = load_npz(dataset_path)
    pairs, labels, groups = labelled_pairs(data, dataset_path, relation)
    return [run_seed(cls, data, pairs, labels, groups, Path(out_dir), probe, hyper, seed, relation)
            for seed, out_dir in out_dirs.items()]


def labelled_pairs(data: dict[str, np.ndarray], where: str, relation: str = "parent"):
    """(pairs, labels by split, groups by split): a child's candidate parents (for another
    relation, the candidates i of one j) form one group, the pairs of one graph with the same dst."""
    pairs = pair_index(data, relation)
    labels = {s: torch.from_numpy(pairs.label[pairs.split == s]) for s in (TRAIN, VAL, TEST)}
    for s, name in ((TRAIN, "train"), (VAL, "val"), (TEST, "test")):
        if labels[s].sum() == 0:
            raise ValueError(f"{where}: the {name} split has no {relation} pair; use more or larger graphs")
    groups = {s: pairs.graph[pairs.split == s] * data["adj"].shape[1] + pairs.dst[pairs.split == s] for s in (VAL, TEST)}
    return pairs, labels, groups


def score_seed(cls, data, pairs, labels: dict[int, torch.Tensor], groups: dict[int, np.ndarray], probe: str,
               hyper: dict, seed: int) -> tuple[dict, dict, pd.DataFrame]:
    """Train (or fit) one probe with one seed: (its metrics, its state, its history)."""
    seed_everything(seed)
    model = cls(data, pairs, hyper)
    fit_scores = fitted_scores if hyper["type"] in FITTED else trained_scores
    scores, state, best_epoch, history = fit_scores(model, labels, hyper, seed)

    decoded = {s: metrics.decode(scores[s], groups[s], hyper["decoding"]) for s in (VAL, TEST)}
    threshold = metrics.best_threshold(labels[VAL].numpy(), decoded[VAL])
    val, test = ({**metrics.pair_metrics(labels[s].numpy(), scores[s], threshold, decoded[s]),
                  "parent_acc": metrics.parent_accuracy(labels[s].numpy(), scores[s], groups[s])} for s in (VAL, TEST))
    test_graphs = data["graph_id"][pairs.graph[pairs.split == TEST]]
    result = {
        **test,
        **(model.summary() if hasattr(model, "summary") else {}),
        # Per test graph counts: the table's interval over graphs resamples them.
        "test_graphs": metrics.graph_counts(labels[TEST].numpy(), decoded[TEST] >= threshold, test_graphs),
        "threshold": threshold,
        "val": val,
        "best_epoch": best_epoch,
        "epochs_run": len(history),
        # A probe that never clearly beats "everything is an edge" on validation did not learn.
        "converged": bool(val["f1"] > 1.2 * metrics.chance_f1(val["positive_rate"])),
        "probe": probe,
        "type": hyper["type"],
        "decoding": hyper["decoding"],
        "seed": seed,
        "n_train_pairs": len(labels[TRAIN]),
        "n_val_pairs": len(labels[VAL]),
        "n_test_pairs": len(labels[TEST]),
    }
    return result, state, history


def run_seed(cls, data, pairs, labels: dict[int, torch.Tensor], groups: dict[int, np.ndarray], out_dir: Path,
             probe: str, hyper: dict, seed: int, relation: str = "parent") -> dict:
    result, state, history = score_seed(cls, data, pairs, labels, groups, probe, hyper, seed)
    result["relation"] = relation
    with atomic_path(out_dir / "best_model.pt") as tmp:
        torch.save({"state_dict": state, "probe": probe, "hyper": dict(hyper), "seed": seed}, tmp)
    write_text(out_dir / "history.csv", history.to_csv(index=False))
    write_json(out_dir / "metrics.json", result)
    log.info("%s (%s) seed %d: test F1 %.3f (threshold %.3f, best epoch %s)", probe, relation, seed, result["f1"], result["threshold"],
             result["best_epoch"])
    return result

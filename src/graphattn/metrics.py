"""Metrics over off-diagonal node pairs, with the decision threshold chosen on validation.

Computed with numpy, as scikit-learn's roc_auc_score, average_precision_score and
precision_recall_curve define them (tests compare them): importing scikit-learn takes
seconds, which every one of the hundreds of probe jobs of a grid would pay.
"""

from __future__ import annotations

import numpy as np


def ranked_counts(y_true: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """True and false positives when predicting ``scores >= t``, for each distinct score t, highest first."""
    order = np.argsort(-scores, kind="mergesort")
    sorted_scores, sorted_true = scores[order], y_true[order]
    # Last index of each distinct score (compared, not subtracted: -inf - -inf is nan).
    last = np.r_[np.flatnonzero(sorted_scores[1:] != sorted_scores[:-1]), len(scores) - 1]
    tps = np.cumsum(sorted_true)[last]
    return tps, last + 1 - tps, sorted_scores[last]


def best_threshold(y_true: np.ndarray, scores: np.ndarray) -> float:
    """The score threshold that maximises F1 (the larger one on ties); 0.5 without positives."""
    y_true = np.asarray(y_true).astype(int)
    if y_true.sum() == 0:
        return 0.5
    tps, fps, thresholds = ranked_counts(y_true, np.asarray(scores, dtype=np.float64))
    precision, recall = tps / (tps + fps), tps / tps[-1]
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    f1[~np.isfinite(thresholds)] = -1.0  # -inf marks pairs a decoding ruled out: never predict them
    return float(thresholds[np.argmax(f1)])  # argmax takes the first, i.e. the largest threshold


def auroc(tps: np.ndarray, fps: np.ndarray) -> float:
    """Area under the ROC curve, from ``ranked_counts``."""
    tpr, fpr = np.r_[0, tps / tps[-1]], np.r_[0, fps / fps[-1]]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))  # trapezoids under the ROC curve


def average_precision(tps: np.ndarray, fps: np.ndarray) -> float:
    """Area under the precision-recall curve as a step sum, from ``ranked_counts``."""
    recall = tps / tps[-1]
    return float(np.sum(np.diff(np.r_[0, recall]) * tps / (tps + fps)))


def pair_metrics(y_true: np.ndarray, scores: np.ndarray, threshold: float, decoded: np.ndarray | None = None) -> dict:
    """Counts from ``decoded >= threshold`` (the scores themselves by default); areas from the raw scores."""
    y_true = np.asarray(y_true).astype(int)
    scores = np.asarray(scores, dtype=np.float64)
    pred = (scores if decoded is None else np.asarray(decoded)) >= threshold
    tp = int((pred & (y_true == 1)).sum())
    fp = int((pred & (y_true == 0)).sum())
    fn = int((~pred & (y_true == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    both_classes = 0 < y_true.sum() < len(y_true)
    # One sort for both areas; with one class there is no curve to sort for.
    tps, fps, _ = ranked_counts(y_true, scores) if both_classes else (None, None, None)
    return {
        "acc": float((pred == y_true).mean()),
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "auroc": auroc(tps, fps) if both_classes else None,
        "auprc": average_precision(tps, fps) if both_classes else None,
        "positive_rate": float(y_true.mean()),
        "n_pairs": int(len(y_true)),
    }


def graph_counts(y_true: np.ndarray, predicted: np.ndarray, graph: np.ndarray) -> dict[str, list[int]]:
    """Per graph: its id and its true positives, false positives and false negatives, so that
    F1 can be recomputed over any resample of the graphs (tables.resampled_f1)."""
    y_true, predicted = np.asarray(y_true).astype(bool), np.asarray(predicted).astype(bool)
    ids, rows = np.unique(graph, return_inverse=True)
    count = lambda mask: np.bincount(rows, weights=mask, minlength=len(ids)).astype(int).tolist()
    return {"graph_id": ids.astype(int).tolist(), "tp": count(predicted & y_true),
            "fp": count(predicted & ~y_true), "fn": count(~predicted & y_true)}


def top1(scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """True at the highest score of each group (the first such pair on ties)."""
    order = np.lexsort((-scores, groups))  # stable: equal scores keep their order
    first = np.r_[True, groups[order][1:] != groups[order][:-1]]
    mask = np.zeros(len(scores), dtype=bool)
    mask[order[first]] = True
    return mask


def decode(scores: np.ndarray, groups: np.ndarray, decoding: str) -> np.ndarray:
    """Scores a threshold then turns into edges: all pairs (``threshold``) or only each
    child's best candidate parent (``top1``; the others get -inf, never an edge)."""
    if decoding == "threshold":
        return scores
    if decoding == "top1":
        return np.where(top1(scores, groups), scores, -np.inf)
    raise ValueError(f"unknown decoding {decoding!r}; accepted: ['threshold', 'top1']")


def parent_accuracy(y_true: np.ndarray, scores: np.ndarray, groups: np.ndarray) -> float | None:
    """The argmax rule: share of children (groups with an edge) whose best-scoring candidate is a parent."""
    _, groups = np.unique(groups, return_inverse=True)
    y_true = np.asarray(y_true, dtype=np.float64)
    has_parent = np.bincount(groups, weights=y_true) > 0
    if not has_parent.any():
        return None
    best = top1(np.asarray(scores, dtype=np.float64), groups)
    hit = np.bincount(groups[best], weights=y_true[best], minlength=len(has_parent))
    return float(hit[has_parent].mean())


def chance_f1(positive_rate: float) -> float:
    """F1 of predicting every pair positive: the level a probe must beat."""
    return 2 * positive_rate / (1 + positive_rate)

"""Metrics over off-diagonal node pairs, with the decision threshold chosen on validation."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score


def best_threshold(y_true: np.ndarray, scores: np.ndarray) -> float:
    """The score threshold that maximises F1 (the larger one on ties); 0.5 without positives."""
    y_true = np.asarray(y_true).astype(int)
    if y_true.sum() == 0:
        return 0.5
    precision, recall, thresholds = precision_recall_curve(y_true, scores)
    f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
    best = np.flatnonzero(f1 == f1.max())[-1]
    return float(thresholds[best])


def pair_metrics(y_true: np.ndarray, scores: np.ndarray, threshold: float) -> dict:
    y_true = np.asarray(y_true).astype(int)
    scores = np.asarray(scores, dtype=np.float64)
    pred = scores >= threshold
    tp = int((pred & (y_true == 1)).sum())
    fp = int((pred & (y_true == 0)).sum())
    fn = int((~pred & (y_true == 1)).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    both_classes = 0 < y_true.sum() < len(y_true)
    return {
        "acc": float((pred == y_true).mean()),
        "precision": precision,
        "recall": recall,
        "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        "auroc": float(roc_auc_score(y_true, scores)) if both_classes else None,
        "auprc": float(average_precision_score(y_true, scores)) if both_classes else None,
        "positive_rate": float(y_true.mean()),
        "n_pairs": int(len(y_true)),
    }


def chance_f1(positive_rate: float) -> float:
    """F1 of predicting every pair positive: the level a probe must beat."""
    return 2 * positive_rate / (1 + positive_rate)

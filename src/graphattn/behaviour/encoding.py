"""Encoding against use: does a head that encodes the edges (its parent accuracy and AUROC read
alone, head_scores, on training and validation graphs) carry the answer (its activation-patching
effect on test prompts)?

Per activation and direction of the patching, and per encoding score: the Spearman correlation
over heads and the overlap of the top k heads of each ranking (k = 10, or half the heads of a
model with fewer than 20), beside the overlap two random rankings give on average (k * k / n),
and where the best encoder (the toy's parent-finder) ranks by use in that map.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..heads import DIRECTIONS

ENCODING = {"parent_acc": "parent accuracy", "auroc": "AUROC"}


def encoding_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """layer, head and each encoding score, the better of the two directions (as the ablation ranks)."""
    out = scores[["layer", "head"]].copy()
    for name in ENCODING:
        out[name] = scores[[f"{name}_{d}" for d in DIRECTIONS]].max(axis=1)
    return out


def first_tags(roles: dict) -> pd.DataFrame:
    """layer, head and the head's first role tag (head_roles.json)."""
    return pd.DataFrame([{"layer": h["layer"], "head": h["head"], "role": h["tags"][0] if h["tags"] else "none"}
                         for h in roles["heads"]])


def per_head(scores: pd.DataFrame, patched: pd.DataFrame, roles: dict | None = None) -> pd.DataFrame:
    """One row per head and patching (activation, direction): encoding scores, effect, rank, role."""
    table = patched[["activation", "direction", "layer", "head", "effect", "rank"]].merge(
        encoding_scores(scores), on=["layer", "head"], how="left", validate="many_to_one")
    if table[list(ENCODING)].isna().any().any():
        raise ValueError("the head scores and the patching table do not list the same heads")
    if roles is not None:
        table = table.merge(first_tags(roles), on=["layer", "head"], how="left")
    return table


def top_k(n_heads: int) -> int:
    return 10 if n_heads >= 20 else max(1, n_heads // 2)


def order(heads: pd.DataFrame) -> list[tuple[int, int]]:
    return list(zip(heads["layer"].astype(int), heads["head"].astype(int)))


def ranked(heads: pd.DataFrame, column: str) -> pd.DataFrame:
    """The heads by ``column``, largest first, ties broken by layer and head (as the patching table's rank is)."""
    return heads.sort_values([column, "layer", "head"], ascending=[False, True, True])


def named(heads: list[tuple[int, int]]) -> str:
    return " ".join(f"L{layer}H{head}" for layer, head in heads)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per patching (activation, direction) and encoding score: Spearman's rho over heads, the top-k
    overlap and its chance level, the heads that lead each ranking, and the best encoder's rank by
    use in that map (1 = the largest effect; ties broken by layer and head, as the patching table's
    rank is)."""
    from scipy.stats import spearmanr

    rows = []
    for (activation, direction), heads in table.groupby(["activation", "direction"], sort=False):
        n = len(heads)
        k = top_k(n)
        used = order(ranked(heads, "effect"))
        for name in ENCODING:
            encoded = ranked(heads, name)
            top_used, top_encoded = used[:k], order(encoded)[:k]
            rho, p = spearmanr(heads[name], heads["effect"]) if heads["effect"].notna().all() else (np.nan, np.nan)
            best = top_encoded[0]
            rows.append({"activation": activation, "direction": direction, "encoding": name, "n_heads": n,
                         "spearman": rho, "p_value": p, "top_k": k, "overlap": len(set(top_used) & set(top_encoded)),
                         "chance_overlap": k * k / n, "top_used": named(top_used[:3]),
                         "top_encoded": named(top_encoded[:3]), "best_encoder": named([best]),
                         "best_encoder_rank": used.index(best) + 1,
                         "best_encoder_effect": float(encoded["effect"].iloc[0])})
    return pd.DataFrame(rows)

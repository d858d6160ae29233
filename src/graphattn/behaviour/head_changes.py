"""What fine-tuning changed, head by head: a taught model against its base on the same graphs.

Per head, before (the base) and after (the taught model): its parent-reading scores (parent
accuracy and AUROC read alone, head_scores), its activation-patching effect on its own answers
(encoding_use_heads.csv: each model patched in the format it is asked in), its attention to
node tokens (attention_metrics node_mass, Guan et al. 2025's first quantity) and, between nodes,
the share of node queries' node-to-node attention that goes to nodes they share an edge with
(role_shares: parent + child against other_node; what "models inter-node structure" would
raise). A random-init control gives that share's level when attention knows no graph.

The summary answers: are the heads the taught model uses (its top patching effects) heads that
encoded parents before fine-tuning (top parent accuracy of the base), or new ones?
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .encoding import named, order, ranked, top_k

STAGES = ("before", "after")
SCORES = ("parent_acc", "auroc")


def node_shares(shares: pd.DataFrame) -> pd.DataFrame:
    """layer, head, edge_mass (node queries' mass on their parents and children), other_node_mass
    and edge_share = edge_mass / (edge_mass + other_node_mass), from a role_shares.csv table."""
    node = shares[shares["query_role"] == "node"].pivot(index=["layer", "head"], columns="key_category", values="share")
    out = pd.DataFrame({"edge_mass": node["parent"] + node["child"], "other_node_mass": node["other_node"]})
    with np.errstate(invalid="ignore", divide="ignore"):
        out["edge_share"] = out["edge_mass"] / (out["edge_mass"] + out["other_node_mass"])
    return out.reset_index()


def attention_columns(metrics: pd.DataFrame, shares: pd.DataFrame) -> pd.DataFrame:
    """layer, head, node_mass, edge_mass, other_node_mass, edge_share of one model."""
    return metrics[["layer", "head", "node_mass"]].merge(node_shares(shares), on=["layer", "head"], validate="one_to_one")


def per_head(use: dict[str, pd.DataFrame], attention: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per head and patching (activation, direction) with every column twice, ``_before``
    and ``_after``. ``use``: stage -> encoding_use_heads table; ``attention``: stage ->
    attention_columns."""
    tables = []
    for stage in STAGES:
        if set(order(use[stage])) != set(order(attention[stage])):
            raise ValueError(f"the {stage} model's patching and attention tables do not list the same heads")
        table = use[stage][["activation", "direction", "layer", "head", "effect", "rank", *SCORES, "role"]].merge(
            attention[stage], on=["layer", "head"], how="left", validate="many_to_one")
        tables.append(table.set_index(["activation", "direction", "layer", "head"]).add_suffix(f"_{stage}"))
    before, after = tables
    if set(before.index) != set(after.index):
        raise ValueError("the base and the taught model do not have the same heads and patching maps; "
                         "accepted: a model fine-tuned from the base, patched the same way")
    return before.join(after, how="inner").reset_index()


def summary(table: pd.DataFrame, control_edge_share: float | None = None) -> pd.DataFrame:
    """Per patching map (activation, direction): how the taught model's most used heads relate to
    what the heads encoded before and after, and the attention quantities' means before and after.

    overlap_used_encoded_before: of the taught model's top-k heads by patching effect, how many are
    among the base's top-k by parent accuracy (chance k * k / n); overlap_used_before: with the
    base's own top-k by effect; Spearman over heads of the taught model's effect against the
    base's parent accuracy, against its own, and against the base's effect."""
    from scipy.stats import spearmanr

    rows = []
    for (activation, direction), heads in table.groupby(["activation", "direction"], sort=False):
        n = len(heads)
        k = top_k(n)

        def top(column: str) -> list[tuple[int, int]]:
            return order(ranked(heads, column))[:k]

        used_after, used_before = top("effect_after"), top("effect_before")
        encoded_before, encoded_after = top("parent_acc_before"), top("parent_acc_after")

        def rho(a: str, b: str) -> float:
            both = heads[[a, b]].dropna()
            return float(spearmanr(both[a], both[b])[0]) if len(both) > 2 else np.nan

        rows.append({
            "activation": activation, "direction": direction, "n_heads": n, "top_k": k, "chance_overlap": k * k / n,
            "overlap_used_encoded_before": len(set(used_after) & set(encoded_before)),
            "overlap_used_encoded_after": len(set(used_after) & set(encoded_after)),
            "overlap_used_before": len(set(used_after) & set(used_before)),
            "overlap_encoded_before_after": len(set(encoded_before) & set(encoded_after)),
            "spearman_use_after_encoding_before": rho("effect_after", "parent_acc_before"),
            "spearman_use_after_encoding_after": rho("effect_after", "parent_acc_after"),
            "spearman_use_after_use_before": rho("effect_after", "effect_before"),
            "spearman_encoding_after_before": rho("parent_acc_after", "parent_acc_before"),
            "top_used_after": named(used_after[:5]), "top_used_before": named(used_before[:5]),
            "top_encoded_before": named(encoded_before[:5]),
            **{f"{name}_{stage}": float(heads[f"{name}_{stage}"].mean())
               for name in ("parent_acc", "node_mass", "edge_share") for stage in STAGES},
            "edge_share_control": np.nan if control_edge_share is None else control_edge_share,
        })
    return pd.DataFrame(rows)


def verdict(row: dict) -> str:
    """One sentence on the taught model's most used heads, from a summary row."""
    k, overlap, chance = row["top_k"], row["overlap_used_encoded_before"], row["chance_overlap"]
    return (f"Of the taught model's {k} most used heads ({row['activation']}, {row['direction']}), "
            f"{overlap} {'was' if overlap == 1 else 'were'} among the base's {k} best parent readers (chance {chance:.1f}); "
            f"Spearman of use after against parent accuracy before {row['spearman_use_after_encoding_before']:.2f}. "
            f"Attention to node tokens {row['node_mass_before']:.3f} -> {row['node_mass_after']:.3f}; share of "
            f"node-to-node attention on edges {row['edge_share_before']:.3f} -> {row['edge_share_after']:.3f}"
            + ("" if np.isnan(row["edge_share_control"]) else f" (random-init control {row['edge_share_control']:.3f})")
            + ".")

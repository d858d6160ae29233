"""The before/after comparison of a taught model and its base (graphattn.behaviour.head_changes)
on planted tables whose overlaps and means are known."""

import numpy as np
import pandas as pd
import pytest

from graphattn import plots
from graphattn.behaviour import head_changes

LAYERS, HEADS = 4, 5  # 20 heads: top k = 10


def use_table(effect: np.ndarray, parent_acc: np.ndarray) -> pd.DataFrame:
    layer, head = np.divmod(np.arange(LAYERS * HEADS), HEADS)
    return pd.DataFrame({"activation": "out", "direction": "noising", "layer": layer, "head": head, "effect": effect,
                         "rank": (-effect).argsort().argsort() + 1, "parent_acc": parent_acc, "auroc": parent_acc,
                         "role": "mixed"})


def shares_table(parent: float, child: float, other: float) -> pd.DataFrame:
    rows = []
    for layer in range(LAYERS):
        for head in range(HEADS):
            for category, share in (("parent", parent), ("child", child), ("other_node", other), ("self", 0.1)):
                rows.append({"layer": layer, "head": head, "query_role": "node", "key_category": category,
                             "share": share})
            rows.append({"layer": layer, "head": head, "query_role": "connective", "key_category": "parent",
                         "share": np.nan})
    return pd.DataFrame(rows)


def metrics_table(node_mass: float) -> pd.DataFrame:
    layer, head = np.divmod(np.arange(LAYERS * HEADS), HEADS)
    return pd.DataFrame({"layer": layer, "head": head, "entropy": 1.0, "node_mass": node_mass})


def test_node_shares_split_node_to_node_attention_by_edges():
    shares = head_changes.node_shares(shares_table(0.2, 0.1, 0.3))
    assert len(shares) == LAYERS * HEADS
    assert shares["edge_mass"].tolist() == pytest.approx([0.3] * 20)
    assert shares["edge_share"].tolist() == pytest.approx([0.5] * 20)


def test_the_taught_models_used_heads_are_compared_with_what_the_base_encoded(tmp_path):
    rng = np.random.default_rng(0)
    encoded_before = rng.permutation(20) / 20
    # After: the ten best parent readers of the base are its ten most used heads, in the same order;
    # the base itself used other heads (effect reversed).
    use = {"before": use_table(1 - encoded_before, encoded_before),
           "after": use_table(encoded_before.copy(), encoded_before * 0.5 + 0.5)}
    attention = {"before": head_changes.attention_columns(metrics_table(0.3), shares_table(0.1, 0.1, 0.6)),
                 "after": head_changes.attention_columns(metrics_table(0.5), shares_table(0.2, 0.2, 0.4))}
    table = head_changes.per_head(use, attention)
    assert len(table) == 20 and {"effect_before", "effect_after", "node_mass_after", "edge_share_before"} <= set(table)
    row = head_changes.summary(table, control_edge_share=0.2).iloc[0]
    assert row["top_k"] == 10 and row["chance_overlap"] == pytest.approx(5.0)
    assert row["overlap_used_encoded_before"] == 10 and row["overlap_used_before"] == 0
    assert row["spearman_use_after_encoding_before"] == pytest.approx(1.0)
    assert row["spearman_use_after_use_before"] == pytest.approx(-1.0)
    assert row["node_mass_before"] == pytest.approx(0.3) and row["node_mass_after"] == pytest.approx(0.5)
    assert row["edge_share_before"] == pytest.approx(0.25) and row["edge_share_after"] == pytest.approx(0.5)
    best = table.loc[table["parent_acc_before"].idxmax()]
    assert row["top_used_after"].split()[0] == f"L{best['layer']}H{best['head']}"
    sentence = head_changes.verdict(row.to_dict())
    assert "10 were among the base's 10 best parent readers (chance 5.0)" in sentence
    assert "0.300 -> 0.500" in sentence and "random-init control 0.200" in sentence

    stats = head_changes.summary(table, control_edge_share=0.2)
    fig = plots.head_changes(table, stats, tmp_path / "changes.png", "taught against base")
    assert (tmp_path / "changes.png").stat().st_size > 0
    outlined = fig.axes[1].collections[1]  # the taught model's top-k used heads, in red
    assert len(outlined.get_offsets()) == 10
    assert "10 were top encoders" in fig.axes[1].get_title()


def test_models_with_other_heads_are_refused():
    use = use_table(np.zeros(20), np.zeros(20))
    attention = head_changes.attention_columns(metrics_table(0.3), shares_table(0.1, 0.1, 0.6))
    with pytest.raises(ValueError, match="do not have the same heads"):
        head_changes.per_head({"before": use, "after": use[use["layer"] < 3]},
                              {"before": attention, "after": attention[attention["layer"] < 3]})

"""Encoding against use (graphattn.behaviour.encoding): head scores beside patching effects,
on hand-made tables whose correlations and overlaps are known."""

import numpy as np
import pandas as pd
import pytest

from graphattn import plots
from graphattn.behaviour import encoding


def heads_table(n_layers=5, n_heads=5):
    rows = [(layer, head) for layer in range(n_layers) for head in range(n_heads)]
    n = len(rows)
    acc = np.linspace(0.1, 1.0, n)  # channel order
    scores = pd.DataFrame({"layer": [r[0] for r in rows], "head": [r[1] for r in rows],
                           "parent_acc_child_to_parent": acc, "parent_acc_parent_to_child": acc / 2,
                           "auroc_child_to_parent": 1 - acc, "auroc_parent_to_child": 0.5 - acc / 4})
    return scores, rows


def test_encoding_takes_the_better_direction_and_the_summary_gives_rho_and_top_overlap():
    scores, rows = heads_table()
    n = len(rows)
    effect_up = np.arange(n, dtype=float)  # same order as parent accuracy
    patched = pd.DataFrame([{"activation": "out", "direction": d, "layer": layer, "head": head,
                             "effect": e if d == "denoising" else -e, "rank": 0}
                            for d in ("denoising", "noising") for (layer, head), e in zip(rows, effect_up)])
    roles = {"heads": [{"layer": layer, "head": head, "tags": ["sink"] if head else []} for layer, head in rows]}
    table = encoding.per_head(scores, patched, roles)
    first = table[table["direction"] == "denoising"].set_index(["layer", "head"])
    assert first["parent_acc"].to_numpy() == pytest.approx(np.linspace(0.1, 1.0, n))
    acc = np.linspace(0.1, 1.0, n)
    assert first["auroc"].to_numpy() == pytest.approx(np.maximum(1 - acc, 0.5 - acc / 4))  # the better direction
    assert set(first["role"]) == {"sink", "none"}
    stats = encoding.summary(table).set_index(["direction", "encoding"])
    assert stats.loc[("denoising", "parent_acc"), "spearman"] == pytest.approx(1.0)
    assert stats.loc[("noising", "parent_acc"), "spearman"] == pytest.approx(-1.0)
    assert stats.loc[("denoising", "parent_acc"), "top_k"] == 10 and stats.loc[("denoising", "parent_acc"), "n_heads"] == 25
    assert stats.loc[("denoising", "parent_acc"), "overlap"] == 10
    assert stats.loc[("noising", "parent_acc"), "overlap"] == 0  # the ten best encoders are the ten least used
    assert stats.loc[("denoising", "parent_acc"), "chance_overlap"] == pytest.approx(4.0)
    assert stats.loc[("denoising", "parent_acc"), "top_used"] == "L4H4 L4H3 L4H2"
    # The best encoder (L4H4) is the most used head when restoring, the least used when noising.
    assert stats.loc[("denoising", "parent_acc"), "best_encoder"] == "L4H4"
    assert stats.loc[("denoising", "parent_acc"), "best_encoder_rank"] == 1
    assert stats.loc[("noising", "parent_acc"), "best_encoder_rank"] == 25
    assert stats.loc[("noising", "parent_acc"), "best_encoder_effect"] == pytest.approx(-24.0)
    assert stats.loc[("denoising", "auroc"), "best_encoder"] == "L0H0"  # AUROC runs the other way
    assert stats.loc[("denoising", "auroc"), "best_encoder_rank"] == 25


def test_a_small_model_compares_the_top_half_and_mismatched_heads_are_refused():
    assert encoding.top_k(12) == 6 and encoding.top_k(270) == 10
    scores, rows = heads_table(2, 2)
    patched = pd.DataFrame([{"activation": "out", "direction": "noising", "layer": 9, "head": 0, "effect": 1.0,
                             "rank": 1}])
    with pytest.raises(ValueError, match="do not list the same heads"):
        encoding.per_head(scores, patched)


def test_the_scatter_puts_a_point_per_head_at_its_encoding_and_use(tmp_path):
    scores, rows = heads_table(2, 3)
    patched = pd.DataFrame([{"activation": "out", "direction": d, "layer": layer, "head": head,
                             "effect": 0.1 * (3 * layer + head), "rank": 0}
                            for d in ("denoising", "noising") for layer, head in rows])
    # The pattern's effects run the other way: its best encoder (L1H2) is used least.
    pattern = patched.assign(activation="pattern", effect=-patched["effect"])
    roles = {"heads": [{"layer": layer, "head": head, "tags": ["parent-finder" if head == 0 else "sink"]}
                       for layer, head in rows]}
    table = encoding.per_head(scores, pd.concat([patched, pattern]), roles)
    fig = plots.encoding_use(table, encoding.summary(table), tmp_path / "use.png", "toy")
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(panels) == 4  # output and pattern, each direction
    points = np.concatenate([c.get_offsets() for c in panels[0].collections])
    expected = table[(table["activation"] == "out") & (table["direction"] == "denoising")][["parent_acc", "effect"]]
    assert sorted(map(tuple, np.round(points, 6))) == sorted(map(tuple, np.round(expected.to_numpy(), 6)))
    assert [t.get_text() for t in panels[0].get_legend().get_texts()] == ["parent-finder", "sink"]
    assert "Spearman 1.00" in panels[0].get_title() and "best encoder L1H2 rank 1 of 6" in panels[0].get_title()
    assert panels[2].get_title().startswith("pattern, denoising") and "rank 6 of 6" in panels[2].get_title()
    assert [t.get_text() for t in panels[2].texts] == ["L1H2"]

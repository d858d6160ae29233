"""The report's front page (graphattn.front_page): each model's best probe beside both
baselines, with a verdict read from the paired intervals, and encoding against use."""

import pandas as pd

from graphattn.front_page import front_page, probe_sentences, use_sentence


def row(model, probe, f1, over_position=(0.0, 0.0, 0.0), over_control=(0.0, 0.0, 0.0), relation="parent"):
    return {"model": model, "relation": relation, "probe": probe, "f1_mean": f1, "f1_ci_low": f1 - 0.02,
            "f1_ci_high": f1 + 0.01, "position_f1_mean": 0.9, "control_f1_mean": 0.7,
            "f1_over_position": over_position[0], "f1_over_position_ci_low": over_position[1],
            "f1_over_position_ci_high": over_position[2], "f1_over_control": over_control[0],
            "f1_over_control_ci_low": over_control[1], "f1_over_control_ci_high": over_control[2]}


TABLE = pd.DataFrame([
    row("a", "mlp", 0.95, (0.05, 0.01, 0.09), (0.25, 0.2, 0.3)),
    row("a", "gcn", 0.93, (0.03, -0.01, 0.07), (0.23, 0.2, 0.3)),
    row("a", "position", 0.9),
    row("a-random", "mlp", 0.7, (-0.2, -0.3, -0.1)),
    row("b", "best_head", 0.91, (0.01, -0.04, 0.05), (0.2, 0.1, 0.3)),
    row("a", "mlp", 0.6, (0.05, 0.01, 0.09), (-0.01, -0.05, 0.02), relation="sibling"),
])
CONTROLS = {"a": "a-random"}


def test_each_model_and_relation_gets_its_best_probe_and_a_verdict_from_the_paired_intervals():
    sentences = probe_sentences(TABLE, CONTROLS, "position")
    assert len(sentences) == 3  # a/parent, a/sibling, b/parent: no control, no position row
    a_parent, a_sibling, b_parent = sentences
    assert a_parent.startswith("**a**, parent: ``mlp`` test F1 0.950 [0.930, 0.960]")
    assert "+0.050 [0.010, 0.090] over position (0.900)" in a_parent and a_parent.endswith("clears both baselines.")
    assert a_sibling.endswith("does not clear the control.")
    assert b_parent.startswith("**b**, parent: ``best_head``") and b_parent.endswith("does not clear position.")


def test_encoding_against_use_names_both_rankings_and_their_overlap():
    encoding = pd.DataFrame([
        {"activation": "out", "direction": "denoising", "encoding": "parent_acc", "top_k": 3, "top_used": "X",
         "top_encoded": "Y", "overlap": 0, "chance_overlap": 0.5, "n_heads": 12, "spearman": 0.1,
         "best_encoder": "Y", "best_encoder_rank": 9},
        {"activation": "out", "direction": "noising", "encoding": "parent_acc", "top_k": 3, "top_used": "L1H3 L2H1",
         "top_encoded": "L1H3 L1H0", "overlap": 2, "chance_overlap": 0.75, "n_heads": 12, "spearman": 0.4,
         "best_encoder": "L1H3", "best_encoder_rank": 1},
    ])
    sentence = use_sentence("toy", encoding)
    assert sentence == ("**toy**: of its top 3 heads by use (whose output carries its answer most: L1H3 L2H1, ...) "
                        "and its top 3 parent readers (L1H3 L1H0, ...), 2 are the same (chance 0.75); Spearman's "
                        "rho over 12 heads 0.40; the best parent reader, L1H3, ranks 1 by use.")
    page = front_page(TABLE, {"toy": encoding}, CONTROLS, "position", "s / arrow / all / k=none")
    assert page.startswith("Probes on s / arrow / all / k=none") and f"- {sentence}" in page
    assert "Encoding against use" not in front_page(TABLE, {}, CONTROLS, "position", "s")


def test_the_page_embeds_its_figures_as_data_uris_that_docutils_renders_as_images(tmp_path):
    import base64

    from docutils.core import publish_parts

    from graphattn.front_page import page

    # Repeated to a data URI longer than docutils' limit of 10,000 characters a line.
    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==") * 200
    (tmp_path / "a.png").write_bytes(png)
    (tmp_path / "b.png").write_bytes(png)
    html = publish_parts(page("Probes on s:\n", tmp_path / "a.png", {"toy": tmp_path / "b.png"}), writer_name="html")["body"]
    assert html.count('src="data:image/png;base64,iVBORw0KGgo') == 2
    assert "Probes on s:" in html and "Encoding against use (toy)" in html

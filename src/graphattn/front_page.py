"""The report's front page: the run's answer in sentences, read from its tables.

For each model and relation, its best probe beside the two baselines (the same probe on the
random-init control, and the position baseline), with the paired intervals over test graphs;
for each model whose answers were patched, whether the heads it uses are those that read
parents best. Written as reStructuredText: the sentences alone, and the page that
workflow/report/workflow.rst includes above the config, with the summary figures embedded as
data URIs (the report's description can show no file of its own otherwise).
"""

from __future__ import annotations

import base64
from pathlib import Path

import pandas as pd

from .relations import RELATIONS
from .tables import probe_rows


def interval(row: pd.Series, column: str) -> str:
    low, high = row.get(f"{column}_ci_low"), row.get(f"{column}_ci_high")
    return "" if pd.isna(low) or pd.isna(high) else f" [{low:.3f}, {high:.3f}]"


def margin(row: pd.Series, column: str, baseline: str) -> tuple[str, str]:
    """("+0.041 [0.003, 0.072] over position (0.930)", verdict) where the paired interval says
    whether the probe clears the baseline."""
    value = row.get(f"f1_over_{column}")
    if pd.isna(value):
        return "", "unknown"
    low = row.get(f"f1_over_{column}_ci_low")
    verdict = "unknown" if pd.isna(low) else ("clears" if low > 0 else "does not clear")
    base = row.get(f"{column}_f1_mean")
    return f"{value:+.3f}{interval(row, f'f1_over_{column}')} over {baseline} ({base:.3f})", verdict


def probe_sentence(row: pd.Series) -> str:
    verdicts = {"position": margin(row, "position", "position"), "the control": margin(row, "control", "its control")}
    margins = "; ".join(text for text, _ in verdicts.values() if text)
    cleared = [name for name, (_, v) in verdicts.items() if v == "clears"]
    missed = [name for name, (_, v) in verdicts.items() if v == "does not clear"]
    if missed:
        verdict = f"does not clear {' or '.join(missed)}"
    elif len(cleared) == 2:
        verdict = "clears both baselines"
    else:
        verdict = "baselines not in this run" if not cleared else f"clears {cleared[0]}"
    return (f"**{row['model']}**, {row['relation']}: ``{row['probe']}`` test F1 {row['f1_mean']:.3f}"
            f"{interval(row, 'f1')}{'; ' + margins if margins else ''}: {verdict}.")


def probe_sentences(table: pd.DataFrame, controls: dict[str, str], position_probe: str | None) -> list[str]:
    """One sentence per model (controls aside) and relation: its probe with the highest mean F1
    (the position baseline aside) and whether it clears each baseline (paired 95% interval over
    test graphs above 0)."""
    rows = probe_rows(table, controls, position_probe)
    sentences = []
    for model in dict.fromkeys(rows["model"]):
        for relation in [r for r in RELATIONS if r in set(rows["relation"])]:
            mine = rows[(rows["model"] == model) & (rows["relation"] == relation)]
            if len(mine):
                sentences.append(probe_sentence(mine.loc[mine["f1_mean"].idxmax()]))
    return sentences


def use_sentence(model: str, encoding: pd.DataFrame) -> str:
    """The heads whose output carries the answer (noising: the share of the clean answer lost
    without the head) beside the heads that read parents best, from encoding_use.csv."""
    row = encoding[(encoding["activation"] == "out") & (encoding["direction"] == "noising")
                   & (encoding["encoding"] == "parent_acc")].iloc[0]
    k = int(row["top_k"])
    return (f"**{model}**: of its top {k} heads by use (whose output carries its answer most: {row['top_used']}, "
            f"...) and its top {k} parent readers ({row['top_encoded']}, ...), {int(row['overlap'])} are the same "
            f"(chance {row['chance_overlap']:.2f}); Spearman's rho over {int(row['n_heads'])} heads "
            f"{row['spearman']:.2f}; the best parent reader, {row['best_encoder']}, ranks "
            f"{int(row['best_encoder_rank'])} by use.")


def front_page(table: pd.DataFrame, encodings: dict[str, pd.DataFrame], controls: dict[str, str],
               position_probe: str | None, where: str) -> str:
    """The answer as reStructuredText: a bullet per probe sentence, then one per use sentence."""
    lines = [f"Probes on {where} (each model's best probe, its 95% interval over test graphs, and its "
             "paired margins over the two baselines):", ""]
    lines += [f"- {s}" for s in probe_sentences(table, controls, position_probe)]
    if encodings:
        lines += ["", "Encoding against use (activation patching of each head's output on the model's own "
                  "answers to \"Parents of X:\"):", ""]
        lines += [f"- {use_sentence(model, encoding)}" for model, encoding in encodings.items()]
    return "\n".join(lines) + "\n"


SELECTIVITY_CAPTION = ("Each probe's test F1 (bar, 95% interval over test graphs) beside the same probe on the "
                       "random-init control (black tick) and the position baseline (dashed line): a probe says "
                       "something about the model only where it clears both.")
USE_CAPTION = ("Encoding against use ({model}): each head's parent accuracy read alone (across) against the share "
               "of the model's answer its output and pattern carry under activation patching (up).")


def figure(path: str | Path, caption: str, width: str) -> str:
    """An rst figure whose image is the file itself, as a data URI, written over lines of 76
    characters (docutils joins a URI's lines, and refuses a line of more than 10,000)."""
    uri = "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode()
    lines = "\n".join(f"   {uri[i:i + 76]}" for i in range(0, len(uri), 76))
    alt = Path(path).stem.replace("_", " ")  # the URI itself otherwise: the image twice over
    return f".. figure::\n{lines}\n   :width: {width}\n   :alt: {alt}\n\n   {caption}\n"


def page(answer: str, selectivity: str | Path, use_figures: dict[str, str | Path]) -> str:
    """The front page: the sentences, the selectivity figure, each model's encoding against use."""
    parts = [answer, figure(selectivity, SELECTIVITY_CAPTION, "100%")]
    parts += [figure(path, USE_CAPTION.format(model=model), "80%") for model, path in use_figures.items()]
    return "\n".join(parts)

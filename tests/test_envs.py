"""The conda environments of `--sdm conda` (envs/*.yaml) give the versions pyproject.toml pins,
and every rule that runs code names one of them."""

import re
import tomllib

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from conftest import REPO

ENVS = sorted((REPO / "envs").glob("*.yaml"))
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
PINS = {Requirement(dep).name: Requirement(dep).specifier for dep in PYPROJECT["dependencies"]}


def load_env(env_path):
    """(conda python version, pip lines) of an environment file."""
    dependencies = yaml.safe_load(env_path.read_text())["dependencies"]
    python = next(item for item in dependencies if str(item).startswith("python="))
    pip = next(item["pip"] for item in dependencies if isinstance(item, dict) and "pip" in item)
    return python.removeprefix("python="), pip


def pip_requirements(env_path):
    return [Requirement(line) for line in load_env(env_path)[1] if not line.startswith("-e ")]


def rule_blocks():
    """(file, rule name, rule text) of every rule in rules/*.smk."""
    for path in sorted((REPO / "rules").glob("*.smk")):
        text = path.read_text()
        starts = [(m.start(), m.group(1)) for m in re.finditer(r"^rule (\w+):", text, flags=re.M)]
        for (start, name), (end, _) in zip(starts, starts[1:] + [(len(text), None)]):
            yield path.name, name, text[start:end]


@pytest.mark.parametrize("env_path", ENVS, ids=lambda p: p.name)
def test_env_pins_agree_with_pyproject(env_path):
    requirements = pip_requirements(env_path)
    assert requirements, env_path
    for requirement in requirements:
        assert requirement.name in PINS, f"{env_path.name}: {requirement.name} is not a dependency in pyproject.toml"
        assert requirement.specifier == PINS[requirement.name], (
            f"{env_path.name}: {requirement} but pyproject.toml has {requirement.name}{PINS[requirement.name]}")
    # The package itself, installed from the checkout, brings the rest at pyproject's pins.
    python, pip = load_env(env_path)
    assert "-e .." in pip
    assert python + ".0" in SpecifierSet(PYPROJECT["requires-python"])


def test_every_rule_that_runs_a_script_names_an_env():
    scripted = [(file, name, block) for file, name, block in rule_blocks() if "script:" in block]
    assert len(scripted) >= 10
    for file, name, block in scripted:
        env = re.search(r'conda:\s*\n\s*"\.\./(envs/[\w.]+)"', block)
        assert env, f"{file}: rule {name} has no conda: env"
        assert (REPO / env.group(1)).is_file(), f"{file}: rule {name} names a missing {env.group(1)}"


def test_the_heavy_pins_are_in_the_envs_of_their_rules():
    names = {path.name: {r.name for r in pip_requirements(path)} for path in ENVS}
    assert {"torch", "transformer-lens", "transformers"} <= names["models.yaml"]
    assert {"torch", "torch-geometric", "scikit-learn"} <= names["probes.yaml"]

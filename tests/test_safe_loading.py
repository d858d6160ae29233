"""Loading runs no code from a file: weights-only checkpoints, pickle-free arrays, and a
model folder's own Python code only where its config entry trusts it."""

import json
import re
from pathlib import Path

import pytest

import tiny_models
from conftest import REPO, run_snakemake
from graphattn.models import RemoteCodeRefused, load_bridge

CODE = [p for folder in ("src", "workflow/scripts", "scripts", "benchmarks") for p in sorted((REPO / folder).rglob("*.py"))]


def calls(name: str):
    """Every call of ``name`` in the code, with its arguments (to the matching parenthesis)."""
    for path in CODE:
        text = path.read_text()
        for match in re.finditer(re.escape(name) + r"\(", text):
            depth, end = 0, match.end() - 1
            for end in range(match.end() - 1, len(text)):
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                if depth == 0:
                    break
            yield path.relative_to(REPO), text[match.start():end + 1]


def test_the_code_is_searched():
    assert len(CODE) > 30 and any(p.parts[-2:] == ("attention", "dump.py") for p in CODE)
    assert any("np.load(" in call for _, call in calls("np.load"))


def test_no_torch_load_without_weights_only_and_no_pickle():
    unsafe = [(p, c) for p, c in calls("torch.load") if "weights_only=True" not in c]
    assert unsafe == []
    assert list(calls("pickle.load")) == [] and list(calls("pickle.loads")) == []
    assert [(p, c) for p, c in calls("np.load") if "allow_pickle=True" in c] == []


def with_remote_code(folder: Path) -> Path:
    """A tiny Llama folder whose config.json points at Python files of its own, as custom
    architectures on the Hugging Face hub do."""
    config = json.loads((folder / "config.json").read_text())
    config["auto_map"] = {"AutoConfig": "configuration_custom.CustomConfig",
                          "AutoModelForCausalLM": "modeling_custom.CustomForCausalLM"}
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "modeling_custom.py").write_text("raise SystemExit('this code must not run')\n")
    return folder


def test_model_folder_with_its_own_code_is_refused_by_default(tmp_path):
    folder = with_remote_code(tiny_models.build("llama", tmp_path / "custom"))
    with pytest.raises(RemoteCodeRefused, match=r"ships its own Python code .*'modeling_custom.CustomForCausalLM'.* trust_remote_code is off"):
        load_bridge(str(folder))


@pytest.mark.e2e
def test_config_entry_with_remote_code_is_refused_at_planning(tmp_path, tiny_config):
    folder = with_remote_code(tiny_models.build("llama", tmp_path / "custom"))
    tiny_config["models"]["custom"] = {"path": str(folder)}
    result = run_snakemake(tmp_path, "-n", config=tiny_config, check=False)
    assert result.returncode != 0
    out = result.stdout + result.stderr
    assert "models.custom.trust_remote_code: " in out and "accepted: trust_remote_code: true" in out
    # Turned on, the check lets the entry through to planning (what the code then does is the user's call).
    tiny_config["models"]["custom"]["trust_remote_code"] = True
    assert "dump_attention" in run_snakemake(tmp_path, "-n", config=tiny_config).stdout

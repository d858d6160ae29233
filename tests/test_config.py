"""Invalid configs are refused at load, by the real snakemake CLI, before any job runs."""

import pytest

from conftest import run_snakemake


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

CASES = [
    (("graph_sets", "tiny", "colour"), "red", "'colour' was unexpected"),
    (("probes", "mlp", "hiden"), 3, "'hiden' was unexpected"),
    (("notations",), ["arrow", "dot"], "'dot' is not one of"),
    (("graph_sets", "tiny", "min_nodes"), 5, "graph_sets.tiny.min_nodes (5) must not exceed graph_sets.tiny.max_nodes (4)"),
    (("graph_sets", "tiny", "max_nodes"), 27, "graph_sets.tiny.max_nodes (27) exceeds what naming scheme 'letters' can name (26)"),
    (("k",), ["none", 9], "k: 9 is larger than the smallest graphs (3 nodes)"),
    (("probes", "svm"), {"type": "svm"}, "'svm' is not one of ['mlp', 'position', 'gcn', 'gine', 'logreg', 'best_head']"),
    (("probes", "svm"), {}, "'type' is a required property"),
    (("probes", "mlp", "edge_weight"), "none", "'edge_weight' was unexpected"),
    (("probes", "gcn", "decoder"), "edges", "'edges' is not one of ['pair', 'nodes']"),
    (("seeds",), [], "should be non-empty"),
    (("graph_sets", "tiny", "count"), 0, "0 is less than the minimum of 3"),
    (("models",), DELETE, "'models' is a required property"),
    (("toy", "graph_set"), "huge", "toy.graph_set: 'huge' is not a graph set; accepted: ['tiny']"),
    (("toy", "heads"), 3, "toy.hidden (16) must be a multiple of toy.heads (3)"),
    (("toy",), DELETE, "models.toy.path is 'pipeline:toy' but the config has no `toy` section"),
    (("models", "toy", "path"), "pipeline:gpt", "models.toy.path: 'pipeline:gpt' is not a model the pipeline builds"),
    (("toy", "notations"), ["parents"], "'parents' is not one of ['arrow', 'to']"),
]


@pytest.mark.e2e
@pytest.mark.parametrize("path, value, message", CASES, ids=[".".join(map(str, c[0])) for c in CASES])
def test_invalid_config_is_refused_before_any_job(tmp_path, tiny_config, path, value, message):
    result = run_snakemake(tmp_path, "-n", config=broken(tiny_config, path, value), check=False)
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()

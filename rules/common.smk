# Target helpers: which files the configured grid asks for.

import itertools

NAME = "[A-Za-z0-9][A-Za-z0-9_.-]*"


wildcard_constraints:
    model=NAME,
    graph_set=NAME,
    notation="arrow|to|parents",
    selection="all|source|target",
    k=r"none|\d+",
    probe=NAME,
    seed=r"\d+",


def grid():
    """Every probe run of the config as a dict of wildcard values."""
    return [
        dict(model=m, graph_set=g, notation=n, selection=s, k=str(k), probe=p, seed=seed)
        for m, g, n, s, k, p, seed in itertools.product(
            config["models"],
            config["graph_sets"],
            config["notations"],
            config["selections"],
            config["k"],
            config["probes"],
            config["seeds"],
        )
    ]


PROBE_DIR = "results/probes/{model}/{graph_set}/{notation}/{selection}/k{k}/{probe}/seed{seed}"


def metrics_files():
    return [(PROBE_DIR + "/metrics.json").format(**run) for run in grid()]


def sparse_dump(wildcards):
    """k=none is the dense dump itself: no copy."""
    base = "results/attention/{model}/{graph_set}/{notation}/".format(**wildcards)
    return base + ("dense.npy" if wildcards.k == "none" else f"k{wildcards.k}.npy")

"""Mean-attention ablation of a trained toy: does it read the graph through its heads?

An accuracy study, not a unit test (it trains a toy for 1,200 steps: 1.5 to 3 minutes on
2 cores), moved here from the test suite on 2026-12-02. It trains a small toy (4 heads,
hidden 64, 3 to 5 nodes) with the default recipe, then replaces each head's pattern by its
mean over the validation prompts, one head at a time and all at once (graphattn.toy.ablation),
and prints the held-out parent accuracies beside the graph-blind answer.

The claims it checks (exit status 1 when one fails):
  - trained, the toy reads the graph: accuracy >= graph-blind + 0.08;
  - every head ablated, it falls to about the graph-blind answer: <= graph-blind + 0.05;
  - some single head matters: ablating it costs more than 0.05.
The default run measures the same on its own toy through the rules behaviour and head_ablation
(results/tables/behaviour.csv).

    python benchmarks/toy_ablation.py [--steps 1200] [--seed 0]

Last line, machine-readable: none=<acc> all=<acc> graph_blind=<acc> worst_single=<acc> ok=<0|1>
"""

import argparse
import sys
import tempfile
from pathlib import Path

import torch

from graphattn import toy
from graphattn.toy import ablation

GRAPHS = dict(min_nodes=3, max_nodes=5, edge_prob=0.4, naming="letters")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    settings = dict(notations=["arrow"], steps=args.steps, batch_size=32, questions=8, parent_share=0.75, lr=0.003,
                    seed=args.seed, eval_every=200, n_heldout=256, layers=2, heads=4, hidden=64)
    torch.set_num_threads(1)  # as the rule trains it, and reproducible
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp, "model")
        metrics = toy.train_toy(str(model), str(Path(tmp, "h.csv")), str(Path(tmp, "m.json")), GRAPHS, settings)
        table = ablation.mean_ablation(str(model), GRAPHS, settings)
    print(f"trained {metrics['steps']} steps: held-out parent accuracy {metrics['heldout_accuracy']:.3f}")
    print(table.to_string(index=False))

    accuracy = table.set_index("ablated")["accuracy"]
    blind = accuracy["graph_blind"]
    worst_single = accuracy.drop(["none", "all", "graph_blind"]).min()
    claims = {
        "reads the graph (none >= graph_blind + 0.08)": accuracy["none"] >= blind + 0.08,
        "every head ablated is graph-blind (all <= graph_blind + 0.05)": accuracy["all"] <= blind + 0.05,
        "some head matters (worst single < none - 0.05)": worst_single < accuracy["none"] - 0.05,
    }
    for claim, holds in claims.items():
        print(f"{'holds' if holds else 'FAILS'}: {claim}")
    ok = all(claims.values())
    print(f"none={accuracy['none']:.3f} all={accuracy['all']:.3f} graph_blind={blind:.3f} "
          f"worst_single={worst_single:.3f} ok={int(ok)}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

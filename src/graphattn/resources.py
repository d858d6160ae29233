"""What a dump job asks a cluster for, estimated at planning time from the model's files.

The estimate is deliberately generous (a job killed for memory costs more than an idle
gigabyte): the weights in the run's dtype plus one batch's activations of one layer, since
the dump keeps only the reduced node matrices of the layers it has passed.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}
MB = 2**20
# Python, torch, transformers and TransformerLens, before any weights.
BASE_MB = 1500
WEIGHT_FILES = ("*.safetensors", "*.bin", "*.pt")


@dataclass(frozen=True)
class ModelShape:
    params: int
    heads: int
    hidden: int


def shape_of_folder(folder: str | Path) -> ModelShape:
    """Parameter count (from the weight files' size and stored dtype), heads and hidden size."""
    folder = Path(folder)
    config = json.loads((folder / "config.json").read_text())
    stored = config.get("torch_dtype") or config.get("dtype") or "float32"
    on_disk = sum(path.stat().st_size for pattern in WEIGHT_FILES for path in folder.glob(pattern))
    return ModelShape(
        params=on_disk // BYTES.get(stored, 4),
        heads=config.get("num_attention_heads") or config["n_head"],
        hidden=config.get("hidden_size") or config["n_embd"],
    )


# The toy tokenizer's tokens besides node names (graphattn.toy: SPECIAL and WORDS; its import pulls torch).
TOY_FIXED_TOKENS = 13


def shape_of_toy(toy: dict, naming_scheme: str = "letters") -> ModelShape:
    """The toy model before it exists: a Llama block has ~12 hidden^2 weights, and its input and
    output embeddings one row per token (the fixed tokens and every name of the naming scheme)."""
    from .naming import capacity

    vocab = TOY_FIXED_TOKENS + capacity(naming_scheme)
    hidden = toy["hidden"]
    return ModelShape(params=toy["layers"] * 12 * hidden**2 + 2 * vocab * hidden, heads=toy["heads"], hidden=hidden)


def prompt_tokens(max_nodes: int) -> int:
    """A bound on a prompt's length: every possible edge written out ("DV -> VC, " is 7
    WordPiece tokens, two-letter names being the longest), plus room for the template."""
    return 16 + 8 * max_nodes * (max_nodes - 1) // 2


def dump_mem_mb(shape: ModelShape, dtype: str, batch_size: int, tokens: int) -> int:
    weights = shape.params * BYTES[dtype]
    # Per prompt and layer: scores, softmax and the captured pattern of every head (float32),
    # and the residual stream with the MLP's widened activations.
    per_prompt = 3 * shape.heads * tokens**2 * 4 + 16 * tokens * shape.hidden * BYTES[dtype]
    return math.ceil(BASE_MB + 1.2 * (weights + batch_size * per_prompt) / MB)


class BatchTooLarge(MemoryError):
    pass


def available_mb(device: str = "cpu") -> int:
    """Memory a job can still allocate: free GPU memory on CUDA; else MemAvailable, capped by
    the job's cgroup limit (what Slurm enforces) when there is one."""
    if device.startswith("cuda"):
        import torch

        free, _ = torch.cuda.mem_get_info(torch.device(device))
        return free // MB
    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    free = int(meminfo["MemAvailable"].split()[0]) * 1024
    cgroup = Path("/sys/fs/cgroup")
    limit, used = cgroup / "memory.max", cgroup / "memory.current"
    if limit.is_file() and used.is_file() and limit.read_text().strip() != "max":
        free = min(free, int(limit.read_text()) - int(used.read_text()))
    return free // MB


def check_batch_fits(shape: ModelShape, dtype: str, batch_size: int, tokens: int, free_mb: int) -> None:
    """Refuse a dump whose weights and one batch would not fit in ``free_mb``, naming the
    largest batch size that would (or saying that none does)."""
    def need(batch: int) -> int:  # what the job has yet to allocate: not the Python baseline
        return dump_mem_mb(shape, dtype, batch, tokens) - BASE_MB

    if need(batch_size) <= free_mb:
        return
    fitting = [b for b in range(batch_size - 1, 0, -1) if need(b) <= free_mb]
    advice = (f"accepted: batch_size <= {fitting[0]} (about {need(fitting[0])} MB)" if fitting else
              f"even batch_size 1 needs about {need(1)} MB; accepted: a smaller dtype, shorter prompts "
              f"(max_nodes) or a machine with more memory")
    raise BatchTooLarge(
        f"batch_size {batch_size}: the weights ({dtype}) and one batch of prompts of up to {tokens} tokens need "
        f"about {need(batch_size)} MB, but only {free_mb} MB are available; {advice}")

"""Dump every head's attention, reduced on the fly to node-by-node matrices.

Only the attention patterns are needed, so the forward pass stops right after the
last layer's pattern is captured: no last MLP, no vocabulary logits, no activation
cache. Token patterns are reduced to node level on the device, batch by batch, and
written row by row into a .npy file, so memory does not grow with the number of prompts.
"""

from __future__ import annotations

import logging
import os

import numpy as np
import torch
from tqdm import tqdm

from . import prompts as prompt_io
from . import resources
from .alignment import SELECTIONS, node_weights
from .atomic import atomic_path, write_json
from .behaviour.interventions import check_sink_token
from .models import load_bridge, resolve_model_path

log = logging.getLogger(__name__)


class StopForward(Exception):
    """Raised from the last layer's pattern hook to skip the rest of the forward pass."""


def pattern_hooks(n_layers: int, edit) -> list:
    """TransformerBridge hooks on every layer's [batch, head, q, k] pattern: ``edit(layer, pattern)``
    returns the pattern the forward pass goes on with."""
    return [(f"blocks.{layer}.attn.hook_pattern", lambda pattern, hook, layer=layer: edit(layer, pattern))
            for layer in range(n_layers)]


def length_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Prompt indices grouped by similar token length, so batches waste little padding."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], i))
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def encode(tokenizer, texts: list[str], device: str):
    # Right padding is exact for encoders (masked keys) and for causal models
    # (real tokens never see the pads after them), whatever the position encoding.
    tokenizer.padding_side = "right"
    enc = tokenizer(texts, return_tensors="pt", padding=True, return_offsets_mapping=True)
    return enc["input_ids"].to(device), enc["attention_mask"].to(device), enc["offset_mapping"].numpy()


SINKS = ("keep", "drop")


def drop_first_token(pattern: torch.Tensor) -> torch.Tensor:
    """Attention with the first key's column zeroed and each row renormalised (a row that
    only saw the first token stays zero)."""
    pattern = pattern.clone()
    pattern[..., 0] = 0
    total = pattern.sum(dim=-1, keepdim=True)
    return torch.where(total > 0, pattern / total.clamp_min(1e-12), pattern)


class NodeReducer:
    """Forward hooks that turn each layer's [batch, head, q, k] pattern into node matrices."""

    def __init__(self, n_layers: int, sink: str = "keep", edit=None):
        """``edit(layer, pattern)``: an intervention whose pattern the forward pass goes on with
        and the reduction reads (graphattn.behaviour.interventions)."""
        if sink not in SINKS:
            raise ValueError(f"unknown sink option {sink!r}; accepted: {list(SINKS)}")
        self.n_layers = n_layers
        self.drop_sink = sink == "drop"
        self.edit = edit
        self.query = self.key = None
        self.layers: list[torch.Tensor] = []

    def capture(self, layer: int, pattern: torch.Tensor) -> torch.Tensor:
        if self.edit is not None:
            pattern = self.edit(layer, pattern)
        a = pattern.float()
        if self.drop_sink:
            a = drop_first_token(a)
        # Q [batch, 1, sel*node, q] @ A [batch, head, q, k] @ K^T [batch, 1, k, node], as two explicit
        # matmuls (a one-call einsum may build a q x k x node x node intermediate), with the selections
        # folded into the rows: broadcasting A over a selection axis would copy it once per selection.
        batch, n_sel, n_nodes, n_query = self.query.shape
        query_mass = self.query.reshape(batch, 1, n_sel * n_nodes, n_query) @ a
        nodes = query_mass @ self.key.transpose(1, 2)[:, None]  # [batch, head, sel*node, node]
        self.layers.append(nodes.view(batch, -1, n_sel, n_nodes, n_nodes).transpose(1, 2))
        if len(self.layers) == self.n_layers:
            raise StopForward
        return pattern

    def run(self, bridge, input_ids, attention_mask, query, key) -> torch.Tensor:
        """[batch, selection, layer, head, node, node] for one batch."""
        self.query, self.key, self.layers = query, key, []
        try:
            bridge.run_with_hooks(input_ids, attention_mask=attention_mask, fwd_hooks=pattern_hooks(self.n_layers, self.capture))
        except StopForward:
            pass
        if len(self.layers) != self.n_layers:
            raise RuntimeError(f"captured {len(self.layers)} of {self.n_layers} attention layers")
        return torch.stack(self.layers, dim=2)


class NpyRows:
    """A .npy file of a known shape whose rows are written in any order.

    Rows go out with pwrite, so written data sits in the page cache, not in this
    process: a memmap would keep every written page resident until the end.
    """

    def __init__(self, path: str, shape: tuple[int, ...], dtype):
        self.dtype = np.dtype(dtype)
        self.row_bytes = int(np.prod(shape[1:])) * self.dtype.itemsize
        with open(path, "wb") as fh:
            np.lib.format.write_array_header_1_0(
                fh, {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": shape})
            self.offset = fh.tell()
            fh.truncate(self.offset + self.row_bytes * shape[0])
        self.fd = os.open(path, os.O_WRONLY)

    def write(self, rows: list[int], values: np.ndarray) -> None:
        for row, value in zip(rows, values):
            os.pwrite(self.fd, np.ascontiguousarray(value, dtype=self.dtype).tobytes(), self.offset + row * self.row_bytes)

    def close(self) -> None:
        os.close(self.fd)


def scan(prompts: prompt_io.PromptFile, max_nodes: int) -> dict:
    """The per-prompt fields of the meta file, checking every graph fits in max_nodes."""
    meta = {"graph_id": [], "ordering": [], "n_nodes": []}
    for r in prompts:
        if r["n_nodes"] > max_nodes:
            raise ValueError(f"graph {r['graph_id']} has {r['n_nodes']} nodes, more than max_nodes={max_nodes}")
        for key in meta:
            meta[key].append(r[key])
    return meta


def check_memory(prompts: prompt_io.PromptFile, model_path: str, allow_download: bool, dtype: str,
                 batch_size: int, device: str, free_mb: int | None) -> None:
    """Refuse, before the weights load, a batch size whose batch would not fit (resources.check_batch_fits).
    Tokens are bounded by characters (every node name and connective is at least one character)
    plus room for special tokens: the tokenizer is not loaded yet."""
    folder = resolve_model_path(model_path, allow_download)
    if not os.path.isfile(os.path.join(folder, "config.json")):
        return  # a Hugging Face id fetched by the load itself: no shape to estimate from yet
    longest = max(len(r["text"]) for r in prompts) + 4
    free = resources.available_mb(device) if free_mb is None else free_mb
    resources.check_batch_fits(resources.shape_of_folder(folder), dtype, batch_size, longest, free)


def token_lengths(tokenizer, prompts: prompt_io.PromptFile, chunk: int = 256) -> list[int]:
    """Token count of each prompt, a chunk of prompts at a time, never all at once."""
    lengths = []
    for start in range(0, len(prompts), chunk):
        texts = [r["text"] for r in prompts.read(range(start, min(start + chunk, len(prompts))))]
        lengths += [len(ids) for ids in tokenizer(texts)["input_ids"]]
    return lengths


def batch_weights(offsets: np.ndarray, batch: list[dict], max_nodes: int, device: str):
    pairs = [node_weights(off, p["mentions"], max_nodes, f"{p['graph_id']}/{p['ordering']}")
             for off, p in zip(offsets, batch)]
    query = torch.from_numpy(np.stack([q for q, _ in pairs])).to(device)
    key = torch.from_numpy(np.stack([k for _, k in pairs])).to(device)
    return query, key


def node_batches(bridge, prompts: prompt_io.PromptFile, max_nodes: int, batch_size: int, device: str,
                 sink: str = "keep", progress: bool = True, edit=None):
    """(prompt indices, [batch, selection, layer, head, node, node]) for batches of similar length:
    the dump's forward passes on a loaded bridge (benchmarks/dump_attention.py times this loop).
    ``edit``: an intervention on the patterns (see NodeReducer)."""
    tokenizer = bridge.tokenizer
    reducer = NodeReducer(bridge.cfg.n_layers, sink, edit)
    batches = length_batches(token_lengths(tokenizer, prompts), batch_size)
    for idx in tqdm(batches, desc="dump_attention", unit="batch", disable=not progress):
        batch = prompts.read(idx)
        input_ids, mask, offsets = encode(tokenizer, [r["text"] for r in batch], device)
        query, key = batch_weights(offsets, batch, max_nodes, device)
        yield idx, reducer.run(bridge, input_ids, mask, query, key)


def dump_attention(prompts_path: str, out_path: str, meta_path: str, model_path: str, max_nodes: int,
                   batch_size: int, dtype: str = "float32", device: str = "cpu",
                   allow_download: bool = False, trust_remote_code: bool = False,
                   random_init: bool = False, init_seed: int = 0, sink: str = "keep",
                   free_mb: int | None = None) -> None:
    """``random_init``: dump a control, the model's architecture with random weights drawn with ``init_seed``.
    ``sink="drop"``: leave out the attention on the first (start) token, see drop_first_token.
    ``free_mb``: the memory the dump may use; by default what the machine (or GPU) has free."""
    prompts = prompt_io.PromptFile(prompts_path)
    per_prompt = scan(prompts, max_nodes)  # before the model loads: a bad file fails fast
    check_memory(prompts, model_path, allow_download, dtype, batch_size, device, free_mb)
    bridge = load_bridge(model_path, device, dtype, allow_download, trust_remote_code, random_init, init_seed)
    tokenizer = bridge.tokenizer
    n_layers, n_heads = bridge.cfg.n_layers, bridge.cfg.n_heads
    shape = (len(prompts), len(SELECTIONS), n_layers, n_heads, max_nodes, max_nodes)
    log.info("model %s: %d layers x %d heads; %d prompts -> %s", model_path, n_layers, n_heads, len(prompts), shape)

    if sink == "drop":  # the first token must be a special one (<bos>, [CLS]), not the text's first node
        first_ids = encode(tokenizer, [prompts.read([0])[0]["text"]], "cpu")[0][0].tolist()
        check_sink_token(tokenizer, first_ids, model_path, "sink: drop", "sink: keep")
    with atomic_path(out_path) as tmp, torch.inference_mode():
        out = NpyRows(tmp, shape, np.float16)
        try:
            for idx, nodes in node_batches(bridge, prompts, max_nodes, batch_size, device, sink):
                out.write(idx, nodes.to(torch.float16).cpu().numpy())
        finally:
            out.close()

    write_json(meta_path, {
        "model_path": model_path, "n_layers": n_layers, "n_heads": n_heads, "selections": list(SELECTIONS),
        "max_nodes": max_nodes, "n_prompts": len(prompts), "dtype": dtype,
        "random_init": random_init, "init_seed": init_seed if random_init else None, "sink": sink, **per_prompt,
    })

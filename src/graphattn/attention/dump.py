"""Dump every head's attention, reduced on the fly to node-by-node matrices.

Each batch's forward pass stops after the last layer's pattern (``hooks``); its token patterns
are reduced to node level on the device (``reduce``) and written row by row into a .npy file
(``storage``), so memory does not grow with the number of prompts.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from tqdm import tqdm

from .. import prompts as prompt_io
from ..alignment import SELECTIONS
from ..atomic import atomic_path, write_json
from ..behaviour.interventions import check_sink_token
from ..models import load_bridge
from .batches import encode, length_batches, token_lengths
from .memory import check_memory
from .reduce import NodeReducer, batch_weights
from .storage import NpyRows

log = logging.getLogger(__name__)


def scan(prompts: prompt_io.PromptFile, max_nodes: int) -> dict:
    """The per-prompt fields of the meta file, checking every graph fits in max_nodes."""
    meta = {"graph_id": [], "ordering": [], "n_nodes": []}
    for r in prompts:
        if r["n_nodes"] > max_nodes:
            raise ValueError(f"graph {r['graph_id']} has {r['n_nodes']} nodes, more than max_nodes={max_nodes}")
        for key in meta:
            meta[key].append(r[key])
    return meta


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

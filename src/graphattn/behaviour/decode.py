"""Greedy answers through the TransformerBridge, in batches of similar length, with hooks.

Prompts are left-padded, so every row's last real token ends the batch. The prompt pass fills a
key/value cache and each generated token then runs alone against it. TransformerBridge.generate
is not used: on TransformerLens 4.3 with transformers 5.24 its cache loses the prompt (the second
token's logits ignore it), because transformers now hands the cache to attention as ``cache``
while the bridge's attention reads ``past_key_values``; ``cache_kwarg_adapter`` passes it on
(tests/test_behaviour.py checks cached steps against a full recomputation). A hook sees the
prompt pass (one query row per prompt position) and then one query row per generated token.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable

import torch
from tqdm import tqdm

from ..attention import length_batches

# (attention mask of the padded prompts [batch, P]) -> the hooks to run the batch with; the
# prompt's queries are the positions 0..P-1.
Hooks = Callable[[torch.Tensor], list]
STOPS = (".", "\n")  # an answer ends at its full stop or line end


def token_ids(tokenizer, text: str) -> list[int]:
    """The tokens the model reads: as the dump encodes a prompt (the tokenizer's own special
    tokens, e.g. <bos>), unless the text already starts with them (a rendered chat template)."""
    bos = tokenizer.bos_token
    special = not (bos and text.startswith(bos))
    return tokenizer(text, add_special_tokens=special)["input_ids"]


def left_pad(rows: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, width - len(r):] = torch.tensor(r)
        mask[i, width - len(r):] = 1
    return ids, mask


def right_pad(rows: list, pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids, mask) with each row at the left: exact for a causal model's real tokens, which never
    see the pads after them, whatever its position encoding."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r)
        mask[i, :len(r)] = 1
    return ids, mask


def model_device(bridge) -> torch.device:
    """Where the bridge's weights are. TransformerBridge moves a string input there itself but
    not a tensor of token ids: every tensor built here goes there before its forward pass."""
    return next(bridge.parameters()).device


def pad_id(tokenizer) -> int:
    return next(c for c in (tokenizer.pad_token_id, tokenizer.eos_token_id, 0) if c is not None)


@contextmanager
def logits_at(bridge, positions: torch.Tensor):
    """Within it, the bridge's logits are those of ``positions`` only ([batch] or [batch, k]
    token positions; logits [batch, k, vocab], k = 1 for [batch]): the unembedding reads just
    those rows of the final residual stream. Exact, as nothing after the unembedding mixes
    positions; what it saves is the logits nobody reads, which with Gemma 3's 262,144-token
    vocabulary are 10 GB for 32 prompts of 300 tokens, and most of the forward pass's time."""
    index = positions[:, None] if positions.dim() == 1 else positions

    def pick(resid, hook):
        return resid[torch.arange(resid.shape[0], device=resid.device)[:, None], index.to(resid.device)]

    with bridge.hooks(fwd_hooks=[("unembed.hook_in", pick)]):
        yield


@contextmanager
def cache_kwarg_adapter(bridge):
    """While open, each attention bridge also gets the cache that transformers passes as ``cache``
    under the name it reads, ``past_key_values`` (a no-op where transformers already uses that name)."""
    def rename(module, args, kwargs):
        if kwargs.get("cache") is not None and kwargs.get("past_key_values") is None:
            kwargs["past_key_values"] = kwargs["cache"]
        return args, kwargs

    handles = [block.attn.register_forward_pre_hook(rename, with_kwargs=True) for block in bridge.blocks]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def ended(text: str) -> bool:
    """Whether an answer has reached its stop; a model may start it on a new line, so whitespace
    before the first word is skipped, as the answer parser skips it."""
    return any(s in text.lstrip() for s in STOPS)


def greedy_batch(bridge, ids: torch.Tensor, mask: torch.Tensor, max_new_tokens: int, hooks: list) -> list[str]:
    """Each row's greedy continuation, up to its first stop (or end-of-sequence token)."""
    from transformers import DynamicCache

    tokenizer = bridge.tokenizer
    eos = tokenizer.eos_token_id
    cache = DynamicCache()
    new = torch.empty((ids.shape[0], 0), dtype=torch.long, device=ids.device)
    done = torch.zeros(ids.shape[0], dtype=torch.bool)
    texts = [""] * ids.shape[0]
    with torch.inference_mode(), bridge.hooks(fwd_hooks=hooks), cache_kwarg_adapter(bridge):
        with logits_at(bridge, torch.full((ids.shape[0],), ids.shape[1] - 1)):  # left-padded: the last
            logits = bridge(ids, attention_mask=mask, return_type="logits", cache=cache, use_cache=True)
        for _ in range(max_new_tokens):
            token = logits[:, -1].argmax(-1, keepdim=True)
            new = torch.cat([new, token], 1)
            for row in range(len(texts)):
                if not done[row]:
                    texts[row] = tokenizer.decode(new[row], skip_special_tokens=True)
                    done[row] = int(token[row]) == eos or ended(texts[row])
            if done.all():
                break
            mask = torch.cat([mask, torch.ones_like(token)], 1)
            logits = bridge(token, attention_mask=mask, return_type="logits", cache=cache, use_cache=True)
    return texts


def greedy_answers(bridge, texts: list[str], batch_size: int, max_new_tokens: int, hooks: Hooks | None = None,
                   desc: str = "answers", progress: bool = True) -> list[str]:
    """The text each prompt's greedy continuation adds: at most ``max_new_tokens`` tokens, up to
    its first full stop, line end (after its first word) or end-of-sequence token."""
    tokenizer = bridge.tokenizer
    rows = [token_ids(tokenizer, t) for t in texts]
    out: list[str] = [""] * len(texts)
    for batch in tqdm(length_batches([len(r) for r in rows], batch_size), desc=desc, unit="batch",
                      disable=not progress):
        ids, mask = (t.to(model_device(bridge)) for t in left_pad([rows[i] for i in batch], pad_id(tokenizer)))
        for i, text in zip(batch, greedy_batch(bridge, ids, mask, max_new_tokens, hooks(mask) if hooks else [])):
            out[i] = text
    return out

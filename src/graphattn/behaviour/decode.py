"""Greedy answers through the TransformerBridge, in batches of similar length, with hooks.

Prompts are left-padded, so every row's last real token ends the batch. Each step runs the
whole sequence again, without a key/value cache: TransformerBridge.generate's cache loses the
context on this machine's TransformerLens 4 / transformers 5 (the second generated token's
logits ignore the prompt; tests/test_behaviour.py), and the answers are a few tokens long.
A hook is told how many positions are the prompt, so an intervention on the prompt pass only
(a cached prefill) is the same edit on the prompt's query rows.
"""

from __future__ import annotations

from typing import Callable

import torch
from tqdm import tqdm

from ..attention import length_batches

# (attention mask of the padded prompts [batch, P]) -> the hooks to run the batch with; query
# rows 0..P-1 of every pattern are the prompt's.
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


def pad_id(tokenizer) -> int:
    return next(c for c in (tokenizer.pad_token_id, tokenizer.eos_token_id, 0) if c is not None)


def greedy_batch(bridge, ids: torch.Tensor, mask: torch.Tensor, max_new_tokens: int, hooks: list) -> list[str]:
    """Each row's greedy continuation, up to its first stop (or end-of-sequence token)."""
    tokenizer = bridge.tokenizer
    eos = tokenizer.eos_token_id
    new = torch.empty((ids.shape[0], 0), dtype=torch.long)
    done = torch.zeros(ids.shape[0], dtype=torch.bool)
    texts = [""] * ids.shape[0]
    with torch.inference_mode(), bridge.hooks(fwd_hooks=hooks):
        for _ in range(max_new_tokens):
            seq, seq_mask = torch.cat([ids, new], 1), torch.cat([mask, torch.ones_like(new)], 1)
            logits = bridge(seq, attention_mask=seq_mask, return_type="logits")
            new = torch.cat([new, logits[:, -1].argmax(-1, keepdim=True)], 1)
            for row in range(len(texts)):
                if not done[row]:
                    texts[row] = tokenizer.decode(new[row], skip_special_tokens=True)
                    done[row] = int(new[row, -1]) == eos or any(s in texts[row] for s in STOPS)
            if done.all():
                break
    return texts


def greedy_answers(bridge, texts: list[str], batch_size: int, max_new_tokens: int, hooks: Hooks | None = None,
                   desc: str = "answers", progress: bool = True) -> list[str]:
    """The text each prompt's greedy continuation adds: at most ``max_new_tokens`` tokens, up to
    its first full stop, line end or end-of-sequence token."""
    tokenizer = bridge.tokenizer
    rows = [token_ids(tokenizer, t) for t in texts]
    out: list[str] = [""] * len(texts)
    for batch in tqdm(length_batches([len(r) for r in rows], batch_size), desc=desc, unit="batch",
                      disable=not progress):
        ids, mask = left_pad([rows[i] for i in batch], pad_id(tokenizer))
        for i, text in zip(batch, greedy_batch(bridge, ids, mask, max_new_tokens, hooks(mask) if hooks else [])):
            out[i] = text
    return out

"""Prompts to token batches: grouped by similar length, right-padded, with character offsets."""

from __future__ import annotations

from .. import prompts as prompt_io


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


def token_lengths(tokenizer, prompts: prompt_io.PromptFile, chunk: int = 256) -> list[int]:
    """Token count of each prompt, a chunk of prompts at a time, never all at once."""
    lengths = []
    for start in range(0, len(prompts), chunk):
        texts = [r["text"] for r in prompts.read(range(start, min(start + chunk, len(prompts))))]
        lengths += [len(ids) for ids in tokenizer(texts)["input_ids"]]
    return lengths

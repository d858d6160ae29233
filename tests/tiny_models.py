"""Tiny random-weight causal models of the seed's architectures, built and saved locally.

Nothing is downloaded: the config comes from transformers, the tokenizer is a
byte-level BPE without merges built here (the pre-tokenization of Llama 3 and Qwen 2;
every multi-letter node name is several tokens).
"""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import (Gemma2Config, Gemma2ForCausalLM, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast,
                          Qwen2Config, Qwen2ForCausalLM)

SPECIAL = ["<pad>", "<bos>", "<eos>", "<unk>"]
COMMON = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=2, max_position_embeddings=512, pad_token_id=0, bos_token_id=1, eos_token_id=2)
ARCHITECTURES = {
    "llama": (LlamaConfig, LlamaForCausalLM, {}),
    "qwen2": (Qwen2Config, Qwen2ForCausalLM, {}),
    "gemma2": (Gemma2Config, Gemma2ForCausalLM, {"head_dim": 16, "query_pre_attn_scalar": 16, "sliding_window": 256}),
}


def byte_tokenizer(letter_merges: bool = False) -> PreTrainedTokenizerFast:
    """With ``letter_merges``, a space and a capital letter merge into one token (" A"), as in
    the real BPE tokenizers, so that single-letter answers differ in their first token."""
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    merged = [("Ġ", chr(c)) for c in range(ord("A"), ord("Z") + 1)] if letter_merges else []
    vocab = {tok: i for i, tok in enumerate(SPECIAL + sorted(alphabet) + [a + b for a, b in merged])}
    tok = Tokenizer(models.BPE(vocab, merges=merged, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", bos_token="<bos>",
                                   eos_token="<eos>", unk_token="<unk>")


def build(arch: str, folder: Path, seed: int = 0, letter_merges: bool = False) -> Path:
    config_cls, model_cls, extra = ARCHITECTURES[arch]
    torch.manual_seed(seed)
    tokenizer = byte_tokenizer(letter_merges)
    config = config_cls(vocab_size=len(tokenizer), **COMMON, **extra)
    model = model_cls(config)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder

"""The toy's word-level tokenizer: one token per node name, connective and punctuation mark."""

from __future__ import annotations

from .. import naming

SPECIAL = {"pad_token": "<pad>", "bos_token": "<bos>", "eos_token": "<eos>", "unk_token": "<unk>"}
WORDS = ["->", "to", ",", ".", ":", "Parents", "of", "Children", "none"]


def build_tokenizer(scheme: str):
    """Word level: every node name, connective and punctuation mark is one token, with offsets.
    Encoding with special tokens prepends <bos>, as in training, so the dump sees what training saw."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {tok: i for i, tok in enumerate(list(SPECIAL.values()) + WORDS + naming.pool(scheme))}
    tok = Tokenizer(models.WordLevel(vocab, unk_token=SPECIAL["unk_token"]))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.WhitespaceSplit(),
        pre_tokenizers.Split(Regex(r"->|[,.:]"), behavior="isolated"),
    ])
    tok.post_processor = processors.TemplateProcessing(
        single=f"{SPECIAL['bos_token']} $A", special_tokens=[(SPECIAL["bos_token"], vocab[SPECIAL["bos_token"]])])
    return PreTrainedTokenizerFast(tokenizer_object=tok, **SPECIAL)

"""The dump's memory check, before the weights load."""

from __future__ import annotations

import os

from .. import prompts as prompt_io
from .. import resources
from ..models import resolve_model_path

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

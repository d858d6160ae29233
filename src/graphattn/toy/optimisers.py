"""The toy's optimisers."""

from __future__ import annotations

import torch

from .muon import Muon

def build_optimisers(model, name: str, lr: float) -> list[torch.optim.Optimizer]:
    """``muon``: Muon (orthogonalised momentum) for the blocks' weight matrices and AdamW for the
    rest (embeddings, output layer, norms), as Muon is meant to be used; ``adamw``: AdamW for all.

    With Muon the parent lookup forms abruptly, near step 1,000 at batch 64 or 128 (default run:
    validation 0.73 at step 800, 0.92 at 1,000); with AdamW it had not after 3,000 steps of
    batch 128 (held-out 0.92).
    Muon's updates are scaled to AdamW's size (``match_rms_adamw``), so one ``lr`` serves both;
    graphattn.toy.muon keeps its orthogonalisation in float32 (torch's bfloat16 one was a third of a
    training step on an AVX2 CPU).
    """
    decay = 0.01
    if name == "adamw":
        return [torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=decay)]
    if name != "muon":
        raise ValueError(f"toy optimizer {name!r}: accepted: muon, adamw")
    matrices = [p for key, p in model.named_parameters() if key.startswith("model.layers.") and p.ndim == 2]
    in_muon = {id(p) for p in matrices}
    rest = [p for p in model.parameters() if id(p) not in in_muon]
    return [Muon(matrices, lr=lr, weight_decay=decay),
            torch.optim.AdamW(rest, lr=lr, weight_decay=decay)]

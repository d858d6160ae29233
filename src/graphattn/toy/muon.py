"""Muon (orthogonalised momentum) with its Newton-Schulz iteration in float32.

``torch.optim.Muon`` orthogonalises each update in bfloat16, as suits a GPU. On a CPU without
native bfloat16 instructions (AVX2 only) its matmuls run about 17x slower than in float32: for
the toy model's 21 small matrices that was a third of a training step. This is the same
algorithm and the same defaults (Nesterov momentum 0.95, the quintic coefficients, 5 steps,
decoupled weight decay, the ``match_rms_adamw`` learning-rate scale) with the iteration kept in
the parameters' dtype; tests/test_muon.py compares two steps with ``torch.optim.Muon``'s.
"""

from __future__ import annotations

import math

import torch

COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def orthogonalise(update: torch.Tensor, steps: int = 5, eps: float = 1e-7,
                  coefficients: tuple[float, float, float] = COEFFICIENTS) -> torch.Tensor:
    """The quintic Newton-Schulz iteration towards U V^T (where U S V^T = update), in update's dtype.
    Like torch's, it does not converge to 1 on purpose: singular values end between 0.5 and 1.5."""
    a, b, c = coefficients
    tall = update.size(0) > update.size(1)
    x = update.T if tall else update
    x = x / x.norm().clamp(min=eps)  # spectral norm at most 1
    for _ in range(steps):
        gram = x @ x.T
        x = torch.addmm(x, torch.addmm(gram, gram, gram, beta=b, alpha=c), x, beta=a)
    return x.T if tall else x


def rms_matched_lr(lr: float, shape: torch.Size) -> float:
    """``adjust_lr_fn="match_rms_adamw"``: scales the orthogonal update to AdamW's typical size."""
    return lr * 0.2 * math.sqrt(max(shape[0], shape[1]))


class Muon(torch.optim.Optimizer):
    """For 2-D weight matrices only (embeddings, the output layer and norms belong to AdamW)."""

    def __init__(self, params, lr: float = 1e-3, weight_decay: float = 0.1, momentum: float = 0.95,
                 nesterov: bool = True, ns_steps: int = 5, eps: float = 1e-7):
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                                      ns_steps=ns_steps, eps=eps))
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon takes 2-D weight matrices; got a parameter of shape {tuple(p.shape)}")

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, momentum = group["lr"], group["momentum"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = torch.zeros_like(p.grad)
                buf = state["momentum_buffer"]
                buf.lerp_(p.grad, 1 - momentum)
                update = p.grad.lerp(buf, momentum) if group["nesterov"] else buf
                update = orthogonalise(update, group["ns_steps"], group["eps"])
                p.mul_(1 - lr * group["weight_decay"])
                p.add_(update, alpha=-rms_matched_lr(lr, p.shape))
        return loss

"""Low-rank adapters (LoRA, Hu et al. 2022): fine-tune a frozen linear layer through a small update B A.

`LoRALinear` wraps an `nn.Linear`: y = W x + b + (alpha / r) B A x, with W and b frozen, A (r, in) random and
B (out, r) zero, so at initialisation the wrapped layer computes exactly what it did before.
`add_lora` swaps it into every linear layer of a model whose name matches, and freezes everything else;
`unfreeze` lets chosen parameters train again; `fine_tune_at_best_rate` compares ways of fine-tuning fairly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import torch
from torch import nn

from . import gpt
from .utils import seed_everything


class LoRALinear(nn.Module):
    """A frozen nn.Linear plus a trainable rank-r update: x (..., in) -> (..., out)."""

    def __init__(self, base: nn.Linear, r: int = 4, alpha: float = 8.0):
        super().__init__()
        self.base = base
        for p in base.parameters():
            p.requires_grad_(False)
        self.r, self.scale = r, alpha / r
        self.A = nn.Parameter(torch.randn(r, base.in_features) / math.sqrt(base.in_features))
        self.B = nn.Parameter(torch.zeros(base.out_features, r))     # zero: the update starts at nothing

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return base(x) + (alpha / r) x A^T B^T, shape (..., out)."""
        return self.base(x) + self.scale * (x @ self.A.T @ self.B.T)


def add_lora(model: nn.Module, r: int = 4, alpha: float = 8.0, names: tuple[str, ...] = ("qkv", "proj")) -> nn.Module:
    """Freeze `model` and wrap each nn.Linear whose attribute name is in `names` with LoRA; return the model."""
    for p in model.parameters():
        p.requires_grad_(False)
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, nn.Linear) and name in names:
                setattr(module, name, LoRALinear(child, r, alpha))
    return model


def unfreeze(model: nn.Module, names: tuple[str, ...] = ("norm", "head.bias")) -> nn.Module:
    """Let every parameter whose name contains one of `names` train again (default: the LayerNorms and the output
    bias, a few hundred numbers that rescale features and shift character frequencies); return the model."""
    for name, p in model.named_parameters():
        if any(part in name for part in names):
            p.requires_grad_(True)
    return model


def fine_tune_at_best_rate(make: Callable[[], nn.Module], ids: torch.Tensor, val_ids: torch.Tensor,
                           config: gpt.TrainConfig, rates: tuple[float, ...]) -> tuple[nn.Module, float, dict[float, float]]:
    """Fine-tune a fresh `make()` on `ids` at each rate (the rest of `config` alike, seeded alike) and return the model
    with the lowest validation bits per token on `val_ids`, its rate, and the validation bits at every rate."""
    tried = {}
    for rate in rates:
        seed_everything(config.seed)
        model = make()
        gpt.train_gpt(model, ids, replace(config, lr=rate), progress=False, eval_every=config.steps)
        tried[rate] = (gpt.bits_per_token(model, val_ids, length=config.length), model)
    best = min(tried, key=lambda rate: tried[rate][0])
    return tried[best][1], best, {rate: bits for rate, (bits, _) in tried.items()}


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """Return (trainable, total) parameter counts of `model`."""
    params = list(model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)

"""Synthetic data and privacy, measured: TSTR vs TRTR, and a nearest-neighbour memorisation check.

Two questions a data owner asks before sharing a generator's digits instead of the real ones:

  utility       Train on Synthetic, Test on Real (TSTR; Esteban et al., 2017): does a classifier
                trained only on generated digits recognise real held-out digits? Its reference is
                Train on Real, Test on Real (TRTR).
  memorisation  Are the generated digits copies of training digits? For each sample we measure the
                distance to its nearest training digit and to its nearest held-out digit (the
                "distance to closest record"). A generator that copies its training set puts its
                samples much closer to training digits than to held-out digits drawn from the same
                distribution; one that does not copy puts them equally close to both.

Neither check is a privacy guarantee: see the chapter 08 text (no differential privacy, no
membership-inference attack, no bound on what a stronger attacker could recover).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


class DigitMLP(nn.Module):
    """A small classifier: (N, 1, 28, 28) in [0, 1] -> 10 logits (784-256-10, ReLU)."""

    def __init__(self, hidden: int = 256):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def train_classifier(x: torch.Tensor, y: torch.Tensor, steps: int = 600, batch_size: int = 64,
                     lr: float = 1e-3, seed: int = 0) -> DigitMLP:
    """Train a DigitMLP on images x (N, 1, 28, 28) in [0, 1] with labels y (N,); return it in eval mode."""
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = DigitMLP()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        idx = torch.randint(len(x), (batch_size,), generator=g)
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


@torch.no_grad()
def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Return the share of x (N, 1, 28, 28) whose predicted class equals y (N,), in [0, 1]."""
    return (model(x).argmax(1) == y).float().mean().item()


@dataclass
class TSTRResult:
    tstr: float   # accuracy on real held-out digits of a classifier trained on synthetic digits
    trtr: float   # accuracy on the same digits of a classifier trained on real training digits

    @property
    def ratio(self) -> float:
        """TSTR / TRTR: 1 means the synthetic digits are as useful as the real ones for this task."""
        return self.tstr / self.trtr

    def __str__(self) -> str:
        return f"TSTR {self.tstr:.1%} | TRTR {self.trtr:.1%} | ratio {self.ratio:.2f}"


def tstr_trtr(synthetic: tuple[torch.Tensor, torch.Tensor], real_train: tuple[torch.Tensor, torch.Tensor],
              real_test: tuple[torch.Tensor, torch.Tensor], steps: int = 600, seed: int = 0) -> TSTRResult:
    """Train one classifier on synthetic and one on real (same recipe); test both on real held-out digits."""
    on_synthetic = train_classifier(*synthetic, steps=steps, seed=seed)
    on_real = train_classifier(*real_train, steps=steps, seed=seed)
    return TSTRResult(accuracy(on_synthetic, *real_test), accuracy(on_real, *real_test))


@torch.no_grad()
def nearest_distances(queries: torch.Tensor, reference: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """Return each query's Euclidean pixel distance to its nearest reference image, (N,); inputs (N|M, 1, 28, 28)."""
    ref = reference.flatten(1).double()
    out = []
    for i in range(0, len(queries), batch_size):
        q = queries[i:i + batch_size].flatten(1).double()
        out.append(torch.cdist(q, ref).min(dim=1).values)
    return torch.cat(out).float()


@dataclass
class MemorisationReport:
    to_train: torch.Tensor           # (N,) each sample's distance to its nearest training digit (all of them)
    held_out_to_train: torch.Tensor  # (M,) each held-out digit's distance to its nearest training digit
    closer_to_train: float           # share of samples nearer to a same-size training subset than to the held-out set
    threshold: float                 # the 1st percentile of held_out_to_train: "as close as a near-duplicate"

    @property
    def near_copies(self) -> float:
        """Share of samples closer to a training digit than 99% of held-out digits are (about 1% for real digits)."""
        return (self.to_train < self.threshold).float().mean().item()

    def __str__(self) -> str:
        return (f"median distance to the nearest training digit: samples {self.to_train.median():.2f}, held-out "
                f"digits {self.held_out_to_train.median():.2f} | samples nearer a same-size training subset than the "
                f"held-out digits: {self.closer_to_train:.1%} | near copies: {self.near_copies:.1%}")


def memorisation_check(samples: torch.Tensor, train: torch.Tensor, held_out: torch.Tensor,
                       seed: int = 0, train_labels: torch.Tensor | None = None,
                       held_out_labels: torch.Tensor | None = None) -> MemorisationReport:
    """Measure how close samples (N, 1, 28, 28) sit to the training digits, against held-out digits as reference.

    Two measures: nearest-training-digit distances of the samples and of the held-out digits; and the
    share of samples closer to a training subset than to the held-out set. The subset has as many digits
    as the held-out set and, given both label tensors, the same number of each class (a seeded draw), so
    neither side is nearer only because it holds more digits of a class. A generator that does not copy
    scores about 50% on the second measure; one that copies scores more.
    """
    g = torch.Generator().manual_seed(seed)
    if train_labels is not None and held_out_labels is not None:
        counts = torch.bincount(held_out_labels, minlength=int(train_labels.max()) + 1)
        pools = [torch.nonzero(train_labels == k).flatten() for k in range(len(counts))]
        subset = train[torch.cat([pool[torch.randperm(len(pool), generator=g)[:int(c)]]
                                  for pool, c in zip(pools, counts, strict=True)])]
    else:
        subset = train[torch.randperm(len(train), generator=g)[:len(held_out)]]
    closer = nearest_distances(samples, subset) < nearest_distances(samples, held_out)
    held_out_to_train = nearest_distances(held_out, train)
    return MemorisationReport(nearest_distances(samples, train), held_out_to_train, closer.float().mean().item(),
                              torch.quantile(held_out_to_train, 0.01).item())


def copying_generator(train: torch.Tensor, n: int, noise: float = 0.05, seed: int = 0) -> torch.Tensor:
    """Return n 'samples' that are training digits plus a little noise: the positive control, (n, 1, 28, 28) in [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(len(train), (n,), generator=g)
    return (train[idx] + noise * torch.randn(train[idx].shape, generator=g)).clamp(0, 1)

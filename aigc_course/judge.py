"""The judge: a small digit classifier used to evaluate generated digits.

It is trained once, on the 4,000 training digits only, and cached in the course's
cache folder; ``load_judge()`` retrains when the cache is missing or unreadable.
Its 128-d penultimate features give the Frechet distance in ``metrics``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from aigc_course.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from aigc_course.data import cache_dir, load_digits


@dataclass
class JudgeConfig:
    channels: int = 32
    features: int = 128
    steps: int = 600
    batch_size: int = 64
    lr: float = 2e-3
    seed: int = 0


class Judge(nn.Module):
    """CNN: (N, 1, 28, 28) in [0, 1] -> 10 logits; ``features`` gives the (N, 128) penultimate layer."""

    def __init__(self, config: JudgeConfig):
        super().__init__()
        self.config = config
        c = config.channels
        self.body = nn.Sequential(
            nn.Conv2d(1, c, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),          # 14x14
            nn.Conv2d(c, 2 * c, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),      # 7x7
            nn.Flatten(), nn.Linear(2 * c * 49, config.features), nn.ReLU(),
        )
        self.head = nn.Linear(config.features, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Return penultimate features, (N, features)."""
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def train_judge(config: JudgeConfig | None = None, progress: bool = True) -> Judge:
    """Train a judge on the training split (small random shifts as augmentation); return it in eval mode."""
    from tqdm.auto import tqdm

    config = config or JudgeConfig()
    g = torch.Generator().manual_seed(config.seed)
    torch.manual_seed(config.seed)
    x, y = load_digits("train")
    judge = Judge(config)
    opt = torch.optim.Adam(judge.parameters(), lr=config.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=config.steps)
    for _ in tqdm(range(config.steps), desc="training the judge", disable=not progress, leave=True):
        idx = torch.randint(len(x), (config.batch_size,), generator=g)
        dx, dy = torch.randint(-2, 3, (2,), generator=g).tolist()
        batch = torch.roll(x[idx], shifts=(dy, dx), dims=(2, 3))
        loss = F.cross_entropy(judge(batch), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return judge.eval()


def load_judge(progress: bool = True) -> Judge:
    """Return the cached judge, training (about 20 s on 2 CPU cores) and caching it first if needed."""
    path = cache_dir() / "judge-v1.pt"
    try:
        judge = load_checkpoint(path)
        if isinstance(judge, Judge) and judge.config == JudgeConfig():
            return judge
    except CheckpointError:
        pass
    with torch.enable_grad():   # callers such as metrics.judge_report run under no_grad
        judge = train_judge(progress=progress)
    try:
        save_checkpoint(path, judge)
    except OSError:
        pass
    return judge


@torch.no_grad()
def judge_agrees(judge: nn.Module, x: torch.Tensor, y: torch.Tensor | int) -> int:
    """Return how many digits of `x` (N, 1, 28, 28) the judge reads as `y` (one class for all, or (N,) labels)."""
    return int((judge(x).argmax(1) == torch.as_tensor(y, device=x.device)).sum())


def judge_accuracy(judge: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Return the share of `x` whose predicted class equals `y`."""
    return judge_agrees(judge, x, y) / len(x)

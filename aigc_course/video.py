"""Video generation on a small scale: clips of moving real digits, and a model that continues them.

`moving_digits` builds clips the way Moving MNIST does (Srivastava et al., 2015), from the
course's real digits: each digit starts at a random place with a random velocity and bounces
off the walls. `NextFrame` predicts frame t+1 from the `context` frames before it; run
autoregressively, it generates the rest of a clip from its first frames. Three baselines predict
without learning: copy the last frame, a blank frame, and the mean training frame (the strongest of
the three under the squared error when the digit's place is uncertain).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


def moving_digits(digits: torch.Tensor, n_clips: int, frames: int = 12, size: int = 36,
                  seed: int = 0) -> torch.Tensor:
    """Return clips (n_clips, frames, 1, size, size) in [0, 1] of one real digit bouncing in a box.

    digits: (N, 1, d, d) in [0, 1], the pool the clips draw from (use the test split for test clips);
    d is 28 for the course's digits, 14 for digits shrunk with `shrink_digits`.
    """
    d = digits.shape[-1]
    if size < d:
        raise ValueError(f"size must be at least {d} (a digit is {d} x {d}), got {size}")
    g = torch.Generator().manual_seed(seed)
    span = size - d
    which = torch.randint(len(digits), (n_clips,), generator=g)
    pos = torch.rand(n_clips, 2, generator=g) * span
    speed = 1.5 + 1.5 * torch.rand(n_clips, generator=g)  # 1.5 to 3 pixels per frame
    angle = 2 * torch.pi * torch.rand(n_clips, generator=g)
    vel = torch.stack([speed * angle.cos(), speed * angle.sin()], dim=1)
    clips = torch.zeros(n_clips, frames, 1, size, size)
    for t in range(frames):
        for i in range(n_clips):
            r, c = pos[i].round().long().tolist()
            clips[i, t, :, r:r + d, c:c + d] = digits[which[i]]
        pos = pos + vel
        low, high = pos < 0, pos > span  # bounce: reflect the position and flip the velocity
        pos = torch.where(low, -pos, torch.where(high, 2 * span - pos, pos))
        vel = torch.where(low | high, -vel, vel)
    return clips


def shrink_digits(digits: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """Return digits (N, 1, 28, 28) shrunk by `factor` (average pooling): (N, 1, 28 // factor, 28 // factor) in [0, 1]."""
    return F.avg_pool2d(digits, factor)


@dataclass
class NextFrameConfig:
    context: int = 3     # frames the model sees
    channels: int = 16
    size: int = 36


class NextFrame(nn.Module):
    """Conv encoder-decoder: (N, context, size, size) frames in [0, 1] -> logits of the next frame (N, 1, size, size)."""

    def __init__(self, config: NextFrameConfig):
        super().__init__()
        self.config = config
        c = config.channels
        self.body = nn.Sequential(
            nn.Conv2d(config.context, c, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c, 2 * c, 4, stride=2, padding=1), nn.ReLU(),                 # size / 2
            nn.Conv2d(2 * c, 2 * c, 3, padding=2, dilation=2), nn.ReLU(),            # a wide view: motion
            nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1), nn.ReLU(),         # back to full size
        )
        # The head sees the input frames again at full resolution (a skip connection), for sharp edges.
        self.head = nn.Sequential(nn.Conv2d(c + config.context, c, 3, padding=1), nn.ReLU(), nn.Conv2d(c, 1, 3, padding=1))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat([self.body(frames), frames], dim=1))

    @torch.no_grad()
    def rollout(self, first: torch.Tensor, steps: int) -> torch.Tensor:
        """Continue clips: first (N, context, 1, H, W) in [0, 1] -> (N, steps, 1, H, W) predicted frames."""
        frames = first[:, :, 0]
        out = []
        for _ in range(steps):
            nxt = torch.sigmoid(self(frames[:, -self.config.context:]))
            out.append(nxt)
            frames = torch.cat([frames, nxt], dim=1)
        return torch.stack(out, dim=1)


def train_next_frame(clips: torch.Tensor, config: NextFrameConfig | None = None, steps: int = 1500,
                     batch_size: int = 32, lr: float = 2e-3, seed: int = 0, progress: bool = True):
    """Train NextFrame on random windows of `clips` (N, T, 1, H, W); return (model, per-step losses)."""
    from tqdm.auto import tqdm

    config = config or NextFrameConfig(size=clips.shape[-1])
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = NextFrame(config)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    n, t = clips.shape[:2]
    k = config.context
    losses = []
    for _ in tqdm(range(steps), desc="next-frame model", disable=not progress, leave=True):
        i = torch.randint(n, (batch_size,), generator=g)
        s = torch.randint(t - k, (batch_size,), generator=g)
        window = torch.stack([clips[a, b:b + k + 1, 0] for a, b in zip(i.tolist(), s.tolist(), strict=True)])
        loss = F.binary_cross_entropy_with_logits(model(window[:, :k]), window[:, k:])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model.eval(), losses


def per_frame_mse(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Return the mean squared error per future frame, shape (T,), for clips (N, T, 1, H, W)."""
    return (predicted - target).pow(2).mean(dim=(0, 2, 3, 4))


def copy_last_frame(first: torch.Tensor, steps: int) -> torch.Tensor:
    """The baseline: repeat the last given frame. first (N, k, 1, H, W) -> (N, steps, 1, H, W)."""
    return first[:, -1:].expand(-1, steps, -1, -1, -1).clone()


def blank_frames(first: torch.Tensor, steps: int) -> torch.Tensor:
    """A baseline: predict empty frames (all paper). first (N, k, 1, H, W) -> zeros (N, steps, 1, H, W)."""
    return first.new_zeros(first.shape[0], steps, *first.shape[2:])


def mean_frames(train_clips: torch.Tensor, first: torch.Tensor, steps: int) -> torch.Tensor:
    """A baseline: predict the mean of every training frame, (1, H, W), for each future frame: (N, steps, 1, H, W).

    Under the mean squared error it is a strong guess when the digit's place is uncertain: a faint blob where
    digits usually are, rather than a sharp digit in a possibly wrong place.
    """
    mean = train_clips.mean(dim=(0, 1))
    return mean.expand(first.shape[0], steps, *mean.shape).clone()

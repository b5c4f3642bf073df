"""Diffusion and flow matching for chapter 11: noise a digit into Gaussian noise, learn to undo it, sample.

Two ways of going from data x_0 to noise eps ~ N(0, I) and back, one model class for both:

  DDPM (Ho et al., 2020)       a Markov chain of T = 1000 small Gaussian steps, x_t = sqrt(1 - beta_t) x_{t-1}
                               + sqrt(beta_t) z, whose marginal is closed-form:
                               x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps,  abar_t = prod_{s<=t} (1 - beta_s).
                               The network predicts eps; samplers: ancestral (stochastic) and DDIM (deterministic).
  flow matching / rectified    the straight line x_t = (1 - t) x_0 + t eps, t in [0, 1]; the network predicts the
  flow (Lipman et al., 2023;   velocity v = eps - x_0, and sampling integrates dx/dt = v from t = 1 (noise) to
  Liu et al., 2023)            t = 0 (data) with Euler or Heun steps.

Conditioning: a class label (digit), dropped to a "no label" token with probability ``label_dropout`` while
training, so one network predicts both conditionally and unconditionally; classifier-free guidance (Ho &
Salimans, 2022) mixes the two at sampling time, out = uncond + w (cond - uncond) (w = 1: plain conditional).

Digits are modelled in [-1, 1] after ``pixel_unshuffle``: each 2x2 block of pixels becomes 4 channels, so the
small UNet works on 4 x 14 x 14 (a quarter of the positions, four times cheaper on a CPU than 28 x 28).
Vectors (the 2-D toy ring, a VAE's latent codes: latent diffusion, Rombach et al., 2022) use an MLP instead.
"""

from __future__ import annotations

import copy
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from aigc_course import engine
from aigc_course.judge import judge_agrees
from aigc_course.plots import picture_widget

# --------------------------------------------------------------------------- the forward process


def ddpm_schedule(timesteps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> torch.Tensor:
    """Return Ho et al.'s linear schedule beta_1..beta_T, shape (T,), float64."""
    return torch.linspace(beta_start, beta_end, timesteps, dtype=torch.float64)


def alpha_bar(betas: torch.Tensor) -> torch.Tensor:
    """Return abar_t = prod_{s<=t} (1 - beta_s), shape (T,): the share of x_0's variance left at step t."""
    return torch.cumprod(1 - betas, dim=0)


def q_sample(x0: torch.Tensor, abar_t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """Return x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps, the closed-form marginal q(x_t | x_0); abar_t is (N,)."""
    a = abar_t.to(x0.dtype).reshape(-1, *[1] * (x0.dim() - 1))
    return a.sqrt() * x0 + (1 - a).sqrt() * eps


def forward_chain(x0: torch.Tensor, betas: torch.Tensor, steps: int, generator: torch.Generator | None = None,
                  ) -> torch.Tensor:
    """Return x_steps by running the Markov chain x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) z one step at a time."""
    x = x0.clone()
    for t in range(steps):
        b = float(betas[t])
        x = math.sqrt(1 - b) * x + math.sqrt(b) * torch.randn(x.shape, generator=generator, dtype=x.dtype)
    return x


def flow_path(x0: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (x_t, velocity): x_t = (1 - t) x_0 + t eps on the straight line, and d x_t / dt = eps - x_0."""
    tt = t.to(x0.dtype).reshape(-1, *[1] * (x0.dim() - 1))
    return (1 - tt) * x0 + tt * eps, eps - x0


# --------------------------------------------------------------------------- closed form for Gaussian data


def gaussian_optimal_noise(x: torch.Tensor, abar: float, mean: torch.Tensor, cov: torch.Tensor) -> torch.Tensor:
    """Return E[eps | x_t = x] for data x_0 ~ N(mean, cov) (rows of x are (d,) points): linear in x.

    x_t = sqrt(a) x_0 + sqrt(1 - a) eps is jointly Gaussian with eps, so
    E[eps | x_t] = sqrt(1 - a) (a cov + (1 - a) I)^(-1) (x_t - sqrt(a) mean).
    """
    d = len(mean)
    s = abar * cov + (1 - abar) * torch.eye(d, dtype=cov.dtype)
    return math.sqrt(1 - abar) * torch.linalg.solve(s, (x - math.sqrt(abar) * mean).T).T


def gaussian_optimal_velocity(x: torch.Tensor, t: float, mean: torch.Tensor, cov: torch.Tensor) -> torch.Tensor:
    """Return E[eps - x_0 | x_t = x] for data x_0 ~ N(mean, cov) on the straight path: linear in x.

    With S = (1 - t)^2 cov + t^2 I and r = x - (1 - t) mean:
    E[eps | x_t] = t S^(-1) r and E[x_0 | x_t] = mean + (1 - t) cov S^(-1) r.
    """
    d = len(mean)
    s = (1 - t) ** 2 * cov + t ** 2 * torch.eye(d, dtype=cov.dtype)
    w = torch.linalg.solve(s, (x - (1 - t) * mean).T)            # S^(-1) r, (d, N)
    return (t * w - mean[:, None] - (1 - t) * cov @ w).T


def elbo_weights(betas: torch.Tensor) -> torch.Tensor:
    """Return the weight of each step's noise error in the DDPM ELBO, (T,): beta_t / (2 alpha_t (1 - abar_t)).

    With the reverse variance sigma_t^2 = beta_t, the ELBO's term L_{t-1} equals
    beta_t^2 / (2 sigma_t^2 alpha_t (1 - abar_t)) |eps - eps_hat|^2; Ho et al.'s simple loss sets every weight to 1.
    """
    ab = alpha_bar(betas)
    return betas / (2 * (1 - betas) * (1 - ab))


# --------------------------------------------------------------------------- networks


@dataclass
class DiffusionConfig:
    """What is modelled and how: the objective, the network, the labels and the DDPM schedule."""
    objective: str = "flow"      # "flow" (predict the velocity eps - x0) or "ddpm" (predict the noise eps)
    arch: str = "unet"           # "unet": 28x28 digits as 4x14x14; "mlp": vectors of size `dim`
    dim: int = 2                 # mlp: size of a data vector
    channels: int = 32           # unet: base channels (the 7x7 level has twice as many); mlp: hidden width
    depth: int = 3               # mlp: hidden-to-hidden layers (depth + 1 hidden layers in all)
    num_classes: int = 10        # > 0: class-conditional (label `num_classes` means "no label")
    label_dropout: float = 0.1   # share of training examples whose label is dropped (classifier-free guidance)
    timesteps: int = 1000        # ddpm: the chain's length T
    clip: float = 1.0            # ddpm samplers clip the predicted x0 to [-clip, clip] (0: no clipping)


def time_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Return sinusoidal features of times t in [0, 1], (N,) -> (N, dim) (dim even)."""
    half = dim // 2
    freqs = torch.exp(-math.log(1000.0) * torch.arange(half, device=t.device) / half)
    angles = 1000.0 * t.float()[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


class Embedding(nn.Module):
    """Time and label -> one vector (N, out): an MLP of the sinusoidal time features plus a learnt label vector."""

    def __init__(self, features: int, out: int, num_classes: int):
        super().__init__()
        self.features = features
        self.time = nn.Sequential(nn.Linear(features, out), nn.SiLU(), nn.Linear(out, out))
        self.label = nn.Embedding(num_classes + 1, out) if num_classes else None   # +1: the "no label" token

    def forward(self, t: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        e = self.time(time_embedding(t, self.features))
        return e if self.label is None or y is None else e + self.label(y)


class ResBlock(nn.Module):
    """GroupNorm-SiLU-conv twice, the embedding added in between, and a skip connection."""

    def __init__(self, cin: int, cout: int, emb: int):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(8, cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb, cout)
        self.norm2, self.conv2 = nn.GroupNorm(8, cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, h: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        out = self.conv1(F.silu(self.norm1(h))) + self.emb(e)[:, :, None, None]
        return self.conv2(F.silu(self.norm2(out))) + self.skip(h)


class UNet(nn.Module):
    """Two-level UNet on (N, 4, 14, 14): 14x14 with C channels, 7x7 with 2C, back up with a skip connection."""

    def __init__(self, config: DiffusionConfig):
        super().__init__()
        c = config.channels
        self.embed = Embedding(c, 2 * c, config.num_classes)
        self.inp = nn.Conv2d(4, c, 3, padding=1)
        self.down1 = ResBlock(c, c, 2 * c)
        self.down = nn.Conv2d(c, 2 * c, 3, stride=2, padding=1)                     # 14 -> 7
        self.mid = ResBlock(2 * c, 2 * c, 2 * c)
        self.up = nn.Sequential(nn.Conv2d(2 * c, c, 3, padding=1), nn.Upsample(scale_factor=2))   # 7 -> 14
        self.up1 = ResBlock(2 * c, c, 2 * c)                                         # after the skip concat
        self.out = nn.Sequential(nn.GroupNorm(8, c), nn.SiLU(), nn.Conv2d(c, 4, 3, padding=1))

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        e = self.embed(t, y)
        skip = self.down1(self.inp(x), e)
        h = self.mid(self.down(skip), e)
        return self.out(self.up1(torch.cat([self.up(h), skip], dim=1), e))


class MLPNet(nn.Module):
    """MLP on vectors (N, dim): the time/label embedding added to the first hidden layer, SiLU throughout."""

    def __init__(self, config: DiffusionConfig):
        super().__init__()
        w = config.channels
        self.embed = Embedding(32, w, config.num_classes)
        self.inp = nn.Linear(config.dim, w)
        self.body = nn.Sequential(*[m for _ in range(config.depth) for m in (nn.SiLU(), nn.Linear(w, w))])
        self.out = nn.Sequential(nn.SiLU(), nn.Linear(w, config.dim))

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.out(self.body(self.inp(x) + self.embed(t, y)))


def to_model_space(images: torch.Tensor) -> torch.Tensor:
    """Digits (N, 1, 28, 28) in [0, 1] -> (N, 4, 14, 14) in [-1, 1]: each 2x2 pixel block becomes 4 channels."""
    return F.pixel_unshuffle(images * 2 - 1, 2)


def to_images(x: torch.Tensor) -> torch.Tensor:
    """(N, 4, 14, 14) in about [-1, 1] -> digits (N, 1, 28, 28) clamped to [0, 1]: the inverse of to_model_space."""
    return ((F.pixel_shuffle(x, 2) + 1) / 2).clamp(0, 1)


# --------------------------------------------------------------------------- the model


class Diffusion(nn.Module):
    """A denoising network `net` (and its EMA copy `ema_net`, used for sampling) with the objective's maths.

    ``noisy(x0, t, eps)`` builds a training example, ``predict`` applies the network (with guidance),
    ``sample(n, y)`` draws: digits (n, 1, 28, 28) in [0, 1] for the UNet, vectors (n, dim) for the MLP.
    """

    def __init__(self, config: DiffusionConfig):
        super().__init__()
        if config.objective not in ("flow", "ddpm"):
            raise ValueError(f"objective must be 'flow' or 'ddpm', got {config.objective!r}")
        self.config = config
        self.net = UNet(config) if config.arch == "unet" else MLPNet(config)
        self.ema_net = copy.deepcopy(self.net).requires_grad_(False)
        self.register_buffer("abar", alpha_bar(ddpm_schedule(config.timesteps)).float())

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one example in model space."""
        return (4, 14, 14) if self.config.arch == "unet" else (self.config.dim,)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Data -> model space: digits through `to_model_space`, vectors unchanged."""
        return to_model_space(x) if self.config.arch == "unet" else x

    def decode(self, x: torch.Tensor) -> torch.Tensor:
        """Model space -> data: `to_images` for digits, vectors unchanged."""
        return to_images(x) if self.config.arch == "unet" else x

    def noisy(self, x0: torch.Tensor, t: torch.Tensor, eps: torch.Tensor,
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return (x_t, the network's time input, the regression target) for times t ~ U[0, 1), (N,).

        flow: x_t on the straight line at t, target eps - x0. ddpm: step k = floor(t T) of the chain,
        x_t = sqrt(abar_k) x0 + sqrt(1 - abar_k) eps, time input (k + 1) / T, target eps.
        """
        if self.config.objective == "flow":
            xt, velocity = flow_path(x0, t, eps)
            return xt, t, velocity
        k = (t * self.config.timesteps).long().clamp(max=self.config.timesteps - 1)
        return q_sample(x0, self.abar[k], eps), (k + 1).float() / self.config.timesteps, eps

    def drop_labels(self, y: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        """Return y with the entries where `keep` is False replaced by the "no label" token."""
        return torch.where(keep, y, torch.full_like(y, self.config.num_classes))

    def update_ema(self, decay: float) -> None:
        """ema <- decay * ema + (1 - decay) * weights (buffers copied)."""
        with torch.no_grad():
            for e, p in zip(self.ema_net.parameters(), self.net.parameters(), strict=True):
                e.lerp_(p, 1 - decay)
            for e, b in zip(self.ema_net.buffers(), self.net.buffers(), strict=True):
                e.copy_(b)

    @torch.no_grad()
    def predict(self, x: torch.Tensor, t: float, y: torch.Tensor | None = None, guidance: float = 1.0,
                ema: bool = True) -> torch.Tensor:
        """Return the network's output at time t (velocity or noise), guided: uncond + w (cond - uncond).

        w = 1 (or no labels) is the conditional prediction alone, w = 0 the unconditional one.
        """
        net = self.ema_net if ema else self.net
        tt = torch.full((len(x),), float(t), device=x.device)
        if not self.config.num_classes:
            return net(x, tt, None)
        null = torch.full((len(x),), self.config.num_classes, device=x.device, dtype=torch.long)
        if y is None:
            return net(x, tt, null)
        if guidance == 1.0:
            return net(x, tt, y)
        cond, uncond = net(torch.cat([x, x]), torch.cat([tt, tt]), torch.cat([y, null])).chunk(2)
        return uncond + guidance * (cond - uncond)

    def labels_for(self, n: int, y: torch.Tensor | int | None) -> torch.Tensor | None:
        """Return the n labels to draw: `y` (one or n), by default 0, 1, ..., 9, 0, ... (None if unconditional)."""
        if not self.config.num_classes:
            return None
        dev = self.abar.device
        if y is None:
            return torch.arange(n, device=dev) % self.config.num_classes
        return torch.as_tensor(y, device=dev).long().expand(n).clone()

    @torch.no_grad()
    def sample(self, n: int, y: torch.Tensor | int | None = None, steps: int = 20, guidance: float = 2.0,
               sampler: str | None = None, generator: torch.Generator | None = None,
               noise: torch.Tensor | None = None) -> torch.Tensor:
        """Return n samples: digits (n, 1, 28, 28) in [0, 1] (unet) or vectors (n, dim) (mlp).

        sampler: "euler" or "heun" for a flow model (default euler), "ancestral" or "ddim" for a ddpm
        model (default ancestral); `steps` network evaluations per sample (Heun: two per step).
        `noise` (n, *shape) replaces the starting draw from N(0, I).
        """
        sampler = sampler or ("euler" if self.config.objective == "flow" else "ancestral")
        samplers = {"euler": euler_sampler, "heun": heun_sampler, "ancestral": ancestral_sampler, "ddim": ddim_sampler}
        if (sampler in ("euler", "heun")) != (self.config.objective == "flow"):
            raise ValueError(f"sampler {sampler!r} does not fit a {self.config.objective!r} model")
        x = noise if noise is not None else torch.randn(n, *self.shape, generator=generator)
        x = x.to(self.abar.device)
        out = samplers[sampler](self, x, self.labels_for(n, y), steps, guidance, generator)
        return self.decode(out)


# --------------------------------------------------------------------------- samplers


def euler_sampler(model: Diffusion, x: torch.Tensor, y: torch.Tensor | None, steps: int, guidance: float,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """Integrate dx/dt = v(x, t) from t = 1 (noise x) to t = 0 with `steps` Euler steps; 1 step: x - v(x, 1)."""
    ts = torch.linspace(1.0, 0.0, steps + 1).tolist()
    for t, t_next in zip(ts[:-1], ts[1:], strict=True):
        x = x + (t_next - t) * model.predict(x, t, y, guidance)
    return x


def heun_sampler(model: Diffusion, x: torch.Tensor, y: torch.Tensor | None, steps: int, guidance: float,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Heun's method (second order): an Euler step, then the mean of the slopes at both ends; 2 evaluations a step."""
    ts = torch.linspace(1.0, 0.0, steps + 1).tolist()
    for t, t_next in zip(ts[:-1], ts[1:], strict=True):
        v = model.predict(x, t, y, guidance)
        x_euler = x + (t_next - t) * v
        x = x + (t_next - t) * (v + model.predict(x_euler, t_next, y, guidance)) / 2
    return x


def _ddpm_steps(model: Diffusion, steps: int) -> list[int]:
    """The chain steps a `steps`-step DDPM sampler visits, from T-1 down to 0 (evenly spaced, distinct)."""
    t = model.config.timesteps
    return sorted({round(s) for s in torch.linspace(t - 1, 0, steps).tolist()} if steps > 1 else {t - 1}, reverse=True)


def _x0_and_eps(model: Diffusion, x: torch.Tensor, k: int, y, guidance: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (predicted x0, clipped when config.clip > 0; the noise consistent with it) at chain step k."""
    a = model.abar[k]
    eps = model.predict(x, (k + 1) / model.config.timesteps, y, guidance)
    x0 = (x - (1 - a).sqrt() * eps) / a.sqrt()
    if model.config.clip:
        x0 = x0.clamp(-model.config.clip, model.config.clip)
        eps = (x - a.sqrt() * x0) / (1 - a).sqrt()
    return x0, eps


def ancestral_sampler(model: Diffusion, x: torch.Tensor, y: torch.Tensor | None, steps: int, guidance: float,
                      generator: torch.Generator | None = None) -> torch.Tensor:
    """DDPM's ancestral sampler on `steps` chain steps k > s: draw x_s ~ q(x_s | x_k, x0 = predicted x0).

    q(x_s | x_k, x0) is Gaussian with mean sqrt(abar_s) b / (1 - abar_k) x0 + sqrt(a) (1 - abar_s) / (1 - abar_k) x_k
    and variance (1 - abar_s) / (1 - abar_k) b, where a = abar_k / abar_s and b = 1 - a. One step returns x0.
    """
    ks = _ddpm_steps(model, steps)
    for k, s in zip(ks, [*ks[1:], -1], strict=True):
        x0, _ = _x0_and_eps(model, x, k, y, guidance)
        ab_k, ab_s = model.abar[k], (model.abar[s] if s >= 0 else torch.ones((), device=x.device))
        a = ab_k / ab_s
        mean = (ab_s.sqrt() * (1 - a) * x0 + a.sqrt() * (1 - ab_s) * x) / (1 - ab_k)
        var = (1 - ab_s) / (1 - ab_k) * (1 - a)
        x = mean + var.sqrt() * torch.randn(x.shape, generator=generator).to(x) if s >= 0 else mean
    return x


def ddim_sampler(model: Diffusion, x: torch.Tensor, y: torch.Tensor | None, steps: int, guidance: float,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """DDIM (Song et al., 2021), deterministic: x_s = sqrt(abar_s) x0 + sqrt(1 - abar_s) eps, both predicted at k."""
    ks = _ddpm_steps(model, steps)
    for k, s in zip(ks, [*ks[1:], -1], strict=True):
        x0, eps = _x0_and_eps(model, x, k, y, guidance)
        x = x0 if s < 0 else model.abar[s].sqrt() * x0 + (1 - model.abar[s]).sqrt() * eps
    return x


# --------------------------------------------------------------------------- training


@dataclass
class TrainConfig:
    """AdamW, batch, step count and the EMA's decay (warmed up: min(ema, (1 + step) / (10 + step)))."""
    steps: int = 500
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 0.0
    ema: float = 0.999


def ema_decay(step: int, config: TrainConfig) -> float:
    """Return the EMA decay after `step` steps: short memory early on, `config.ema` later."""
    return min(config.ema, (1 + step) / (10 + step))


def train_diffusion(model: Diffusion, x: torch.Tensor, config: TrainConfig, *, y: torch.Tensor | None = None,
                    seed: int = 0, progress: bool = True, callback: Callable[[int, dict], None] | None = None,
                    every: int = 100, run: engine.Run | None = None) -> dict[str, list[float]]:
    """Train `model` on data x (digits (N, 1, 28, 28) in [0, 1], or vectors (N, dim)); return the history.

    Each step: a batch x0, times t ~ U[0, 1), noise eps, labels dropped with probability label_dropout;
    regress the network's output at x_t on the target (velocity or noise) by mean squared error;
    AdamW step; EMA update. History: "loss" per step. `run` (``engine.Run``) adds torchrun, resume, checkpoints.
    """
    run = run or engine.Run.local(model)
    g = torch.Generator().manual_seed(seed)
    net = run.wrap(model.net)                                           # a DDP module under torchrun
    opt = torch.optim.AdamW(model.net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    data = model.encode(x).to(run.device)                               # digits -> (N, 4, 14, 14) in [-1, 1]
    labels = None if y is None or not model.config.num_classes else y.to(run.device)
    history: dict[str, list[float]] = {"loss": []}
    for step in run.steps(config.steps, history, model=model, optimizers=[opt], rng=g, progress=progress,
                          desc=f"training {model.config.objective}", callback=callback, every=every):
        idx = run.batch_indices(len(data), config.batch_size, g)
        t = run.shard(torch.rand(config.batch_size, generator=g))
        eps = run.shard(torch.randn(config.batch_size, *model.shape, generator=g))
        keep = run.shard(torch.rand(config.batch_size, generator=g) >= model.config.label_dropout)
        yb = None if labels is None else model.drop_labels(labels[idx], keep)

        xt, time_in, target = model.noisy(data[idx], t, eps)           # a noisy example and what to predict
        loss = F.mse_loss(net(xt, time_in, yb), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        model.update_ema(ema_decay(step, config))
        run.log(history, loss.item())
    return history


# --------------------------------------------------------------------------- recipes and the CLI entry

# name -> (model, training). The digits' recipe: 400 steps of batch 128 on the 4x14x14 UNet (32 channels, 177k weights).
RECIPES: dict[str, tuple[DiffusionConfig, TrainConfig]] = {
    "flow": (DiffusionConfig(objective="flow"), TrainConfig(steps=400)),
    "ddpm": (DiffusionConfig(objective="ddpm"), TrainConfig(steps=400)),
}
GUIDANCE = 2.0   # the guidance scale the chapter samples with
STEPS = 20       # the number of sampler steps it samples with
LATENT_VAE_STEPS = 1500   # latent diffusion: the fully connected VAE (vae.recipe("vae")) is trained this long first


def latent_recipe(latent_dim: int) -> tuple[DiffusionConfig, TrainConfig]:
    """Return (model config, training config) of the class-conditional flow model in a VAE's latent space."""
    return (DiffusionConfig(objective="flow", arch="mlp", dim=latent_dim, channels=256, depth=3, num_classes=10),
            TrainConfig(steps=1500, batch_size=256, lr=1e-3))


def recipe(kind: str, steps: int | None = None) -> tuple[DiffusionConfig, TrainConfig]:
    """Return (model config, training config) of `kind` ("flow" or "ddpm"), with an optional step count."""
    if kind not in RECIPES:
        raise ValueError(f"unknown diffusion kind {kind!r}; choose one of {sorted(RECIPES)}")
    model_config, train_config = RECIPES[kind]
    return model_config, replace(train_config, steps=steps or train_config.steps)


def train(kind: str = "flow", steps: int | None = None, seed: int = 0, out: Path | str = "runs",
          data: str | None = None, progress: bool = True, resume: Path | str | None = None,
          save_every: int = 500) -> Path:
    """Train the class-conditional digit model `kind` ("flow" or "ddpm"); save and return OUT/<kind>.pt.

    Runs unchanged under ``torchrun --nproc_per_node N -m aigc_course.cli train KIND`` (data parallel).
    """
    from aigc_course.data import load_digits

    model_config, train_config = recipe(kind, steps)

    def fit(model: Diffusion, run: engine.Run) -> None:
        x, y = load_digits("train", source=data)
        train_diffusion(model, x, train_config, y=y, seed=seed, progress=progress, run=run)

    return engine.launch(kind, functools.partial(Diffusion, model_config), fit, steps=train_config.steps,
                         seed=seed, out=out, resume=resume, save_every=save_every, recipe=str(train_config))


# --------------------------------------------------------------------------- latent diffusion helpers


@torch.no_grad()
def vae_latents(vae: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Return (the VAE encoder's means for digits x scaled to unit variance (N, latent_dim), that scale)."""
    mu, _ = vae.encode(x)
    scale = float(mu.std())
    return mu / scale, scale


@torch.no_grad()
def decode_latents(vae: nn.Module, codes: torch.Tensor, scale: float) -> torch.Tensor:
    """Return digits (N, 1, 28, 28) in [0, 1]: the VAE decoder's pixel probabilities at z = codes * scale."""
    return torch.sigmoid(vae.decode(codes * scale))


# --------------------------------------------------------------------------- widget


def guidance_explorer(model: Diffusion, judge: nn.Module | None = None, seed: int = 0, sampler: str | None = None):
    """Return a widgets.VBox: "guidance" and "steps" sliders draw the digits 0-9 from the same noise.

    The picture is ``box.image`` (widgets.Image, PNG bytes); ``box.caption`` (widgets.HTML) says what the
    `judge` (if given) reads in the ten digits.
    """
    import ipywidgets as widgets

    guidance = widgets.FloatSlider(value=GUIDANCE, min=0.0, max=5.0, step=0.5, description="guidance")
    steps = widgets.IntSlider(value=STEPS, min=1, max=50, description="steps")
    noise = torch.randn(10, *model.shape, generator=torch.Generator().manual_seed(seed))

    def draw() -> tuple[torch.Tensor, str]:
        x = model.sample(10, steps=steps.value, guidance=guidance.value, sampler=sampler, noise=noise).cpu()
        text = f"digits 0-9, guidance w = {guidance.value:.1f}, {steps.value} sampler steps"
        if judge is not None:
            text += f"; the judge reads {judge_agrees(judge, x, torch.arange(10))}/10 as the digit asked for"
        return x, text

    return picture_widget({"guidance": guidance, "steps": steps}, draw)

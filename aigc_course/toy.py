"""Small GAN and VAE for 2-D toy data (the ring of 8 Gaussians), and how to score their modes.

The training loops follow the algorithms of chapter 3 step by step:

GAN (Goodfellow et al., 2014, Algorithm 1), per iteration:
  1. k times: sample real x and noise z, update D to lower L_D = -V(D, G)
  2. sample noise z, update G to lower its loss (non-saturating -E[log D(G(z))] or saturating E[log(1 - D(G(z)))])
VAE (Kingma and Welling, 2013), per iteration, encoder and decoder together:
  1. encode x into (mu, log sigma^2); 2. draw z = mu + sigma * eps (reparameterisation);
  3. decode z; 4. one gradient step on -ELBO for both networks at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from aigc_course.data import ring_centres, ring_of_gaussians
from aigc_course.losses import (
    discriminator_loss,
    gaussian_kl,
    generator_loss_nonsaturating,
    generator_loss_saturating,
    reparameterize,
)


def mlp(inp: int, hidden: int, out: int, depth: int = 2) -> nn.Sequential:
    """Return an MLP inp -> hidden (x depth, ReLU) -> out."""
    layers, width = [], inp
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, out))


# --------------------------------------------------------------------------- GAN


@dataclass
class ToyGANConfig:
    latent_dim: int = 2
    hidden: int = 128
    steps: int = 3000
    batch_size: int = 256
    lr_d: float = 1e-3
    lr_g: float = 1e-3
    d_steps: int = 1            # k: discriminator updates per generator update
    g_steps: int = 1            # generator updates per iteration (> 1: G outruns D, a recipe for mode collapse)
    g_loss: str = "nonsaturating"  # or "saturating"
    seed: int = 0


class ToyGAN(nn.Module):
    """Generator G: (N, latent_dim) noise -> (N, 2) points; discriminator D: (N, 2) -> (N,) logits."""

    def __init__(self, config: ToyGANConfig):
        super().__init__()
        self.config = config
        self.generator = mlp(config.latent_dim, config.hidden, 2)
        self.discriminator = mlp(2, config.hidden, 1)

    def noise(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Return (n, latent_dim) standard normal noise z ~ p_z."""
        return torch.randn(n, self.config.latent_dim, generator=generator)

    def d_logits(self, x: torch.Tensor) -> torch.Tensor:
        """Return D's logits, shape (N,); D(x) = sigmoid(logit) is the probability that x is real."""
        return self.discriminator(x).squeeze(-1)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Return n generated points, (n, 2)."""
        return self.generator(self.noise(n, generator))


@dataclass
class ToyHistory:
    steps: list[int] = field(default_factory=list)
    d_loss: list[float] = field(default_factory=list)
    g_loss: list[float] = field(default_factory=list)
    snapshots: dict[int, dict] = field(default_factory=dict)  # step -> {"samples": (n, 2), "surface": (res, res)}


def decision_surface(model: ToyGAN, extent: float = 3.0, resolution: int = 60) -> torch.Tensor:
    """Return D(x) on a resolution x resolution grid over [-extent, extent]^2, rows = y from low to high."""
    ticks = torch.linspace(-extent, extent, resolution)
    yy, xx = torch.meshgrid(ticks, ticks, indexing="ij")
    with torch.no_grad():
        return torch.sigmoid(model.d_logits(torch.stack([xx.flatten(), yy.flatten()], 1))).reshape(resolution, resolution)


def train_toy_gan(config: ToyGANConfig | None = None, snapshot_at: tuple[int, ...] = (),
                  progress: bool = True, n_data: int = 10_000) -> tuple[ToyGAN, ToyHistory]:
    """Train a ToyGAN on the ring of 8 Gaussians; return the model and its history (losses, snapshots)."""
    from tqdm.auto import tqdm

    config = config or ToyGANConfig()
    torch.manual_seed(config.seed)
    g = torch.Generator().manual_seed(config.seed)
    data, _ = ring_of_gaussians(n_data, seed=config.seed)
    model = ToyGAN(config)
    opt_d = torch.optim.Adam(model.discriminator.parameters(), lr=config.lr_d, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(model.generator.parameters(), lr=config.lr_g, betas=(0.5, 0.999))
    g_objective = generator_loss_nonsaturating if config.g_loss == "nonsaturating" else generator_loss_saturating
    history = ToyHistory()
    fixed_z = model.noise(1000, generator=torch.Generator().manual_seed(12345))
    for step in tqdm(range(1, config.steps + 1), desc="toy GAN", disable=not progress, leave=True):
        # Step 1: k discriminator updates on a real batch and a fake batch (G held fixed: .detach()).
        for _ in range(config.d_steps):
            real = data[torch.randint(n_data, (config.batch_size,), generator=g)]
            fake = model.generator(model.noise(config.batch_size, g)).detach()
            loss_d = discriminator_loss(model.d_logits(real), model.d_logits(fake))
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
        # Step 2: a generator update through D (only G's optimiser steps); g_steps of them per iteration.
        for _ in range(config.g_steps):
            loss_g = g_objective(model.d_logits(model.generator(model.noise(config.batch_size, g))))
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
        if step % 50 == 0 or step == config.steps:
            history.steps.append(step)
            history.d_loss.append(loss_d.item())
            history.g_loss.append(loss_g.item())
        if step in snapshot_at:
            with torch.no_grad():
                history.snapshots[step] = {"samples": model.generator(fixed_z), "surface": decision_surface(model)}
    return model, history


# --------------------------------------------------------------------------- VAE


@dataclass
class ToyVAEConfig:
    latent_dim: int = 2
    hidden: int = 128
    steps: int = 3000
    batch_size: int = 256
    lr: float = 1e-3
    kl_warmup: int = 0          # steps over which the KL weight rises linearly from 0 to 1 (0: weight 1 throughout)
    cosine_lr: bool = False     # decay the learning rate to 0 along a cosine over the run
    min_logvar: float = -8.0    # lower bound on the decoder's log-variance
    seed: int = 0


class ToyVAE(nn.Module):
    """Encoder: (N, 2) -> (mu, logvar) each (N, latent_dim); decoder: z -> Gaussian mean and log-variance in 2-D."""

    def __init__(self, config: ToyVAEConfig):
        super().__init__()
        self.config = config
        self.encoder = mlp(2, config.hidden, 2 * config.latent_dim)
        self.decoder = mlp(config.latent_dim, config.hidden, 4)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (mu, logvar) of q(z|x), each (N, latent_dim)."""
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (mean, logvar) of p(x|z), each (N, 2); logvar is clamped to [min_logvar, 2] for stability."""
        mean, logvar = self.decoder(z).chunk(2, dim=-1)
        return mean, logvar.clamp(self.config.min_logvar, 2.0)

    def elbo(self, x: torch.Tensor, generator: torch.Generator | None = None, kl_weight: float = 1.0) -> torch.Tensor:
        """Return the one-sample ELBO per point, shape (N,), in nats (kl_weight < 1: the warm-up objective)."""
        mu, logvar = self.encode(x)
        z = reparameterize(mu, logvar, generator)
        mean, out_logvar = self.decode(z)
        log_px_z = -0.5 * (((x - mean) ** 2) / out_logvar.exp() + out_logvar + math.log(2 * math.pi)).sum(-1)
        return log_px_z - kl_weight * gaussian_kl(mu, logvar)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, noise: bool = True) -> torch.Tensor:
        """Return n points (n, 2): z ~ N(0, I), x ~ p(x|z) (or its mean when noise=False)."""
        z = torch.randn(n, self.config.latent_dim, generator=generator)
        mean, logvar = self.decode(z)
        if not noise:
            return mean
        return mean + (0.5 * logvar).exp() * torch.randn(mean.shape, generator=generator)


def train_toy_vae(config: ToyVAEConfig | None = None, progress: bool = True,
                  n_data: int = 10_000) -> tuple[ToyVAE, list[float]]:
    """Train a ToyVAE on the ring of 8 Gaussians; return the model and the -ELBO every 50 steps."""
    from tqdm.auto import tqdm

    config = config or ToyVAEConfig()
    torch.manual_seed(config.seed)
    g = torch.Generator().manual_seed(config.seed)
    data, _ = ring_of_gaussians(n_data, seed=config.seed)
    model = ToyVAE(config)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)  # one optimiser: encoder and decoder together
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, config.steps) if config.cosine_lr else None
    curve = []
    for step in tqdm(range(1, config.steps + 1), desc="toy VAE", disable=not progress, leave=True):
        x = data[torch.randint(n_data, (config.batch_size,), generator=g)]
        kl_weight = min(1.0, step / config.kl_warmup) if config.kl_warmup else 1.0
        loss = -model.elbo(x, g, kl_weight).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if schedule is not None:
            schedule.step()
        if step % 50 == 0:
            curve.append(loss.item())
    return model, curve


# --------------------------------------------------------------------------- scoring


@dataclass
class ModeReport:
    covered: int              # modes holding at least `min_share` of the samples as high-quality points
    high_quality: float       # share of samples within 3 std of some mode centre
    mode_share: list[float]   # share of samples that are high-quality points of each mode

    def __str__(self) -> str:
        return f"modes covered {self.covered}/{len(self.mode_share)} | high-quality share {self.high_quality:.2f}"


def mode_coverage(samples: torch.Tensor, modes: int = 8, radius: float = 2.0, std: float = 0.05,
                  min_share: float = 0.02) -> ModeReport:
    """Score (N, 2) samples against the ring: a sample is high-quality within 3 std of its nearest centre."""
    centres = ring_centres(modes, radius)
    dist = torch.cdist(samples.float(), centres)
    nearest_d, nearest = dist.min(dim=1)
    good = nearest_d <= 3 * std
    share = torch.bincount(nearest[good], minlength=modes).float() / len(samples)
    return ModeReport(covered=int((share >= min_share).sum()), high_quality=good.float().mean().item(),
                      mode_share=share.tolist())

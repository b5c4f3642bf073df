"""Known 1-D densities and models on which chapter 4's formulas can be checked exactly.

GAN side: two 1-D Gaussian mixtures stand for p_data and p_g. Because both densities are known,
the optimal discriminator D*(x) = p_data / (p_data + p_g), the value function V(D, G) and the
Jensen-Shannon divergence can be computed by quadrature on a grid, and a discriminator trained
only on samples can be compared with D*.

VAE side: the linear-Gaussian latent model z ~ N(0, 1), x | z ~ N(w z + b, s^2), whose evidence
log p(x) and posterior p(z | x) are closed form, so the ELBO's gap can be measured exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from aigc_course.losses import discriminator_loss, gaussian_kl, reparameterize
from aigc_course.toy import mlp

LOG_2PI = math.log(2 * math.pi)

# --------------------------------------------------------------------------- densities


@dataclass(frozen=True)
class Mixture1D:
    """A 1-D Gaussian mixture sum_k w_k N(mean_k, std_k^2): a density we can both sample and evaluate."""

    weights: tuple[float, ...]
    means: tuple[float, ...]
    stds: tuple[float, ...]

    def _params(self, like: torch.Tensor):
        as_t = lambda v: torch.tensor(v, dtype=like.dtype)  # noqa: E731
        return as_t(self.weights) / sum(self.weights), as_t(self.means), as_t(self.stds)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Return log p(x), same shape as x."""
        w, m, s = self._params(x)
        comp = -0.5 * ((x[..., None] - m) / s) ** 2 - s.log() - 0.5 * LOG_2PI
        return torch.logsumexp(comp + w.log(), dim=-1)

    def pdf(self, x: torch.Tensor) -> torch.Tensor:
        """Return p(x), same shape as x."""
        return self.log_prob(x).exp()

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Return n draws, shape (n,), float32."""
        w, m, s = self._params(torch.zeros(()))
        k = torch.multinomial(w, n, replacement=True, generator=generator)
        return m[k] + s[k] * torch.randn(n, generator=generator)

    def shifted(self, delta: float) -> Mixture1D:
        """Return the same mixture moved by delta along x."""
        return Mixture1D(self.weights, tuple(m + delta for m in self.means), self.stds)


def grid(lo: float = -12.0, hi: float = 12.0, n: int = 6001) -> torch.Tensor:
    """Return an evenly spaced float64 grid for quadrature, shape (n,)."""
    return torch.linspace(lo, hi, n, dtype=torch.float64)


def integrate(values: torch.Tensor, x: torch.Tensor) -> float:
    """Return the trapezoid-rule integral of values(x) over the grid x."""
    return torch.trapezoid(values, x).item()


# --------------------------------------------------------------------------- GAN quantities


def optimal_logit(p_data: Mixture1D, p_g: Mixture1D, x: torch.Tensor) -> torch.Tensor:
    """Return the logit of D*(x): log p_data(x) - log p_g(x), same shape as x."""
    return p_data.log_prob(x) - p_g.log_prob(x)


def optimal_discriminator(p_data: Mixture1D, p_g: Mixture1D, x: torch.Tensor) -> torch.Tensor:
    """Return D*(x) = p_data(x) / (p_data(x) + p_g(x)), in (0, 1), same shape as x."""
    return torch.sigmoid(optimal_logit(p_data, p_g, x))


def value_function(logits: torch.Tensor, p_data: Mixture1D, p_g: Mixture1D, x: torch.Tensor) -> float:
    """Return V(D, G) = int p_data log D + p_g log(1 - D) dx, with D = sigmoid(logits) given on the grid x."""
    log_d, log_1md = -F.softplus(-logits), -F.softplus(logits)
    return integrate(p_data.pdf(x) * log_d + p_g.pdf(x) * log_1md, x)


def kl_divergence(p: Mixture1D, q: Mixture1D, x: torch.Tensor) -> float:
    """Return KL(p || q) = int p log(p / q) dx by quadrature on the grid x, in nats."""
    return integrate(p.pdf(x) * (p.log_prob(x) - q.log_prob(x)), x)


def jensen_shannon(p: Mixture1D, q: Mixture1D, x: torch.Tensor) -> float:
    """Return JSD(p || q) = KL(p || m)/2 + KL(q || m)/2 with m = (p + q)/2, by quadrature, in [0, log 2]."""
    log_p, log_q = p.log_prob(x), q.log_prob(x)
    log_m = torch.logaddexp(log_p, log_q) - math.log(2)
    return 0.5 * integrate(log_p.exp() * (log_p - log_m), x) + 0.5 * integrate(log_q.exp() * (log_q - log_m), x)


def best_accuracy(p_data: Mixture1D, p_g: Mixture1D, x: torch.Tensor) -> float:
    """Return the accuracy of the best real/fake classifier (equal priors): int max(p_data, p_g) dx / 2."""
    return 0.5 * integrate(torch.maximum(p_data.pdf(x), p_g.pdf(x)), x)


# --------------------------------------------------------------------------- a discriminator trained on samples


@dataclass
class Discriminator1DConfig:
    hidden: int = 64
    depth: int = 2
    steps: int = 1500
    batch_size: int = 512
    lr: float = 3e-3
    seed: int = 0


class Discriminator1D(nn.Module):
    """D: (N,) points -> (N,) logits; D(x) = sigmoid(logit) is the probability that x came from p_data."""

    def __init__(self, config: Discriminator1DConfig):
        super().__init__()
        self.config = config
        self.net = mlp(1, config.hidden, 1, depth=config.depth)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.float()[:, None]).squeeze(-1)

    @torch.no_grad()
    def prob(self, x: torch.Tensor) -> torch.Tensor:
        """Return D(x) in (0, 1), shape (N,)."""
        return torch.sigmoid(self(x))


def train_discriminator(p_data: Mixture1D, p_g: Mixture1D, config: Discriminator1DConfig | None = None,
                        progress: bool = True) -> Discriminator1D:
    """Train D on fresh samples of p_data (label 1) and p_g (label 0) by minimising L_D = -V(D, G); return D."""
    from tqdm.auto import tqdm

    config = config or Discriminator1DConfig()
    torch.manual_seed(config.seed)
    g = torch.Generator().manual_seed(config.seed)
    model = Discriminator1D(config)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    # Cosine decay: the last steps average out the sampling noise of each batch.
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.steps)
    for _ in tqdm(range(config.steps), desc="discriminator", disable=not progress, leave=True):
        real, fake = p_data.sample(config.batch_size, g), p_g.sample(config.batch_size, g)
        loss = discriminator_loss(model(real), model(fake))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return model


# --------------------------------------------------------------------------- the linear-Gaussian latent model


@dataclass(frozen=True)
class LinearGaussian:
    """z ~ N(0, 1), x | z ~ N(w z + b, s^2): log p(x) and p(z | x) are exact, so the ELBO gap is measurable."""

    w: float
    b: float
    s: float

    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Return log p(x | z) = log N(x; w z + b, s^2), broadcast over x and z."""
        return -0.5 * ((x - self.w * z - self.b) / self.s) ** 2 - math.log(self.s) - 0.5 * LOG_2PI

    def log_evidence(self, x: torch.Tensor) -> torch.Tensor:
        """Return log p(x) = log N(x; b, w^2 + s^2), same shape as x."""
        var = self.w ** 2 + self.s ** 2
        return -0.5 * (x - self.b) ** 2 / var - 0.5 * math.log(var) - 0.5 * LOG_2PI

    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the exact posterior p(z | x) = N(mean, var) as (mean, var), each shaped like x."""
        precision = 1 + self.w ** 2 / self.s ** 2
        mean = (self.w / self.s ** 2) * (x - self.b) / precision
        return mean, torch.full_like(mean, 1 / precision)

    def expected_log_likelihood(self, x: torch.Tensor, m: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Return E_{z ~ N(m, v)}[log p(x | z)] in closed form (the reconstruction term)."""
        return -0.5 * ((x - self.w * m - self.b) ** 2 + self.w ** 2 * v) / self.s ** 2 - math.log(self.s) - 0.5 * LOG_2PI

    def elbo(self, x: torch.Tensor, m: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Return ELBO(x; q) = E_q[log p(x | z)] - KL(q || p(z)) for q = N(m, v), in closed form."""
        kl = gaussian_kl(m[..., None], v.log()[..., None])  # the package's KL against the N(0, 1) prior
        return self.expected_log_likelihood(x, m, v) - kl


def gaussian_kl_1d(m1: torch.Tensor, v1: torch.Tensor, m2: torch.Tensor, v2: torch.Tensor) -> torch.Tensor:
    """Return KL(N(m1, v1) || N(m2, v2)) for 1-D Gaussians (variances v), elementwise, in nats."""
    return 0.5 * (v1 / v2 + (m1 - m2) ** 2 / v2 - 1 + torch.log(v2 / v1))


# --------------------------------------------------------------------------- two gradient estimators


def reparameterization_gradients(f: Callable[[torch.Tensor], torch.Tensor], mu: float, sigma: float, n: int,
                                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Return n one-sample estimates of d/dmu E_{z~N(mu, sigma^2)}[f(z)]: f'(z) through z = mu + sigma * eps, shape (n,)."""
    mus = torch.full((n,), float(mu), dtype=torch.float64, requires_grad=True)
    logvar = torch.full((n,), 2 * math.log(sigma), dtype=torch.float64)
    z = reparameterize(mus, logvar, generator=generator)
    (grad,) = torch.autograd.grad(f(z).sum(), mus)
    return grad


def score_function_gradients(f: Callable[[torch.Tensor], torch.Tensor], mu: float, sigma: float, n: int,
                             generator: torch.Generator | None = None) -> torch.Tensor:
    """Return n one-sample REINFORCE estimates of d/dmu E[f(z)]: f(z) * d/dmu log q(z) = f(z) (z - mu) / sigma^2, shape (n,)."""
    z = mu + sigma * torch.randn(n, generator=generator, dtype=torch.float64)
    with torch.no_grad():
        return f(z) * (z - mu) / sigma ** 2


# --------------------------------------------------------------------------- a linear VAE, trained jointly


@dataclass
class LinearVAEConfig:
    steps: int = 1500
    batch_size: int = 256
    lr: float = 2e-2
    seed: int = 0


class LinearVAE(nn.Module):
    """Decoder p(x | z) = N(w z + b, s^2) and encoder q(z | x) = N(a x + c, exp(logv)): one module, one objective."""

    def __init__(self, config: LinearVAEConfig):
        super().__init__()
        self.config = config
        self.w, self.b, self.log_s = (nn.Parameter(torch.tensor(v)) for v in (0.5, 0.0, 0.0))   # decoder
        self.a, self.c, self.logv = (nn.Parameter(torch.tensor(v)) for v in (0.0, 0.0, 0.0))    # encoder

    def decoder_model(self) -> LinearGaussian:
        """Return the decoder as a LinearGaussian with the current parameter values."""
        return LinearGaussian(self.w.item(), self.b.item(), self.log_s.exp().item())

    def elbo(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Return the one-sample reparameterised ELBO per point, shape (N,), in nats."""
        mu, logvar = self.a * x + self.c, self.logv.expand_as(x)
        z = reparameterize(mu, logvar, generator=generator)                       # z = mu + sigma * eps
        s = self.log_s.exp()
        log_lik = -0.5 * ((x - self.w * z - self.b) / s) ** 2 - self.log_s - 0.5 * LOG_2PI
        return log_lik - gaussian_kl(mu[:, None], logvar[:, None])


def train_linear_vae(data: torch.Tensor, config: LinearVAEConfig | None = None,
                     progress: bool = True) -> tuple[LinearVAE, list[float]]:
    """Maximise the ELBO of a LinearVAE on 1-D data (N,), encoder and decoder together; return it and -ELBO per step."""
    from tqdm.auto import tqdm

    config = config or LinearVAEConfig()
    torch.manual_seed(config.seed)
    g = torch.Generator().manual_seed(config.seed)
    model = LinearVAE(config)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)  # one optimiser over encoder AND decoder
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.steps)
    curve = []
    for _ in tqdm(range(config.steps), desc="linear VAE", disable=not progress, leave=True):
        x = data[torch.randint(len(data), (config.batch_size,), generator=g)]
        loss = -model.elbo(x, g).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        curve.append(loss.item())
    return model, curve

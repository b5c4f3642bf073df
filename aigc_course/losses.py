"""The objectives of chapter 4, written on logits for numerical stability.

GAN (Goodfellow et al., 2014). With D(x) = sigmoid(logit):
  value function      V(D, G) = E_x[log D(x)] + E_z[log(1 - D(G(z)))]
  discriminator loss  L_D = -V(D, G)                 (D maximises V)
  saturating G loss   E_z[log(1 - D(G(z)))]          (the minimax term G minimises)
  non-saturating G    -E_z[log D(G(z))]              (the heuristic used in practice)
Identities used below: log sigmoid(l) = -softplus(-l), log(1 - sigmoid(l)) = -softplus(l).

VAE (Kingma and Welling, 2013), per image, in nats:
  ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z)) <= log p(x)
  KL(N(mu, diag sigma^2) || N(0, I)) = 1/2 * sum(mu^2 + sigma^2 - log sigma^2 - 1)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor,
                       real_label: float = 1.0) -> torch.Tensor:
    """Return L_D = -E[log D(x)] - E[log(1 - D(G(z)))], a scalar; real_label < 1 gives one-sided label smoothing."""
    real_targets = torch.full_like(real_logits, real_label)
    return (F.binary_cross_entropy_with_logits(real_logits, real_targets)
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def generator_loss_saturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """Return E[log(1 - D(G(z)))], the minimax generator objective (a scalar to minimise)."""
    return -F.softplus(fake_logits).mean()


def generator_loss_nonsaturating(fake_logits: torch.Tensor) -> torch.Tensor:
    """Return -E[log D(G(z))], the non-saturating generator loss (a scalar to minimise)."""
    return F.softplus(-fake_logits).mean()


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Return KL(N(mu, exp(logvar)) || N(0, I)) per row, shape (N,), in nats."""
    return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(dim=-1)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Return z = mu + sigma * eps with eps ~ N(0, I): a sample from q(z|x) that gradients flow through."""
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + (0.5 * logvar).exp() * eps


def bernoulli_log_likelihood(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Return log p(x|z) = sum_pixels [x log p + (1 - x) log(1 - p)] per image, shape (N,), in nats."""
    ll = -F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return ll.flatten(1).sum(dim=1)


def elbo(x: torch.Tensor, logits: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Return the one-sample ELBO per image, shape (N,): log p(x|z) - KL(q(z|x) || p(z)), in nats."""
    return bernoulli_log_likelihood(logits, x) - gaussian_kl(mu, logvar)

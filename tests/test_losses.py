"""Each loss in aigc_course.losses pinned against an independent computation.

Closed form vs Monte Carlo, autograd vs analytic gradient, symbolic (sympy) vs numeric;
every randomised check runs under three seeds.
"""

import math

import pytest
import sympy as sp
import torch

from aigc_course import losses

SEEDS = [0, 1, 2]


def _logits(seed, n=64):
    g = torch.Generator().manual_seed(seed)
    return 3 * torch.randn(n, generator=g, dtype=torch.float64), g


@pytest.mark.parametrize("seed", SEEDS)
def test_discriminator_loss_is_minus_value_function(seed):
    real, g = _logits(seed)
    fake = 3 * torch.randn(64, generator=g, dtype=torch.float64)
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    value = d_real.log().mean() + (1 - d_fake).log().mean()  # V(D, G) written with probabilities
    assert torch.allclose(losses.discriminator_loss(real, fake), -value, atol=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
def test_label_smoothing_uses_soft_real_targets(seed):
    real, g = _logits(seed)
    fake = torch.randn(64, generator=g, dtype=torch.float64)
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    expected = -(0.9 * d_real.log() + 0.1 * (1 - d_real).log()).mean() - (1 - d_fake).log().mean()
    assert torch.allclose(losses.discriminator_loss(real, fake, real_label=0.9), expected, atol=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
def test_generator_losses_match_their_probability_forms(seed):
    fake, _ = _logits(seed)
    d = torch.sigmoid(fake)
    assert torch.allclose(losses.generator_loss_saturating(fake), (1 - d).log().mean(), atol=1e-10)
    assert torch.allclose(losses.generator_loss_nonsaturating(fake), -d.log().mean(), atol=1e-10)


def test_generator_loss_gradients_match_sympy():
    # Symbolic derivative w.r.t. the logit l of each per-sample loss, evaluated against autograd.
    logit = sp.symbols("logit", real=True)
    d = 1 / (1 + sp.exp(-logit))
    dsat = sp.lambdify(logit, sp.diff(sp.log(1 - d), logit))    # = -sigmoid(logit)
    dns = sp.lambdify(logit, sp.diff(-sp.log(d), logit))        # = sigmoid(logit) - 1
    for value in [-6.0, -2.0, 0.0, 1.5, 5.0]:
        x = torch.tensor([value], dtype=torch.float64, requires_grad=True)
        losses.generator_loss_saturating(x).backward()
        assert x.grad.item() == pytest.approx(float(dsat(value)), abs=1e-9)
        x.grad = None
        losses.generator_loss_nonsaturating(x).backward()
        assert x.grad.item() == pytest.approx(float(dns(value)), abs=1e-9)


def test_saturating_loss_vanishes_where_nonsaturating_does_not():
    # When D confidently rejects fakes (logit -8), the minimax gradient is ~3e-4, the heuristic's ~1.
    x = torch.tensor([-8.0], dtype=torch.float64, requires_grad=True)
    losses.generator_loss_saturating(x).backward()
    sat = x.grad.abs().item()
    x.grad = None
    losses.generator_loss_nonsaturating(x).backward()
    assert sat < 1e-3 and x.grad.abs().item() > 0.99


@pytest.mark.parametrize("seed", SEEDS)
def test_gaussian_kl_matches_monte_carlo(seed):
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(4, 3, generator=g, dtype=torch.float64)
    logvar = torch.randn(4, 3, generator=g, dtype=torch.float64).clamp(-1.5, 1.5)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    z = q.sample((200_000,))  # (S, 4, 3)
    mc = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean(0)
    closed = losses.gaussian_kl(mu, logvar)
    assert closed.shape == (4,)
    assert torch.allclose(closed, mc, atol=0.03, rtol=0.02)


def test_gaussian_kl_matches_torch_distributions_and_sympy():
    m, s = sp.symbols("mu sigma", positive=True)
    z = sp.symbols("z", real=True)
    q = sp.exp(-(z - m) ** 2 / (2 * s**2)) / sp.sqrt(2 * sp.pi * s**2)
    # E_q[log q - log p] in closed form, with p = N(0, 1).
    integrand = q * (sp.log(q) - (-z**2 / 2 - sp.log(sp.sqrt(2 * sp.pi))))
    kl = sp.simplify(sp.integrate(sp.expand_log(integrand, force=True), (z, -sp.oo, sp.oo)))
    expected = sp.Rational(1, 2) * (m**2 + s**2 - sp.log(s**2) - 1)
    assert sp.simplify(kl - expected) == 0
    mu, logvar = torch.tensor([[0.7]], dtype=torch.float64), torch.tensor([[math.log(0.3**2)]], dtype=torch.float64)
    assert losses.gaussian_kl(mu, logvar).item() == pytest.approx(float(expected.subs({m: 0.7, s: 0.3})), abs=1e-12)
    q_t = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    p_t = torch.distributions.Normal(0.0, 1.0)
    assert losses.gaussian_kl(mu, logvar).item() == pytest.approx(torch.distributions.kl_divergence(q_t, p_t).sum().item(), abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_reparameterize_has_the_right_moments_and_gradients(seed):
    g = torch.Generator().manual_seed(seed)
    mu = torch.tensor([1.5, -0.5], dtype=torch.float64, requires_grad=True)
    logvar = torch.tensor([0.4, -1.0], dtype=torch.float64, requires_grad=True)
    z = losses.reparameterize(mu.expand(100_000, 2), logvar.expand(100_000, 2), generator=g)
    assert torch.allclose(z.mean(0), mu.detach(), atol=0.02)
    assert torch.allclose(z.var(0), logvar.detach().exp(), rtol=0.03)
    # d/dmu E[z^2] = 2 mu and d/dlogvar E[z^2] = sigma^2 (E[z^2] = mu^2 + sigma^2).
    z.pow(2).mean(0).sum().backward()
    assert torch.allclose(mu.grad, 2 * mu.detach(), atol=0.05)
    assert torch.allclose(logvar.grad, logvar.detach().exp(), rtol=0.05)


@pytest.mark.parametrize("seed", SEEDS)
def test_bernoulli_log_likelihood_matches_torch_distribution(seed):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(5, 1, 4, 4, generator=g, dtype=torch.float64)
    x = torch.rand(5, 1, 4, 4, generator=g, dtype=torch.float64).round()
    expected = torch.distributions.Bernoulli(logits=logits).log_prob(x).flatten(1).sum(1)
    assert torch.allclose(losses.bernoulli_log_likelihood(logits, x), expected, atol=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
def test_elbo_is_reconstruction_minus_kl_and_below_log_evidence(seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(3, 1, 2, 2, generator=g, dtype=torch.float64).round()
    logits = torch.randn(3, 1, 2, 2, generator=g, dtype=torch.float64)
    mu = torch.randn(3, 2, generator=g, dtype=torch.float64)
    logvar = torch.randn(3, 2, generator=g, dtype=torch.float64)
    expected = losses.bernoulli_log_likelihood(logits, x) - losses.gaussian_kl(mu, logvar)
    assert torch.allclose(losses.elbo(x, logits, mu, logvar), expected)
    # The bound itself, on a model where log p(x) is exact: z ~ N(0, 1), x | z ~ N(z, s2), so x ~ N(0, 1 + s2).
    s2, xv = 0.5, 1.3
    log_px = torch.distributions.Normal(0.0, math.sqrt(1 + s2)).log_prob(torch.tensor(xv, dtype=torch.float64))
    zq = torch.randn(200_000, generator=g, dtype=torch.float64)  # q(z|x) = N(0, 1), deliberately not the posterior
    recon = torch.distributions.Normal(zq, math.sqrt(s2)).log_prob(torch.tensor(xv, dtype=torch.float64)).mean()
    bound = recon - losses.gaussian_kl(torch.zeros(1, 1, dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64))
    assert bound.item() < log_px.item() - 0.1

"""Specifications of the VAE chapter's package code (aigc_course.vae) and its CLI commands."""

import math

import pytest
import torch
from torch.distributions import MultivariateNormal, Normal, kl_divergence

from aigc_course import engine
from aigc_course.checkpoint import load_checkpoint, save_checkpoint
from aigc_course.cli import main
from aigc_course.vae import (
    VAE,
    TrainConfig,
    VAEConfig,
    binarize,
    evaluate,
    heldout_digits,
    iwae_bound,
    log_normal,
    log_weights,
    train_vae,
)

VARIANTS = {
    "article": VAEConfig(),
    "deep": VAEConfig(hidden=64, depth=2, latent_dim=8, activation="elu"),
    "latent2d": VAEConfig(hidden=32, latent_dim=2),
    "conv": VAEConfig(arch="conv", hidden=32, channels=4, latent_dim=4),
    "conditional": VAEConfig(hidden=32, latent_dim=4, num_classes=10),
    "conditional_conv": VAEConfig(arch="conv", hidden=32, channels=4, latent_dim=4, num_classes=10),
    "pixel": VAEConfig(hidden=32, latent_dim=4, pixel=8),
}


def digits(n=16, seed=0):
    """n binary digit-like images (N, 1, 28, 28) and labels."""
    g = torch.Generator().manual_seed(seed)
    grey = torch.rand(n, 1, 28, 28, generator=g) * (torch.rand(n, 1, 1, 1, generator=g) < 0.5)
    return binarize(grey, g), torch.arange(n) % 10


def labels_for(model, y):
    return y if model.config.num_classes else None


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_variant_encodes_decodes_and_samples_with_the_promised_shapes(name):
    torch.manual_seed(0)
    model = VAE(VARIANTS[name])
    x, y = digits(6)
    yy = labels_for(model, y)
    mu, logvar = model.encode(x, yy)
    assert mu.shape == logvar.shape == (6, model.config.latent_dim)
    logits = model.decode(mu, yy)
    assert logits.shape == (6, 1, 28, 28)
    assert model.elbo(x, yy).shape == (6,)
    samples = model.sample(5)
    assert samples.shape == (5, 1, 28, 28)
    assert samples.min() >= 0 and samples.max() <= 1


def test_elbo_equals_reconstruction_minus_kl_computed_independently():
    torch.manual_seed(0)
    model = VAE(VAEConfig(hidden=32, latent_dim=5)).double()
    x, _ = digits(8)
    x = x.double()
    got = model.elbo(x, generator=torch.Generator().manual_seed(7))

    # the same eps by hand, then log p(x|z) from probabilities and the KL from torch.distributions
    mu, logvar = model.encode(x)
    eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    z = mu + torch.exp(0.5 * logvar) * eps
    p = torch.sigmoid(model.decode(z)).flatten(1)
    xf = x.flatten(1)
    reconstruction = (xf * torch.log(p) + (1 - xf) * torch.log(1 - p)).sum(1)
    kl = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(1)
    torch.testing.assert_close(got, reconstruction - kl, rtol=1e-9, atol=1e-8)
    assert (kl > 0).all()


def test_iwae_with_one_sample_equals_the_elbo_on_average():
    torch.manual_seed(0)
    model = VAE(VAEConfig(hidden=32, latent_dim=5)).double()
    x, _ = digits(4)
    x = x.double()
    reps = 4000
    g = torch.Generator().manual_seed(1)
    xr = x.repeat(reps, 1, 1, 1)
    iwae1 = iwae_bound(model, xr, k=1, generator=g).reshape(reps, 4)
    elbo = model.elbo(xr, generator=g).reshape(reps, 4)
    # IWAE_1 = log p(x|z) + log p(z) - log q(z|x): the ELBO with a sampled instead of an exact KL
    diff = iwae1.mean(0) - elbo.mean(0)
    stderr = (iwae1.var(0) / reps + elbo.var(0) / reps).sqrt()
    assert (diff.abs() < 4 * stderr).all(), (diff, stderr)


def test_iwae_is_non_decreasing_in_k_so_the_nll_is_non_increasing():
    torch.manual_seed(0)
    model = VAE(VAEConfig(hidden=32, latent_dim=5))
    x, _ = digits(32)
    g = torch.Generator().manual_seed(2)
    bounds = [iwae_bound(model, x, k=k, generator=g).mean().item() for k in (1, 4, 16, 64)]
    assert all(a < b for a, b in zip(bounds[:-1], bounds[1:], strict=True)), bounds


class LinearGaussian(torch.nn.Module):
    """p(z) = N(0, I), p(x|z) = N(Wz + b, s^2 I), so p(x) = N(b, W W^T + s^2 I) exactly.

    q(z|x) is the exact posterior made deliberately wrong (mean shifted by half a standard deviation,
    variance doubled, correlations dropped),
    so the ELBO is loose and importance sampling has something to fix.
    """

    def __init__(self, x_dim=6, z_dim=3, s=0.5, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.W = torch.randn(x_dim, z_dim, generator=g, dtype=torch.float64)
        self.b = torch.randn(x_dim, generator=g, dtype=torch.float64)
        self.s = s

    def log_px(self, x):
        cov = self.W @ self.W.T + self.s**2 * torch.eye(len(self.b), dtype=torch.float64)
        return MultivariateNormal(self.b, cov).log_prob(x)

    def encode(self, x):
        z_dim = self.W.shape[1]
        precision = torch.eye(z_dim, dtype=torch.float64) + self.W.T @ self.W / self.s**2
        cov = torch.linalg.inv(precision)
        mean = (x - self.b) @ self.W @ cov.T / self.s**2
        var = cov.diagonal()
        return mean + 0.5 * var.sqrt(), torch.log(2 * var).expand_as(mean)

    def log_likelihood(self, x, z):
        mean = z @ self.W.T + self.b
        return log_normal(x, mean, torch.full_like(mean, 2 * math.log(self.s)))


def test_iwae_is_exact_on_a_linear_gaussian_model_with_known_log_px():
    model = LinearGaussian()
    g = torch.Generator().manual_seed(3)
    x = torch.randn(5, 3, generator=g, dtype=torch.float64) @ model.W.T + model.b
    x = x + model.s * torch.randn(x.shape, generator=g, dtype=torch.float64)
    exact = model.log_px(x)
    elbo = log_weights(model, x, k=2000, generator=g).mean(0)
    estimate = iwae_bound(model, x, k=20000, generator=g)
    assert ((exact - elbo) > 0.3).all(), "the test needs a loose ELBO to mean anything"
    torch.testing.assert_close(estimate, exact, atol=0.03, rtol=0)


def test_evaluate_gives_an_iwae_nll_no_worse_than_the_negative_elbo():
    torch.manual_seed(0)
    model = VAE(VAEConfig(hidden=32, latent_dim=5))
    x, _ = digits(20)
    result = evaluate(model, x, k=50, batch_size=7)
    assert result.n == 20 and result.k == 50
    assert result.iwae_nll < result.neg_elbo


def test_heldout_digits_are_binary_and_the_same_every_time():
    x, y = heldout_digits()
    assert x.shape == (1000, 1, 28, 28) and y.shape == (1000,)
    assert set(x.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(x, heldout_digits()[0])


def test_a_few_hundred_steps_cut_the_heldout_negative_elbo_by_far():
    from aigc_course.data import load_digits, stratified_indices

    torch.manual_seed(0)
    x, y = load_digits("train")
    xt, yt = heldout_digits()
    xt = xt[stratified_indices(yt, 200)]   # 20 of each digit: the split is sorted by class
    model = VAE(VAEConfig(hidden=64))
    before = evaluate(model, xt, k=1).neg_elbo
    history = train_vae(model, x, TrainConfig(steps=300, batch_size=64), progress=False)
    after = evaluate(model, xt, k=1).neg_elbo
    assert before > 500 and after < 200, (before, after)
    assert len(history["kl"]) == 300 and history["kl"][-1] > 1


def test_reconstruction_only_training_never_pays_for_the_kl():
    """beta = 0 is the article's loss: the KL is free to grow, so z drifts away from the prior."""
    from aigc_course.data import load_digits

    torch.manual_seed(0)
    x, _ = load_digits("train")
    history_ae = train_vae(VAE(VAEConfig(hidden=64)), x, TrainConfig(steps=300, beta=0.0), progress=False)
    torch.manual_seed(0)
    history_vae = train_vae(VAE(VAEConfig(hidden=64)), x, TrainConfig(steps=300), progress=False)
    assert history_ae["kl"][-1] > 3 * history_vae["kl"][-1]


@pytest.mark.parametrize("config", [TrainConfig(steps=5, batch_size=8, seed=1),
                                    TrainConfig(steps=5, batch_size=8, lr=1e-2, final_lr=1e-3, warmup=3, shift=1)])
def test_the_plain_loop_and_the_run_plumbing_take_the_same_steps(config):
    """train_vae (the loop the chapter shows) and run_vae (torchrun, resume, checkpoints) are one training."""
    x, y = digits(64)
    models = []
    for run in ({}, {"run": engine.Run()}):
        torch.manual_seed(0)
        models.append(VAE(VAEConfig(hidden=32, latent_dim=4, num_classes=10)))
        history = train_vae(models[-1], x, config, y=y, progress=False, **run)
        assert len(history["neg_elbo"]) == config.steps
    for (name, p), q in zip(models[0].state_dict().items(), models[1].state_dict().values(), strict=True):
        assert torch.equal(p, q), name


def test_the_pixel_layer_only_looks_at_pixels_above_and_to_the_left():
    torch.manual_seed(0)
    model = VAE(VAEConfig(hidden=32, latent_dim=4, pixel=8, pixel_window=5)).double()
    x, _ = digits(2)
    x = x.double()
    base = torch.randn(2, 1, 28, 28, dtype=torch.float64)
    before = model.pixel_logits(x, base).flatten(1)
    for i, j in [(0, 0), (10, 13), (27, 27), (14, 2)]:
        flipped = x.clone()
        flipped[:, 0, i, j] = 1 - flipped[:, 0, i, j]
        changed = (model.pixel_logits(flipped, base).flatten(1) != before).any(0).nonzero().squeeze(1)
        pixel = 28 * i + j
        # flipping pixel (i, j) moves only later pixels in reading order, and only within the window
        assert (changed > pixel).all(), (i, j, changed[:5])
        rows, cols = changed // 28, changed % 28
        assert ((rows - i).abs() <= 2).all() and ((cols - j).abs() <= 2).all()
        if (i, j) != (27, 27):
            assert len(changed) > 0   # and it does move the next pixels: the layer is not ignoring them


def test_drawing_pixels_one_by_one_matches_the_likelihood_computed_all_at_once():
    torch.manual_seed(0)
    model = VAE(VAEConfig(hidden=32, latent_dim=4, pixel=8)).eval()
    base = model.decode(torch.randn(6, 4))
    drawn, probs = model.draw_pixels(base, torch.Generator().manual_seed(3))
    assert set(drawn.unique().tolist()) <= {0.0, 1.0}
    # the probability each pixel was drawn with is the one the parallel (training) pass assigns it
    torch.testing.assert_close(torch.sigmoid(model.pixel_logits(drawn, base)), probs, rtol=1e-5, atol=1e-6)
    without = VAE(VAEConfig(hidden=32, latent_dim=4))
    assert without.pixel_logits(drawn, base) is base   # no pixel layer: pixels independent given z


def test_a_pixel_vae_samples_binary_digits_drawn_through_its_pixel_layer():
    torch.manual_seed(0)
    model = VAE(VAEConfig(hidden=32, latent_dim=4, pixel=8))
    samples = model.sample(5, generator=torch.Generator().manual_seed(1))
    # the same z and the same uniform draws, pixel by pixel: sample() returns the drawn digits
    g = torch.Generator().manual_seed(1)
    drawn, _ = model.draw_pixels(model.decode(torch.randn(5, 4, generator=g)), g)
    assert set(samples.unique().tolist()) <= {0.0, 1.0}
    assert torch.equal(samples, drawn)


def test_chunked_pixel_likelihood_equals_the_one_z_at_a_time_one():
    torch.manual_seed(0)
    model = VAE(VAEConfig(hidden=32, latent_dim=4, pixel=8)).eval()
    x, _ = digits(50)
    z = torch.randn(30, 50, 4)           # 1,500 images: computed in chunks of 10 z
    got = model.log_likelihood(x, z)
    want = torch.cat([model.log_likelihood(x, z[i:i + 1]) for i in range(30)])   # one z at a time
    torch.testing.assert_close(got, want)


@pytest.mark.parametrize("name", ["conv", "conditional", "pixel"])
def test_checkpoint_round_trip_keeps_config_and_outputs(tmp_path, name):
    torch.manual_seed(0)
    model = VAE(VARIANTS[name]).eval()
    x, y = digits(4)
    yy = labels_for(model, y)
    path = save_checkpoint(tmp_path / "m.pt", model, kind=name)
    loaded, extra = load_checkpoint(path, with_extra=True)
    assert isinstance(loaded, VAE) and loaded.config == model.config and extra["kind"] == name
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    torch.testing.assert_close(loaded.elbo(x, yy, g1), model.elbo(x, yy, g2))


def test_conditional_vae_draws_the_digit_it_is_asked_for():
    torch.manual_seed(0)
    model = VAE(VARIANTS["conditional"])
    g = torch.Generator().manual_seed(0)
    threes = model.sample(4, y=torch.full((4,), 3), generator=g)
    g = torch.Generator().manual_seed(0)
    sevens = model.sample(4, y=torch.full((4,), 7), generator=g)
    assert not torch.allclose(threes, sevens)
    with pytest.raises(ValueError, match="labels"):
        model.encode(digits(2)[0])


@pytest.mark.parametrize("kind", ["vae", "convvae", "cvae", "pixelvae"])
def test_cli_trains_samples_and_evaluates_on_a_tiny_step_count(tmp_path, capsys, kind):
    assert main(["train", kind, "--steps", "3", "--seed", "1", "--out", str(tmp_path), "--quiet"]) == 0
    ckpt = tmp_path / f"{kind}.pt"
    model, extra = load_checkpoint(ckpt, with_extra=True)
    assert isinstance(model, VAE) and extra["train_config"]["steps"] == 3 and len(extra["history"]["kl"]) == 3

    assert main(["sample", str(ckpt), "-n", "8", "--out", str(tmp_path / "s.pt")]) == 0
    samples = torch.load(tmp_path / "s.pt")
    assert samples.shape == (8, 1, 28, 28) and 0 <= samples.min() and samples.max() <= 1

    assert main(["eval", str(ckpt), "-k", "2"]) == 0
    out = capsys.readouterr().out
    assert "-ELBO" in out and "IWAE NLL (K=2)" in out and "1000 images" in out


def test_cli_eval_refuses_a_model_without_a_likelihood(tmp_path, capsys):
    from aigc_course.judge import Judge, JudgeConfig

    path = save_checkpoint(tmp_path / "judge.pt", Judge(JudgeConfig()))
    assert main(["eval", str(path)]) == 1
    assert "no likelihood" in capsys.readouterr().err


def test_beta_explorer_shows_a_different_picture_and_caption_for_each_beta():
    import ipywidgets as widgets

    from aigc_course.vae import beta_explorer

    torch.manual_seed(0)
    models = {beta: VAE(VAEConfig(hidden=16, latent_dim=3)) for beta in (0.5, 1.0, 2.0)}
    x, _ = digits(12)
    box = beta_explorer(models, x, n=6)
    assert isinstance(box, widgets.VBox)
    slider, caption, picture = box.children
    assert slider.description == "beta" and slider.value == 1.0
    assert isinstance(picture, widgets.Image) and picture.value[:8] == b"\x89PNG\r\n\x1a\n"
    seen = {(caption.value, picture.value)}
    for beta in (0.5, 2.0):
        slider.value = beta
        assert caption.value.startswith(f"<b>beta = {beta:g}</b>")
        seen.add((caption.value, picture.value))
    assert len({c for c, _ in seen}) == 3 and len({p for _, p in seen}) == 3


@pytest.mark.parametrize("name", ["article", "conditional"])
def test_interpolation_explorer_moves_from_one_digit_to_the_other(name):
    import ipywidgets as widgets

    from aigc_course.vae import interpolation_explorer

    torch.manual_seed(0)
    model = VAE(VARIANTS[name])
    x, _ = digits(2)
    box = interpolation_explorer(model, x[0], x[1], y=3 if model.config.num_classes else None)
    slider, caption, picture = box.children[:3]
    assert slider.description == "t" and isinstance(picture, widgets.Image)
    pictures = set()
    for t in (0.0, 0.5, 1.0):
        slider.value = t
        assert f"t = {t:.2f}" in caption.value
        pictures.add(picture.value)
    assert len(pictures) == 3

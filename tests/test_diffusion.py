"""Diffusion and flow matching: the forward process, the Gaussian closed forms, the samplers, training, checkpoints."""

import math

import pytest
import torch

from aigc_course import diffusion as D
from aigc_course.checkpoint import load_checkpoint, save_checkpoint


def tiny(objective="flow", arch="mlp", num_classes=3, **kw) -> D.Diffusion:
    torch.manual_seed(0)
    config = D.DiffusionConfig(objective=objective, arch=arch, dim=2, channels=16 if arch == "mlp" else 8,
                               depth=2, num_classes=num_classes, **kw)
    model = D.Diffusion(config)
    model.update_ema(0.0)       # the EMA copy equals the weights
    return model


# --------------------------------------------------------------------------- forward process


def test_the_markov_chain_has_the_closed_form_marginal():
    betas = D.ddpm_schedule()
    abar = D.alpha_bar(betas)
    x0 = torch.tensor([1.5, -0.5], dtype=torch.float64).expand(40_000, 2)
    for k in (10, 300):
        xk = D.forward_chain(x0, betas, k, torch.Generator().manual_seed(k))
        a = abar[k - 1]
        # mean sqrt(abar) x0 and variance 1 - abar; standard errors about 0.005 for 40,000 draws
        assert torch.allclose(xk.mean(0), a.sqrt() * x0[0], atol=0.02)
        assert torch.allclose(xk.var(0), (1 - a).expand(2), atol=0.02)
    assert abar[-1] < 1e-4 and abar[0] > 0.999     # the chain ends near pure noise and starts near the data


def test_q_sample_and_flow_path_at_their_ends():
    x0, eps = torch.randn(5, 3), torch.randn(5, 3)
    assert torch.allclose(D.q_sample(x0, torch.ones(5), eps), x0)
    assert torch.allclose(D.q_sample(x0, torch.zeros(5), eps), eps)
    xt, v = D.flow_path(x0, torch.full((5,), 0.25), eps)
    assert torch.allclose(xt, 0.75 * x0 + 0.25 * eps) and torch.allclose(v, eps - x0)


# --------------------------------------------------------------------------- closed forms for Gaussian data


def _gaussian(n=200_000, seed=0):
    g = torch.Generator().manual_seed(seed)
    mean = torch.tensor([1.0, -2.0], dtype=torch.float64)
    cov = torch.tensor([[2.0, 0.6], [0.6, 0.5]], dtype=torch.float64)
    x0 = mean + torch.randn(n, 2, generator=g, dtype=torch.float64) @ torch.linalg.cholesky(cov).T
    return mean, cov, x0, torch.randn(n, 2, generator=g, dtype=torch.float64)


def _least_squares(inputs, targets):
    """The best affine predictor of targets from inputs, as its values at the inputs."""
    design = torch.cat([inputs, torch.ones(len(inputs), 1, dtype=inputs.dtype)], dim=1)
    return design @ torch.linalg.lstsq(design, targets).solution


@pytest.mark.parametrize("abar", [0.9, 0.5, 0.05])
def test_the_optimal_noise_predictor_is_the_closed_form_linear_one(abar):
    mean, cov, x0, eps = _gaussian()
    xt = math.sqrt(abar) * x0 + math.sqrt(1 - abar) * eps
    closed = D.gaussian_optimal_noise(xt, abar, mean, cov)
    fitted = _least_squares(xt, eps)           # for Gaussian data the regression E[eps | x_t] is affine
    assert (closed - fitted).abs().max() < 0.02
    assert closed.std() > 0.1                  # not a trivial (zero) predictor


@pytest.mark.parametrize("t", [0.2, 0.5, 0.9])
def test_the_optimal_velocity_is_the_closed_form_linear_one(t):
    mean, cov, x0, eps = _gaussian()
    xt, v = D.flow_path(x0, torch.full((len(x0),), t, dtype=torch.float64), eps)
    closed = D.gaussian_optimal_velocity(xt, t, mean, cov)
    assert (closed - _least_squares(xt, v)).abs().max() < 0.02
    # and it beats predicting the mean velocity: the residual variance is smaller
    assert (v - closed).pow(2).mean() < (v - v.mean(0)).pow(2).mean() - 0.1


def test_elbo_weights_are_positive_and_largest_at_the_first_step():
    w = D.elbo_weights(D.ddpm_schedule())
    assert (w > 0).all() and w.argmax() == 0


# --------------------------------------------------------------------------- model and samplers


@pytest.mark.parametrize("objective,sampler", [("flow", "euler"), ("flow", "heun"), ("ddpm", "ancestral"),
                                               ("ddpm", "ddim")])
def test_samplers_give_the_right_shape_and_are_deterministic_under_a_seed(objective, sampler):
    model = tiny(objective)

    def draw(seed, **kw):
        return model.sample(6, steps=4, guidance=2.0, sampler=sampler, generator=torch.Generator().manual_seed(seed),
                            **kw)

    a, b, c = draw(0), draw(0), draw(1)
    assert a.shape == (6, 2) and torch.isfinite(a).all()
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_the_unet_samples_digits_in_unit_range():
    model = tiny("flow", arch="unet", num_classes=10)
    x = model.sample(3, y=7, steps=2, generator=torch.Generator().manual_seed(0))
    assert x.shape == (3, 1, 28, 28) and 0 <= x.min() and x.max() <= 1


def test_pixel_unshuffle_round_trips_digits():
    x = torch.rand(2, 1, 28, 28)
    z = D.to_model_space(x)
    assert z.shape == (2, 4, 14, 14) and -1 <= z.min() and z.max() <= 1
    assert torch.allclose(D.to_images(z), x, atol=1e-6)


def test_one_euler_step_is_noise_minus_the_velocity_at_t1():
    model = tiny("flow")
    noise = torch.randn(5, 2, generator=torch.Generator().manual_seed(3))
    y = torch.tensor([0, 1, 2, 0, 1])
    one = model.sample(5, y=y, steps=1, guidance=1.5, noise=noise)
    assert torch.allclose(one, noise - model.predict(noise, 1.0, y, guidance=1.5), atol=1e-6)


@pytest.mark.parametrize("sampler", ["ancestral", "ddim"])
def test_one_ddpm_step_is_the_clipped_x0_prediction(sampler):
    model = tiny("ddpm", clip=1.0)
    noise = torch.randn(5, 2, generator=torch.Generator().manual_seed(4))
    y = torch.tensor([2, 1, 0, 2, 1])
    one = model.sample(5, y=y, steps=1, guidance=1.0, sampler=sampler, noise=noise)
    a = model.abar[-1]
    eps = model.predict(noise, 1.0, y)
    assert torch.allclose(one, ((noise - (1 - a).sqrt() * eps) / a.sqrt()).clamp(-1, 1), atol=1e-5)


def test_guidance_mixes_the_conditional_and_unconditional_predictions():
    model = tiny("flow")
    x, y = torch.randn(4, 2), torch.tensor([0, 1, 2, 1])
    cond, uncond = model.predict(x, 0.5, y, 1.0), model.predict(x, 0.5, None)
    assert torch.allclose(model.predict(x, 0.5, y, 0.0), uncond, atol=1e-6)
    assert torch.allclose(model.predict(x, 0.5, y, 3.0), uncond + 3 * (cond - uncond), atol=1e-5)
    assert not torch.allclose(cond, uncond)


def test_a_sampler_of_the_other_objective_is_refused():
    with pytest.raises(ValueError, match="does not fit"):
        tiny("flow").sample(2, sampler="ancestral")


# --------------------------------------------------------------------------- training and checkpoints


def test_training_lowers_the_loss_and_moves_the_ema_behind_the_weights():
    from aigc_course.data import ring_of_gaussians

    model = tiny("flow", num_classes=0)
    x, _ = ring_of_gaussians(2000)
    history = D.train_diffusion(model, x, D.TrainConfig(steps=150, batch_size=128, lr=3e-3), progress=False)
    first, last = sum(history["loss"][:20]) / 20, sum(history["loss"][-20:]) / 20
    assert len(history["loss"]) == 150 and last < 0.8 * first
    ema, now = torch.cat([p.flatten() for p in model.ema_net.parameters()]), torch.cat(
        [p.flatten() for p in model.net.parameters()])
    assert not torch.allclose(ema, now)


def test_a_checkpoint_round_trips_with_its_ema_weights(tmp_path):
    model = tiny("ddpm")
    for p in model.net.parameters():
        p.data.add_(0.1)                       # weights and EMA now differ
    again = load_checkpoint(save_checkpoint(tmp_path / "d.pt", model))
    assert isinstance(again, D.Diffusion) and again.config == model.config
    g = lambda: torch.Generator().manual_seed(0)   # noqa: E731
    assert torch.equal(model.sample(4, steps=3, generator=g()), again.sample(4, steps=3, generator=g()))


def test_the_widget_picture_follows_its_sliders():
    model = tiny("flow", arch="unet", num_classes=10)
    box = D.guidance_explorer(model)
    before = box.image.value
    box.guidance.value = 0.0
    assert box.image.value != before
    box.steps.value = 1
    assert "1 sampler steps" in box.caption.value

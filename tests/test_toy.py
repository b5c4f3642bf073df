"""The toy 2-D GAN and VAE of chapter 3, and the mode-coverage score, as specifications."""

import pytest
import torch

from aigc_course import load_checkpoint, save_checkpoint
from aigc_course.data import ring_centres, ring_of_gaussians
from aigc_course.toy import (
    ToyGAN,
    ToyGANConfig,
    ToyVAE,
    ToyVAEConfig,
    decision_surface,
    mode_coverage,
    train_toy_gan,
    train_toy_vae,
)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny MLPs run faster on one thread (and do not fight other jobs for cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_real_ring_data_covers_all_modes_with_high_quality(seed):
    x, _ = ring_of_gaussians(4000, seed=seed)
    report = mode_coverage(x)
    assert report.covered == 8 and report.high_quality > 0.98


def test_samples_on_one_mode_count_as_one_mode():
    x = ring_centres()[3] + 0.05 * torch.randn(1000, 2, generator=torch.Generator().manual_seed(0))
    assert mode_coverage(x).covered == 1


def test_samples_between_modes_are_not_high_quality():
    c = ring_centres()
    midpoints = (c + c.roll(1, 0)) / 2
    assert mode_coverage(midpoints.repeat(50, 1)).high_quality == 0.0


def test_gan_shapes_and_checkpoint_round_trip(tmp_path):
    model = ToyGAN(ToyGANConfig(hidden=16))
    assert model.sample(7).shape == (7, 2)
    assert model.d_logits(torch.zeros(5, 2)).shape == (5,)
    assert decision_surface(model, resolution=10).shape == (10, 10)
    save_checkpoint(tmp_path / "toy.pt", model)
    loaded = load_checkpoint(tmp_path / "toy.pt")
    z = torch.randn(4, 2)
    assert torch.equal(loaded.generator(z), model.generator(z))


def _mean_distance_to_nearest_centre(points):
    return torch.cdist(points, ring_centres()).min(dim=1).values.mean().item()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_short_gan_training_moves_samples_towards_the_modes(seed):
    config = ToyGANConfig(hidden=64, steps=400, seed=seed)
    z = torch.Generator().manual_seed(0)
    before = _mean_distance_to_nearest_centre(ToyGAN(config).sample(1000, z))
    model, history = train_toy_gan(config, snapshot_at=(200,), progress=False)
    after = _mean_distance_to_nearest_centre(model.sample(1000, torch.Generator().manual_seed(0)))
    assert after < 0.6 * before  # measured 1.8 -> 0.6..1.0 (seeds 0-1)
    assert set(history.snapshots) == {200} and history.snapshots[200]["samples"].shape == (1000, 2)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vae_trains_encoder_and_decoder_jointly_and_its_elbo_rises(seed):
    config = ToyVAEConfig(hidden=64, steps=400, seed=seed)
    torch.manual_seed(seed)
    initial = ToyVAE(config)  # the same initialisation train_toy_vae starts from
    model, _ = train_toy_vae(config, progress=False)
    x, _ = ring_of_gaussians(1000, seed=99)
    with torch.no_grad():
        gain = (model.elbo(x, torch.Generator().manual_seed(0)).mean()
                - initial.elbo(x, torch.Generator().manual_seed(0)).mean()).item()
    assert gain > 0.2  # measured 0.4..0.56 nats after 400 steps
    for part in ("encoder", "decoder"):  # one optimiser moved both networks
        moved = [not torch.equal(a, b) for a, b in zip(getattr(model, part).parameters(),
                                                        getattr(initial, part).parameters(), strict=True)]
        assert all(moved), part
    assert model.sample(5).shape == (5, 2)


def test_g_steps_and_d_steps_set_how_many_updates_each_network_gets(monkeypatch):
    calls = {"d": 0, "g": 0}
    original_step = torch.optim.Adam.step

    def counting_step(self, *args, **kwargs):
        calls["g" if self.param_groups[0]["lr"] == 0.002 else "d"] += 1
        return original_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", counting_step)
    train_toy_gan(ToyGANConfig(hidden=8, batch_size=16, steps=4, d_steps=2, g_steps=3, lr_g=0.002),
                  progress=False, n_data=100)
    assert calls == {"d": 8, "g": 12}


def test_kl_warmup_weight_scales_only_the_kl_term():
    torch.manual_seed(0)
    model = ToyVAE(ToyVAEConfig(hidden=16))
    x, _ = ring_of_gaussians(64, seed=3)
    elbos = [model.elbo(x, torch.Generator().manual_seed(0), kl_weight=w) for w in (0.0, 0.5, 1.0)]
    # ELBO(w) = log p(x|z) - w KL with the same z: linear in w, and the KL >= 0 makes it fall as w rises
    assert torch.allclose(elbos[1], (elbos[0] + elbos[2]) / 2, atol=1e-5)
    assert (elbos[0] >= elbos[2]).all() and (elbos[0] > elbos[2]).any()


def test_decoder_variance_respects_its_lower_bound():
    model = ToyVAE(ToyVAEConfig(hidden=16, min_logvar=-3.0))
    _, logvar = model.decode(1e3 * torch.randn(100, 2, generator=torch.Generator().manual_seed(0)))
    assert logvar.min() >= -3.0

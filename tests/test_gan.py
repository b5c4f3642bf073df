"""Specifications of aigc_course.gan: shapes and ranges, the losses on hand-computed cases,
a discriminator step that learns, checkpoints that round-trip, and the CLI on tiny runs."""

import math
from dataclasses import replace

import pytest
import torch

from aigc_course import load_checkpoint, save_checkpoint, seed_everything
from aigc_course.cli import main
from aigc_course.gan import (
    CLUSTERS,
    DCGAN,
    MLPGAN,
    RECIPES,
    DCGANConfig,
    MLPGANConfig,
    TutorialDCGAN,
    TutorialDCGANConfig,
    build_model,
    digit_picker,
    latent_explorer,
    train_gan,
)
from aigc_course.losses import (
    discriminator_loss,
    generator_loss_nonsaturating,
    generator_loss_saturating,
)
from aigc_course.plots import grid_png

KINDS = ["gan", "dcgan", "scgan", "cgan", "tutorial"]


@pytest.mark.parametrize("kind", KINDS)
def test_sample_gives_n_digit_images_in_unit_range(kind):
    model = build_model(kind)
    x = model.sample(7)
    assert x.shape == (7, 1, 28, 28)
    assert x.min() >= 0 and x.max() <= 1


@pytest.mark.parametrize("kind", KINDS)
def test_discriminator_takes_images_and_returns_one_logit_each(kind):
    model = build_model(kind).eval()
    x = torch.rand(5, 1, 28, 28) * 2 - 1
    labels = torch.arange(5)
    assert model.discriminate(x, labels).shape == (5,)


def test_article_mlp_has_the_articles_shapes():
    model = MLPGAN(MLPGANConfig())
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(100, 128), (128, 784), (784, 128), (128, 1)]
    # parameter count of the Keras summary: G 12,928 + 101,136; D 100,480 + 129
    assert sum(p.numel() for p in model.parameters()) == 12_928 + 101_136 + 100_480 + 129


def test_conditional_gan_draws_the_requested_label_shapes():
    model = DCGAN(DCGANConfig(num_classes=10)).eval()
    assert model.sample(4, y=3).shape == (4, 1, 28, 28)
    assert model.sample(3, y=torch.tensor([0, 1, 2])).shape == (3, 1, 28, 28)
    seed_everything(0)
    a = model.sample(2, y=3)
    seed_everything(0)
    b = model.sample(2, y=7)
    assert not torch.allclose(a, b), "the label must change the image"


def test_discriminator_loss_is_2_log_2_when_d_is_undecided():
    zeros = torch.zeros(8)                       # logit 0 -> D = 1/2 everywhere
    assert discriminator_loss(zeros, zeros).item() == pytest.approx(2 * math.log(2))
    assert generator_loss_nonsaturating(zeros).item() == pytest.approx(math.log(2))


def test_losses_match_hand_computed_values():
    real, fake = torch.tensor([math.log(3.0)]), torch.tensor([-math.log(3.0)])   # D(x) = 3/4, D(G(z)) = 1/4
    assert discriminator_loss(real, fake).item() == pytest.approx(-2 * math.log(0.75))
    assert generator_loss_nonsaturating(fake).item() == pytest.approx(-math.log(0.25))
    # label smoothing 0.9: -[0.9 log(3/4) + 0.1 log(1/4)] - log(3/4)
    smoothed = -(0.9 * math.log(0.75) + 0.1 * math.log(0.25)) - math.log(0.75)
    assert discriminator_loss(real, fake, real_label=0.9).item() == pytest.approx(smoothed)


@pytest.mark.parametrize("kind", ["gan", "dcgan"])
def test_one_discriminator_step_lowers_its_loss_on_a_fixed_batch(kind):
    seed_everything(0)
    model = build_model(kind)
    real = torch.rand(32, 1, 28, 28) * 2 - 1
    with torch.no_grad():
        fake = model.generate(torch.randn(32, model.z_dim))
    d_params = [p for n, p in model.named_parameters() if n.startswith(("discriminator", "d_"))]
    opt = torch.optim.SGD(d_params, lr=0.05)

    def loss():
        return discriminator_loss(model.discriminate(real), model.discriminate(fake))

    model.eval()                                 # fixed batch-norm statistics: the same function before and after
    before = loss()
    opt.zero_grad()
    before.backward()
    opt.step()
    assert loss().item() < before.item()


def test_training_loop_records_history_and_leaves_generator_changed():
    seed_everything(0)
    model = build_model("gan")
    start = [p.clone() for p in model.generator.parameters()]
    x = torch.rand(64, 1, 28, 28)
    hist = train_gan(model, x, replace(RECIPES["article"], steps=3, batch_size=8), progress=False)
    assert set(hist) == {"d_loss", "g_loss", "D(x)", "D(G(z))"}
    assert all(len(v) == 3 for v in hist.values())
    assert all(0 <= p <= 1 for p in hist["D(x)"] + hist["D(G(z))"])
    assert any(not torch.equal(a, b) for a, b in zip(start, model.generator.parameters(), strict=True))


def test_training_is_deterministic_given_the_seed():
    x = torch.rand(64, 1, 28, 28)
    runs = []
    for _ in range(2):
        seed_everything(1)
        model = build_model("dcgan")
        runs.append(train_gan(model, x, replace(RECIPES["course"], steps=2, batch_size=8), seed=1,
                              progress=False)["d_loss"])
    assert runs[0] == runs[1]


@pytest.mark.parametrize("model", [MLPGAN(MLPGANConfig()), DCGAN(DCGANConfig(num_classes=10)),
                                   DCGAN(DCGANConfig(num_classes=5, self_conditioned=True)),
                                   TutorialDCGAN(TutorialDCGANConfig(ngf=8, ndf=8))])
def test_checkpoint_round_trip_gives_the_same_samples(tmp_path, model):
    model.eval()
    path = save_checkpoint(tmp_path / "m.pt", model, steps=0)
    again = load_checkpoint(path)
    assert type(again) is type(model) and again.config == model.config
    seed_everything(3)
    a = model.sample(4)
    seed_everything(3)
    b = again.sample(4)
    assert torch.equal(a, b)


@pytest.mark.parametrize("kind", ["gan", "dcgan", "scgan", "cgan"])
def test_cli_trains_then_samples_on_a_tiny_run(tmp_path, fresh_cache, kind, capsys):
    assert main(["train", kind, "--steps", "2", "--seed", "0", "--out", str(tmp_path), "--quiet"]) == 0
    ckpt = tmp_path / f"{kind}.pt"
    assert ckpt.is_file()
    out = tmp_path / "s.pt"
    assert main(["sample", str(ckpt), "-n", "12", "--out", str(out)]) == 0
    s = torch.load(out, weights_only=True)
    assert s.shape == (12, 1, 28, 28) and s.dtype == torch.float32
    assert 0 <= s.min() and s.max() <= 1
    model, extra = load_checkpoint(ckpt, with_extra=True)
    assert extra["steps"] == 2 and len(extra["history"]["d_loss"]) == 2


def test_judge_ranks_real_above_noise_above_one_repeated_digit():
    from aigc_course import load_digits
    from aigc_course.metrics import judge_report

    real, _ = load_digits("train")
    real = real[::4]                             # the training digits are sorted by class
    noise = torch.rand(1000, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    collapse = real[:1].expand(1000, 1, 28, 28)
    r, n, c = (judge_report(x) for x in (real, noise, collapse))
    assert r.frechet < n.frechet and r.frechet < c.frechet
    assert r.coverage == 10 and c.coverage == 1


def _g_grad_norm(model, loss_fn, fake_logit_shift):
    """Gradient norm reaching G's last layer when D calls every fake clearly fake (logit shifted down)."""
    z = torch.randn(16, model.z_dim, generator=torch.Generator().manual_seed(0))
    logits = model.discriminate(model.generate(z)) + fake_logit_shift
    model.zero_grad()
    loss_fn(logits).backward()
    return model.generator[2].weight.grad.norm().item()


def test_saturating_loss_starves_g_of_gradient_when_d_wins():
    model = build_model("gan")
    # D(G(z)) ~ sigmoid(-8) ~ 3e-4: the minimax term is flat there, the non-saturating one is steep.
    sat = _g_grad_norm(model, generator_loss_saturating, -8.0)
    nonsat = _g_grad_norm(model, generator_loss_nonsaturating, -8.0)
    assert sat < nonsat / 100


def test_recipe_can_give_d_and_g_their_own_learning_rates_and_the_saturating_loss():
    seed_everything(0)
    x = torch.rand(64, 1, 28, 28)
    base = replace(RECIPES["course"], steps=3, batch_size=8)
    runs = {}
    for name, recipe in {"base": base, "d_lr": replace(base, d_lr=2e-3), "sat": replace(base, g_loss="saturating")}.items():
        seed_everything(0)
        runs[name] = train_gan(build_model("gan"), x, recipe, progress=False)["g_loss"]
    assert runs["d_lr"][1:] != runs["base"][1:]          # step 1 is the same; D's larger step shows from step 2
    assert all(v <= 0 for v in runs["sat"])               # E[log(1 - D(G(z)))] is never positive


def test_grid_png_is_a_png_of_the_tiled_size():
    import io

    from PIL import Image

    png = grid_png(torch.rand(6, 1, 28, 28), nrow=3, scale=2)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    picture = Image.open(io.BytesIO(png))
    assert picture.size == (2 * (3 * 30 + 2), 2 * (2 * 30 + 2))


def test_digit_picker_redraws_when_the_digit_changes():
    seed_everything(0)
    box = digit_picker(build_model("cgan").eval(), n=4)
    assert {w.description for w in box.children[0].children} == {"digit", "noise seed"}
    before = box.image.value
    box.digit.value = 3
    assert box.image.value != before and "<b>3</b>" in box.caption.value
    for kind in ("dcgan", "scgan"):   # no digit labels to pick from
        with pytest.raises(ValueError):
            digit_picker(build_model(kind))


@pytest.mark.parametrize("kind", ["dcgan", "cgan"])
def test_latent_explorer_moves_the_picture_with_each_slider(kind):
    seed_everything(0)
    box = latent_explorer(build_model(kind).eval(), directions=2)
    assert [s.description for s in box.sliders] == ["direction 1", "direction 2"]
    seen = {box.image.value}
    for slider in box.sliders:
        slider.value = 4.0
        seen.add(box.image.value)
    box.start.value = 5
    seen.add(box.image.value)
    assert len(seen) == 4


def test_self_conditioning_clusters_digits_by_their_pixels_alone():
    from aigc_course import load_digits

    x, y = load_digits("train")
    model = DCGAN(DCGANConfig(num_classes=CLUSTERS, self_conditioned=True))
    clusters = model.assign_clusters(x, seed=0)
    assert clusters.shape == (len(x),) and 0 <= clusters.min() and clusters.max() < CLUSTERS
    assert torch.equal(clusters, DCGAN(model.config).assign_clusters(x, seed=0))   # deterministic given the seed
    torch.testing.assert_close(model.cluster_share, torch.bincount(clusters, minlength=CLUSTERS) / len(x))
    # no labels went in, yet most clusters hold one kind of digit: the share of digits whose class is
    # their cluster's majority class (chapter 05: 0.85) is far above what random groups of 40 give (about 0.2)
    majority = sum(torch.bincount(y[clusters == c], minlength=10).max().item() for c in range(CLUSTERS))
    assert majority / len(x) > 0.7
    with pytest.raises(ValueError, match="at least 100 training images"):
        DCGAN(DCGANConfig(num_classes=100, self_conditioned=True)).assign_clusters(x[:50])


def test_a_self_conditioned_gan_samples_clusters_as_often_as_they_occur():
    model = DCGAN(DCGANConfig(num_classes=4, self_conditioned=True)).eval()
    model.cluster_share.copy_(torch.tensor([0.0, 0.0, 1.0, 0.0]))     # only cluster 2 occurs
    a = model.sample(6, generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(0)
    z = torch.randn(6, model.z_dim, generator=g)
    with torch.no_grad():
        b = (model.generate(z, torch.full((6,), 2)) + 1) / 2
    torch.testing.assert_close(a, b)
    model.cluster_share.copy_(torch.tensor([0.5, 0.0, 0.5, 0.0]))     # clusters 0 and 2, equally often
    a = model.sample(40, generator=torch.Generator().manual_seed(0))
    z = torch.randn(40, model.z_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        as_cluster = {c: (model.generate(z, torch.full((40,), c)) + 1) / 2 for c in range(4)}
    used = [[c for c in range(4) if torch.allclose(a[i], as_cluster[c][i])] for i in range(40)]
    assert all(u in ([0], [2]) for u in used) and 10 <= sum(u == [0] for u in used) <= 30

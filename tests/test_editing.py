import torch

from aigc_course.editing import add_noise, blur, half_mask, inpaint, masked_mse, mean_fill, project
from aigc_course.vae import VAE, VAEConfig


def _model(classes=0):
    torch.manual_seed(0)
    return VAE(VAEConfig(hidden=16, latent_dim=2, num_classes=classes))


def test_half_mask_hides_half_the_pixels():
    m = half_mask(2, "bottom")
    assert m.shape == (2, 1, 28, 28) and m.mean() == 0.5
    assert m[:, :, :14].eq(1).all() and m[:, :, 14:].eq(0).all()
    assert half_mask(1, "left")[0, 0, :, :14].eq(0).all()


def test_inpainting_keeps_visible_pixels_and_fills_the_rest_in_range():
    x = torch.rand(3, 1, 28, 28)
    mask = half_mask(3)
    out = inpaint(_model(), x, mask, steps=5)
    assert torch.equal(out * mask, x * mask)
    assert out.min() >= 0 and out.max() <= 1


def test_projection_tries_every_label_of_a_conditional_model():
    drawings, labels = project(_model(classes=10), torch.rand(4, 1, 28, 28), steps=3)
    assert drawings.shape == (4, 1, 28, 28) and labels.shape == (4,) and labels.max() < 10
    _, none = project(_model(), torch.rand(2, 1, 28, 28), steps=2)
    assert none.tolist() == [-1, -1]


def test_projection_fits_the_trusted_pixels_better_than_the_start():
    model = _model()
    x = torch.sigmoid(model.decode(torch.tensor([[1.0, -1.0]]))).detach()
    start = masked_mse(torch.sigmoid(model.decode(torch.zeros(1, 2))).detach(), x)
    drawing, _ = project(model, x, steps=100, lr=0.1)
    assert masked_mse(drawing, x) < start


def test_baselines_and_errors_on_hand_built_images():
    x = torch.zeros(1, 1, 28, 28)
    mask = half_mask(1)
    filled = mean_fill(x, mask, torch.full((1, 1, 28, 28), 0.5))
    assert masked_mse(filled, x, 1 - mask) == 0.25 and masked_mse(filled, x, mask) == 0.0
    flat = torch.full((1, 1, 8, 8), 0.3)
    assert torch.allclose(blur(flat), flat)  # a blur leaves a flat image alone
    noisy = add_noise(x, 0.4, seed=0)
    assert torch.equal(noisy, add_noise(x, 0.4, seed=0)) and noisy.min() >= 0 and noisy.max() <= 1


def test_neighbour_fill_copies_the_hidden_half_of_the_closest_training_digits():
    from aigc_course.editing import neighbour_fill

    train = torch.zeros(3, 1, 28, 28)
    train[1, :, :14] = 1.0          # visible half all ink, hidden half ink too
    train[1, :, 14:] = 1.0
    x = torch.zeros(1, 1, 28, 28)
    x[:, :, :14] = 0.9              # its visible half is closest to training digit 1
    mask = half_mask(1)
    filled = neighbour_fill(x, mask, train, k=1)
    assert torch.equal(filled * mask, x * mask) and filled[:, :, 14:].eq(1.0).all()
    assert neighbour_fill(x, mask, train, k=3)[:, :, 14:].allclose(torch.tensor(1 / 3))


def test_blur_threshold_is_binary_and_its_tuning_picks_from_the_grid():
    from aigc_course.editing import blur_threshold, tune_blur_threshold

    x = torch.zeros(4, 1, 28, 28)
    x[:, :, 10:18, 10:18] = 1.0
    noisy = add_noise(x, 0.4, seed=0)
    out = blur_threshold(noisy)
    assert set(out.unique().tolist()) <= {0.0, 1.0}
    sigma, threshold = tune_blur_threshold(x, noisy, sigmas=(0.75, 1.0), thresholds=(0.4, 0.5))
    assert sigma in (0.75, 1.0) and threshold in (0.4, 0.5)
    assert masked_mse(blur_threshold(noisy, sigma, threshold), x) < masked_mse(noisy, x)

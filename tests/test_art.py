import ipywidgets as widgets
import torch

from aigc_course import art
from aigc_course.vae import VAE, VAEConfig


def _model():
    torch.manual_seed(0)
    return VAE(VAEConfig(hidden=32, latent_dim=4, num_classes=10)).eval()


def test_slerp_ends_at_the_endpoints():
    a, b = torch.randn(2, 5)
    path = art.slerp(a, b, torch.tensor([0.0, 1.0]))
    assert torch.allclose(path[0], a, atol=1e-5) and torch.allclose(path[1], b, atol=1e-5)


def test_decode_mix_with_a_one_hot_equals_the_models_decoder():
    m = _model()
    z = torch.randn(3, 4)
    y = torch.tensor([1, 5, 9])
    mixed = art.decode_mix(m, z, torch.nn.functional.one_hot(y, 10).float())
    assert torch.allclose(mixed, torch.sigmoid(m.decode(z, y)), atol=1e-6)


def test_walks_and_mixes_have_the_stated_shapes():
    m = _model()
    assert art.latent_walk(m, 3, steps=5).shape == (5, 1, 28, 28)
    assert art.class_mix(m, 3, 8, steps=6).shape == (6, 1, 28, 28)
    assert art.style_grid(m, seeds=2).shape == (20, 1, 28, 28)


def test_compose_widget_redraws_when_a_slider_moves():
    box = art.compose_widget(_model())
    picture = [c for c in box.children if isinstance(c, widgets.Image)][0]
    sliders = [c for c in box.children if isinstance(c, widgets.FloatSlider)]
    before = picture.value
    sliders[0].value = 1.0
    assert picture.value != before and picture.value[:4] == b"\x89PNG"

"""Digital art with a conditional VAE: latent walks, class mixing and a widget to compose digits.

A conditional decoder p(x | z, y) separates *style* (the latent code z: slant, thickness, width)
from *content* (the label y, fed as a one-hot vector). Walking z changes the style of one digit;
mixing the one-hot vectors of two labels blends two digits drawn in one style.
"""

from __future__ import annotations

import io
import math

import torch
import torch.nn.functional as F


@torch.no_grad()
def decode_mix(model, z: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Return images (N, 1, 28, 28) in [0, 1] from codes z (N, latent) and label weights (N, classes) summing to 1."""
    model.eval()
    return torch.sigmoid(model.decoder(torch.cat([z, weights], dim=1)))


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Return spherical interpolations between codes a and b (latent,) at fractions t (N,): (N, latent)."""
    omega = torch.arccos(((a / a.norm()) * (b / b.norm())).sum().clamp(-1, 1))
    if omega.abs() < 1e-6:
        return a + t[:, None] * (b - a)
    so = torch.sin(omega)
    return (torch.sin((1 - t) * omega) / so)[:, None] * a + (torch.sin(t * omega) / so)[:, None] * b


def latent_walk(model, digit: int, steps: int = 10, seed: int = 0) -> torch.Tensor:
    """Return `steps` images (steps, 1, 28, 28) of one digit along a spherical path between two random codes."""
    g = torch.Generator().manual_seed(seed)
    a, b = torch.randn(2, model.config.latent_dim, generator=g)
    z = slerp(a, b, torch.linspace(0, 1, steps))
    weights = F.one_hot(torch.full((steps,), digit), model.config.num_classes).float()
    return decode_mix(model, z, weights)


def class_mix(model, a: int, b: int, steps: int = 10, seed: int = 0) -> torch.Tensor:
    """Return `steps` images (steps, 1, 28, 28) blending digit a into digit b with one fixed style code."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(1, model.config.latent_dim, generator=g).expand(steps, -1)
    t = torch.linspace(0, 1, steps)[:, None]
    k = model.config.num_classes
    weights = (1 - t) * F.one_hot(torch.tensor(a), k).float() + t * F.one_hot(torch.tensor(b), k).float()
    return decode_mix(model, z, weights)


def style_grid(model, seeds: int = 8) -> torch.Tensor:
    """Return a (seeds * classes, 1, 28, 28) grid: each row one style code, each column one digit."""
    g = torch.Generator().manual_seed(0)
    k = model.config.num_classes
    z = torch.randn(seeds, model.config.latent_dim, generator=g).repeat_interleave(k, 0)
    weights = F.one_hot(torch.arange(k).repeat(seeds), k).float()
    return decode_mix(model, z, weights)


def compose(model, digit_a: int, digit_b: int, mix: float, style: int, scale: float = 1.0) -> torch.Tensor:
    """Return one image (1, 1, 28, 28): (1 - mix) * digit_a + mix * digit_b drawn with style code `style` * scale."""
    g = torch.Generator().manual_seed(style)
    z = scale * torch.randn(1, model.config.latent_dim, generator=g)
    k = model.config.num_classes
    w = (1 - mix) * F.one_hot(torch.tensor([digit_a]), k).float() + mix * F.one_hot(torch.tensor([digit_b]), k).float()
    return decode_mix(model, z, w)


def png_bytes(image: torch.Tensor, size: int = 140) -> bytes:
    """Return PNG bytes of one image (1, 1, 28, 28) or (28, 28) in [0, 1], drawn dark on light, size x size pixels."""
    from PIL import Image

    pixels = (255 * (1 - image.reshape(28, 28).clamp(0, 1))).round().byte().numpy()
    buf = io.BytesIO()
    Image.fromarray(pixels).resize((size, size), Image.NEAREST).save(buf, format="png")
    return buf.getvalue()


def compose_widget(model):
    """Return a widgets.VBox: two digit dropdowns, a mix slider, a style slider, a scale slider and the picture."""
    import ipywidgets as widgets

    a = widgets.Dropdown(options=list(range(model.config.num_classes)), value=3, description="digit A")
    b = widgets.Dropdown(options=list(range(model.config.num_classes)), value=8, description="digit B")
    mix = widgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.05, description="mix A->B")
    style = widgets.IntSlider(value=0, min=0, max=99, description="style seed")
    scale = widgets.FloatSlider(value=1.0, min=0.0, max=2.5, step=0.1, description="style scale")
    picture = widgets.Image(format="png", width=140, height=140)

    def redraw(_=None) -> None:
        picture.value = png_bytes(compose(model, a.value, b.value, mix.value, style.value, scale.value))

    for w in (a, b, mix, style, scale):
        w.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([a, b]), mix, style, scale, picture])


def mix_path_lengths(images: torch.Tensor) -> float:
    """Return the mean pixel distance between consecutive images of a path (N, 1, 28, 28): its smoothness."""
    return (images[1:] - images[:-1]).flatten(1).norm(dim=1).mean().item() / math.sqrt(784)

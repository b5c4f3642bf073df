"""How sharp an image is: two simple statistics for comparing GAN, VAE and real digits.

- ``laplacian_variance``: the variance of the image's discrete Laplacian (the sum of second
  differences). Edges give large Laplacian values of both signs; blurring spreads an edge over
  several pixels and shrinks them, so a blurred image scores lower. A classic focus measure.
- ``grey_share``: the share of "ink" pixels (value above ``ink``) that are grey, i.e. neither near
  0 nor near 1. Real digits are mostly black and white with thin grey borders; a blurry image is
  mostly grey where it has ink.

Both take images (N, 1, H, W) in [0, 1] and return one number per image, (N,).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

LAPLACIAN = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def laplacian_variance(images: torch.Tensor) -> torch.Tensor:
    """Return the variance of the 3x3 Laplacian of each image, (N,); images are (N, 1, H, W) in [0, 1]."""
    x = images.float()
    kernel = LAPLACIAN.to(x.device).view(1, 1, 3, 3)
    response = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), kernel)   # zero on flat regions and borders
    return response.flatten(1).var(dim=1)


def grey_share(images: torch.Tensor, margin: float = 0.2, ink: float = 0.1) -> torch.Tensor:
    """Return, per image, the share of ink pixels (> ink) whose value lies in (margin, 1 - margin), (N,) in [0, 1]."""
    x = images.float().flatten(1)
    inked = x > ink
    grey = inked & (x > margin) & (x < 1 - margin)
    return grey.sum(1).float() / inked.sum(1).clamp(min=1).float()


def gaussian_blur(images: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """Return the images (N, C, H, W) blurred by a Gaussian of std `sigma` pixels (same shape and range)."""
    radius = max(1, int(3 * sigma))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32, device=images.device)
    k = torch.exp(-t**2 / (2 * sigma**2))
    k = k / k.sum()
    c = images.shape[1]
    x = F.pad(images.float(), (radius, radius, radius, radius), mode="replicate")
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)   # blur rows
    return F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)  # then columns

"""Image editing with a trained (conditional) VAE: inpainting and denoising as projection onto the model.

Both edits ask one question: which digit the model can draw best explains the pixels we trust?
`project` answers it by gradient descent on the latent code z (with the N(0, I) prior as a
penalty), once for every label when the VAE is conditional, keeping the best label per image:

  maximise  sum over trusted pixels of log p(x_pixel | z, y)  -  |z|^2 / 2

Inpainting trusts the visible part (a mask); denoising trusts every pixel but cannot fit the
noise, because the decoder only draws digits. The result keeps the trusted pixels as they are
(inpainting) or replaces the image with the model's drawing (denoising).

Baselines: `mean_fill` and the stronger `neighbour_fill` (mean of the nearest training digits) for
inpainting; `blur` and the stronger `blur_threshold` for denoising.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from aigc_course.vae import VAE


def half_mask(n: int, side: str = "bottom", size: int = 28) -> torch.Tensor:
    """Return a mask (n, 1, size, size): 1 where pixels are visible, 0 on the hidden half ("bottom", "top", "left", "right")."""
    mask = torch.ones(n, 1, size, size)
    h = size // 2
    region = {"bottom": (slice(h, None), slice(None)), "top": (slice(None, h), slice(None)),
              "right": (slice(None), slice(h, None)), "left": (slice(None), slice(None, h))}[side]
    mask[:, :, region[0], region[1]] = 0
    return mask


def add_noise(x: torch.Tensor, sigma: float = 0.4, seed: int = 0) -> torch.Tensor:
    """Return x (N, 1, H, W) in [0, 1] plus Gaussian noise of std `sigma`, clipped to [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    return (x + sigma * torch.randn(x.shape, generator=g)).clamp(0, 1)


def _misfit(logits: torch.Tensor, x: torch.Tensor, mask: torch.Tensor, noise_std: float | None) -> torch.Tensor:
    """-log p(trusted pixels | z) per image, (N,): Bernoulli pixels, or Gaussian noise of std `noise_std` around them."""
    if noise_std is None:
        per_pixel = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    else:
        per_pixel = (x - torch.sigmoid(logits)).pow(2) / (2 * noise_std ** 2)
    return (per_pixel * mask).sum((1, 2, 3))


def project(model: VAE, x: torch.Tensor, mask: torch.Tensor | None = None, steps: int = 100, lr: float = 0.1,
            noise_std: float | None = None, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (the model's drawing (N, 1, 28, 28) in [0, 1], chosen labels (N,)) that best explain the trusted pixels.

    x: (N, 1, 28, 28) in [0, 1]; mask: same shape, 1 = trusted (None: trust every pixel).
    noise_std: None scores pixels as Bernoulli (clean digits); a number scores them as the drawing plus
    Gaussian noise of that std (noisy digits). A conditional VAE tries every label (labels are -1 for an unconditional one).
    """
    torch.manual_seed(seed)
    mask = torch.ones_like(x) if mask is None else mask
    n, classes = len(x), model.config.num_classes
    labels = torch.arange(classes).repeat_interleave(n) if classes else None
    reps = max(classes, 1)
    xs, ms = x.repeat(reps, 1, 1, 1), mask.repeat(reps, 1, 1, 1)
    z = torch.zeros(n * reps, model.config.latent_dim, requires_grad=True)
    opt = torch.optim.Adam([z], lr=lr)
    was_training = model.training
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    try:
        for _ in range(steps):
            logits = model.decode(z, labels)
            nll = _misfit(logits, xs, ms, noise_std)
            loss = (nll + 0.5 * z.pow(2).sum(1)).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            logits = model.decode(z, labels)
            nll = _misfit(logits, xs, ms, noise_std)
            score = (nll + 0.5 * z.pow(2).sum(1)).view(reps, n)
            best = score.argmin(0)
            drawings = torch.sigmoid(logits).view(reps, n, *x.shape[1:])[best, torch.arange(n)]
    finally:
        for p in model.parameters():
            p.requires_grad_(True)
        model.train(was_training)
    return drawings, (best if classes else torch.full((n,), -1))


def denoise(model: VAE, noisy: torch.Tensor, noise_std: float, **kwargs) -> torch.Tensor:
    """Return the model's drawing (N, 1, 28, 28) in [0, 1] that best explains noisy digits under Gaussian noise."""
    return project(model, noisy, None, noise_std=noise_std, **kwargs)[0]


def inpaint(model: VAE, x: torch.Tensor, mask: torch.Tensor, **kwargs) -> torch.Tensor:
    """Return x (N, 1, 28, 28) with its hidden pixels (mask == 0) filled by the model; visible pixels unchanged."""
    drawing, _ = project(model, x, mask, **kwargs)
    return mask * x + (1 - mask) * drawing


def mean_fill(x: torch.Tensor, mask: torch.Tensor, mean_image: torch.Tensor) -> torch.Tensor:
    """The inpainting baseline: hidden pixels take the training set's mean image (1, 1, 28, 28)."""
    return mask * x + (1 - mask) * mean_image


def neighbour_fill(x: torch.Tensor, mask: torch.Tensor, train: torch.Tensor, k: int = 10) -> torch.Tensor:
    """The strong inpainting baseline: hidden pixels take the mean of the k training digits (M, 1, 28, 28) whose
    visible pixels are closest to x's (the mask is the same for every image)."""
    visible = mask[:1].flatten(1)
    distances = torch.cdist((x.flatten(1) * visible), (train.flatten(1) * visible))
    nearest = distances.topk(k, dim=1, largest=False).indices          # (N, k)
    return mask * x + (1 - mask) * train[nearest].mean(1)


def blur(x: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """The denoising baseline: a Gaussian blur (5 x 5 kernel, std `sigma`) of x (N, 1, H, W)."""
    r = torch.arange(-2, 3, dtype=torch.float32)
    k1 = torch.exp(-r ** 2 / (2 * sigma ** 2))
    k1 = k1 / k1.sum()
    kernel = (k1[:, None] * k1[None, :])[None, None]
    return F.conv2d(F.pad(x, (2, 2, 2, 2), mode="replicate"), kernel)


def blur_threshold(x: torch.Tensor, sigma: float = 0.75, threshold: float = 0.5) -> torch.Tensor:
    """The strong denoising baseline: blur, then set each pixel to 1 above `threshold` and 0 below: (N, 1, H, W)."""
    return (blur(x, sigma) > threshold).float()


def tune_blur_threshold(clean: torch.Tensor, noisy: torch.Tensor, sigmas=(0.5, 0.75, 1.0, 1.5),
                        thresholds=(0.3, 0.4, 0.5, 0.6)) -> tuple[float, float]:
    """Return the (sigma, threshold) of `blur_threshold` with the lowest MSE on (clean, noisy) training digits."""
    scores = {(s, t): masked_mse(blur_threshold(noisy, s, t), clean) for s in sigmas for t in thresholds}
    return min(scores, key=scores.get)


def masked_mse(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None) -> float:
    """Return the mean squared error between a and b over the pixels where mask == 1 (all pixels if None)."""
    if mask is None:
        return (a - b).pow(2).mean().item()
    return ((a - b).pow(2) * mask).sum().item() / mask.sum().item()

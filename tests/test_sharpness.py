"""Sharpness statistics of chapter 3, as specifications: blur lowers them, flat images score zero."""

import pytest
import torch

from aigc_course.data import load_digits
from aigc_course.sharpness import gaussian_blur, grey_share, laplacian_variance


def square(size: int = 28, side: int = 10) -> torch.Tensor:
    """A white square on black, (1, 1, size, size) in {0, 1}."""
    img = torch.zeros(1, 1, size, size)
    lo = (size - side) // 2
    img[..., lo:lo + side, lo:lo + side] = 1.0
    return img


def test_flat_images_have_zero_laplacian_variance():
    flat = torch.stack([torch.zeros(1, 28, 28), torch.full((1, 28, 28), 0.7)])
    assert torch.allclose(laplacian_variance(flat), torch.zeros(2))


def test_blurring_a_hand_built_square_lowers_its_laplacian_variance_step_by_step():
    scores = [laplacian_variance(square() if s == 0 else gaussian_blur(square(), s)).item() for s in (0, 0.7, 1.5, 3)]
    assert all(a > b for a, b in zip(scores, scores[1:], strict=False)), scores
    assert scores[-1] < 0.1 * scores[0]


def test_grey_share_is_zero_for_black_and_white_and_one_for_grey_ink():
    assert grey_share(square()).item() == 0.0
    assert grey_share(0.5 * square()).item() == 1.0
    assert grey_share(torch.zeros(1, 1, 28, 28)).item() == 0.0   # no ink: nothing grey either


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_blurred_real_digits_score_blurrier_on_both_statistics(seed):
    x, _ = load_digits("test")
    idx = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:200]
    sharp, blurred = x[idx], gaussian_blur(x[idx], sigma=1.0)
    assert (laplacian_variance(blurred) < laplacian_variance(sharp)).all()
    assert grey_share(blurred).mean() > grey_share(sharp).mean() + 0.2


def test_gaussian_blur_keeps_shape_range_and_total_ink_of_a_centred_image():
    img = square()
    out = gaussian_blur(img, sigma=1.0)
    assert out.shape == img.shape and out.min() >= 0 and out.max() <= 1
    assert out.sum().item() == pytest.approx(img.sum().item(), rel=1e-4)

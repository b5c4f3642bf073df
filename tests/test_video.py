import pytest
import torch

from aigc_course.video import (
    NextFrame,
    NextFrameConfig,
    copy_last_frame,
    moving_digits,
    per_frame_mse,
    train_next_frame,
)


def _digits(n=5):
    g = torch.Generator().manual_seed(0)
    return (torch.rand(n, 1, 28, 28, generator=g) > 0.7).float()


def test_moving_digits_are_seeded_clips_in_unit_range():
    a = moving_digits(_digits(), n_clips=4, frames=6, size=36, seed=3)
    b = moving_digits(_digits(), n_clips=4, frames=6, size=36, seed=3)
    assert a.shape == (4, 6, 1, 36, 36) and torch.equal(a, b)
    assert a.min() >= 0 and a.max() <= 1
    assert not torch.equal(a, moving_digits(_digits(), n_clips=4, frames=6, size=36, seed=4))


def test_each_frame_holds_the_whole_digit_and_it_moves():
    digits = _digits(1)
    clips = moving_digits(digits, n_clips=3, frames=20, size=36, seed=0)
    ink = digits.sum()
    # Bouncing keeps the digit inside the box: no ink is ever cut off.
    assert torch.allclose(clips.sum(dim=(2, 3, 4)), ink.expand(3, 20))
    assert (clips[:, 1:] - clips[:, :-1]).abs().sum() > 0


def test_too_small_canvas_is_refused():
    with pytest.raises(ValueError, match="at least 28"):
        moving_digits(_digits(), 1, size=20)


def test_rollout_and_baseline_shapes_and_error_per_frame():
    clips = moving_digits(_digits(), n_clips=2, frames=8, size=32, seed=0)
    model = NextFrame(NextFrameConfig(context=3, channels=4, size=32))
    pred = model.rollout(clips[:, :3], steps=5)
    assert pred.shape == (2, 5, 1, 32, 32) and 0 <= pred.min() and pred.max() <= 1
    base = copy_last_frame(clips[:, :3], 5)
    assert torch.equal(base[:, 0], clips[:, 2])
    err = per_frame_mse(base, clips[:, 3:])
    assert err.shape == (5,) and torch.allclose(err[0], (clips[:, 2] - clips[:, 3]).pow(2).mean())


def test_training_lowers_the_next_frame_loss():
    clips = moving_digits(_digits(), n_clips=16, frames=6, size=32, seed=0)
    _, losses = train_next_frame(clips, NextFrameConfig(channels=4, size=32), steps=40, batch_size=8,
                                 progress=False)
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5


def test_shrunk_digits_make_smaller_clips():
    from aigc_course.video import shrink_digits

    small = shrink_digits(_digits(3))
    assert small.shape == (3, 1, 14, 14)
    clips = moving_digits(small, n_clips=2, frames=5, size=24, seed=0)
    assert clips.shape == (2, 5, 1, 24, 24)
    ink = clips.sum(dim=(2, 3, 4))
    assert torch.allclose(ink, ink[:, :1].expand(-1, 5))  # the whole digit stays inside the box in every frame
    with pytest.raises(ValueError, match="at least 14"):
        moving_digits(small, 1, size=10)


def test_blank_and_mean_frame_baselines():
    from aigc_course.video import blank_frames, mean_frames

    clips = moving_digits(_digits(), n_clips=3, frames=6, size=32, seed=0)
    blank = blank_frames(clips[:, :3], 4)
    assert blank.shape == (3, 4, 1, 32, 32) and blank.eq(0).all()
    mean = mean_frames(clips, clips[:, :3], 4)
    assert mean.shape == (3, 4, 1, 32, 32) and torch.allclose(mean[1, 2], clips.mean(dim=(0, 1)))
    # the blank frame's error is the mean squared ink of the future frames
    assert torch.allclose(per_frame_mse(blank, clips[:, 2:]), clips[:, 2:].pow(2).mean(dim=(0, 2, 3, 4)))

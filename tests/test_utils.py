import random

import matplotlib
import numpy as np
import pytest
import torch

from aigc_course import device, seed_everything, show_source
from aigc_course.losses import gaussian_kl
from aigc_course.plots import LivePlot, grid_image, plot_curves, show_grid

matplotlib.use("Agg")


def test_device_is_cpu_without_cuda_and_obeys_override(monkeypatch):
    monkeypatch.delenv("AIGC_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert device().type == expected
    monkeypatch.setenv("AIGC_DEVICE", "cpu")
    assert device() == torch.device("cpu")


def test_seed_everything_makes_all_generators_repeat():
    def draw():
        g = seed_everything(7)
        return random.random(), np.random.rand(), torch.rand(1).item(), torch.rand(1, generator=g).item()

    assert draw() == draw()
    first = draw()
    seed_everything(8)
    assert torch.rand(1).item() != first[2]


def test_show_source_shows_the_real_function_source():
    code = show_source(gaussian_kl)
    assert "def gaussian_kl" in code.data
    assert "logvar.exp()" in code.data  # the body, not just the signature
    assert "highlight" in code._repr_html_()


def test_grid_image_tiles_images_with_padding():
    images = torch.zeros(20, 1, 28, 28)
    grid = grid_image(images, nrow=10, padding=2)
    assert grid.shape == (2 * 30 + 2, 10 * 30 + 2)
    assert grid.max() == 1.0 and grid.min() == 0.0  # white padding, black digits


def test_plots_label_their_axes():
    ax = plot_curves({"D": [1.0, 0.5, 0.2], "G": [2.0, 1.0, 0.9]}, title="losses", smooth=2)
    assert ax.get_title() == "losses" and ax.get_xlabel() == "step" and ax.get_ylabel() == "loss"
    assert [line.get_label() for line in ax.get_lines()] == ["D", "G"]
    ax = show_grid(torch.rand(8, 1, 28, 28), nrow=4, title="samples")
    assert ax.get_title() == "samples"


def test_live_plot_updates_without_a_notebook():
    live = LivePlot("training", with_images=True)
    live.update({"loss": [3.0, 2.0, 1.0]}, images=torch.rand(16, 1, 28, 28), step=3)
    live.close()
    assert live.axes[1].get_title() == "samples at step 3"


@pytest.mark.parametrize("bad", [[], {}])
def test_plot_curves_accepts_empty_history(bad):
    assert plot_curves(dict(bad)).get_title() == "Training curves"

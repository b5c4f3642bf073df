"""Figures the chapters share: sample grids, loss curves, and a live training figure."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import torch
from torchvision.utils import make_grid


def grid_image(images: torch.Tensor, nrow: int = 10, padding: int = 2) -> torch.Tensor:
    """Return an (H, W) grey image tiling `images` ((N, 1, H, W) in [0, 1]) with `nrow` per row."""
    grid = make_grid(images.detach().float().cpu().clamp(0, 1), nrow=nrow, padding=padding, pad_value=1.0)
    return grid[0]


def show_grid(images: torch.Tensor, nrow: int = 10, title: str = "", ax=None, figsize=None):
    """Draw a grid of digit images ((N, 1, 28, 28) in [0, 1]) on `ax` (a new figure if None); return ax."""
    if ax is None:
        rows = (len(images) + nrow - 1) // nrow
        _, ax = plt.subplots(figsize=figsize or (0.6 * nrow + 0.4, 0.6 * rows + 0.6))
    ax.imshow(grid_image(images, nrow).numpy(), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(title)
    ax.axis("off")
    return ax


def plot_curves(history: Mapping[str, Sequence[float]], title: str = "Training curves", xlabel: str = "step",
                ylabel: str = "loss", ax=None, smooth: int = 1):
    """Plot each named series of `history` against its index (moving average over `smooth`); return ax."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for name, values in history.items():
        v = torch.as_tensor(list(values), dtype=torch.float64)
        if smooth > 1 and len(v) >= smooth:
            v = torch.nn.functional.avg_pool1d(v[None, None], smooth, stride=1)[0, 0]
            x = torch.arange(len(v)) + smooth - 1
        else:
            x = torch.arange(len(v))
        ax.plot(x.numpy(), v.numpy(), label=name)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if history:
        ax.legend()
    ax.grid(alpha=0.3)
    return ax


class LivePlot:
    """A figure that redraws in place while a model trains (in Jupyter), and stays as the final picture.

    Call ``update(history, images)`` every so often; the figure shows the curves and, if
    given, a grid of current samples. Outside Jupyter it draws only on ``close()``.
    """

    def __init__(self, title: str = "Training", with_images: bool = True, ylabel: str = "loss"):
        from IPython.display import display

        ncols = 2 if with_images else 1
        self.fig, axes = plt.subplots(1, ncols, figsize=(5.5 * ncols, 3.6))
        self.axes = list(axes) if ncols > 1 else [axes]
        self.title, self.ylabel = title, ylabel
        self.fig.suptitle(title)
        self.handle = display(self.fig, display_id=True)
        plt.close(self.fig)  # keep the inline backend from drawing it a second time

    def update(self, history: Mapping[str, Sequence[float]], images: torch.Tensor | None = None,
               step: int | None = None, smooth: int = 1) -> None:
        """Redraw the curves (and sample grid) from scratch."""
        ax = self.axes[0]
        ax.clear()
        plot_curves(history, title="curves", ylabel=self.ylabel, ax=ax, smooth=smooth)
        if images is not None and len(self.axes) > 1:
            self.axes[1].clear()
            show_grid(images, nrow=int(len(images) ** 0.5 + 0.5), ax=self.axes[1],
                      title="samples" + (f" at step {step}" if step is not None else ""))
        self.fig.tight_layout()
        if self.handle is not None:
            self.handle.update(self.fig)

    def close(self) -> None:
        """Leave the last frame as the figure's final state."""
        if self.handle is not None:
            self.handle.update(self.fig)

def grid_png(images: torch.Tensor, nrow: int = 10, scale: int = 3) -> bytes:
    """Return PNG bytes of a grid of `images` ((N, 1, 28, 28) in [0, 1]), dark ink on white, upscaled `scale` times."""
    import io

    from PIL import Image

    grid = ((1 - grid_image(images, nrow=nrow)) * 255).round().to(torch.uint8).numpy()
    picture = Image.fromarray(grid)  # uint8 (H, W): a greyscale picture
    picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def picture_widget(controls: Mapping[str, object], draw: Callable[[], tuple[torch.Tensor, str]], *,
                   nrow: int | None = None, scale: int = 3, row: bool = True):
    """Return a widgets.VBox of `controls`, a picture and a caption, redrawn by `draw()` whenever a control moves.

    `draw()` returns (digits (N, 1, 28, 28) in [0, 1], caption HTML); the picture is their grid (`nrow`
    per row, all in one row by default). The box keeps each control under its name, and ``box.image``
    (widgets.Image, PNG bytes) and ``box.caption`` (widgets.HTML). `row`: the controls side by side, or stacked.
    """
    import ipywidgets as widgets

    image = widgets.Image(format="png", layout=widgets.Layout(align_self="flex-start"))  # natural size, not stretched
    caption = widgets.HTML()

    def redraw(change=None) -> None:
        x, text = draw()
        image.value, caption.value = grid_png(x, nrow=nrow or len(x), scale=scale), text

    for control in controls.values():
        control.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([widgets.HBox(list(controls.values())) if row else widgets.VBox(list(controls.values())),
                        image, caption])
    for name, control in controls.items():
        setattr(box, name, control)
    box.image, box.caption = image, caption
    return box

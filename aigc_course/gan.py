"""GANs for 28x28 digits: the article's MLP GAN ported, a small DCGAN, a conditional GAN, one training loop.

Every model here holds a generator G and a discriminator D (which returns logits, not
probabilities: the sigmoid lives inside the losses of ``aigc_course.losses``). Generators
end in tanh, so they work in [-1, 1]; ``sample(n)`` maps back to (n, 1, 28, 28) in [0, 1].

Recipes (``RECIPES``) name the optimiser settings and the step count of each setting the
chapter compares; ``train(kind, ...)`` is the entry point of ``aigc-course train gan|dcgan|scgan|cgan``.
The course's unconditional GAN is ``scgan``: the small DCGAN made *self-conditioned* (Liu et al.,
2020): it is trained as a conditional GAN on k-means clusters of the training digits' pixels, found
without labels, and samples by drawing a cluster as often as it occurs in the data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from aigc_course import distributed
from aigc_course.losses import (
    discriminator_loss,
    generator_loss_nonsaturating,
    generator_loss_saturating,
)
from aigc_course.plots import grid_png

# --------------------------------------------------------------------------- models


@dataclass
class MLPGANConfig:
    """The article's shapes: z (100) -> 128 ReLU -> 784 tanh; image (784) -> 128 LeakyReLU -> 1."""
    z_dim: int = 100
    hidden: int = 128


class MLPGAN(nn.Module):
    """The article's Keras GAN in PyTorch, with its bugs fixed (see the chapter notebook)."""

    def __init__(self, config: MLPGANConfig):
        super().__init__()
        self.config = config
        self.z_dim = config.z_dim
        self.generator = nn.Sequential(
            nn.Linear(config.z_dim, config.hidden), nn.ReLU(),
            nn.Linear(config.hidden, 784), nn.Tanh(),
            nn.Unflatten(1, (1, 28, 28)),              # Keras: Reshape((28, 28, 1)); torch is channels-first
        )
        self.discriminator = nn.Sequential(
            nn.Flatten(),                              # accepts (N, 1, 28, 28) images, as D must
            nn.Linear(784, config.hidden), nn.LeakyReLU(0.2),
            nn.Linear(config.hidden, 1),               # a logit; the sigmoid is inside the loss
        )

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Return G(z): (N, 1, 28, 28) in [-1, 1]."""
        return self.generator(z)

    def discriminate(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Return D's logits, shape (N,), for images (N, 1, 28, 28) in [-1, 1]."""
        return self.discriminator(x).squeeze(1)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Return n samples, (n, 1, 28, 28) in [0, 1]."""
        z = torch.randn(n, self.z_dim, generator=generator).to(_device_of(self))
        return (self.generate(z) + 1) / 2


@dataclass
class DCGANConfig:
    """A small DCGAN sized for 28x28: 7x7 -> 14x14 -> 28x28 with `width` base channels."""
    z_dim: int = 64
    width: int = 16
    num_classes: int = 0      # > 0 makes it a conditional GAN (label embedding in G, projection in D)
    self_conditioned: bool = False   # the "classes" are k-means clusters of the digits (no labels; see assign_clusters)


class DCGAN(nn.Module):
    """Convolutional GAN for 28x28 digits; with num_classes > 0, a conditional GAN."""

    def __init__(self, config: DCGANConfig):
        super().__init__()
        self.config = config
        self.z_dim = config.z_dim
        w, k = config.width, config.num_classes
        self.g_in = nn.Sequential(nn.Linear(config.z_dim + k, 4 * w * 49, bias=False),
                                  nn.BatchNorm1d(4 * w * 49), nn.ReLU())
        self.generator = nn.Sequential(
            nn.Unflatten(1, (4 * w, 7, 7)),
            nn.ConvTranspose2d(4 * w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.ReLU(),  # 14x14
            nn.ConvTranspose2d(2 * w, 1, 4, 2, 1), nn.Tanh(),                                          # 28x28
        )
        self.discriminator = nn.Sequential(
            nn.Conv2d(1, w, 4, 2, 1), nn.LeakyReLU(0.2),                                   # 14x14
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2),  # 7x7
            nn.Flatten(),
        )
        self.d_out = nn.Linear(2 * w * 49, 1)
        # Projection discriminator (Miyato & Koyama, 2018): logit += <embed(y), features>.
        self.d_embed = nn.Embedding(k, 2 * w * 49) if k else None
        if self.d_embed is not None:
            nn.init.normal_(self.d_embed.weight, 0.0, 0.02)   # the default N(0, 1) would swamp the logit at start
        if config.self_conditioned:   # how often each cluster occurs in the training digits (set by assign_clusters)
            self.register_buffer("cluster_share", torch.full((k,), 1.0 / k))

    def assign_clusters(self, images: torch.Tensor, seed: int = 0) -> torch.Tensor:
        """Cluster `images` (N, 1, 28, 28) by their pixels into num_classes groups; return the cluster ids (N,).

        k-means (scikit-learn) on the raw pixels: no labels are used. The ids are what a self-conditioned
        GAN trains on in place of labels; their frequencies become the distribution `sample` draws from.
        """
        from sklearn.cluster import KMeans

        k = self.config.num_classes
        if len(images) < k:
            raise ValueError(f"self-conditioning makes {k} clusters and needs at least {k} training images, "
                             f"got {len(images)}: train on more digits (or build a DCGAN with fewer num_classes)")
        kmeans = KMeans(k, n_init=1, random_state=seed).fit(images.flatten(1).cpu().numpy())
        clusters = torch.as_tensor(kmeans.labels_, dtype=torch.long)
        self.cluster_share.copy_(torch.bincount(clusters, minlength=k).float() / len(clusters))
        return clusters

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Return G(z, labels): (N, 1, 28, 28) in [-1, 1]."""
        if self.config.num_classes:
            z = torch.cat([z, F.one_hot(labels, self.config.num_classes).to(z.dtype)], dim=1)
        return self.generator(self.g_in(z))

    def discriminate(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Return D's logits, shape (N,), for images (N, 1, 28, 28) in [-1, 1]."""
        h = self.discriminator(x)
        logit = self.d_out(h).squeeze(1)
        if self.d_embed is not None:
            logit = logit + (self.d_embed(labels) * h).sum(1)
        return logit

    @torch.no_grad()
    def sample(self, n: int, labels: torch.Tensor | int | None = None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Return n samples, (n, 1, 28, 28) in [0, 1].

        A conditional GAN draws `labels` (default 0..9 cycling); a self-conditioned one draws its
        clusters at random, each as often as in the training digits.
        """
        dev = _device_of(self)
        z = torch.randn(n, self.z_dim, generator=generator).to(dev)
        y = None
        if self.config.num_classes:
            if labels is None and self.config.self_conditioned:
                labels = torch.multinomial(self.cluster_share.cpu(), n, replacement=True, generator=generator)
            elif labels is None:
                labels = torch.arange(n) % self.config.num_classes
            y = torch.as_tensor(labels).expand(n).to(dev) if torch.as_tensor(labels).dim() == 0 \
                else torch.as_tensor(labels).to(dev)
        return (self.generate(z, y) + 1) / 2


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def init_dcgan_weights(model: nn.Module, std: float = 0.02) -> None:
    """The DCGAN paper's initialisation: conv/linear weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02)."""
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)


@dataclass
class TutorialDCGANConfig:
    """The PyTorch DCGAN tutorial's networks (nz 100, ngf = ndf = 64) adapted from 64x64 to 28x28."""
    z_dim: int = 100
    ngf: int = 64
    ndf: int = 64


class TutorialDCGAN(nn.Module):
    """pytorch/examples' DCGAN shrunk to 28x28: G 1->3->7->14->28 (ConvT), D 28->14->7->3->1 (Conv)."""

    def __init__(self, config: TutorialDCGANConfig):
        super().__init__()
        self.config = config
        self.z_dim = config.z_dim
        g, d = config.ngf, config.ndf
        self.generator = nn.Sequential(
            nn.Unflatten(1, (config.z_dim, 1, 1)),
            nn.ConvTranspose2d(config.z_dim, g * 4, 3, 1, 0, bias=False), nn.BatchNorm2d(g * 4), nn.ReLU(True),  # 3
            nn.ConvTranspose2d(g * 4, g * 2, 3, 2, 0, bias=False), nn.BatchNorm2d(g * 2), nn.ReLU(True),  # 7
            nn.ConvTranspose2d(g * 2, g, 4, 2, 1, bias=False), nn.BatchNorm2d(g), nn.ReLU(True),  # 14
            nn.ConvTranspose2d(g, 1, 4, 2, 1, bias=False), nn.Tanh(),  # 28
        )
        self.discriminator = nn.Sequential(
            nn.Conv2d(1, d, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),  # 14
            nn.Conv2d(d, d * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(d * 2), nn.LeakyReLU(0.2, True),  # 7
            nn.Conv2d(d * 2, d * 4, 3, 2, 0, bias=False), nn.BatchNorm2d(d * 4), nn.LeakyReLU(0.2, True),  # 3
            nn.Conv2d(d * 4, 1, 3, 1, 0, bias=False), nn.Flatten(),  # 1
        )
        init_dcgan_weights(self)

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Return G(z): (N, 1, 28, 28) in [-1, 1]."""
        return self.generator(z)

    def discriminate(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Return D's logits, shape (N,)."""
        return self.discriminator(x).squeeze(1)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Return n samples, (n, 1, 28, 28) in [0, 1]."""
        z = torch.randn(n, self.z_dim, generator=generator).to(_device_of(self))
        return (self.generate(z) + 1) / 2


# --------------------------------------------------------------------------- recipes


@dataclass
class Recipe:
    """How to train: the optimiser (Adam), batch size, step count and one-sided label smoothing."""
    steps: int = 3000
    batch_size: int = 64
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    real_label: float = 1.0     # < 1: one-sided label smoothing (Salimans et al., 2016)
    d_lr: float | None = None   # D's own learning rate (None: `lr`); the failure-mode lab raises it
    g_lr: float | None = None   # G's own learning rate (None: `lr`)
    g_loss: str = "nonsaturating"   # or "saturating": the minimax term E[log(1 - D(G(z)))]


# A self-conditioned GAN's number of k-means clusters. With 100 clusters (11 to 94 digits each) 85% of the digits
# share their cluster's majority class (10 clusters: 51%, 60: 82%), so most clusters hold one kind of digit.
# Measured at seed 2 (1,500 steps): 60 clusters left the digit 4 at 5% of the samples, 100 clusters at 7%.
CLUSTERS = 100

RECIPES: dict[str, Recipe] = {
    # The article: Adam(1e-4) with Keras' default betas; batch 64 is the issue's reading of "a batch".
    "article": Recipe(steps=3000, batch_size=64, lr=1e-4, betas=(0.9, 0.999)),
    # The PyTorch DCGAN tutorial: Adam 2e-4, beta1 0.5, batch 128.
    "tutorial": Recipe(steps=3000, batch_size=128, lr=2e-4, betas=(0.5, 0.999)),
    # The course: small DCGAN, DCGAN optimiser settings, label smoothing 0.9.
    "course": Recipe(steps=1500, batch_size=64, lr=2e-4, betas=(0.5, 0.999), real_label=0.9),
}


def build_model(kind: str) -> nn.Module:
    """Return a fresh model for `kind`: "gan" (the article's MLP), "dcgan", "scgan", "cgan" or "tutorial"."""
    if kind == "gan":
        return MLPGAN(MLPGANConfig())
    if kind == "dcgan":
        return DCGAN(DCGANConfig())
    if kind == "scgan":
        return DCGAN(DCGANConfig(num_classes=CLUSTERS, self_conditioned=True))
    if kind == "cgan":
        return DCGAN(DCGANConfig(num_classes=10))
    if kind == "tutorial":
        return TutorialDCGAN(TutorialDCGANConfig())
    raise ValueError(f"unknown GAN kind {kind!r}; choose gan, dcgan, scgan, cgan or tutorial")


# --------------------------------------------------------------------------- training


def train_gan(model: nn.Module, images: torch.Tensor, recipe: Recipe, labels: torch.Tensor | None = None,
              seed: int = 0, progress: bool = True,
              callback: Callable[[int, dict[str, list[float]]], None] | None = None,
              callback_every: int = 100, ctx: distributed.Context | None = None, state: dict | None = None,
              save: Callable[[dict], None] | None = None, save_every: int = 0) -> dict[str, list[float]]:
    """Train `model` on `images` ((N, 1, 28, 28) in [0, 1]); return the per-step history.

    One step = one discriminator update on a real and a fake batch, then one generator update
    with the non-saturating loss. The history holds "d_loss", "g_loss", "D(x)" and "D(G(z))"
    (mean probabilities). `labels` (N,) are used only by a conditional model.

    Under torchrun pass `ctx` (``distributed.setup()``): G and D each become a DDP module, each
    rank trains on its share of every batch, and rank 0 alone shows progress and saves.
    `save(state)` receives the resumable training state every `save_every` steps and at the end;
    `state` (such a dict) resumes training where it stopped.
    """
    from tqdm.auto import tqdm

    g = torch.Generator().manual_seed(seed)
    dev = _device_of(model)
    ctx = ctx or distributed.Context(device=dev)
    # DDP syncs gradients in `forward`: G and D become two DDP modules whose forward is generate/discriminate.
    generate = distributed.wrap_call(model, type(model).generate, ctx, only=("generator", "g_"))
    discriminate = distributed.wrap_call(model, type(model).discriminate, ctx, only=("discriminator", "d_"))
    data = (images * 2 - 1).to(dev)                       # tanh range: [-1, 1]
    ys = labels.to(dev) if labels is not None else None
    conditional = getattr(model.config, "num_classes", 0) > 0
    d_params = [p for n, p in model.named_parameters() if n.startswith(("discriminator", "d_"))]
    g_params = [p for n, p in model.named_parameters() if n.startswith(("generator", "g_"))]
    opt_d = torch.optim.Adam(d_params, lr=recipe.d_lr or recipe.lr, betas=recipe.betas)
    opt_g = torch.optim.Adam(g_params, lr=recipe.g_lr or recipe.lr, betas=recipe.betas)
    g_loss_fn = generator_loss_saturating if recipe.g_loss == "saturating" else generator_loss_nonsaturating
    history: dict[str, list[float]] = {"d_loss": [], "g_loss": [], "D(x)": [], "D(G(z))": []}
    start = 0
    if state is not None:   # resume: optimisers, random stream and history as they were at step `start`
        start, history = state["step"], state["history"]
        opt_d.load_state_dict(state["opt_d"])
        opt_g.load_state_dict(state["opt_g"])
        g.set_state(state["rng"])
        torch.set_rng_state(state["torch_rng"])

    def training_state(step: int) -> dict:
        return {"step": step, "opt_d": opt_d.state_dict(), "opt_g": opt_g.state_dict(), "rng": g.get_state(),
                "torch_rng": torch.get_rng_state(), "history": history}

    model.train()
    for step in tqdm(range(start, recipe.steps), desc=f"training {type(model).__name__}",
                     disable=not (progress and ctx.is_main), leave=False, initial=start, total=recipe.steps):
        # Each rank keeps its share of one global batch (and of its noise): together, one process's batch.
        idx = ctx.batch_indices(len(data), recipe.batch_size, g).to(dev)
        real = data[idx]
        y = ys[idx] if conditional else None
        z = ctx.shard(torch.randn(recipe.batch_size, model.z_dim, generator=g)).to(dev)

        # 1. Discriminator step: push D(x) up and D(G(z)) down. G's output is detached, so G is untouched.
        fake = generate(z, y)
        real_logits = discriminate(real, y)
        fake_logits = discriminate(fake.detach(), y)
        d_loss = discriminator_loss(real_logits, fake_logits, real_label=recipe.real_label)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()

        # 2. Generator step: push D(G(z)) up. Only G's optimiser steps: D is "frozen" here
        #    (under DDP, no_sync: D's gradients from this step are thrown away, so they need no averaging).
        #    The saturating loss, an option for the failure-mode lab, minimises E[log(1 - D(G(z)))] instead.
        with distributed.no_sync(discriminate):
            fake_logits = discriminate(fake, y)
            g_loss = g_loss_fn(fake_logits)
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
        opt_g.step()

        stats = distributed.means_over_ranks([d_loss.item(), g_loss.item(), torch.sigmoid(real_logits).mean().item(),
                                              torch.sigmoid(fake_logits).mean().item()], ctx)
        for key, value in zip(history, stats, strict=True):
            history[key].append(value)
        if save is not None and ctx.is_main and ((save_every and (step + 1) % save_every == 0)
                                                 or step + 1 == recipe.steps):
            save(training_state(step + 1))
        if callback is not None and ((step + 1) % callback_every == 0 or step + 1 == recipe.steps):
            model.eval()
            callback(step + 1, history)
            model.train()
    model.eval()
    return history


def recipe_for(kind: str) -> Recipe:
    """Return the recipe `aigc-course train KIND` uses: the article's for "gan", the course's otherwise."""
    if kind == "gan":
        return RECIPES["article"]
    if kind == "cgan":
        # Calibrated: 2,000 steps take 70-75 s CPU/2 and give, over seeds 0-2 (10,000 samples), Frechet 29-32,
        # judge confidence 0.95-0.96 and every class at >= 9%.
        return replace(RECIPES["course"], steps=2000)
    # "scgan" (the course's GAN), "dcgan": 1,500 steps. scgan with its k-means took 78.8 s wall on 2 threads
    # (155 s CPU; a shared machine at load 1). Over seeds 0-2 (10,000 samples) the self-conditioned GAN gave
    # Frechet 13-15, confidence 0.94, every class >= 7%.
    return RECIPES["course"]


def train(kind: str, steps: int | None = None, seed: int = 0, out: Path | str = "runs",
          data: str | None = None, progress: bool = True, resume: Path | str | None = None,
          save_every: int = 500) -> Path:
    """Train a GAN of `kind` ("gan", "dcgan", "scgan" or "cgan"); save it to OUT/<kind>.pt and return the path.

    The checkpoint is rewritten every `save_every` steps with what `resume=PATH` needs to carry on.
    Runs unchanged under ``torchrun --nproc_per_node N -m aigc_course.cli train KIND`` (data parallel).
    """
    from aigc_course.checkpoint import load_checkpoint, save_checkpoint
    from aigc_course.data import load_digits
    from aigc_course.utils import seed_everything

    ctx = distributed.setup()
    seed_everything(seed)
    model = build_model(kind)
    state = None
    if resume is not None:
        saved, extra = load_checkpoint(resume, with_extra=True)
        if extra.get("kind", kind) != kind or "resume" not in extra:
            raise ValueError(f"{resume} is not a resumable checkpoint of a {kind!r} GAN")
        model.load_state_dict(saved.state_dict())
        state = extra["resume"]
    model = model.to(ctx.device)
    recipe = recipe_for(kind)
    if steps is not None:
        recipe = replace(recipe, steps=steps)
    if state is not None and state["step"] >= recipe.steps:
        raise ValueError(f"{resume} has already trained {state['step']} of {recipe.steps} steps; "
                         "pass a larger --steps to train on")
    images, labels = load_digits("train", source=data)
    if getattr(model.config, "self_conditioned", False):   # no labels: the k-means clusters of the digits take their place
        labels = model.assign_clusters(images, seed=seed)
    path = Path(out) / f"{kind}.pt"

    def save(training_state: dict) -> None:
        save_checkpoint(path, model, history=training_state["history"], steps=training_state["step"], seed=seed,
                        recipe=str(recipe), kind=kind, world_size=ctx.world_size, resume=training_state)

    train_gan(model, images, recipe, labels=labels, seed=seed, progress=progress, ctx=ctx, state=state,
              save=save, save_every=save_every)
    distributed.teardown(ctx)
    return path


# --------------------------------------------------------------------------- widgets




def digit_picker(model: nn.Module, n: int = 10, seed: int = 0, judge: nn.Module | None = None):
    """Return a widgets.VBox: a "digit" dropdown and a "noise seed" slider draw n samples of a conditional GAN.

    The picture is ``box.image`` (a widgets.Image, PNG bytes); ``box.caption`` (widgets.HTML) says what the
    `judge` (if given) reads in the samples.
    """
    import ipywidgets as widgets

    if not getattr(model.config, "num_classes", 0) or getattr(model.config, "self_conditioned", False):
        raise ValueError("digit_picker needs a model conditioned on digit labels (DCGANConfig(num_classes=10)); "
                         "a self-conditioned GAN's classes are k-means clusters, not digits")
    digit = widgets.Dropdown(options=list(range(model.config.num_classes)), value=7, description="digit")
    noise = widgets.IntSlider(value=seed, min=0, max=99, description="noise seed")
    image = widgets.Image(format="png", layout=widgets.Layout(align_self="flex-start"))  # natural size, not stretched
    caption = widgets.HTML()

    def redraw(change=None) -> None:
        x = model.sample(n, labels=digit.value, generator=torch.Generator().manual_seed(noise.value)).cpu()
        image.value = grid_png(x, nrow=n)
        text = f"{n} samples of the digit <b>{digit.value}</b> (noise seed {noise.value})"
        if judge is not None:
            with torch.no_grad():
                read = judge(x).argmax(1)
            text += f"; the judge reads {int((read == digit.value).sum())}/{n} of them as {digit.value}"
        caption.value = text

    digit.observe(redraw, names="value")
    noise.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([widgets.HBox([digit, noise]), image, caption])
    box.digit, box.noise, box.image, box.caption = digit, noise, image, caption
    return box


def latent_explorer(model: nn.Module, directions: int = 3, seed: int = 7, judge: nn.Module | None = None,
                    span: float = 6.0):
    """Return a widgets.VBox: move one sample z + sum_i a_i u_i along `directions` random unit latent directions u_i.

    Sliders "direction 1".. set the a_i in [-span, span]; a "start z" slider picks the starting sample. The picture
    is ``box.image`` (widgets.Image, PNG bytes); ``box.caption`` (widgets.HTML) gives the judge's reading if given.
    For a conditional model the label is fixed at 0..9 across a row of ten pictures.
    """
    import ipywidgets as widgets

    g = torch.Generator().manual_seed(seed)
    units = torch.randn(directions, model.z_dim, generator=g)
    units = units / units.norm(dim=1, keepdim=True)
    sliders = [widgets.FloatSlider(value=0.0, min=-span, max=span, step=0.5, description=f"direction {i + 1}")
               for i in range(directions)]
    start = widgets.IntSlider(value=0, min=0, max=99, description="start z")
    image = widgets.Image(format="png", layout=widgets.Layout(align_self="flex-start"))  # natural size, not stretched
    caption = widgets.HTML()
    conditional = getattr(model.config, "num_classes", 0) > 0
    dev = _device_of(model)

    def redraw(change=None) -> None:
        z = torch.randn(1, model.z_dim, generator=torch.Generator().manual_seed(start.value))
        z = z + sum(s.value * u for s, u in zip(sliders, units, strict=True))
        labels = torch.arange(10, device=dev) if conditional else None
        z = z.expand(10, -1) if conditional else z
        with torch.no_grad():
            x = ((model.generate(z.to(dev), labels) + 1) / 2).cpu()
        image.value = grid_png(x, nrow=len(x), scale=4 if not conditional else 2)
        moves = ", ".join(f"{s.value:+.1f}" for s in sliders)
        text = f"start z {start.value}, steps along the directions: {moves}"
        if judge is not None and not conditional:
            with torch.no_grad():
                p = judge(x).softmax(1)[0]
            text += f"; the judge reads a <b>{int(p.argmax())}</b> (confidence {p.max():.2f})"
        caption.value = text

    for w in (*sliders, start):
        w.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([start, *sliders, image, caption])
    box.sliders, box.start, box.image, box.caption = sliders, start, image, caption
    return box

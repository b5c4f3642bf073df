"""The benchmarks run on demand, not in `make test`; their smoke modes run here so that they cannot rot unseen.

Smoke runs train for seconds, so their numbers mean nothing: these tests check that every model is reported
with finite metrics, never the values.
"""

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_benchmark(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def numbers(line: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+\.\d+|nan|inf", line)]


@pytest.mark.slow
def test_applications_benchmark_reports_every_model():
    out = run_benchmark("benchmarks/bench_applications.py", "--smoke")
    for name in ("text GRU", "cVAE edit", "cVAE data", "next frame", "dialogue", "code GRU"):
        lines = [ln for ln in out.splitlines() if ln.startswith(name)]
        assert len(lines) == 1, (name, out)
        assert all(math.isfinite(v) for v in numbers(lines[0])), lines[0]
    assert "real code parse share" in out and "-gram parse share" in out and "GRU novelty" in out
    assert "blur-threshold MSE" in out and "mean-frame MSE" in out and "TF-IDF (stop words out) EM" in out


@pytest.mark.slow
def test_vae_benchmark_reports_every_model_and_the_target_line():
    out = run_benchmark("benchmarks/bench_vae.py", "--smoke")
    for name in ("| course VAE |", "| article VAE |", "| pytorch/examples VAE |"):
        assert name in out, out
    assert "course VAE vs pytorch/examples:" in out


@pytest.mark.slow
def test_gan_benchmark_reports_every_recipe_and_the_ratios():
    out = run_benchmark("benchmarks/bench_gan.py", "--seconds", "2", "--samples", "500")
    for name in ("course ", "course-dcgan", "course-cgan", "article", "tutorial"):
        assert any(ln.startswith(name) for ln in out.splitlines()), (name, out)
    assert "Frechet ratio tutorial / course" in out and "Frechet ratio article  / course" in out


@pytest.mark.slow
def test_transformer_benchmark_reports_every_model_and_target():
    out = run_benchmark("benchmarks/bench_transformer.py", "--smoke")
    for name in ("n-gram", "attention", "GPT", "text GRU", "GRU ch07 lr", "KV cache", "fine-tune full", "fine-tune LoRA ", "fine-tune norms",
                 "fine-tune LoRA+norms", "fine-tune scratch"):
        lines = [ln for ln in out.splitlines() if ln.startswith(name)]
        assert len(lines) == 1, (name, out)
        assert all(math.isfinite(v) for v in numbers(lines[0])), lines[0]
    assert "KV cache   identical True" in out and "LoRA keeps" in out


@pytest.mark.slow
def test_diffusion_benchmark_reports_every_model_the_ratio_and_the_steps_curve():
    out = run_benchmark("benchmarks/bench_diffusion.py", "--smoke")
    for name in ("flow", "flow w=1", "ddpm", "latent", "GAN@flow", "GAN@latent", "VAE"):
        # the model's name, then its step count: "flow" must not also match the "flow w=1" line
        lines = [ln for ln in out.splitlines() if re.match(rf"{re.escape(name)}\s+\d+ steps", ln)]
        assert len(lines) == 1, (name, out)
        assert all(math.isfinite(v) for v in numbers(lines[0].replace("requested nan", ""))), lines[0]
    assert "Frechet ratio flow / GAN at equal training time" in out
    assert "Frechet ratio latent / GAN at equal training time" in out
    for sampler in ("euler", "heun", "ancestral", "ddim"):
        assert f"{sampler} " in out, out


@pytest.mark.slow
def test_diversity_benchmark_reports_every_model_with_precision_and_recall():
    out = run_benchmark("benchmarks/bench_diversity.py", "--smoke")
    for name in ("real training digits", "seed 0 article GAN", "seed 0 course DCGAN", "seed 0 course GAN ",
                 "seed 0 article VAE", "seed 0 course VAE"):
        lines = [ln for ln in out.splitlines() if ln.startswith(name)]
        assert len(lines) == 1, (name, out)
        assert "precision" in lines[0] and "recall" in lines[0]
        assert all(math.isfinite(v) for v in numbers(lines[0])), lines[0]
    assert "over seeds: mean (min-max)" in out

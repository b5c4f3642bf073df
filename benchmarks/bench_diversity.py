#!/usr/bin/env python
"""Benchmark: do VAE samples lack diversity compared with GANs (the article's section 3.3)? Each family at its
chapter's full recipe, over three seeds, scored for coverage and for precision and recall.

    python benchmarks/bench_diversity.py                 # seeds 0-2, about 4 CPU minutes a seed on one thread
    python benchmarks/bench_diversity.py --smoke         # a few steps: checks the script runs

Models (each trained from scratch per seed, at the step counts its chapter uses): the article's MLP GAN (3,000 steps),
the course's plain DCGAN (1,500), the course GAN (the self-conditioned DCGAN of chapter 05, built against mode
collapse; 1,500), the article's VAE (3,000) and the course VAE of chapter 06 (``recipe("convvae")``). Each draws
`--samples` digits, scored against the 1,000 test digits in the judge's features:

* coverage: classes with at least 5% of the samples, and the smallest class share (mode dropping shows here);
* precision and recall (Kynkaenniemi et al., 2019, k = 3): precision is the share of samples inside the real
  digits' feature manifold (quality), recall the share of real digits inside the samples' manifold (diversity:
  the real variety the model reaches). Sharpness by Laplacian variance is not used: it rewards speckle.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import torch

from aigc_course import gan, load_digits, seed_everything, vae
from aigc_course.data import stratified_indices
from aigc_course.judge import load_judge
from aigc_course.metrics import judge_precision_recall, judge_report

MODELS = ("article GAN", "course DCGAN", "course GAN", "article VAE", "course VAE")


def train_model(name: str, seed: int, x: torch.Tensor, steps: int | None):
    """Train one model of MODELS from scratch with seed `seed` (its chapter's step count unless `steps`)."""
    seed_everything(seed)
    if name.endswith("GAN"):
        kind, recipe = {"article GAN": ("gan", gan.RECIPES["article"]), "course DCGAN": ("dcgan", gan.recipe_for("dcgan")),
                        "course GAN": ("scgan", gan.recipe_for("scgan"))}[name]
        model = gan.build_model(kind)
        clusters = model.assign_clusters(x, seed=seed) if kind == "scgan" else None
        recipe = replace(recipe, steps=steps or (3000 if kind == "gan" else recipe.steps))
        gan.train_gan(model, x, recipe, y=clusters, seed=seed, progress=False)
        return model
    model_config, train_config = vae.recipe("article" if name == "article VAE" else "convvae", steps=steps, seed=seed)
    model = vae.VAE(model_config)
    vae.train_vae(model, x, train_config, progress=False)
    return model.eval()


def score(samples: torch.Tensor, judge, reference: torch.Tensor) -> dict:
    """Coverage, smallest class share, Frechet distance, precision and recall of `samples` against `reference`."""
    report, pr = judge_report(samples, judge), judge_precision_recall(samples, reference, judge)
    return dict(coverage=report.coverage, min_share=min(report.class_share), frechet=report.frechet,
                precision=pr.precision, recall=pr.recall)


def describe(row: dict) -> str:
    return (f"classes {row['coverage']:2d}/10 | smallest share {row['min_share']:.3f} | precision {row['precision']:.3f} | "
            f"recall {row['recall']:.3f} | Frechet {row['frechet']:7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=None, help="training steps for every model (default: each recipe's)")
    parser.add_argument("--smoke", action="store_true", help="a few steps and samples: checks the script runs")
    args = parser.parse_args()
    if args.smoke:
        args.seeds, args.samples, args.steps = "0", 200, 3
    torch.set_num_threads(1)
    x, y = load_digits("train")
    x_test, _ = load_digits("test")
    judge = load_judge(progress=False)
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"torch {torch.__version__}, 1 thread, seeds {seeds}, {args.samples} samples per model, "
          f"scored against {len(x_test)} test digits\n")
    real = x[stratified_indices(y, min(args.samples, len(x)), seed=0)]     # the ceiling: real training digits
    print(f"real training digits | {describe(score(real, judge, x_test))}\n")
    rows: dict[str, list[dict]] = {name: [] for name in MODELS}
    for seed in seeds:
        for name in MODELS:
            started = time.process_time()
            model = train_model(name, seed, x, args.steps)
            train_s = time.process_time() - started
            seed_everything(seed + 1000)
            with torch.no_grad():
                samples = model.sample(args.samples).float().clamp(0, 1)
            row = score(samples, judge, x_test)
            rows[name].append(row)
            print(f"seed {seed} {name:12s} | {describe(row)} | {train_s:5.0f} s CPU", flush=True)

    print("\nover seeds: mean (min-max)")
    for name in MODELS:
        cells = []
        for key in ("coverage", "min_share", "precision", "recall", "frechet"):
            v = [r[key] for r in rows[name]]
            cells.append(f"{key} {statistics.mean(v):.3f} ({min(v):.3f}-{max(v):.3f})")
        print(f"{name:12s} " + " | ".join(cells))
    vae_recall = min(r["recall"] for r in rows["course VAE"])
    gan_recall = {name: max(r["recall"] for r in rows[name]) for name in MODELS if name.endswith("GAN")}
    print("\nlowest course-VAE recall against each GAN's highest: "
          + ", ".join(f"{name} {value:.3f}" for name, value in gan_recall.items()) + f" | course VAE {vae_recall:.3f}")


if __name__ == "__main__":
    main()

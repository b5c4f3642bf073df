"""Benchmark: three GAN recipes trained for the same wall time, scored by the judge.

    python benchmarks/bench_gan.py --seconds 90          # the issue's setting
    python benchmarks/bench_gan.py --seconds 10          # a smoke run
    python benchmarks/bench_gan.py --seconds 30 --clock cpu   # on a shared machine: equal CPU time, not wall time

Recipes: the course's (a small DCGAN, Adam 2e-4 betas (0.5, 0.999), label smoothing 0.9, batch 64; "course" is
the course's GAN: self-conditioned on 100 k-means clusters of the digits, found without labels, the k-means time
counted in its budget; "course-dcgan" the same without clusters; "course-cgan" conditioned on the true labels,
for reference only as it uses labels), the article's (MLP GAN, Adam 1e-4 default betas, batch 64) and the PyTorch DCGAN
tutorial's adapted to 28x28 (nz 100, ngf = ndf = 64, Adam 2e-4 beta1 0.5, batch 128, BCE,
N(0, 0.02) init). Each trains until its wall-time budget is spent (benchmarks only: the
notebook uses fixed step counts), then 10,000 samples are scored against the 1,000 test digits.
Also printed: images/s and the training step's FLOP rate as a share of the CPU's float32
matmul peak, measured in the same run. Wall times on a shared machine are inflated by other work;
``--clock cpu`` budgets each recipe in CPU seconds of this process instead (quiet 2-core wall ~= CPU / 2),
which other work disturbs much less. The matmul peak is then also measured in CPU time.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import torch
from torch.utils.flop_counter import FlopCounterMode

from aigc_course import load_digits, seed_everything
from aigc_course.gan import RECIPES, build_model, train_gan
from aigc_course.judge import load_judge
from aigc_course.metrics import judge_report

SETUPS = {"course": ("scgan", "course"), "course-dcgan": ("dcgan", "course"), "course-cgan": ("cgan", "course"),
          "article": ("gan", "article"), "tutorial": ("tutorial", "tutorial")}


CLOCK = time.perf_counter      # --clock cpu switches to time.process_time


def matmul_peak_gflops(n: int = 1024, repeats: int = 20) -> float:
    """Return the best float32 matmul rate (GFLOP/s) of an n x n product on this CPU (per second of CLOCK)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    best = 0.0
    for _ in range(repeats):
        t = CLOCK()
        a @ b
        best = max(best, 2 * n**3 / max(CLOCK() - t, 1e-9) / 1e9)
    return best


def step_gflop(kind: str, recipe_name: str) -> float:
    """Return the GFLOP of one training step (D update + G update), counted by torch's FLOP counter."""
    model = build_model(kind)
    x = torch.rand(recipe_name == "tutorial" and 128 or 64, 1, 28, 28)
    recipe = replace(RECIPES[recipe_name], steps=1, batch_size=len(x))
    counter = FlopCounterMode(display=False)
    with counter:
        train_gan(model, x, recipe, y=torch.arange(len(x)) % 10, progress=False)
    return counter.get_total_flops() / 1e9


def steps_per_second(kind: str, recipe_name: str, images: torch.Tensor, labels: torch.Tensor,
                     probe: int = 50) -> float:
    """Time a short probe run to estimate how many steps fit in the budget."""
    model = build_model(kind)
    train_gan(model, images, replace(RECIPES[recipe_name], steps=5), y=labels, progress=False)  # warm-up
    t = CLOCK()
    train_gan(model, images, replace(RECIPES[recipe_name], steps=probe), y=labels, progress=False)
    return probe / (CLOCK() - t)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=90.0, help="wall-time budget per recipe")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="budget in wall seconds, or in CPU seconds of this process (for a shared machine)")
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter

    images, labels = load_digits("train")
    judge = load_judge()
    peak = matmul_peak_gflops()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32 matmul peak {peak:.1f} GFLOP/s")
    print(f"budget {args.seconds:.0f} s {args.clock} time per recipe, seed {args.seed}, {args.samples} samples scored\n")
    rows = {}
    for name, (kind, recipe_name) in SETUPS.items():
        # Fix the step count from a probe so the run itself is a plain fixed-step training run.
        sps = steps_per_second(kind, recipe_name, images, labels)
        seed_everything(args.seed)
        model = build_model(kind)
        t = CLOCK()   # the self-conditioned GAN's k-means is part of its training time
        train_labels = model.assign_clusters(images, seed=args.seed) \
            if getattr(model.config, "self_conditioned", False) else labels
        prep = CLOCK() - t
        steps = max(1, int((args.seconds - prep) * sps))
        recipe = replace(RECIPES[recipe_name], steps=steps)
        t = CLOCK()
        train_gan(model, images, recipe, y=train_labels, seed=args.seed, progress=False)
        wall = CLOCK() - t + prep
        seed_everything(args.seed + 1000)
        report = judge_report(model.sample(args.samples), judge=judge)
        gflop = step_gflop(kind, recipe_name)
        rows[name] = dict(steps=steps, wall=wall, ips=steps * recipe.batch_size / wall,
                          share=gflop * steps / wall / peak, report=report)
        print(f"{name:9s} {steps:6d} steps {wall:6.1f} s {args.clock}  {rows[name]['ips']:7.0f} img/s  "
              f"{100 * rows[name]['share']:5.1f}% of matmul peak | {report}", flush=True)
    fd = {k: v["report"].frechet for k, v in rows.items()}
    print(f"\nFrechet ratio tutorial / course: {fd['tutorial'] / fd['course']:.2f} (target >= 4)")
    print(f"Frechet ratio article  / course: {fd['article'] / fd['course']:.2f} (target >= 10)")
    print(f"Frechet ratio course-dcgan / course: {fd['course-dcgan'] / fd['course']:.2f} (what self-conditioning buys)")
    print(f"Frechet ratio course-cgan  / course: {fd['course-cgan'] / fd['course']:.2f} (true labels, for reference)")


if __name__ == "__main__":
    main()

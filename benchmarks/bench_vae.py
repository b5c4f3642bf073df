#!/usr/bin/env python
"""VAE benchmark: the course's best VAE vs the article's VAE vs the pytorch/examples recipe, at equal time.

The course's best VAE is ``aigc_course.vae.BEST``: the pixel VAE (the pytorch/examples shapes with a small
autoregressive pixel layer on top of the decoder; chapter 06, section 9).

  python benchmarks/bench_vae.py --seconds 90            # the issue's benchmark (about 15 min per seed)
  python benchmarks/bench_vae.py --smoke                 # a 1-minute check that everything runs

Each model trains for the same time budget: a short trial measures its seconds per step, and
the budget divided by that gives its fixed step count (so learning-rate schedules know where they
end). Time is measured as process CPU time divided by the number of torch threads, which
approximates a quiet machine's wall time even when others share the cores (``--clock wall`` to
use the wall clock instead). Everyone trains on the same 4,000 digits, dynamically binarised, and
is scored on the same 1,000 held-out digits binarised with seed 0 (see aigc_course.vae): held-out
IWAE NLL in nats per image (lower is better) and the judge's Frechet distance and class coverage
of 1,000 prior samples, each model's samples as ``VAE.sample`` returns them (the pixel-probability picture
for independent pixels, as pytorch/examples saves them; drawn binary digits for the pixel VAE) and, to
compare like with like, binary digits drawn from every model ("binary draws"). The pytorch/examples recipe's loss (summed BCE on grey targets + KL) equals,
in expectation, the same loss on dynamically binarised targets, so it keeps its recipe here.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aigc_course import load_digits, seed_everything  # noqa: E402
from aigc_course.data import stratified_indices  # noqa: E402
from aigc_course.metrics import judge_report  # noqa: E402
from aigc_course.vae import BEST, RECIPES, VAE, binarize, evaluate, heldout_digits, train_vae  # noqa: E402

MODELS = {"course VAE": BEST, "article VAE": "article", "pytorch/examples VAE": "pytorch_examples"}


def clock(kind: str) -> float:
    return time.perf_counter() if kind == "wall" else time.process_time() / torch.get_num_threads()


def seconds_per_step(kind: str, x: torch.Tensor, clock_kind: str, trial: int = 100) -> float:
    """Time `trial` training steps of recipe `kind` after some warm-up steps."""
    model_config, train_config = RECIPES[kind]
    model = VAE(model_config)
    train_vae(model, x, replace(train_config, steps=30, warmup=0), progress=False)
    t = clock(clock_kind)
    train_vae(model, x, replace(train_config, steps=trial, warmup=0), progress=False)
    return (clock(clock_kind) - t) / trial


def run(kind: str, seconds: float, seed: int, x, y, xt, yt, judge, k: int, clock_kind: str) -> dict:
    model_config, train_config = RECIPES[kind]
    steps = max(10, int(seconds / seconds_per_step(kind, x, clock_kind)))
    warmup = min(train_config.warmup, steps // 5)
    seed_everything(seed)
    model = VAE(model_config)
    t = clock(clock_kind)
    train_vae(model, x, replace(train_config, steps=steps, warmup=warmup, seed=seed), y=y, progress=False)
    spent = clock(clock_kind) - t
    result = evaluate(model, xt, yt, k=k)
    seed_everything(seed)
    samples = model.sample(1000)
    report = judge_report(samples, judge)
    # like with like: binary digits from every model (the pixel VAE's samples already are)
    binary = samples if model_config.pixel else binarize(samples, torch.Generator().manual_seed(seed))
    report_binary = judge_report(binary, judge)
    return {"steps": steps, "train_s": spent, "neg_elbo": result.neg_elbo, "nll": result.iwae_nll,
            "frechet": report.frechet, "coverage": report.coverage, "frechet_binary": report_binary.frechet,
            "params": sum(p.numel() for p in model.parameters())}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=90, help="training time per model (quiet-machine s)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("-k", type=int, default=500, help="importance samples per held-out digit")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--clock", choices=["cpu", "wall"], default="cpu")
    parser.add_argument("--smoke", action="store_true", help="3 s per model, one seed, K=20, 200 digits")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.smoke:
        args.seconds, args.seeds, args.k = 3, [0], 20

    from aigc_course.judge import load_judge

    x, y = load_digits("train")
    xt, yt = heldout_digits()
    if args.smoke:
        keep = stratified_indices(yt, 200)   # 20 of each digit: the split is sorted by class
        xt, yt = xt[keep], yt[keep]
    judge = load_judge(progress=False)
    print(f"{args.seconds:g} s per model ({args.clock} clock, {torch.get_num_threads()} threads), "
          f"seeds {args.seeds}, IWAE K={args.k} on {len(xt)} held-out digits", flush=True)
    rows: dict[str, list[dict]] = {name: [] for name in MODELS}
    for seed in args.seeds:
        for name, kind in MODELS.items():
            r = run(kind, args.seconds, seed, x, y, xt, yt, judge, args.k, args.clock)
            rows[name].append(r)
            print(f"  seed {seed} {name:<22} {r['steps']:6d} steps in {r['train_s']:5.1f} s | -ELBO {r['neg_elbo']:7.2f}"
                  f" | IWAE NLL {r['nll']:7.2f} | Frechet {r['frechet']:6.2f} (binary draws {r['frechet_binary']:6.2f})"
                  f" | coverage {r['coverage']}/10",
                  flush=True)

    def summary(values: list[float]) -> str:
        return f"{statistics.mean(values):7.2f} [{min(values):.2f}, {max(values):.2f}]"

    print(f"\n| model | params | steps | held-out -ELBO | held-out IWAE NLL (K={args.k}) | judge Frechet "
          "| Frechet, binary draws | coverage |")
    print("|---|---|---|---|---|---|---|---|")
    for name, rs in rows.items():
        print(f"| {name} | {rs[0]['params']:,} | {int(statistics.mean(r['steps'] for r in rs))} | "
              f"{summary([r['neg_elbo'] for r in rs])} | {summary([r['nll'] for r in rs])} | "
              f"{summary([r['frechet'] for r in rs])} | {summary([r['frechet_binary'] for r in rs])} | "
              f"{min(r['coverage'] for r in rs)}/10 |")
    gain = statistics.mean(r["nll"] for r in rows["pytorch/examples VAE"]) - statistics.mean(
        r["nll"] for r in rows["course VAE"])
    fid_ok = all(statistics.mean(r[key] for r in rows["course VAE"]) <= statistics.mean(
        r[key] for r in rows["pytorch/examples VAE"]) for key in ("frechet", "frechet_binary"))
    print(f"\ncourse VAE vs pytorch/examples: {gain:+.2f} nats per image better "
          f"(target >= 3: {'met' if gain >= 3 else 'NOT met'}); Frechet at least as good, on the samples as "
          f"returned and on binary draws: {'yes' if fid_ok else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

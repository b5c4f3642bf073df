"""Benchmark: the course's diffusion models against its GAN and VAE at equal training time, over seeds.

    python benchmarks/bench_diffusion.py                       # the issue's setting: 3 seeds, 1,000 samples each
    python benchmarks/bench_diffusion.py --clock cpu           # on a shared machine: equal CPU time, not wall time
    python benchmarks/bench_diffusion.py --smoke               # seconds: checks that every row prints

Per seed: the flow-matching and DDPM digit models train for the recipe's fixed step count
(``diffusion.recipe``); the course GAN (``gan.build_model("scgan")``, its k-means counted) and the course
VAE (``vae.BEST``) then train for as many steps as fit in the flow model's measured training time (a probe
run fixes the step count, so each run is itself a plain fixed-step run). Each model draws `--samples`
digits (the diffusion models: labels 0-9 in turn, at the chapter's guidance and step count), scored by the
judge against the 1,000 test digits (Frechet distance in judge features, confidence, class coverage), the
requested-digit accuracy for the class-conditional ones, the nearest-neighbour copy check against the
training digits, and the time to draw 1,000 digits. Then the quality-versus-steps curve of each sampler
(seed 0). Targets (the issue's): confidence >= 0.9, every class >= 5%, requested digit >= 95%, Frechet at most
the GAN's at equal training time, 1,000 digits in at most 15 s.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import torch

from aigc_course import diffusion, gan, load_digits, seed_everything, vae
from aigc_course.judge import load_judge
from aigc_course.metrics import judge_report
from aigc_course.privacy import memorisation_check

CLOCK = time.perf_counter      # --clock cpu switches to time.process_time


def timed(fn):
    """Return (fn(), seconds of CLOCK it took)."""
    t = CLOCK()
    out = fn()
    return out, CLOCK() - t


def steps_in(seconds: float, run_steps, probe: int) -> int:
    """The number of steps of `run_steps(k)` that fit in `seconds`, from a probe of `probe` steps (after a warm-up)."""
    run_steps(2)
    _, dt = timed(lambda: run_steps(probe))
    return max(1, int(seconds * probe / max(dt, 1e-9)))


def per_thousand(sample, n: int) -> tuple[torch.Tensor, float]:
    """Return (n samples, seconds per 1,000 samples)."""
    x, dt = timed(sample)
    return x, 1000 * dt / n


def score(name: str, x: torch.Tensor, per_1000: float, train_s: float, steps: int, judge, train_x, test_x,
          requested: torch.Tensor | None = None) -> dict:
    report = judge_report(x, judge)
    acc = float("nan") if requested is None else (judge(x).argmax(1) == requested).float().mean().item()
    copies = memorisation_check(x, train_x, test_x)
    row = dict(frechet=report.frechet, confidence=report.confidence, min_share=min(report.class_share),
               coverage=report.coverage, requested=acc, closer=copies.closer_to_train, near=copies.near_copies,
               per_1000=per_1000, train_s=train_s, steps=steps)
    print(f"{name:10s} {steps:5d} steps {train_s:6.1f} s | Frechet {row['frechet']:6.2f} | confidence "
          f"{row['confidence']:.3f} | min class share {row['min_share']:.3f} | requested {acc:.3f} | closer to "
          f"train {row['closer']:.3f} | near copies {row['near']:.3f} | {per_1000:6.2f} s per 1000", flush=True)
    return row


def run_seed(seed: int, args, judge, x, y, test_x) -> dict[str, dict]:
    rows = {}
    n = args.samples
    labels = torch.arange(n) % 10
    flow_s = None
    for kind in ("flow", "ddpm"):
        model_config, train_config = diffusion.recipe(kind, args.steps)
        seed_everything(seed)
        model = diffusion.Diffusion(model_config)
        _, train_s = timed(lambda m=model, c=train_config: diffusion.train_diffusion(m, x, c, y=y, seed=seed,
                                                                                     progress=False))
        flow_s = flow_s or train_s
        g = torch.Generator().manual_seed(seed + 1000)
        samples, per = per_thousand(lambda m=model, g=g: m.sample(n, steps=diffusion.STEPS,
                                                                  guidance=diffusion.GUIDANCE, generator=g), n)
        rows[kind] = score(kind, samples, per, train_s, train_config.steps, judge, x, test_x, labels)
        rows[f"_{kind}_model"] = model
        if kind == "flow":
            g = torch.Generator().manual_seed(seed + 1000)
            samples = model.sample(n, steps=diffusion.STEPS, guidance=1.0, generator=g)
            rows["flow w=1"] = score("flow w=1", samples, per, train_s, train_config.steps, judge, x, test_x, labels)

    # the course GAN for the flow model's training time (its k-means included)
    recipe = gan.recipe_for("scgan")

    def gan_steps(k: int, model=None):
        model = model or gan.build_model("scgan")
        clusters = model.assign_clusters(x, seed=seed)
        gan.train_gan(model, x, replace(recipe, steps=k), y=clusters, seed=seed, progress=False)
        return model

    _, kmeans_s = timed(lambda: gan.build_model("scgan").assign_clusters(x, seed=seed))
    steps = steps_in(max(flow_s - kmeans_s, 1e-3), lambda k: gan.train_gan(
        gan.build_model("scgan"), x, replace(recipe, steps=k), y=torch.randint(100, (len(x),)), progress=False),
        probe=args.probe)
    seed_everything(seed)
    model, train_s = timed(lambda: gan_steps(steps))
    seed_everything(seed + 1000)
    samples, per = per_thousand(lambda: model.sample(n), n)
    rows["GAN"] = score("GAN", samples, per, train_s, steps, judge, x, test_x)

    # the course VAE for the same time
    def vae_steps(k: int):
        model_config, train_config = vae.recipe(vae.BEST, steps=k, seed=seed)
        model = vae.VAE(model_config)
        vae.train_vae(model, x, train_config, progress=False)
        return model

    steps = steps_in(flow_s, vae_steps, probe=args.probe)
    seed_everything(seed)
    model, train_s = timed(lambda: vae_steps(steps))
    seed_everything(seed + 1000)
    samples, per = per_thousand(lambda: model.sample(n), n)
    rows["VAE"] = score("VAE", samples, per, train_s, steps, judge, x, test_x)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=None, help="diffusion training steps (default: the recipe)")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--probe", type=int, default=30, help="steps of the probe that sizes the GAN/VAE runs")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    parser.add_argument("--smoke", action="store_true", help="a few steps and samples: checks the script runs")
    args = parser.parse_args()
    if args.smoke:
        args.seeds, args.steps, args.samples, args.probe = "0", 3, 60, 2
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter

    x, y = load_digits("train")
    test_x, _ = load_digits("test")
    judge = load_judge(progress=False)
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.clock} clock, seeds {seeds}, "
          f"{args.samples} samples per model, guidance {diffusion.GUIDANCE}, {diffusion.STEPS} sampler steps\n")
    runs = []
    for seed in seeds:
        print(f"seed {seed}")
        runs.append(run_seed(seed, args, judge, x, y, test_x))

    print("\nmean over seeds (min-max)")
    for name in ("flow", "flow w=1", "ddpm", "GAN", "VAE"):
        cells = []
        for key in ("frechet", "confidence", "min_share", "requested", "closer", "per_1000"):
            v = [r[name][key] for r in runs]
            cells.append(f"{key} {statistics.mean(v):.3f} ({min(v):.3f}-{max(v):.3f})")
        print(f"{name:10s} " + " | ".join(cells))
    ratio = [r["flow"]["frechet"] / r["GAN"]["frechet"] for r in runs]
    print(f"\nFrechet ratio flow / GAN at equal training time: {' / '.join(f'{v:.2f}' for v in ratio)} (target <= 1)")
    flow = [r["flow"] for r in runs]
    print(f"targets: confidence >= 0.9: {all(r['confidence'] >= 0.9 for r in flow)}; every class >= 5%: "
          f"{all(r['min_share'] >= 0.05 for r in flow)}; requested >= 95%: {all(r['requested'] >= 0.95 for r in flow)}; "
          f"1,000 digits <= 15 s: {all(r['per_1000'] <= 15 for r in flow)}")

    print("\nquality against sampler steps (seed 0, Frechet | requested)")
    n = min(args.samples, 500)
    for kind, sampler in (("flow", "euler"), ("flow", "heun"), ("ddpm", "ancestral"), ("ddpm", "ddim")):
        model, cells = runs[0][f"_{kind}_model"], []
        for k in (1, 2, 5, 10, 20, 50) if not args.smoke else (1, 2):
            s = model.sample(n, steps=k, guidance=diffusion.GUIDANCE, sampler=sampler,
                             generator=torch.Generator().manual_seed(7))
            acc = (judge(s).argmax(1) == torch.arange(n) % 10).float().mean().item()
            cells.append(f"{k}: {judge_report(s, judge).frechet:.1f} | {acc:.2f}")
        print(f"sampler {kind} {sampler:9s} " + "; ".join(cells), flush=True)


if __name__ == "__main__":
    main()

"""Benchmark: the course's diffusion models against its GAN and VAE at equal training time, over seeds.

    python benchmarks/bench_diffusion.py                       # the issue's setting: 3 seeds, 1,000 samples each
    python benchmarks/bench_diffusion.py --clock cpu           # on a shared machine: equal CPU time, not wall time
    python benchmarks/bench_diffusion.py --smoke               # seconds: checks that every row prints
    python benchmarks/bench_diffusion.py --only latent         # chapter 11's latent diffusion and the GAN only

Per seed: the flow-matching and DDPM digit models train for the recipe's fixed step count
(``diffusion.recipe``), and chapter 11's latent diffusion (its VAE, ``diffusion.LATENT_VAE_STEPS``, then the
flow model of ``diffusion.latent_recipe`` on the VAE's means); the course GAN (``gan.build_model("scgan")``,
its k-means counted) then trains for as many steps as fit in the pixel flow model's measured training time
(row GAN@flow) and in the latent model's (GAN@latent), and the course VAE (``vae.BEST``) for the flow model's
(a probe run fixes the step count, so each run is itself a plain fixed-step run). Each model draws `--samples`
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


def score(name: str, x: torch.Tensor, per_1000: float, train_s: float, steps: int, judge, data,
          requested: torch.Tensor | None = None) -> dict:
    """Score samples x with the judge and the copy check; `data` is (train x, train y, test x, test y)."""
    report = judge_report(x, judge)
    acc = float("nan") if requested is None else (judge(x).argmax(1) == requested).float().mean().item()
    train_x, train_y, test_x, test_y = data
    # nearer a training subset of the test set's size and class mix than the test set itself: ~0.5 without copying
    copies = memorisation_check(x, train_x, test_x, train_labels=train_y, held_out_labels=test_y)
    row = dict(frechet=report.frechet, confidence=report.confidence, min_share=min(report.class_share),
               coverage=report.coverage, requested=acc, nearer_subset=copies.closer_to_train, near=copies.near_copies,
               per_1000=per_1000, train_s=train_s, steps=steps)
    print(f"{name:10s} {steps:5d} steps {train_s:6.1f} s | Frechet {row['frechet']:6.2f} | confidence "
          f"{row['confidence']:.3f} | min class share {row['min_share']:.3f} | requested {acc:.3f} | nearer the "
          f"training subset {row['nearer_subset']:.3f} | near copies {row['near']:.3f} | {per_1000:6.2f} s per 1000", flush=True)
    return row


def gan_for(seconds: float, seed: int, args, x) -> tuple[torch.nn.Module, float, int]:
    """The course GAN (self-conditioned DCGAN) trained for `seconds` of CLOCK, its k-means included: (model, s, steps)."""
    recipe = gan.recipe_for("scgan")

    def gan_steps(k: int):
        model = gan.build_model("scgan")
        clusters = model.assign_clusters(x, seed=seed)
        gan.train_gan(model, x, replace(recipe, steps=k), y=clusters, seed=seed, progress=False)
        return model

    _, kmeans_s = timed(lambda: gan.build_model("scgan").assign_clusters(x, seed=seed))
    steps = steps_in(max(seconds - kmeans_s, 1e-3), lambda k: gan.train_gan(
        gan.build_model("scgan"), x, replace(recipe, steps=k), y=torch.randint(100, (len(x),)), progress=False),
        probe=args.probe)
    seed_everything(seed)
    model, train_s = timed(lambda: gan_steps(steps))
    return model, train_s, steps


def train_latent(seed: int, x, y, vae_steps: int, flow_steps: int | None):
    """Chapter 11's latent diffusion: its VAE, then the flow model on the VAE's scaled means: (vae, model, scale)."""
    seed_everything(seed)
    vae_config, vae_train = vae.recipe("vae", steps=vae_steps, seed=seed)
    autoencoder = vae.VAE(vae_config)
    vae.train_vae(autoencoder, x, vae_train, progress=False)
    autoencoder.eval()
    codes, scale = diffusion.vae_latents(autoencoder, x)
    seed_everything(seed)
    model_config, train_config = diffusion.latent_recipe(vae_config.latent_dim)
    model = diffusion.Diffusion(model_config)
    diffusion.train_diffusion(model, codes.detach(), replace(train_config, steps=flow_steps or train_config.steps),
                              y=y, seed=seed, progress=False)
    return autoencoder, model, scale


def run_seed(seed: int, args, judge, data) -> dict[str, dict]:
    x, y = data[:2]
    rows = {}
    n = args.samples
    labels = torch.arange(n) % 10
    times = {}                                # diffusion model -> its training seconds (the GAN gets as many)
    for kind in ("flow", "ddpm") if args.only in ("all", "pixels") else ():
        model_config, train_config = diffusion.recipe(kind, args.steps)
        seed_everything(seed)
        model = diffusion.Diffusion(model_config)
        _, train_s = timed(lambda m=model, c=train_config: diffusion.train_diffusion(m, x, c, y=y, seed=seed,
                                                                                     progress=False))
        times[kind] = train_s
        g = torch.Generator().manual_seed(seed + 1000)
        samples, per = per_thousand(lambda m=model, g=g: m.sample(n, steps=diffusion.STEPS,
                                                                  guidance=diffusion.GUIDANCE, generator=g), n)
        rows[kind] = score(kind, samples, per, train_s, train_config.steps, judge, data, labels)
        rows[f"_{kind}_model"] = model
        if kind == "flow":
            g = torch.Generator().manual_seed(seed + 1000)
            samples = model.sample(n, steps=diffusion.STEPS, guidance=1.0, generator=g)
            rows["flow w=1"] = score("flow w=1", samples, per, train_s, train_config.steps, judge, data, labels)

    if args.only in ("all", "latent"):
        vae_steps = 3 if args.smoke else diffusion.LATENT_VAE_STEPS
        (autoencoder, model, scale), train_s = timed(lambda: train_latent(seed, x, y, vae_steps, args.steps))
        times["latent"] = train_s
        g = torch.Generator().manual_seed(seed + 1000)
        samples, per = per_thousand(lambda: diffusion.decode_latents(autoencoder, model.sample(
            n, y=labels, steps=diffusion.STEPS, guidance=diffusion.GUIDANCE, generator=g), scale), n)
        rows["latent"] = score("latent", samples, per, train_s, vae_steps + (args.steps or 1500), judge, data,
                               labels)

    # the course GAN for each diffusion model's training time (its k-means included)
    for kind, seconds in times.items():
        if kind == "ddpm":
            continue                          # the same time as flow, give or take: one GAN row serves both
        model, train_s, steps = gan_for(seconds, seed, args, x)
        seed_everything(seed + 1000)
        samples, per = per_thousand(lambda m=model: m.sample(n), n)
        rows[f"GAN@{kind}"] = score(f"GAN@{kind}", samples, per, train_s, steps, judge, data)

    if "flow" in times:                       # the course VAE for the pixel flow model's time
        def vae_steps(k: int):
            model_config, train_config = vae.recipe(vae.BEST, steps=k, seed=seed)
            model = vae.VAE(model_config)
            vae.train_vae(model, x, train_config, progress=False)
            return model

        steps = steps_in(times["flow"], vae_steps, probe=args.probe)
        seed_everything(seed)
        model, train_s = timed(lambda: vae_steps(steps))
        seed_everything(seed + 1000)
        samples, per = per_thousand(lambda: model.sample(n), n)
        rows["VAE"] = score("VAE", samples, per, train_s, steps, judge, data)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--steps", type=int, default=None, help="diffusion training steps (default: the recipe)")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--probe", type=int, default=30, help="steps of the probe that sizes the GAN/VAE runs")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall")
    parser.add_argument("--smoke", action="store_true", help="a few steps and samples: checks the script runs")
    parser.add_argument("--only", choices=["all", "pixels", "latent"], default="all",
                        help="pixels: the flow and DDPM UNets (with the GAN and VAE at the flow's time); "
                             "latent: chapter 11's latent diffusion (with the GAN at its time)")
    args = parser.parse_args()
    if args.smoke:
        args.seeds, args.steps, args.samples, args.probe = "0", 3, 60, 2
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter

    x, y = load_digits("train")
    test_x, test_y = load_digits("test")
    judge = load_judge(progress=False)
    seeds = [int(s) for s in args.seeds.split(",")]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.clock} clock, seeds {seeds}, "
          f"{args.samples} samples per model, guidance {diffusion.GUIDANCE}, {diffusion.STEPS} sampler steps\n")
    runs = []
    for seed in seeds:
        print(f"seed {seed}")
        runs.append(run_seed(seed, args, judge, (x, y, test_x, test_y)))

    print("\nmean over seeds (min-max)")
    names = [name for name in runs[0] if not name.startswith("_")]
    for name in names:
        cells = []
        for key in ("frechet", "confidence", "min_share", "requested", "nearer_subset", "per_1000", "train_s"):
            v = [r[name][key] for r in runs]
            cells.append(f"{key} {statistics.mean(v):.3f} ({min(v):.3f}-{max(v):.3f})")
        print(f"{name:10s} " + " | ".join(cells))
    for kind in ("flow", "latent"):
        if kind not in runs[0]:
            continue
        ratio = [r[kind]["frechet"] / r[f"GAN@{kind}"]["frechet"] for r in runs]
        rows = [r[kind] for r in runs]
        print(f"\n{kind}: Frechet ratio {kind} / GAN at equal training time: {' / '.join(f'{v:.2f}' for v in ratio)} "
              f"(target <= 1)")
        print(f"{kind}: targets: confidence >= 0.9: {all(r['confidence'] >= 0.9 for r in rows)}; every class >= 5%: "
              f"{all(r['min_share'] >= 0.05 for r in rows)}; requested >= 95%: "
              f"{all(r['requested'] >= 0.95 for r in rows)}; 1,000 digits <= 15 s: {all(r['per_1000'] <= 15 for r in rows)}")
    if "_flow_model" not in runs[0]:
        return

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

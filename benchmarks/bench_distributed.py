#!/usr/bin/env python
"""Data-parallel throughput on this machine: one process vs two processes (torchrun, gloo), images per second.

  python benchmarks/bench_distributed.py                  # dcgan and convvae, 60 steps each
  python benchmarks/bench_distributed.py --steps 30 --models dcgan

Every run trains the same model with the same global batch (the course recipes: 64 images per step):
one process with 1 thread, one process with 2 threads (all cores), two processes with 1 thread each
(what `distributed.setup` chooses; 32 images per rank). Throughput = images / seconds of the training
loop (process start-up and data loading excluded, printed separately). "quiet" time estimates a quiet
machine from CPU time: CPU seconds of all processes / the cores they can use at once (min(procs x
threads, cores)). On a shared, busy machine a multi-threaded process burns extra CPU spinning while its
threads wait for each other, so the 2-thread row's quiet estimate is pessimistic there; the wall clock
is then the only honest figure, and it is inflated by the other users.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def worker(model_kind: str, steps: int) -> None:
    """Run under torchrun: train `steps` steps of `model_kind`; rank 0 prints one JSON line of timings."""
    import torch

    from aigc_course import distributed, engine, gan, load_digits, seed_everything, vae

    t_start = time.perf_counter()
    ctx = distributed.setup()
    seed_everything(0)
    x, y = load_digits("train")
    if model_kind in gan.RECIPES or model_kind in ("gan", "dcgan", "cgan"):
        model = gan.build_model(model_kind).to(ctx.device)
        recipe = replace(gan.recipe_for(model_kind), steps=steps)
        batch = recipe.batch_size
        run = lambda: gan.train_gan(model, x, recipe, y=y, progress=False, run=engine.Run(ctx=ctx))  # noqa: E731
    else:
        config, train_config = vae.recipe(model_kind, steps)
        model = vae.VAE(config).to(ctx.device)
        batch = train_config.batch_size
        run = lambda: vae.train_vae(model, x, train_config, y=y, progress=False, run=engine.Run(ctx=ctx))  # noqa: E731
    if os.environ.get("BENCH_THREADS"):
        torch.set_num_threads(int(os.environ["BENCH_THREADS"]))
    setup_s = time.perf_counter() - t_start
    wall, cpu = time.perf_counter(), time.process_time()
    history = run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    cpu_all = distributed.means_over_ranks([cpu], ctx)[0] * ctx.world_size
    wall_max = -distributed.means_over_ranks([-wall], ctx)[0] if not ctx.distributed else wall
    last = {k: sum(v[-20:]) / len(v[-20:]) for k, v in history.items()}
    if ctx.is_main:
        print(json.dumps({"world": ctx.world_size, "threads": torch.get_num_threads(), "steps": steps,
                          "images": steps * batch, "wall_s": wall_max, "cpu_s": cpu_all, "setup_s": setup_s,
                          "last20": last}))
    distributed.teardown(ctx)


def launch(nproc: int, threads: int, model_kind: str, steps: int) -> dict:
    """Start `torchrun --standalone --nproc_per_node NPROC` on this file; return rank 0's timings."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AIGC_DEVICE": "cpu", "BENCH_THREADS": str(threads)}
    env.pop("OMP_NUM_THREADS", None)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc),
           __file__, "--worker", model_kind, "--steps", str(steps)]
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["launch_s"] = time.perf_counter() - t
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="dcgan,convvae")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.steps)
        return
    cores = os.cpu_count() or 1
    print(f"{cores} CPU cores; the same global batch per step in every row")
    print(f"{'model':<8} {'procs x threads':>15} {'steps':>5} {'wall s':>7} {'img/s':>6} {'quiet s':>7} "
          f"{'quiet img/s':>11} {'start-up s':>10}  loss (mean of the last 20 steps)")
    for kind in args.models.split(","):
        rows = {}
        for nproc, threads in ((1, 1), (1, cores), (2, max(1, cores // 2))):
            r = launch(nproc, threads, kind, args.steps)
            quiet = r["cpu_s"] / min(nproc * threads, cores)
            rows[nproc, threads] = r["images"] / quiet
            loss = ", ".join(f"{k} {v:.3g}" for k, v in r["last20"].items())
            print(f"{kind:<8} {f'{nproc} x {threads}':>15} {r['steps']:>5} {r['wall_s']:>7.1f} "
                  f"{r['images'] / r['wall_s']:>6.0f} {quiet:>7.1f} {r['images'] / quiet:>11.0f} "
                  f"{r['launch_s'] - r['wall_s']:>10.1f}  {loss}")
        print(f"{kind}: quiet-estimate throughput of 2 processes = {rows[2, max(1, cores // 2)] / rows[1, 1]:.2f}x "
              f"one single-threaded process")
    print("""
How to read it: two ranks on two cores can at best halve the time of one single-threaded process;
one process with two threads already uses both cores too (intra-op parallelism; on a busy shared
machine its threads spin waiting for each other, so that row's numbers are pessimistic). Data parallelism splits each batch in two but adds work:
after every backward pass the ranks all-reduce their gradients (gloo, through shared memory here), a
GAN does that for D and for G, every rank repeats the per-step Python and small-kernel overhead, and
both ranks draw the whole batch's random numbers to keep their shares consistent. Small models on
small batches are dominated by that overhead. The win from data parallelism comes when each rank has
a device of its own (one process per GPU, NCCL over NVLink/InfiniBand) or a machine of its own:
then W ranks do W times the arithmetic, and only the gradient exchange is extra.""")


if __name__ == "__main__":
    main()

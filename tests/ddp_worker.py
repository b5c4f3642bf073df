"""Run by tests/test_distributed.py under torchrun: a few data-parallel training steps on fixed data.

Usage: torchrun --standalone --nproc_per_node 2 tests/ddp_worker.py OUT_DIR MODE[,MODE...] [fail-rank-1]

judge: one SGD step of the evaluation classifier (a plain model: `distributed.wrap`);
gan / vae: two steps of `gan.train_gan` / `vae.train_vae` with `engine.Run(ctx)`, as the CLI trainers run them;
cgan: two steps of the conditional DCGAN (batch norm): every rank saves its parameters to rank<R>.pt.
Each mode writes to OUT_DIR/MODE/, where rank 0 alone writes model.pt. With fail-rank-1, rank 1
raises in the middle of training (after its first step), while rank 0 carries on into the next one.
"""

import sys
from pathlib import Path

import torch

from aigc_course import distributed, engine, save_checkpoint

root, modes = Path(sys.argv[1]), sys.argv[2].split(",")
fail = sys.argv[-1] == "fail-rank-1"
# A generous bound on each collective: on a loaded CI machine rank 0's imports and checkpoint writes
# can keep rank 1 waiting for tens of seconds. The failing-rank test does not rely on it: torchrun
# stops the surviving rank as soon as rank 1 exits.
ctx = distributed.setup(timeout_s=180)


def gan_data() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.rand(64, 1, 28, 28, generator=g), torch.randint(10, (64,), generator=g)


def fail_here(step: int, history: dict) -> None:
    if fail and ctx.rank == 1:
        raise RuntimeError("rank 1 fails on purpose")


for mode in modes:
    out = root / mode
    out.mkdir(parents=True, exist_ok=True)
    if mode == "judge":
        from aigc_course.judge import Judge, JudgeConfig

        torch.manual_seed(0)
        model = distributed.wrap(Judge(JudgeConfig(channels=4, features=16)), ctx)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        x, y = gan_data()
        idx = ctx.batch_indices(len(x), 32, torch.Generator().manual_seed(2))
        fail_here(0, {})
        loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        extra = {}
    elif mode in ("gan", "cgan"):
        from aigc_course import gan

        torch.manual_seed(0)
        model = gan.build_model(mode)
        x, y = gan_data()
        extra = {"history": gan.train_gan(model, x, gan.Recipe(steps=2, batch_size=16), y=y, seed=3,
                                          progress=False, run=engine.Run(ctx=ctx), callback=fail_here, every=1)}
        if mode == "cgan":
            torch.save(model.state_dict(), out / f"rank{ctx.rank}.pt")
    elif mode == "vae":
        from aigc_course import vae

        torch.manual_seed(0)
        model = vae.VAE(vae.VAEConfig(hidden=32, latent_dim=4))
        x, _ = gan_data()
        config = vae.TrainConfig(steps=2, batch_size=16, lr=1e-2, final_lr=1e-3, warmup=2, seed=3)
        extra = {"history": vae.train_vae(model, x, config, progress=False, run=engine.Run(ctx=ctx),
                                          callback=fail_here, every=1)}
    if ctx.is_main:
        save_checkpoint(out / "model.pt", distributed.unwrap(model), world_size=ctx.world_size, **extra)
distributed.teardown(ctx)

"""Run by tests/test_distributed.py under torchrun: one data-parallel training step on a fixed batch.

Usage: torchrun --nproc_per_node 2 tests/ddp_worker.py OUT_DIR [fail-rank-1]
"""

import sys
from pathlib import Path

import torch

from aigc_course import distributed
from aigc_course.judge import Judge, JudgeConfig

out = Path(sys.argv[1])
ctx = distributed.setup(timeout_s=30)
torch.manual_seed(0)
model = distributed.wrap(Judge(JudgeConfig(channels=4, features=16)), ctx)
opt = torch.optim.SGD(model.parameters(), lr=0.1)
g = torch.Generator().manual_seed(1)
x, y = torch.rand(64, 1, 28, 28, generator=g), torch.randint(10, (64,), generator=g)
idx = ctx.batch_indices(len(x), 32, torch.Generator().manual_seed(2))
if len(sys.argv) > 2 and ctx.rank == 1:
    raise RuntimeError("rank 1 fails on purpose")
loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
opt.zero_grad()
loss.backward()
opt.step()
if ctx.is_main:
    from aigc_course import save_checkpoint

    save_checkpoint(out / "model.pt", distributed.unwrap(model), world_size=ctx.world_size)
distributed.teardown(ctx)

"""Data parallelism: two CPU processes under torchrun (gloo) must match one process on the whole batch."""

import subprocess
import sys
import time
from pathlib import Path

import torch

from aigc_course import distributed, load_checkpoint
from aigc_course.judge import Judge, JudgeConfig

WORKER = Path(__file__).with_name("ddp_worker.py")
ROOT = WORKER.parents[1]


def torchrun(nproc: int, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc),
           "--standalone", str(WORKER), *args]
    env = {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "AIGC_DEVICE": "cpu"}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def single_process_step() -> Judge:
    """The same step as the worker, in one process, on the concatenated 32-example batch."""
    torch.manual_seed(0)
    model = Judge(JudgeConfig(channels=4, features=16))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(1)
    x, y = torch.rand(64, 1, 28, 28, generator=g), torch.randint(10, (64,), generator=g)
    idx = distributed.Context().batch_indices(len(x), 32, torch.Generator().manual_seed(2))
    loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
    opt.zero_grad()
    loss.backward()
    opt.step()
    return model


def test_batch_slices_of_all_ranks_make_the_single_process_batch():
    whole = distributed.Context().batch_indices(100, 8, torch.Generator().manual_seed(5))
    parts = [distributed.Context(rank=r, world_size=4).batch_indices(100, 8, torch.Generator().manual_seed(5))
             for r in range(4)]
    assert torch.equal(torch.cat(parts), whole)


def test_ddp_step_on_two_processes_equals_one_step_on_the_whole_batch(tmp_path):
    result = torchrun(2, str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    ddp = load_checkpoint(tmp_path / "model.pt")
    single = single_process_step()
    for (name, a), b in zip(ddp.state_dict().items(), single.state_dict().values(), strict=True):
        assert torch.allclose(a, b, atol=1e-6), name
    # Rank 0 alone wrote: one checkpoint and nothing else.
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_a_failing_rank_ends_the_whole_run_with_an_error(tmp_path):
    t = time.perf_counter()
    result = torchrun(2, str(tmp_path), "fail-rank-1", timeout=120)
    assert result.returncode != 0
    assert "rank 1 fails on purpose" in result.stderr
    assert time.perf_counter() - t < 120  # no hung rank waiting forever
    assert not (tmp_path / "model.pt").exists()

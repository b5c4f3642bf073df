"""Data parallelism with PyTorch's own engine: DistributedDataParallel under `torchrun`.

The primitives that ``aigc_course.engine.Run`` builds on (training loops use a ``Run``, not these)::

    ctx = distributed.setup()              # reads torchrun's RANK/WORLD_SIZE/...; world of 1 without torchrun
    module = distributed.wrap(module, ctx) # DistributedDataParallel when world > 1
    idx = ctx.batch_indices(n, batch_size, generator)   # this rank's share of one global batch
    if ctx.is_main: save_checkpoint(...)   # rank 0 alone writes files, logs and progress bars
    distributed.teardown(ctx)

Each optimiser step averages gradients over all ranks, so with W ranks and a per-rank batch
of B the step is the step of one process on the concatenated batch of W * B examples.
Gloo carries the collectives on the CPU, NCCL on GPUs.

DDP synchronises gradients through hooks it installs around a module's ``forward``. A GAN's two
halves are child modules with their own optimisers: wrap G and D separately, and use ``no_sync(D)``
for the generator step, whose gradients on D are thrown away. For a call that is not a module's
``forward`` (a VAE's encode, reparameterise, decode), ``wrap_call(model, fn, ctx)`` makes a module
(``Forward``) whose ``forward`` is ``fn(model, ...)``.

Batch normalisation computes its statistics per rank, on the rank's share of the batch: a model
with batch norm in training mode is then not exactly the one-process model (on GPUs,
``nn.SyncBatchNorm.convert_sync_batchnorm`` fixes that; gloo on the CPU does not support it).
"""

from __future__ import annotations

import contextlib
import datetime
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn


@dataclass
class Context:
    """Where this process stands in the run: its rank, the world size, its local rank and its device."""
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """True on rank 0, the one process that writes checkpoints, logs and progress bars."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True when more than one process trains (DDP wrapping and collectives are needed)."""
        return self.world_size > 1

    def batch_indices(self, n: int, global_batch: int, generator: torch.Generator) -> torch.Tensor:
        """Return this rank's slice of one global random batch of `global_batch` indices into range(n).

        Every rank draws the same global batch from an identically seeded generator and keeps its
        own contiguous slice, so the ranks together see exactly the batch one process would.
        """
        return self.shard(torch.randint(n, (global_batch,), generator=generator))

    def shard(self, batch: torch.Tensor) -> torch.Tensor:
        """Return this rank's contiguous share of the rows of a global batch (the whole batch in a world of one).

        Draw every random number of a step (indices, noise) for the global batch from a generator
        seeded alike on all ranks, then keep your share: the ranks see exactly one process's batch.
        """
        if len(batch) % self.world_size:
            raise ValueError(f"batch size {len(batch)} must be divisible by the {self.world_size} processes")
        per_rank = len(batch) // self.world_size
        return batch[self.rank * per_rank:(self.rank + 1) * per_rank]


def setup(timeout_s: float = 120.0) -> Context:
    """Join the process group torchrun describes in the environment; a world of one without it.

    `timeout_s` bounds every collective, so a rank whose partner died fails instead of hanging.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        from aigc_course.utils import device

        return Context(device=device())
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and os.environ.get("AIGC_DEVICE", "") != "cpu"
    if use_cuda:
        torch.cuda.set_device(local_rank)
        dev = torch.device("cuda", local_rank)
    else:
        dev = torch.device("cpu")
        # Two ranks on a 2-core laptop: one thread each, or they fight over the cores.
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", world))))
    if not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo", timeout=datetime.timedelta(seconds=timeout_s))
    return Context(rank=rank, world_size=world, local_rank=local_rank, device=dev)


def wrap(model: nn.Module, ctx: Context) -> nn.Module:
    """Move `model` to the context's device; wrap it in DistributedDataParallel when world > 1."""
    model = model.to(ctx.device)
    if not ctx.distributed:
        return model
    ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


class Forward(nn.Module):
    """A module whose forward is `fn(model, *args)`: what DDP needs to see a call that is not `model.forward`."""

    def __init__(self, model: nn.Module, fn: Callable):
        super().__init__()
        self.model = model
        self.fn = fn

    def forward(self, *args, **kwargs):
        return self.fn(self.model, *args, **kwargs)


def wrap_call(model: nn.Module, fn: Callable, ctx: Context) -> Callable:
    """Return `fn(model, ...)` as a callable: plain in a world of one, DDP-synchronised (via `Forward`) otherwise."""
    if not ctx.distributed:
        return lambda *args, **kwargs: fn(model, *args, **kwargs)
    return wrap(Forward(model, fn), ctx)


@contextlib.contextmanager
def no_sync(module: object) -> Iterator[None]:
    """Within this block a DDP module's backward does not average gradients (a no-op for anything else)."""
    if isinstance(module, nn.parallel.DistributedDataParallel):
        with module.no_sync():
            yield
    else:
        yield


def unwrap(model: nn.Module) -> nn.Module:
    """Return the plain module inside a DistributedDataParallel wrapper (or the module itself)."""
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


def means_over_ranks(values: Sequence[float], ctx: Context) -> list[float]:
    """Return the mean over ranks of each per-rank number in `values`, with one collective."""
    if not ctx.distributed:
        return [float(v) for v in values]
    t = torch.tensor([float(v) for v in values], device=ctx.device, dtype=torch.float64)
    dist.all_reduce(t)
    return (t / ctx.world_size).tolist()


def teardown(ctx: Context) -> None:
    """Leave the process group (a no-op in a world of one)."""
    if ctx.distributed and dist.is_initialized():
        dist.destroy_process_group()

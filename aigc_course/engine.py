"""Run plumbing, written once: what turns a plain training loop into a robust run.

A family's loop stays a plain loop (batch, loss, step, log) and asks a ``Run`` for the few things
that depend on how it runs::

    run = run or engine.Run.local(model)             # one process, no resume, no checkpoints
    net = run.wrap(model.net)                        # DistributedDataParallel under torchrun
    for step in run.steps(total, history, model=model, optimizers=[opt], rng=g, progress=progress,
                          callback=callback, every=every):
        idx = run.batch_indices(len(x), batch_size, g)   # this rank's share of one global batch
        ...                                              # loss, backward, optimiser step
        run.log(history, loss.item())                    # means over ranks, appended in key order

``run.steps`` owns resume (optimisers, schedules, random streams and history restored from
``run.state``), rank-0 progress, checkpoint cadence (``run.save(state)`` every ``run.save_every``
steps and at the end, on rank 0 only) and the callback (``callback(steps_done, history)`` every
`every` steps and after the last one, with the model in eval mode). ``launch`` is the CLI side:
torchrun setup and teardown, seeding, resuming from a checkpoint of the same kind, and the
checkpoint file every family writes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from aigc_course import distributed


@dataclass
class Run:
    """How a loop runs: its ranks (`ctx`), the state it resumes from, and how it saves (rank 0 only)."""
    ctx: distributed.Context = field(default_factory=distributed.Context)
    state: dict | None = None                       # a dict `steps` once passed to `save`: resume from it
    save: Callable[[dict], None] | None = None      # receives the resumable state
    save_every: int = 0                             # 0: save at the end only

    @classmethod
    def local(cls, model: nn.Module) -> Run:
        """Return the plain run: one process on `model`'s device, nothing resumed, nothing saved."""
        return cls(ctx=distributed.Context(device=next(model.parameters()).device))

    @property
    def device(self) -> torch.device:
        return self.ctx.device

    def wrap(self, module: nn.Module) -> nn.Module:
        """Return `module` on the run's device, as a DDP module when the world is larger than one."""
        return distributed.wrap(module, self.ctx)

    def batch_indices(self, n: int, global_batch: int, generator: torch.Generator) -> torch.Tensor:
        """Return this rank's share of one random global batch of indices into range(n), on the run's device."""
        return self.ctx.batch_indices(n, global_batch, generator).to(self.device)

    def shard(self, batch: torch.Tensor) -> torch.Tensor:
        """Return this rank's rows of a global batch (all of them in one process), on the run's device."""
        return self.ctx.shard(batch).to(self.device)

    no_sync = staticmethod(distributed.no_sync)

    def log(self, history: dict[str, list[float]], *values: float) -> None:
        """Append the mean over ranks of each value to the history's lists, in the history's key order."""
        for key, value in zip(history, distributed.means_over_ranks(values, self.ctx), strict=True):
            history[key].append(value)

    def steps(self, total: int, history: dict[str, list[float]], *, model: nn.Module,
              optimizers: Sequence[torch.optim.Optimizer], schedulers: Sequence[Any] = (),
              rng: torch.Generator, progress: bool = True, desc: str = "training",
              callback: Callable[[int, dict], None] | None = None, every: int = 100) -> Iterator[int]:
        """Yield the step numbers start..total-1; between steps, save and call back. Resumes from `self.state`.

        The loop body runs at each yield; the code after the yield (checkpoint, callback) runs when the
        body has finished the step, so an exception in the body saves nothing for that step.
        """
        from tqdm.auto import tqdm

        start = 0
        if self.state is not None:   # optimisers, schedules, random streams and history as they were at `start`
            start = self.state["step"]
            for obj, saved in zip([*optimizers, *schedulers], self.state["optimizers"], strict=True):
                obj.load_state_dict(saved)
            rng.set_state(self.state["rng"])
            torch.set_rng_state(self.state["torch_rng"])
            history.clear()
            history.update({key: list(values) for key, values in self.state["history"].items()})
        model.train()
        for step in tqdm(range(start, total), desc=desc, disable=not (progress and self.ctx.is_main), leave=True,
                         initial=start, total=total):
            yield step
            done = step + 1
            if self.save is not None and self.ctx.is_main and (done == total or
                                                              (self.save_every and done % self.save_every == 0)):
                self.save({"step": done, "optimizers": [o.state_dict() for o in [*optimizers, *schedulers]],
                           "rng": rng.get_state(), "torch_rng": torch.get_rng_state(),
                           "history": {key: list(values) for key, values in history.items()}})
            if callback is not None and (done % every == 0 or done == total):
                model.eval()
                callback(done, history)
                model.train()
        model.eval()


def resume_into(model: nn.Module, path: str | os.PathLike, *, kind: str, steps: int) -> dict:
    """Load the weights of the checkpoint at `path` into `model`; return its resume state.

    Refuses a checkpoint of another kind, one without resume state, and one that has already trained `steps`.
    """
    from aigc_course.checkpoint import load_checkpoint

    saved, extra = load_checkpoint(path, with_extra=True)
    if extra.get("kind") != kind or "resume" not in extra:
        raise ValueError(f"{path} is not a resumable checkpoint of a {kind!r} model")
    state = extra["resume"]
    if state["step"] >= steps:
        raise ValueError(f"{path} has already trained {state['step']} of {steps} steps; "
                         "pass a larger --steps to train on")
    model.load_state_dict(saved.state_dict())
    return state


def launch(kind: str, build: Callable[[], nn.Module], fit: Callable[[nn.Module, Run], object], *, steps: int,
           seed: int = 0, out: str | os.PathLike = "runs", resume: str | os.PathLike | None = None,
           save_every: int = 500, **extra: Any) -> Path:
    """Run `fit(model, run)` as a command-line training run of `build()`; return the checkpoint OUT/<kind>.pt.

    In one process or under torchrun: seeds, resumes from `resume` (a checkpoint of the same kind), and
    has rank 0 rewrite the checkpoint (weights, kind, seed, world_size, steps, history, resume state and
    `extra`) every `save_every` steps and at the end.
    """
    from aigc_course.checkpoint import save_checkpoint
    from aigc_course.utils import seed_everything

    ctx = distributed.setup()
    seed_everything(seed)
    model = build()
    state = None if resume is None else resume_into(model, resume, kind=kind, steps=steps)
    model = model.to(ctx.device)
    path = Path(out) / f"{kind}.pt"

    def save(training_state: dict) -> None:
        save_checkpoint(path, model, kind=kind, seed=seed, world_size=ctx.world_size, steps=training_state["step"],
                        history=training_state["history"], resume=training_state, **extra)

    fit(model, Run(ctx=ctx, state=state, save=save, save_every=save_every))
    distributed.teardown(ctx)
    return path

"""Small helpers every chapter uses: the device, seeding, and showing the package's own source."""

from __future__ import annotations

import contextlib
import inspect
import os
import random
import time

import numpy as np
import torch


def device() -> torch.device:
    """Return the CUDA device when one is present, else the CPU (override with AIGC_DEVICE=cpu)."""
    wanted = os.environ.get("AIGC_DEVICE")
    if wanted:
        return torch.device(wanted)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (CPU and CUDA); return a torch.Generator seeded the same way."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def show_source(obj):
    """Return a displayable, syntax-highlighted view of `obj`'s source (a function, class or module).

    Notebooks call this so that the code a learner reads is the code that runs, not a copy.
    """
    from IPython.display import Code

    return Code(inspect.getsource(obj), language="python")


@contextlib.contextmanager
def timed(label: str, budget_s: float | None = None):
    """Print how long the block took (wall and CPU seconds), against `budget_s` when given.

    Over budget prints a note rather than failing: machines differ, and the budgets are set
    for the reference machine (2 CPU cores); `benchmarks/run.py notebooks` tracks them.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    note = ""
    if budget_s is not None:
        note = f" (budget {budget_s:.0f} s)" if wall <= budget_s else f" - over the {budget_s:.0f} s budget on this machine"
    print(f"{label}: {wall:.1f} s wall, {cpu:.1f} s CPU{note}")

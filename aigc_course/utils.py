"""Small helpers every chapter uses: the device, seeding, atomic writes, and showing the package's own source."""

from __future__ import annotations

import contextlib
import inspect
import os
import random
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch


def _cpu_seconds() -> float:
    """CPU seconds of this process (every thread) and of its finished subprocesses (chapter 10's torchrun workers)."""
    finished = os.times()
    return time.process_time() + finished.children_user + finished.children_system


# When the package was first imported: a notebook's first cell imports it, so this is the notebook's start.
_STARTED_WALL = time.perf_counter()
_STARTED_CPU = _cpu_seconds()


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


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: int = 0o644) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces `path` only when the block ends without error.

    Readers see the old file or the new one, never half of one; an interrupted write leaves no temporary
    file behind. The one atomic write of the package: checkpoints, the data cache and grading use it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_atomic(path: str | os.PathLike, data: str | bytes, mode: int = 0o644) -> None:
    """Write `data` (text is UTF-8 encoded) to `path` atomically (see `atomic_write`)."""
    with atomic_write(path, mode) as f:
        f.write(data.encode() if isinstance(data, str) else data)


def runtime_summary(budget_s: float | None = None, *, wall_s: float | None = None, cpu_s: float | None = None,
                    threads: int | None = None) -> str:
    """Return "This notebook ran in X s wall, Y s CPU", both counted from the package's import, against `budget_s` when given.

    Each chapter's last cell prints it, so the time a learner reads is the one this very run measured.
    CPU seconds count every thread of this process and its finished subprocesses: on a busy machine they are
    the steadier figure. The budget is for a quiet 2-core machine; when the wall time is over it but the CPU
    time per torch thread is within it, the machine was busy (another process had the cores), and the summary
    says so and which measure it judged by. (`wall_s`, `cpu_s`, `threads`: the measured values, given only by tests.)
    """
    wall = time.perf_counter() - _STARTED_WALL if wall_s is None else wall_s
    cpu = _cpu_seconds() - _STARTED_CPU if cpu_s is None else cpu_s
    threads = threads or torch.get_num_threads()
    text = f"This notebook ran in {wall:.0f} s wall clock ({cpu:.0f} s of CPU time, {threads} torch thread{'s' if threads != 1 else ''})"
    if budget_s is not None:
        if wall <= budget_s:
            text += f": within its budget of {budget_s:.0f} s, set for a quiet 2-core machine"
        elif cpu / threads <= budget_s:
            text += (f". That is over its budget of {budget_s:.0f} s, set for a quiet 2-core machine, because this "
                     f"machine was busy: the wall time is {wall / (cpu / threads):.1f}x the CPU time per thread, and "
                     f"by CPU time ({cpu / threads:.0f} s per thread) the run is within the budget")
        else:
            text += f": over its budget of {budget_s:.0f} s, set for a quiet 2-core machine, by CPU time too"
    return text + "."

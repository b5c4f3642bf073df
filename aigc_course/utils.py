"""Small helpers every chapter uses: the device, seeding, and showing the package's own source."""

from __future__ import annotations

import inspect
import os
import random

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

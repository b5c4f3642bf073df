"""Save and reload any course model together with its configuration dataclass.

A checkpoint is a plain dict saved with ``torch.save``: the model's class and config
class (as import paths inside ``aigc_course``), the config's fields, the weights and
optional extras (training history, step count). ``load_checkpoint`` rebuilds the model
without the caller knowing its class. Loading uses ``weights_only=True`` and only imports
classes from this package, so a checkpoint cannot run arbitrary code.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from aigc_course.utils import atomic_write

FORMAT = "aigc_course.checkpoint/1"
PACKAGE = "aigc_course"


class CheckpointError(RuntimeError):
    """Raised for a file that is not a readable course checkpoint."""


def _path_of(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _resolve(path: str) -> type:
    module, _, name = path.partition(":")
    if module != PACKAGE and not module.startswith(PACKAGE + "."):
        raise CheckpointError(f"refusing to load class {path!r}: only classes from {PACKAGE} are allowed")
    obj: Any = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def save_checkpoint(path: str | os.PathLike, model: nn.Module, **extra: Any) -> Path:
    """Write `model` (which must carry a dataclass `model.config`) and `extra` to `path`; return the path.

    The write is atomic: an interrupted save leaves the previous file intact.
    """
    config = getattr(model, "config", None)
    if not dataclasses.is_dataclass(config):
        raise TypeError(f"{type(model).__name__} has no dataclass `.config`; course models are built as Model(config)")
    payload = {
        "format": FORMAT,
        "model_class": _path_of(type(model)),
        "config_class": _path_of(type(config)),
        "config": dataclasses.asdict(config),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "extra": extra,
    }
    path = Path(path)
    with atomic_write(path) as f:
        torch.save(payload, f)
    return path


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu",
                    with_extra: bool = False):
    """Return the model saved at `path` (in eval mode), or (model, extra) when `with_extra`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:
        raise CheckpointError(f"{path}: not a readable course checkpoint (truncated or not made by "
                              f"aigc_course.save_checkpoint): {type(e).__name__}") from e
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a course checkpoint (expected format {FORMAT!r}); "
                              "save models with aigc_course.save_checkpoint")
    try:
        config_cls = _resolve(payload["config_class"])
        model_cls = _resolve(payload["model_class"])
    except (ImportError, AttributeError) as e:
        raise CheckpointError(f"{path}: it names a class this version of aigc_course lacks ({e})") from e
    config = config_cls(**payload["config"])
    model = model_cls(config)
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return (model, payload["extra"]) if with_extra else model

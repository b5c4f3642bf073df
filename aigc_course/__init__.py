"""aigc_course: the helper package of "AIGC from principles to practice".

Each concept lives in the module named for it: ``data`` (digits and toy sets),
``losses`` (GAN and VAE objectives), ``judge`` (the digit classifier used to
evaluate samples), ``plots``, ``checkpoint`` and ``utils``.
"""

from aigc_course.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from aigc_course.data import DataError, load_digits
from aigc_course.utils import device, seed_everything, show_source

__version__ = "0.1.0"

__all__ = [
    "CheckpointError",
    "DataError",
    "device",
    "load_checkpoint",
    "load_digits",
    "save_checkpoint",
    "seed_everything",
    "show_source",
]

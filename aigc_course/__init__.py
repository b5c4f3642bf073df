"""aigc_course: the helper package of "AIGC from principles to practice".

Flat, one concept per module (CONTRIBUTING.md maps each module to the chapters that use it): model
families (``toy``, ``toy1d``, ``gan``, ``vae``, ``text`` ...) each with a plain training loop; ``engine`` and
``distributed`` run any of those loops under torchrun with resume and checkpoints; ``judge``, ``metrics``,
``sharpness`` and ``privacy`` evaluate samples; ``data``, ``losses``, ``plots``, ``checkpoint`` and ``utils``
are shared foundations; ``cli`` is the ``aigc-course`` command.
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

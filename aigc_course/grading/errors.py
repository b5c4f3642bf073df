"""The exceptions and the error description shared by the grader, the sandbox and the learner's check()."""

from __future__ import annotations

import traceback


class StudentError(Exception):
    """The student's code raised, or returned something that is not plain data."""


class SandboxDied(RuntimeError):
    """The submission's process ended, timed out or broke the protocol; the message says which."""


def describe(exc: BaseException) -> str:
    """Return 'Type: message' plus the last frame inside the student's cells, if any."""
    msg = f"{type(exc).__name__}: {exc}"[:500]
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith("<cell")]
    if frames:
        f = frames[-1]
        msg += f" (at code {f.filename[1:-1]}, line {f.lineno}, in {f.name})"
    return msg

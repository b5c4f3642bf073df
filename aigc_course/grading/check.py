"""Tests for exercises, and the learner's ``check("q1")``.

A test is a function of one argument, ``student``, registered with ``@test``::

    @test("q1", points=1, hint="sigma^2 is logvar.exp()")
    def kl_of_the_prior_is_zero(student):
        kl = student.gaussian_kl(torch.zeros(3, 2), torch.zeros(3, 2))
        assert_close(kl, torch.zeros(3), "KL(N(0, I) || N(0, I)) per row")

``student.f(...)`` calls the notebook's ``f``. In the learner's notebook it runs right there
(``LocalStudent``); in the grader it runs in the submission's sandboxed process and only plain
data comes back (``sandbox.RemoteStudent``). Either way the assertions run in the test's
process, never in the student's code.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from aigc_course.grading import wire
from aigc_course.grading.errors import SandboxDied, StudentError, describe
from aigc_course.grading.provenance import names_used_by_tests

# Names every test cell may use without importing them (the notebooks' setup cell has them too).
TEST_PRELUDE = """
import math
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from aigc_course.grading.check import assert_close, assert_shape, test
"""


@dataclass
class Test:
    """One test: its question, name, points, and the function that checks a `student`."""

    question: str
    name: str
    points: float
    fn: Callable
    hint: str = ""
    hidden: bool = False
    uses: frozenset = frozenset()  # the notebook names its cell asks the student for (see provenance)


@dataclass
class Registry:
    tests: dict = field(default_factory=dict)  # (question, name) -> Test, so rerunning a cell replaces
    hidden: bool = False


_registry = Registry()


def test(question: str, points: float = 1.0, hint: str = "") -> Callable:
    """Register the decorated function as a test of `question` worth `points`."""

    def register(fn: Callable) -> Callable:
        _registry.tests[(question, fn.__name__)] = Test(question, fn.__name__, float(points), fn, hint,
                                                        _registry.hidden)
        return fn

    return register


@contextlib.contextmanager
def collecting(hidden: bool = False):
    """Collect the tests registered inside the block into a fresh list (the grader's way in)."""
    global _registry
    saved, _registry = _registry, Registry(hidden=hidden)
    found: list[Test] = []
    try:
        yield found
    finally:
        found.extend(_registry.tests.values())
        _registry = saved


def collect_tests(public: list[str], hidden: list[str]) -> list[Test]:
    """Execute test cell sources (trusted: they come from the instructor) and return their tests."""
    tests: list[Test] = []
    for sources, is_hidden in ((public, False), (hidden, True)):
        for src in sources:
            namespace = {"__name__": "aigc_course_tests"}
            exec(TEST_PRELUDE, namespace)
            with collecting(hidden=is_hidden) as found:
                exec(compile(src, "<tests>", "exec"), namespace)
            uses = names_used_by_tests(src)
            tests.extend(replace(t, uses=uses) for t in found)
    return tests


def _as_array(x, what: str) -> np.ndarray:
    if isinstance(x, wire.Handle) or callable(x) and not hasattr(x, "shape"):
        raise AssertionError(f"{what}: expected numbers, got {x!r}")
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise AssertionError(f"{what}: expected numbers, got a {type(x).__name__}") from None
    return arr


def assert_close(actual, expected, what: str, rtol: float = 1e-4, atol: float = 1e-5) -> None:
    """Fail with a readable message unless `actual` has `expected`'s shape and values (within tolerance)."""
    a, e = _as_array(actual, what), _as_array(expected, "expected")
    if a.shape != e.shape:
        raise AssertionError(f"{what}: expected shape {tuple(e.shape)}, got {tuple(a.shape)}")
    bad = ~np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=False)
    if bad.any():
        i = tuple(int(j) for j in np.argwhere(bad)[0])
        raise AssertionError(f"{what}: {int(bad.sum())} of {a.size} values differ; at index {i} "
                             f"expected {e[i]:.6g}, got {a[i]:.6g}")


def assert_shape(actual, shape: tuple, what: str) -> None:
    """Fail unless `actual` is an array or tensor of exactly `shape`."""
    got = tuple(getattr(actual, "shape", ()) or ())
    if not hasattr(actual, "shape") or got != tuple(shape):
        raise AssertionError(f"{what}: expected shape {tuple(shape)}, got "
                             f"{got if hasattr(actual, 'shape') else type(actual).__name__}")


# --------------------------------------------------------------------------- running tests


class _LocalObject(wire.Handle):
    """Learner side: an object returned by the notebook, used through the same interface as remotely."""

    def __init__(self, obj, hid: int):
        super().__init__(hid, type(obj).__name__)
        self._obj = obj

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return _local_call(getattr(self._obj, name))

    def __call__(self, *args, **kwargs):
        return _local_call(self._obj)(*args, **kwargs)


def _unwrap(value):
    if isinstance(value, _LocalObject):
        return value._obj
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


def _local_call(fn):
    def call(*args, **kwargs):
        try:
            result = fn(*_unwrap(args), **_unwrap(kwargs))
        except Exception as e:
            raise StudentError(describe(e)) from None
        # the same round trip as in the grader, so a learner sees what the grader will see
        objects: list = []
        encoded = wire.encode(result, lambda obj: objects.append(obj) or len(objects))
        return wire.decode(encoded, lambda hid, _t: _LocalObject(objects[hid - 1], hid))

    return call


class LocalStudent:
    """`student` in the learner's notebook: calls the notebook's own functions."""

    def __init__(self, namespace: dict):
        self._ns = namespace

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._ns:
            raise StudentError(f"NameError: the notebook defines no `{name}` (renamed or deleted? run its cell)")
        return _local_call(self._ns[name])

    def get(self, name: str):
        """Return the value of the notebook's global `name`."""
        return _local_call(lambda: self._ns[name])()

    def has(self, name: str) -> bool:
        """Return True when the notebook defines `name`."""
        return name in self._ns


def run_test(t: Test, student) -> dict:
    """Run one test; return {question, name, points, score, passed, message, hidden}."""
    result = {"question": t.question, "name": t.name, "points": t.points, "score": 0.0, "passed": False,
              "message": "", "hint": t.hint, "hidden": t.hidden}
    try:
        t.fn(student)
    except AssertionError as e:  # a hidden test never shows its expected values: they could be hard-coded
        result["message"] = "this hidden check failed" if t.hidden else str(e) or "a check failed"
    except StudentError as e:
        text = str(e)
        if text.startswith("NotImplementedError"):
            result["message"] = "not written yet: your function still raises NotImplementedError"
        else:
            result["message"] = f"your code raised {text}"
    except SandboxDied as e:
        result["message"] = f"not graded: {e}"
    except Exception as e:  # the test tripped over a wrong type or shape: report it without a traceback
        result["message"] = f"{type(e).__name__}" + ("" if t.hidden else f": {str(e)[:300]}")
    else:
        result["passed"], result["score"] = True, t.points
    return result


def check(question: str) -> None:
    """Run the public tests of `question` on this notebook's code and print what passed and why not."""
    if os.environ.get("AIGC_GRADING"):
        return  # inside the grader's sandbox the public tests are run by the grader itself
    tests = [t for (q, _), t in _registry.tests.items() if q == question]
    if not tests:
        print(f"{question}: no public tests found. Run the cell that defines them (marked 'PUBLIC TESTS').")
        return
    student = LocalStudent(sys.modules["__main__"].__dict__)
    results = [run_test(t, student) for t in tests]
    got, total = sum(r["score"] for r in results), sum(r["points"] for r in results)
    verdict = "all public tests pass" if got == total else "some public tests fail"
    print(f"{question}: {verdict} ({got:g}/{total:g} points). Hidden tests are run by the grader.")
    for r in results:
        mark = "PASS" if r["passed"] else "FAIL"
        line = f"  {mark} {r['name']}"
        if not r["passed"]:
            line += f": {r['message']}"
            if r["hint"]:
                line += f"\n       hint: {r['hint']}"
        print(line)
